"""The OpenAI-compatible backend against local test servers on 127.0.0.1 (the remote server is the
boundary): each server decodes the video it receives with PyAV and answers with what it saw."""

import base64
import io
import json
import threading
import time
from fractions import Fraction
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np
import pytest
from media import gray_frames
from PIL import Image

from videostar.models.backend import GenRequest, SamplingParams
from videostar.models.openai_api import BackendError, OpenAIBackend
from videostar.video.decode import Frames


def _decode_mp4(url: str) -> dict:
    import av

    header, payload = url.split(",", 1)
    assert header == "data:video/mp4;base64"
    with av.open(io.BytesIO(base64.b64decode(payload))) as container:
        stream = container.streams.video[0]
        frames = [f.to_ndarray(format="rgb24") for f in container.decode(stream)]
        rate = str(stream.average_rate)
    return {"frames": len(frames), "means": [float(f.mean()) for f in frames], "rate": rate,
            "size": list(frames[0].shape[:2])}


def _decode_jpegs(items: list[dict]) -> dict:
    images = [np.asarray(Image.open(io.BytesIO(base64.b64decode(i["image_url"]["url"].split(",", 1)[1]))))
              for i in items]
    return {"frames": len(images), "means": [float(i.mean()) for i in images]}


class LocalTestServer:
    """A chat-completions server on 127.0.0.1: replies with JSON describing the decoded video;
    ``fail_first`` requests get ``status``; ``delay_s`` holds each answer to overlap requests."""

    def __init__(self, fail_first: int = 0, status: int = 503, delay_s: float = 0.0):
        self.bodies, self.fail_first, self.status, self.delay_s = [], fail_first, status, delay_s
        self.in_flight = self.max_in_flight = 0
        self.lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                with server.lock:
                    server.bodies.append((body, self.headers.get("Authorization")))
                    fail = server.fail_first > 0
                    server.fail_first -= 1
                    server.in_flight += 1
                    server.max_in_flight = max(server.max_in_flight, server.in_flight)
                time.sleep(server.delay_s)
                with server.lock:
                    server.in_flight -= 1
                if fail:
                    self.send_response(server.status)
                    self.end_headers()
                    self.wfile.write(b"busy")
                    return
                self._answer(server.describe(body))

            def _answer(self, seen: dict):
                reply = {"choices": [{"message": {"content": json.dumps(seen)}}],
                         "usage": {"prompt_tokens": 11, "completion_tokens": 3}}
                data = json.dumps(reply).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"
        threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

    @staticmethod
    def describe(body: dict) -> dict:
        content = [m for m in body["messages"] if m["role"] == "user"][0]["content"]
        if isinstance(content, str):
            return {"text": content, "kinds": []}
        seen = {"kinds": [part["type"] for part in content], "text": content[-1]["text"]}
        videos = [part["video_url"]["url"] for part in content if part["type"] == "video_url"]
        images = [part for part in content if part["type"] == "image_url"]
        seen.update(_decode_mp4(videos[0]) if videos else _decode_jpegs(images) if images else {})
        return seen


@pytest.fixture
def servers():
    started: list[LocalTestServer] = []

    def start(**kwargs) -> LocalTestServer:
        started.append(LocalTestServer(**kwargs))
        return started[-1]

    yield start
    for server in started:
        server.httpd.shutdown()
        server.httpd.server_close()


def _clip(count=8, fps=0.8, height=47, width=63):
    """Frame i is gray 30*i (its mean tells its index); odd sizes exercise the mp4 padding."""
    return Frames.from_array(gray_frames(count, height=height, width=width, step=30), fps=fps)


def _ask(text, video=None, system=None):
    messages = ([{"role": "system", "content": system}] if system else []) + [{"role": "user", "content": text}]
    return GenRequest(messages, video)


