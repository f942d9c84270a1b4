"""The rollout ledger: every GRPO completion, its reward and per-label verdicts, in SQLite.

One row per (optimizer step, position in the step's generation batch), written in one transaction
per step. Resuming from a checkpoint of step k first discards the rollouts of steps after k (their
updates were lost with the process), so the ledger never holds two rollouts for one position: the
primary key refuses it.
"""

from __future__ import annotations

import json
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

SCHEMA = """
CREATE TABLE IF NOT EXISTS rollouts (
    step INTEGER NOT NULL,           -- the optimizer step these completions were generated for (1-based)
    position INTEGER NOT NULL,       -- row in the step's generation batch (group members are consecutive)
    sample_id TEXT NOT NULL,
    task TEXT NOT NULL,
    prompt TEXT NOT NULL,
    completion TEXT NOT NULL,
    completion_tokens INTEGER NOT NULL,
    reward REAL NOT NULL,
    label_reward REAL NOT NULL,
    format_reward REAL NOT NULL,
    passed INTEGER NOT NULL,
    verdicts TEXT NOT NULL,          -- JSON list: type, name, score, passed, reason per label
    created REAL NOT NULL,
    PRIMARY KEY (step, position)
);
"""


@dataclass(frozen=True)
class Rollout:
    step: int
    position: int
    sample_id: str
    task: str
    prompt: str
    completion: str
    completion_tokens: int
    reward: float
    label_reward: float
    format_reward: float
    passed: bool
    verdicts: list[dict]


class RolloutLedger:
    FILE = "rollouts.sqlite"

    def __init__(self, run_dir: str | Path):
        self.path = Path(run_dir) / self.FILE
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(self.path, isolation_level=None, timeout=60)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.executescript(SCHEMA)

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> "RolloutLedger":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def record(self, rollouts: list[Rollout]) -> None:
        now = time.time()
        self.db.execute("BEGIN IMMEDIATE")
        try:
            self.db.executemany(
                "INSERT INTO rollouts VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [(r.step, r.position, r.sample_id, r.task, r.prompt, r.completion, r.completion_tokens, r.reward,
                  r.label_reward, r.format_reward, int(r.passed), json.dumps(r.verdicts), now) for r in rollouts])
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")

    def discard_after(self, step: int) -> int:
        """Drop the rollouts of steps after ``step`` (a resume from that step's checkpoint); returns how many."""
        return self.db.execute("DELETE FROM rollouts WHERE step > ?", (step,)).rowcount

    def count(self) -> int:
        return self.db.execute("SELECT COUNT(*) FROM rollouts").fetchone()[0]

    def last_step(self) -> int:
        return self.db.execute("SELECT COALESCE(MAX(step), 0) FROM rollouts").fetchone()[0]

    def step_rewards(self) -> list[dict]:
        """Per step: mean reward, pass rate, mean completion tokens, and mean score per label type."""
        out = {}
        for step, reward, passed, tokens, n in self.db.execute(
                "SELECT step, AVG(reward), AVG(passed), AVG(completion_tokens), COUNT(*) FROM rollouts "
                "GROUP BY step ORDER BY step"):
            out[step] = {"step": step, "reward": reward, "pass_rate": passed, "completion_tokens": tokens,
                         "rollouts": n, "label_types": {}}
        sums: dict[tuple[int, str], list[float]] = {}
        for step, verdicts in self.db.execute("SELECT step, verdicts FROM rollouts"):
            for verdict in json.loads(verdicts):
                sums.setdefault((step, verdict["type"]), []).append(verdict["score"])
        for (step, kind), scores in sorted(sums.items()):
            out[step]["label_types"][kind] = sum(scores) / len(scores)
        return list(out.values())

    def examples(self, step: int, limit: int = 4) -> list[dict]:
        """The first ``limit`` rollouts of ``step`` (one group's members are consecutive)."""
        rows = self.db.execute(
            "SELECT sample_id, task, prompt, completion, reward, passed, verdicts FROM rollouts WHERE step = ? "
            "ORDER BY position LIMIT ?", (step, limit))
        return [{"sample_id": s, "task": t, "prompt": p, "completion": c, "reward": r, "passed": bool(ok),
                 "verdicts": json.loads(v)} for s, t, p, c, r, ok, v in rows]
