"""The demo's two kinds of toy tasks, and the general instructions the small base model learns from.

GENERAL tasks (the base model is pretrained on them): the big object's colour, how many objects
appear, a caption. ADAPTED tasks (held back from pretraining; Video-STaR must teach them from
labels alone): the colour of the object that appears last, and how many small objects there are.
Both are coarse visual signals (colour, presence), which a small model trained on CPU can learn
(DESIGN.md's probe facts), and both are answered in words the base model already produces, so
answer generation can hit the label from the first cycle (the paper's regime). A first design
asked for answers the base had never produced (quadrant, motion axis, entry time); this ~1M
parameter base never learned to carry a given answer through, so rationalization could not
bootstrap them (measured: 0% rationalization yield) -- see the issue notes.

Pretraining also teaches the formats Video-STaR relies on: step-by-step answers ending in
"Final answer:", multiple choice, short direct answers, and explaining a given answer
(rationalization); it never sees an adapted task's question paired with its video. Small objects are
named by colour and size only: their 12-pixel shapes are below what this model resolves (DESIGN.md),
and asking for them made every object listing, hence every count, a guess. An earlier mix also had
"copy practice" (rationalizing arbitrary toy phrases): 39% of the loss, never learned, and it
slowed the visual skills (benchmarks/toy_base_probe.py), so it is gone.
"""

from __future__ import annotations

import numpy as np

from videostar.data.labels import ClassLabel, Label, ScoreLabel
from videostar.prompts import Prompts, gold_answer
from videostar.toyworld.scenes import Scene

GENERAL_TASKS = ("object color", "object count")
ADAPTED_TASKS = ("last object color", "small object count")
# Words the tokenizer is fitted on besides the instructions: the toy world's whole vocabulary.
VOCABULARY = ("red green blue yellow square circle big small object objects one two three top bottom left right "
              "horizontal vertical moves still start appears later first frame middle video shape color count "
              "position axis there from the beginning end").split()


def demo_labels(scene: Scene) -> dict[str, Label]:
    """One label per demo task; exact by construction."""
    main = scene.main
    return {
        "object color": ClassLabel(value=main.color, name="color of the big object"),
        "object count": ScoreLabel(value=len(scene.objects), scale=(1, 3), name="number of objects"),
        "last object color": ClassLabel(value=max(scene.objects, key=lambda o: o.appear).color,
                                        name="color of the object that appears last"),
        "small object count": ScoreLabel(value=len(scene.distractors), scale=(0, 2), name="number of small objects"),
    }


def _objects_text(scene: Scene) -> str:
    return ", ".join(f"a big {o.noun}" if o is scene.main else f"a small {o.color} object" for o in scene.objects)


def explanation(scene: Scene, task: str) -> str:
    """The step-by-step reasoning for a general task's answer."""
    if task == "object color":
        return f"The biggest shape in the video is a {scene.main.shape}. Its color is {scene.main.color}."
    count = len(scene.objects)
    return f"I see {_objects_text(scene)}. That is {count} object{'s' * (count > 1)}."


GENERAL_QUESTIONS = {
    "object color": ["What is the color of the big object in this video?", "Which color does the big object have?"],
    "object count": ["How many objects appear in this video?", "Count the objects that appear in the video."],
}


def general_examples(scene: Scene, rng: np.random.Generator, prompts: Prompts) -> list[dict]:
    """Instruction examples (prompt, response, form, task) for one scene: step-by-step answers,
    rationalization, direct answers, multiple choice, a caption."""
    labels = demo_labels(scene)
    examples = []
    for task in GENERAL_TASKS:
        question = str(rng.choice(GENERAL_QUESTIONS[task]))
        answer = gold_answer([labels[task]])
        reasoning = explanation(scene, task)
        examples.append({"prompt": prompts.answer.format(question=question),
                         "response": f"{reasoning}\nFinal answer: {answer}", "form": "cot", "task": task})
        examples.append({"prompt": prompts.rationalize.format(question=question, answer=answer),
                         "response": f"{reasoning}\nFinal answer: {answer}", "form": "rationalize", "task": task})
        examples.append({"prompt": prompts.direct.format(question=question), "response": answer, "form": "direct",
                         "task": task})
        pool = ["red", "green", "blue", "yellow"] if task == "object color" else ["1", "2", "3"]
        options = [answer] + [str(o) for o in rng.permutation([p for p in pool if p != answer])][:3]
        options = [options[i] for i in rng.permutation(len(options))]
        listed = "\n".join(f"({'ABCD'[i]}) {o}" for i, o in enumerate(options))
        letter = "ABCD"[options.index(answer)]
        examples.append({"prompt": prompts.multiple_choice.format(question=question, options=listed),
                         "response": f"({letter}) {answer}", "form": "mc", "task": task})
    examples.append({"prompt": "Describe the video.", "response": f"The video shows {_objects_text(scene)}.",
                     "form": "caption", "task": "caption"})
    return examples
