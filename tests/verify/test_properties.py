"""Property tests of the geometric and numeric rules."""

from hypothesis import given
from hypothesis import strategies as st

from videostar.labels.bbox import iou_2d
from videostar.labels.score import relative_error
from videostar.labels.temporal_range import iou_1d

unit = st.floats(0, 1, allow_nan=False)


@st.composite
def spans(draw):
    a, b = draw(unit), draw(unit)
    if a == b:
        b = min(1.0, a + 0.01) if a < 1 else a - 0.01
    return (min(a, b), max(a, b))


@st.composite
def boxes(draw):
    (x1, x2), (y1, y2) = draw(spans()), draw(spans())
    return (x1, y1, x2, y2)


@given(spans(), spans())
def test_iou_1d_symmetric_bounded(a, b):
    assert iou_1d(a, b) == iou_1d(b, a)
    assert 0.0 <= iou_1d(a, b) <= 1.0


@given(spans())
def test_iou_1d_identity(a):
    assert abs(iou_1d(a, a) - 1.0) < 1e-9


@given(boxes(), boxes())
def test_iou_2d_symmetric_bounded(a, b):
    assert abs(iou_2d(a, b) - iou_2d(b, a)) < 1e-12
    assert 0.0 <= iou_2d(a, b) <= 1.0 + 1e-12


@given(boxes())
def test_iou_2d_identity(a):
    assert abs(iou_2d(a, a) - 1.0) < 1e-9


@given(boxes(), boxes())
def test_disjoint_boxes_have_zero_iou(a, b):
    if a[2] <= b[0] or b[2] <= a[0] or a[3] <= b[1] or b[3] <= a[1]:
        assert iou_2d(a, b) == 0.0


@given(st.floats(-1e6, 1e6, allow_nan=False), st.floats(-1e6, 1e6, allow_nan=False))
def test_relative_error_nonnegative_and_zero_on_identity(p, g):
    assert relative_error(p, g) >= 0
    assert relative_error(g, g) == 0


@given(st.floats(0.01, 1e4), st.floats(-0.099, 0.099))
def test_within_ten_percent_passes_score_rule(g, rel):
    assert relative_error(g * (1 + rel), g) <= 0.1 + 1e-9
