"""cnnlib.conv against torch.nn.functional (float64), the loop references and the
lectures' worked examples."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from cnnlib.conv import (
    conv1d,
    conv1d_naive,
    conv2d,
    conv2d_naive,
    conv_transpose1d,
    conv_transpose1d_naive,
    conv_transpose2d,
    conv_transpose2d_naive,
    convolve1d,
    convolve2d,
    get_patches,
    pad,
)

CONV = {1: conv1d, 2: conv2d}
CONV_NAIVE = {1: conv1d_naive, 2: conv2d_naive}
CONVOLVE = {1: convolve1d, 2: convolve2d}
CONV_T = {1: conv_transpose1d, 2: conv_transpose2d}
CONV_T_NAIVE = {1: conv_transpose1d_naive, 2: conv_transpose2d_naive}
TORCH_CONV = {1: F.conv1d, 2: F.conv2d}
TORCH_CONV_T = {1: F.conv_transpose1d, 2: F.conv_transpose2d}


def assert_close(actual, expected, tol=1e-10):
    expected = np.asarray(expected, dtype=np.float64)
    assert actual.shape == expected.shape
    assert actual.dtype == np.float64
    assert np.linalg.norm(actual - expected) <= tol * np.linalg.norm(expected)


def _ints(rng, lo, hi, n):
    return tuple(int(v) for v in rng.integers(lo, hi + 1, n))


def _arg(rng, values):
    """Per-axis values, written as one int half the time when all axes agree."""
    return values[0] if len(set(values)) == 1 and rng.random() < 0.5 else values


ALL_MODES = ("int", "tuple", "same", "valid")


def conv_configs(nd, count, seed, extra=5, modes=ALL_MODES):
    """Random valid conv1d/conv2d arguments: shapes, groups, padding modes, bias."""
    rng = np.random.default_rng(seed)
    configs = []
    for i in range(count):
        groups = int(rng.choice([1, 1, 2, 3]))
        c_in, c_out = groups * int(rng.integers(1, 4)), groups * int(rng.integers(1, 4))
        k = _ints(rng, 1, 4, nd)
        dilation = tuple(int(v) for v in rng.choice([1, 1, 2, 3], nd))
        mode = str(rng.choice(modes))
        stride = (1,) * nd if mode == "same" else _ints(rng, 1, 3, nd)
        pads = _ints(rng, 0, 2, 1) * nd if mode == "int" else _ints(rng, 0, 2, nd)
        if mode in ("same", "valid"):
            padding, pads = mode, (0,) * nd
        else:
            padding = pads[0] if mode == "int" else pads
        span = [d * (kk - 1) + 1 for kk, d in zip(k, dilation, strict=True)]
        low = [
            1 if mode == "same" else max(1, s - 2 * p)
            for s, p in zip(span, pads, strict=True)
        ]
        size = tuple(lo + int(rng.integers(0, extra + 1)) for lo in low)
        configs.append(
            dict(
                seed=seed * 1000 + i,
                x=(int(rng.integers(1, 4)), c_in, *size),
                w=(c_out, c_in // groups, *k),
                bias=bool(rng.random() < 0.5),
                kwargs=dict(
                    stride=_arg(rng, stride),
                    padding=padding,
                    dilation=_arg(rng, dilation),
                    groups=groups,
                ),
            )
        )
    return configs


def conv_t_configs(nd, count, seed):
    """Random valid conv_transpose arguments (output sizes all >= 1)."""
    rng = np.random.default_rng(seed)
    configs = []
    while len(configs) < count:
        groups = int(rng.choice([1, 1, 2, 3]))
        c_in, c_out_g = groups * int(rng.integers(1, 4)), int(rng.integers(1, 4))
        k, size = _ints(rng, 1, 4, nd), _ints(rng, 1, 5, nd)
        stride, padding = _ints(rng, 1, 3, nd), _ints(rng, 0, 2, nd)
        dilation = tuple(int(v) for v in rng.choice([1, 1, 2, 3], nd))
        out_pad = tuple(
            int(rng.integers(0, max(s, d)))
            for s, d in zip(stride, dilation, strict=True)
        )
        sizes = [
            (n - 1) * s - 2 * p + d * (kk - 1) + op + 1
            for n, s, p, d, kk, op in zip(
                size, stride, padding, dilation, k, out_pad, strict=True
            )
        ]
        if min(sizes) < 1:
            continue
        configs.append(
            dict(
                seed=seed * 1000 + len(configs),
                x=(int(rng.integers(1, 4)), c_in, *size),
                w=(c_in, c_out_g, *k),
                bias=bool(rng.random() < 0.5),
                kwargs=dict(
                    stride=_arg(rng, stride),
                    padding=_arg(rng, padding),
                    output_padding=_arg(rng, out_pad),
                    groups=groups,
                    dilation=_arg(rng, dilation),
                ),
            )
        )
    return configs


def arrays(cfg, out_channels_axis=0):
    """x, w, b drawn for a config; b has one entry per output channel."""
    rng = np.random.default_rng(cfg["seed"])
    x, w = rng.standard_normal(cfg["x"]), rng.standard_normal(cfg["w"])
    if not cfg["bias"]:
        return x, w, None
    groups = cfg["kwargs"]["groups"]
    c_out = w.shape[0] if out_channels_axis == 0 else w.shape[1] * groups
    return x, w, rng.standard_normal(c_out)


def torch_ref(fn, x, w, b, **kwargs):
    tb = None if b is None else torch.from_numpy(b)
    return fn(torch.from_numpy(x), torch.from_numpy(w), tb, **kwargs).numpy()


def cfg_id(cfg):
    return f"x{cfg['x']}-w{cfg['w']}-b{int(cfg['bias'])}-{cfg['kwargs']}".replace(
        " ", ""
    )


def cases(make, **kw):
    configs = [(nd, c) for nd in (1, 2) for c in make(nd, seed=nd, **kw)]
    return pytest.mark.parametrize(
        "nd, cfg", configs, ids=[cfg_id(c) for _, c in configs]
    )


# torch warns (harmlessly) that 'same' with an even kernel needs a padded copy
same_warning = pytest.mark.filterwarnings("ignore:Using padding='same'")


@same_warning
@cases(conv_configs, count=60)
def test_conv_matches_torch(nd, cfg):
    x, w, b = arrays(cfg)
    expected = torch_ref(TORCH_CONV[nd], x, w, b, **cfg["kwargs"])
    assert_close(CONV[nd](x, w, b, **cfg["kwargs"]), expected)


@cases(conv_configs, count=60, extra=3)
def test_conv_matches_naive(nd, cfg):
    x, w, b = arrays(cfg)
    expected = CONV_NAIVE[nd](x, w, b, **cfg["kwargs"])
    assert_close(CONV[nd](x, w, b, **cfg["kwargs"]), expected)


@same_warning
@cases(conv_configs, count=60)
def test_convolve_is_conv_with_flipped_kernel(nd, cfg):
    x, w, b = arrays(cfg)
    w_flipped = w[(..., *[slice(None, None, -1)] * nd)].copy()
    expected = torch_ref(TORCH_CONV[nd], x, w_flipped, b, **cfg["kwargs"])
    assert_close(CONVOLVE[nd](x, w, b, **cfg["kwargs"]), expected)


@cases(conv_t_configs, count=60)
def test_conv_transpose_matches_torch(nd, cfg):
    x, w, b = arrays(cfg, out_channels_axis=1)
    expected = torch_ref(TORCH_CONV_T[nd], x, w, b, **cfg["kwargs"])
    assert_close(CONV_T[nd](x, w, b, **cfg["kwargs"]), expected)


@cases(conv_t_configs, count=60)
def test_conv_transpose_matches_naive(nd, cfg):
    x, w, b = arrays(cfg, out_channels_axis=1)
    expected = CONV_T_NAIVE[nd](x, w, b, **cfg["kwargs"])
    assert_close(CONV_T[nd](x, w, b, **cfg["kwargs"]), expected)


@cases(conv_configs, count=20, modes=("int", "tuple"))
def test_conv_transpose_is_adjoint_of_conv(nd, cfg):
    # <conv(x), y> == <x, conv_transpose(y)> when the sizes line up
    x, w, _ = arrays(cfg)
    kw = cfg["kwargs"]
    y = np.random.default_rng(0).standard_normal(CONV[nd](x, w, **kw).shape)
    stride = np.broadcast_to(kw["stride"], nd)
    dilation = np.broadcast_to(kw["dilation"], nd)
    padding = np.broadcast_to(kw["padding"], nd)
    out_pad = [
        (n + 2 * p - d * (k - 1) - 1) % s
        for n, p, d, k, s in zip(
            x.shape[2:], padding, dilation, w.shape[2:], stride, strict=True
        )
    ]
    x_back = CONV_T[nd](y, w, **kw, output_padding=tuple(out_pad))
    assert x_back.shape == x.shape
    lhs, rhs = np.vdot(CONV[nd](x, w, **kw), y), np.vdot(x, x_back)
    assert abs(lhs - rhs) <= 1e-10 * max(1.0, abs(lhs))


# --- worked examples from the lecture decks -------------------------------------


def test_cross_correlation_3x3_by_2x2():
    x = np.arange(9.0).reshape(1, 1, 3, 3)
    w = np.array([[0.0, 1.0], [2.0, 3.0]]).reshape(1, 1, 2, 2)
    expected = [[[[19.0, 25.0], [37.0, 43.0]]]]
    assert_close(conv2d(x, w), expected, tol=0)
    assert_close(conv2d_naive(x, w), expected, tol=0)


def test_cross_correlation_zero_padding_example():
    # same input and kernel, padded by one pixel on every side: a 4x4 output
    x = np.arange(9.0).reshape(1, 1, 3, 3)
    w = np.array([[0.0, 1.0], [2.0, 3.0]]).reshape(1, 1, 2, 2)
    expected = [[0, 3, 8, 4], [9, 19, 25, 10], [21, 37, 43, 16], [6, 7, 8, 0]]
    assert_close(conv2d(x, w, padding=1)[0, 0], expected, tol=0)


IMAGE_5X5 = [
    [1, 0, 0, 1, 2],
    [0, 0, 0, 3, 0],
    [0, 1, 2, 1, 1],
    [1, 1, 3, 0, 0],
    [3, 0, 0, 0, 1],
]
KERNEL_3X3 = [[0, 0, 1], [0, 2, 0], [1, 1, 0]]


def test_cross_correlation_5x5_by_3x3():
    x = np.array(IMAGE_5X5)[None, None]
    w = np.array(KERNEL_3X3)[None, None]
    expected = [[1, 4, 11], [4, 11, 5], [7, 7, 1]]
    assert_close(conv2d(x, w)[0, 0], expected, tol=0)


def test_cross_correlation_5x5_padding_2():
    x = np.array(IMAGE_5X5)[None, None]
    w = np.array(KERNEL_3X3)[None, None]
    expected = [
        [0, 1, 1, 0, 1, 3, 2],
        [0, 2, 0, 0, 5, 7, 0],
        [1, 0, 1, 4, 11, 2, 1],
        [0, 1, 4, 11, 5, 2, 0],
        [0, 6, 7, 7, 1, 1, 1],
        [1, 7, 3, 0, 0, 2, 0],
        [3, 0, 0, 0, 1, 0, 0],
    ]
    assert_close(conv2d(x, w, padding=2)[0, 0], expected, tol=0)


def test_feature_map_of_the_pooling_example():
    # the 6x6 input, filter and feature map that the pooling slides start from
    x = [
        [3, 3, 2, 1, 0, 0],
        [3, 3, 2, 1, 0, 0],
        [3, 3, 2, 1, 0, 0],
        [3, 3, 3, 2, 0, 0],
        [3, 3, 2, 1, 0, 0],
        [3, 2, 1, 1, 0, 0],
    ]
    w = [[1, 0, 1], [0, 1, 0], [1, 0, 1]]
    expected = [
        [6, 8, 6, 3, 1, 0],
        [9, 13, 10, 5, 2, 0],
        [9, 14, 11, 6, 3, 0],
        [9, 13, 11, 6, 2, 0],
        [8, 13, 10, 5, 3, 0],
        [6, 7, 5, 3, 1, 0],
    ]
    y = conv2d(np.array(x)[None, None], np.array(w)[None, None], padding="same")
    assert_close(y[0, 0], expected, tol=0)


def test_convolve_flips_the_kernel_unlike_conv():
    x = np.array([[[1.0, 2.0, 3.0, 4.0]]])
    w = np.array([[[1.0, 0.0, -1.0]]])
    assert_close(conv1d(x, w)[0, 0], [-2.0, -2.0], tol=0)
    assert_close(convolve1d(x, w)[0, 0], [2.0, 2.0], tol=0)


def test_convolve1d_matches_np_convolve():
    rng = np.random.default_rng(7)
    x, w = rng.standard_normal(11), rng.standard_normal(4)
    valid = convolve1d(x[None, None], w[None, None])[0, 0]
    full = convolve1d(x[None, None], w[None, None], padding=3)[0, 0]
    assert_close(valid, np.convolve(x, w, mode="valid"))
    assert_close(full, np.convolve(x, w, mode="full"))


def test_convolve2d_flip_by_hand():
    # a kernel with a single 1 in its top-left corner: correlation reads the
    # top-left neighbour, convolution the bottom-right one
    x = np.arange(16.0).reshape(1, 1, 4, 4)
    w = np.zeros((1, 1, 2, 2))
    w[0, 0, 0, 0] = 1.0
    assert_close(conv2d(x, w)[0, 0], x[0, 0, :3, :3], tol=0)
    assert_close(convolve2d(x, w)[0, 0], x[0, 0, 1:, 1:], tol=0)


def test_same_padding_puts_the_odd_zero_on_the_right():
    x = np.array([[[1.0, 2.0, 3.0]]])
    w = np.array([[[1.0, 10.0]]])  # y[i] = x[i] + 10 x[i + 1], zero past the end
    assert_close(conv1d(x, w, padding="same")[0, 0], [21.0, 32.0, 3.0], tol=0)


# --- get_patches and pad --------------------------------------------------------


def test_get_patches_1d_hand_example():
    x = np.arange(6.0).reshape(1, 1, 6)
    patches = get_patches(x, 3, stride=2, padding=1, dilation=1)
    assert patches.shape == (1, 3, 1, 3)  # (N, L_out, C, k)
    expected = [[0, 0, 1], [1, 2, 3], [3, 4, 5]]
    assert np.array_equal(patches[0, :, 0], expected)
    dilated = get_patches(x, 2, dilation=3)
    assert np.array_equal(dilated[0, :, 0], [[0, 3], [1, 4], [2, 5]])


def test_get_patches_2d_hand_example():
    x = np.stack([np.arange(9.0).reshape(3, 3), -np.arange(9.0).reshape(3, 3)])[None]
    patches = get_patches(x, (2, 2))
    assert patches.shape == (1, 2, 2, 2, 2, 2)  # (N, H_out, W_out, C, kH, kW)
    assert np.array_equal(patches[0, 1, 0, 0], [[3, 4], [6, 7]])
    assert np.array_equal(patches[0, 1, 0, 1], [[-3, -4], [-6, -7]])
    assert not patches.flags.writeable  # a view into x: writing would corrupt it


@cases(conv_configs, count=10, modes=("int", "tuple"))
def test_get_patches_match_explicit_indexing(nd, cfg):
    x, w, _ = arrays(cfg)
    kw = cfg["kwargs"]
    patches = get_patches(x, w.shape[2:], kw["stride"], kw["padding"], kw["dilation"])
    x_pad = pad(x, kw["padding"])
    s, d = np.broadcast_to(kw["stride"], nd), np.broadcast_to(kw["dilation"], nd)
    for pos in np.ndindex(*patches.shape[1 : 1 + nd]):
        for tap in np.ndindex(*w.shape[2:]):
            idx = [p * si + t * di for p, t, si, di in zip(pos, tap, s, d, strict=True)]
            got = patches[(slice(None), *pos, slice(None), *tap)]
            assert np.array_equal(got, x_pad[(slice(None), slice(None), *idx)])


def test_pad_matches_torch():
    x = np.random.default_rng(3).standard_normal((2, 3, 4, 5))
    expected = F.pad(torch.from_numpy(x), (2, 2, 1, 1)).numpy()
    assert_close(pad(x, (1, 2)), expected, tol=0)
    assert pad(x[..., 0], 2, value=-np.inf).shape == (2, 3, 8)
    assert pad(x[..., 0], 2, value=-np.inf)[0, 0, 0] == -np.inf


def test_accepts_lists_and_ints_and_returns_float64():
    x = [[[1, 2, 3, 4]]]
    w = [[[1, 1]]]
    for fn in (conv1d, conv1d_naive, convolve1d):  # w is symmetric: all agree
        y = fn(x, w, [1])
        assert y.dtype == np.float64
        assert np.array_equal(y, [[[4.0, 6.0, 8.0]]])
    y = conv_transpose1d(x, w)
    assert y.dtype == np.float64
    assert np.array_equal(y, [[[1.0, 3.0, 5.0, 7.0, 4.0]]])
