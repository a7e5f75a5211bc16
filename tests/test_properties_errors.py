"""Property tests of cnnlib's argument checks: every public function, given one
invalid argument, raises ValueError or TypeError (ValueError for integers beyond
int64), its message starts with "<function name>: " and names the argument; never
an IndexError, OverflowError, AttributeError, numpy broadcasting error or torch
RuntimeError.

Each test item is one (function, argument) pair: the strategy starts from a valid
call and replaces that argument (with the arguments it depends on, for errors such as
a kernel larger than the input) by an invalid value. No strategy generates
valid-but-huge sizes: those are not argument errors."""

import re
from dataclasses import dataclass

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

import cnnlib
from cnnlib import grad, norm

torch.set_num_threads(1)

ANY = (ValueError, TypeError)
INT64_MAX = 2**63 - 1
VALID_PADDING_STRINGS = ("same", "valid")


class Together(dict):
    """Changes to several arguments that make one invalid call together."""


@dataclass
class Bad:
    """A call with one invalid argument, and what its error must say."""

    fn: object  # the cnnlib function
    kwargs: dict  # all its arguments
    edits: dict  # the ones changed from the valid call
    names: tuple  # the message names one of these
    kinds: tuple = ANY  # the error is one of these
    also: str = ""  # and the message holds this text

    def __repr__(self):
        shown = {k: _short(v) for k, v in self.edits.items()}
        return f"{self.fn.__name__}(**{shown})"


def _short(value):
    """A readable stand-in for an argument value: arrays by dtype and shape."""
    if isinstance(value, (np.ndarray, torch.Tensor)):
        return f"<{type(value).__name__} {value.dtype} {tuple(value.shape)}>"
    return value


def assert_named_error(bad):
    """bad's call raises ValueError/TypeError: "<fn>: ... <argument> ..."."""
    fn = bad.fn.__name__
    try:
        bad.fn(**bad.kwargs)
    except ANY as err:
        message = str(err)
        assert isinstance(err, bad.kinds), (bad, type(err).__name__, message)
        assert message.startswith(f"{fn}: "), (bad, message)
        named = [n for n in bad.names if re.search(rf"\b{re.escape(n)}\b", message)]
        assert named, (bad, f"names none of {bad.names}", message)
        assert bad.also in message, (bad, bad.also, message)
    except Exception as err:  # any other type is a defect this suite looks for
        kind = type(err).__name__
        pytest.fail(f"{bad!r} raised {kind}, not ValueError/TypeError: {err}")
    else:
        pytest.fail(f"{fn} accepted {bad!r}")


# --------------------------------------------------------------- invalid values


def bad(values, kinds=ANY, also=""):
    """A strategy of values -> a strategy of (value, kinds, also)."""
    return values.map(lambda value: (value, kinds, also))


def together(changes):
    """A strategy of dicts of changes -> (Together(changes), ANY, "")."""
    return changes.map(lambda d: (Together(d), ANY, ""))


def bad_int_scalars(minimum):
    """Values no int argument >= minimum accepts: smaller ints (numpy ints too),
    ints beyond int64 (ValueError), floats, bools, None, strings."""
    return st.one_of(
        bad(st.integers(max_value=minimum - 1)),
        bad(st.integers(-(2**63), minimum - 1).map(np.int64)),
        bad(st.integers(INT64_MAX + 1, 2**80), (ValueError,)),
        bad(st.floats()),  # 2.0 too: torch wants ints
        bad(st.booleans()),
        bad(st.none()),
        bad(st.text(max_size=4).filter(lambda t: t not in VALID_PADDING_STRINGS)),
    )


