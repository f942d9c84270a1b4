"""The `videostar` command line: parse arguments, call the library, print results. Nothing more."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from typer.core import TyperGroup

from videostar.errors import VideostarError

class _Commands(TyperGroup):
    """Answers every user-fixable error (``VideostarError``) with its message and exit code 1; the
    traceback only with ``--debug``. Anything else is a bug and keeps its traceback."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except VideostarError as err:
            if ctx.params.get("debug"):
                raise
            err_console.print(str(err), style="red", markup=False, highlight=False)
            raise typer.Exit(1)


app = typer.Typer(cls=_Commands, help="Self-training for video language models from the labels you already have.",
                  no_args_is_help=True, add_completion=False)
data_app = typer.Typer(help="Validate, inspect and import labeled-video manifests.", no_args_is_help=True)
toy_app = typer.Typer(help="The procedural toy world used by the demo and the tests.", no_args_is_help=True)
models_app = typer.Typer(help="Model utilities.", no_args_is_help=True)
train_app = typer.Typer(help="Fine-tune on video with TRL (SFT, DPO).", no_args_is_help=True)
app.add_typer(train_app, name="train")
app.add_typer(data_app, name="data")
app.add_typer(toy_app, name="toy")
app.add_typer(models_app, name="models")

# soft_wrap: problem lines carry file paths that must stay whole (and greppable). Output that goes to a
# file or a pipe (CI logs, nohup) gets room for the wide result tables instead of rich's 80 columns.
console = Console(soft_wrap=True, width=None if sys.stdout.isatty() else 200)
err_console = Console(stderr=True, soft_wrap=True, width=None if sys.stderr.isatty() else 200)


@app.callback()
def main(debug: bool = typer.Option(False, "--debug", help="Show the traceback of an error.")) -> None:
    """Self-training for video language models from the labels you already have."""


# Dotted overrides after a command's options: `videostar star --config c.yaml train.learning_rate=1e-5`.
_OVERRIDES = typer.Argument(None, metavar="KEY=VALUE",
                            help="Config overrides: dotted keys, YAML values (generate.frames.num_frames=16).")


_ALLOW_OUTSIDE_ROOT = typer.Option(False, "--allow-outside-root",
                                   help="Let relative video paths leave the manifest's folder (refused by default).")


def _settings(model_cls, config: Optional[Path], shortcuts: dict, overrides: Optional[list[str]]):
    """The one config path: YAML file, then the shortcut flags, then KEY=VALUE overrides, validated."""
    from videostar.config import load_config, parse_overrides

    return load_config(model_cls, config, {**shortcuts, **parse_overrides(overrides)})


def _progress() -> Progress:
    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                    console=err_console, transient=False)


@data_app.command("validate")
def data_validate(
    manifest: Path = typer.Argument(..., help="Manifest: .jsonl, .csv, or a saved Hugging Face dataset directory."),
    decode: bool = typer.Option(False, "--decode", help="Also decode every video with the frame sampling below."),
    frames: int = typer.Option(8, help="Frames per video for --decode (uniform sampling)."),
    max_pixels: Optional[int] = typer.Option(None, help="Downscale frames above this pixel count for --decode."),
    allow_outside_root: bool = _ALLOW_OUTSIDE_ROOT,
) -> None:
    """Check a manifest: every label, id and video path; with --decode, that every video decodes."""
    from videostar.data.preflight import iter_checks
    from videostar.video.sampling import FrameSampling

    from videostar.data.manifest import load_manifest

    samples = load_manifest(manifest, allow_outside_root=allow_outside_root)
    sampling = FrameSampling(num_frames=frames, max_pixels=max_pixels) if decode else None
    problems = []
    with _progress() as progress:
        task = progress.add_task("decoding videos" if decode else "checking durations", total=len(samples))
        for found in iter_checks(samples, sampling):
            problems.extend(found)
            progress.advance(task)
    if problems:
        for problem in problems:
            err_console.print(str(problem), style="red", markup=False, highlight=False)
        unreadable = sorted({p.where for p in problems if p.field == "video"})
        err_console.print(f"{len(problems)} problem(s); {len(unreadable)} sample(s) with unreadable videos")
        raise typer.Exit(1)
    console.print(f"[green]OK[/green]: {len(samples)} samples in {manifest}" + (" (all videos decode)" if decode else ""))


