"""Load pickle files from the internet without letting them run code or exhaust memory.

A pickle can name any importable callable and call it (``os.system`` included). This unpickler
resolves only the few globals that plain containers, numbers, strings and numpy arrays need, and
refuses everything else, naming the forbidden global. Of those globals, ``bytearray`` and numpy's
array constructors allocate whatever size they are asked for: a 40-byte pickle calling
``bytearray(10**9)`` takes a gigabyte. They are wrapped so that a size the pickle merely *asks for*
stays under ``MAX_ALLOCATION``; data actually stored in the file is bounded by the file itself.
"""

from __future__ import annotations

import math
import pickle
from pathlib import Path

from videostar.errors import VideostarError

MAX_ALLOCATION = 16 * 1024**2  # bytes a pickle may request by number (not by storing the bytes)

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
    """A pickle refused (a forbidden global, an oversized allocation) or unreadable; names the file."""


def _check_size(what: str, nbytes: int) -> None:
    if nbytes > MAX_ALLOCATION:
        raise UnsafePickleError(f"{what} asks for {nbytes:,} bytes (more than the {MAX_ALLOCATION:,} allowed)")


def _bytearray(*args):
    if args and isinstance(args[0], int):
        _check_size("bytearray(n)", args[0])
    return bytearray(*args)


def _nbytes(shape, dtype) -> int:
    import numpy as np

    dims = shape if isinstance(shape, (tuple, list)) else (shape,)
    return math.prod(int(d) for d in dims) * np.dtype(dtype).itemsize


class _NdarrayClass:
    """Stands for ``numpy.ndarray`` inside the pickle: calling it directly (``ndarray(shape)``
    allocates) is size-checked; ``_reconstruct`` swaps the real class back in."""

    def __call__(self, shape, dtype=float, *args, **kwargs):
        import numpy as np

        _check_size("numpy.ndarray(shape)", _nbytes(shape, dtype))
        return np.ndarray(shape, dtype, *args, **kwargs)


def _reconstruct(subtype, shape, dtype):
    import numpy as np

    _check_size("numpy _reconstruct(shape)", _nbytes(shape, dtype))
    return np.ndarray.__new__(np.ndarray if isinstance(subtype, _NdarrayClass) else subtype, shape, dtype)


class _RestrictedUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str):
        if (module, name) not in _ALLOWED:
            raise UnsafePickleError(f"forbidden global {module}.{name} (only containers, numbers, strings, numpy arrays)")
        if name == "bytearray":
            return _bytearray
        if name == "ndarray":
            return _NdarrayClass()
        if name == "_reconstruct":
            return _reconstruct
        return super().find_class(module, name)


def safe_load(path: str | Path):
    """Unpickle ``path`` allowing only data; raises ``UnsafePickleError`` naming the file and the reason."""
    path = Path(path)
    with path.open("rb") as f:
        try:
            return _RestrictedUnpickler(f, encoding="latin1").load()
        except UnsafePickleError as err:
            raise UnsafePickleError(f"{path}: {err}") from None
        except (pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError, IndexError,
                MemoryError, RecursionError) as err:
            raise UnsafePickleError(f"{path}: not a readable pickle: {type(err).__name__}: {err}") from None
