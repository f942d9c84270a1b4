"""Generate through OpenAI-compatible chat-completions servers (``vllm serve``, SGLang, hosted APIs).

The video goes in the first user message, before its text, in one of two forms:

- ``video`` (default): the sampled clip as one ``video_url`` item, a ``data:video/mp4;base64`` URL
  of an H.264 mp4 encoded in memory from exactly the sampled frames at their effective rate (see
  clip_video.py). What vLLM does with it (read in vLLM's source: ``MediaConnector.fetch_video``,
  ``VideoMediaIO``, ``vllm/multimodal/video.py``): it base64-decodes the mp4 and decodes it with
  its video loader (OpenCV by default), reading the frame count and rate from the container; the
  loader's metadata (``fps``, ``frames_indices``) reaches the model's HF processor, so Qwen2.5-VL's
  temporal positions and Qwen3-VL's "<t seconds>" labels follow our frames' real spacing. The
  loader may sample again: the generic one keeps at most ``num_frames`` (32 by default) and
  recent vLLM picks a model's own loader (Qwen2/2.5-VL, Qwen3-VL) that takes 2 frames per second.
  Our frames all survive when a clip has at most 32 frames at no more than 2 per second (8 frames
  of a 4 s or longer clip); otherwise start the server with
  ``--media-io-kwargs '{"video": {"num_frames": -1, "fps": F}}'`` (F >= the clip's rate). The
  backend logs a warning the first time a clip exceeds those defaults.
- ``images``: one JPEG ``image_url`` per frame, for APIs without video input (the model then sees
  N separate images: different tokens, no temporal merging, no timestamps).

Several ``base_url``s (N ``vllm serve`` replicas) share the requests: each request goes to the
endpoint with the fewest requests in flight (at most ``concurrency`` each). Connection errors,
timeouts, 429 and 5xx answers are retried, on another endpoint when one is free: the failed one is
paused for an exponentially growing backoff. Other errors fail at once with the server's message.
"""

from __future__ import annotations

import base64
import io
import json
import logging
import threading
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import TYPE_CHECKING, Literal, Sequence

import numpy as np

from videostar.errors import VideostarError
from videostar.models.backend import Generation, GenRequest, SamplingParams
from videostar.models.clip_video import clip_rate, encode_mp4

if TYPE_CHECKING:
    from videostar.video.decode import Frames

RETRY_STATUS = {408, 409, 429, 500, 502, 503, 504}
# Above these, a vLLM server with default settings re-samples the clip (see the module docstring).
SERVER_MAX_FRAMES, SERVER_FPS = 32, 2.0
log = logging.getLogger(__name__)


class BackendError(VideostarError, RuntimeError):
    """A server refused a request or stayed unreachable; the message names the URL."""


def frame_to_data_url(frame: np.ndarray, quality: int = 90) -> str:
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(frame).save(buffer, format="JPEG", quality=quality)
    return "data:image/jpeg;base64," + base64.b64encode(buffer.getvalue()).decode()


def video_content(video: "Frames", video_format: Literal["video", "images"]) -> list[dict]:
    """The chat content items that show ``video``: one mp4 ``video_url``, or one ``image_url`` per frame."""
    if video_format == "images":
        return [{"type": "image_url", "image_url": {"url": frame_to_data_url(f)}} for f in video.array]
    url = "data:video/mp4;base64," + base64.b64encode(encode_mp4(video)).decode()
    return [{"type": "video_url", "video_url": {"url": url}}]


def to_openai_messages(request: GenRequest, video_format: Literal["video", "images"] = "video") -> list[dict]:
    messages, placed = [], request.video is None
    for message in request.messages:
        if not placed and message["role"] == "user":
            media = video_content(request.video, video_format)
            messages.append({"role": "user", "content": [*media, {"type": "text", "text": message["content"]}]})
            placed = True
        else:
            messages.append(dict(message))
    return messages


