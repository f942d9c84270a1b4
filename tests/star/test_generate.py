import json
import os
import signal
import sqlite3
import subprocess
import sys
import time

import pytest
from datasets import load_dataset
from helpers import ScriptedBackend
from typer.testing import CliRunner

from videostar.cli import app
from videostar.config import ConfigError, GenerateConfig, load_config
from videostar.data.manifest import load_manifest
from videostar.engine.engine import ResumeError
from videostar.star.generate import Generation
from videostar.star.trainset import build_examples
from videostar.store.export import export
from videostar.store.ledger import Ledger
from videostar.toyworld.dataset import make_toy_dataset
from videostar.toyworld.scenes import TASKS
from videostar.verify.verifier import Verifier

runner = CliRunner()


def _config(tmp_path, manifest, **extra):
    return GenerateConfig.model_validate({"model": {"path": "unused"}, "manifest": str(manifest),
                                          "run_dir": str(tmp_path / "run"), "batch_size": 16, **extra})


def test_yield_bookkeeping_with_scripted_backend(tmp_path, toy_manifest):
    config = _config(tmp_path, toy_manifest)
    backend = ScriptedBackend()
    with Ledger(config.run_dir) as ledger:
        table = Generation(config, backend, Verifier(), ledger).run()
        samples = load_manifest(toy_manifest)
        lefts = sum(1 for s in samples if s.task == "motion direction" and s.labels[0].value == "left")
        assert table["motion direction"]["kept_answer"] == lefts
        for task, row in table.items():
            assert row["questions"] == 4
            # the gold answer's own rendering passes every verifier: rationalization keeps the rest
            assert row["kept_answer"] + row["kept_rationalization"] == 4 and row["failed"] == 0, task
        asked = 4 * len(TASKS)  # 4 videos, one sample per toy task
        assert ledger.count("generations") == asked + (asked - lefts)
        assert max(backend.calls) <= 16 and sum(backend.calls) == asked + asked - lefts
        examples = build_examples(ledger)
    cot = [e for e in examples if e.form == "cot" and e.source == "rationalize"]
    assert cot and all("The correct answer is" not in e.prompt for e in cot)  # STaR: no hint in training
    mc = [e for e in examples if e.form == "mc"]
    for e in mc:
        assert len(set(e.meta["options"])) == 4 and e.response.startswith(f"({e.meta['answer']})")
        assert e.meta["options"]["ABCD".index(e.meta["answer"])] in e.response
    # resuming with other settings is refused
    with Ledger(config.run_dir) as ledger, pytest.raises(ResumeError, match="frames"):
        Generation(config.model_copy(update={"frames": config.frames.model_copy(update={"num_frames": 4})}),
                   backend, Verifier(), ledger).run()


def test_config_errors_name_the_file_and_field(tmp_path):
    bad = tmp_path / "c.yaml"
    bad.write_text("model: {path: m}\nmanifest: m.jsonl\nrun_dir: r\nsampling: {temperature: -1}\nbogus: 1\n")
    with pytest.raises(ConfigError) as err:
        load_config(GenerateConfig, bad)
    assert f"{bad}: sampling.temperature" in str(err.value) and f"{bad}: bogus" in str(err.value)
    config = load_config(GenerateConfig, bad.with_name("none.yaml") if False else None,
                         {"model.path": "m", "manifest": "x.jsonl", "run_dir": "r", "sampling.max_new_tokens": 5})
    assert config.sampling.max_new_tokens == 5 and config.sampling.temperature == 0.2


def _count(db, query):
    for _ in range(50):
        try:
            with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=1) as conn:
                return conn.execute(query).fetchone()[0]
        except sqlite3.OperationalError:
            time.sleep(0.1)
    raise AssertionError("ledger unreadable")