@data_app.command("stats")
def data_stats(
    manifest: Path = typer.Argument(..., help="Manifest to describe."),
    as_json: bool = typer.Option(False, "--json", help="Print the statistics as JSON."),
    probe: bool = typer.Option(True, help="Read each video's duration."),
    allow_outside_root: bool = _ALLOW_OUTSIDE_ROOT,
) -> None:
    """Counts per split, task and label type, and video durations."""
    from videostar.data.manifest import load_manifest
    from videostar.data.stats import manifest_stats

    stats = manifest_stats(load_manifest(manifest, check_videos=False, allow_outside_root=allow_outside_root),
                           probe_durations=probe)
    if as_json:
        print(json.dumps(stats, indent=2))
        return
    console.print(f"[bold]{stats['samples']}[/bold] samples over [bold]{stats['videos']}[/bold] videos; "
                  f"splits: {stats['splits']}")
    table = Table("task", "samples", "label types")
    for task, count in sorted(stats["tasks"].items()):
        types = ", ".join(f"{t}×{n}" for t, n in sorted(stats["label_types_per_task"][task].items()))
        table.add_row(task, str(count), types)
    console.print(table)
    if stats.get("duration_s"):
        d = stats["duration_s"]
        console.print(f"durations (s): min {d['min']}, mean {d['mean']}, max {d['max']}, total {d['total']}"
                      + (f"; {stats['unreadable_videos']} unreadable" if stats["unreadable_videos"] else ""))


@data_app.command("import")
def data_import(
    fmt: str = typer.Argument(..., metavar="FORMAT",
                              help="kinetics | star | finediving | charades_sta | activitynet_captions | ssv2 | nextqa"),
    src: Path = typer.Argument(..., help="The release's annotation file (Kinetics CSV, STAR_*.json, FineDiving .pkl, "
                                         "charades_sta_*.txt, ActivityNet train.json, SSv2 *-train.json, NExT-QA csv)."),
    out: Path = typer.Argument(..., help="Manifest to write (.jsonl)."),
    video_dir: Optional[Path] = typer.Option(None, help="Folder of the videos / frame folders (default: beside SRC)."),
    skip_missing: bool = typer.Option(False, help="Leave out samples whose video is not on disk."),
    fps: Optional[float] = typer.Option(None, help="Frame rate of frame folders (FineDiving: 25, SSv2: 12 by default)."),
) -> None:
    """Convert a source dataset's annotations into a videostar manifest."""
    from videostar.data.importers import import_dataset
    from videostar.data.manifest import write_manifest

    options = {"fps": fps} if fps is not None and fmt in ("finediving", "ssv2") else {}
    try:
        result = import_dataset(fmt, src, video_dir or src.parent, skip_missing=skip_missing, **options)
    except (ValueError, FileNotFoundError) as err:
        err_console.print(str(err), style="red", markup=False, highlight=False)
        raise typer.Exit(1)
    count = write_manifest(result.samples, out)
    console.print(f"wrote {count} samples to {out}")
    for reason, n in result.skipped.most_common():
        console.print(f"  skipped {n}: {reason}")


@app.command("verify")
def verify(
    src: Path = typer.Argument(..., metavar="IN", help="JSONL: one {labels, answer, [duration], [task]} per line."),
    out: Path = typer.Argument(..., metavar="OUT", help="JSONL with passed, score and label_verdicts added."),
    overrides: Optional[list[str]] = _OVERRIDES,
    config: Optional[Path] = typer.Option(None, help="YAML of verifier thresholds (VerifierConfig fields)."),
    batch_size: int = typer.Option(512, min=1, help="Answers verified (and embedded) together."),
) -> None:
    """Check answers against their labels with the Video-STaR verifiers."""
    from videostar.engine.engine import make_verifier
    from videostar.verify.files import verify_file
    from videostar.verify.verifier import VerifierConfig

    verifier = make_verifier(_settings(VerifierConfig, config, {}, overrides))
    with _progress() as progress:
        bar = progress.add_task("verifying", total=None)
        try:
            summary = verify_file(src, out, verifier, batch_size=batch_size,
                                  on_progress=lambda done, total: progress.update(bar, completed=done, total=total))
        except FileNotFoundError as err:
            _fail(str(err))
    table = Table("label type", "passed", "failed")
    for kind, counts in sorted(summary["per_type"].items()):
        table.add_row(kind, str(counts["passed"]), str(counts["failed"]))
    console.print(table)
    console.print(f"{summary['passed']} of {summary['lines']} answers passed; wrote {out}")


