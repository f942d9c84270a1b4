from videostar.data.labels import parse_label
from videostar.data.manifest import Sample
from videostar.star.questions import parse_model_questions, template_questions


def _sample(labels, **extra):
    return Sample(id="s", video="v.mp4", task="t", labels=[parse_label(x) for x in labels], **extra)


def test_templates_fill_the_label_name_time_and_scale_deterministically():
    box = _sample([{"type": "bbox", "value": [0.1, 0.1, 0.5, 0.5], "time": 0.25, "name": "the red square"}])
    questions = template_questions(box, per_sample=2, seed=0)
    assert len(questions) == 2 and len({q.text for q in questions}) == 2
    assert all("the red square" in q.text and "0.25" in q.text for q in questions)
    assert [q.id for q in questions] == ["s/t0", "s/t1"]
    assert questions == template_questions(box, per_sample=2, seed=0)
    score = _sample([{"type": "score", "value": 2, "scale": [1, 3], "name": "number of objects"}])
    (q,) = template_questions(score)
    assert "number of objects" in q.text and "between 1 and 3" in q.text


def test_dataset_question_comes_first_and_multi_label_samples_ask_all():
    sample = _sample([{"type": "class", "value": "clothes", "name": "answer"}],
                     meta={"question": "Which object was tidied up?"})
    questions = template_questions(sample, per_sample=1)
    assert questions[0].source == "dataset" and questions[0].text == "Which object was tidied up?"
    multi = _sample([{"type": "sequence", "value": ["a", "b"], "name": "sub-actions"},
                     {"type": "score", "value": 3.0, "name": "difficulty"}])
    (q,) = template_questions(multi, per_sample=1)
    assert "sub-actions" in q.text and "difficulty" in q.text


def test_model_questions_are_cleaned_deduplicated_and_limited():
    reply = """Here are some questions:
1. What direction does the red square move?
2) What direction does the red square move ?
- When does the blue circle appear?
Q3: Why?
* How many objects are in the video?
Where is it""" + "\n" + "What " + "very " * 60 + "long?"
    questions = parse_model_questions(reply, limit=5, max_chars=200)
    assert questions == ["What direction does the red square move?", "When does the blue circle appear?",
                         "How many objects are in the video?"]
    assert parse_model_questions(reply, limit=1) == ["What direction does the red square move?"]
