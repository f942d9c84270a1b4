import json
import os
import pickle

import numpy as np
import pytest
from PIL import Image

from media import gray_frames
from videostar.data.importers import import_dataset
from videostar.data.importers.safe_pickle import UnsafePickleError, safe_load
from videostar.data.manifest import load_manifest, write_manifest
from videostar.video.encode import write_video

KINETICS_CSV = """label,youtube_id,time_start,time_end,split
abseiling,---QUuC4vJs,3,13,train
"playing ukulele",--07WQ2iBlw,1,11,train
tying knot (not on a tie),--33Lscn6sk,4,14,train
"""
KINETICS_TEST_CSV = """youtube_id,time_start,time_end,split
--0NTAs-fA0,29,39,test
"""


def test_kinetics_csv(tmp_path):
    src = tmp_path / "train.csv"
    src.write_text(KINETICS_CSV)
    videos = tmp_path / "videos"
    write_video(videos / "---QUuC4vJs_000003_000013.mp4", gray_frames(8), fps=8)
    result = import_dataset("kinetics", src, videos)
    assert [s.labels[0].value for s in result.samples] == ["abseiling", "playing ukulele", "tying knot (not on a tie)"]
    assert result.samples[0].id == "kinetics_---QUuC4vJs_000003_000013"
    assert result.samples[0].video.endswith("videos/---QUuC4vJs_000003_000013.mp4")
    assert {s.task for s in result.samples} == {"action recognition"}
    only_present = import_dataset("kinetics", src, videos, skip_missing=True)
    assert len(only_present.samples) == 1 and only_present.skipped["video not downloaded"] == 2
    write_manifest(only_present.samples, tmp_path / "k.jsonl")
    assert load_manifest(tmp_path / "k.jsonl")[0].labels[0].name == "action"
    test_src = tmp_path / "test.csv"
    test_src.write_text(KINETICS_TEST_CSV)
    assert import_dataset("kinetics", test_src, videos).skipped["no label (test split)"] == 1
    (tmp_path / "bad.csv").write_text("a,b\n1,2\n")
    with pytest.raises(ValueError, match="missing column"):
        import_dataset("kinetics", tmp_path / "bad.csv", videos)


def _star_entry(qid, start, end, situations):
    return {
        "question_id": qid, "question": "Which object was tidied up by the person?", "video_id": "6H78U",
        "start": start, "end": end, "answer": "The clothes.",
        "question_program": [{"function": "Situations", "value_input": []}],
        "choices": [{"choice_id": 0, "choice": "The closet/cabinet.", "choice_program": []},
                    {"choice_id": 1, "choice": "The blanket.", "choice_program": []},
                    {"choice_id": 2, "choice": "The clothes.", "choice_program": []},
                    {"choice_id": 3, "choice": "The table.", "choice_program": []}],
        "situations": situations,
    }


def test_star_json(tmp_path):
    videos = tmp_path / "Charades_v1_480"
    write_video(videos / "6H78U.mp4", gray_frames(40, height=48, width=64, step=5), fps=4)  # 10 s, 64x48
    situations = {
        "000008": {"rel_pairs": [["o000", "o001"]], "rel_labels": ["r002"], "actions": ["a101"],
                   "bbox": [[16.0, 12.0, 48.0, 36.0], [0.0, 0.0, 32.0, 24.0]], "bbox_labels": ["o000", "o001"]},
        "000004": {"rel_pairs": [], "rel_labels": [], "actions": ["a050"], "bbox": [], "bbox_labels": []},
        "000012": {"rel_pairs": [], "rel_labels": [], "actions": ["a101", "a002"], "bbox": [], "bbox_labels": []},
    }
    src = tmp_path / "STAR_val.json"
    src.write_text(json.dumps([_star_entry("Interaction_T1_13", 0.5, 4.5, situations),
                               _star_entry("Interaction_T1_14", 0.5, 4.5, situations)]))
    (tmp_path / "action_classes.txt").write_text("a050 Opening a door\na101 Tidying some clothes\na002 Holding a cup\n")
    (tmp_path / "object_classes.txt").write_text("o000 person\no001 clothes\n")
    result = import_dataset("star", src, videos)
    by_task = {}
    for s in result.samples:
        by_task.setdefault(s.task, []).append(s)
    assert len(by_task["situated question answering"]) == 2  # one per question
    qa = by_task["situated question answering"][0]
    assert qa.labels[0].value == "The clothes" and qa.split == "val"
    assert qa.meta["choices"][2] == "The clothes." and qa.meta["question"].startswith("Which object")
    (when,) = by_task["temporal localization"]  # deduplicated per segment
    assert when.labels[0].value == (0.5, 4.5) and when.labels[0].unit == "seconds"
    assert when.normalized_labels()[0].value == pytest.approx((0.05, 0.45))
    (actions,) = by_task["action sequence"]
    assert actions.labels[0].value == ["Opening a door", "Tidying some clothes", "Holding a cup"]
    boxes = sorted(by_task["object localization"], key=lambda s: s.id)
    assert [b.labels[0].name for b in boxes] == ["person", "clothes"]
    assert boxes[0].labels[0].value == (0.25, 0.25, 0.75, 0.75)
    assert boxes[0].normalized_labels()[0].time == pytest.approx(0.2)  # frame 8 at 4 fps = 2 s of 10 s
    write_manifest(result.samples, tmp_path / "star.jsonl")
    assert len(load_manifest(tmp_path / "star.jsonl")) == len(result.samples)
    # without the video: QA, range and sequence still import; boxes are skipped and counted
    no_video = import_dataset("star", src, tmp_path / "elsewhere")
    assert not any(s.task == "object localization" for s in no_video.samples)
    assert no_video.skipped["object boxes: video missing (size unknown)"] == 1


