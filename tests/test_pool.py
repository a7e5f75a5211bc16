"""cnnlib.pool against torch.nn.functional (float64) and the lectures' example."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from cnnlib.pool import avg_pool1d, avg_pool2d, max_pool1d, max_pool2d

OURS = {
    ("max", 1): max_pool1d,
    ("max", 2): max_pool2d,
    ("avg", 1): avg_pool1d,
    ("avg", 2): avg_pool2d,
}
TORCH = {
    ("max", 1): F.max_pool1d,
    ("max", 2): F.max_pool2d,
    ("avg", 1): F.avg_pool1d,
    ("avg", 2): F.avg_pool2d,
}


def assert_close(actual, expected, tol=1e-10):
    expected = np.asarray(expected, dtype=np.float64)
    assert actual.shape == expected.shape
    assert actual.dtype == np.float64
    assert np.linalg.norm(actual - expected) <= tol * np.linalg.norm(expected)


def _arg(rng, values):
    """Per-axis values, written as one int half the time when all axes agree."""
    return values[0] if len(set(values)) == 1 and rng.random() < 0.5 else values


def pool_configs(nd, count, seed):
    """Random valid pooling arguments: padding <= kernel_size / 2, window fits."""
    rng = np.random.default_rng(seed)
    configs = []
    for i in range(count):
        k = tuple(int(v) for v in rng.integers(1, 5, nd))
        pads = tuple(int(rng.integers(0, kk // 2 + 1)) for kk in k)
        stride = (
            None
            if rng.random() < 0.3
            else tuple(int(v) for v in rng.integers(1, 5, nd))
        )
        size = tuple(
            max(1, kk - 2 * p) + int(rng.integers(0, 7))
            for kk, p in zip(k, pads, strict=True)
        )
        kwargs = dict(kernel_size=_arg(rng, k), padding=_arg(rng, pads))
        if stride is not None:
            kwargs["stride"] = _arg(rng, stride)
        shape = (int(rng.integers(1, 4)), int(rng.integers(1, 5)), *size)
        configs.append(dict(seed=seed * 1000 + i, x=shape, kwargs=kwargs))
    return configs


CASES = [
    (kind, nd, cfg)
    for kind in ("max", "avg")
    for nd in (1, 2)
    for cfg in pool_configs(nd, 60, seed=10 * nd + (kind == "avg"))
]


@pytest.mark.parametrize(
    "kind, nd, cfg",
    CASES,
    ids=[f"{k}{nd}d-x{c['x']}-{c['kwargs']}".replace(" ", "") for k, nd, c in CASES],
)
def test_pool_matches_torch(kind, nd, cfg):
    x = np.random.default_rng(cfg["seed"]).standard_normal(cfg["x"])
    expected = TORCH[kind, nd](torch.from_numpy(x), **cfg["kwargs"]).numpy()
    assert_close(OURS[kind, nd](x, **cfg["kwargs"]), expected)


FEATURE_MAP = [
    [6, 8, 6, 3, 1, 0],
    [9, 13, 10, 5, 2, 0],
    [9, 14, 11, 6, 3, 0],
    [9, 13, 11, 6, 2, 0],
    [8, 13, 10, 5, 3, 0],
    [6, 7, 5, 3, 1, 0],
]


def test_max_pool_2x2_on_the_lecture_feature_map():
    y = max_pool2d(np.array(FEATURE_MAP)[None, None], 2)
    assert_close(y[0, 0], [[13, 10, 2], [14, 11, 3], [13, 10, 3]], tol=0)


def test_avg_pool_2x2_on_the_lecture_feature_map():
    y = avg_pool2d(np.array(FEATURE_MAP)[None, None], 2)
    expected = [
        [36 / 4, 24 / 4, 3 / 4],
        [45 / 4, 34 / 4, 5 / 4],
        [34 / 4, 23 / 4, 4 / 4],
    ]
    assert_close(y[0, 0], expected)


def test_stride_defaults_to_kernel_size_and_sizes_are_floored():
    x = np.arange(7.0).reshape(1, 1, 7)
    assert_close(max_pool1d(x, 3)[0, 0], [2.0, 5.0], tol=0)  # x[6] is dropped
    assert_close(max_pool1d(x, 3, stride=2)[0, 0], [2.0, 4.0, 6.0], tol=0)


def test_max_pool_padding_never_wins():
    x = -np.ones((1, 1, 4, 4))  # zeros from padding would beat every value
    assert_close(max_pool2d(x, 3, stride=1, padding=1), -np.ones((1, 1, 4, 4)), tol=0)


def test_avg_pool_counts_padded_zeros():
    y = avg_pool2d(np.ones((1, 1, 3, 3)), 3, stride=1, padding=1)
    expected = np.array([[4, 6, 4], [6, 9, 6], [4, 6, 4]]) / 9
    assert_close(y[0, 0], expected)


def test_pool_accepts_int_lists():
    y = max_pool1d([[[1, 5, 2, 0]]], 2)
    assert y.dtype == np.float64
    assert np.array_equal(y, [[[5.0, 2.0]]])
