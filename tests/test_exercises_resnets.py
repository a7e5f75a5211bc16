"""The checkers of chapter 08 ("Residual networks") name the mistake.

Each wrong answer is a plausible solution with one mistake (or two); the test
asserts that the message names it. The references the checkers use are checked here
too: the block against torch modules, the bottleneck count against a Bottleneck
built in torch, the path counts against an enumeration of the unrolled network.
"""

import itertools
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from test_exercises_common import assume_contiguous, stub
from torch import nn

from cnnlib.exercises import (
    ExerciseError,
    check_basic_block,
    check_bottleneck_params,
    check_dense_channels,
    check_path_counts,
)
from cnnlib.exercises.resnets import _BLOCK_CASES, _block
from cnnlib.exercises.resnets_bottleneck import _BOTTLENECK_CASES, _bottleneck
from cnnlib.exercises.resnets_counts import _DENSE_CASES, _PATH_KS

CHECKERS = [
    check_basic_block,
    check_bottleneck_params,
    check_path_counts,
    check_dense_channels,
]


@pytest.mark.parametrize("check", CHECKERS, ids=lambda c: c.__name__)
def test_a_stub_is_not_implemented_yet(check, capsys):
    assert check(stub) is False
    assert "not implemented yet" in capsys.readouterr().out


# --------------------------------------------------------------------------------------
# basic_block(x, w1, w2, stride=1, w_proj=None) = relu(F(x) + shortcut)


def basic_block(x, w1, w2, stride=1, w_proj=None):
    h = F.relu(F.conv2d(x, w1, stride=stride, padding=1))
    branch = F.conv2d(h, w2, padding=1)
    shortcut = x if w_proj is None else F.conv2d(x, w_proj, stride=stride)
    return F.relu(branch + shortcut)


class Block(nn.Module):
    """torchvision's BasicBlock without its batch norms."""

    def __init__(self, w1, w2, stride, w_proj):
        super().__init__()
        c, c_in = w1.shape[:2]
        self.conv1 = nn.Conv2d(c_in, c, 3, stride, 1, bias=False)
        self.conv2 = nn.Conv2d(c, c, 3, 1, 1, bias=False)
        self.conv1.weight.data, self.conv2.weight.data = w1, w2
        self.downsample = None
        if w_proj is not None:
            self.downsample = nn.Conv2d(c_in, c, 1, stride, bias=False)
            self.downsample.weight.data = w_proj

    def forward(self, x):
        identity = x if self.downsample is None else self.downsample(x)
        out = self.conv2(torch.relu(self.conv1(x)))
        return torch.relu(out + identity)


def block_module(x, w1, w2, stride=1, w_proj=None):
    with torch.no_grad():
        return Block(w1, w2, stride, w_proj).double()(x)


def as_tensors(case):
    return [torch.from_numpy(a) if isinstance(a, np.ndarray) else a for a in case]


def test_block_reference_is_the_module():
    for case in _BLOCK_CASES:
        want = block_module(*as_tensors(case)).numpy()
        assert np.allclose(_block(*case), want, rtol=1e-12, atol=1e-12)
        assert _block(*case).shape == want.shape


def returns_numpy(x, w1, w2, stride=1, w_proj=None):
    return basic_block(x, w1, w2, stride, w_proj).numpy()


@pytest.mark.parametrize(
    "right",
    [basic_block, block_module, returns_numpy],
    ids=["functional", "module", "numpy"],
)
def test_basic_block_correct_answers_pass(right, capsys):
    assert check_basic_block(right)
    assert "correct" in capsys.readouterr().out


def block(x, w1, w2, stride=1, w_proj=None, *, relu="after", relu_shortcut=False,
          stride_on=1, padding=1, proj=True, proj_stride=True, add="end",
          relu_mid=True):  # fmt: skip
    """A configurable block, so that each test injects one mistake or two."""
    s1, s2 = (stride, 1) if stride_on == 1 else (1, stride)
    if w_proj is None or not proj:
        shortcut = x
    else:
        shortcut = F.conv2d(x, w_proj, stride=stride if proj_stride else 1)
    if relu_shortcut:
        shortcut = F.relu(shortcut)
    h = F.conv2d(x, w1, stride=s1, padding=padding)
    if add == "before conv2":
        h = F.relu(h) + shortcut
    h = F.relu(h) if relu_mid and add == "end" else h
    out = F.conv2d(h, w2, stride=s2, padding=padding)
    if add != "end":
        return F.relu(out)
    if relu == "branch":
        return F.relu(out) + shortcut
    if relu == "none":
        return out + shortcut
    if relu == "plain":
        return F.relu(out)
    return F.relu(out + shortcut)


