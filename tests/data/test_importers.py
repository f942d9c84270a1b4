import json
import os
import pickle

import numpy as np
import pytest
from PIL import Image

from media import gray_frames
from videostar.data.importers import import_dataset
from videostar.data.importers.base import DatasetFormatError
from videostar.data.importers.safe_pickle import UnsafePickleError, safe_load
from videostar.data.manifest import load_manifest, write_manifest
from videostar.video.encode import write_video

KINETICS_400_CSV = """label,youtube_id,time_start,time_end,split,is_cc
abseiling,---QUuC4vJs,3,13,train,0
"playing ukulele",--07WQ2iBlw,1,11,train,0
tying knot (not on a tie),--33Lscn6sk,4,14,train,0
"skiing (not slalom or crosscountry)",--4Abcdefgh,0,10,train,0
"""
KINETICS_700_TEST_CSV = """youtube_id,time_start,time_end,split
--0NTAs-fA0,29,39,test
"""


def test_kinetics_400_csv_flat_layout(tmp_path):
    src = tmp_path / "train.csv"
    src.write_text(KINETICS_400_CSV)
    videos = tmp_path / "videos"
    write_video(videos / "---QUuC4vJs_000003_000013.mp4", gray_frames(8), fps=8)
    result = import_dataset("kinetics", src, videos)
    labels = [s.labels[0] for s in result.samples]
    assert [label.value for label in labels] == ["abseiling", "playing ukulele", "tying knot", "skiing"]
    assert [label.excludes for label in labels] == [[], [], ["on a tie"], ["slalom", "crosscountry"]]
    assert result.samples[2].meta["class"] == "tying knot (not on a tie)"
    assert result.samples[0].id == "kinetics_---QUuC4vJs_000003_000013"
    assert result.samples[0].video.endswith("videos/---QUuC4vJs_000003_000013.mp4")
    assert {s.task for s in result.samples} == {"action recognition"}
    only_present = import_dataset("kinetics", src, videos, skip_missing=True)
    assert len(only_present.samples) == 1 and only_present.skipped["video not found"] == 3
    write_manifest(only_present.samples, tmp_path / "k.jsonl")
    loaded = load_manifest(tmp_path / "k.jsonl")[0].labels[0]
    assert (loaded.name, loaded.value) == ("action", "abseiling")
    skiing = import_dataset("kinetics", src, videos).samples[3]
    write_manifest([skiing], tmp_path / "ski.jsonl", )
    assert load_manifest(tmp_path / "ski.jsonl", check_videos=False)[0].labels[0].excludes == ["slalom", "crosscountry"]


def test_kinetics_700_class_folders_and_test_split(tmp_path):
    """The 700-2020 tarballs unpack into train/<class>/<id>_<start>_<end>.mp4."""
    src = tmp_path / "train.csv"
    src.write_text("label,youtube_id,time_start,time_end,split\n"
                   "abseiling,---QUuC4vJs,3,13,train\n"
                   "tying knot (not on a tie),--33Lscn6sk,4,14,train\n"
                   "abseiling,---QUuC4vJs,3,13,train\n")
    videos = tmp_path / "k700-2020"
    write_video(videos / "train" / "abseiling" / "---QUuC4vJs_000003_000013.mp4", gray_frames(8), fps=8)
    write_video(videos / "train" / "tying knot (not on a tie)" / "--33Lscn6sk_000004_000014.mp4", gray_frames(8), fps=8)
    result = import_dataset("kinetics", src, videos, skip_missing=True)
    assert [s.video.split("k700-2020/")[1] for s in result.samples] == [
        "train/abseiling/---QUuC4vJs_000003_000013.mp4", "train/tying knot (not on a tie)/--33Lscn6sk_000004_000014.mp4"]
    assert result.samples[1].labels[0].value == "tying knot"
    assert result.skipped == {"duplicate row": 1}
    test_src = tmp_path / "test.csv"
    test_src.write_text(KINETICS_700_TEST_CSV)
    with pytest.raises(DatasetFormatError, match=r"no samples imported; skipped: 1 no label \(test split\)"):
        import_dataset("kinetics", test_src, videos)
    (tmp_path / "bad.csv").write_text("a,b\n1,2\n")
    with pytest.raises(DatasetFormatError, match="missing column"):
        import_dataset("kinetics", tmp_path / "bad.csv", videos)


def test_skip_missing_never_writes_an_empty_manifest(tmp_path):
    src = tmp_path / "train.csv"
    src.write_text(KINETICS_400_CSV)
    with pytest.raises(DatasetFormatError, match=r"no samples imported; skipped: 4 video not found.*--video-dir"):
        import_dataset("kinetics", src, tmp_path / "nowhere", skip_missing=True)


