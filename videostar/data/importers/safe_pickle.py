"""Load pickle files from the internet without letting them run code.

A pickle can name any importable callable and call it (``os.system`` included). This unpickler
resolves only the few globals that plain containers, numbers, strings and numpy arrays need, and
refuses everything else, naming the forbidden global.
"""

from __future__ import annotations

import pickle
from pathlib import Path

from videostar.errors import VideostarError

_ALLOWED = {
    ("builtins", "set"),
    ("builtins", "frozenset"),
    ("builtins", "complex"),
    ("builtins", "bytearray"),
    ("builtins", "slice"),
    ("collections", "OrderedDict"),
    ("numpy", "ndarray"),
    ("numpy", "dtype"),
}
# numpy moved its internals from numpy.core to numpy._core in 2.0; pickles use either name.
for _core in ("numpy.core", "numpy._core"):
    _ALLOWED |= {
        (f"{_core}.multiarray", "_reconstruct"),
        (f"{_core}.multiarray", "scalar"),
        (f"{_core}.numeric", "_frombuffer"),
    }


class UnsafePickleError(VideostarError, pickle.UnpicklingError):
    pass


class _RestrictedUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str):
        if (module, name) not in _ALLOWED:
            raise UnsafePickleError(f"forbidden global {module}.{name} (only containers, numbers, strings, numpy arrays)")
        return super().find_class(module, name)


def safe_load(path: str | Path):
    """Unpickle ``path`` allowing only data; raises ``UnsafePickleError`` naming any other global."""
    path = Path(path)
    with path.open("rb") as f:
        try:
            return _RestrictedUnpickler(f, encoding="latin1").load()
        except UnsafePickleError as err:
            raise UnsafePickleError(f"{path}: {err}") from None
