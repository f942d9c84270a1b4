"""Decode upcoming batches in worker processes while the model works on the current one.

Decoding and preprocessing a 30-frame 720p clip takes about as long as a model call, so a loop that
decodes between calls leaves the model idle much of the time. The pool keeps ``depth`` batches
decoded ahead (a bounded queue: memory stays at ``depth`` batches of frames), yields them in plan
order, and passes unreadable clips back as skips exactly as decoding in the loop does.
"""

from __future__ import annotations

from collections import deque
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path
from typing import Iterator

from videostar.engine.work import ClipFrames, Decoded, Work, decode_batch
from videostar.video.decode import VideoDecodeError
from videostar.video.sampling import FrameSampling

_LOAD: ClipFrames | None = None  # one frame loader (and cache) per worker process


def _start(cache_dir: str | None, max_bytes: int) -> None:
    global _LOAD
    _LOAD = ClipFrames(cache_dir, max_bytes=max_bytes)


def _decode(batch: list[Work], sampling: FrameSampling) -> tuple:
    kept, frames, skips = decode_batch(batch, sampling, _LOAD)
    # VideoDecodeError does not survive pickling (its __init__ takes two arguments): send its parts.
    return kept, frames, [(samples, err.path, err.reason) for samples, err in skips]


def prefetched(plan: list[list[Work]], sampling: FrameSampling, workers: int, depth: int,
               cache_dir: str | Path | None = None, max_bytes: int = 4 * 1024**3) -> Iterator[Decoded]:
    """``decode_batch`` of each planned batch, in order, decoded by ``workers`` processes at most
    ``depth`` batches ahead of the consumer."""
    # Not fork: the parent holds a model and its threads, which a fork copies badly. A fork server
    # started once with the decoder imported makes each worker start in milliseconds, not seconds.
    context = get_context("forkserver")
    context.set_forkserver_preload([__name__])
    with ProcessPoolExecutor(workers, mp_context=context, initializer=_start,
                             initargs=(str(cache_dir) if cache_dir else None, max_bytes)) as pool:
        pending: deque = deque()
        upcoming = iter(plan)
        for batch in upcoming:
            pending.append(pool.submit(_decode, batch, sampling))
            if len(pending) >= depth:
                break
        while pending:
            kept, frames, skips = pending.popleft().result()
            following = next(upcoming, None)
            if following is not None:
                pending.append(pool.submit(_decode, following, sampling))
            yield kept, frames, [(samples, VideoDecodeError(path, reason)) for samples, path, reason in skips]