def _star_entry(qid, start, end, situations, answer="The clothes."):
    entry = {
        "question_id": qid, "question": "Which object was tidied up by the person?", "video_id": "6H78U",
        "start": start, "end": end, "answer": answer,
        "question_program": [{"function": "Situations", "value_input": []}],
        "choices": [{"choice_id": 0, "choice": "The closet/cabinet.", "choice_program": []},
                    {"choice_id": 1, "choice": "The blanket.", "choice_program": []},
                    {"choice_id": 2, "choice": "The clothes.", "choice_program": []},
                    {"choice_id": 3, "choice": "The table.", "choice_program": []}],
        "situations": situations,
    }
    if answer is None:
        del entry["answer"]
    return entry


STAR_SITUATIONS = {
    # keyframe numbers of the Charades video (4 fps here): 4 -> 1 s, 8 -> 2 s, 12 -> 3 s, 16 -> 4 s
    "000008": {"rel_pairs": [["o000", "o001"]], "rel_labels": ["r002"], "actions": ["a050", "a101"],
               "bbox": [[16.0, 12.0, 48.0, 36.0], None, [0.0, 0.0, 32.0, None]], "bbox_labels": ["o000", "o001", "o002"]},
    "000004": {"rel_pairs": [], "rel_labels": [], "actions": ["a050"], "bbox": [], "bbox_labels": []},
    "000012": {"rel_pairs": [], "rel_labels": [], "actions": ["a101", "a002", "a050"], "bbox": [], "bbox_labels": []},
    "000016": {"rel_pairs": [], "rel_labels": [], "actions": ["a002"], "bbox": [], "bbox_labels": []},
}


def _star_files(tmp_path, entries, name="STAR_val.json"):
    src = tmp_path / name
    src.write_text(json.dumps(entries))
    (tmp_path / "action_classes.txt").write_text("a050 Opening a door\na101 Tidying some clothes\na002 Holding a cup\n")
    (tmp_path / "object_classes.txt").write_text("o000 person\no001 clothes\no002 cup\n")
    return src


def test_star_json(tmp_path):
    videos = tmp_path / "Charades_v1_480"
    write_video(videos / "6H78U.mp4", gray_frames(40, height=48, width=64, step=5), fps=4)  # 10 s, 64x48
    src = _star_files(tmp_path, [_star_entry("Interaction_T1_13", 0.5, 4.5, STAR_SITUATIONS),
                                 _star_entry("Interaction_T1_14", 0.5, 4.5, STAR_SITUATIONS),
                                 _star_entry("Interaction_T1_15", 0.5, 4.5, STAR_SITUATIONS, answer="The sofa.")])
    result = import_dataset("star", src, videos)
    by_task = {}
    for s in result.samples:
        by_task.setdefault(s.task, []).append(s)
    assert len(by_task["situated question answering"]) == 2  # one per question; the third's answer is no choice
    assert result.skipped["QA: answer not exactly one of the choices"] == 1
    qa = by_task["situated question answering"][0]
    assert qa.labels[0].type == "choice" and qa.labels[0].value == "The clothes"
    assert qa.labels[0].options == ["The closet/cabinet", "The blanket", "The clothes", "The table"]
    assert qa.segment == (0.5, 4.5) and qa.split == "val"  # asked about the situation, not the whole video
    assert qa.meta["question"].startswith("Which object")
    (when,) = by_task["temporal localization"]  # deduplicated per segment
    assert when.labels[0].value == (0.5, 4.5) and when.labels[0].unit == "seconds" and when.segment is None
    assert when.labels[0].name == "the person is opening a door and tidying some clothes and holding a cup"
    assert when.normalized_labels()[0].value == pytest.approx((0.05, 0.45))
    (actions,) = by_task["action sequence"]
    # door 1-3 s overlaps clothes 2-3 s and cup 3-4 s: each once, by start (not door, clothes, door, ...)
    assert actions.labels[0].value == ["Opening a door", "Tidying some clothes", "Holding a cup"]
    assert actions.segment == (0.5, 4.5)
    (box,) = by_task["object localization"]  # the null box and the box with a null corner are skipped
    assert result.skipped["object boxes: null box"] == 2
    assert box.labels[0].name == "the person" and box.labels[0].value == (0.25, 0.25, 0.75, 0.75)
    assert box.normalized_labels()[0].time == pytest.approx(0.2)  # frame 8 at 4 fps = 2 s of 10 s
    write_manifest(result.samples, tmp_path / "star.jsonl")
    assert len(load_manifest(tmp_path / "star.jsonl")) == len(result.samples)
    # without the video: QA, range and sequence still import; boxes are skipped and counted
    no_video = import_dataset("star", src, tmp_path / "elsewhere")
    assert not any(s.task == "object localization" for s in no_video.samples)
    assert no_video.skipped["object boxes: video missing (size unknown)"] == 1


def test_star_boxes_use_the_displayed_size_of_a_rotated_video(tmp_path):
    videos = tmp_path / "videos"
    # coded 64x48, shown rotated by 90 degrees: 48 wide, 64 high
    write_video(videos / "6H78U.mp4", gray_frames(40, height=48, width=64, step=5), fps=4, rotation=90)
    situations = {"000008": {"actions": [], "bbox": [[12.0, 16.0, 36.0, 48.0]], "bbox_labels": ["o000"]}}
    src = _star_files(tmp_path, [_star_entry("Interaction_T1_13", 0.5, 4.5, situations)])
    (box,) = [s for s in import_dataset("star", src, videos).samples if s.task == "object localization"]
    assert box.labels[0].value == (0.25, 0.25, 0.75, 0.75)


