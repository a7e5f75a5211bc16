"""Transposed convolutions and checkerboard artifacts (chapter 09; Odena, Dumoulin
and Olah 2016): overlap counts against a loop and torch, the output size, the
border and interior, the checkerboard score, the figure, the explorer, and the
argument checks."""

import itertools

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from matplotlib.image import AxesImage  # noqa: E402

from cnnlib import widgets  # noqa: E402
from cnnlib.transposed_viz import (  # noqa: E402
    checkerboard_score,
    draw_transposed_overlap,
    overlap_border,
    overlap_counts,
    transposed_output_size,
)

# every setting of the explorer's sliders (n 2..10 thinned), n = 1 added
GRID = list(itertools.product((1, 2, 3, 5, 8, 10), range(1, 8), range(1, 5), range(4)))


def grid(stride, fits=True):
    """The settings of GRID with this stride whose output is (not) empty."""
    return [g for g in GRID if g[2] == stride and valid(*g) == fits]


def valid(n, k, s, p):
    return (n - 1) * s - 2 * p + k >= 1


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def brute_counts(n, k, s, p):
    """The definition as a loop: sample i puts tap t at output position i·s + t - p."""
    n_out = (n - 1) * s - 2 * p + k
    counts = [0] * n_out
    for i in range(n):
        for t in range(k):
            j = i * s + t - p
            if 0 <= j < n_out:
                counts[j] += 1
    return np.array(counts)


def brute_counts2d(n, k, s, p):
    n_out = (n - 1) * s - 2 * p + k
    counts = np.zeros((n_out, n_out), dtype=int)
    for i, j, u, v in itertools.product(range(n), range(n), range(k), range(k)):
        r, c = i * s + u - p, j * s + v - p
        if 0 <= r < n_out and 0 <= c < n_out:
            counts[r, c] += 1
    return counts


def periodic_count(j, k, s, p):
    """Taps at output position j of an endless input: t in [0, k), t ≡ j + p mod s."""
    return sum(1 for t in range(k) if (t - j - p) % s == 0)


@pytest.mark.parametrize("stride", [1, 2, 3, 4])
def test_counts_match_the_loop_and_torch(stride):
    for n, k, s, p in grid(stride):
        counts = overlap_counts(n, k, s, p)
        assert counts.dtype == np.int64
        assert np.array_equal(counts, brute_counts(n, k, s, p)), (n, k, s, p)
        layer = torch.nn.ConvTranspose1d(1, 1, k, stride=s, padding=p, bias=False)
        with torch.no_grad():
            layer.weight.fill_(1.0)
            y = layer(torch.ones(1, 1, n))[0, 0]  # float32: small counts exact
        assert y.shape == (transposed_output_size(n, k, s, p),) == counts.shape
        assert np.array_equal(counts, y.numpy()), (n, k, s, p)


@pytest.mark.parametrize("stride", [1, 2, 3, 4])
def test_sizes_torch_rejects_are_rejected(stride):
    assert len(grid(stride, fits=False)) > 3  # the grid reaches them
    for n, k, s, p in grid(stride, fits=False):
        layer = torch.nn.ConvTranspose1d(1, 1, k, stride=s, padding=p, bias=False)
        with pytest.raises(RuntimeError):
            layer(torch.ones(1, 1, n))
        with pytest.raises(ValueError, match="transposed_output_size: output size"):
            transposed_output_size(n, k, s, p)
        most = ((n - 1) * s + k - 1) // 2  # the message's bound is the exact one
        assert valid(n, k, s, most) and not valid(n, k, s, most + 1)
        with pytest.raises(ValueError, match=f"padding must be at most {most} here"):
            overlap_counts(n, k, s, p)


@pytest.mark.parametrize(
    ("n", "k", "s", "p"),
    [
        (1, 1, 1, 0),
        (3, 3, 2, 0),
        (4, 3, 2, 1),
        (4, 4, 2, 1),
        (3, 2, 3, 0),
        (5, 7, 4, 3),
    ],
)
def test_2d_counts_match_the_loop_torch_and_the_outer_product(n, k, s, p):
    counts = overlap_counts(n, k, s, p, ndim=2)
    assert np.array_equal(counts, brute_counts2d(n, k, s, p))
    ones = torch.ones(1, 1, n, n, dtype=torch.float64)
    y = F.conv_transpose2d(
        ones, torch.ones(1, 1, k, k, dtype=torch.float64), stride=s, padding=p
    )[0, 0]
    assert np.array_equal(counts, y.numpy())
    c = overlap_counts(n, k, s, p)
    assert np.array_equal(counts, np.outer(c, c))