def _fail(message: str) -> None:
    err_console.print(message, style="red", markup=False, highlight=False)
    raise typer.Exit(1)


def _yield_table(table: dict) -> Table:
    view = Table("task", "questions", "kept: answer", "kept: rationalization", "failed", "skipped", "answer yield")
    for task, row in table.items():
        view.add_row(task, str(row["questions"]), str(row["kept_answer"]), str(row["kept_rationalization"]),
                     str(row["failed"]), str(row["skipped"]), f"{row['answer_yield']:.0%}")
    return view


def _say_skipped(skipped: dict) -> None:
    if skipped["videos"]:
        console.print(f"skipped: {skipped['videos']} unreadable videos ({skipped['samples']} samples; "
                      f"all names and reasons in {skipped['file']})", markup=False, highlight=False)
        for clip in skipped["first"]:
            console.print(f"  {clip['video']}: {clip['reason']}", markup=False, highlight=False)


# Shortcut flags shared by `generate`, `star` and `savi`: each sets one key of the generation config.
_MODEL = typer.Option(None, help="Model: hub id or local directory (model.path).")
_MANIFEST = typer.Option(None, help="Labeled-video manifest (manifest).")
_RUN_DIR = typer.Option(None, help="Run directory (run_dir).")
_RESUME = typer.Option(False, help="Continue a run directory that already holds a run.")
_RETRY_SKIPPED = typer.Option(False, "--retry-skipped", help="Try clips recorded as unreadable again (retry_skipped).")
_MAX_NEW = typer.Option(None, help="sampling.max_new_tokens")
_TEMPERATURE = typer.Option(None, help="sampling.temperature")
_FRAMES = typer.Option(None, help="frames.num_frames (uniform sampling)")
_STEPS = typer.Option(None, help="Comma-separated steps: answer,rationalize")
_SAMPLES = typer.Option(None, help="Answers drawn per question (samples_per_question).")
_BATCH = typer.Option(None, help="Requests per model call (batch_size).")
_MAX_SAMPLES = typer.Option(None, help="Only the first N samples of the manifest (max_samples).")
_ENGINE = typer.Option(None, help="local (this process) or ray (a Ray Data pipeline; the ray: section says where).")


def _generate_shortcuts(prefix: str, model, manifest, run_dir, retry_skipped, max_new_tokens, temperature, frames,
                        steps, samples_per_question, batch_size, max_samples, engine=None) -> dict:
    values = {"model.path": model, "manifest": manifest, "run_dir": run_dir, "retry_skipped": retry_skipped or None,
              "sampling.max_new_tokens": max_new_tokens, "sampling.temperature": temperature,
              "frames.num_frames": frames, "steps": steps.split(",") if steps else None,
              "samples_per_question": samples_per_question, "batch_size": batch_size, "max_samples": max_samples, "engine": engine}
    return {prefix + key: value for key, value in values.items()}


def _loop_settings(model_cls, name: str, config, resume: bool, shortcuts: dict, overrides):
    """A loop's validated config, refusing to restart a run without --resume."""
    settings = _settings(model_cls, config, shortcuts, overrides)
    root = settings.generate.run_dir
    if (root / f"{name}_state.json").exists() and not resume:
        _fail(f"{root} already holds a run: pass --resume to continue it, or choose a new --run-dir")
    return settings


def _generation_progress(progress: Progress):
    bars: dict[str, int] = {}

    def report(step: str, advanced: int, total: int, counts: dict) -> None:
        if step not in bars or progress.tasks[bars[step]].finished:
            bars[step] = progress.add_task(step, total=total)
        note = f" kept {counts['kept']} / failed {counts['failed']}" if counts else ""
        progress.update(bars[step], advance=advanced, description=f"{step}{note}")

    return report


