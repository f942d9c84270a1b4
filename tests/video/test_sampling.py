import numpy as np
import pytest
from pydantic import ValidationError

from videostar.video.sampling import FrameSampling


def test_uniform_takes_bin_centres_over_clip_or_segment():
    spec = FrameSampling(num_frames=4)
    assert spec.times(0, 2).tolist() == [0.25, 0.75, 1.25, 1.75]
    assert spec.times(10, 12).tolist() == [10.25, 10.75, 11.25, 11.75]


def test_fps_mode_and_its_cap():
    spec = FrameSampling(mode="fps", fps=2, max_frames=100)
    assert spec.times(0, 3).tolist() == [0.25, 0.75, 1.25, 1.75, 2.25, 2.75]
    capped = FrameSampling(mode="fps", fps=10, max_frames=4)
    assert capped.times(0, 60).tolist() == FrameSampling(num_frames=4).times(0, 60).tolist()
    assert len(FrameSampling(mode="fps", fps=1).times(0, 0.2)) == 1  # shorter than a period: one frame
    with pytest.raises(ValidationError, match="needs fps"):
        FrameSampling(mode="fps")


def test_output_size_respects_pixel_budget_and_aspect():
    spec = FrameSampling(max_pixels=64 * 64)
    h, w = spec.output_size(720, 1280)
    assert h * w <= 64 * 64 and abs(w / h - 1280 / 720) < 0.05
    assert FrameSampling().output_size(720, 1280) == (720, 1280)


def test_key_is_canonical():
    assert FrameSampling(num_frames=8).key() == FrameSampling(num_frames=8, mode="uniform").key()
    assert FrameSampling(num_frames=8).key() != FrameSampling(num_frames=16).key()
    assert np.all(np.diff(FrameSampling(num_frames=32).times(0, 1)) > 0)
