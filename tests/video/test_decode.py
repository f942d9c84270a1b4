import numpy as np
import pytest
from PIL import Image

from media import frame_index, gray_frames, write_vfr_video, write_wav
from videostar.video.decode import VideoDecodeError, decode, probe
from videostar.video.encode import write_video
from videostar.video.sampling import FrameSampling


def test_picks_the_frame_shown_at_each_sampled_time(gray_video):
    frames = decode(gray_video, FrameSampling(num_frames=4))
    # 2 s at 8 fps; times 0.25, 0.75, 1.25, 1.75 -> frames 2, 6, 10, 14
    assert [frame_index(f) for f in frames.array] == [2, 6, 10, 14]
    assert frames.array.dtype == np.uint8 and frames.array.shape == (4, 48, 64, 3)
    assert frames.times.tolist() == [0.25, 0.75, 1.25, 1.75]
    assert frames.info.duration == pytest.approx(2.0) and frames.info.fps == pytest.approx(8.0)


def test_segment_and_dense_sampling(gray_video):
    segment = decode(gray_video, FrameSampling(num_frames=2), segment=(1.0, 2.0))
    assert [frame_index(f) for f in segment.array] == [10, 14]  # 1.25 s, 1.75 s
    dense = decode(gray_video, FrameSampling(mode="fps", fps=8, max_frames=64))
    assert [frame_index(f) for f in dense.array] == list(range(16))


def test_seeking_far_apart_in_a_long_video(tmp_path):
    video = write_video(tmp_path / "long.mp4", gray_frames(17 * 4, step=3), fps=4, gop=8)  # 17 s
    frames = decode(video, FrameSampling(num_frames=3))
    expected = [int(t * 4) for t in FrameSampling(num_frames=3).times(0, 17)]
    assert [frame_index(f, step=3) for f in frames.array] == expected


def test_variable_frame_rate_follows_presentation_times(tmp_path):
    times = [0.0, 0.1, 0.15, 0.9, 1.0, 1.6, 1.7, 1.95]
    video = write_vfr_video(tmp_path / "vfr.mp4", times)
    wanted = [0.05, 0.12, 0.5, 0.95, 1.65, 1.99]
    # the frame on screen at t is the last one whose start time <= t
    expected = [max(i for i, s in enumerate(times) if s <= t) for t in wanted]

    class AtTimes(FrameSampling):
        def times(self, start, end):
            return np.asarray(wanted)

    frames = decode(video, AtTimes())
    assert [frame_index(f) for f in frames.array] == expected


@pytest.mark.parametrize("rotation, expected_shape, marker_at", [
    (90, (64, 48, 3), (-1, 0)),   # displayed rotated 90° counter-clockwise: top-left goes bottom-left
    (-90, (64, 48, 3), (0, -1)),
    (180, (48, 64, 3), (-1, -1)),
])
def test_rotation_metadata_is_applied(tmp_path, rotation, expected_shape, marker_at):
    img = np.zeros((48, 64, 3), np.uint8)
    img[:12, :12] = 255  # a white marker in the top-left corner
    video = write_video(tmp_path / "rot.mp4", [img] * 4, fps=4, rotation=rotation)
    frame = decode(video, FrameSampling(num_frames=1)).array[0]
    assert frame.shape == expected_shape
    r, c = marker_at
    corner = frame[(slice(None, 8) if r == 0 else slice(-8, None)), (slice(None, 8) if c == 0 else slice(-8, None))]
    assert corner.mean() > 200


def test_odd_sizes_and_pixel_budget(tmp_path):
    import av

    path = tmp_path / "odd.mp4"
    with av.open(str(path), "w") as container:  # odd sizes need 4:4:4 for H.264
        stream = container.add_stream("libx264", rate=4)
        stream.width, stream.height, stream.pix_fmt = 97, 55, "yuv444p"
        for i in range(4):
            container.mux(stream.encode(av.VideoFrame.from_ndarray(np.full((55, 97, 3), 40 * i, np.uint8), format="rgb24")))
        container.mux(stream.encode())
    full = decode(path, FrameSampling(num_frames=2))
    assert full.array.shape == (2, 55, 97, 3)
    small = decode(path, FrameSampling(num_frames=2, max_pixels=1000))
    h, w = small.array.shape[1:3]
    assert h * w <= 1000 and (h, w) == FrameSampling(max_pixels=1000).output_size(55, 97)


def test_frame_directory_with_fps(tmp_path):
    folder = tmp_path / "frames"
    folder.mkdir()
    for i, img in enumerate(gray_frames(10)):
        Image.fromarray(img).save(folder / f"{489 + i:05d}.png")  # FineDiving-style names
    assert probe(folder, fps=5).duration == 2.0
    frames = decode(folder, FrameSampling(num_frames=5), fps=5)
    assert [frame_index(f) for f in frames.array] == [1, 3, 5, 7, 9]
    with pytest.raises(VideoDecodeError, match="needs its fps"):
        decode(folder, FrameSampling())


@pytest.mark.parametrize("make, reason", [
    (lambda p: p, "file not found"),
    (lambda p: (p.write_bytes(b""), p)[1], "empty"),
    (lambda p: (p.write_bytes(np.random.default_rng(0).bytes(5000)), p)[1], "cannot open"),
    (lambda p: write_wav(p.with_suffix(".wav")), "no video stream"),
])
def test_bad_files_raise_errors_naming_the_file(tmp_path, make, reason):
    path = make(tmp_path / "bad.mp4")
    with pytest.raises(VideoDecodeError, match=reason) as err:
        decode(path, FrameSampling())
    assert str(path) in str(err.value)


def test_truncated_file_raises_not_black_frames(tmp_path, gray_video):
    data = gray_video.read_bytes()
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(data[: len(data) // 3])
    with pytest.raises(VideoDecodeError) as err:
        decode(cut, FrameSampling())
    assert str(cut) in str(err.value)


def test_time_limit(gray_video):
    with pytest.raises(VideoDecodeError, match="timed out"):
        decode(gray_video, FrameSampling(num_frames=16), timeout_s=0)


def test_time_limit_during_decoding(gray_video, monkeypatch):
    import videostar.video.decode as decode_module

    clock = iter([0.0] + [100.0] * 100)  # the deadline passes once decoding has started
    monkeypatch.setattr(decode_module, "_now", lambda: next(clock))
    with pytest.raises(VideoDecodeError, match="decoding timed out"):
        decode(gray_video, FrameSampling(num_frames=16), timeout_s=50)


@pytest.mark.parametrize("rotation", [0, 90])
def test_decord_backend_picks_the_same_frames_as_pyav(tmp_path, rotation):
    pytest.importorskip("decord")
    times = [0.0, 0.1, 0.15, 0.9, 1.0, 1.6, 1.7, 1.95]
    videos = [write_vfr_video(tmp_path / "vfr.mp4", times),
              write_video(tmp_path / "cfr.mp4", gray_frames(16), fps=8, rotation=rotation)]
    for video in videos:
        for spec in (FrameSampling(num_frames=5), FrameSampling(num_frames=3, max_pixels=500)):
            a = decode(video, spec, backend="pyav")
            b = decode(video, spec, backend="decord")
            assert a.array.shape == b.array.shape
            assert [frame_index(f) for f in a.array] == [frame_index(f) for f in b.array]
