"""One process per run directory: an exclusive, non-blocking flock on a lock file holding our pid.

The lock dies with the process (kill -9 included), so a crashed run never blocks its own resume.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

from videostar.errors import VideostarError


class RunLockedError(VideostarError, RuntimeError):
    pass


class RunLock:
    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._file = open(self.path, "a+")
        try:
            fcntl.flock(self._file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self._file.seek(0)
            holder = self._file.read().strip() or "unknown"
            self._file.close()
            raise RunLockedError(f"{self.path.parent} is in use by another videostar process (pid {holder}); "
                                 "wait for it or use another --run-dir") from None
        self._file.seek(0)
        self._file.truncate()
        self._file.write(str(os.getpid()))
        self._file.flush()

    def release(self) -> None:
        if not self._file.closed:
            fcntl.flock(self._file, fcntl.LOCK_UN)
            self._file.close()
