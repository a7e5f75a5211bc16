"""Bad arguments raise ValueError/TypeError naming the function, the argument and the
shapes, never a raw numpy broadcasting or indexing error."""

import re

import numpy as np
import pytest

from cnnlib.conv import (
    conv1d,
    conv1d_naive,
    conv2d,
    conv2d_naive,
    conv_transpose1d,
    conv_transpose2d,
    conv_transpose2d_naive,
    convolve2d,
    get_patches,
    pad,
)
from cnnlib.matrices import circulant, conv_matrix, conv_output_size
from cnnlib.pool import avg_pool1d, avg_pool2d, max_pool1d, max_pool2d

X2 = np.zeros((2, 3, 8, 8))
W2 = np.zeros((8, 3, 3, 3))
X1 = np.zeros((2, 3, 10))
W1 = np.zeros((4, 3, 3))


def test_channel_mismatch_names_both_counts_and_the_weight_shape():
    msg = re.escape(
        "conv2d: input has 3 channels but weight expects 4 (weight shape (8, 4, 3, 3))"
    )
    with pytest.raises(ValueError, match=msg):
        conv2d(X2, np.zeros((8, 4, 3, 3)))
    with pytest.raises(ValueError, match=r"conv1d_naive: input has 3 channels .* 2"):
        conv1d_naive(X1, np.zeros((4, 2, 3)))


def test_channel_mismatch_with_groups_explains_the_per_group_count():
    with pytest.raises(ValueError, match=r"expects 6 \(2 per group x groups=3\)"):
        conv2d(np.zeros((1, 3, 5, 5)), np.zeros((6, 2, 3, 3)), groups=3)


def test_conv_transpose_channel_mismatch_shows_its_weight_layout():
    with pytest.raises(
        ValueError,
        match=r"input has 3 channels but weight expects 5 .*"
        r"\(C_in, C_out // groups, kH, kW\)",
    ):
        conv_transpose2d(X2, np.zeros((5, 2, 3, 3)))


def test_kernel_larger_than_padded_input_gives_both_sizes():
    with pytest.raises(
        ValueError,
        match=r"conv2d: kernel size 9 along H is larger than "
        r"the padded input size 8 \(input 6 \+ padding 1\+1\)",
    ):
        conv2d(np.zeros((1, 1, 6, 20)), np.zeros((1, 1, 9, 3)), padding=1)
    with pytest.raises(
        ValueError,
        match=r"kernel size 3 \(spans 7 with dilation 3\) "
        r"along L is larger than the padded input size 5",
    ):
        conv1d(np.zeros((1, 3, 5)), W1, dilation=3)


@pytest.mark.parametrize("name", ["stride", "dilation"])
@pytest.mark.parametrize("value", [0, -1, (1, 0)])
def test_stride_and_dilation_below_one(name, value):
    with pytest.raises(ValueError, match=f"conv2d: {name} must be >= 1, got"):
        conv2d(X2, W2, **{name: value})


def test_negative_padding():
    with pytest.raises(
        ValueError, match=r"conv2d: padding must be >= 0, got \(1, -1\)"
    ):
        conv2d(X2, W2, padding=(1, -1))


@pytest.mark.parametrize("padding", [1.0, 0.5, True, (1, 1.5), None])
def test_non_integer_padding_is_a_type_error(padding):
    with pytest.raises(
        TypeError, match="conv2d: padding must be an int or a tuple of 2 ints"
    ):
        conv2d(X2, W2, padding=padding)


@pytest.mark.parametrize("stride", [1.0, False, "2"])
def test_non_integer_stride_is_a_type_error(stride):
    with pytest.raises(TypeError, match="conv1d: stride must be an int, got"):
        conv1d(X1, W1, stride=stride)


def test_wrong_number_of_per_axis_values():
    with pytest.raises(
        ValueError,
        match=r"conv2d: dilation must be an int or a tuple of 2 ints, "
        r"got \(1, 2, 3\)",
    ):
        conv2d(X2, W2, dilation=(1, 2, 3))


@pytest.mark.parametrize("padding", ["full", "SAME", ""])
def test_bad_padding_string(padding):
    with pytest.raises(ValueError, match="conv2d: padding must be 'valid', 'same'"):
        conv2d(X2, W2, padding=padding)