def bad_int_args(nd, minimum):
    """Values no stride/padding/dilation-like argument of an nd-D op accepts: a bad
    scalar, alone or in a tuple, and tuples whose length is neither 1 nor nd."""
    scalar = bad_int_scalars(minimum)
    ok = st.integers(minimum, 3)
    wrong_length = st.sampled_from([n for n in range(5) if n not in (1, nd)])
    options = [
        scalar,
        scalar.map(lambda t: ((t[0],), *t[1:])),
        wrong_length.flatmap(lambda n: st.lists(ok, min_size=n, max_size=n)).map(
            lambda v: (tuple(v), ANY, "")
        ),
    ]
    if nd == 2:  # one good and one bad value
        options.append(
            st.tuples(ok, scalar).map(lambda t: ((t[0], t[1][0]), *t[1][1:]))
        )
    return st.one_of(options)


def bad_arrays(shape, valid_ndims, none_ok=False, empty_ok=False):
    """Array-likes no array argument of that shape accepts: complex, strings, None,
    ragged lists, a torch tensor that requires grad, a wrong number of dimensions,
    an empty dimension (but the first, which may be an empty batch)."""
    ndims = [n for n in range(6) if n not in valid_ndims]
    longer_last = shape[:-1] + (shape[-1] + 1,)
    options = [
        bad(st.just(np.zeros(shape, dtype=complex)), (TypeError,)),
        bad(st.just(np.full(shape, "a")), (TypeError,)),
        bad(st.sampled_from([[np.zeros(shape), np.zeros(longer_last)], [[0.0], []]])),
        bad(
            st.builds(lambda: torch.zeros(shape, dtype=torch.float64).requires_grad_()),
            (TypeError,),
            ".detach()",
        ),
    ]
    if ndims:
        options.append(bad(st.sampled_from(ndims).map(lambda n: np.zeros((2,) * n))))
    if not empty_ok and len(shape) > 1:
        empty = [shape[:i] + (0,) + shape[i + 1 :] for i in range(1, len(shape))]
        options.append(bad(st.sampled_from(empty).map(np.zeros)))
    if not none_ok:
        options.append(bad(st.none(), (TypeError,)))
    return st.one_of(options)


def wrong_shapes(shape):
    """Shapes that are not `shape`: one axis longer, one axis fewer or more."""
    longer = [shape[:i] + (n + 1,) + shape[i + 1 :] for i, n in enumerate(shape)]
    return st.sampled_from([*longer, shape[:-1], (*shape, 1), (1, *shape)])


def bad_vectors(n, none_ok=False):
    """Values no per-channel vector (n,) accepts: bad arrays, and other shapes."""
    return st.one_of(
        bad_arrays((n,), (1,), none_ok), bad(wrong_shapes((n,)).map(np.zeros))
    )


def bad_dy(shape):
    """dy values that no backward pass of an output of `shape` accepts."""
    arrays = bad_arrays(shape, valid_ndims=[len(shape)]).filter(
        lambda t: not (isinstance(t[0], np.ndarray) and t[0].shape == shape)
    )
    return st.one_of(bad(wrong_shapes(shape).map(np.zeros)), arrays)


def bad_eps():
    """eps values that are not a positive finite real number."""
    return st.one_of(
        bad(st.floats(max_value=0.0)),
        bad(st.sampled_from([0, -1, np.nan, np.inf, -np.inf])),
        bad(st.sampled_from(["1e-6", None, True, 1e-6j, [1e-6], np.zeros(1)])),
    )


def _call_with(fn, base, arg, names):
    def make(bad_value):
        value, kinds, also = bad_value
        edits = dict(value) if isinstance(value, Together) else {arg: value}
        return Bad(fn, {**base, **edits}, edits, names, kinds, also)

    return make


def mutations(fn, base, changes):
    """-> {argument: strategy of Bad}: base's call with that argument changed.
    changes maps an argument to (names, strategy of (value, kinds, also), ...);
    a Together value changes several arguments at once."""
    return {
        arg: st.one_of([v.map(_call_with(fn, base, arg, names)) for v in options])
        for arg, (names, *options) in changes.items()
    }


# ------------------------------------------------------------------ the ops