def test_star_test_file_without_answers(tmp_path):
    src = _star_files(tmp_path, [_star_entry("Interaction_T1_13", 0.5, 4.5, STAR_SITUATIONS, answer=None)],
                      name="STAR_test.json")
    result = import_dataset("star", src, tmp_path)
    assert result.skipped["QA: no answer (test split)"] == 1
    assert {s.task for s in result.samples} == {"temporal localization", "action sequence"}
    assert {s.split for s in result.samples} == {"test"}
    (tmp_path / "STAR_bad.json").write_text(json.dumps([{"qid": 1}]))
    with pytest.raises(DatasetFormatError, match="not a STAR question file"):
        import_dataset("star", tmp_path / "STAR_bad.json", tmp_path)


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
    with pytest.raises(DatasetFormatError, match="unknown format"):
        import_dataset("ucf101", tmp_path / "a.json", tmp_path)


@pytest.mark.parametrize("content, message", [
    # FineDiving_coarse_annotation.pkl: (event, index) -> (action type, dive score), no frame labels
    ({("FINADivingWorldCup2021_Men3m_final_r1", 0): ("107B", 67.5)}, "coarse or AQA annotation"),
    # an AQA-style score dict: scores and difficulty, no frames_labels
    ({("FINADivingWorldCup2021_Men3m_final_r1", 0): {"final_score": 67.5, "difficulty": 3.0}}, "missing frames_labels"),
    ([("FINADivingWorldCup2021_Men3m_final_r1", 0)], "holds a list.*train_split.pkl"),
])
def test_finediving_wrong_pickle_is_named(tmp_path, content, message):
    wrong = tmp_path / "FineDiving_coarse_annotation.pkl"
    wrong.write_bytes(pickle.dumps(content))
    with pytest.raises(DatasetFormatError, match=message) as err:
        import_dataset("finediving", wrong, tmp_path)
    assert "FineDiving_fine-grained_annotation.pkl" in str(err.value) and str(wrong) in str(err.value)
    (tmp_path / "notes.pkl").write_text("not a pickle")
    with pytest.raises(DatasetFormatError, match="not a readable pickle"):
        import_dataset("finediving", tmp_path / "notes.pkl", tmp_path)


def test_cli_import_reports_skips_and_writes_no_empty_manifest(tmp_path):
    from typer.testing import CliRunner

    from videostar.cli import app

    src = tmp_path / "charades_sta_test.txt"
    src.write_text("AO8RW 0.0 6.9##a person is putting a book on a shelf.\nY6R7T 1.2 5.0##a person opens the door.\n")
    videos = tmp_path / "videos"
    write_video(videos / "AO8RW.mp4", gray_frames(16, step=10), fps=2)  # 8 s
    runner = CliRunner()
    ok = runner.invoke(app, ["data", "import", "charades_sta", str(src), str(tmp_path / "sta.jsonl"),
                             "--video-dir", str(videos), "--skip-missing"])
    assert ok.exit_code == 0, ok.output
    assert "wrote 1 samples" in ok.output and "skipped 1: video not found" in ok.output
    assert load_manifest(tmp_path / "sta.jsonl")[0].split == "test"
    empty = runner.invoke(app, ["data", "import", "charades_sta", str(src), str(tmp_path / "none.jsonl"),
                                "--video-dir", str(tmp_path / "nowhere"), "--skip-missing"])
    assert empty.exit_code == 1 and "no samples imported; skipped: 2 video not found" in empty.output
    assert not (tmp_path / "none.jsonl").exists()


def test_kinetics_json_edition(tmp_path):
    """kinetics_700_val.json of the DeepMind release: {youtube_id: {annotations: {label, segment}, ...}}."""
    src = tmp_path / "kinetics_700_val.json"
    src.write_text(json.dumps({
        "---QUuC4vJs": {"annotations": {"label": "passing American football (not in game)", "segment": [3.0, 13.0]},
                        "duration": 10.0, "subset": "validate", "url": "https://www.youtube.com/watch?v=---QUuC4vJs"},
        "--0NTAs-fA0": {"annotations": {"label": "", "segment": [29.0, 39.0]}, "duration": 10.0, "subset": "test",
                        "url": "https://www.youtube.com/watch?v=--0NTAs-fA0"}}))
    result = import_dataset("kinetics", src, tmp_path)
    (sample,) = result.samples
    assert sample.id == "kinetics_---QUuC4vJs_000003_000013" and sample.split == "validate"
    assert (sample.labels[0].value, sample.labels[0].excludes) == ("passing American football", ["in game"])
    assert result.skipped == {"no label (test split)": 1}
