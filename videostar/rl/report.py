"""The GRPO part of `videostar report RUN_DIR`: reward curves per label type, and example rollouts."""

from __future__ import annotations

import json
from pathlib import Path

from videostar.report import _png, _table
from videostar.rl.ledger import RolloutLedger


def grpo_section(run_dir: Path, plt, examples: int = 8) -> str:
    """HTML for a GRPO run directory (one holding ``rollouts.sqlite``)."""
    with RolloutLedger(run_dir) as ledger:
        steps = ledger.step_rewards()
        shown = ledger.examples(steps[-1]["step"], examples) if steps else []
    if not steps:
        return "<h2>GRPO</h2><p>No rollouts recorded yet.</p>"
    metrics_file = run_dir / "metrics.json"
    kl = {e["step"]: e.get("kl") for e in json.loads(metrics_file.read_text())["steps"]} if metrics_file.exists() else {}
    kinds = sorted({k for s in steps for k in s["label_types"]})
    fig, ax = plt.subplots(figsize=(6.5, 3.4))
    x = [s["step"] for s in steps]
    ax.plot(x, [s["reward"] for s in steps], "k-", lw=2, label="reward (total)")
    ax.plot(x, [s["pass_rate"] for s in steps], "k:", label="pass rate")
    for kind in kinds:
        ax.plot(x, [s["label_types"].get(kind, float("nan")) for s in steps], "-", label=f"{kind} score")
    ax.set_xlabel("step")
    ax.set_ylabel("mean over the step's rollouts")
    ax.legend(fontsize=8)
    image = _png(fig, run_dir / "grpo_rewards.png")
    rows = [[s["step"], f"{s['reward']:.3f}", f"{s['pass_rate']:.1%}", *[f"{s['label_types'].get(k, float('nan')):.3f}"
                                                                        for k in kinds],
             f"{s['completion_tokens']:.1f}", "-" if kl.get(s["step"]) is None else f"{kl[s['step']]:.4f}",
             s["rollouts"]] for s in steps]
    table = _table(["step", "reward", "pass rate", *[f"{k} score" for k in kinds], "completion tokens", "KL",
                    "rollouts"], rows)
    example_rows = [[e["task"], e["completion"][:300], f"{e['reward']:.3f}", "pass" if e["passed"] else "fail",
                     "; ".join(v["reason"] for v in e["verdicts"] if v["reason"])] for e in shown]
    examples_table = _table(["task", "completion", "reward", "verdict", "why it failed"], example_rows)
    return (f"<h2>GRPO: reward per step</h2><img src='data:image/png;base64,{image}'>{table}"
            f"<h3>Rollouts of step {steps[-1]['step']} (one group first)</h3>{examples_table}")
