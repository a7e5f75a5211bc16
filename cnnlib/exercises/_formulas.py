"""Convolution arithmetic with switchable mistakes, for the formula exercises.

Each function computes the right answer with its default options; every option
rebuilds one usual mistake, so :func:`cnnlib.exercises._diagnose.explain` can find
the mistake (or two) that reproduces a reader's answers. The ``*_MISTAKES`` dicts map
a message to the options that rebuild it.
"""

from __future__ import annotations

import math

from ._diagnose import count_variant, explain, join

SPANS = {  # the inputs a kernel of size k and dilation d covers, and slips
    "d(k-1)+1": lambda k, d: d * (k - 1) + 1,
    "k": lambda k, d: k,
    "dk": lambda k, d: d * k,
    "d(k-1)": lambda k, d: d * (k - 1),
    "dk-1": lambda k, d: d * k - 1,
}


def size(n, k, s=1, p=0, d=1, pads=2, span="d(k-1)+1", one="outside", rounding="//"):
    """floor((n + 2p - d(k - 1) - 1) / s) + 1, the number of windows that fit."""
    if pads == "after":
        return size(n, k, s, 0, d, span=span, one=one, rounding=rounding) + 2 * p
    top = n + pads * p - SPANS[span](k, d) + (1 if one == "inside" else 0)
    if rounding == "//":
        q = top // s
    elif rounding == "ceil":
        q = -(-top // s)
    elif rounding == "int":
        q = int(top / s)
    else:  # the stride ignored
        q = top
    return q + (1 if one == "outside" else 0)


SIZE_MISTAKES = {
    "forgot the +1 (count the first window too)": {"one": "none"},
    "the +1 belongs outside the division: floor((n + 2p - span) / s) + 1": {
        "one": "inside"
    },
    "padding counted once: there are p zeros on each side, 2p in all": {"pads": 1},
    "padding ignored: the padded input has n + 2p samples": {"pads": 0},
    "the padding goes inside the division: floor((n + 2p - span) / s) + 1": {
        "pads": "after"
    },
    "stride ignored: divide by s (only every s-th window is kept)": {
        "rounding": "none"
    },
    "rounded up: a window that does not fit entirely is dropped, so use floor": {
        "rounding": "ceil"
    },
    "int() rounds toward zero, not down: when no window fits, n + 2p - span is "
    "negative and int(-0.5) is 0 while floor(-0.5) is -1; use //": {"rounding": "int"},
}

DILATION_MISTAKES = {
    "dilation ignored: a dilated kernel spans d(k-1)+1 inputs": {"span": "k"},
    "a dilated kernel spans d(k - 1) + 1 inputs, not d k (there are k - 1 gaps "
    "of d between its k taps)": {"span": "dk"},
    "a dilated kernel spans d(k - 1) + 1 inputs: you left out the + 1": {
        "span": "d(k-1)"
    },
    "a dilated kernel spans d(k - 1) + 1 inputs, not d k - 1": {"span": "dk-1"},
}


def receptive_field(layers, start=1, tap="k-1", jump="product", order="up", span=None):
    """1 + sum over layers of d(k - 1) times the product of the strides below.

    ``layers``: (kernel, stride) pairs or (kernel, stride, dilation) triples.
    """
    layers = [(*layer, 1)[:3] for layer in layers]
    if order == "down":
        layers = layers[::-1]
    r, j = start, 1
    for k, s, d in layers:
        if jump == "including":
            j *= s
        reach = SPANS[span or "d(k-1)+1"](k, d) - 1 + (1 if tap == "k" else 0)
        r += reach * (j if jump != "none" else 1)
        j = {
            "product": j * s,
            "including": j,
            "none": 1,
            "previous": s,
            "sum": j + s,
            "dilated": j * s * d,
        }[jump]
    return r


RF_MISTAKES = {
    "strides ignored: after a layer with stride s, neighbouring units are s inputs "
    "apart, so each later layer adds its k - 1 extra units times the "
    "product of the strides BELOW it": {"jump": "none"},
    "you multiplied by the strides up to and including the current layer: a "
    "layer's own stride only spaces out the NEXT layer's inputs": {"jump": "including"},
    "the jumps must multiply: after layers with strides s1 and s2 neighbouring units "
    "are s1 * s2 inputs apart; you used only the previous layer's stride": {
        "jump": "previous"
    },
    "the jumps must multiply, not add: after strides s1 and s2 neighbouring units "
    "are s1 * s2 inputs apart, not s1 + s2": {"jump": "sum"},
    "off by one per layer: a window of k units reaches k - 1 units beyond the "
    "first one, so add (k - 1) * jump, not k * jump": {"tap": "k"},
    "off by one overall: a single input is its own receptive field, so start "
    "from r = 1, not 0": {"start": 0},
    "the layers are walked in the wrong order: they are listed bottom layer "
    "first, and each layer adds (k - 1) times the product of the strides BELOW it "
    "(r = s r + (k - s) is the same rule, run from the top layer down)": {
        "order": "down"
    },
}

RF_DILATION_MISTAKES = {
    "dilation ignored: a kernel of size k with dilation d spans d(k - 1) + 1 "
    "pixels, so it adds (k - 1) d, not k - 1": {"span": "k"},
    "a dilated kernel spans d(k - 1) + 1 pixels, not d k: it adds (k - 1) d times "
    "the jump": {"span": "dk"},
    "dilation spaces the taps of ONE layer; it does not multiply the jump of the "
    "layers above": {"jump": "dilated"},
}


def conv2d_params(ci, co, k, weights="full", bias="output"):
    """Parameters of a k x k convolution; the options rebuild the usual mistakes."""
    w = {
        "full": ci * co * k * k,
        "one channel": co * k * k,
        "k": ci * co * k,
        "2k": ci * co * 2 * k,
        "sum": co * (ci + k * k),
        "sum of channels": (ci + co) * k * k,
        "separable": ci * k * k + ci * co,
    }[weights]
    b = {
        "output": co,
        "none": 0,
        "shared": 1,
        "input": ci,
        "pair": ci * co,
        "both": ci + co,
    }[bias]
    return w + b


CONV2D_PARAM_MISTAKES = {
    "you forgot the biases, one per output channel": {"bias": "none"},
    "each kernel spans ALL input channels: it has c_in x k x k weights": {
        "weights": "one channel"
    },
    "a k x k kernel has k * k weights, not k": {"weights": "k"},
    "a k x k kernel has k * k weights, not k + k": {"weights": "2k"},
    "each kernel has c_in x k x k weights, a product: you added c_in and k * k": {
        "weights": "sum"
    },
    "there are c_in * c_out kernels of k x k (one per pair of channels), not "
    "c_in + c_out": {"weights": "sum of channels"},
    "that is a depthwise-separable convolution (c_in k x k filters, then a 1 x 1 "
    "convolution); a full convolution has c_out filters of c_in x k x k": {
        "weights": "separable"
    },
    "one bias per output channel, not one shared by the whole layer": {
        "bias": "shared"
    },
    "one bias per output channel, not per input channel": {"bias": "input"},
    "one bias per output channel, shared by all input channels": {"bias": "pair"},
    "biases on the input channels too: only the c_out outputs get one": {
        "bias": "both"
    },
}


def rf_verdict(observed, mistakes) -> str | None:
    """The receptive-field diagnosis shared by the 1D and the 2D exercise.

    ``observed``: [((layers,), answer)]; ``mistakes``: message -> options.
    """
    wrong = [(c, g) for c, g in observed if g != receptive_field(*c)]
    if not wrong:
        return None
    found = next(
        (
            message
            for message, formula in _WHOLE_RF_MISTAKES.items()
            if all(formula(layers) == got for (layers,), got in observed)
        ),
        None,
    )
    if not found:
        found = explain(observed, receptive_field, mistakes)
        found = join(found) if found else count_variant(observed, receptive_field)
    (layers,), got = wrong[0]
    example = f"for {layers}: expected {receptive_field(layers)}, got {got}"
    return f"{found} (e.g. {example})" if found else example


_WHOLE_RF_MISTAKES = {  # formulas that are not the recursion at all
    "receptive fields grow by addition, not multiplication of the kernel sizes": (
        lambda L: math.prod(k for k, *_ in L)
    ),
    "that is the jump (the product of the strides), not the receptive field": (
        lambda L: math.prod(s for _, s, *_ in L)
    ),
    "adding the kernel sizes counts the sample two neighbouring windows share "
    "twice, and ignores the strides: each layer adds (k - 1) times the product "
    "of the strides below it, starting from 1": lambda L: sum(k for k, *_ in L),
}