def slip(**mistakes):
    """basic_block with the given mistakes."""

    def wrong(x, w1, w2, stride=1, w_proj=None):
        return block(x, w1, w2, stride, w_proj, **mistakes)

    return wrong


def projects_on_channels_only(x, w1, w2, stride=1, w_proj=None):
    if x.shape[1] != w1.shape[0]:  # misses a stride-only change and same shapes
        return basic_block(x, w1, w2, stride, w_proj)
    return basic_block(x, w1, w2, stride)


def adds_into_x(x, w1, w2, stride=1, w_proj=None):
    h = F.relu(F.conv2d(x, w1, stride=stride, padding=1))
    shortcut = x if w_proj is None else F.conv2d(x, w_proj, stride=stride)
    shortcut += F.conv2d(h, w2, padding=1)  # shortcut IS x when w_proj is None
    return F.relu(shortcut)


def relu_in_place_first(x, w1, w2, stride=1, w_proj=None):
    F.relu(x, inplace=True)  # the block's input rectified, the caller's x too
    return basic_block(x, w1, w2, stride, w_proj)


def no_stride_in_conv1(x, w1, w2, stride=1, w_proj=None):
    h = F.relu(F.conv2d(x, w1, padding=1))
    shortcut = x if w_proj is None else F.conv2d(x, w_proj, stride=stride)
    return F.relu(F.conv2d(h, w2, padding=1) + shortcut)


def flattens_with_view(x, w1, w2, stride=1, w_proj=None):
    n, c, h, w = x.shape
    rows = x.view(n * c, h * w)  # refuses a non-contiguous x
    return basic_block(rows.view(n, c, h, w), w1, w2, stride, w_proj)


BLOCK_WRONG = [
    (slip(relu="branch"), "final ReLU is in the wrong place"),
    (slip(relu_shortcut=True), "a ReLU on the shortcut too"),
    (
        slip(proj=False),
        "RuntimeError.*\nThe residual branch and the shortcut differ in size: "
        "when the shape changes the shortcut needs the projection",
    ),
    (projects_on_channels_only, "w_proj is given but your shortcut is x itself"),
    (slip(stride_on=2), "stride belongs to the FIRST"),
    (
        slip(proj_stride=False),
        "stride=2, w_proj.*RuntimeError.*\nIf the branch and the shortcut differ in "
        "size: the projection needs the stride too",
    ),
    (
        no_stride_in_conv1,
        "If the branch and the shortcut differ in size: the projection needs the "
        "stride too.*; or the stride is missing from the first 3x3 convolution",
    ),
    (slip(padding=0), "RuntimeError.*\n.*need padding=1"),
    (slip(add="before conv2"), "added after the SECOND convolution"),
    (slip(relu="plain"), "forgot the shortcut.*plain block"),
    (slip(relu="none"), "ReLU after the addition is missing"),
    (slip(relu_mid=False), "ReLU between the two convolutions"),
    (
        slip(relu="branch", relu_shortcut=True),
        "two mistakes: \\(1\\) the final ReLU .*\\(2\\) a ReLU on the shortcut",
    ),
    (lambda *a, **k: basic_block(*a, **k).float(), "float32"),
    (lambda *a, **k: basic_block(*a, **k)[:, :, 1:], "should have shape"),
    (adds_into_x, "changed its input x in place.*out \\+= "),
    (relu_in_place_first, "changed its input x in place.*inplace=True"),
    (
        lambda x, *a, **k: basic_block(assume_contiguous(x), *a, **k),
        "stored non-contiguously",
    ),
    (flattens_with_view, "view.*\n.*stored non-contiguously.*x.reshape"),
]


@pytest.mark.parametrize(
    "wrong, message",
    BLOCK_WRONG,
    ids=[
        "relu-on-branch",
        "relu-on-shortcut",
        "no-projection",
        "projection-for-channels-only",
        "stride-on-conv2",
        "projection-without-stride",
        "no-stride-in-conv1",
        "padding-0",
        "added-before-conv2",
        "plain-block",
        "no-final-relu",
        "no-middle-relu",
        "two-relus-misplaced",
        "float32",
        "shape",
        "adds-into-x",
        "relu-in-place",
        "as-strided",
        "view",
    ],
)
def test_basic_block_names_the_mistake(wrong, message):
    with pytest.raises(ExerciseError, match=message):
        check_basic_block(wrong)