@app.command("generate")
def generate(
    overrides: Optional[list[str]] = _OVERRIDES,
    config: Optional[Path] = typer.Option(None, help="YAML run config (GenerateConfig); flags and KEY=VALUE override it."),
    model: Optional[str] = _MODEL, manifest: Optional[Path] = _MANIFEST, run_dir: Optional[Path] = _RUN_DIR,
    resume: bool = _RESUME, retry_skipped: bool = _RETRY_SKIPPED, max_new_tokens: Optional[int] = _MAX_NEW,
    temperature: Optional[float] = _TEMPERATURE, frames: Optional[int] = _FRAMES, steps: Optional[str] = _STEPS,
    samples_per_question: Optional[int] = _SAMPLES, batch_size: Optional[int] = _BATCH,
    max_samples: Optional[int] = _MAX_SAMPLES, engine: Optional[str] = _ENGINE,
) -> None:
    """Generate verified Video-STaR data: questions, answers, verification, rationalization."""
    from videostar.atomic import write_json
    from videostar.config import GenerateConfig
    from videostar.engine.engine import make_verifier, skip_summary
    from videostar.models import load_backend
    from videostar.star.generate import Generation
    from videostar.store.ledger import Ledger

    settings = _settings(GenerateConfig, config, _generate_shortcuts(
        "", model, manifest, run_dir, retry_skipped, max_new_tokens, temperature, frames, steps,
        samples_per_question, batch_size, max_samples, engine), overrides)
    if Ledger.exists(settings.run_dir) and not resume:
        _fail(f"{settings.run_dir} already holds a run: pass --resume to continue it, or choose a new --run-dir")
    verifier = make_verifier(settings.verifier)
    with Ledger(settings.run_dir) as ledger, _progress() as progress:
        backend = None if settings.engine == "ray" else load_backend(settings.model)  # Ray's model actors load it
        table = Generation(settings, backend, verifier, ledger, _generation_progress(progress)).run()
        skipped = skip_summary(ledger)
        busy = ledger.meta("model_busy", {})
    out = write_json(settings.run_dir / "yield.json", table)
    console.print(_yield_table(table))
    _say_skipped(skipped)
    if busy:
        console.print("model busy: " + ", ".join(f"{step} {b['share']:.0%} of {b['wall_s']:.0f} s"
                                                 for step, b in busy.items()))
    console.print(f"wrote {out}")


@app.command("star")
def star(
    overrides: Optional[list[str]] = _OVERRIDES,
    config: Optional[Path] = typer.Option(None, help="YAML loop config (StarConfig); flags and KEY=VALUE override it."),
    model: Optional[str] = _MODEL, manifest: Optional[Path] = _MANIFEST, run_dir: Optional[Path] = _RUN_DIR,
    resume: bool = _RESUME, retry_skipped: bool = _RETRY_SKIPPED, max_new_tokens: Optional[int] = _MAX_NEW,
    temperature: Optional[float] = _TEMPERATURE, frames: Optional[int] = _FRAMES, steps: Optional[str] = _STEPS,
    samples_per_question: Optional[int] = _SAMPLES, batch_size: Optional[int] = _BATCH,
    max_samples: Optional[int] = _MAX_SAMPLES, engine: Optional[str] = _ENGINE,
    cycles: Optional[int] = typer.Option(None, help="Number of Video-STaR cycles (cycles)."),
    max_steps: Optional[int] = typer.Option(None, help="train.max_steps per cycle."),
) -> None:
    """The Video-STaR loop: generate, verify, rationalize, fine-tune; repeat for --cycles."""
    from videostar.star.loop import StarConfig, StarLoop

    shortcuts = {**_generate_shortcuts("generate.", model, manifest, run_dir, retry_skipped, max_new_tokens,
                                       temperature, frames, steps, samples_per_question, batch_size, max_samples,
                                       engine),
                 "cycles": cycles, "train.max_steps": max_steps}
    settings = _loop_settings(StarConfig, "star", config, resume, shortcuts, overrides)
    root = settings.generate.run_dir

    def report(cycle: int, metrics: dict) -> None:
        console.print(f"[bold]cycle {cycle}[/bold]: answer yield {metrics['answer_yield']:.1%}, "
                      f"{metrics['train_rows']} training rows, final loss "
                      f"{metrics['train_losses'][-1] if metrics['train_losses'] else float('nan'):.3f}")
        console.print(_yield_table(metrics["yield"]))
        _say_skipped(metrics["skipped"])

    with _progress() as progress:
        history = StarLoop(settings, report=report, progress=_generation_progress(progress)).run()
    console.print(" -> ".join(f"cycle {m['cycle']}: {m['answer_yield']:.1%}" for m in history)
                  + f"   (answer yield; {root / 'star_summary.json'})")


