"""`videostar report RUN_DIR`: an HTML page (and PNG plots) for any run directory.

Shows what the directory holds: the demo's video-grounded accuracy table (results.json), the yield per cycle of a
Video-STaR loop (kept by answer generation vs by rationalization), a generate run's yield table,
and example generations with their verdicts.
"""

from __future__ import annotations

import base64
import html
import io
import json
from pathlib import Path

from videostar.atomic import write_bytes, write_text


def _png(fig, path: Path) -> str:
    """Save ``fig`` as a PNG at ``path`` (written whole) and return it base64-encoded for the page."""
    import matplotlib.pyplot as plt

    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=110, bbox_inches="tight")
    plt.close(fig)
    write_bytes(path, buffer.getvalue())
    return base64.b64encode(buffer.getvalue()).decode()


def _table(headers: list[str], rows: list[list]) -> str:
    head = "".join(f"<th>{html.escape(str(h))}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def stages(results: dict) -> list[tuple[str, dict]]:
    """(stage, summary) in the demo's order: base, baseline, each cycle, then each ablation."""
    return ([("base", results["base"]), ("baseline", results["baseline"])]
            + [(f"cycle_{k + 1}", cycle) for k, cycle in enumerate(results["cycles"])]
            + list(results.get("ablations", {}).items()))


def headline(results: dict) -> tuple[list[str], list[list[str]]]:
    """The demo's table (headers, rows): per stage and task group, accuracy with the real video, with
    swapped videos and their difference (grounded), open answers and multiple choice, then the
    majority-answer floor; over several seeds, the mean ± half the range. The CLI prints it and the
    report shows it."""
    parts = [("open", "open"), ("open_swapped", "swapped"), ("open_grounded", "grounded"),
             ("mc", "MC"), ("mc_swapped", "MC swapped"), ("mc_grounded", "MC grounded")]
    headers = ["model"] + [f"{group} {name}" for group in ("adapted", "general") for _, name in parts]
    several = len(results.get("seeds", [])) > 1

    def cell(summary: dict, group: str, key: str) -> str:
        value = summary[group].get(key)
        if value is None:
            return "-"
        spread = summary.get("spread", {}).get(group, {}).get(key)
        return f"{value:.1f} ±{spread:.1f}" if several and spread is not None else f"{value:.1f}"

    rows = [[stage] + [cell(summary, group, key) for group in ("adapted", "general") for key, _ in parts]
            for stage, summary in stages(results)]
    floor = results["base"]
    rows.append(["majority answer (no video)"] + [cell(floor, group, "majority") if key in ("open", "mc") else "-"
                                                  for group in ("adapted", "general") for key, _ in parts])
    return headers, rows


def accuracy_section(results: dict, out: Path, plt) -> str:
    """The demo's headline table (real / swapped / grounded, beside the majority floor), a plot of
    grounded accuracy per stage, and the per-task rows of every stage."""
    headers, rows = headline(results)
    names = [name for name, _ in stages(results)]
    fig, ax = plt.subplots(figsize=(6, 3.2))
    for group, style in (("adapted", "o-"), ("general", "s--")):
        ax.plot(names, [summary[group].get("open_grounded", 0.0) for _, summary in stages(results)], style,
                label=f"{group} tasks, grounded (real - swapped)")
        ax.plot(names, [summary[group].get("open", 0.0) for _, summary in stages(results)], style, alpha=0.35,
                label=f"{group} tasks, real video")
    ax.set_ylabel("held-out accuracy (%)")
    ax.tick_params(axis="x", labelrotation=30, labelsize=7)
    ax.set_ylim(-10, 100)
    ax.legend(fontsize=7)
    image = _png(fig, out / "accuracy.png")
    columns = ["n", "majority", "open", "open_swapped", "open_grounded", "mc", "mc_swapped", "mc_grounded"]
    per_task = [[stage, task] + [row.get(c, "-") for c in columns]
                for stage, tasks in results["tasks"].items() for task, row in tasks.items()]
    return (f"<h2>Held-out accuracy: real video, swapped video, grounded (%)</h2>"
            f"<p>Each prompt is asked about its own clip and about another held-out clip of the same task "
            f"(labels unchanged); grounded = real - swapped. MC: multiple choice.</p>{_table(headers, rows)}"
            f"<img src='data:image/png;base64,{image}'><h3>Per task</h3>{_table(['model', 'task'] + columns, per_task)}")


def yield_section(summary: list[dict], out: Path, plt) -> str:
    cycles = [m.get("cycle", i) for i, m in enumerate(summary)]
    answer, rational = [], []
    for m in summary:
        questions = sum(r["questions"] - r.get("skipped", 0) for r in m["yield"].values()) or 1
        answer.append(sum(r["kept_answer"] for r in m["yield"].values()) / questions)
        rational.append(sum(r["kept_rationalization"] for r in m["yield"].values()) / questions)
    fig, ax = plt.subplots(figsize=(6, 3.2))
    ax.plot(cycles, answer, "o-", label="kept by answer generation")
    ax.plot(cycles, rational, "s--", label="kept by rationalization")
    ax.set_xlabel("cycle")
    ax.set_ylabel("share of questions")
    ax.set_ylim(0, 1)
    ax.set_xticks(cycles)
    ax.legend()
    image = _png(fig, out / "yield.png")
    rows = [[m.get("cycle", i), task, r["questions"], r["kept_answer"], r["kept_rationalization"], r["failed"],
             r.get("skipped", 0)] for i, m in enumerate(summary) for task, r in m["yield"].items()]
    table = _table(["cycle", "task", "questions", "kept: answer", "kept: rationalization", "failed",
                    "skipped (unreadable clip)"], rows)
    return f"<h2>Yield per cycle</h2><img src='data:image/png;base64,{image}'>{table}"


def examples_section(examples: list[dict]) -> str:
    rows = [[e.get("task", ""), e.get("label", ""), e["answer"][:300], "pass" if e["passed"] else "fail", e.get("why", "")]
            for e in examples]
    return "<h2>Example generations</h2>" + _table(["task", "label", "answer", "verdict", "why it failed"], rows)


def _ledger_examples(ledger_dir: Path, count: int = 6) -> list[dict]:
    from videostar.store.ledger import Ledger

    with Ledger(ledger_dir) as ledger:
        samples = ledger.samples()
        rows = ledger.generations()
    picked = [r for r in rows if r["passed"]][: count // 2] + [r for r in rows if not r["passed"]][: count // 2]
    return [{"task": samples[r["sample_id"]].task, "label": "; ".join(l.render() for l in samples[r["sample_id"]].labels),
             "answer": f"[{r['step']}] {r['text']}", "passed": r["passed"],
             "why": "; ".join(v["reason"] for v in r["verdict"].get("labels", []) if v["reason"])} for r in picked]


def write_report(run_dir: str | Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise FileNotFoundError(f"{run_dir}: no such run directory")
    parts = [f"<h1>videostar report: {html.escape(str(run_dir))}</h1>"]
    results_file = run_dir / "results.json"
    if results_file.exists():
        parts.append(accuracy_section(json.loads(results_file.read_text()), run_dir, plt))
    summaries = sorted(run_dir.rglob("star_summary.json"), key=lambda p: (p.parent.name != "star", str(p)))
    if summaries:
        parts.append(yield_section(json.loads(summaries[0].read_text()), run_dir, plt))
    elif (run_dir / "yield.json").exists():
        table = json.loads((run_dir / "yield.json").read_text())
        parts.append(yield_section([{"cycle": 0, "yield": table}], run_dir, plt))
    if (run_dir / "rollouts.sqlite").exists():  # a GRPO run (videostar grpo)
        from videostar.rl.report import grpo_section

        parts.append(grpo_section(run_dir, plt))
    examples = []
    for eval_file in sorted(run_dir.rglob("eval/cycle_*.json"))[-1:]:
        examples += json.loads(eval_file.read_text()).get("examples", [])
    ledgers = sorted(p.parent for p in run_dir.rglob("ledger.sqlite"))
    if ledgers:
        examples += _ledger_examples(ledgers[-1])
    if examples:
        parts.append(examples_section(examples))
    if len(parts) == 1:
        raise FileNotFoundError(f"{run_dir}: nothing to report (no results.json, yield.json, loop summary, ledger or GRPO rollouts)")
    style = ("body{font-family:sans-serif;max-width:1100px;margin:2em auto}table{border-collapse:collapse;margin:1em 0}"
             "td,th{border:1px solid #ccc;padding:4px 8px;font-size:13px;vertical-align:top}")
    return write_text(run_dir / "report.html", f"<!doctype html><html><head><meta charset='utf-8'>"
                      f"<title>videostar report</title><style>{style}</style></head><body>{''.join(parts)}</body></html>")