def conv_bads(fn, nd):
    """conv1d/2d, convolve1d/2d, their *_naive and grad.conv*_forward:
    x (2, 2, 5..), w (3, 2, 3..), b (3,)."""
    x, w = np.zeros((2, 2, *[5] * nd)), np.zeros((3, 2, *[3] * nd))
    base = dict(x=x, w=w, b=np.zeros(3), stride=1, padding=0, dilation=1, groups=1)
    too_big = ("weight", "input", "padding", "kernel", "dilation")
    return mutations(
        fn,
        base,
        {
            "x": (
                ("input", "weight"),
                bad_arrays(x.shape, (nd + 1, nd + 2)),
                # channels that the weight does not expect
                bad(st.integers(3, 5).map(lambda c: np.zeros((2, c, *[5] * nd)))),
            ),
            "w": (
                too_big,
                bad_arrays(w.shape, (nd + 2,)),
                bad(st.integers(6, 8).map(lambda k: np.zeros((3, 2, *[k] * nd)))),
            ),
            "b": (("bias",), bad_vectors(3, none_ok=True)),
            "stride": (("stride",), bad_int_args(nd, 1)),
            "padding": (
                ("padding", "stride"),
                bad_int_args(nd, 0),
                together(
                    st.integers(2, 3).map(lambda s: {"stride": s, "padding": "same"})
                ),
            ),
            "dilation": (
                too_big,
                bad_int_args(nd, 1),
                # a dilated kernel spanning more than the input (dilation within int64)
                bad(st.integers(3, INT64_MAX)),
            ),
            # groups must divide C_in = 2 and C_out = 3
            "groups": (("groups",), bad_int_scalars(1), bad(st.integers(2, 7))),
        },
    )


def conv_transpose_bads(fn, nd):
    """conv_transpose1d/2d (+ naive): x (2, 2, 3..), w (2, 3, 2..), stride 2."""
    x, w = np.zeros((2, 2, *[3] * nd)), np.zeros((2, 3, *[2] * nd))
    base = dict(x=x, w=w, b=np.zeros(3), stride=2, padding=0, output_padding=0)
    base.update(groups=1, dilation=1)
    return mutations(
        fn,
        base,
        {
            "x": (
                ("input", "weight"),
                bad_arrays(x.shape, (nd + 1, nd + 2)),
                bad(st.integers(3, 5).map(lambda c: np.zeros((2, c, *[3] * nd)))),
            ),
            "w": (("weight",), bad_arrays(w.shape, (nd + 2,))),
            "b": (("bias",), bad_vectors(3, none_ok=True)),
            "stride": (("stride",), bad_int_args(nd, 1)),
            "padding": (
                ("padding",),
                bad_int_args(nd, 0),
                bad(st.sampled_from(VALID_PADDING_STRINGS)),
                # cropping the whole output away: it has (3 - 1)·2 + 1 + 1 = 6 samples
                bad(st.integers(3, INT64_MAX)),
            ),
            # output_padding must be smaller than stride (2) or dilation (1)
            "output_padding": (
                ("output_padding",),
                bad_int_args(nd, 0),
                bad(st.integers(2, INT64_MAX)),
            ),
            "dilation": (("dilation",), bad_int_args(nd, 1)),
            "groups": (("groups",), bad_int_scalars(1), bad(st.integers(3, 7))),
        },
    )


def pool_bads(fn, nd):
    """max/avg_pool1d/2d and grad.*_pool*_forward: x (2, 2, 5..), kernel_size 3."""
    x = np.zeros((2, 2, *[5] * nd))
    base = dict(x=x, kernel_size=3, stride=None, padding=0)
    window = ("kernel_size", "input", "padding", "window")
    return mutations(
        fn,
        base,
        {
            "x": (("input",), bad_arrays(x.shape, (nd + 1, nd + 2))),
            # a window larger than the input (kernel_size within int64)
            "kernel_size": (
                window,
                bad_int_args(nd, 1),
                bad(st.integers(6, INT64_MAX)),
            ),
            "stride": (
                ("stride",),
                bad_int_args(nd, 1).filter(lambda t: t[0] is not None),
            ),
            "padding": (
                ("padding",),
                bad_int_args(nd, 0),
                bad(st.sampled_from(VALID_PADDING_STRINGS)),  # pooling has no strings
                bad(st.integers(2, INT64_MAX)),  # more than kernel_size / 2
            ),
        },
    )