@app.command("savi")
def savi(
    overrides: Optional[list[str]] = _OVERRIDES,
    config: Optional[Path] = typer.Option(None, help="YAML loop config (SaviConfig); flags and KEY=VALUE override it."),
    model: Optional[str] = _MODEL, manifest: Optional[Path] = _MANIFEST, run_dir: Optional[Path] = _RUN_DIR,
    resume: bool = _RESUME, retry_skipped: bool = _RETRY_SKIPPED, max_new_tokens: Optional[int] = _MAX_NEW,
    temperature: Optional[float] = _TEMPERATURE, frames: Optional[int] = _FRAMES, steps: Optional[str] = _STEPS,
    samples_per_question: Optional[int] = _SAMPLES, batch_size: Optional[int] = _BATCH,
    max_samples: Optional[int] = _MAX_SAMPLES, engine: Optional[str] = _ENGINE,
    iterations: Optional[int] = typer.Option(None, help="Number of VideoSAVi iterations (the paper: 4)."),
    max_steps: Optional[int] = typer.Option(None, help="train.max_steps per iteration."),
) -> None:
    """VideoSAVi: self-questions, self-critique, revision, DPO on (revised > original); repeat."""
    from videostar.savi.loop import SaviConfig, SaviLoop

    shortcuts = {**_generate_shortcuts("generate.", model, manifest, run_dir, retry_skipped, max_new_tokens,
                                       temperature, frames, steps, samples_per_question, batch_size, max_samples,
                                       engine),
                 "iterations": iterations, "train.max_steps": max_steps}
    settings = _loop_settings(SaviConfig, "savi", config, resume, shortcuts, overrides)
    root = settings.generate.run_dir

    def report(k: int, metrics: dict) -> None:
        table = Table("pair source", "kept", "dropped (by reason)")
        for source, counts in metrics["pairs"].items():
            dropped = ", ".join(f"{reason} {n}" for reason, n in sorted(counts["dropped"].items())) or "-"
            table.add_row(source, str(counts["kept"]), dropped)
        margins = metrics.get("reward_margins") or []
        console.print(f"[bold]iteration {k}[/bold]: {metrics['kept_pairs']} pairs"
                      + (f", DPO reward margin {margins[0]:.3f} -> {margins[-1]:.3f}" if margins else ""))
        console.print(table)
        _say_skipped(metrics["skipped"])

    with _progress() as progress:
        history = SaviLoop(settings, report=report, progress=_generation_progress(progress)).run()
    console.print(f"{len(history)} iteration(s); {root / 'savi_summary.json'}")


@app.command("eval")
def eval_cmd(
    overrides: Optional[list[str]] = _OVERRIDES,
    config: Optional[Path] = typer.Option(None, help="YAML (EvalConfig: model of any backend, manifest, ...)."),
    model: Optional[str] = typer.Option(None, help="Model: hub id or local directory (model.path)."),
    manifest: Optional[Path] = typer.Option(None, help="Held-out manifest (manifest)."),
    run_dir: Optional[Path] = typer.Option(None, help="Use the frame sampling and prompts this run recorded (run_dir)."),
    out: Optional[Path] = typer.Option(None, help="Write the results as JSON here (out)."),
    frames: Optional[int] = typer.Option(None, help="frames.num_frames (uniform); default: the run's, else 8."),
    max_pixels: Optional[int] = typer.Option(None, help="frames.max_pixels"),
    max_new_tokens: Optional[int] = typer.Option(None, help="Tokens per answer (max_new_tokens)."),
    batch_size: Optional[int] = typer.Option(None, help="Requests per model call (batch_size)."),
    device: Optional[str] = typer.Option(None, help="model.device: cpu | cuda | auto"),
    engine: Optional[str] = _ENGINE,
) -> None:
    """Held-out accuracy per task (open answers scored by the verifiers, and multiple choice), with the real
    video and with videos swapped among samples of the task: grounded = real - swapped."""
    from videostar.atomic import write_json
    from videostar.config import EvalConfig
    from videostar.data.manifest import load_manifest
    from videostar.engine.engine import make_verifier, recorded_settings
    from videostar.eval.evaluate import evaluate, grounded_table
    from videostar.models import load_backend
    from videostar.prompts import Prompts
    from videostar.video.sampling import FrameSampling

    settings = _settings(EvalConfig, config, {
        "model.path": model, "manifest": manifest, "run_dir": run_dir, "out": out, "frames.num_frames": frames,
        "frames.max_pixels": max_pixels, "max_new_tokens": max_new_tokens, "batch_size": batch_size,
        "model.device": device, "engine": engine}, overrides)
    recorded_frames, recorded_prompts = recorded_settings(settings.run_dir) if settings.run_dir else (None, None)
    verifier = make_verifier(settings.verifier)
    samples = [s for s in load_manifest(settings.manifest, allow_outside_root=settings.allow_outside_root) if settings.splits is None or s.split in settings.splits]
    on_ray = settings.engine == "ray"  # the model actors load the model; the driver does not
    result = evaluate(settings.model if on_ray else load_backend(settings.model), samples,
                      settings.frames or recorded_frames or FrameSampling(), verifier,
                      max_new_tokens=settings.max_new_tokens, batch_size=settings.batch_size,
                      modes=tuple(settings.modes), seed=settings.seed, swapped=settings.swapped,
                      prompts=settings.prompts or recorded_prompts or Prompts(), ray=settings.ray if on_ray else None)
    console.print(grounded_table(result, settings.modes))
    if result["skipped"]:
        console.print(f"skipped: {len({s['video'] for s in result['skipped']})} unreadable videos "
                      f"({len(result['skipped'])} samples; listed in the results JSON)")
    if settings.out:
        console.print(f"wrote {write_json(settings.out, result)}")


