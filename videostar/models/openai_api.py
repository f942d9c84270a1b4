"""Generate through an OpenAI-compatible chat-completions server (``vllm serve``, SGLang, hosted APIs).

Frames travel as base64 JPEG images in the first user message, which every vision-capable server
accepts. Requests run concurrently up to ``concurrency``; connection errors, 429 and 5xx answers
are retried with exponential backoff, other errors fail at once with the server's message.
"""

from __future__ import annotations

import base64
import io
import json
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from typing import Sequence

import numpy as np

from videostar.errors import VideostarError
from videostar.models.backend import Generation, GenRequest, SamplingParams

RETRY_STATUS = {408, 409, 429, 500, 502, 503, 504}


class BackendError(VideostarError, RuntimeError):
    pass


def frame_to_data_url(frame: np.ndarray, quality: int = 90) -> str:
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(frame).save(buffer, format="JPEG", quality=quality)
    return "data:image/jpeg;base64," + base64.b64encode(buffer.getvalue()).decode()


def to_openai_messages(request: GenRequest) -> list[dict]:
    messages, placed = [], request.video is None
    for message in request.messages:
        if not placed and message["role"] == "user":
            images = [{"type": "image_url", "image_url": {"url": frame_to_data_url(f)}} for f in request.video.array]
            messages.append({"role": "user", "content": [*images, {"type": "text", "text": message["content"]}]})
            placed = True
        else:
            messages.append(dict(message))
    return messages


class OpenAIBackend:
    name = "openai"

    def __init__(self, base_url: str, model: str, api_key: str | None = None, concurrency: int = 8,
                 retries: int = 4, timeout_s: float = 300.0, backoff_s: float = 1.0):
        self.url = base_url.rstrip("/") + "/chat/completions"
        self.model = model
        self.api_key = api_key
        self.concurrency = concurrency
        self.retries = retries
        self.timeout_s = timeout_s
        self.backoff_s = backoff_s

    def _post(self, body: dict) -> dict:
        data = json.dumps(body).encode()
        headers = {"Content-Type": "application/json"}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        for attempt in range(self.retries + 1):
            request = urllib.request.Request(self.url, data=data, headers=headers, method="POST")
            try:
                with urllib.request.urlopen(request, timeout=self.timeout_s) as response:
                    return json.loads(response.read())
            except urllib.error.HTTPError as err:
                detail = err.read().decode(errors="replace")[:300]
                if err.code not in RETRY_STATUS or attempt == self.retries:
                    raise BackendError(f"{self.url}: HTTP {err.code}: {detail}") from None
            except (urllib.error.URLError, TimeoutError, ConnectionError) as err:
                if attempt == self.retries:
                    raise BackendError(f"{self.url}: {err}") from None
            time.sleep(self.backoff_s * 2**attempt)
        raise AssertionError("unreachable")

    def _one(self, request: GenRequest, params: SamplingParams, seed: int) -> Generation:
        body = {"model": self.model, "messages": to_openai_messages(request), "temperature": params.temperature,
                "top_p": params.top_p, "max_tokens": params.max_new_tokens, "seed": seed}
        reply = self._post(body)
        try:
            text = reply["choices"][0]["message"]["content"] or ""
        except (KeyError, IndexError, TypeError):
            raise BackendError(f"{self.url}: unexpected reply {str(reply)[:200]}") from None
        usage = reply.get("usage") or {}
        return Generation(text.strip(), int(usage.get("prompt_tokens", 0)), int(usage.get("completion_tokens", 0)))

    def generate(self, requests: Sequence[GenRequest], params: SamplingParams) -> list[Generation]:
        with ThreadPoolExecutor(self.concurrency) as pool:
            return list(pool.map(lambda ir: self._one(ir[1], params, params.seed + ir[0]), enumerate(requests)))
