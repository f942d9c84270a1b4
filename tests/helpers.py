"""Test fakes shared by test modules (test modules never import each other). Import-cheap: nothing
heavy at import time.

Every fake stands at a true boundary: a model behind the ``Backend`` interface, or a remote
OpenAI-compatible HTTP server (a real server on 127.0.0.1 speaking the same JSON).
"""

from __future__ import annotations

import base64
import contextlib
import io
import json
import threading
from collections import defaultdict
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Callable

import numpy as np

from videostar.models.backend import Generation as Reply


class ScriptedBackend:
    """A stand-in model for Video-STaR: answers 'left' to every question and, when told the correct
    answer (rationalization), repeats it. Lets the bookkeeping be checked exactly."""

    name = "scripted"

    def __init__(self, frames_shape=(8, 64, 64, 3)):
        self.calls = []
        self.requests = []
        self.frames_shape = frames_shape

    def generate(self, requests, params):
        self.calls.append(len(requests))
        self.requests.extend(requests)
        out = []
        for r in requests:
            assert r.video is not None and (self.frames_shape is None or r.video.array.shape == self.frames_shape)
            prompt = r.messages[0]["content"]
            if "The correct answer is: " in prompt:
                gold = prompt.split("The correct answer is: ")[1].split("\n")[0]
                out.append(Reply(f"Looking at the video step by step.\nFinal answer: {gold}", 10, 5))
            else:
                out.append(Reply("It goes somewhere.\nFinal answer: left", 10, 5))
        return out


class ConstantBackend:
    """A stand-in model that gives every request the same reply."""

    name = "constant"

    def __init__(self, text: str):
        self.text = text

    def generate(self, requests, params):
        return [Reply(self.text, 3, 2) for _ in requests]


class ReplyBackend:
    """A stand-in model at the Backend boundary: each request answered ``reply(prompt text, frames)``,
    so a test decides exactly how much of the answer comes from the frames."""

    name = "reply"

    def __init__(self, reply: Callable[[str, list[np.ndarray]], str]):
        self.reply = reply

    def generate(self, requests, params):
        return [Reply(self.reply(r.messages[0]["content"], list(r.video.array)), 3, 2) for r in requests]


class ScriptedSaviBackend:
    """A stand-in model for VideoSAVi, scripted so each question hits one pair rule:
    'Where' -> the critique finds nothing; 'color' -> a real fix (kept); 'first' -> revision unchanged;
    'after' -> a trivial change. Labeled answers alternate left / up per question."""

    name = "scripted-savi"

    def __init__(self):
        self.asked = defaultdict(int)

    def _reply(self, prompt: str) -> str:
        if "spatial reasoning" in prompt:
            return "1. Where is the big object?\n2. What color is the big object?"
        if "temporal reasoning" in prompt:
            return "1. What happens first?\n2. What happens after the object appears?"
        if prompt.startswith("Question:") and "Critique:" in prompt:
            question = prompt.split("\n")[0]
            a0 = prompt.split("Original answer: ")[1].split("\nCritique:")[0]
            if "color" in question:
                return "The big object is clearly red and it is large."
            return a0 if "first" in question else a0 + "s"  # one letter: a trivial change
        if prompt.startswith("Question:"):
            return "No errors." if "Where" in prompt else "The answer gets the color and timing wrong."
        self.asked[prompt] += 1
        return "Final answer: " + ("left" if self.asked[prompt] % 2 else "up")

    def generate(self, requests, params):
        return [Reply(self._reply(r.messages[0]["content"]), 5, 5) for r in requests]


class FailingBackend:
    """A model server that stays down: every call raises the backend's own error."""

    name = "down"

    def __init__(self, after_calls: int, inner):
        self.after_calls, self.inner, self.calls = after_calls, inner, 0

    def generate(self, requests, params):
        from videostar.models.openai_api import BackendError

        self.calls += 1
        if self.calls > self.after_calls:
            raise BackendError("http://127.0.0.1:9/v1/chat/completions: HTTP 503: model server unavailable")
        return self.inner.generate(requests, params)


def mean_brightness_reply(text: str, frames: list[np.ndarray]) -> str:
    """A reply naming the brightness of what the server was shown, 'black' or 'white' (for a
    multiple-choice prompt, the letter of that option)."""
    color = "white" if frames and float(np.mean([f.mean() for f in frames])) > 127 else "black"
    option = next((line[:3] for line in text.splitlines() if line.endswith(") " + color)), None)
    return option or f"I see a {color} video.\nFinal answer: {color}"


def decode_request_frames(parts: list[dict]) -> list[np.ndarray]:
    """The frames a chat request carries: its ``video_url`` mp4 decoded with PyAV, or its JPEG images."""
    import av
    from PIL import Image

    frames = []
    for part in parts:
        if part["type"] == "video_url":
            payload = base64.b64decode(part["video_url"]["url"].split(",", 1)[1])
            with av.open(io.BytesIO(payload)) as container:
                frames += [f.to_ndarray(format="rgb24") for f in container.decode(container.streams.video[0])]
        elif part["type"] == "image_url":
            frames.append(np.asarray(Image.open(io.BytesIO(base64.b64decode(part["image_url"]["url"].split(",", 1)[1])))))
    return frames


@contextlib.contextmanager
def local_openai_server(reply: Callable[[str, list[np.ndarray]], str] = mean_brightness_reply):
    """A small OpenAI-compatible chat server on 127.0.0.1 (standing in for a remote vLLM or hosted
    API): decodes the frames of each request (mp4 video or JPEG images) and answers
    ``reply(prompt text, frames)``.
    Yields (base_url, bodies) where bodies lists every request received."""
    bodies: list[dict] = []

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_POST(self):
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            bodies.append(body)
            content = body["messages"][0]["content"]
            parts = content if isinstance(content, list) else [{"type": "text", "text": content}]
            frames = decode_request_frames(parts)
            text = "".join(p["text"] for p in parts if p["type"] == "text")
            try:
                data = json.dumps({"choices": [{"message": {"content": reply(text, frames)}}],
                                   "usage": {"prompt_tokens": 7, "completion_tokens": 3}}).encode()
            except Exception:  # the reply function failing stands for a server that cannot answer
                self.send_response(400)
                self.end_headers()
                self.wfile.write(b"model server error")
                return
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}/v1", bodies
    finally:
        httpd.shutdown()
        httpd.server_close()