class Endpoints:
    """Which base URL takes the next request: the one with the fewest in flight (round-robin among
    equals), never one with ``concurrency`` in flight or pausing after a failure; a caller waits
    while no endpoint qualifies."""

    def __init__(self, urls: Sequence[str], concurrency: int):
        self.urls = [url.rstrip("/") + "/chat/completions" for url in urls]
        self.concurrency = concurrency
        self.busy = [0] * len(urls)
        self.paused_until = [0.0] * len(urls)
        self.turn = 0
        self.lock = threading.Condition()

    @contextmanager
    def lease(self):
        """Yields the index of the endpoint to use, counted as busy until the block ends."""
        n = len(self.urls)
        with self.lock:
            while True:
                now = time.monotonic()
                free = [i for i in range(n) if self.busy[i] < self.concurrency]
                ready = [i for i in free if self.paused_until[i] <= now]
                if ready:
                    break
                self.lock.wait(timeout=min((self.paused_until[i] - now for i in free), default=None))
            i = min(ready, key=lambda i: (self.busy[i], (i - self.turn) % n))
            self.busy[i] += 1
            self.turn = (i + 1) % n
        try:
            yield i
        finally:
            with self.lock:
                self.busy[i] -= 1
                self.lock.notify_all()

    def pause(self, i: int, seconds: float) -> None:
        """Endpoint ``i`` just failed: give it no request for ``seconds`` (the retry's backoff)."""
        with self.lock:
            self.paused_until[i] = time.monotonic() + seconds


class OpenAIBackend:
    name = "openai"

    def __init__(self, base_url: str | Sequence[str], model: str, api_key: str | None = None, concurrency: int = 8,
                 video_format: Literal["video", "images"] = "video", retries: int = 4, timeout_s: float = 300.0,
                 backoff_s: float = 1.0):
        urls = [base_url] if isinstance(base_url, str) else list(base_url)
        self.endpoints = Endpoints(urls, concurrency)
        self.model = model
        self.api_key = api_key
        self.video_format = video_format
        self.retries = retries
        self.timeout_s = timeout_s
        self.backoff_s = backoff_s
        self._warned = False

    def _post(self, body: dict) -> dict:
        data = json.dumps(body).encode()
        headers = {"Content-Type": "application/json"}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        for attempt in range(self.retries + 1):
            with self.endpoints.lease() as i:
                url = self.endpoints.urls[i]
                try:
                    request = urllib.request.Request(url, data=data, headers=headers, method="POST")
                    with urllib.request.urlopen(request, timeout=self.timeout_s) as response:
                        return json.loads(response.read())
                except urllib.error.HTTPError as err:
                    detail = err.read().decode(errors="replace")[:300]
                    if err.code not in RETRY_STATUS or attempt == self.retries:
                        raise BackendError(f"{url}: HTTP {err.code}: {detail}") from None
                except (urllib.error.URLError, TimeoutError, ConnectionError) as err:
                    if attempt == self.retries:
                        raise BackendError(f"{url}: {getattr(err, 'reason', err)} "
                                           f"(after {self.retries + 1} attempts)") from None
            self.endpoints.pause(i, self.backoff_s * 2**attempt)
        raise AssertionError("unreachable")

    def _warn_if_server_resamples(self, video: "Frames") -> None:
        if self._warned or self.video_format != "video":
            return
        rate = float(clip_rate(video))
        if len(video.array) > SERVER_MAX_FRAMES or rate > SERVER_FPS:
            self._warned = True
            log.warning("clips of %d frames at %.2f fps: a vLLM server with default settings keeps at most %d "
                        "frames at %g fps; start it with --media-io-kwargs '{\"video\": {\"num_frames\": -1, "
                        "\"fps\": %d}}' so the model sees every frame", len(video.array), rate, SERVER_MAX_FRAMES,
                        SERVER_FPS, int(rate) + 1)

    def _one(self, request: GenRequest, params: SamplingParams, seed: int) -> Generation:
        if request.video is not None:
            self._warn_if_server_resamples(request.video)
        body = {"model": self.model, "messages": to_openai_messages(request, self.video_format),
                "temperature": params.temperature, "top_p": params.top_p, "max_tokens": params.max_new_tokens,
                "seed": seed}
        reply = self._post(body)
        try:
            text = reply["choices"][0]["message"]["content"] or ""
        except (KeyError, IndexError, TypeError):
            raise BackendError(f"{self.model}: unexpected reply {str(reply)[:200]}") from None
        usage = reply.get("usage") or {}
        return Generation(text.strip(), int(usage.get("prompt_tokens", 0)), int(usage.get("completion_tokens", 0)))

    def generate(self, requests: Sequence[GenRequest], params: SamplingParams) -> list[Generation]:
        workers = self.endpoints.concurrency * len(self.endpoints.urls)
        with ThreadPoolExecutor(workers) as pool:
            return list(pool.map(lambda ir: self._one(ir[1], params, params.seed + ir[0]), enumerate(requests)))