def test_conv_transpose_rejects_padding_strings():
    with pytest.raises(
        ValueError, match="conv_transpose1d: padding must be integers, not 'same'"
    ):
        conv_transpose1d(X1, np.zeros((3, 2, 3)), padding="same")


def test_same_padding_with_stride():
    with pytest.raises(
        ValueError,
        match=r"conv2d: padding='same' needs stride=1 "
        r"\(got stride=\(1, 2\)\)",
    ):
        conv2d(X2, W2, stride=(1, 2), padding="same")


@pytest.mark.parametrize(
    "fn, shape, expected",
    [
        (
            conv2d,
            (8, 8),
            r"conv2d: input must be 4-D \(N, C_in, H, W\) or 3-D \(C_in, H, W\) "
            r"\(one sample\), got 2-D shape \(8, 8\)",
        ),
        (
            conv1d,
            (2, 3, 4, 5),
            r"conv1d: input must be 3-D \(N, C_in, L\) or 2-D \(C_in, L\) \(one "
            r"sample\), got 4-D",
        ),
        (max_pool2d, (8,), r"max_pool2d: input must be 4-D \(N, C, H, W\) or 3-D"),
        (avg_pool1d, (), r"avg_pool1d: input must be 3-D \(N, C, L\) .*got 0-D shape"),
    ],
)
def test_wrong_number_of_input_dimensions(fn, shape, expected):
    args = (3,) if fn in (max_pool2d, avg_pool1d) else (W2 if fn is conv2d else W1,)
    with pytest.raises(ValueError, match=expected):
        fn(np.zeros(shape), *args)


def test_wrong_number_of_weight_dimensions():
    with pytest.raises(
        ValueError,
        match=r"conv2d: weight must be 4-D \(C_out, "
        r"C_in // groups, kH, kW\), got 3-D shape \(8, 3, 3\)",
    ):
        conv2d(X2, np.zeros((8, 3, 3)))
    with pytest.raises(
        ValueError,
        match=r"conv_transpose2d_naive: weight must be 4-D "
        r"\(C_in, C_out // groups, kH, kW\)",
    ):
        conv_transpose2d_naive(X2, np.zeros((3, 3)))


@pytest.mark.parametrize(
    "x, w, groups, expected",
    [
        (
            np.zeros((1, 5, 6, 6)),
            np.zeros((4, 1, 3, 3)),
            2,
            "groups=2 must divide C_in=5",
        ),
        (
            np.zeros((1, 6, 6, 6)),
            np.zeros((5, 2, 3, 3)),
            3,
            "groups=3 must divide C_out=5",
        ),
    ],
)
def test_groups_must_divide_the_channels(x, w, groups, expected):
    with pytest.raises(ValueError, match=f"conv2d: {expected}"):
        conv2d(x, w, groups=groups)


@pytest.mark.parametrize("groups, error", [(0, ValueError), (1.0, TypeError)])
def test_groups_must_be_a_positive_int(groups, error):
    with pytest.raises(error, match="conv2d: groups must be"):
        conv2d(X2, W2, groups=groups)


@pytest.mark.parametrize("b", [np.zeros(4), np.zeros((8, 1)), 0.0])
def test_bias_shape(b):
    with pytest.raises(
        ValueError,
        match=r"conv2d: bias must have shape \(C_out,\) = "
        r"\(8,\), got",
    ):
        conv2d(X2, W2, b)


def test_conv_transpose_bias_has_one_entry_per_output_channel():
    w = np.zeros((3, 2, 3))  # C_out = 2 per group x 3 groups = 6
    with pytest.raises(ValueError, match=r"bias must have shape \(C_out,\) = \(6,\)"):
        conv_transpose1d(X1, w, np.zeros(2), groups=3)


def test_pool_window_larger_than_padded_input():
    with pytest.raises(
        ValueError,
        match=r"max_pool2d: pool window size 5 along W is "
        r"larger than the padded input size 4 \(input 4 \+ padding 0\+0\)",
    ):
        max_pool2d(np.zeros((1, 1, 8, 4)), (2, 5))


@pytest.mark.parametrize("fn", [max_pool1d, avg_pool1d])
def test_pool_padding_at_most_half_the_kernel(fn):
    with pytest.raises(
        ValueError,
        match=rf"{fn.__name__}: padding \(2,\) must be at "
        r"most half of kernel_size \(3,\)",
    ):
        fn(X1, 3, padding=2)