# --------------------------------------------------------------------------------------
# bottleneck_params(in_channels, width, stride=1), as torchvision's Bottleneck


class Bottleneck(nn.Module):
    """torchvision's Bottleneck (groups 1, base width 64), with switchable slips."""

    expansion = 4

    def __init__(self, inplanes, planes, stride=1, bias=False, norm=True,
                 projection="needed"):  # fmt: skip
        super().__init__()
        out = planes * self.expansion
        bn = nn.BatchNorm2d if norm else lambda c: nn.Identity()
        self.conv1 = nn.Conv2d(inplanes, planes, 1, bias=bias)
        self.bn1 = bn(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, stride, 1, bias=bias)
        self.bn2 = bn(planes)
        self.conv3 = nn.Conv2d(planes, out, 1, bias=bias)
        self.bn3 = bn(out)
        needed = {
            "needed": stride != 1 or inplanes != out,
            "always": True,
            "never": False,
            "stride": stride != 1,
            "channels": inplanes != out,
        }[projection]
        self.downsample = None
        if needed:
            self.downsample = nn.Sequential(
                nn.Conv2d(inplanes, out, 1, stride, bias=bias), bn(out)
            )


def counted(module):
    return sum(p.numel() for p in module.parameters())


def bottleneck_params(in_channels, width, stride=1):
    return counted(Bottleneck(in_channels, width, stride))


def bottleneck_formula(in_channels, width, stride=1):
    out = 4 * width
    convs = in_channels * width + width * width * 9 + width * out
    norms = 2 * (width + width + out)
    if stride != 1 or in_channels != out:
        convs, norms = convs + in_channels * out, norms + 2 * out
    return convs + norms


def test_bottleneck_reference_counts_what_torch_counts():
    for case in _BOTTLENECK_CASES:
        assert _bottleneck(*case) == bottleneck_params(*case)
    assert bottleneck_params(64, 64) == 75_008  # ResNet-50's first block
    assert bottleneck_params(256, 64) == 70_400


@pytest.mark.parametrize(
    "right",
    [bottleneck_params, bottleneck_formula, lambda *c: np.int64(bottleneck_params(*c))],
    ids=["torch", "formula", "np.int64"],
)
def test_bottleneck_correct_answers_pass(right, capsys):
    assert check_bottleneck_params(right)
    assert "correct" in capsys.readouterr().out


def state_dict_size(in_channels, width, stride=1):
    block = Bottleneck(in_channels, width, stride)
    return sum(t.numel() for t in block.state_dict().values())


def buffers_too(in_channels, width, stride=1):
    block = Bottleneck(in_channels, width, stride)
    stats = sum(m.running_mean.numel() * 2 for m in block.modules() if m._buffers)
    return counted(block) + stats


def expanded_in_conv2(in_channels, width, stride=1):
    out = 4 * width
    block = nn.Sequential(
        nn.Conv2d(in_channels, width, 1, bias=False),
        nn.BatchNorm2d(width),
        nn.Conv2d(width, out, 3, bias=False),
        nn.BatchNorm2d(out),
        nn.Conv2d(out, out, 1, bias=False),
        nn.BatchNorm2d(out),
    )
    projection = in_channels * out + 2 * out
    return counted(block) + (projection if stride != 1 or in_channels != out else 0)


def shrinks_to_width(in_channels, width, stride=1):
    inner = width // 4
    n = in_channels * inner + inner * inner * 9 + inner * width
    n += 2 * (inner + inner + width)
    if stride != 1 or in_channels != width:
        n += in_channels * width + 2 * width
    return n


def middle_as_1x1(in_channels, width, stride=1):
    return bottleneck_params(in_channels, width, stride) - 8 * width * width


def projection_without_norm(in_channels, width, stride=1):
    needed = stride != 1 or in_channels != 4 * width
    return bottleneck_params(in_channels, width, stride) - 8 * width * needed


