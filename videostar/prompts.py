"""Every prompt videostar sends, in one place; a run config can override any of them by name.

Placeholders use str.format: {question}, {answer}, {task}, {labels}, {n}, {name}, {time}, {scale}.
Answers are asked to end with a "Final answer:" line, which is where the verifiers read first.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from videostar.data.labels import Label, fmt_number

# Question templates per label type; {name} is the label's name (what it labels).
QUESTION_TEMPLATES: dict[str, list[str]] = {
    "class": [
        "What is the {name} in this video?",
        "Watch the video carefully. What is the {name}?",
        "Based on what happens in the video, identify the {name}.",
    ],
    "temporal_range": [
        "Find the part of the video where {name}. Give its start and end as fractions of the video's length (0 to 1).",
        "During which segment of the video is it true that {name}? Answer with start and end times between 0 and 1.",
    ],
    "bbox": [
        "Where is {name} at time {time} of the video (a fraction from 0 to 1)? Give its bounding box as [x1, y1, x2, y2] in normalized coordinates.",
        "Locate {name} at {time} of the way through the video. Answer with a normalized box [x1, y1, x2, y2].",
    ],
    "timestamp": [
        "At what point of the video is it that {name}? Answer with a time as a fraction of the video (0 to 1).",
        "When in the video is it that {name}? Give the moment as a number between 0 and 1.",
    ],
    "score": [
        "What is the {name} for this video? Answer with a number{scale}.",
        "Estimate the {name} shown in this video, as a number{scale}.",
    ],
    "text": [
        "Describe what happens in this video.",
        "Give a short description of the video.",
    ],
    "sequence": [
        "List the {name}, from first to last.",
        "Describe the {name}, in the order they happen.",
    ],
}
DEFAULT_NAMES = {"class": "label", "temporal_range": "the event happens", "bbox": "the object",
                 "timestamp": "the event happens", "score": "score", "text": "description", "sequence": "steps"}


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


def label_question(label: Label, template: str) -> str:
    """Fill a question template with a label's name, time and scale."""
    name = label.name or DEFAULT_NAMES[label.type]
    time = fmt_number(label.time) if getattr(label, "time", None) is not None else "the middle"
    scale = f" between {fmt_number(label.scale[0])} and {fmt_number(label.scale[1])}" \
        if getattr(label, "scale", None) else ""
    return template.format(name=name, time=time, scale=scale)


def gold_answer(labels: list[Label]) -> str:
    """The labels as the answer text shown for rationalization and used in direct answers."""
    if len(labels) == 1:
        return labels[0].render()
    return "; ".join(f"{label.name or DEFAULT_NAMES[label.type]}: {label.render()}" for label in labels)