def test_local_test_server_decodes_the_clip_as_one_mp4_of_exactly_the_sampled_frames(servers):
    server = servers()
    backend = OpenAIBackend(server.url, "my-model", api_key="k", concurrency=4, backoff_s=0.01)
    requests = [_ask(f"q{i}", _clip(), system="be brief") for i in range(3)] + [_ask("no video")]
    out = backend.generate(requests, SamplingParams(temperature=0.5, max_new_tokens=7))
    seen = [json.loads(g.text) for g in out]
    for i in range(3):
        assert seen[i]["kinds"] == ["video_url", "text"] and seen[i]["text"] == f"q{i}"
        assert seen[i]["frames"] == 8
        assert [round(m / 30) for m in seen[i]["means"]] == list(range(8))  # order
        assert np.allclose(seen[i]["means"], [30 * k for k in range(8)], atol=3)  # pixel values
        assert Fraction(seen[i]["rate"]) == Fraction(4, 5)  # 8 frames over 10 s: the frames' own rate
        assert seen[i]["size"] == [48, 64]  # 47x63 padded by one edge row and column for yuv420p
    assert seen[3] == {"text": "no video", "kinds": []}
    assert out[0].prompt_tokens == 11 and out[0].completion_tokens == 3
    body, auth = next((b, a) for b, a in server.bodies if b["seed"] == 0)  # request 0 (they run concurrently)
    assert auth == "Bearer k" and body["model"] == "my-model" and body["max_tokens"] == 7
    assert body["temperature"] == 0.5 and body["messages"][0] == {"role": "system", "content": "be brief"}
    assert sorted(b["seed"] for b, _ in server.bodies) == [0, 1, 2, 3]


def test_images_option_sends_one_jpeg_per_frame_to_local_test_server(servers):
    server = servers()
    backend = OpenAIBackend(server.url, "m", video_format="images")
    (gen,) = backend.generate([_ask("q", _clip(count=3))], SamplingParams())
    seen = json.loads(gen.text)
    assert seen["kinds"] == ["image_url"] * 3 + ["text"] and seen["frames"] == 3
    assert np.allclose(seen["means"], [0, 30, 60], atol=3)


def test_two_local_test_servers_share_requests_with_concurrency_per_endpoint(servers):
    first, second = servers(delay_s=0.05), servers(delay_s=0.05)
    backend = OpenAIBackend([first.url, second.url], "m", concurrency=2)
    out = backend.generate([_ask(f"q{i}") for i in range(16)], SamplingParams())
    assert [json.loads(g.text)["text"] for g in out] == [f"q{i}" for i in range(16)]  # answers stay in order
    assert len(first.bodies) + len(second.bodies) == 16
    assert min(len(first.bodies), len(second.bodies)) >= 6  # balanced
    assert first.max_in_flight <= 2 and second.max_in_flight <= 2  # concurrency is per endpoint
    assert max(first.max_in_flight, second.max_in_flight) == 2  # and used


def test_retries_move_to_the_healthy_local_test_server(servers):
    broken, healthy = servers(fail_first=10**6), servers()
    backend = OpenAIBackend([broken.url, healthy.url], "m", concurrency=1, backoff_s=0.2, retries=2)
    out = backend.generate([_ask(f"q{i}") for i in range(6)], SamplingParams())
    assert [json.loads(g.text)["text"] for g in out] == [f"q{i}" for i in range(6)]
    assert len(healthy.bodies) == 6
    assert len(broken.bodies) <= 2  # a failed endpoint is skipped while its pause lasts


def test_retries_busy_local_test_server_then_succeeds(servers):
    server = servers(fail_first=2)
    backend = OpenAIBackend(server.url, "m", backoff_s=0.01, retries=3)
    (gen,) = backend.generate([_ask("x")], SamplingParams())
    assert json.loads(gen.text)["text"] == "x" and len(server.bodies) == 3


def test_client_error_fails_at_once_with_local_test_server(servers):
    server = servers(fail_first=5, status=400)
    backend = OpenAIBackend(server.url, "m", backoff_s=0.01, retries=3)
    with pytest.raises(BackendError, match="HTTP 400"):
        backend.generate([_ask("x")], SamplingParams())
    assert len(server.bodies) == 1


def test_unreachable_server_fails_naming_its_url_after_retries(servers):
    server = servers()
    url = server.url
    server.httpd.shutdown()
    server.httpd.server_close()
    backend = OpenAIBackend(url, "m", backoff_s=0.01, retries=1)
    with pytest.raises(BackendError, match=f"{url}/chat/completions: .*after 2 attempts"):
        backend.generate([_ask("x")], SamplingParams())


def test_dense_clip_warns_that_a_default_vllm_server_would_resample(servers, caplog):
    server = servers()
    backend = OpenAIBackend(server.url, "m")
    with caplog.at_level("WARNING", logger="videostar.models.openai_api"):
        backend.generate([_ask("q", _clip(count=8, fps=8.0))] * 2, SamplingParams())
    warnings = [r.getMessage() for r in caplog.records]
    assert len(warnings) == 1 and "8 frames at 8.00 fps" in warnings[0] and '"fps": 9' in warnings[0]