def pad_bads(nd):
    x = np.zeros((2, 2, *[3] * nd))
    return mutations(
        cnnlib.pad,
        dict(x=x, padding=1, value=0.0),
        {
            "x": (("input",), bad_arrays(x.shape, (3, 4))),
            "padding": (("padding",), bad_int_args(nd, 0)),
            "value": (
                ("value",),
                bad(st.sampled_from(["0", None, 1j, [1.0, 2.0], (0.0,)])),
            ),
        },
    )


def patches_bads(nd):
    x = np.zeros((2, 2, *[4] * nd))
    base = dict(x=x, kernel_size=2, stride=1, padding=0, dilation=1)
    too_big = ("kernel_size", "input", "kernel", "dilation", "padding")
    return mutations(
        cnnlib.get_patches,
        base,
        {
            "x": (("input",), bad_arrays(x.shape, (3, 4))),
            "kernel_size": (
                too_big,
                bad_int_args(nd, 1),
                bad(st.integers(5, INT64_MAX)),
            ),
            "stride": (("stride",), bad_int_args(nd, 1)),
            "padding": (("padding",), bad_int_args(nd, 0)),
            "dilation": (too_big, bad_int_args(nd, 1), bad(st.integers(4, INT64_MAX))),
        },
    )


def matrix_bads(nd):
    w = np.zeros((3, 2, *[2] * nd))
    base = dict(w=w, input_size=4, stride=1, padding=0, dilation=1)
    return mutations(
        cnnlib.conv_matrix,
        base,
        {
            # (k,), 3-D and 4-D kernels are all valid (input_size=4 means (4, 4) in 2D)
            "w": (("weight",), bad_arrays(w.shape, (1, 3, 4))),
            "input_size": (
                ("input_size", "input", "kernel"),
                bad_int_args(nd, 1),
                bad(st.just(1)),
            ),
            "stride": (("stride",), bad_int_args(nd, 1)),
            "padding": (
                ("padding", "stride"),
                bad_int_args(nd, 0),
                together(
                    st.integers(2, 3).map(lambda s: {"stride": s, "padding": "same"})
                ),
            ),
            "dilation": (("dilation",), bad_int_args(nd, 1)),
        },
    )


def circulant_bads():
    return mutations(
        cnnlib.circulant,
        dict(w=np.zeros(3), n=5),
        {
            "w": (("w", "n"), bad_arrays((3,), (1,)), bad(st.just(np.zeros(6)))),
            "n": (("n", "w"), bad_int_scalars(1), bad(st.integers(1, 2))),
        },
    )


def output_size_bads():
    base = dict(n=5, k=3, stride=1, padding=0, dilation=1)
    minimum = dict(n=1, k=1, stride=1, padding=0, dilation=1)
    changes = {arg: ((arg,), bad_int_scalars(low)) for arg, low in minimum.items()}
    # a kernel longer than the padded input
    changes["k"] += (bad(st.integers(6, INT64_MAX)),)
    changes["k"] = (("k", "n", "kernel"), *changes["k"][1:])
    return mutations(cnnlib.conv_output_size, base, changes)


def return_indices_bads(fn, nd):
    """max_pool1d/2d: return_indices must be a bool."""
    base = dict(x=np.zeros((2, 2, *[4] * nd)), kernel_size=2, return_indices=True)
    values = st.sampled_from([0, 1, "True", None, 1.0, np.int64(1), (True,)])
    return mutations(fn, base, {"return_indices": (("return_indices",), bad(values))})


