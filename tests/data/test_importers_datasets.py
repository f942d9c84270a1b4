"""The grounding / QA datasets, each on a sample written in its published format."""

import csv
import json

import pytest
from PIL import Image

from media import gray_frames
from videostar.data.importers import import_dataset
from videostar.data.importers.base import DatasetFormatError
from videostar.data.manifest import load_manifest, write_manifest
from videostar.video.encode import write_video

# charades_sta_train.txt as released with TALL (Gao et al. 2017): "vid start end##sentence"
CHARADES_STA = """AO8RW 0.0 6.9##a person is putting a book on a shelf.
AO8RW 3.5 12.0##person begins to laugh.
Y6R7T 1.2 5.0##a person opens the door.
"""


def test_charades_sta(tmp_path):
    src = tmp_path / "charades_sta_train.txt"
    src.write_text(CHARADES_STA)
    videos = tmp_path / "Charades_v1_480"
    write_video(videos / "AO8RW.mp4", gray_frames(80, step=3), fps=8)  # 10 s: the second end (12.0) runs past it
    result = import_dataset("charades_sta", src, videos, skip_missing=True)
    first, second = result.samples
    assert first.labels[0].value == (0.0, 6.9) and first.labels[0].unit == "seconds"
    assert first.labels[0].name == "a person is putting a book on a shelf"
    assert first.task == "temporal grounding" and first.duration == pytest.approx(10.0)
    assert second.labels[0].value == (3.5, pytest.approx(10.0))
    assert second.normalized_labels()[0].value == pytest.approx((0.35, 1.0))
    assert result.skipped == {"end clipped to the video's length (kept)": 1, "video not found": 1}
    write_manifest(result.samples, tmp_path / "sta.jsonl")
    assert load_manifest(tmp_path / "sta.jsonl")[1].labels[0].value == (3.5, pytest.approx(10.0))
    (tmp_path / "bad.txt").write_text("AO8RW 0.0 6.9 a person without the separator\n")
    with pytest.raises(DatasetFormatError, match=r"bad.txt:1: expected 'VIDEO_ID START END##sentence'"):
        import_dataset("charades_sta", tmp_path / "bad.txt", videos)


# ActivityNet Captions train.json (Krishna et al. 2017): {vid: {duration, timestamps, sentences}}
ANET = {
    "v_QOlSCBRmfWY": {"duration": 82.73, "timestamps": [[0.83, 19.86], [17.37, 60.81], [56.26, 85.0]],
                      "sentences": ["A young woman is seen standing in a room and leads into her dancing.",
                                    " The girl dances around the room while the camera captures her movements.",
                                    " She continues dancing around the room and ends by laying on the floor."]},
    "v_ehGHCYKzyZ8": {"duration": 61.72, "timestamps": [[0, 61.72]], "sentences": ["A man plays a guitar."]},
}


def test_activitynet_captions(tmp_path):
    src = tmp_path / "train.json"
    src.write_text(json.dumps(ANET))
    videos = tmp_path / "videos"
    write_video(videos / "QOlSCBRmfWY.mp4", gray_frames(8), fps=8)  # a download without the v_ prefix
    result = import_dataset("activitynet_captions", src, videos, skip_missing=True)
    assert result.skipped == {"video not found": 1}
    by_id = {s.id: s for s in result.samples}
    when = by_id["anet_QOlSCBRmfWY_1_when"]
    assert when.labels[0].value == (17.37, 60.81) and when.duration == 82.73 and when.segment is None
    assert when.labels[0].name == "the girl dances around the room while the camera captures her movements"
    caption = by_id["anet_QOlSCBRmfWY_2_caption"]
    assert caption.segment == (56.26, 82.73)  # the published end (85.0) clipped to the duration
    assert caption.labels[0].type == "text"
    assert caption.labels[0].value == "She continues dancing around the room and ends by laying on the floor."
    assert caption.video.endswith("videos/QOlSCBRmfWY.mp4") and caption.task == "dense video captioning"
    assert len(result.samples) == 6
    (tmp_path / "val_ids.json").write_text(json.dumps(["v_QOlSCBRmfWY"]))
    with pytest.raises(DatasetFormatError, match="expected ActivityNet Captions.*found a JSON list"):
        import_dataset("activitynet_captions", tmp_path / "val_ids.json", videos)