@app.command("report")
def report_cmd(run_dir: Path = typer.Argument(..., help="Any videostar run directory.")) -> None:
    """Write RUN_DIR/report.html: accuracy table, yield per cycle, example generations with verdicts."""
    from videostar.report import write_report

    try:
        console.print(f"wrote {write_report(run_dir)}")
    except FileNotFoundError as err:
        _fail(str(err))


@app.command("demo")
def demo_cmd(
    overrides: Optional[list[str]] = _OVERRIDES,
    config: Optional[Path] = typer.Option(None, help="YAML (DemoConfig); flags and KEY=VALUE override it."),
    run_dir: Optional[Path] = typer.Option(None, help="Where the demo writes everything (default runs/demo)."),
    train_videos: Optional[int] = typer.Option(None, help="Toy training videos (150)."),
    eval_videos: Optional[int] = typer.Option(None, help="Held-out toy videos (80)."),
    cycles: Optional[int] = typer.Option(None, help="Video-STaR cycles (3)."),
    train_steps: Optional[int] = typer.Option(None, help="SFT steps per cycle; the baseline gets the same (150)."),
    forms: Optional[str] = typer.Option(None, help="Training forms of kept samples: cot, direct, mc (default cot,mc)."),
    ablations: Optional[bool] = typer.Option(None, "--ablations", help="Also run the paper's ablations: no "
                                             "rationalization, no verification, direct supervision, GRPO."),
    repeats: Optional[int] = typer.Option(None, help="Repeat training with this many seeds (1); tables show the "
                                                     "mean and the spread."),
) -> None:
    """The whole demo: base vs Video-STaR cycles vs the naive baseline (and the ablations), on CPU, offline."""
    from videostar.demo import Demo, DemoConfig
    from videostar.report import headline, write_report

    settings = _settings(DemoConfig, config, {
        "run_dir": run_dir, "train_videos": train_videos, "eval_videos": eval_videos, "cycles": cycles,
        "train_steps": train_steps, "forms": [f.strip() for f in forms.split(",") if f.strip()] if forms else None,
        "ablations": ablations, "repeats": repeats},
        overrides)
    with _progress() as progress:
        try:
            results = Demo(settings, say=console.print, progress=_generation_progress(progress)).run()
        except FileNotFoundError as err:
            _fail(str(err))
    headers, rows = headline(results)
    table = Table(*headers)
    for row in rows:
        table.add_row(*row)
    console.print(table)
    console.print(f"wrote {settings.run_dir / 'results.json'} and {write_report(settings.run_dir)}")


