"""Every prompt videostar sends, in one place; a run config can override any of them by name.

Placeholders use str.format: {question}, {answer}, {task}, {labels}, {n}, {options}; question
templates (with each label type, videostar.labels) use {name} and the type's own ({time}, {scale}).
Answers are asked to end with a "Final answer:" line, which is where the verifiers read first.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from videostar.data.labels import Label
from videostar.labels import REGISTRY

# Question templates and default names per label type: defined with each type (videostar.labels).
QUESTION_TEMPLATES: dict[str, list[str]] = {t: list(spec.questions) for t, spec in REGISTRY.items()}
DEFAULT_NAMES: dict[str, str] = {t: spec.default_name for t, spec in REGISTRY.items()}


# The judge verifier's question (verify/verifier.py, ``judge_types``).
JUDGE_PROMPT = (
    "You check whether an answer agrees with a known label of a video.\n"
    "Task: {task}\nLabel ({kind}): {label}\nAnswer: {answer}\n"
    "Does the answer state or clearly imply the label? Reply with one word: yes or no."
)


class Prompts(BaseModel):
    """The step prompts; override any field in a run config's ``prompts:`` section."""

    model_config = ConfigDict(extra="forbid")
    answer: str = (
        "{question}\nThink step by step about what you see in the video, then give the final answer "
        "on the last line as 'Final answer: ...'."
    )
    rationalize: str = (
        "{question}\nThe correct answer is: {answer}\nExplain step by step, using what you see in the video, "
        "how one arrives at this answer. End with the line 'Final answer: {answer}'."
    )
    ask_questions: str = (
        "This video is labeled for the task '{task}' with: {labels}.\n"
        "Write {n} different questions about the video whose correct answers must contain these labels. "
        "Write one question per line and nothing else."
    )
    direct: str = "{question}\nAnswer with a short phrase."
    # VideoSAVi: self-questions, critique, revision
    spatial_questions: str = (
        "Write {n} different questions about this video that need spatial reasoning: where objects are, how they "
        "are placed relative to each other, their sizes, colors and other visual details. One question per line."
    )
    temporal_questions: str = (
        "Write {n} different questions about this video that need temporal reasoning: the order of events, what "
        "causes what, how things change over time. One question per line."
    )
    critique: str = (
        "Question: {question}\nAnswer: {answer}\nCheck this answer against the video. List every error of fact, "
        "of space (positions, sizes, relations) and of time (order, timing), every object it mentions that is not "
        "in the video, and anything important it leaves out. If the answer is fully correct, say 'No errors.'"
    )
    revise: str = (
        "Question: {question}\nOriginal answer: {answer}\nCritique: {critique}\nWrite an improved answer that "
        "fixes every problem the critique found. Give only the improved answer."
    )
    multiple_choice: str = "{question}\nOptions:\n{options}\nAnswer with the letter of the correct option."
    # the multiple-choice form of a question that already lists its options (a choice label's)
    choose: str = "{question}\nAnswer with the letter of the correct option."


def label_question(label: Label, template: str) -> str:
    """Fill a question template with the label's name (and its type's own fields: a box's time, a
    score's scale), then add what any question about it must show (a choice's lettered options)."""
    spec = REGISTRY[label.type]
    return template.format(name=label.name or spec.default_name, **spec.question_fields(label)) \
        + spec.question_extra(label)


def gold_answer(labels: list[Label]) -> str:
    """The labels as the answer text shown for rationalization and used in direct answers."""
    if len(labels) == 1:
        return labels[0].render()
    return "; ".join(f"{label.name or DEFAULT_NAMES[label.type]}: {label.render()}" for label in labels)
