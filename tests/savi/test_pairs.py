from videostar.savi.pairs import (
    critique_found_nothing,
    degenerate,
    drop_counts,
    label_verified_pairs,
    self_critique_pair,
)


def test_each_drop_reason():
    a0 = "The red square is on the left and moves down."
    fix = "The red square is on the right and moves up."
    cases = {
        "": self_critique_pair("q", a0, "It is on the right, not the left; it moves up.", fix, False),
        "revision_empty": self_critique_pair("q", a0, "Wrong side.", "  ", False),
        "revision_truncated": self_critique_pair("q", a0, "Wrong side.", fix, True),
        "revision_repetitive": self_critique_pair("q", a0, "Wrong side.", "the square the square the square " * 5, False),
        "critique_found_nothing": self_critique_pair("q", a0, "No errors. The answer is correct.", fix, False),
        "unchanged": self_critique_pair("q", a0, "Wrong side.", a0.upper() + "!", False),
        "trivial_change": self_critique_pair("q", a0, "Wrong side.", a0.replace("down.", "downward."), False),
    }
    for reason, pair in cases.items():
        assert pair.reason == reason and pair.kept is (reason == "")
    kept = cases[""]
    assert kept.chosen == fix and kept.rejected == a0 and kept.info["similarity"] < 0.9
    counts = drop_counts(list(cases.values()))
    assert counts["self_critique"]["kept"] == 1 and sum(counts["self_critique"]["dropped"].values()) == 6


def test_critique_and_degeneracy_rules():
    assert critique_found_nothing("") and critique_found_nothing("No errors.")
    assert critique_found_nothing("The answer looks correct.")
    assert not critique_found_nothing("The answer mentions a dog that is not in the video.")
    long_list = "No errors in the colors, but " + "the order of events is wrong and the count is off " * 3
    assert not critique_found_nothing(long_list)
    assert degenerate("ok answer", truncated=False) is None


def test_label_verified_pairs_need_a_pass_and_a_failure():
    def row(qid, text, passed):
        verdict = {"labels": [{"passed": passed, "reason": "" if passed else "'left' not found"}]}
        return {"question_id": qid, "text": text, "passed": passed, "verdict": verdict}

    rows = [row("a", "left", True), row("a", "up", False), row("a", "left!", True),
            row("b", "up", False), row("b", "down", False),
            row("c", "left", True),
            row("d", "left", True), row("d", "Left.", False)]
    pairs = {p.question_id: p for p in label_verified_pairs(rows)}
    assert pairs["a"].kept and (pairs["a"].chosen, pairs["a"].rejected) == ("left", "up")
    assert pairs["a"].info == {"answers": 3, "passed": 2, "rejected_reason": ["'left' not found"]}
    assert pairs["b"].reason == "all_failed" and pairs["c"].reason == "all_passed" and pairs["d"].reason == "identical"