@app.command("export")
def export_cmd(
    run_dir: Path = typer.Argument(..., help="A generate run directory."),
    out: Path = typer.Argument(..., help="Output file (.jsonl for trl/llamafactory, .json for llava)."),
    fmt: str = typer.Option("trl", "--format",
                            help="trl | llamafactory | llava (Video-LLaVA) | llava_next (LLaVA-NeXT/OneVision); "
                                 "pairs: trl | llamafactory"),
    materialize_clips: Optional[Path] = typer.Option(None, help="Cut clips (segments, frame folders) to files here, "
                                                               "for trainers that read whole files only."),
    forms: str = typer.Option("cot,direct,mc", help="Training forms: cot, direct, mc (comma-separated)."),
    pairs: bool = typer.Option(False, "--pairs", help="Export kept preference pairs (VideoSAVi) instead."),
    source: Optional[str] = typer.Option(None, help="--pairs: only self_critique or label_verified pairs."),
) -> None:
    """Export kept samples (or, with --pairs, preference pairs) as a training set, with the prompts
    and frame sampling the run recorded."""
    from videostar.engine.engine import recorded_settings
    from videostar.star.trainset import build_examples
    from videostar.store.export import export, export_pairs, pair_rows
    from videostar.store.ledger import Ledger

    if not Ledger.exists(run_dir):
        _fail(f"{run_dir}: no ledger here (run videostar generate or savi first)")
    _, prompts = recorded_settings(run_dir)
    try:
        with Ledger(run_dir) as ledger:
            frame_sampling = ledger.meta("frame_sampling", {})
            if pairs:
                rows = pair_rows(ledger, frame_sampling, source, prompts=prompts)
                export_pairs(rows, out, fmt, materialize_clips)
            else:
                rows = build_examples(ledger, tuple(f.strip() for f in forms.split(",") if f.strip()), prompts)
                export(rows, out, fmt, frame_sampling, materialize_clips)
    except ValueError as err:
        _fail(str(err))
    console.print(f"wrote {len(rows)} {'pairs' if pairs else 'examples'} to {out}")


def _train(kind: str, config, overrides, model, data, output_dir, max_steps, learning_rate, full) -> None:
    from videostar.train.trainers import TrainConfig, train_dpo, train_sft

    settings = _settings(TrainConfig, config, {"model": model, "data": data, "output_dir": output_dir,
                                               "max_steps": max_steps, "learning_rate": learning_rate}, overrides)
    if full:
        settings = settings.model_copy(update={"lora": None})
    try:
        result = (train_sft if kind == "sft" else train_dpo)(settings)
    except (ValueError, FileNotFoundError) as err:
        _fail(str(err))
    losses = result.losses
    console.print(f"{kind}: {result.metrics['steps']} steps, loss {losses[0]:.3f} -> {losses[-1]:.3f}" if losses
                  else f"{kind}: {result.metrics['steps']} steps")
    console.print(f"model: {result.model_dir}")


_TRAIN_CONFIG = typer.Option(None, help="YAML (TrainConfig); flags and KEY=VALUE override it.")
_TRAIN_MODEL = typer.Option(None, help="Base model: hub id or local directory (model).")
_TRAIN_DATA = typer.Option(None, help="Training JSONL (videostar export --format trl; DPO: prompt/chosen/rejected).")
_TRAIN_OUT = typer.Option(None, help="Output directory (checkpoints, final/, merged/).")
_TRAIN_STEPS = typer.Option(None, help="max_steps (overrides epochs)")
_TRAIN_LR = typer.Option(None, help="learning_rate")
_TRAIN_FULL = typer.Option(False, "--full", help="Full fine-tuning instead of LoRA.")


def _train_command(kind: str, doc: str):
    def command(overrides: Optional[list[str]] = _OVERRIDES, config: Optional[Path] = _TRAIN_CONFIG,
                model: Optional[str] = _TRAIN_MODEL, data: Optional[Path] = _TRAIN_DATA,
                output_dir: Optional[Path] = _TRAIN_OUT, max_steps: Optional[int] = _TRAIN_STEPS,
                learning_rate: Optional[float] = _TRAIN_LR, full: bool = _TRAIN_FULL) -> None:
        _train(kind, config, overrides, model, data, output_dir, max_steps, learning_rate, full)

    command.__doc__ = doc
    return command


train_app.command("sft")(_train_command("sft", "Supervised fine-tuning on video (loss on the answers only)."))
train_app.command("dpo")(_train_command("dpo", "Direct Preference Optimization on video (rows: prompt, chosen, rejected, video)."))


@models_app.command("tiny")
def models_tiny(
    out: Path = typer.Argument(..., help="Directory to write the model and processor to."),
    arch: str = typer.Option("qwen2_vl", help="a family of videostar/models/families.py (README: Model families)"),
    seed: int = typer.Option(0, help="Weight initialization seed."),
) -> None:
    """Write a tiny random-weight video LLM (for tests and trying things offline)."""
    from pydantic import ValidationError

    from videostar.models.tiny import TinyModelSpec, build_tiny_model

    try:
        spec = TinyModelSpec(arch=arch, seed=seed)
    except ValidationError as err:
        _fail(str(err))
    console.print(f"wrote {build_tiny_model(out, spec)}")


