"""One place per label type: the registry is complete, and a type without a rule cannot exist."""

import types
import typing

import pytest

import videostar.labels as label_types
from videostar.data.labels import LABEL_TYPES, ClassLabel, Label, parse_label
from videostar.labels import REGISTRY, LabelType
from videostar.prompts import DEFAULT_NAMES, QUESTION_TEMPLATES, label_question

EXAMPLES = {
    "class": {"type": "class", "value": "cartwheel"},
    "temporal_range": {"type": "temporal_range", "value": [0.2, 0.5]},
    "bbox": {"type": "bbox", "value": [0.1, 0.2, 0.5, 0.6], "time": 0.25},
    "timestamp": {"type": "timestamp", "value": 0.4},
    "score": {"type": "score", "value": 2, "scale": [1, 3]},
    "text": {"type": "text", "value": "A man jumps."},
    "sequence": {"type": "sequence", "value": ["a", "b"]},
    "choice": {"type": "choice", "value": "b", "options": ["a", "b"]},
}


def test_every_label_type_is_registered_once_with_everything_it_needs():
    assert tuple(REGISTRY) == LABEL_TYPES and set(EXAMPLES) == set(LABEL_TYPES)
    union = typing.get_args(typing.get_args(Label)[0])
    assert {cls.model_fields["type"].default for cls in union} == set(LABEL_TYPES)
    for name, spec in REGISTRY.items():
        assert QUESTION_TEMPLATES[name] and DEFAULT_NAMES[name] == spec.default_name and spec.graded
        label = parse_label(EXAMPLES[name])
        for template in QUESTION_TEMPLATES[name]:
            question = label_question(label, template)
            assert "{" not in question
            if "{name}" in template:
                assert spec.default_name in question


def test_type_specific_question_fields():
    assert "0.25" in label_question(parse_label(EXAMPLES["bbox"]), QUESTION_TEMPLATES["bbox"][0])
    assert "between 1 and 3" in label_question(parse_label(EXAMPLES["score"]), QUESTION_TEMPLATES["score"][0])
    assert label_question(parse_label(EXAMPLES["choice"]), "Which?").endswith("\nOptions:\n(A) a\n(B) b")


def test_a_type_without_a_rule_is_refused():
    with pytest.raises(TypeError, match="no parser or no rule"):
        LabelType(label=ClassLabel, default_name="label", questions=("What?",), parse=lambda *a: None,
                  rule=None, graded="")


def test_registry_refuses_duplicates_and_modules_without_a_type(monkeypatch):
    class_module = label_types.class_
    monkeypatch.setattr(label_types, "_MODULES", (class_module, class_module))
    with pytest.raises(TypeError, match="defined twice"):
        label_types._registry()
    monkeypatch.setattr(label_types, "_MODULES", (types.ModuleType("videostar.labels.empty"),))
    with pytest.raises(TypeError, match="defines no LabelType"):
        label_types._registry()