def unpool_bads():
    """max_unpool2d: y (2, 2, 2, 2) and indices into its 4 x 4 output planes."""
    y = np.zeros((2, 2, 2, 2))
    indices = np.zeros(y.shape, dtype=np.int64)
    base = dict(y=y, indices=indices, kernel_size=2, stride=None, padding=0)
    base.update(output_size=None)
    out_of_range = st.sampled_from([16, -1, 2**40]).map(
        lambda v: np.full(y.shape, v, dtype=np.int64)
    )
    other_shapes = wrong_shapes(y.shape).map(lambda s: np.zeros(s, dtype=np.int64))
    bad_sizes = [4, "44", (4,), (1, 4, 4), (1, 1, 1, 4, 4), (2, 4), (4, 6), (4, 4.0)]
    return mutations(
        cnnlib.max_unpool2d,
        base,
        {
            "y": (("input", "indices"), bad_arrays(y.shape, (3, 4))),
            "indices": (
                ("indices",),
                bad_arrays(y.shape, (4,)),
                bad(other_shapes),
                bad(out_of_range, (ValueError,)),
                bad(st.sampled_from([np.float64, np.bool_]).map(lambda t: y.astype(t))),
            ),
            "kernel_size": (("kernel_size",), bad_int_args(2, 1)),
            "stride": (
                ("stride",),
                bad_int_args(2, 1).filter(lambda t: t[0] is not None),
            ),
            # padding 2 or more leaves no output: (2 - 1)·2 - 2·2 + 2 = 0
            "padding": (
                ("padding",),
                bad_int_args(2, 0),
                bad(st.integers(2, INT64_MAX)),
            ),
            "output_size": (("output_size",), bad(st.sampled_from(bad_sizes))),
        },
    )


def interpolate_bads(nd):
    """interpolate: x (2, 2, 4..) to size 3 with mode 'nearest'."""
    x = np.zeros((2, 2, *[4] * nd))
    base = dict(x=x, size=3, scale_factor=None, mode="nearest", align_corners=None)
    linear = "linear" if nd == 1 else "bilinear"
    sizes = [0, -1, 2.0, True, "3", None, (3,) * (nd + 1), (0,) * nd, 2**63]
    factors = [0, -1.5, np.nan, np.inf, "2", True, (2.0,) * (nd + 1), 0.1, 1e300]
    modes = ["bicubic", "area", "Nearest", "", 3, None, "linear" if nd == 2 else ""]
    modes.append("bilinear" if nd == 1 else "trilinear")
    return mutations(
        cnnlib.interpolate,
        base,
        {
            "x": (("input",), bad_arrays(x.shape, (3, 4))),
            # size None with no scale_factor, or anything but positive ints
            "size": (("size", "scale_factor"), bad(st.sampled_from(sizes))),
            "scale_factor": (
                ("scale_factor", "size"),
                together(st.sampled_from(factors).map(_factor_instead_of_size)),
                bad(st.sampled_from([2, 0.5, (2, 2)])),  # as well as size
            ),
            "mode": (("mode",), bad(st.sampled_from(modes))),
            "align_corners": (
                ("align_corners",),
                bad(st.sampled_from([True, False])),  # with mode 'nearest'
                together(
                    st.sampled_from([1, 0, "True", (True,)]).map(
                        lambda v: {"mode": linear, "align_corners": v}
                    )
                ),
            ),
        },
    )


def _factor_instead_of_size(factor):
    return {"size": None, "scale_factor": factor}


# -------------------------------------------------------- backward passes