@toy_app.command("make")
def toy_make(
    out: Path = typer.Argument(..., help="Output folder (videos/ and manifest.jsonl)."),
    n: int = typer.Option(100, "--n", min=1, help="Number of videos."),
    seed: int = typer.Option(0, help="Seed; the same seed gives the same dataset."),
    split: str = typer.Option("train", help="Split name written in the manifest."),
    task: Optional[list[str]] = typer.Option(None, help="Only these tasks (repeatable); default all."),
    workers: int = typer.Option(1, min=1, help="Processes used to render."),
) -> None:
    """Render procedurally labeled toy videos covering every label type."""
    from videostar.toyworld.dataset import make_toy_dataset

    with _progress() as progress:
        bar = progress.add_task("rendering toy videos", total=n)
        try:
            manifest = make_toy_dataset(out, n, seed=seed, tasks=task, split=split, workers=workers,
                                        on_video=lambda: progress.advance(bar))
        except ValueError as err:
            err_console.print(str(err), style="red", markup=False, highlight=False)
            raise typer.Exit(1)
    console.print(f"wrote {manifest}")


@toy_app.command("pretrain")
def toy_pretrain(
    out: Path = typer.Argument(..., help="Directory for the base model (model, processor, PRETRAIN.json)."),
    videos: int = typer.Option(1500, min=10, help="Pretraining videos to render."),
    steps: int = typer.Option(4000, min=1, help="Training steps (batch 32): 40% short answers, then all forms."),
    seed: int = typer.Option(0, help="Seed: the same seed rebuilds the same model."),
    work: Optional[Path] = typer.Option(None, help="Scratch directory (default: a temporary one)."),
) -> None:
    """Train the demo's small base video LLM on general toy instructions (adapted tasks held back)."""
    from videostar.toyworld.pretrain import PretrainConfig, pretrain

    record = pretrain(out, PretrainConfig(videos=videos, steps=steps, seed=seed), work)
    curve = [loss for phase in record["losses"].values() for loss in phase]
    trained = f"loss {curve[0]:.3f} -> {curve[-1]:.3f}, " if curve else ""
    console.print(f"{record['parameters']:,} parameters, {record['instructions']:,} instructions, {trained}"
                  f"{record['minutes']} min; wrote {out}")


# ---------------------------------------------------------------------------------------------- grpo
@app.command("grpo")
def grpo_cmd(
    config: Path = typer.Option(..., help="YAML run config (GRPORunConfig)."),
    overrides: Optional[list[str]] = _OVERRIDES,
    resume: bool = typer.Option(False, help="Continue the run in output_dir from its newest checkpoint."),
) -> None:
    """GRPO on a labeled manifest: the verifiers' checks of every label are the reward."""
    from videostar.rl.config import GRPORunConfig
    from videostar.rl.run import run_grpo

    settings = _settings(GRPORunConfig, config, {}, overrides)
    out = settings.output_dir
    if (any(out.glob("checkpoint-*")) or (out / "rollouts.sqlite").exists()) and not resume:
        _fail(f"{out} already holds a GRPO run: pass --resume to continue it, or choose another output_dir")
    try:
        result = run_grpo(settings, say=console.print)
    except (ValueError, FileNotFoundError) as err:
        _fail(str(err))
    steps = result.metrics["log"]
    if steps:
        parts = sorted(k for k in steps[-1] if k.startswith("reward/"))  # reward/<label type>, reward/format
        table = Table("step", "reward", "pass rate", *[k.split("/", 1)[1] for k in parts], "completion tokens", "KL")
        for entry in (steps[0], steps[-1]) if len(steps) > 1 else steps:
            table.add_row(str(entry["step"]), f"{entry['reward']:.3f}", f"{entry.get('pass_rate', 0):.1%}",
                          *[f"{entry.get(k, float('nan')):.3f}" for k in parts],
                          f"{entry.get('completion_length', 0):.1f}", f"{entry.get('kl', 0):.4f}")
        console.print(table)
    console.print(f"model: {result.model_dir}; metrics: {out / 'metrics.json'}; rollouts: {out / 'rollouts.sqlite'}")


if __name__ == "__main__":
    app()