def test_the_three_cases_of_the_chapter():
    odd, even, equal = (overlap_counts(6, k, 2) for k in (3, 4, 2))
    assert odd.tolist() == [1, 1, 2, 1, 2, 1, 2, 1, 2, 1, 2, 1, 1]
    assert even.tolist() == [1, 1] + [2] * 10 + [1, 1]
    assert equal.tolist() == [1] * 12
    assert [overlap_border(k, 2) for k in (3, 4, 2)] == [1, 2, 0]
    assert odd[1:-1].tolist() == [1, 2] * 5 + [1]  # alternates
    assert set(even[2:-2]) == {2}  # uniform
    assert [
        checkerboard_score(c, overlap_border(k, 2))
        for c, k in ((odd, 3), (even, 4), (equal, 2))
    ] == [0.5, 0.0, 0.0]
    grid = overlap_counts(6, 3, 2, ndim=2)[1:-1, 1:-1]  # (11, 11)
    assert grid[0::2, 0::2].tolist() == [[1] * 6] * 6
    assert set(grid[1::2, 1::2].ravel()) == {4}
    assert set(grid[0::2, 1::2].ravel()) == set(grid[1::2, 0::2].ravel()) == {2}
    assert checkerboard_score(grid) == 0.75
    assert set(overlap_counts(6, 4, 2, ndim=2)[2:-2, 2:-2].ravel()) == {4}
    assert overlap_counts(4, 1, 2).tolist() == [1, 0, 1, 0, 1, 0, 1]  # holes
    assert checkerboard_score(overlap_counts(4, 1, 2)) == 1.0


@pytest.mark.parametrize("stride", [1, 2, 3, 4])
def test_border_is_tight_and_the_interior_periodic(stride):
    closed_forms = 0
    for n, k, s, p in grid(stride):
        counts, b = overlap_counts(n, k, s, p), overlap_border(k, s, p)
        n_out, where = len(counts), (n, k, s, p)
        if 2 * b >= n_out:
            continue  # no interior (the figure says so)
        for j in range(b, n_out - b):
            assert counts[j] == periodic_count(j, k, s, p), (where, j)
        if b:  # the positions just outside miss a tap of sample -1 (or n)
            assert counts[b - 1] < periodic_count(b - 1, k, s, p), where
            assert counts[n_out - b] < periodic_count(n_out - b, k, s, p), where
        if n_out - 2 * b >= s:  # a whole period: the score has a closed form
            score = checkerboard_score(counts, b)
            assert score == pytest.approx(1 - (k // s) / -(-k // s), abs=1e-15)
            assert (score == 0) == (k % s == 0), where
            closed_forms += 1
    assert closed_forms > 50


def test_score_values_and_inputs():
    assert checkerboard_score([3.0, 3.0, 3.0]) == 0.0
    assert checkerboard_score([1, 2, 1, 2]) == 0.5
    assert checkerboard_score([0, 9, 1, 2, 1, 0], border=2) == 0.5
    assert checkerboard_score(torch.tensor([2.0, 4.0])) == 0.5
    assert checkerboard_score(np.array([[1, 2], [2, 4]])) == 0.75
    # a learned kernel on a constant input: the period-2 ripple of [1, 3, 1]
    y = F.conv_transpose1d(
        torch.ones(1, 1, 8), torch.tensor([[[1.0, 3.0, 1.0]]]), stride=2
    )[0, 0]
    assert checkerboard_score(y, border=1) == pytest.approx(1 - 2 / 3)
    a = np.array([5.0, 1.0, 2.0, 1.0, 2.0, 1.0, 7.0])
    before = a.copy()
    assert checkerboard_score(a[1:6:2]) == 0.0  # non-contiguous view
    assert checkerboard_score(a, 1) == 0.5 and np.array_equal(a, before)


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (lambda: overlap_counts(0, 3, 2), ValueError, "n must be >= 1, got 0"),
        (lambda: overlap_counts(6.0, 3, 2), TypeError, "n must be an int, got 6.0"),
        (lambda: overlap_counts(6, 0, 2), ValueError, "k must be >= 1, got 0"),
        (lambda: overlap_counts(6, True, 2), TypeError, "k must be an int"),
        (lambda: overlap_counts(6, 3, 0), ValueError, "stride must be >= 1, got 0"),
        (lambda: overlap_counts(6, 3, "2"), TypeError, "stride must be an int"),
        (lambda: overlap_counts(6, 3, 2, -1), ValueError, "padding must be >= 0"),
        (
            lambda: overlap_counts(2, 1, 1, 1),
            ValueError,
            r"output size \(n - 1\)·s - 2p \+ k = \(2 - 1\)·1 - 2 \+ 1 = 0 must be "
            ">= 1; padding must be at most 0 here, got 1",
        ),
        (lambda: overlap_counts(6, 3, 2, ndim=3), ValueError, "ndim must be 1 or 2"),
        (lambda: overlap_counts(6, 3, 2, ndim="2"), TypeError, "ndim must be 1 or"),
        (lambda: transposed_output_size(6, -3), ValueError, "k must be >= 1"),
        (lambda: overlap_border(3, 0), ValueError, "stride must be >= 1"),
        (lambda: overlap_border(3, 2, 1.5), TypeError, "padding must be an int"),
        (lambda: checkerboard_score(None), TypeError, "y must be an array, got None"),
        (lambda: checkerboard_score(["a"]), TypeError, "y must be a real numeric"),
        (
            lambda: checkerboard_score(np.ones((2, 2, 2))),
            ValueError,
            r"y must be 1-D or 2-D and not empty, got \(2, 2, 2\)",
        ),
        (lambda: checkerboard_score([]), ValueError, "y must be 1-D or 2-D and not"),
        (lambda: checkerboard_score([1, -1]), ValueError, "y must be non-negative"),
        (lambda: checkerboard_score([1, np.nan]), ValueError, "y holds NaN"),
        (lambda: checkerboard_score([0, 0, 0]), ValueError, "y is zero between"),
        (
            lambda: checkerboard_score([1, 2, 3, 4], 2),
            ValueError,
            r"border 2 at both ends leaves nothing of y \(4,\)",
        ),
        (
            lambda: checkerboard_score([1, 2], border=-1),
            ValueError,
            "border must be >= 0",
        ),
        (
            lambda: draw_transposed_overlap(6, 3, 2, -1),
            ValueError,
            "padding must be >= 0",
        ),
        (
            lambda: draw_transposed_overlap(axes=plt.subplots(1, 3)[1]),
            ValueError,
            "axes must hold 2 axes, got 3",
        ),
    ],
)
def test_bad_input_names_the_argument(call, error, match):
    with pytest.raises(error, match=r"^\w+: " + match):
        call()


