import pytest
from pydantic import ValidationError

from videostar.data.labels import (
    BBoxLabel,
    ClassLabel,
    ScoreLabel,
    SequenceLabel,
    TemporalRangeLabel,
    TextLabel,
    TimestampLabel,
    label_to_json,
    parse_label,
)


def test_every_type_parses_from_the_documented_json_and_renders():
    cases = {
        '{"type": "class", "value": "cartwheel", "name": "action"}': (ClassLabel, "cartwheel"),
        '{"type": "temporal_range", "value": [0.2, 0.45]}': (TemporalRangeLabel, "from 0.2 to 0.45"),
        '{"type": "temporal_range", "value": [3.1, 7], "unit": "seconds"}': (TemporalRangeLabel, "from 3.1s to 7s"),
        '{"type": "bbox", "value": [0.1, 0.2, 0.5, 0.6]}': (BBoxLabel, "[0.1, 0.2, 0.5, 0.6]"),
        '{"type": "bbox", "value": [0.1, 0.2, 0.5, 0.6], "time": 0.4}': (BBoxLabel, "[0.1, 0.2, 0.5, 0.6] at 0.4"),
        '{"type": "timestamp", "value": 0.75}': (TimestampLabel, "0.75"),
        '{"type": "score", "value": 72.5, "scale": [0, 100]}': (ScoreLabel, "72.5"),
        '{"type": "text", "value": "A man jumps."}': (TextLabel, "A man jumps."),
        '{"type": "sequence", "value": ["take off", "somersault", "entry"]}': (
            SequenceLabel, "first take off, then somersault, then entry"),
    }
    import json

    for text, (cls, rendered) in cases.items():
        label = parse_label(json.loads(text))
        assert isinstance(label, cls)
        assert label.render() == rendered
        assert parse_label(label_to_json(label)) == label  # round trip


@pytest.mark.parametrize(
    "data, field_fragment",
    [
        ({"type": "cartwheel", "value": "x"}, "does not match any of the expected tags"),
        ({"type": "class", "value": "  "}, "blank"),
        ({"type": "class", "value": "x", "scale": [0, 1]}, "Extra inputs"),
        ({"type": "temporal_range", "value": [0.5, 0.2]}, "start must be < end"),
        ({"type": "temporal_range", "value": [0.2, 1.5]}, "within 0..1"),
        ({"type": "temporal_range", "value": [-1, 2], "unit": "seconds"}, "must be >= 0"),
        ({"type": "temporal_range", "value": [0.1]}, "value"),
        ({"type": "bbox", "value": [0.5, 0.2, 0.1, 0.6]}, "x2 must be > x1"),
        ({"type": "bbox", "value": [0.1, 0.6, 0.5, 0.2]}, "y2 must be > y1"),
        ({"type": "bbox", "value": [10, 20, 50, 60]}, "within 0..1"),
        ({"type": "bbox", "value": [0.1, 0.2, 0.5, 0.6], "time": 2}, "time must be within 0..1"),
        ({"type": "timestamp", "value": 1.2}, "within 0..1"),
        ({"type": "score", "value": 120, "scale": [0, 100]}, "outside its scale"),
        ({"type": "score", "value": 1, "scale": [5, 1]}, "lo must be < hi"),
        ({"type": "text", "value": ""}, "blank"),
        ({"type": "sequence", "value": []}, "at least 1"),
        ({"type": "sequence", "value": ["a", " "]}, "blank"),
    ],
)
def test_invalid_labels_are_rejected_with_a_reason(data, field_fragment):
    with pytest.raises(ValidationError) as err:
        parse_label(data)
    assert field_fragment in str(err.value)


def test_seconds_labels_normalize_with_the_duration_and_refuse_without_it():
    label = parse_label({"type": "temporal_range", "value": [2, 5], "unit": "seconds"})
    assert label.normalized(10.0).value == (0.2, 0.5)
    assert label.normalized(10.0).unit == "normalized"
    with pytest.raises(ValueError, match="duration is unknown"):
        label.normalized(None)
    with pytest.raises(ValueError, match="past the video's end"):
        label.normalized(4.0)
    stamp = parse_label({"type": "timestamp", "value": 3, "unit": "seconds"})
    assert stamp.normalized(12.0).value == 0.25
    box = parse_label({"type": "bbox", "value": [0, 0, 1, 1], "time": 1.5, "unit": "seconds"})
    assert box.normalized(3.0).time == 0.5
    # normalized labels pass through unchanged
    assert parse_label({"type": "timestamp", "value": 0.3}).normalized(None).value == 0.3


def test_class_exclusions_from_the_value_or_the_field():
    label = parse_label({"type": "class", "value": "skiing (not slalom or crosscountry)"})
    assert (label.value, label.excludes) == ("skiing", ["slalom", "crosscountry"])
    assert label_to_json(label) == {"type": "class", "value": "skiing", "excludes": ["slalom", "crosscountry"]}
    assert parse_label(label_to_json(label)) == label
    label = parse_label({"type": "class", "value": "dancing (not ballet, tap, nor salsa)", "excludes": ["disco"]})
    assert label.excludes == ["disco", "ballet", "tap", "salsa"]
    assert parse_label({"type": "class", "value": "(not this)"}).value == "(not this)"  # nothing left: kept as is


def test_choice_labels():
    label = parse_label({"type": "choice", "value": "The cup.", "options": ["The table.", "The cup."]})
    assert label.letter == "B" and label.render() == "(B) The cup."
    for bad, fragment in [({"value": "x", "options": ["a", "b"]}, "not one of the options"),
                          ({"value": "a", "options": ["a", "a"]}, "distinct"),
                          ({"value": "a", "options": ["a"]}, "at least 2")]:
        with pytest.raises(ValidationError, match=fragment):
            parse_label({"type": "choice", **bad})


@pytest.mark.parametrize("data", [
    {"type": "score", "value": float("nan")},
    {"type": "timestamp", "value": float("inf"), "unit": "seconds"},
    {"type": "temporal_range", "value": [0, float("nan")]},
])
def test_nan_and_infinity_are_rejected(data):
    with pytest.raises(ValidationError, match="finite"):
        parse_label(data)