# something-something-v2-train.json / -labels.json / -test.json (20BN / Qualcomm release)
SSV2_TRAIN = [
    {"id": "78687", "label": "holding potato next to vicks vaporub bottle",
     "template": "Holding [something] next to [something]", "placeholders": ["potato", "vicks vaporub bottle"]},
    {"id": "42326", "label": "spreading margarine onto bread", "template": "Spreading [something] onto [something]",
     "placeholders": ["margarine", "bread"]},
    {"id": "100904", "label": "putting pen behind pencil case", "template": "Putting [something] behind [something]",
     "placeholders": ["pen", "pencil case"]},
]
SSV2_LABELS = {"Holding something next to something": "39", "Spreading something onto something": "118",
               "Putting something behind something": "100"}


def test_something_something_v2_webm_and_frame_folders(tmp_path):
    ann = tmp_path / "labels"
    ann.mkdir()
    (ann / "something-something-v2-train.json").write_text(json.dumps(SSV2_TRAIN))
    (ann / "something-something-v2-labels.json").write_text(json.dumps(SSV2_LABELS))
    videos = tmp_path / "20bn-something-something-v2"
    write_video(videos / "78687.webm", gray_frames(8), fps=12)
    frames = tmp_path / "20bn-something-something-v2" / "frames" / "42326"
    frames.mkdir(parents=True)
    for i, img in enumerate(gray_frames(6)):
        Image.fromarray(img).save(frames / f"{i + 1:06d}.jpg")
    result = import_dataset("ssv2", ann / "something-something-v2-train.json", videos, skip_missing=True, fps=12)
    webm, folder = result.samples
    assert webm.labels[0].value == "Holding potato next to vicks vaporub bottle"
    assert webm.meta["template"] == "Holding something next to something" and webm.meta["class_id"] == "39"
    assert webm.video.endswith("78687.webm") and "fps" not in webm.meta
    assert folder.labels[0].value == "Spreading margarine onto bread" and folder.meta["fps"] == 12
    assert result.skipped == {"video not found": 1}
    write_manifest(result.samples, tmp_path / "ssv2.jsonl")
    assert load_manifest(tmp_path / "ssv2.jsonl")[1].fps == 12.0  # the frame folder validates with its fps
    (ann / "something-something-v2-test.json").write_text(json.dumps([{"id": "1420"}, {"id": "1421"}]))
    with pytest.raises(DatasetFormatError, match="2 no label \\(test split\\)"):
        import_dataset("ssv2", ann / "something-something-v2-test.json", videos)


# NExT-QA train.csv (Xiao et al. 2021): answer is the index of the right option
NEXTQA_HEADER = ["video", "frame_count", "width", "height", "question", "answer", "qid", "type",
                 "a0", "a1", "a2", "a3", "a4"]
NEXTQA_ROWS = [
    ["4010069381", "369", "640", "480", "how do the two man play the instrument", "0", "6", "CH",
     "roll the handle", "tap their feet", "strum the string", "hit with sticks", "pat with hand"],
    ["4882821564", "1011", "640", "480", "why did the boy pick up one present from the group of them and move to "
     "the sofa", "3", "7", "CW", "share with the girl", "approach lady sitting there", "unwrap it", "playing with toy",
     "gesture something"],
    ["4882821564", "1011", "640", "480", "what did the lady do after the boy picked up the present", "1", "8", "TN",
     "watch", "watch", "clap", "wave", "laugh"],
]


def _write_csv(path, rows, header=NEXTQA_HEADER):
    with path.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(header)
        writer.writerows(rows)


def test_nextqa_multiple_choice(tmp_path):
    src = tmp_path / "train.csv"
    _write_csv(src, NEXTQA_ROWS)
    videos = tmp_path / "NExTVideo"
    write_video(videos / "1164" / "4010069381.mp4", gray_frames(8), fps=8)
    write_video(videos / "0000" / "4882821564.mp4", gray_frames(8), fps=8)
    result = import_dataset("nextqa", src, videos)
    first, second = result.samples
    assert first.labels[0].type == "choice" and first.labels[0].value == "roll the handle"
    assert first.labels[0].options == ["roll the handle", "tap their feet", "strum the string", "hit with sticks",
                                       "pat with hand"]
    assert second.labels[0].value == "playing with toy" and second.meta["type"] == "CW"
    assert second.meta["question"].startswith("why did the boy") and second.video.endswith("0000/4882821564.mp4")
    assert result.skipped == {"empty or repeated options": 1}
    test_src = tmp_path / "test.csv"
    _write_csv(test_src, [row[:5] + [""] + row[6:] for row in NEXTQA_ROWS])
    with pytest.raises(DatasetFormatError, match="3 no answer"):
        import_dataset("nextqa", test_src, videos)
