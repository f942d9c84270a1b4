"""The run ledger: one SQLite file per run directory holding every sample, question, generation and
verdict, with the settings (model, prompts, sampling, frames) that produced each generation.

Unreadable clips are recorded in ``skipped`` (sample, video, reason) instead of stopping the run; a
resumed run leaves them alone unless told to retry them.

Crash safety: each batch of generations is written in one transaction, so a run killed at any
point (kill -9 included) keeps every finished batch and loses only the one in flight; unique keys
make a redo impossible to duplicate. One process at a time: an exclusive lock on ``ledger.lock``
makes a second process on the same run directory refuse with the holder's pid.
"""

from __future__ import annotations

import json
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

from videostar.data.manifest import Sample
from videostar.store.lock import RunLock, RunLockedError  # noqa: F401  (RunLockedError: re-exported)
from videostar.store.records import Question

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS samples (id TEXT PRIMARY KEY, task TEXT NOT NULL, json TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS questions (
    id TEXT PRIMARY KEY, sample_id TEXT NOT NULL REFERENCES samples(id), source TEXT NOT NULL, text TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS settings (id INTEGER PRIMARY KEY, json TEXT NOT NULL UNIQUE);
CREATE TABLE IF NOT EXISTS generations (
    id INTEGER PRIMARY KEY,
    question_id TEXT NOT NULL REFERENCES questions(id),
    step TEXT NOT NULL,              -- 'answer' | 'rationalize'
    sample_index INTEGER NOT NULL,   -- which of the samples drawn for this question and step
    text TEXT NOT NULL,
    prompt_tokens INTEGER NOT NULL,
    completion_tokens INTEGER NOT NULL,
    passed INTEGER NOT NULL,
    score REAL NOT NULL,
    verdict TEXT NOT NULL,
    settings_id INTEGER NOT NULL REFERENCES settings(id),
    created REAL NOT NULL,
    UNIQUE (question_id, step, sample_index)
);
CREATE TABLE IF NOT EXISTS steps_done (name TEXT PRIMARY KEY, finished REAL NOT NULL);
CREATE TABLE IF NOT EXISTS pairs (
    question_id TEXT NOT NULL REFERENCES questions(id),
    source TEXT NOT NULL,            -- 'self_critique' | 'label_verified'
    chosen TEXT NOT NULL,
    rejected TEXT NOT NULL,
    kept INTEGER NOT NULL,
    reason TEXT NOT NULL,            -- why it was dropped ('' when kept)
    info TEXT NOT NULL,
    UNIQUE (question_id, source)
);
CREATE TABLE IF NOT EXISTS skipped (
    sample_id TEXT PRIMARY KEY REFERENCES samples(id), video TEXT NOT NULL, reason TEXT NOT NULL, created REAL NOT NULL);
"""


@dataclass(frozen=True)
class GenerationRow:
    question_id: str
    step: str
    sample_index: int
    text: str
    prompt_tokens: int
    completion_tokens: int
    passed: bool
    score: float
    verdict: dict


@dataclass(frozen=True)
class PairRow:
    question_id: str
    source: str
    chosen: str
    rejected: str
    kept: bool
    reason: str  # "" when kept
    info: dict


class Ledger:
    FILE = "ledger.sqlite"

    def __init__(self, run_dir: str | Path):
        self.run_dir = Path(run_dir)
        self.run_dir.mkdir(parents=True, exist_ok=True)
        self._lock = RunLock(self.run_dir / "ledger.lock")
        self.db = sqlite3.connect(self.run_dir / self.FILE, isolation_level=None)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.executescript(SCHEMA)

    @staticmethod
    def exists(run_dir: str | Path) -> bool:
        return (Path(run_dir) / Ledger.FILE).exists()

    @staticmethod
    def read_meta(run_dir: str | Path, key: str, default=None):
        """A metadata value read without taking the run lock (read-only; for evaluation and reports)."""
        uri = f"file:{Path(run_dir) / Ledger.FILE}?mode=ro"
        with sqlite3.connect(uri, uri=True) as db:
            row = db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return json.loads(row[0]) if row else default

    def close(self) -> None:
        self.db.close()
        self._lock.release()

    def __enter__(self) -> "Ledger":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _transaction(self):
        return _Transaction(self.db)

    # ------------------------------------------------------------------ metadata and inputs
    def set_meta(self, key: str, value) -> None:
        with self._transaction():
            self.db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, json.dumps(value)))

    def meta(self, key: str, default=None):
        row = self.db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return json.loads(row[0]) if row else default

    def add_samples(self, samples: Iterable[Sample]) -> None:
        with self._transaction():
            self.db.executemany("INSERT OR IGNORE INTO samples VALUES (?, ?, ?)",
                                [(s.id, s.task, s.model_dump_json()) for s in samples])

    def samples(self) -> dict[str, Sample]:
        return {row[0]: Sample.model_validate_json(row[1]) for row in self.db.execute("SELECT id, json FROM samples")}

    def add_questions(self, questions: Iterable[Question]) -> None:
        with self._transaction():
            self.db.executemany("INSERT OR IGNORE INTO questions VALUES (?, ?, ?, ?)",
                                [(q.id, q.sample_id, q.source, q.text) for q in questions])

    def questions(self) -> list[Question]:
        return [Question(*row) for row in self.db.execute("SELECT id, sample_id, source, text FROM questions ORDER BY rowid")]

    def settings_id(self, settings: dict) -> int:
        text = json.dumps(settings, sort_keys=True)
        with self._transaction():
            self.db.execute("INSERT OR IGNORE INTO settings (json) VALUES (?)", (text,))
        return self.db.execute("SELECT id FROM settings WHERE json = ?", (text,)).fetchone()[0]

    def mark_done(self, step: str) -> None:
        with self._transaction():
            self.db.execute("INSERT OR REPLACE INTO steps_done VALUES (?, ?)", (step, time.time()))

    def is_done(self, step: str) -> bool:
        return self.db.execute("SELECT 1 FROM steps_done WHERE name = ?", (step,)).fetchone() is not None

    # ------------------------------------------------------------------ generations
    def add_generations(self, rows: Iterable[GenerationRow], settings_id: int) -> int:
        """Insert a batch atomically; rows already present (same question, step, index) are kept."""
        now = time.time()
        with self._transaction():
            cursor = self.db.executemany(
                "INSERT OR IGNORE INTO generations (question_id, step, sample_index, text, prompt_tokens, "
                "completion_tokens, passed, score, verdict, settings_id, created) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                [(r.question_id, r.step, r.sample_index, r.text, r.prompt_tokens, r.completion_tokens,
                  int(r.passed), r.score, json.dumps(r.verdict), settings_id, now) for r in rows])
        return cursor.rowcount

    def done_keys(self, step: str) -> set[tuple[str, int]]:
        return set(self.db.execute("SELECT question_id, sample_index FROM generations WHERE step = ?", (step,)))

    def passed_questions(self, step: str) -> set[str]:
        return {row[0] for row in self.db.execute(
            "SELECT DISTINCT question_id FROM generations WHERE step = ? AND passed = 1", (step,))}

    def generations(self, step: str | None = None, passed: bool | None = None) -> list[dict]:
        query = ("SELECT g.question_id, q.sample_id, q.source, q.text, g.step, g.sample_index, g.text, g.passed, "
                 "g.score, g.verdict, g.prompt_tokens, g.completion_tokens FROM generations g "
                 "JOIN questions q ON q.id = g.question_id WHERE 1=1")
        args: list = []
        if step is not None:
            query += " AND g.step = ?"
            args.append(step)
        if passed is not None:
            query += " AND g.passed = ?"
            args.append(int(passed))
        keys = ("question_id", "sample_id", "source", "question", "step", "sample_index", "text", "passed", "score",
                "verdict", "prompt_tokens", "completion_tokens")
        rows = [dict(zip(keys, row)) for row in self.db.execute(query + " ORDER BY g.id", args)]
        for row in rows:
            row["passed"] = bool(row["passed"])
            row["verdict"] = json.loads(row["verdict"])
        return rows

    def texts(self, step: str) -> dict[str, str]:
        """The first sample's text per question for ``step``."""
        return dict(self.db.execute("SELECT question_id, text FROM generations WHERE step = ? AND sample_index = 0",
                                    (step,)))

    # ------------------------------------------------------------------ clips that could not be read
    def add_skipped(self, skipped: Iterable[tuple[str, str, str]]) -> None:
        """Record (sample id, video, reason) for samples whose clip could not be decoded."""
        now = time.time()
        with self._transaction():
            self.db.executemany("INSERT OR REPLACE INTO skipped VALUES (?, ?, ?, ?)",
                                [(sample_id, video, reason, now) for sample_id, video, reason in skipped])

    def skipped(self) -> dict[str, tuple[str, str]]:
        """{sample id: (video, reason)}"""
        return {row[0]: (row[1], row[2]) for row in self.db.execute(
            "SELECT sample_id, video, reason FROM skipped ORDER BY rowid")}

    def clear_skipped(self) -> None:
        """Forget every skip, so the clips are tried again (``--retry-skipped``)."""
        with self._transaction():
            self.db.execute("DELETE FROM skipped")

    def add_pairs(self, pairs: Iterable["PairRow"]) -> None:
        with self._transaction():
            self.db.executemany("INSERT OR REPLACE INTO pairs VALUES (?, ?, ?, ?, ?, ?, ?)",
                                [(p.question_id, p.source, p.chosen, p.rejected, int(p.kept), p.reason,
                                  json.dumps(p.info)) for p in pairs])

    def pairs(self, kept: bool | None = None) -> list["PairRow"]:
        query = "SELECT question_id, source, chosen, rejected, kept, reason, info FROM pairs"
        rows = self.db.execute(query + ("" if kept is None else " WHERE kept = ?") + " ORDER BY rowid",
                               () if kept is None else (int(kept),))
        return [PairRow(q, s, c, r, bool(k), reason, json.loads(info)) for q, s, c, r, k, reason, info in rows]

    def count(self, table: str) -> int:
        return self.db.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]


class _Transaction:
    """BEGIN IMMEDIATE ... COMMIT (ROLLBACK on error) for an autocommit connection."""

    def __init__(self, db: sqlite3.Connection):
        self.db = db

    def __enter__(self):
        self.db.execute("BEGIN IMMEDIATE")

    def __exit__(self, exc_type, *exc):
        self.db.execute("ROLLBACK" if exc_type else "COMMIT")