BOTTLENECK_WRONG = [
    (lambda *c: counted(Bottleneck(*c, norm=False)), "forgot the batch norms"),
    (lambda *c: counted(Bottleneck(*c, projection="never")), "forgot the projection"),
    (
        lambda *c: counted(Bottleneck(*c, projection="always")),
        "projection is counted always",
    ),
    (
        lambda *c: counted(Bottleneck(*c, projection="stride")),
        "needed when in_channels != 4·width too",
    ),
    (
        lambda *c: counted(Bottleneck(*c, projection="channels")),
        "needed when stride != 1 too",
    ),
    (projection_without_norm, "projection's BatchNorm2d\\(4·width\\) is missing"),
    (lambda *c: counted(Bottleneck(*c, bias=True)), "have no bias \\(bias=False\\)"),
    (expanded_in_conv2, "expansion by 4 is applied to the wrong convolution"),
    (shrinks_to_width, "width is the bottleneck's inner channel count"),
    (middle_as_1x1, "the middle convolution is 3x3.*as a 1x1"),
    (buffers_too, "running mean and variance are buffers"),
    (state_dict_size, "you counted the state_dict"),
    (
        lambda *c: counted(Bottleneck(*c, bias=True, norm=False)),
        "two mistakes: \\(1\\) you forgot the batch norms.*\\(2\\).*bias",
    ),
    (lambda *c: float(bottleneck_params(*c)), "a float: return an int"),
    (lambda *c: bottleneck_params(*c) + 1, "every answer is one too large"),
    (lambda *c: 75_008, "you return 75008 whatever the arguments"),
]


@pytest.mark.parametrize(
    "wrong, message",
    BOTTLENECK_WRONG,
    ids=[
        "no-batch-norm",
        "no-projection",
        "projection-always",
        "projection-for-stride-only",
        "projection-for-channels-only",
        "projection-without-bn",
        "bias",
        "expansion-in-conv2",
        "shrinks-to-width",
        "3x3-as-1x1",
        "running-stats",
        "state-dict",
        "bias-and-no-bn",
        "float",
        "plus-one",
        "constant",
    ],
)
def test_bottleneck_names_the_mistake(wrong, message):
    with pytest.raises(ExerciseError, match=message):
        check_bottleneck_params(wrong)


# --------------------------------------------------------------------------------------
# path_counts(K): entry L is the number of paths through L residual branches


def path_counts(K):
    return [math.comb(K, L) for L in range(K + 1)]


def enumerate_paths(K):
    """Expand h_k = h_{k-1} + f_k[h_{k-1}]: each block either skips or goes
    through its branch, so a path is a tuple of K choices."""
    counts = [0] * (K + 1)
    for path in itertools.product((0, 1), repeat=K):
        counts[sum(path)] += 1
    return counts


def pascal(K):
    row = [1]
    for _ in range(K):
        row = [a + b for a, b in zip([0, *row], [*row, 0], strict=True)]
    return row


def test_path_reference_is_the_enumeration():
    for K in _PATH_KS:
        assert path_counts(K) == enumerate_paths(K)
        assert sum(path_counts(K)) == 2**K
    assert path_counts(4) == [1, 4, 6, 4, 1]  # the lecture's 16 paths


@pytest.mark.parametrize(
    "right",
    [
        path_counts,
        enumerate_paths,
        pascal,
        lambda K: np.array(path_counts(K)),
        lambda K: tuple(path_counts(K)),
        lambda K: torch.tensor(path_counts(K)),
    ],
    ids=["comb", "enumerate", "pascal", "numpy", "tuple", "torch"],
)
def test_path_counts_correct_answers_pass(right, capsys):
    assert check_path_counts(right)
    out = capsys.readouterr().out
    assert "correct" in out and "floats" not in out


def test_path_counts_accepts_whole_floats_with_a_note(capsys):
    def factorials(K):
        return [
            math.factorial(K) / (math.factorial(L) * math.factorial(K - L))
            for L in range(K + 1)
        ]

    assert check_path_counts(factorials)
    assert "Your counts are floats" in capsys.readouterr().out


PATHS_WRONG = [
    (lambda K: [K**L for L in range(K + 1)], "K\\*\\*ℓ counts sequences"),
    (lambda K: [2**L for L in range(K + 1)], "2\\*\\*ℓ is the number of subsets"),
    (lambda K: [math.perm(K, L) for L in range(K + 1)], "not arrangements"),
    (lambda K: np.cumsum(path_counts(K)), "AT MOST ℓ"),
    (lambda K: np.cumsum(path_counts(K)[::-1])[::-1], "AT LEAST ℓ"),
    (lambda K: [c / 2**K for c in path_counts(K)], "those are probabilities"),
    (lambda K: path_counts(K)[1:], "off by one: the path of length 0 is missing"),
    (lambda K: path_counts(K)[:-1], "off by one: the path of length K is missing"),
    (lambda K: path_counts(K - 1), "off by one: those are the counts for K - 1"),
    (lambda K: path_counts(K + 1), "off by one: those are the counts for K \\+ 1"),
    (lambda K: 2**K, "not their total 2\\*\\*K = 16"),
    (lambda K: [c + 0.5 for c in path_counts(K)], "entry 0 is 1.5, expected 1"),
    (lambda K: [path_counts(K)], "a flat list of numbers, got \\[\\[1, 4"),
    (lambda K: {L: c for L, c in enumerate(path_counts(K))}, "a list of counts"),
]