def test_figure_panels():
    r = draw_transposed_overlap(6, 3, 2)
    line, grid = r.axes
    assert len(plt.gcf().axes) == 2 and (r.n_out, r.border) == (13, 1)
    assert np.array_equal(r.counts, overlap_counts(6, 3, 2))
    assert np.array_equal(r.counts2d, overlap_counts(6, 3, 2, ndim=2))
    assert (r.score, r.score2d) == (0.5, 0.75)
    assert line.get_title() == (
        "1D: n = 6, k = 3, s = 2, p = 0, n_out = 13: checkerboard 0.50"
    )
    assert grid.get_title() == "2D, 3×3 kernel: checkerboard 0.75"
    labels = [t.get_text() for t in line.get_yticklabels()]
    assert labels == ["x0", "x1", "x2", "x3", "x4", "x5", "sum"]
    # one cell per tap of every stamp, then one per output position
    bars = [b for b in line.patches if b.get_height() < 1]
    assert len(bars) == 6 * 3 + 13
    starts = sorted(b.get_x() + 0.5 for b in bars if b.get_y() > 5)  # row x0
    assert starts == [0, 1, 2]
    assert [t.get_text() for t in line.texts] == [str(c) for c in r.counts]
    (interior,) = line.lines
    assert interior.get_xdata().tolist() == [0.5, 11.5]
    (image,) = [a for a in grid.get_children() if isinstance(a, AxesImage)]
    assert np.array_equal(image.get_array(), r.counts2d)
    assert len(grid.texts) == 13 * 13


def test_figure_padding_large_settings_and_no_interior():
    _, axes = plt.subplots(2, 2)
    r = draw_transposed_overlap(10, 7, 4, 3, axes=axes[0])
    assert (r.n_out, r.border, r.score, r.score2d) == (37, 0, 0.5, 0.75)
    line, grid = r.axes
    assert not line.texts and not grid.texts  # too many cells to number
    grey = [p for p in line.patches if p.get_height() == 1]  # the cropped ends
    assert len(grey) == 2
    r = draw_transposed_overlap(2, 7, 1, 0, axes=axes[1])  # all edge
    assert (r.n_out, r.border, r.score, r.score2d) == (8, 6, None, None)
    assert r.axes[0].get_title().endswith("no interior")
    assert not r.axes[0].lines


def test_widget_constructs_and_redraws(capsys):
    before = len(plt.get_fignums())
    w = widgets.transposed_conv_explorer(n=6, k=3, stride=2)
    n, k, stride, padding = w.children[:4]
    assert [c.description for c in (n, k, stride, padding)] == [
        "input n",
        "kernel k",
        "stride s",
        "padding p",
    ]
    assert [(c.min, c.max, c.value) for c in (n, k, stride, padding)] == [
        (2, 10, 6),
        (1, 7, 3),
        (1, 4, 2),
        (0, 3, 0),
    ]
    assert not any(c.continuous_update for c in (n, k, stride, padding))
    # interactive swallows a failing callback (a logged warning): check it drew
    assert len(plt.get_fignums()) == before + 1
    assert plt.gcf().axes[0].get_title().endswith("n_out = 13: checkerboard 0.50")
    out = capsys.readouterr().out
    assert "n_out = (n - 1)·s - 2p + k\n      = (6 - 1)·2 - 0 + 3 = 13" in out
    assert "0.50 in 1D, 0.75 in 2D" in out
    k.value = 4
    assert "n_out = 14: checkerboard 0.00" in plt.gcf().axes[0].get_title()
    n.value, k.value, stride.value = 2, 1, 1
    figures = len(plt.get_fignums())
    capsys.readouterr()
    padding.value = 3
    out = capsys.readouterr().out
    assert "padding must be at most 0 here, got 3" in out
    assert len(plt.get_fignums()) == figures  # no figure for that one
    padding.value = 0
    assert "0.00 in 1D" in capsys.readouterr().out
