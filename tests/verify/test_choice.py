"""The choice label type end to end: a STAR-style multiple-choice sample -> questions that list the
options -> generation (a scripted model at the model boundary) -> verification -> the MC training
form -> a TRL export."""

import json

import pytest
from media import gray_frames

from videostar.config import GenerateConfig
from videostar.data.labels import ChoiceLabel, label_to_json, parse_label
from videostar.data.manifest import Sample, write_manifest
from videostar.labels.choice import picked
from videostar.models.backend import Generation as Reply
from videostar.star.generate import Generation
from videostar.star.questions import template_questions
from videostar.star.trainset import build_examples
from videostar.store.export import export
from videostar.store.ledger import Ledger
from videostar.verify.verifier import Verifier
from videostar.video.encode import write_video

OPTIONS = ["The table.", "The clothes.", "The cup.", "The door."]


@pytest.mark.parametrize("text, expected", [
    ("(B)", [1]), ("[B]", [1]), ("B.", [1]), ("B) The clothes.", [1]), ("**B**", [1]), ("B", [1]),
    ("Option b", [1]), ("the clothes", [1]), ("It is (C) the cup", [2]), ("A or B", [0, 1]),
    ("(A) the clothes", [0, 1]),                           # letter and text disagree: several
    ("not (A) but (B)", [1]),                              # a negated pick is no pick
    ("A person picks up something.", []),                  # the article 'A' is no letter
    ("(E)", []),                                           # no such option
])
def test_picked_options(text, expected):
    assert picked(OPTIONS, text) == expected


def test_longer_option_text_wins_over_the_option_it_contains():
    assert picked(["cup", "cup of tea", "door"], "I think it is the cup of tea.") == [1]


def test_choice_label_validates_renders_and_round_trips():
    label = parse_label({"type": "choice", "value": "The clothes.", "options": OPTIONS, "name": "answer"})
    assert isinstance(label, ChoiceLabel) and label.letter == "B" and label.render() == "(B) The clothes."
    assert parse_label(label_to_json(label)) == label
    with pytest.raises(ValueError, match="not one of the options"):
        parse_label({"type": "choice", "value": "x", "options": OPTIONS})
    with pytest.raises(ValueError, match="at most 26"):
        parse_label({"type": "choice", "value": "o0", "options": [f"o{i}" for i in range(27)]})


class ScriptedModel:
    """Stands in for a model backend at the model boundary: picks (A) for the first STAR question
    and (B) for the second, and repeats the correct answer when given it (rationalization)."""

    name = "scripted"

    def __init__(self):
        self.prompts = []

    def generate(self, requests, params):
        out = []
        for r in requests:
            prompt = r.messages[0]["content"]
            self.prompts.append(prompt)
            if "The correct answer is: " in prompt:
                gold = prompt.split("The correct answer is: ")[1].split("\n")[0]
                out.append(Reply(f"The person folds what was on the bed.\nFinal answer: {gold}", 10, 5))
            elif "put down" in prompt:
                out.append(Reply("The person walks to the table.\nFinal answer: (A)", 10, 5))
            else:
                out.append(Reply("They pick up the clothes.\nAnswer: B", 10, 5))
        return out


def test_star_style_choice_sample_from_questions_to_mc_training_form(tmp_path):
    video = write_video(tmp_path / "6H78U.mp4", gray_frames(16), fps=8)
    entries = [  # STAR's question files: question, choices in order, answer
        {"question_id": "Interaction_T1_13", "question": "Which object was tidied up by the person?",
         "answer": "The clothes.", "choices": [{"choice_id": i, "choice": c} for i, c in enumerate(OPTIONS)]},
        {"question_id": "Interaction_T1_14", "question": "Which object was put down by the person?",
         "answer": "The clothes.", "choices": [{"choice_id": i, "choice": c} for i, c in enumerate(OPTIONS)]},
    ]
    samples = [Sample(id=e["question_id"], video=str(video), task="situated question answering",
                      labels=[ChoiceLabel(value=e["answer"], options=[c["choice"] for c in e["choices"]],
                                          name="answer")],
                      meta={"question": e["question"]}) for e in entries]
    manifest = tmp_path / "star.jsonl"
    write_manifest(samples, manifest)

    # questions list the options with their letters, in the dataset's order
    (dataset_q, template_q) = template_questions(samples[0], per_sample=1)
    for q in (dataset_q, template_q):
        assert "(A) The table.\n(B) The clothes.\n(C) The cup.\n(D) The door." in q.text
    assert dataset_q.text.startswith("Which object was tidied up by the person?\nOptions:\n")

    config = GenerateConfig.model_validate({"model": {"path": "unused"}, "manifest": str(manifest),
                                            "run_dir": str(tmp_path / "run"), "questions": {"templates_per_sample": 0}})
    model = ScriptedModel()
    with Ledger(config.run_dir) as ledger:
        table = Generation(config, model, Verifier(), ledger).run()
        assert table["situated question answering"] == {**table["situated question answering"],
                                                         "questions": 2, "kept_answer": 1, "kept_rationalization": 1}
        rows = {r["question_id"]: r for r in ledger.generations() if r["step"] == "answer"}
        wrong = rows["Interaction_T1_14/d0"]["verdict"]
        examples = build_examples(ledger)
    assert any("The correct answer is: (B) The clothes." in p for p in model.prompts)
    assert not wrong["passed"] and "picks (A), the correct option is (B)" in wrong["labels"][0]["reason"]
    by_form = {(e.sample_id, e.form): e for e in examples}
    mc = by_form[("Interaction_T1_13", "mc")]
    assert mc.prompt.count("(B) The clothes.") == 1  # the options are listed once
    assert mc.prompt.endswith("Answer with the letter of the correct option.")
    assert mc.response == "(B) The clothes." and mc.meta == {"options": OPTIONS, "answer": "B"}
    assert by_form[("Interaction_T1_13", "direct")].response == "(B) The clothes."
    assert by_form[("Interaction_T1_14", "cot")].source == "rationalize"
    # the MC form exports like any other example
    out = export([mc], tmp_path / "mc.jsonl", "trl", {"num_frames": 8})
    record = json.loads(out.read_text())
    assert record["form"] == "mc" and record["messages"][1]["content"][0]["text"] == "(B) The clothes."


class QuestionWriter:
    """Stands in for a model at the model boundary: writes one question when asked for questions."""

    name = "scripted"

    def generate(self, requests, params):
        return [Reply("1. Which object did the person tidy up?", 10, 5) for _ in requests]


def test_model_written_questions_about_a_choice_list_its_options(tmp_path):
    video = write_video(tmp_path / "v.mp4", gray_frames(16), fps=8)
    sample = Sample(id="q1", video=str(video), task="qa",
                    labels=[ChoiceLabel(value="The clothes.", options=OPTIONS, name="answer")])
    write_manifest([sample], tmp_path / "m.jsonl")
    config = GenerateConfig.model_validate({"model": {"path": "unused"}, "manifest": str(tmp_path / "m.jsonl"),
                                            "run_dir": str(tmp_path / "run"), "steps": [],
                                            "questions": {"templates_per_sample": 0, "model_questions": 1}})
    with Ledger(config.run_dir) as ledger:
        Generation(config, QuestionWriter(), Verifier(), ledger).run()
        (question,) = ledger.questions()
    assert question.source == "model"
    assert question.text == ("Which object did the person tidy up?\nOptions:\n(A) The table.\n(B) The clothes.\n"
                             "(C) The cup.\n(D) The door.")
