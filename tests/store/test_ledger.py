import subprocess
import sys

import pytest

from videostar.data.labels import parse_label
from videostar.data.manifest import Sample
from videostar.star.questions import Question
from videostar.store.ledger import GenerationRow, Ledger, RunLockedError


def _row(qid, index, passed=True, text="t"):
    return GenerationRow(qid, "answer", index, text, 3, 4, passed, 1.0 if passed else 0.0, {"passed": passed})


def _fill(ledger):
    ledger.add_samples([Sample(id="s", video="/v.mp4", task="t", labels=[parse_label({"type": "class", "value": "x"})])])
    ledger.add_questions([Question("s/t0", "s", "template", "what?"), Question("s/t1", "s", "template", "why?")])


def test_second_process_on_the_same_run_dir_refuses(tmp_path):
    with Ledger(tmp_path):
        with pytest.raises(RunLockedError, match="in use by another videostar process"):
            Ledger(tmp_path)
        code = f"from videostar.store.ledger import Ledger; Ledger({str(tmp_path)!r})"
        result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
        assert result.returncode != 0 and "RunLockedError" in result.stderr
    Ledger(tmp_path).close()  # free again once the holder closed


def test_generations_are_unique_and_batches_atomic(tmp_path):
    with Ledger(tmp_path) as ledger:
        _fill(ledger)
        settings = ledger.settings_id({"model": "m"})
        assert ledger.settings_id({"model": "m"}) == settings
        assert ledger.add_generations([_row("s/t0", 0), _row("s/t1", 0, passed=False)], settings) == 2
        assert ledger.add_generations([_row("s/t0", 0, text="redo")], settings) == 0  # a redo never duplicates
        with pytest.raises(Exception):
            ledger.add_generations([_row("s/t0", 1), _row("s/missing", 0), None], settings)  # fails midway
        assert ledger.count("generations") == 2  # nothing of the failed batch was kept
        assert ledger.done_keys("answer") == {("s/t0", 0), ("s/t1", 0)}
        assert ledger.passed_questions("answer") == {"s/t0"}
        rows = ledger.generations(passed=True)
        assert rows[0]["text"] == "t" and rows[0]["question"] == "what?" and rows[0]["verdict"] == {"passed": True}
    with Ledger(tmp_path) as reopened:
        assert reopened.count("generations") == 2 and reopened.samples()["s"].labels[0].value == "x"