def _caches():
    """One cache of every kind, to hand to the wrong backward pass."""
    x1, x2 = np.zeros((1, 2, 4)), np.zeros((1, 2, 4, 4))
    return {
        "conv1d": grad.conv1d_forward(x1, np.zeros((1, 2, 2)))[1],
        "conv2d": grad.conv2d_forward(x2, np.zeros((1, 2, 2, 2)))[1],
        "max_pool1d": grad.max_pool1d_forward(x1, 2)[1],
        "max_pool2d": grad.max_pool2d_forward(x2, 2)[1],
        "avg_pool1d": grad.avg_pool1d_forward(x1, 2)[1],
        "avg_pool2d": grad.avg_pool2d_forward(x2, 2)[1],
        "relu": grad.relu_forward(x1)[1],
        "linear": grad.linear_forward(np.zeros((2, 3)), np.zeros((4, 3)))[1],
        "batch_norm": norm.batch_norm_forward(x1, None, None)[1],
    }


CACHES = _caches()
OUTPUT_SHAPES = {
    "relu": CACHES["relu"].passes.shape,
    "batch_norm": CACHES["batch_norm"].x.shape,
}


def backward_bads(fn, op):
    """A backward pass given a bad dy for CACHES[op], or another op's cache."""
    cache = CACHES[op]
    shape = OUTPUT_SHAPES.get(op) or cache.y_shape
    others = [c for name, c in CACHES.items() if name != op]
    wrong = [None, (), "cache", tuple(cache), {"x": 0}, *others]
    return mutations(
        fn,
        dict(dy=np.zeros(shape), cache=cache),
        {
            "dy": (("dy",), bad_dy(shape)),
            "cache": (("cache",), bad(st.sampled_from(wrong), (TypeError,))),
        },
    )


def relu_bads():
    x = np.zeros((2, 3))
    return mutations(
        grad.relu_forward,
        dict(x=x),
        {
            "x": (("input",), bad_arrays(x.shape, range(6), empty_ok=True)),
        },
    )


def linear_bads():
    x, w = np.zeros((2, 3)), np.zeros((4, 3))
    features = st.sampled_from([1, 2, 4, 5])  # anything but w's 3
    return mutations(
        grad.linear_forward,
        dict(x=x, w=w, b=np.zeros(4)),
        {
            "x": (
                ("input", "weight"),
                bad_arrays(x.shape, range(1, 6)),
                bad(features.map(lambda n: np.zeros((2, n)))),
            ),
            "w": (("weight",), bad_arrays(w.shape, (2,))),
            "b": (("bias",), bad_vectors(4, none_ok=True)),
        },
    )


def softmax_bads():
    base = dict(logits=np.zeros((3, 4)), targets=np.array([0, 1, 3]))
    wrong = [[0, 1, 4], [-1, 0, 0], [0, 1], [[0, 1, 2]], [0.0, 1.0, 2.0]]
    return mutations(
        grad.softmax_cross_entropy,
        base,
        {
            "logits": (("logits",), bad_arrays((3, 4), (2,))),
            "targets": (
                ("targets",),
                bad(st.sampled_from(wrong).map(np.array)),
                bad(st.just(np.array([True, False, True]))),
                bad_arrays((3,), (1,)),
            ),
        },
    )


# ------------------------------------------------------------ gradient checks


def _square(x):
    return x**2


def numerical_gradient_bads():
    x = np.ones(3)
    base = dict(f=_square, inputs=(x,), dy=np.ones(3), eps=1e-6)
    inputs = [x, None, "x", (np.ones(3, complex),), ("x",)]
    return mutations(
        grad.numerical_gradient,
        base,
        {
            "f": (("f",), bad(st.sampled_from([None, "f", 3, x]))),
            "inputs": (("inputs",), bad(st.sampled_from(inputs))),
            "dy": (("dy",), bad_dy((3,))),
            "eps": (("eps",), bad_eps()),
        },
    )


def check_gradient_bads():
    x = np.ones(3)
    base = dict(f=_square, inputs=(x,), backward=lambda dy: (2 * x * dy,))
    base.update(seed=0, eps=1e-6)
    # not a function, or one that returns no tuple of one gradient per input
    backwards = [None, "b", lambda dy: 2 * x * dy, lambda dy: (dy, dy), lambda dy: ()]
    return mutations(
        grad.check_gradient,
        base,
        {
            "f": (("f",), bad(st.sampled_from([None, "f", 3]))),
            "inputs": (
                ("inputs",),
                bad(st.sampled_from([x, None, (np.ones(3, complex),)])),
            ),
            "backward": (("backward",), bad(st.sampled_from(backwards))),
            "seed": (("seed",), bad(st.sampled_from([-1, 1.5, None, "0", True]))),
            "eps": (("eps",), bad_eps()),
        },
    )


