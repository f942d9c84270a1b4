"""The OpenAI-compatible backend against a small HTTP server on localhost (a mocked remote server)."""

import base64
import io
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np
import pytest
from PIL import Image

from videostar.models.backend import GenRequest, SamplingParams
from videostar.models.openai_api import BackendError, OpenAIBackend
from videostar.video.decode import Frames


@pytest.fixture
def server():
    state = {"bodies": [], "fail_first": 0, "status": 503, "lock": threading.Lock()}

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_POST(self):
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            with state["lock"]:
                state["bodies"].append((body, self.headers.get("Authorization")))
                fail = state["fail_first"] > 0
                state["fail_first"] -= 1
            if fail:
                self.send_response(state["status"])
                self.end_headers()
                self.wfile.write(b"busy")
                return
            user = body["messages"][0]["content"]
            images = [part for part in user if part["type"] == "image_url"] if isinstance(user, list) else []
            text = [part["text"] for part in user if part["type"] == "text"][0] if images else user
            reply = {"choices": [{"message": {"content": f"{len(images)} frames: {text}"}}],
                     "usage": {"prompt_tokens": 11, "completion_tokens": 3}}
            data = json.dumps(reply).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    state["url"] = f"http://127.0.0.1:{httpd.server_address[1]}/v1"
    yield state
    httpd.shutdown()


def test_frames_sent_as_images_in_order_with_local_http_server(server):
    backend = OpenAIBackend(server["url"], "my-model", api_key="k", concurrency=4, backoff_s=0.01)
    frames = np.zeros((3, 16, 16, 3), np.uint8)
    frames[1] = 255
    requests = [GenRequest([{"role": "user", "content": f"q{i}"}], Frames.from_array(frames)) for i in range(6)]
    requests.append(GenRequest([{"role": "user", "content": "no video"}]))
    out = backend.generate(requests, SamplingParams(temperature=0.5, max_new_tokens=7))
    assert [g.text for g in out] == [f"3 frames: q{i}" for i in range(6)] + ["0 frames: no video"]
    assert out[0].prompt_tokens == 11 and out[0].completion_tokens == 3
    body, auth = server["bodies"][0]
    assert auth == "Bearer k" and body["model"] == "my-model" and body["max_tokens"] == 7
    url = [p for p in body["messages"][0]["content"] if p["type"] == "image_url"][1]["image_url"]["url"]
    image = np.asarray(Image.open(io.BytesIO(base64.b64decode(url.split(",", 1)[1]))))
    assert image.mean() > 240  # the second frame, the white one


def test_retries_busy_server_then_succeeds_with_local_http_server(server):
    server["fail_first"] = 2
    backend = OpenAIBackend(server["url"], "m", backoff_s=0.01, retries=3)
    (gen,) = backend.generate([GenRequest([{"role": "user", "content": "x"}])], SamplingParams())
    assert gen.text == "0 frames: x" and len(server["bodies"]) == 3


def test_client_error_fails_at_once_with_local_http_server(server):
    server["fail_first"], server["status"] = 5, 400
    backend = OpenAIBackend(server["url"], "m", backoff_s=0.01, retries=3)
    with pytest.raises(BackendError, match="HTTP 400"):
        backend.generate([GenRequest([{"role": "user", "content": "x"}])], SamplingParams())
    assert len(server["bodies"]) == 1
