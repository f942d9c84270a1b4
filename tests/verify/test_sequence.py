"""The order-aware sequence rule: best monotone alignment of answer steps to gold steps."""

import numpy as np
import pytest

from videostar.data.labels import parse_label
from videostar.labels.sequence import monotone_alignment, unordered_alignment
from videostar.verify.verifier import Verifier, VerifierConfig

DIVE = ["the diver takes off", "the diver somersaults", "the diver enters the water"]
TOY = ["the red circle appears", "the blue square appears", "the green circle appears"]
STAR = ["Taking a cup", "Opening a door", "Sitting on a chair"]


def check(verifier, steps, answer):
    verdict = verifier.verify([parse_label({"type": "sequence", "value": steps})], answer).labels[0]
    return verdict.passed, verdict


def test_alignment_dynamic_programme_on_known_similarities():
    sim = np.array([[0.9, 0.1, 0.2], [0.2, 0.8, 0.1], [0.1, 0.3, 0.7]])
    assert monotone_alignment(sim, 0.25) == (pytest.approx(2.4), [(0, 0), (1, 1), (2, 2)])
    reversed_ = sim[:, ::-1]  # the answer lists the same steps last to first
    total, pairs = monotone_alignment(reversed_, 0.25)
    assert pairs == [(0, 2)] and total == pytest.approx(0.9)  # one step is all order allows
    assert unordered_alignment(reversed_, 0.25) == pytest.approx(2.4)
    # pairs under the threshold are never aligned, and extra answer steps are skipped
    total, pairs = monotone_alignment(np.array([[0.2, 0.9, 0.1, 0.1], [0.1, 0.1, 0.3, 0.8]]), 0.25)
    assert pairs == [(0, 1), (1, 3)] and total == pytest.approx(1.7)


@pytest.mark.parametrize("steps, answer", [
    (DIVE, "First the diver takes off, then somersaults, finally enters the water."),
    (DIVE, "First the diver jumps off the board, then he flips in the air, finally he splashes into the pool."),
    (STAR, "The person grabs a cup. Next they open the door. Finally they sit down on a chair."),
    (TOY, "First the red circle appears, then the blue square appears, then the green circle appears."),
    (DIVE, "Final answer: 1. takes off 2. somersaults 3. enters the water"),
])
def test_steps_in_order_pass_paraphrased_or_not(verifier, steps, answer):
    passed, verdict = check(verifier, steps, answer)
    assert passed, verdict
    assert verdict.value >= 0.95 and verdict.score > 0.5


@pytest.mark.parametrize("steps, answer", [
    (DIVE, "The diver enters the water. Then somersaults. Then takes off."),                  # reversed
    (DIVE, "First somersaults, then takes off, then enters the water."),                     # shuffled
    (STAR, "First the person sits on a chair, then opens a door, then takes a cup."),       # reversed paraphrase
    (TOY, "First the green circle appears, then the blue square appears, then the red circle appears."),
    (TOY, "First the blue square appears, then the red circle appears, then the green circle appears."),
])
def test_reversed_or_shuffled_distinguishable_steps_fail(verifier, steps, answer):
    passed, verdict = check(verifier, steps, answer)
    assert not passed and verdict.reason
    in_order = check(verifier, steps, "First " + ", then ".join(steps) + ".")[1]
    assert verdict.score < in_order.score


def test_missing_step_fails_and_says_so(verifier):
    passed, verdict = check(verifier, DIVE, "First the diver takes off, then enters the water.")
    assert not passed and "1 of 3 gold steps" in verdict.reason


def test_thresholds_come_from_the_config(verifier):
    strict = Verifier(VerifierConfig(sequence_cosine=0.99), embedder=verifier.embedder)
    passed, _ = check(strict, DIVE, "First the diver jumps. Then spins. Then lands.")
    assert not passed
    lax = Verifier(VerifierConfig(sequence_order=0.0), embedder=verifier.embedder)
    passed, _ = check(lax, TOY, "First the green circle appears, then the blue square appears, "
                                "then the red circle appears.")
    assert passed  # order no longer checked: every step aligned somewhere
