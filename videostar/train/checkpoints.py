"""Resume training from exactly what was saved, and only from checkpoints that were saved whole.

A plain ``Trainer.train(resume_from_checkpoint=True)`` (transformers 5.23) fails twice:

1. **Full fine-tuning restores no weights** for every model with a checkpoint conversion mapping
   (Qwen2-VL, Qwen2.5-VL, LLaVA and most video LLMs, whose modules v5 renamed). ``save_pretrained``
   writes weights in the original hub layout (``revert_weight_conversion``: ``model.language_model.*``
   -> ``model.*``, ``model.visual.*`` -> ``visual.*``) so that other tools can read them, but
   ``Trainer._load_from_checkpoint`` reads them back with a bare ``model.load_state_dict(strict=False)``
   that skips the forward mapping ``from_pretrained`` applies. Every key misses, one warning is logged,
   and training continues from the base weights with the checkpoint's step, optimizer and scheduler
   (huggingface/transformers#43701, #48805). Here the checkpoint is read by ``from_pretrained`` (the
   mapping of whatever family it is), copied into the training model in place (the parameter objects the
   optimizer will hold stay the same), and then checked: the model, written back through the same
   reverse mapping that produced the file, must equal the file tensor for tensor. A LoRA resume keeps
   transformers' adapter loading and gets the same check against ``adapter_model.safetensors``.
2. **A kill during a save makes the run unresumable**: transformers takes the newest ``checkpoint-*``
   folder without checking that its save finished, and refuses one holding only ``config.json``.
   ``CompletionMarker`` fsyncs every file of a saved checkpoint and then writes ``MARKER`` (atomically)
   listing them with their sizes; only a checkpoint whose marker matches is resumed. Folders without a
   marker (written by plain transformers) count as complete when ``trainer_state.json``, the file the
   Trainer writes last, parses and names their step. Incomplete ones are renamed ``incomplete-*``
   (kept for inspection, outside transformers' ``checkpoint-*`` rotation) with a warning naming them.
3. **A full disk is a traceback naming no file** (``torch.save`` reports it as "unexpected pos" in a
   RuntimeError). Saves are wrapped: a failure while the disk is full, or any OSError, becomes an
   ``OutputError`` naming the folder; the half-written checkpoint is set aside by the next resume.

``prepare_resume(trainer)`` is the one call a training entry point makes before ``trainer.train``.
"""

from __future__ import annotations

import functools
import json
import logging
import os
import re
import shutil
from pathlib import Path

from videostar.atomic import write_json
from videostar.compat import ensure_torchvision_importable
from videostar.errors import OutputError, VideostarError

ensure_torchvision_importable()  # transformers imports torchvision
from transformers import TrainerCallback  # noqa: E402

MARKER = "videostar-checkpoint.json"
FULL_DISK_BYTES = 1024**2  # a save that fails with less free space than this failed for want of space
TRAINER_STATE = "trainer_state.json"
_STEP = re.compile(r"^checkpoint-(\d+)$")
log = logging.getLogger(__name__)


class CheckpointError(VideostarError):
    """A checkpoint could not be restored as saved."""


def _step(folder: Path) -> int | None:
    match = _STEP.match(folder.name)
    return int(match.group(1)) if match else None


def _files(folder: Path) -> dict[str, int]:
    return {str(p.relative_to(folder)): p.stat().st_size for p in sorted(folder.rglob("*"))
            if p.is_file() and p.name != MARKER}


def is_complete(folder: Path) -> bool:
    """Whether ``folder`` (a ``checkpoint-N``) was saved to its end."""
    marker = folder / MARKER
    try:
        if marker.exists():
            return json.loads(marker.read_text())["files"] == _files(folder)
        state = json.loads((folder / TRAINER_STATE).read_text())
        return state.get("global_step") == _step(folder)
    except (OSError, ValueError, KeyError, TypeError):
        return False


class CompletionMarker(TrainerCallback):
    """Marks each checkpoint complete once all its files are on disk (``on_save`` runs after the save)."""

    def on_save(self, args, state, control, **kwargs):
        if state.is_world_process_zero:
            mark_complete(Path(args.output_dir) / f"checkpoint-{state.global_step}")


