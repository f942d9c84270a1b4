"""The rollout ledger: real SQLite; one row per (step, position), resumes discard lost steps."""

import sqlite3

import pytest

from videostar.rl.ledger import Rollout, RolloutLedger


def _rollouts(step: int, n: int = 4, passed_every: int = 2) -> list[Rollout]:
    return [Rollout(step, k, f"s{k // 2}", "task", "prompt", f"answer {step}.{k}", 5 + k, float(k % passed_every == 0),
                    float(k % passed_every == 0), 0.0, k % passed_every == 0,
                    [{"type": "class", "name": None, "score": float(k % passed_every == 0), "passed": True,
                      "reason": ""}]) for k in range(n)]


def test_records_steps_and_summarises_rewards_per_label_type(tmp_path):
    with RolloutLedger(tmp_path) as ledger:
        ledger.record(_rollouts(1))
        ledger.record(_rollouts(2, passed_every=1))
        summary = ledger.step_rewards()
        assert [s["step"] for s in summary] == [1, 2]
        assert summary[0]["reward"] == 0.5 and summary[1]["reward"] == 1.0
        assert summary[0]["label_types"] == {"class": 0.5} and summary[0]["rollouts"] == 4
        assert summary[0]["completion_tokens"] == pytest.approx(6.5)
        assert [e["completion"] for e in ledger.examples(2, limit=2)] == ["answer 2.0", "answer 2.1"]


def test_a_position_is_recorded_once_and_a_failed_step_leaves_nothing(tmp_path):
    with RolloutLedger(tmp_path) as ledger:
        ledger.record(_rollouts(1))
        with pytest.raises(sqlite3.IntegrityError):
            ledger.record(_rollouts(2) + _rollouts(1)[:1])  # one duplicate: the whole step is refused
        assert ledger.count() == 4 and ledger.last_step() == 1


def test_discard_after_drops_the_steps_a_resume_will_redo(tmp_path):
    with RolloutLedger(tmp_path) as ledger:
        for step in (1, 2, 3):
            ledger.record(_rollouts(step))
        assert ledger.discard_after(2) == 4
        ledger.record(_rollouts(3))  # the redone step fits again
    with RolloutLedger(tmp_path) as reopened:
        assert reopened.count() == 12 and reopened.last_step() == 3
