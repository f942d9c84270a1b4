"""Failures isolated, never silent: an unreadable clip is skipped with its reason and the run goes
on; a backend that stays down stops the run cleanly and --resume finishes it."""

from __future__ import annotations

import json
import sqlite3

import pytest
from helpers import local_openai_server
from typer.testing import CliRunner

from videostar.cli import app
from videostar.toyworld.dataset import make_toy_dataset

runner = CliRunner()


def _corrupt_dataset(tmp_path):
    manifest = make_toy_dataset(tmp_path / "toy", n=3, seed=3, tasks=["motion direction"])
    (tmp_path / "toy" / "videos" / "toy_00001.mp4").write_bytes(b"\x00" * 200)  # a corrupt video among good ones
    return manifest


def _skipped(run):
    with sqlite3.connect(run / "ledger.sqlite") as db:
        return db.execute("SELECT sample_id, video, reason, created FROM skipped").fetchall()


def _answered(run):
    with sqlite3.connect(run / "ledger.sqlite") as db:
        return {row[0] for row in db.execute(
            "SELECT q.sample_id FROM generations g JOIN questions q ON q.id = g.question_id")}


def test_generate_skips_a_corrupt_video_records_why_and_resume_leaves_it(tmp_path, tiny_model):
    manifest = _corrupt_dataset(tmp_path)
    run = tmp_path / "run"
    args = ["generate", "--model", str(tiny_model), "--manifest", str(manifest), "--run-dir", str(run),
            "--max-new-tokens", "4", "model.device=cpu"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    skipped = _skipped(run)
    assert [(s[0], s[1].endswith("toy_00001.mp4")) for s in skipped] == [("toy_00001_motion_direction", True)]
    assert skipped[0][2].startswith("cannot open: ") and "Invalid data" in skipped[0][2]  # the decoder's reason
    assert "skipped: 1 unreadable videos" in result.output
    assert f"toy_00001.mp4: {skipped[0][2]}" in result.output.replace("\n", "")  # the clip and its reason
    assert "toy_00001.mp4" in (run / "skipped.txt").read_text() and skipped[0][2] in (run / "skipped.txt").read_text()
    assert _answered(run) == {"toy_00000_motion_direction", "toy_00002_motion_direction"}
    table = json.loads((run / "yield.json").read_text())
    assert table["motion direction"]["skipped"] == 1 and table["motion direction"]["questions"] == 3

    again = runner.invoke(app, [*args, "--resume"])
    assert again.exit_code == 0, again.output
    assert _skipped(run) == skipped  # not tried again: the same row, the same time
    assert "skipped: 1 unreadable videos" in again.output
    retried = runner.invoke(app, [*args, "--resume", "--retry-skipped"])
    assert retried.exit_code == 0, retried.output
    assert _skipped(run)[0][3] > skipped[0][3]  # asked to, it tried again (and failed again)


@pytest.mark.slow
def test_star_finishes_with_a_corrupt_video_and_says_so(tmp_path, tiny_model):
    manifest = _corrupt_dataset(tmp_path)
    result = runner.invoke(app, ["star", "--model", str(tiny_model), "--manifest", str(manifest), "--run-dir",
                                 str(tmp_path / "run"), "--cycles", "1", "--max-new-tokens", "4", "--max-steps", "1",
                                 "generate.model.device=cpu", "train.lora=null", "train.batch_size=2"])
    assert result.exit_code == 0, result.output
    assert "skipped: 1 unreadable videos" in result.output
    assert [s[0] for s in _skipped(tmp_path / "run" / "cycle_0" / "generate")] == ["toy_00001_motion_direction"]


def test_backend_down_stops_cleanly_keeps_finished_batches_and_resume_finishes(tmp_path):
    manifest = make_toy_dataset(tmp_path / "toy", n=3, seed=3, tasks=["motion direction", "object counting"])
    run = tmp_path / "run"
    state = {"served": 0}

    def flaky(text, frames):  # serves two batches of 2, then refuses every request (HTTP 400, not retried)
        state["served"] += 1
        if state["served"] > 4:
            raise ConnectionAbortedError
        return "Final answer: left"

    with local_openai_server(flaky) as (url, _):
        args = ["generate", "--manifest", str(manifest), "--run-dir", str(run), "--batch-size", "2",
                "--steps", "answer", "model.backend=openai", "model.path=served", f"model.base_url={url}",
                "model.concurrency=1"]
        stopped = runner.invoke(app, args)
        assert stopped.exit_code == 1
        assert "HTTP 400" in stopped.output and url in stopped.output and "Traceback" not in stopped.output
        with sqlite3.connect(run / "ledger.sqlite") as db:
            assert db.execute("SELECT COUNT(*) FROM generations").fetchone()[0] == 4  # finished batches kept
        state["served"] = -100
        resumed = runner.invoke(app, [*args, "--resume"])
    assert resumed.exit_code == 0, resumed.output
    with sqlite3.connect(run / "ledger.sqlite") as db:
        assert db.execute("SELECT COUNT(*), COUNT(DISTINCT question_id) FROM generations").fetchone() == (6, 6)
