"""The Ray Data runner: the same rows and yields as the in-process runner under greedy decoding,
shards merged idempotently, and a driver killed mid-run resumed without redoing or losing work."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time

import numpy as np
import pytest
from helpers import local_openai_server, mean_brightness_reply

from videostar.config import GenerateConfig
from videostar.engine.ray_runner import merge_shard, write_shard
from videostar.star.generate import Generation, yield_table
from videostar.store.ledger import GenerationRow, Ledger
from videostar.store.records import Question
from videostar.toyworld.scenes import TASKS
from videostar.verify.verifier import Verifier


def _config(tmp_path, manifest, model, name: str, **extra) -> GenerateConfig:
    return GenerateConfig.model_validate({
        "model": {"path": str(model), "device": "cpu"}, "manifest": str(manifest), "run_dir": str(tmp_path / name),
        "max_samples": 10, "batch_size": 3, "sampling": {"temperature": 0.0, "max_new_tokens": 6},
        "ray": {"num_cpus": 2}, **extra})


def _rows(ledger: Ledger) -> set[tuple]:
    return {(g["question_id"], g["step"], g["sample_index"], g["text"], g["passed"]) for g in ledger.generations()}


def test_merging_a_shard_twice_adds_nothing(tmp_path, toy_manifest):
    from videostar.data.manifest import load_manifest

    sample = load_manifest(toy_manifest)[0]
    row = GenerationRow(f"{sample.id}/t0", "answer", 0, "left", 3, 1, True, 1.0, {"labels": []})
    with Ledger(tmp_path / "run") as ledger:
        ledger.add_samples([sample])
        ledger.add_questions([Question(f"{sample.id}/t0", sample.id, "template", "Which way?")])
        settings = ledger.settings_id({"s": 1})
        for _ in range(2):  # a driver killed after merging, before removing the shard, merges it again
            shard = write_shard(tmp_path / "shards", [row], [("other", "gone.mp4", "missing")], key="batch-1")
            merge_shard(ledger, shard, settings)
            assert not shard.exists()
        assert ledger.count("generations") == 1 and ledger.done_keys("answer") == {(f"{sample.id}/t0", 0)}
        assert ledger.skipped() == {"other": ("gone.mp4", "missing")}


@pytest.mark.slow
def test_ray_runner_matches_in_process_runner(tmp_path, toy_manifest, tiny_model, tiny_backend):
    """On Ray the driver holds no model (None): the model actors load their own."""
    tables, rows = {}, {}
    for engine in ("local", "ray"):
        config = _config(tmp_path, toy_manifest, tiny_model, engine, engine=engine)
        with Ledger(config.run_dir) as ledger:
            tables[engine] = Generation(config, tiny_backend if engine == "local" else None, Verifier(), ledger).run()
            rows[engine] = _rows(ledger)
            busy = ledger.meta("model_busy")
        assert set(busy) == {"answer", "rationalize"} and 0 < busy["answer"]["share"] <= 1
    assert rows["ray"] == rows["local"] and len({r[:3] for r in rows["ray"]}) == len(rows["ray"])
    assert sum(1 for r in rows["local"] if r[1] == "answer") == 10
    assert tables["ray"] == tables["local"]
    assert not list((tmp_path / "ray" / "shards").glob("*/*.sqlite"))  # every shard merged


def _questions_or_answer(text: str, frames: list) -> str:
    """A served model that writes questions naming what it sees when asked for questions, else answers."""
    if "Write one question per line" in text:
        shade = "bright" if float(np.mean([f.mean() for f in frames])) > 127 else "dark"
        return f"1. Which color is this {shade} clip?\n2. What color fills the whole frame?"
    return mean_brightness_reply(text, frames)


@pytest.mark.slow
def test_model_written_questions_on_ray_match_in_process(tmp_path, two_clips):
    """The ``ask`` step through Ray's model actors: the OpenAI-compatible backend against a local HTTP
    server on 127.0.0.1 (standing in for a served model) writes the same questions, answered the same."""
    from videostar.models import load_backend

    manifest, _ = two_clips
    questions, rows = {}, {}
    with local_openai_server(_questions_or_answer) as (url, _):
        for engine in ("local", "ray"):
            config = GenerateConfig.model_validate({
                "model": {"backend": "openai", "path": "served", "base_url": url}, "manifest": str(manifest),
                "run_dir": str(tmp_path / engine), "splits": None, "batch_size": 1, "engine": engine,
                "questions": {"model_questions": 2}, "ray": {"num_cpus": 2}})
            with Ledger(config.run_dir) as ledger:
                Generation(config, load_backend(config.model) if engine == "local" else None, Verifier(), ledger).run()
                questions[engine] = sorted((q.sample_id, q.source, q.text) for q in ledger.questions())
                rows[engine] = _rows(ledger)
    assert questions["ray"] == questions["local"]
    assert [q for q in questions["ray"] if q[1] == "model"] == [
        ("first", "model", "What color fills the whole frame?"), ("first", "model", "Which color is this dark clip?"),
        ("second", "model", "What color fills the whole frame?"), ("second", "model", "Which color is this bright clip?")]
    assert rows["ray"] == rows["local"] and sum(r[1] == "answer" for r in rows["ray"]) == len(questions["ray"])


@pytest.mark.slow
def test_driver_killed_mid_run_resumes_without_redoing_or_losing_work(tmp_path, toy_manifest, tiny_model):
    run = tmp_path / "run"
    command = [sys.executable, "-m", "videostar.cli", "generate", "--engine", "ray", "--model", str(tiny_model),
               "--manifest", str(toy_manifest), "--run-dir", str(run), "--batch-size", "1", "--max-new-tokens", "6",
               "--temperature", "0", "--steps", "answer", "ray.num_cpus=2", "model.device=cpu"]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    driver = subprocess.Popen(command, env=env, start_new_session=True, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    try:
        finished_before_kill = _wait_for_rows(run, at_least=3, timeout_s=240)
    finally:
        os.killpg(driver.pid, signal.SIGKILL)  # the driver and the local Ray it started
        driver.wait()
    total = 4 * len(TASKS)  # one question per sample of the toy manifest (4 videos x every task)
    assert 3 <= len(finished_before_kill) < total, "the driver must be killed mid-run"
    resumed = subprocess.run(command + ["--resume"], env=env, capture_output=True, text=True, timeout=400,
                             start_new_session=True)
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    with Ledger(run) as ledger:
        questions = sorted((q.id, 0) for q in ledger.questions())
    after = _rows_created(run)
    assert len(questions) == total and sorted(after) == questions  # no gaps (unique keys: no duplicates)
    assert {key: after[key] for key in finished_before_kill} == finished_before_kill  # nothing redone


def _wait_for_rows(run, at_least: int, timeout_s: float) -> dict:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if (run / Ledger.FILE).exists():
            try:
                got = _rows_created(run)
            except sqlite3.OperationalError:  # the schema is not written yet
                got = {}
            if len(got) >= at_least:
                return got
        time.sleep(0.1)
    raise AssertionError(f"no {at_least} rows in {run} after {timeout_s} s")


def _rows_created(run) -> dict:
    """{(question id, draw): when its row was written} of the answer step, read without the lock."""
    with sqlite3.connect(f"file:{run / Ledger.FILE}?mode=ro", uri=True) as db:
        return {(q, i): c for q, i, c in db.execute(
            "SELECT question_id, sample_index, created FROM generations WHERE step = 'answer'")}