@pytest.mark.parametrize(
    "x", [np.zeros((1, 3, 8, 8), dtype=complex), [[["a"]]], np.array([[[None]]])]
)
def test_non_numeric_or_complex_input_is_a_type_error(x):
    with pytest.raises(TypeError, match="conv2d: input must be (real|a real numeric)"):
        conv2d(x, W2)


def test_complex_weight_is_a_type_error():
    with pytest.raises(TypeError, match="conv1d: weight must be real"):
        conv1d(X1, W1 + 1j)


def test_ragged_input():
    with pytest.raises(ValueError, match="conv1d: input is not a rectangular array"):
        conv1d([[[1, 2], [3]]], W1)


@pytest.mark.parametrize(
    "fn, x, w, name",
    [
        (conv2d, np.zeros((2, 0, 8, 8)), np.zeros((8, 0, 3, 3)), "input"),
        (conv2d, X2, np.zeros((0, 3, 3, 3)), "weight"),
        (conv1d, np.zeros((2, 3, 0)), W1, "input"),
        (conv_transpose1d, X1, np.zeros((3, 0, 3)), "weight"),
    ],
)
def test_empty_dimensions(fn, x, w, name):
    with pytest.raises(
        ValueError,
        match=rf"{fn.__name__}: {name} has an empty "
        r"dimension, shape",
    ):
        fn(x, w)


def test_an_empty_batch_gives_an_empty_output_as_in_torch():
    assert conv2d(np.zeros((0, 3, 8, 8)), W2, padding=1).shape == (0, 8, 8, 8)
    assert conv_transpose1d(np.zeros((0, 3, 10)), np.zeros((3, 2, 3))).shape == (
        0,
        2,
        12,
    )
    assert max_pool2d(np.zeros((0, 3, 8, 8)), 2).shape == (0, 3, 4, 4)


def test_an_input_without_batch_axis_gives_an_output_without_one_as_in_torch():
    rng = np.random.default_rng(0)
    x, w = rng.standard_normal((3, 8, 8)), rng.standard_normal((8, 3, 3, 3))
    np.testing.assert_array_equal(
        conv2d(x, w, stride=2), conv2d(x[None], w, stride=2)[0]
    )
    np.testing.assert_array_equal(avg_pool1d(x[0], 2), avg_pool1d(x[None, 0], 2)[0])


@pytest.mark.parametrize("fn", [conv2d, conv_matrix])
def test_integers_beyond_int64_are_refused_as_in_torch(fn):
    w = np.ones((1, 1, 3, 3))
    args = (X2[:1, :1], w) if fn is conv2d else (w, (8, 8))
    with pytest.raises(ValueError, match=f"{fn.__name__}: stride must fit in 64 bits"):
        fn(*args, stride=2**70)
    # the largest int64 still works, as in torch: one output position
    assert fn(*args, stride=2**63 - 1).shape[-1] == (1 if fn is conv2d else 8 * 8)


def test_one_value_in_a_tuple_is_used_for_every_axis_as_in_torch():
    np.testing.assert_array_equal(
        conv2d(X2, W2, padding=(1,)), conv2d(X2, W2, padding=1)
    )
    assert max_pool2d(X2, (2,)).shape == (2, 3, 4, 4)


def test_output_padding_must_be_below_stride_or_dilation():
    w = np.zeros((3, 2, 3, 3))
    with pytest.raises(
        ValueError,
        match=r"conv_transpose2d: output_padding 2 along W "
        r"must be smaller than either stride \(2\) or dilation \(1\)",
    ):
        conv_transpose2d(X2, w, stride=2, output_padding=(1, 2))
    conv_transpose2d(X2, w, stride=1, dilation=2, output_padding=1)  # allowed


def test_conv_transpose_padding_too_large_for_any_output():
    with pytest.raises(
        ValueError,
        match=r"conv_transpose1d: output size along L would "
        r"be -2",
    ):
        conv_transpose1d(np.zeros((1, 3, 2)), np.zeros((3, 1, 3)), padding=3)


