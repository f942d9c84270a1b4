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
    (n,) = parse.numbers("after 3.5 seconds")
    assert n.seconds
    assert values("version1.2.3 x2") == []  # digits glued to words are not numbers


def test_ranges_in_every_written_form():
    def pairs(text):
        return [(a.value, b.value) for a, b in parse.number_pairs(text)]

    assert pairs("from 0.2 to 0.45") == [(0.2, 0.45)]
    assert pairs("between 3.1s and 7s") == [(3.1, 7)]
    assert pairs("[0.2, 0.45]") == [(0.2, 0.45)]
    assert pairs("0.2-0.45") == [(0.2, 0.45)]
    assert pairs("at 0.2 the man waves, at 0.45 he sits") == []


def test_boxes_with_and_without_brackets():
    assert parse.boxes("box: [0.1, 0.2, 0.5, 0.6]") == [(0.1, 0.2, 0.5, 0.6)]
    assert parse.boxes("at 0.1 0.2 0.5 0.6 in the frame") == [(0.1, 0.2, 0.5, 0.6)]
    assert parse.boxes("[0.1, 0.2, 0.5] and [0.3]") == []


def test_focus_regions_final_answer_wins():
    assert parse.focus_regions("Reasoning 0.2. Final answer: 0.7") == ["0.7", "Reasoning 0.2. Final answer: 0.7"]
    assert parse.focus_regions("Answer:\n\n  0.7 \nmore")[0] == "0.7"
    assert parse.focus_regions("the answer is 0.3\nbecause 0.9")[0] == "0.3"
    assert parse.focus_regions("no marker here") == ["no marker here"]


def test_steps_split_sentences_and_then_clauses():
    assert parse.steps("First he jumps, then he spins. Finally he lands.") == ["he jumps", "he spins", "he lands"]
    assert parse.steps("1. take off\n2. 3.5 somersaults\n3. entry") == ["take off", "3.5 somersaults", "entry"]