@pytest.mark.parametrize(
    "wrong, message",
    PATHS_WRONG,
    ids=[
        "K-to-the-L",
        "2-to-the-L",
        "permutations",
        "cumulative",
        "cumulative-from-top",
        "probabilities",
        "no-length-0",
        "no-length-K",
        "K-1-blocks",
        "K+1-blocks",
        "total",
        "fractions",
        "nested",
        "dict",
    ],
)
def test_path_counts_names_the_mistake(wrong, message):
    with pytest.raises(ExerciseError, match=message):
        check_path_counts(wrong)


# --------------------------------------------------------------------------------------
# dense_channels(c0, growth_rate, num_layers): [c0, c0 + k, ..., c0 + L·k]


def dense_channels(c0, growth_rate, num_layers):
    return [c0 + ell * growth_rate for ell in range(num_layers + 1)]


def dense_block_channels(c0, growth_rate, num_layers):
    """Run a dense block of 3x3 convolutions and read the channels off."""
    x, seen = torch.zeros(1, c0, 4, 4), [c0]
    for _ in range(num_layers):
        layer = nn.Conv2d(x.shape[1], growth_rate, 3, padding=1)
        x = torch.cat([x, layer(x)], dim=1)
        seen.append(x.shape[1])
    return seen


def test_dense_reference_is_a_dense_block():
    for case in _DENSE_CASES:
        assert dense_channels(*case) == dense_block_channels(*case)
    assert dense_channels(3, 32, 2) == [3, 35, 67]  # the lecture's figure


@pytest.mark.parametrize(
    "right",
    [
        dense_channels,
        dense_block_channels,
        lambda c0, k, L: np.arange(L + 1) * k + c0,
        lambda c0, k, L: list(range(c0, c0 + L * k + 1, k)) if k else [c0] * (L + 1),
    ],
    ids=["list", "torch", "numpy", "range"],
)
def test_dense_channels_correct_answers_pass(right, capsys):
    assert check_dense_channels(right)
    assert "correct" in capsys.readouterr().out


def doubled(c0, k, L):
    out = [c0]
    for _ in range(L):
        out.append(2 * out[-1])
    return out


def all_outputs_again(c0, k, L):
    out, outputs = [c0], []
    for _ in range(L):
        outputs.append(k)
        out.append(out[-1] + sum(outputs))  # every earlier output added again
    return out


DENSE_WRONG = [
    (
        lambda c0, k, L: [ell * k for ell in range(L + 1)],
        "left out the block's input",
    ),
    (
        lambda c0, k, L: [ell * k for ell in range(1, L + 1)],
        "left out the block's input.*starts with c0",
    ),
    (
        lambda c0, k, L: dense_channels(c0, k, L)[:-1],
        "off by one: the list ends with what enters the last layer",
    ),
    (
        lambda c0, k, L: dense_channels(c0, k, L)[1:],
        "off by one: the list starts with c0",
    ),
    (lambda c0, k, L: dense_channels(c0, k, L + 1), "off by one.*one too many"),
    (
        lambda c0, k, L: [c0, k, *dense_channels(c0, k, L)[1:]],
        "g is a layer's OUTPUT.*3 -> 32 -> 35 -> 67",
    ),
    (
        lambda c0, k, L: [c0 * k**ell for ell in range(L + 1)],
        "multiplied instead of added",
    ),
    (doubled, "doubled at every layer"),
    (all_outputs_again, "earlier outputs counted again"),
    (
        lambda c0, k, L: np.linspace(c0, c0 + L * k, L + 1),
        "right values, but floats.*must be an int",
    ),
    (lambda c0, k, L: c0 + L * k, "return a list of counts, got 131"),
    (
        lambda c0, k, L: dense_channels(c0, k, L)[:2] + [0] * (L - 1),
        "entry 2 is 0, expected 67",
    ),
]


@pytest.mark.parametrize(
    "wrong, message",
    DENSE_WRONG,
    ids=[
        "growth-only",
        "growth-only-short",
        "no-block-output",
        "no-c0",
        "one-too-many",
        "lecture-list",
        "multiplied",
        "doubled",
        "quadratic",
        "floats",
        "scalar",
        "wrong-entry",
    ],
)
def test_dense_channels_names_the_mistake(wrong, message):
    with pytest.raises(ExerciseError, match=message):
        check_dense_channels(wrong)