def test_get_patches_and_pad_check_their_input():
    with pytest.raises(
        ValueError,
        match=r"get_patches: input must be 3-D \(N, C, L\) "
        r"or 4-D \(N, C, H, W\), got 2-D shape \(3, 4\)",
    ):
        get_patches(np.zeros((3, 4)), 2)
    with pytest.raises(ValueError, match="get_patches: kernel size 5 along L"):
        get_patches(X1[..., :4], 5)
    with pytest.raises(ValueError, match="pad: padding must be >= 0"):
        pad(X1, -1)
    with pytest.raises(TypeError, match="pad: value must be a real number, got 'inf'"):
        pad(X1, 1, value="inf")


@pytest.mark.parametrize(
    "kwargs, error, expected",
    [
        (
            dict(n=3, k=5),
            ValueError,
            r"kernel size k=5 is larger than the padded input "
            r"n \+ 2\*padding = 3",
        ),
        (
            dict(n=5, k=3, dilation=3),
            ValueError,
            r"kernel size k=3, spanning 7 with dilation 3, is",
        ),
        (dict(n=5, k=3, stride=0), ValueError, "stride must be >= 1, got 0"),
        (dict(n=5, k=3, padding=-1), ValueError, "padding must be >= 0, got -1"),
        (dict(n=0, k=1), ValueError, "n must be >= 1, got 0"),
        (dict(n=5.0, k=3), TypeError, r"n must be an int, got 5\.0"),
        (dict(n=5, k=(3,)), TypeError, r"k must be an int, got \(3,\)"),
        (dict(n=5, k=3, padding=True), TypeError, "padding must be an int, got True"),
    ],
)
def test_conv_output_size_arguments(kwargs, error, expected):
    with pytest.raises(error, match=f"conv_output_size: {expected}"):
        conv_output_size(**kwargs)


def test_conv_matrix_arguments():
    with pytest.raises(
        ValueError,
        match=r"conv_matrix: weight must be \(k,\), "
        r"\(C_out, C_in, k\) or \(C_out, C_in, kH, kW\), got shape \(3, 3\)",
    ):
        conv_matrix(np.zeros((3, 3)), 5)
    with pytest.raises(
        ValueError, match="conv_matrix: input_size must be an int or a tuple of 2 "
    ):
        conv_matrix(W2, (8, 8, 8))
    with pytest.raises(
        ValueError, match="conv_matrix: kernel size 3 along L is larger"
    ):
        conv_matrix([1, 2, 3], 2)


def test_circulant_arguments():
    with pytest.raises(
        ValueError,
        match=r"circulant: kernel length len\(w\)=5 is "
        r"larger than n=4",
    ):
        circulant(np.ones(5), 4)
    with pytest.raises(
        ValueError,
        match=r"circulant: w must be a non-empty 1-D kernel "
        r"\(k,\), got shape \(2, 2\)",
    ):
        circulant(np.ones((2, 2)), 4)
    with pytest.raises(TypeError, match="circulant: n must be an int, got 4.0"):
        circulant([1.0], 4.0)


FUNCTIONS = [
    conv1d,
    conv2d,
    convolve2d,
    conv_transpose1d,
    conv_transpose2d,
    conv2d_naive,
    max_pool1d,
    max_pool2d,
    avg_pool1d,
    avg_pool2d,
]


def test_random_bad_arguments_never_leak_numpy_errors():
    # throw random (often invalid) shapes and arguments at every op: each call must
    # succeed or raise ValueError/TypeError that starts with the function's name
    rng = np.random.default_rng(0)
    raised = 0
    for trial in range(400):
        fn = FUNCTIONS[trial % len(FUNCTIONS)]
        nd = 1 if fn.__name__.endswith("1d") else 2
        x = np.zeros(tuple(rng.integers(0, 5, rng.integers(nd + 1, nd + 4))))
        w = np.zeros(tuple(rng.integers(0, 4, rng.integers(nd + 1, nd + 4))))
        args = (x, w) if "pool" not in fn.__name__ else (x, int(rng.integers(-1, 4)))
        kwargs = {
            "stride": int(rng.integers(-1, 3)),
            "padding": int(rng.integers(-1, 3)),
        }
        if "pool" not in fn.__name__:
            kwargs["groups"] = int(rng.integers(0, 3))
        try:
            fn(*args, **kwargs)
        except (ValueError, TypeError) as err:
            raised += 1
            assert str(err).startswith(f"{fn.__name__}: "), str(err)
    assert raised > 300  # the sweep really exercised the checks
