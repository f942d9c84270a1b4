import json

from datasets import load_dataset
from typer.testing import CliRunner

from videostar.cli import app

runner = CliRunner()


def test_verify_command_adds_verdicts_and_keeps_fields(tmp_path):
    src = tmp_path / "answers.jsonl"
    lines = [
        {"id": "a", "labels": [{"type": "class", "value": "cartwheel"}], "answer": "A cartwheel."},
        {"id": "b", "labels": [{"type": "timestamp", "value": 3, "unit": "seconds"}], "answer": "at 0.3",
         "duration": 10},
        {"id": "c", "labels": [{"type": "score", "value": 72}], "answer": "about 90", "task": "dive scoring"},
        {"id": "d", "labels": [{"type": "bbox", "value": [0.1, 0.2, 0.5, 0.6]}], "answer": "[64, 96, 320, 288]",
         "frame_size": [640, 480]},
    ]
    src.write_text("\n".join(json.dumps(line) for line in lines) + "\n")
    out = tmp_path / "out.jsonl"
    result = runner.invoke(app, ["verify", str(src), str(out)])
    assert result.exit_code == 0, result.output
    assert "3 of 4 answers passed" in result.output
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["passed"] for r in rows] == [True, True, False, True]
    assert rows[0]["id"] == "a" and rows[2]["task"] == "dive scoring"
    assert rows[2]["label_verdicts"][0]["metric"] == "relative_error" and "90" in rows[2]["label_verdicts"][0]["reason"]
    assert load_dataset("json", data_files=str(out), split="train").num_rows == 4
    config = tmp_path / "v.yaml"
    config.write_text("per_task:\n  dive scoring:\n    score_rel_tol: 0.3\n")
    runner.invoke(app, ["verify", str(src), str(out), "--config", str(config)])
    assert all(json.loads(line)["passed"] for line in out.read_text().splitlines())


def test_verify_command_reports_bad_lines(tmp_path):
    src = tmp_path / "answers.jsonl"
    src.write_text('{"labels": [{"type": "bbox", "value": [0.5, 0, 0.1, 1]}], "answer": "x"}\n{"answer": "y"}\n')
    result = runner.invoke(app, ["verify", str(src), str(tmp_path / "out.jsonl")])
    assert result.exit_code == 1
    text = result.output.replace("\n", "")
    assert "answers.jsonl:1: labels[0].value: x2 must be > x1" in text and "answers.jsonl:2: labels" in text
    assert not (tmp_path / "out.jsonl").exists()
