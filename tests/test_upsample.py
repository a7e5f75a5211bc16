"""cnnlib's U-Net upsampling ops against torch.nn.functional (float64 unless a test
says otherwise): max_pool1d/2d(..., return_indices=True), max_unpool2d and
interpolate (nearest, linear, bilinear, align_corners either way), on a parametrized
grid and with hypothesis (profile "ci", tests/conftest.py), plus their edge cases and
errors."""

import re

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from _strategies import (
    LAYOUTS,
    TOL,
    TOL32,
    assert_agrees,
    pool_cases,
    seeds,
    tensor,
)
from hypothesis import given
from hypothesis import strategies as st

import cnnlib

# one thread: torch's max_unpool2d keeps the later of two values sent to one position
# only when a single thread does the scattering
torch.set_num_threads(1)

MAX_POOL = {1: (cnnlib.max_pool1d, F.max_pool1d), 2: (cnnlib.max_pool2d, F.max_pool2d)}
LINEAR = {1: "linear", 2: "bilinear"}


def _ints(rng, lo, hi, nd):
    return tuple(int(v) for v in rng.integers(lo, hi + 1, nd))


def _values(rng, shape, kind):
    """Normal values, or small integers (many ties), or normal values with NaN."""
    x = rng.standard_normal(shape)
    if kind == "ties":
        return np.round(x)
    if kind == "nan":
        x[rng.random(shape) < 0.2] = np.nan
    return x


# ------------------------------------------------------ max pooling's indices


