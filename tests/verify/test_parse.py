import pytest

from videostar.verify import parse


def values(text):
    return [n.value for n in parse.numbers(text) if not n.denominator]


def test_numbers_digits_words_percent_and_denominators():
    assert values("It scored 72.5, then 80") == [72.5, 80]
    assert values("seventy-two points") == [72]
    assert values("six point five out of ten") == [6.5]
    assert values("two hundred and five") == [205]
    assert values("rated 7/10") == [7]
    assert values(".5 and -3") == [0.5, -3]
    (n,) = parse.numbers("at 45% of the video")
    assert n.value == 45 and n.percent and not n.seconds
    assert parse.numbers("45 percent in")[0].percent
    assert values("version1.2.3 x2") == []  # digits glued to words are not numbers


@pytest.mark.parametrize("text, seconds", [
    ("after 3.5 seconds", 3.5),
    ("after 3.5 s", 3.5),
    ("after 3.5s.", 3.5),
    ("at the 3 second mark", 3),
    ("at the 3-second mark", 3),
    ("at three seconds", 3),
    ("at 0:07", 7),              # m:ss
    ("at 1:05", 65),
    ("at 01:05", 65),            # mm:ss
    ("at 12:30.5", 750.5),
    ("at 1:02:03", 3723),        # h:mm:ss
    ("1.5 minutes in", 90),
    ("1 min 30 s in", 90),
    ("one minute and five seconds in", 65),
])
def test_times_are_read_as_seconds(text, seconds):
    (n,) = parse.numbers(text)
    assert n.seconds and n.value == pytest.approx(seconds)


@pytest.mark.parametrize("text", ["ratio 3:2:1 is not a time", "at 1:75", "10:00am", "see 3 sections"])
def test_things_that_are_not_times(text):
    assert not any(n.seconds for n in parse.numbers(text))


def test_out_of_and_slash_record_the_denominator():
    (a, b) = parse.numbers("6.5 out of 10")
    assert (a.value, a.out_of, b.denominator) == (6.5, 10, True)
    assert parse.numbers("7/10")[0].out_of == 10
    assert parse.numbers("7 of 10")[0].out_of is None


def pairs(text):
    return [(a.value, b.value) for a, b in parse.ranges(text)]


@pytest.mark.parametrize("text, expected", [
    ("from 0.2 to 0.45", [(0.2, 0.45)]),
    ("between 3.1s and 7s", [(3.1, 7)]),
    ("[0.2, 0.45]", [(0.2, 0.45)]),
    ("0.2-0.45", [(0.2, 0.45)]),
    ("0.2 – 0.45", [(0.2, 0.45)]),                # en dash
    ("1.2s—4s", [(1.2, 4)]),                       # em dash, units on both ends
    ("0:01–0:04", [(1, 4)]),                       # clock times with an en dash
    ("from 20% to 50%", [(20, 50)]),
    # start and end in separate phrases and sentences
    ("The action kicks off near 1.2 s. After a few turns, it is over by 4 s.", [(1.2, 4)]),
    ("It starts at 0.3 of the clip and ends at 0.6.", [(0.3, 0.6)]),
    ("It begins around 2 seconds in; the man finishes at 5 seconds.", [(2, 5)]),
    # negated ranges are not answers
    ("It is not between 0.2 and 0.5.", []),
    ("It isn't from 0.2 to 0.5, but from 0.6 to 0.9", [(0.6, 0.9)]),
    ("at 0.2 the man waves, at 0.45 he sits", []),
])
def test_ranges_in_every_written_form(text, expected):
    assert pairs(text) == expected


def test_range_unit_on_one_end_covers_both():
    ((a, b),) = parse.ranges("from 3.1 to 7 seconds")
    assert a.seconds and b.seconds


@pytest.mark.parametrize("text, expected", [
    ("box: [0.1, 0.2, 0.5, 0.6]", (0.1, 0.2, 0.5, 0.6)),
    ("at (0.1, 0.2, 0.5, 0.6)", (0.1, 0.2, 0.5, 0.6)),
    ("at 0.1 0.2 0.5 0.6 in the frame", (0.1, 0.2, 0.5, 0.6)),
    ("corners (0.1, 0.2), (0.5, 0.6)", (0.1, 0.2, 0.5, 0.6)),
    ("x1=0.1, y1=0.2, x2=0.5, y2=0.6", (0.1, 0.2, 0.5, 0.6)),
    ("xmin: 0.1 ymin: 0.2 xmax: 0.5 ymax: 0.6", (0.1, 0.2, 0.5, 0.6)),
    ("left=10, top=20, right=50, bottom=60", (10, 20, 50, 60)),
    ("(x1, y1, x2, y2) = (0.1, 0.2, 0.5, 0.6)", (0.1, 0.2, 0.5, 0.6)),
])
def test_boxes_in_every_written_form(text, expected):
    assert parse.boxes(text)[-1] == expected


def test_incomplete_boxes_are_not_boxes():
    assert parse.boxes("[0.1, 0.2, 0.5] and [0.3]") == []
    assert parse.boxes("x1=0.1, y1=0.2, x2=0.5") == []


def test_focus_regions_final_answer_wins():
    assert parse.focus_regions("Reasoning 0.2. Final answer: 0.7") == ["0.7", "Reasoning 0.2. Final answer: 0.7"]
    assert parse.focus_regions("Answer:\n\n  0.7 \nmore")[0] == "0.7"
    assert parse.focus_regions("the answer is 0.3\nbecause 0.9")[0] == "0.3"
    assert parse.focus_regions("no marker here") == ["no marker here"]


def test_negation_looks_three_words_back_within_the_clause():
    text = "it is not a cartwheel, it is a handstand but never a jump"
    assert parse.negated_before(text, text.index("cartwheel"))
    assert not parse.negated_before(text, text.index("handstand"))
    assert parse.negated_before(text, text.index("jump"))
    assert not parse.negated_before("not one two three four five", len("not one two three "))


def test_steps_split_sentences_and_then_clauses():
    assert parse.steps("First he jumps, then he spins. Finally he lands.") == ["he jumps", "he spins", "he lands"]
    assert parse.steps("1. take off\n2. 3.5 somersaults\n3. entry") == ["take off", "3.5 somersaults", "entry"]
