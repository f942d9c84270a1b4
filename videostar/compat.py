"""Make ``import torchvision`` work where its compiled ops cannot load (a CUDA torchvision wheel
beside a CPU-only torch, as PyPI ships it).

transformers' video processors and sentence-transformers import torchvision only for its
transforms, but torchvision registers fake kernels for ``torchvision::nms`` and ``qnms`` at import
and crashes if its C extension did not define them. When (and only when) that extension fails to
load, we define those two op schemas ourselves; the transforms then work and the ops, which we
never call, stay unimplemented. Where the extension loads, nothing is changed.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

_SCHEMAS = {
    "nms": "nms(Tensor dets, Tensor scores, float iou_threshold) -> Tensor",
    "qnms": "qnms(Tensor dets, Tensor scores, float iou_threshold) -> Tensor",
}
_library = None  # keeps the definitions alive for the life of the process


def ensure_torchvision_importable() -> None:
    global _library
    if _library is not None or "torchvision" in sys.modules:
        return
    spec = importlib.util.find_spec("torchvision")
    if spec is None or not spec.submodule_search_locations:
        return
    import torch

    extension = next(Path(spec.submodule_search_locations[0]).glob("_C*.so"), None)
    if extension is not None:
        try:
            torch.ops.load_library(str(extension))
            return  # the real ops are there
        except OSError:
            pass
    _library = torch.library.Library("torchvision", "DEF")
    for schema in _SCHEMAS.values():
        _library.define(schema)