def pool_grid(nd, count, seed):
    """Random valid pooling calls: padding <= kernel_size / 2, stride None or not,
    windows that overlap the padding, ties and NaN."""
    rng = np.random.default_rng(seed)
    cases = []
    for i in range(count):
        k = _ints(rng, 1, 4, nd)
        p = tuple(int(rng.integers(0, kk // 2 + 1)) for kk in k)
        s = None if rng.random() < 0.3 else _ints(rng, 1, 4, nd)
        size = [
            max(1, kk - 2 * pp) + int(rng.integers(0, 6))
            for kk, pp in zip(k, p, strict=True)
        ]
        shape = (int(rng.integers(1, 3)), int(rng.integers(1, 4)), *size)
        kind = ("normal", "ties", "nan")[i % 3]
        cases.append(
            (seed * 1000 + i, shape, kind, dict(kernel_size=k, stride=s, padding=p))
        )
    return cases


POOL_GRID = [(nd, *case) for nd in (1, 2) for case in pool_grid(nd, 45, seed=nd)]


@pytest.mark.parametrize(
    "nd, seed, shape, kind, kwargs",
    POOL_GRID,
    ids=[
        f"{nd}d-{shape}-{kind}-{kw}".replace(" ", "")
        for nd, _, shape, kind, kw in POOL_GRID
    ],
)
def test_max_pool_indices_equal_torchs(nd, seed, shape, kind, kwargs):
    x = _values(np.random.default_rng(seed), shape, kind)
    ours, ref = MAX_POOL[nd]
    y, indices = ours(x, **kwargs, return_indices=True)
    y_ref, indices_ref = ref(tensor(x), **kwargs, return_indices=True)
    assert indices.dtype == np.int64
    np.testing.assert_array_equal(indices, indices_ref.numpy())
    np.testing.assert_array_equal(y, y_ref.numpy())  # a maximum is exact, NaN too


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("nd", [1, 2])
@given(data=st.data(), kind=st.sampled_from(["normal", "ties", "nan"]))
def test_max_pool_indices_property(nd, layout, data, kind):
    """Random N, C, sizes, kernel_size, stride and padding, with and without the
    batch axis and with N = 0: the indices are torch's, exactly."""
    case = data.draw(pool_cases(nd, layout), label="case")
    x = _values(np.random.default_rng(case.seed), case.x.shape, kind)
    ours, ref = MAX_POOL[nd]
    y, indices = ours(x, **case.kwargs, return_indices=True)
    y_ref, indices_ref = ref(tensor(x), **case.torch_kwargs, return_indices=True)
    assert indices.shape == y.shape == tuple(y_ref.shape)
    np.testing.assert_array_equal(indices, indices_ref.numpy())
    np.testing.assert_array_equal(y, y_ref.numpy())


def test_indices_count_in_the_unpadded_input_and_ties_take_the_first():
    x = np.zeros((1, 1, 3, 3))  # all tied: every window picks its first real sample
    _, indices = cnnlib.max_pool2d(x, 3, stride=1, padding=1, return_indices=True)
    np.testing.assert_array_equal(indices[0, 0], [[0, 0, 1], [0, 0, 1], [3, 3, 4]])


def test_a_window_of_minus_infinity_picks_its_first_sample_not_the_padding():
    x = np.full((1, 1, 3, 3), -np.inf)
    _, indices = cnnlib.max_pool2d(x, 3, stride=2, padding=1, return_indices=True)
    np.testing.assert_array_equal(indices[0, 0], [[0, 1], [3, 4]])


def test_a_window_holding_nan_points_to_its_last_nan():
    nan = np.nan
    x = np.array([[[[1.0, nan, 2.0], [nan, 0.0, 3.0], [0.0, 0.0, 0.0]]]])
    y, indices = cnnlib.max_pool2d(x, 2, stride=1, return_indices=True)
    np.testing.assert_array_equal(indices[0, 0], [[3, 1], [3, 5]])
    assert np.isnan(y[0, 0, 0, 0]) and y[0, 0, 1, 1] == 3.0


def test_return_indices_keeps_the_dtype_and_false_keeps_the_old_result():
    x = np.random.default_rng(0).standard_normal((2, 3, 6, 6)).astype(np.float32)
    y, indices = cnnlib.max_pool2d(x, 2, return_indices=True)
    assert y.dtype == np.float32 and indices.dtype == np.int64
    plain = cnnlib.max_pool2d(x, 2)
    assert isinstance(plain, np.ndarray)
    np.testing.assert_array_equal(plain, y)
    y1, i1 = cnnlib.max_pool1d([[[1, 5, 2, 0]]], 2, return_indices=True)  # ints
    assert y1.dtype == np.float64
    np.testing.assert_array_equal(i1, [[[1, 2]]])


@pytest.mark.parametrize("bad", [1, "yes", None, np.int64(1)])
def test_return_indices_must_be_a_bool(bad):
    with pytest.raises(TypeError, match=r"^max_pool2d: return_indices must be True"):
        cnnlib.max_pool2d(np.zeros((1, 1, 4, 4)), 2, return_indices=bad)


# --------------------------------------------------------------- max unpooling


def _unpool_both(x, kwargs, output_size, spell_as=None):
    """Pool x, then unpool with cnnlib and with torch -> (ours, torch's)."""
    y, indices = cnnlib.max_pool2d(x, **kwargs, return_indices=True)
    t_y, t_indices = F.max_pool2d(tensor(x), **kwargs, return_indices=True)
    ours = cnnlib.max_unpool2d(
        y, indices, **kwargs, output_size=spell_as or output_size
    )
    theirs = F.max_unpool2d(t_y, t_indices, **kwargs, output_size=output_size)
    return ours, theirs


@pytest.mark.parametrize(
    "nd, seed, shape, kind, kwargs",
    [case for case in POOL_GRID if case[0] == 2],
)
def test_unpool_of_pool_equals_torchs(nd, seed, shape, kind, kwargs):
    """unpool(pool(x)) puts every maximum back where it was, zeros elsewhere, with
    the output size of x given as (H, W) and as (N, C, H, W)."""
    x = _values(np.random.default_rng(seed), shape, kind)
    ours, theirs = _unpool_both(x, kwargs, x.shape[-2:])
    assert ours.dtype == np.float64
    np.testing.assert_array_equal(ours, theirs.numpy())  # copies: exact
    ours4, _ = _unpool_both(x, kwargs, x.shape[-2:], spell_as=x.shape)
    np.testing.assert_array_equal(ours4, ours)


@pytest.mark.parametrize("layout", LAYOUTS)
@given(data=st.data())
def test_unpool_of_pool_property(layout, data):
    """(N, C, H, W), (C, H, W) and N = 0 alike; without output_size cnnlib raises a
    ValueError exactly when torch refuses the indices (pooling dropped a row)."""
    case = data.draw(pool_cases(2, layout), label="case")
    x, kwargs = case.x, case.torch_kwargs
    ours, theirs = _unpool_both(x, kwargs, x.shape[-2:])
    assert ours.shape == tuple(theirs.shape) == x.shape
    np.testing.assert_array_equal(ours, theirs.numpy())
    y, indices = cnnlib.max_pool2d(x, **kwargs, return_indices=True)
    try:
        expected = F.max_unpool2d(tensor(y), torch.from_numpy(indices), **kwargs)
    except RuntimeError:  # an index beyond the default output
        with pytest.raises(ValueError, match="^max_unpool2d: indices must lie in"):
            cnnlib.max_unpool2d(y, indices, **kwargs)
        return
    if 0 in expected.shape[-2:]:  # torch returns nothing; cnnlib refuses (below)
        with pytest.raises(ValueError, match="reduce padding"):
            cnnlib.max_unpool2d(y, indices, **kwargs)
        return
    np.testing.assert_array_equal(
        cnnlib.max_unpool2d(y, indices, **kwargs), expected.numpy()
    )


@given(
    n=st.integers(0, 2),
    c=st.integers(1, 3),
    h=st.integers(1, 4),
    w=st.integers(1, 4),
    k=st.integers(1, 3),
    s=st.integers(1, 3),
    seed=seeds,
)
def test_unpool_of_any_values_and_indices_property(n, c, h, w, k, s, seed):
    """Random values at random in-range indices, repeats included: the later value
    of a repeated index wins, as in torch's (single-threaded) loop."""
    rng = np.random.default_rng(seed)
    y = rng.standard_normal((n, c, h, w))
    plane = ((h - 1) * s + k) * ((w - 1) * s + k)
    indices = rng.integers(0, plane, y.shape)
    ours = cnnlib.max_unpool2d(y, indices, k, s)
    expected = F.max_unpool2d(tensor(y), tensor(indices), k, s)
    np.testing.assert_array_equal(ours, expected.numpy())


def test_unpool_keeps_float32_and_promotes_integers():
    x = np.random.default_rng(1).standard_normal((2, 3, 4, 6)).astype(np.float32)
    y, indices = cnnlib.max_pool2d(x, 2, return_indices=True)
    out = cnnlib.max_unpool2d(y, indices, 2)
    assert out.dtype == np.float32
    expected = F.max_unpool2d(*F.max_pool2d(tensor(x), 2, return_indices=True), 2)
    assert_agrees(out, expected, TOL32)
    assert cnnlib.max_unpool2d(np.ones((1, 1, 1, 1), int), [[[[3]]]], 2).dtype == (
        np.float64
    )


def test_unpool_of_a_worked_example():
    x = np.array([[1.0, 2, 0, 0], [4, 3, 0, 9], [0, 0, 5, 0], [7, 0, 0, 6]])
    y, indices = cnnlib.max_pool2d(x[None, None], 2, return_indices=True)
    np.testing.assert_array_equal(indices[0, 0], [[4, 7], [12, 15]])
    out = cnnlib.max_unpool2d(y, indices, 2)[0, 0]
    kept = [[0, 0, 0, 0], [4, 0, 0, 9], [0, 0, 0, 0], [7, 0, 0, 6]]
    np.testing.assert_array_equal(out, kept)


# --------------------------------------------------------------- interpolate


def torch_interpolate(x, **kwargs):
    """F.interpolate through torch's general CPU kernel.

    For a 4-D input and mode 'nearest' torch switches to a second kernel when
    H_out + W_out <= 128 (see cnnlib.upsample), which differs from its own general
    kernel in documented corner cases. The general kernel treats the axes one at a
    time with the same index code as the 3-D kernel, so resizing W and then H with
    3-D calls gives its numbers; test_nearest2d_is_torchs_own_call_where_... checks
    that this is F.interpolate's answer itself in almost every case.
    """
    t = tensor(x)
    if t.ndim == 3 or kwargs.get("mode", "nearest") != "nearest":
        return F.interpolate(t, **kwargs)
    size, factor = kwargs.get("size"), kwargs.get("scale_factor")
    size = size if size is None or isinstance(size, (tuple, list)) else (size, size)
    if factor is not None and not isinstance(factor, (tuple, list)):
        factor = (factor, factor)
    for axis in (3, 2):  # W, then H, each as the length of a 3-D input
        one = dict(
            size=None if size is None else size[axis - 2],
            scale_factor=None if factor is None else factor[axis - 2],
        )
        moved = t.movedim(axis, -1)  # (N, C, other, n)
        flat = F.interpolate(moved.reshape(-1, 1, moved.shape[-1]), **one)
        t = flat.reshape(*moved.shape[:-1], flat.shape[-1]).movedim(-1, axis)
    return t


SIZES = {
    1: [1, 2, 3, 5, 7, 8, 10, 16],
    2: [(1, 1), (3, 5), (6, 4), (8, 8), (13, 2), (5, 17)],
}
FACTORS = {
    1: [0.5, 1.5, 2, 2.5, 3, 1 / 3, 0.75, 1.0, 1.001],
    2: [2, 0.5, 1.5, (1.5, 0.5), (2, 3), (0.7, 2.5), (1 / 3, 1.25), 1.001],
}
SHAPES = {
    1: [(2, 3, 5), (1, 1, 1), (1, 2, 9)],
    2: [(2, 3, 4, 5), (1, 1, 1, 1), (1, 2, 7, 3)],
}
MODES = [("nearest", None), ("linear", False), ("linear", True)]


def interpolate_grid():
    cases = []
    for nd in (1, 2):
        for mode, corners in MODES:
            mode = LINEAR[nd] if mode == "linear" else mode
            for shape in SHAPES[nd]:
                for size in SIZES[nd]:
                    cases.append(
                        (shape, dict(size=size, mode=mode, align_corners=corners))
                    )
                for factor in FACTORS[nd]:
                    fs = factor if isinstance(factor, tuple) else (factor,) * nd
                    if all(int(n * f) >= 1 for n, f in zip(shape[2:], fs, strict=True)):
                        cases.append(
                            (
                                shape,
                                dict(
                                    scale_factor=factor,
                                    mode=mode,
                                    align_corners=corners,
                                ),
                            )
                        )
    return cases


INTERPOLATE_GRID = interpolate_grid()


@pytest.mark.parametrize(
    "shape, kwargs",
    INTERPOLATE_GRID,
    ids=[f"{s}-{kw}".replace(" ", "") for s, kw in INTERPOLATE_GRID],
)
def test_interpolate_matches_torch(shape, kwargs):
    x = np.random.default_rng(len(INTERPOLATE_GRID)).standard_normal(shape)
    y = cnnlib.interpolate(x, **kwargs)
    assert y.dtype == np.float64
    assert_agrees(y, torch_interpolate(x, **kwargs))


def test_nearest2d_is_torchs_own_call_where_its_two_kernels_agree():
    """The 4-D nearest grid against F.interpolate itself: equal wherever torch's
    two kernels agree with each other, which is almost everywhere (the claim can
    fail: the count is asserted)."""
    agree = total = 0
    for shape, kwargs in INTERPOLATE_GRID:
        if len(shape) != 4 or kwargs["mode"] != "nearest":
            continue
        x = np.random.default_rng(0).standard_normal(shape)
        direct = F.interpolate(tensor(x), **kwargs).numpy()
        total += 1
        if np.array_equal(direct, torch_interpolate(x, **kwargs).numpy()):
            agree += 1
            np.testing.assert_array_equal(cnnlib.interpolate(x, **kwargs), direct)
    assert total >= 30 and agree >= total - 3, (agree, total)


def test_where_torchs_nearest_kernels_differ_cnnlib_follows_the_general_one():
    """scale_factor 1.001 keeps 10 rows: torch's small-output kernel copies them,
    its general kernel (outputs with H_out + W_out > 128) reads rows
    floor(i / 1.001) = 0, 0, 1, 2, ...; cnnlib does the latter at every size."""
    for width, small in [(3, True), (200, False)]:
        x = np.arange(10.0)[:, None].repeat(width, axis=1)[None, None]
        direct = F.interpolate(tensor(x), scale_factor=(1.001, 1.0))[0, 0, :, 0]
        rows = cnnlib.interpolate(x, scale_factor=(1.001, 1.0))[0, 0, :, 0]
        np.testing.assert_array_equal(rows, [0, 0, 1, 2, 3, 4, 5, 6, 7, 8])
        assert np.array_equal(direct.numpy(), np.arange(10.0)) == small


@st.composite
def interpolate_cases(draw, nd, layout="batched"):
    """x (N, C, *size) with N = 0 for an empty batch; a mode with its align_corners;
    a size (an int or one per axis) or a scale factor (a number or one per axis,
    from halves and thirds to arbitrary floats) that keeps at least one sample."""
    n = 0 if layout == "empty" else draw(st.integers(1, 2))
    size_in = draw(st.tuples(*[st.integers(1, 9)] * nd))
    mode, corners = draw(st.sampled_from(MODES))
    kwargs = dict(mode=LINEAR[nd] if mode == "linear" else mode, align_corners=corners)
    if draw(st.booleans()):
        out = draw(st.tuples(*[st.integers(1, 20)] * nd))
        kwargs["size"] = out[0] if len(set(out)) == 1 and draw(st.booleans()) else out
    else:
        nice = st.sampled_from([0.5, 1.5, 2.0, 3.0, 1 / 3, 2.5, 0.75, 1.0])
        any_f = st.floats(0.2, 4.0, allow_nan=False)
        factors = tuple(
            max(draw(nice | any_f), 1.0 / n_in) for n_in in size_in
        )  # at least 1 output sample
        uniform = len(set(factors)) == 1 and draw(st.booleans())
        kwargs["scale_factor"] = factors[0] if uniform else factors
    x = np.random.default_rng(draw(seeds)).standard_normal(
        (n, draw(st.integers(1, 3)), *size_in)
    )
    return x, kwargs


@pytest.mark.parametrize("layout", ["batched", "empty"])
@pytest.mark.parametrize("nd", [1, 2])
@given(data=st.data())
def test_interpolate_property(nd, layout, data):
    """Random N, C, sizes, modes, output sizes and scale factors: torch's values."""
    x, kwargs = data.draw(interpolate_cases(nd, layout), label="case")
    y = cnnlib.interpolate(x, **kwargs)
    assert y.dtype == np.float64
    assert_agrees(y, torch_interpolate(x, **kwargs))


@pytest.mark.parametrize("nd", [1, 2])
@given(data=st.data())
def test_interpolate_float32_property(nd, data):
    """float32 in, float32 out, torch's float32 values."""
    x, kwargs = data.draw(interpolate_cases(nd), label="case")
    x = x.astype(np.float32)
    y = cnnlib.interpolate(x, **kwargs)
    assert y.dtype == np.float32
    assert_agrees(y, torch_interpolate(x, **kwargs), TOL32)


def test_scale_factor_is_used_as_given_as_torch_does_by_default():
    """n = 5, scale_factor 1.5: 7 samples at i / 1.5, not at i·5/7 (which torch's
    recompute_scale_factor=True would use): the two differ, and cnnlib is the
    default."""
    x = np.arange(5.0)[None, None]
    y = cnnlib.interpolate(x, scale_factor=1.5, mode="linear")
    t = tensor(x)
    assert_agrees(y, F.interpolate(t, scale_factor=1.5, mode="linear"), tol=TOL)
    recomputed = F.interpolate(
        t, scale_factor=1.5, mode="linear", recompute_scale_factor=True
    ).numpy()
    assert np.abs(y - recomputed).max() > 0.1
    np.testing.assert_array_equal(
        cnnlib.interpolate(x, scale_factor=1.5)[0, 0], [0, 0, 1, 2, 2, 3, 4]
    )


def test_align_corners_keeps_the_corners_and_half_pixels_do_not():
    x = np.random.default_rng(3).standard_normal((1, 2, 4, 5))
    y = cnnlib.interpolate(x, size=(7, 9), mode="bilinear", align_corners=True)
    for i, j in [(0, 0), (0, -1), (-1, 0), (-1, -1)]:
        np.testing.assert_allclose(y[..., i, j], x[..., i, j], rtol=0, atol=1e-15)
    # 5 -> 9 columns with corners aligned: column 1 sits at 1·4/8 = 0.5
    halfway = 0.5 * x[..., 0, 0] + 0.5 * x[..., 0, 1]
    np.testing.assert_allclose(y[..., 0, 1], halfway, rtol=0, atol=1e-15)
    # 5 -> 10 columns, half-pixel centres: column 1 sits at 1.5 / 2 - 0.5 = 0.25
    y = cnnlib.interpolate(x, size=(8, 10), mode="bilinear")
    quarter = 0.75 * x[..., 0, 0] + 0.25 * x[..., 0, 1]
    np.testing.assert_allclose(y[..., 0, 1], quarter, rtol=0, atol=1e-15)


def test_nearest_doubling_repeats_each_sample_and_linear_keeps_constants():
    x = np.random.default_rng(4).standard_normal((2, 3, 4, 5))
    y = cnnlib.interpolate(x, scale_factor=2)
    np.testing.assert_array_equal(y, x.repeat(2, axis=2).repeat(2, axis=3))
    ones = np.ones((1, 1, 3, 4))
    for corners in (False, True):
        y = cnnlib.interpolate(
            ones, size=(7, 5), mode="bilinear", align_corners=corners
        )
        np.testing.assert_allclose(y, 1.0, rtol=0, atol=1e-15)


def test_a_3d_input_is_a_batch_of_signals_as_in_torch():
    image = np.random.default_rng(5).standard_normal((3, 4, 6))  # meant as (C, H, W)
    y = cnnlib.interpolate(image, size=8)  # but read as (N, C, L), as torch reads it
    assert y.shape == (3, 4, 8)
    assert_agrees(y, F.interpolate(tensor(image), size=8))
    with pytest.raises(ValueError, match=r"mode 'bilinear' needs a 4-D input"):
        cnnlib.interpolate(image, size=8, mode="bilinear")
    with pytest.raises(NotImplementedError, match="bilinear mode needs 4D input"):
        F.interpolate(tensor(image), size=8, mode="bilinear")


def test_infinities_and_nan_spread_as_in_torch():
    x = np.array([[[[0.0, np.inf, 1.0], [2.0, 3.0, np.nan]]]])
    for kwargs in [dict(size=(2, 5)), dict(size=(4, 3)), dict(size=(2, 3))]:
        for corners in (False, True):
            kw = dict(kwargs, mode="bilinear", align_corners=corners)
            assert_agrees(cnnlib.interpolate(x, **kw), F.interpolate(tensor(x), **kw))
        assert_agrees(cnnlib.interpolate(x, **kwargs), torch_interpolate(x, **kwargs))


def test_empty_batch_and_integers():
    x = np.zeros((0, 2, 3, 3))
    assert cnnlib.interpolate(x, size=5, mode="bilinear").shape == (0, 2, 5, 5)
    y = cnnlib.interpolate([[[1, 2, 3]]], scale_factor=2)
    assert y.dtype == np.float64
    np.testing.assert_array_equal(y, [[[1, 1, 2, 2, 3, 3]]])


# --------------------------------------------------------------------- errors


X4 = np.zeros((2, 3, 4, 5))


def _raises(kind, pattern, fn, *args, **kwargs):
    with pytest.raises(kind, match=pattern):
        fn(*args, **kwargs)


@pytest.mark.parametrize(
    "kwargs, kind, pattern",
    [
        (
            dict(size=3, mode="bicubic"),
            ValueError,
            r"mode must be .*'bicubic' \(torch's",
        ),
        (dict(size=3, mode="Nearest"), ValueError, r"mode must be 'nearest'"),
        (dict(size=3, mode=2), TypeError, r"mode must be a string"),
        (
            dict(size=3, mode="linear"),
            ValueError,
            r"mode 'linear' needs a 3-D input \(N, C, L\), got 4-D shape \(2, 3, 4, "
            r"5\); use mode 'bilinear'",
        ),
        (
            dict(size=3, scale_factor=2),
            ValueError,
            r"give size or scale_factor, not both",
        ),
        (dict(), ValueError, r"give size or scale_factor \(both are None\)"),
        (
            dict(size=3, align_corners=False),
            ValueError,
            r"align_corners can only be set with mode 'linear' or 'bilinear'",
        ),
        (
            dict(size=3, mode="bilinear", align_corners=1),
            TypeError,
            r"align_corners must be True, False or None",
        ),
        (
            dict(size=(3,)),
            ValueError,
            r"size must be one value or 2 \(one per spatial axis of input shape \(2, "
            r"3, 4, 5\)\), got \(3,\)",
        ),
        (dict(size=(3, 3, 3)), ValueError, r"size must be one value or 2"),
        (dict(size=0), ValueError, r"size must be positive"),
        (dict(size=(3, -1)), ValueError, r"size must be positive"),
        (dict(size=2.0), TypeError, r"size must be an int or 2 ints, got 2.0"),
        (dict(size=True), TypeError, r"size must be an int"),
        (
            dict(scale_factor=0.2),
            ValueError,
            r"scale_factor 0.2 gives an output size of 0 along H \(input size 4, "
            r"input shape \(2, 3, 4, 5\)\)",
        ),
        (
            dict(scale_factor=(2, 0.1)),
            ValueError,
            r"scale_factor 0.1 gives an output size of 0 along W \(input size 5",
        ),
        (dict(scale_factor=0), ValueError, r"scale_factor must be positive and finite"),
        (
            dict(scale_factor=-2.0),
            ValueError,
            r"scale_factor must be positive and finite",
        ),
        (
            dict(scale_factor=np.nan),
            ValueError,
            r"scale_factor must be positive and finite",
        ),
        (
            dict(scale_factor=np.inf),
            ValueError,
            r"scale_factor must be positive and finite",
        ),
        (
            dict(scale_factor=1e300),
            ValueError,
            r"scale_factor 1e\+300 makes .* 2\*\*63",
        ),
        (
            dict(scale_factor="2"),
            TypeError,
            r"scale_factor must be a number or 2 numbers",
        ),
        (dict(scale_factor=(2,)), ValueError, r"scale_factor must be one value or 2"),
    ],
)
def test_interpolate_errors_name_the_argument(kwargs, kind, pattern):
    _raises(kind, "^interpolate: " + pattern, cnnlib.interpolate, X4, **kwargs)


@pytest.mark.parametrize(
    "x, pattern",
    [
        (
            np.zeros((3, 4)),
            r"input must be 3-D \(N, C, L\) or 4-D \(N, C, H, W\), got 2-D shape \(3, "
            r"4\)",
        ),
        (np.zeros((1, 2, 3, 4, 5)), r"input must be .*got 5-D shape \(1, 2, 3, 4, 5\)"),
        (np.zeros((2, 0, 4, 5)), r"input has an empty dimension, shape \(2, 0, 4, 5\)"),
    ],
)
def test_interpolate_refuses_other_shapes(x, pattern):
    _raises(ValueError, "^interpolate: " + pattern, cnnlib.interpolate, x, size=3)


Y = np.ones((1, 2, 2, 2))
IDX = np.array([[[[0, 3], [8, 15]], [[1, 2], [12, 13]]]])  # 2x2 windows of a 4x4 output


def test_unpool_matches_torch_on_the_reference_call():
    assert_agrees(
        cnnlib.max_unpool2d(Y, IDX, 2), F.max_unpool2d(tensor(Y), tensor(IDX), 2)
    )


@pytest.mark.parametrize(
    "args, kwargs, kind, pattern",
    [
        (
            (np.ones((2, 2)), IDX[0, 0]),
            {},
            ValueError,
            r"input must be 4-D \(N, C, H, W\) or 3-D \(C, H, W\) \(one sample\), got "
            r"2-D shape \(2, 2\)",
        ),
        (
            (Y, IDX[..., :1]),
            {},
            ValueError,
            re.escape(
                "indices must have the shape of the input (1, 2, 2, 2), got (1, 2, "
                "2, 1)"
            ),
        ),
        (
            (Y[0], IDX),
            {},
            ValueError,
            r"indices must have the shape of the input \(2, 2, 2\)",
        ),
        (
            (Y, IDX.astype(float)),
            {},
            TypeError,
            r"indices must be integers .*got dtype float64",
        ),
        ((Y, IDX > 0), {}, TypeError, r"indices must be integers .*got dtype bool"),
        (
            (Y, IDX + 1),
            {},
            ValueError,
            re.escape(
                "indices must lie in [0, 16) for an output of size (4, 4), found 16"
            ),
        ),
        ((Y, IDX - 1), {}, ValueError, r"indices must lie in \[0, 16\) .*found -1"),
        (
            (Y, IDX),
            dict(output_size=(2, 4)),
            ValueError,
            r"output_size \(2, 4\) along H must lie strictly between 2 and 6 \(the "
            r"default size 4 ± stride 2, torch's rule\), got 2",
        ),
        (
            (Y, IDX),
            dict(output_size=(4, 6)),
            ValueError,
            r"output_size \(4, 6\) along W must lie strictly between 2 and 6",
        ),
        (
            (Y, IDX),
            dict(output_size=(1, 4, 4)),
            ValueError,
            r"output_size must have 2 or 4 elements, got 3",
        ),
        (
            (Y, IDX),
            dict(output_size=4),
            TypeError,
            r"output_size must be a sequence of 2 or 4 ints",
        ),
        (
            (Y, IDX),
            dict(output_size=(4, 4.0)),
            TypeError,
            r"output_size must hold ints",
        ),
        (
            (Y, IDX),
            dict(padding=2),
            ValueError,
            r"output size along H would be 0 .*reduce padding",
        ),
        ((Y, IDX), dict(stride=0), ValueError, r"stride must be >= 1"),
        ((Y, IDX, 0), {}, ValueError, r"kernel_size must be >= 1"),
    ],
)
def test_unpool_errors_name_the_argument(args, kwargs, kind, pattern):
    if len(args) == 2:
        args = (*args, 2)
    _raises(kind, "^max_unpool2d: " + pattern, cnnlib.max_unpool2d, *args, **kwargs)


def test_unpool_output_size_rule_is_torchs():
    """torch accepts output sizes strictly between default - stride and default +
    stride; so does cnnlib (3, 4 and 5 here), and both refuse 2 and 6."""
    idx = IDX % 4  # inside every output tried
    accepted = []
    for h in range(2, 7):
        try:
            F.max_unpool2d(tensor(Y), tensor(idx), 2, output_size=(h, 4))
        except ValueError:
            with pytest.raises(ValueError, match="^max_unpool2d: output_size"):
                cnnlib.max_unpool2d(Y, idx, 2, output_size=(h, 4))
        else:
            assert cnnlib.max_unpool2d(Y, idx, 2, output_size=(h, 4)).shape[2] == h
            accepted.append(h)
    assert accepted == [3, 4, 5]