def relative_error_bads():
    base = dict(a=np.zeros((2, 3)), b=np.zeros((2, 3)))
    return mutations(
        grad.relative_error,
        base,
        {
            "a": (
                ("a", "b"),
                bad(wrong_shapes((2, 3)).map(np.zeros)),
                bad_arrays((2, 3), [2]),
            ),
            "b": (("b",), bad(st.just(np.zeros((2, 3), complex)))),
        },
    )


# ------------------------------------------------------------------ batch norm


def batch_norm_bads():
    x = np.zeros((2, 3, 4))
    base = dict(x=x, gamma=np.ones(3), beta=np.zeros(3), eps=1e-5)
    # one value per channel: the batch variance is 0 (torch refuses to train)
    single = st.sampled_from([(1, 3), (1, 3, 1), (1, 3, 1, 1)]).map(np.zeros)
    return mutations(
        norm.batch_norm_forward,
        base,
        {
            "x": (("input",), bad_arrays(x.shape, range(2, 6)), bad(single)),
            "gamma": (("gamma",), bad_vectors(3, none_ok=True)),
            "beta": (("beta",), bad_vectors(3, none_ok=True)),
            "eps": (("eps",), bad_eps()),
        },
    )


def batch_norm_eval_bads(fn):
    x = np.zeros((2, 3, 4))
    base = dict(x=x, running_mean=np.zeros(3), running_var=np.ones(3))
    base.update(gamma=np.ones(3), beta=np.zeros(3), eps=1e-5)
    changes = {
        "x": (("input",), bad_arrays(x.shape, range(2, 6))),
        "running_mean": (("running_mean",), bad_vectors(3)),
        "running_var": (
            ("running_var",),
            bad_vectors(3),
            bad(st.just(np.array([1.0, -1.0, 1.0]))),  # a negative variance
        ),
        "gamma": (("gamma",), bad_vectors(3, none_ok=True)),
        "beta": (("beta",), bad_vectors(3, none_ok=True)),
        "eps": (("eps",), bad_eps()),
    }
    if fn is norm.batch_norm_eval_backward:
        base["dy"] = np.zeros(x.shape)
        changes["dy"] = (("dy",), bad_dy(x.shape))
    return mutations(fn, base, changes)


def running_stats_bads():
    base = dict(running_mean=np.zeros(3), running_var=np.ones(3), mu=np.zeros(3))
    base.update(var=np.ones(3), n=4, momentum=0.1, count=None)
    momenta = [-0.1, 1.5, np.nan, "0.1", True, 1j]
    # momentum=None (a cumulative average) needs count, an int >= 1
    no_count = st.sampled_from([None, 0, -1, 1.5, "1"])
    return mutations(
        norm.update_running_stats,
        base,
        {
            "running_mean": (("running_mean",), bad_vectors(3)),
            "running_var": (("running_var",), bad_vectors(3)),
            "mu": (("mu",), bad(st.sampled_from([np.zeros((3, 1)), np.zeros(())]))),
            "var": (("var",), bad_vectors(3)),
            "n": (("n",), bad(st.sampled_from([1, 0, -3, 2.5, None, "4", True]))),
            "momentum": (("momentum",), bad(st.sampled_from(momenta))),
            "count": (
                ("count", "momentum"),
                together(no_count.map(lambda c: {"momentum": None, "count": c})),
            ),
        },
    )


# ------------------------------------------------------------------ the registry