@pytest.mark.slow
def test_generate_50_toy_videos_killed_midway_resumes_without_loss_or_duplicates(tmp_path, tiny_model):
    manifest = make_toy_dataset(tmp_path / "toy", n=50, seed=5)
    run = tmp_path / "run"
    args = ["generate", "--model", str(tiny_model), "--manifest", str(manifest), "--run-dir", str(run),
            "--max-new-tokens", "8", "--batch-size", "8", "--frames", "8"]
    process = subprocess.Popen([sys.executable, "-m", "videostar.cli", *args],
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
    db = run / "ledger.sqlite"
    deadline = time.time() + 120
    while time.time() < deadline and (not db.exists() or _count(db, "SELECT COUNT(*) FROM generations") < 40):
        assert process.poll() is None, process.stderr.read().decode()[-2000:]
        time.sleep(0.2)
    # while it runs, a second process on the same run directory refuses
    second = runner.invoke(app, [*args, "--resume"])
    assert second.exit_code == 1 and "in use by another videostar process" in second.output
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    with sqlite3.connect(db) as conn:
        before = dict(((q, s, i), t) for q, s, i, t in conn.execute(
            "SELECT question_id, step, sample_index, text FROM generations"))
    asked = 50 * len(TASKS)  # 50 videos, one sample per toy task
    assert 40 <= len(before) < asked
    refused = runner.invoke(app, args)  # an existing run needs --resume
    assert refused.exit_code == 1 and "--resume" in refused.output
    resumed = runner.invoke(app, [*args, "--resume"])
    assert resumed.exit_code == 0, resumed.output
    with sqlite3.connect(db) as conn:
        after = dict(((q, s, i), t) for q, s, i, t in conn.execute(
            "SELECT question_id, step, sample_index, text FROM generations"))
        answers = conn.execute("SELECT COUNT(*), COUNT(DISTINCT question_id) FROM generations WHERE step='answer'").fetchone()
        questions = conn.execute("SELECT COUNT(*) FROM questions").fetchone()[0]
        failed = conn.execute("SELECT COUNT(*) FROM questions q WHERE NOT EXISTS (SELECT 1 FROM generations g "
                              "WHERE g.question_id = q.id AND g.step = 'answer' AND g.passed = 1)").fetchone()[0]
        rationales = conn.execute("SELECT COUNT(*) FROM generations WHERE step='rationalize'").fetchone()[0]
    assert questions == asked and answers == (asked, asked)  # every question answered exactly once
    assert rationales == failed  # every failed question rationalized exactly once
    assert all(after[key] == text for key, text in before.items())  # nothing finished was redone or lost
    table = json.loads((run / "yield.json").read_text())
    assert sum(row["questions"] for row in table.values()) == asked
    for fmt, name in (("trl", "t.jsonl"), ("llamafactory", "l.jsonl"), ("llava", "v.json")):
        result = runner.invoke(app, ["export", str(run), str(tmp_path / name), "--format", fmt])
        assert result.exit_code == 0, result.output
        if (tmp_path / name).stat().st_size:
            load_dataset("json", data_files=str(tmp_path / name), split="train")


def test_plain_self_training_keeps_every_first_answer_verified_or_not(tmp_path, toy_manifest):
    config = _config(tmp_path, toy_manifest, steps=["answer"], samples_per_question=2)
    with Ledger(config.run_dir) as ledger:
        Generation(config, ScriptedBackend(), Verifier(), ledger).run()
        verified = build_examples(ledger, ("cot",))
        everything = build_examples(ledger, ("cot",), verified_only=False)
        questions = {q.id for q in ledger.questions()}
    lefts = {e.id for e in verified}
    assert lefts and all(e.sample_id.endswith("motion_direction") for e in verified)  # only 'left' passes
    assert {e.id.rsplit("/", 1)[0] for e in everything} == questions  # one row per question, failed ones too
    assert len(everything) == len(questions) and lefts < {e.id for e in everything}
    assert all(e.response == "It goes somewhere.\nFinal answer: left" and e.source == "answer" for e in everything)