def mark_complete(folder: Path) -> None:
    for path in folder.rglob("*"):
        if path.is_file():
            fd = os.open(path, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
    write_json(folder / MARKER, {"step": _step(folder), "files": _files(folder)})


def last_complete_checkpoint(output_dir: Path, set_aside_incomplete: bool = True) -> Path | None:
    """The newest complete ``checkpoint-N`` in ``output_dir``; newer incomplete ones are set aside
    (by one process only: under ``accelerate launch`` the others just pass over them)."""
    output_dir = Path(output_dir)
    folders = sorted((p for p in output_dir.glob("checkpoint-*") if p.is_dir() and _step(p) is not None),
                     key=_step, reverse=True)
    for folder in folders:
        if is_complete(folder):
            return folder
        if set_aside_incomplete:
            log.warning("%s: incomplete checkpoint (its save was interrupted); set aside as %s", folder,
                        set_aside(folder))
    return None


def set_aside(folder: Path) -> Path:
    target, n = folder.with_name(f"incomplete-{folder.name}"), 1
    while target.exists():
        n += 1
        target = folder.with_name(f"incomplete-{folder.name}.{n}")
    folder.rename(target)
    return target


def _is_peft(model) -> bool:
    return hasattr(model, "peft_config")


def _saved_tensors(paths: list[Path]) -> dict:
    from safetensors.torch import load_file

    saved = {}
    for path in paths:
        saved.update(load_file(path, device="cpu"))
    return saved


def _compare(checkpoint: Path, expected: dict, saved: dict) -> None:
    """Raise unless ``expected`` (the model as it would be written) equals ``saved`` (the file)."""
    import torch

    missing = sorted(set(saved) - set(expected))
    differ = sorted(k for k in set(saved) & set(expected)
                    if not torch.equal(expected[k].detach().cpu(), saved[k].to(expected[k].dtype)))
    if missing or differ or not saved:
        shown = (missing + differ)[:5]
        raise CheckpointError(
            f"{checkpoint}: resuming restored {len(saved) - len(missing) - len(differ)} of {len(saved)} saved "
            f"tensors (not restored: {', '.join(shown)}{', ...' if len(missing + differ) > 5 else ''}); "
            "refusing to continue training from other weights than the checkpoint's")


def load_full_checkpoint(model, checkpoint: Path) -> None:
    """Load a full-model checkpoint into ``model`` in place and verify every saved tensor arrived.

    ``from_pretrained`` builds a second copy on CPU (the same memory transformers' own resume spends on
    the checkpoint's state dict) because it is the one code path that knows every family's mapping.
    """
    import torch
    from transformers.core_model_loading import revert_weight_conversion
    from transformers.modeling_utils import remove_tied_weights_from_state_dict

    checkpoint = Path(checkpoint)
    files = sorted(checkpoint.glob("model*.safetensors"))
    if not files:
        raise CheckpointError(f"{checkpoint}: no model*.safetensors to resume full fine-tuning from")
    loaded = type(model).from_pretrained(checkpoint, dtype="auto", device_map="cpu", use_safetensors=True)
    with torch.no_grad():
        model.load_state_dict(loaded.state_dict(), strict=True)
    del loaded
    written = revert_weight_conversion(model, remove_tied_weights_from_state_dict(model.state_dict(), model))
    _compare(checkpoint, written, _saved_tensors(files))


def verify_adapter(model, checkpoint: Path) -> None:
    """Check that the active LoRA adapter equals ``adapter_model.safetensors`` of ``checkpoint``."""
    from peft import get_peft_model_state_dict

    checkpoint = Path(checkpoint)
    files = [checkpoint / "adapter_model.safetensors"]
    if not files[0].exists():
        raise CheckpointError(f"{checkpoint}: no adapter_model.safetensors to resume LoRA training from")
    _compare(checkpoint, get_peft_model_state_dict(model), _saved_tensors(files))


def _free_bytes(path: Path) -> int:
    while not path.exists():
        path = path.parent
    return shutil.disk_usage(path).free


def _naming_the_folder(save, folder_of):
    """``save`` with a failure for want of disk space (or any OSError) raised as an OutputError naming the folder."""

    @functools.wraps(save)
    def wrapped(*args, **kwargs):
        try:
            return save(*args, **kwargs)
        except OutputError:
            raise
        except Exception as err:
            folder = Path(folder_of(*args, **kwargs))
            free = _free_bytes(folder)
            if free < FULL_DISK_BYTES:
                raise OutputError(f"{folder}: cannot save: no space left on the device ({free:,} bytes free)") from err
            if isinstance(err, OSError):
                raise OutputError(f"{folder}: cannot save: {err.strerror or err}") from err
            raise

    return wrapped


def prepare_resume(trainer) -> str | None:
    """Make ``trainer`` mark its checkpoints complete and restore them exactly; return the checkpoint to
    resume from (the newest complete one in its output folder), or None to start fresh."""
    trainer.add_callback(CompletionMarker())
    transformers_load = trainer._load_from_checkpoint

    def load(checkpoint: str, model=None) -> None:
        model = trainer.model if model is None else model
        if trainer.is_fsdp_enabled or trainer.is_deepspeed_enabled:
            transformers_load(checkpoint, model)  # sharded states: transformers' own loaders
        elif _is_peft(model):
            transformers_load(checkpoint, model)
            verify_adapter(model, checkpoint)
        else:
            load_full_checkpoint(model, checkpoint)

    trainer._load_from_checkpoint = load
    output_dir = Path(trainer.args.output_dir)
    trainer._save_checkpoint = _naming_the_folder(
        trainer._save_checkpoint, lambda *a, **k: output_dir / f"checkpoint-{trainer.state.global_step}")
    trainer.save_model = _naming_the_folder(
        trainer.save_model, lambda *a, **k: (a[0] if a else k.get("output_dir")) or output_dir)
    found = last_complete_checkpoint(output_dir, set_aside_incomplete=trainer.is_world_process_zero())
    return str(found) if found is not None else None