CONV_FNS = [
    (cnnlib.conv1d, 1),
    (cnnlib.conv2d, 2),
    (cnnlib.convolve1d, 1),
    (cnnlib.convolve2d, 2),
    (cnnlib.conv1d_naive, 1),
    (cnnlib.conv2d_naive, 2),
    (grad.conv1d_forward, 1),
    (grad.conv2d_forward, 2),
]
CONV_T_FNS = [
    (cnnlib.conv_transpose1d, 1),
    (cnnlib.conv_transpose2d, 2),
    (cnnlib.conv_transpose1d_naive, 1),
    (cnnlib.conv_transpose2d_naive, 2),
]
POOL_FNS = [
    (cnnlib.max_pool1d, 1),
    (cnnlib.max_pool2d, 2),
    (cnnlib.avg_pool1d, 1),
    (cnnlib.avg_pool2d, 2),
    (grad.max_pool1d_forward, 1),
    (grad.max_pool2d_forward, 2),
    (grad.avg_pool1d_forward, 1),
    (grad.avg_pool2d_forward, 2),
]
BACKWARD_FNS = [
    (grad.conv1d_backward, "conv1d"),
    (grad.conv2d_backward, "conv2d"),
    (grad.conv1d_backward_naive, "conv1d"),
    (grad.conv2d_backward_naive, "conv2d"),
    (grad.max_pool1d_backward, "max_pool1d"),
    (grad.max_pool2d_backward, "max_pool2d"),
    (grad.avg_pool1d_backward, "avg_pool1d"),
    (grad.avg_pool2d_backward, "avg_pool2d"),
    (grad.relu_backward, "relu"),
    (grad.linear_backward, "linear"),
    (norm.batch_norm_backward, "batch_norm"),
    (norm.batch_norm_backward_compact, "batch_norm"),
]
# test id prefix -> {argument: strategy of Bad}
SPECS = {
    **{f.__name__: conv_bads(f, nd) for f, nd in CONV_FNS},
    **{f.__name__: conv_transpose_bads(f, nd) for f, nd in CONV_T_FNS},
    **{f.__name__: pool_bads(f, nd) for f, nd in POOL_FNS},
    **{f.__name__: backward_bads(f, op) for f, op in BACKWARD_FNS},
    "pad_1d": pad_bads(1),
    "pad_2d": pad_bads(2),
    "get_patches_1d": patches_bads(1),
    "get_patches_2d": patches_bads(2),
    "conv_matrix_1d": matrix_bads(1),
    "conv_matrix_2d": matrix_bads(2),
    "circulant": circulant_bads(),
    "conv_output_size": output_size_bads(),
    "relu_forward": relu_bads(),
    "linear_forward": linear_bads(),
    "softmax_cross_entropy": softmax_bads(),
    "numerical_gradient": numerical_gradient_bads(),
    "check_gradient": check_gradient_bads(),
    "relative_error": relative_error_bads(),
    "batch_norm_forward": batch_norm_bads(),
    "batch_norm_eval": batch_norm_eval_bads(norm.batch_norm_eval),
    "batch_norm_eval_backward": batch_norm_eval_bads(norm.batch_norm_eval_backward),
    "update_running_stats": running_stats_bads(),
    "max_pool1d_return_indices": return_indices_bads(cnnlib.max_pool1d, 1),
    "max_pool2d_return_indices": return_indices_bads(cnnlib.max_pool2d, 2),
    "max_unpool2d": unpool_bads(),
    "interpolate_1d": interpolate_bads(1),
    "interpolate_2d": interpolate_bads(2),
}
CASES = [
    pytest.param(strategy, id=f"{name}-{arg}")
    for name, by_argument in SPECS.items()
    for arg, strategy in by_argument.items()
]


@pytest.mark.parametrize("calls", CASES)
@given(data=st.data())
def test_invalid_argument_raises_a_named_error(calls, data):
    """One invalid argument -> ValueError/TypeError "<fn>: ... <argument> ..."."""
    assert_named_error(data.draw(calls, label="call"))