def _finediving_annotation():
    return {
        ("FINADivingWorldCup2021_Men3m_final_r1", 0): {
            "action_type": "107B",
            "sub-action_types": {1: "Forward", 4: "3.5 Soms.Pike", 13: "Entry"},
            "judge_scores": [7.5, 7.0, 7.5, 7.5, 7.0, 7.5, 7.0],
            "dive_score": 67.5,
            "frames_labels": np.array([1, 1, 1, 4, 4, 4, 4, 13, 13, 13], dtype=np.int64),
            "difficulty": 3.0,
            "steps_transit_frames": np.array([3, 7]),
            "start_frame": 489,
            "end_frame": 498,
        },
        ("FINADivingWorldCup2021_Men3m_final_r1", 1): {
            "action_type": "5337D",
            "sub-action_types": {2: "Back", 13: "Entry"},
            "judge_scores": [6.0] * 7,
            "dive_score": 59.4,
            "frames_labels": np.array([2, 2, 7, 7, 13], dtype=np.int64),  # 7 only in the global table
            "difficulty": 3.3,
            "steps_transit_frames": np.array([2, 4]),
            "start_frame": 10,
            "end_frame": 14,
        },
    }


def test_finediving_pickle_with_frames_and_splits(tmp_path):
    ann = tmp_path / "Annotations"
    ann.mkdir()
    with (ann / "FineDiving_fine-grained_annotation.pkl").open("wb") as f:
        pickle.dump(_finediving_annotation(), f)
    with (ann / "train_split.pkl").open("wb") as f:
        pickle.dump([("FINADivingWorldCup2021_Men3m_final_r1", 0)], f)
    with (ann / "test_split.pkl").open("wb") as f:
        pickle.dump([("FINADivingWorldCup2021_Men3m_final_r1", 1)], f)
    with (ann / "Sub_action_Types_Table.pkl").open("wb") as f:
        pickle.dump({7: "2.5 Twist"}, f)
    frames = tmp_path / "FINADiving_MTL_256s" / "FINADivingWorldCup2021_Men3m_final_r1" / "0"
    frames.mkdir(parents=True)
    for i, img in enumerate(gray_frames(10)):
        Image.fromarray(img).save(frames / f"{489 + i:05d}.jpg")
    result = import_dataset("finediving", ann / "FineDiving_fine-grained_annotation.pkl",
                            tmp_path / "FINADiving_MTL_256s", fps=25)
    by_id = {s.id: s for s in result.samples}
    steps = by_id["finediving_FINADivingWorldCup2021_Men3m_final_r1_0_steps"]
    assert steps.labels[0].value == ["Forward", "3.5 Soms.Pike", "Entry"]
    assert steps.meta["fps"] == 25 and steps.split == "train"
    assert by_id["finediving_FINADivingWorldCup2021_Men3m_final_r1_0_score"].labels[0].value == 67.5
    assert by_id["finediving_FINADivingWorldCup2021_Men3m_final_r1_1_difficulty"].labels[0].value == 3.3
    second = by_id["finediving_FINADivingWorldCup2021_Men3m_final_r1_1_steps"]
    assert second.labels[0].value == ["Back", "2.5 Twist", "Entry"] and second.split == "test"
    kept = import_dataset("finediving", ann / "FineDiving_fine-grained_annotation.pkl",
                          tmp_path / "FINADiving_MTL_256s", skip_missing=True)
    assert len(kept.samples) == 3 and kept.skipped["frames not found"] == 1
    write_manifest(kept.samples, tmp_path / "fd.jsonl")
    assert load_manifest(tmp_path / "fd.jsonl")[0].fps == 25.0


class _Exploit:
    def __reduce__(self):
        return (os.system, ("touch pwned",))


def test_restricted_unpickler_refuses_code(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    evil = tmp_path / "evil.pkl"
    evil.write_bytes(pickle.dumps({"a": _Exploit()}))
    with pytest.raises(UnsafePickleError, match="forbidden global (posix|os).system"):
        safe_load(evil)
    assert not (tmp_path / "pwned").exists()
    fine = tmp_path / "fine.pkl"
    data = {("x", 1): {"arr": np.arange(3, dtype=np.float32), "s": {1, 2}, "f": 1.5, "n": np.int64(4)}}
    fine.write_bytes(pickle.dumps(data))
    loaded = safe_load(fine)
    assert loaded[("x", 1)]["arr"].tolist() == [0.0, 1.0, 2.0] and loaded[("x", 1)]["n"] == 4


def test_unknown_format(tmp_path):
    (tmp_path / "a.json").write_text("[]")
    with pytest.raises(ValueError, match="unknown format"):
        import_dataset("ucf101", tmp_path / "a.json", tmp_path)
