"""Every file videostar writes goes through here: a reader sees the old file or the whole new one.

The data goes to a temporary file in the same folder, is flushed and fsynced, then renamed over
the final path (atomic on POSIX). A failure (out of space, no permission) removes the temporary
file, leaves the final path untouched and raises ``OutputError`` naming the final path.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import IO, Any, Iterator

from videostar.errors import OutputError


def _describe(err: OSError) -> str:
    if err.errno == errno.ENOSPC:
        return "no space left on the device"
    if err.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return "permission denied"
    return err.strerror or str(err)


@contextlib.contextmanager
def _naming(path: Path) -> Iterator[None]:
    """An OSError in the block becomes the OutputError naming the final ``path``; an OutputError
    (already naming its path) passes through unchanged."""
    try:
        yield
    except OutputError:
        raise
    except OSError as err:
        raise OutputError(f"{path}: cannot write: {_describe(err)}") from err


@contextlib.contextmanager
def atomic_open(path: str | Path, mode: str = "w", encoding: str | None = "utf-8") -> Iterator[IO[Any]]:
    """``open`` for writing whose result appears at ``path`` only when the block ends without error."""
    if mode not in ("w", "wb"):
        raise ValueError("atomic_open writes whole files: mode must be 'w' or 'wb'")
    path = Path(path)
    tmp_name = None
    try:
        with _naming(path):
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
            with os.fdopen(fd, mode, encoding=None if "b" in mode else encoding) as handle:
                yield handle
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp_name, path)
            tmp_name = None
    finally:
        if tmp_name is not None:
            with contextlib.suppress(OSError):
                os.unlink(tmp_name)


@contextlib.contextmanager
def atomic_dir(path: str | Path) -> Iterator[Path]:
    """A folder (a saved model: weights, config, processor files) that appears at ``path`` whole or
    not at all. The block fills a temporary folder beside ``path``; its files are fsynced, then it is
    renamed into place; a folder already at ``path`` is replaced only once the new one is complete."""
    path = Path(path)
    tmp = None
    try:
        with _naming(path):
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent))
            yield tmp
            for file in tmp.rglob("*"):
                if file.is_file():
                    with open(file, "rb") as handle:
                        os.fsync(handle.fileno())
            old = path.with_name(f".{path.name}.old-{os.getpid()}") if path.exists() else None
            if old is not None:
                os.replace(path, old)
            os.replace(tmp, path)
            tmp = None
            if old is not None:
                shutil.rmtree(old, ignore_errors=True)
    finally:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)


def write_text(path: str | Path, text: str) -> Path:
    with atomic_open(path, "w") as handle:
        handle.write(text)
    return Path(path)


def write_bytes(path: str | Path, data: bytes) -> Path:
    with atomic_open(path, "wb") as handle:
        handle.write(data)
    return Path(path)


def write_json(path: str | Path, data: Any, indent: int | None = 2) -> Path:
    return write_text(path, json.dumps(data, indent=indent) + "\n")


def write_jsonl(path: str | Path, records) -> int:
    """One JSON object per line; returns how many were written."""
    count = 0
    with atomic_open(path, "w") as handle:
        for record in records:
            handle.write(json.dumps(record, ensure_ascii=False) + "\n")
            count += 1
    return count
