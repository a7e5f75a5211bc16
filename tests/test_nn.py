"""cnnlib.nn's layers (numpy forward and backward inside torch) against their torch.nn
twins: gradcheck, same outputs and gradients in float64, same training run."""

import numpy as np
import pytest
import torch

import cnnlib.nn as cnn

torch.set_num_threads(1)
# torch notes that 'same' with an even kernel makes a padded copy; harmless here
pytestmark = pytest.mark.filterwarnings("ignore:Using padding='same'")
F64 = torch.float64
TOL = 1e-10


def randn(*shape, grad=True, seed=0):
    g = torch.Generator().manual_seed(seed + sum(shape))
    return torch.randn(*shape, generator=g, dtype=F64, requires_grad=grad)


def rel(a, b):
    return ((a - b).abs().max() / max(a.abs().max(), b.abs().max(), 1e-300)).item()


GRADCHECK = {
    "conv1d": (
        lambda x, w, b: cnn.Conv1dFunction.apply(x, w, b, 2, 1, 2, 2),
        [(2, 4, 9), (6, 2, 3), (6,)],
    ),
    "conv1d same, no bias": (
        lambda x, w: cnn.Conv1dFunction.apply(x, w, None, 1, "same", 1, 1),
        [(1, 2, 6), (3, 2, 4)],
    ),
    "conv2d": (
        lambda x, w, b: cnn.Conv2dFunction.apply(x, w, b, (2, 1), (1, 0), (1, 2), 3),
        [(2, 3, 6, 7), (3, 1, 3, 2), (3,)],
    ),
    "max_pool1d": (
        lambda x: cnn.MaxPool1dFunction.apply(x, 3, 2, 1),
        [(2, 2, 9)],
    ),
    "max_pool2d": (
        lambda x: cnn.MaxPool2dFunction.apply(x, (2, 3), (1, 2), (1, 0)),
        [(2, 2, 5, 6)],
    ),
    "avg_pool1d": (lambda x: cnn.AvgPool1dFunction.apply(x, 3, 2, 1), [(2, 2, 9)]),
    "avg_pool2d": (
        lambda x: cnn.AvgPool2dFunction.apply(x, 3, None, 1),
        [(2, 2, 7, 6)],
    ),
    "relu": (cnn.ReLUFunction.apply, [(3, 4, 5)]),
    "linear": (cnn.LinearFunction.apply, [(3, 5), (4, 5), (4,)]),
    "linear, no bias": (cnn.LinearFunction.apply, [(2, 3, 5), (4, 5)]),
    "cross entropy": (
        lambda z: cnn.CrossEntropyFunction.apply(z, torch.tensor([0, 3, 1, 3])),
        [(4, 5)],
    ),
}


@pytest.mark.parametrize("name", GRADCHECK)
def test_every_function_passes_torch_gradcheck(name):
    f, shapes = GRADCHECK[name]
    inputs = tuple(randn(*s, seed=i) for i, s in enumerate(shapes))
    assert torch.autograd.gradcheck(f, inputs, eps=1e-6, atol=1e-7)


def test_functions_skip_the_gradients_nobody_asked_for():
    x, w, b = randn(2, 3, 5, grad=False), randn(4, 3, 2), randn(4, grad=False)
    cnn.Conv1dFunction.apply(x, w, b, 1, 0, 1, 1).sum().backward()
    assert x.grad is None and b.grad is None and w.grad is not None


MODULES = {
    "Conv1d": (
        lambda m: m.Conv1d(4, 6, 3, stride=2, padding=2, dilation=2, groups=2),
        (3, 4, 11),
    ),
    "Conv1d same": (lambda m: m.Conv1d(2, 3, 4, padding="same", bias=False), (2, 2, 8)),
    "Conv2d": (
        lambda m: m.Conv2d(3, 6, (3, 2), stride=(1, 2), padding=1, groups=3),
        (2, 3, 7, 8),
    ),
    "Conv2d valid": (lambda m: m.Conv2d(2, 4, 3, padding="valid"), (2, 2, 6, 5)),
    "Linear": (lambda m: m.Linear(7, 3), (5, 7)),
    "Linear no bias": (lambda m: m.Linear(7, 3, bias=False), (2, 5, 7)),
    "ReLU": (lambda m: m.ReLU(), (4, 3, 5)),
    "MaxPool1d": (lambda m: m.MaxPool1d(3, stride=2, padding=1), (2, 3, 10)),
    "MaxPool2d": (lambda m: m.MaxPool2d(2), (2, 3, 7, 6)),
    "AvgPool1d": (lambda m: m.AvgPool1d(4, padding=2), (2, 3, 10)),
    "AvgPool2d": (
        lambda m: m.AvgPool2d((3, 2), stride=1, padding=(1, 0)),
        (2, 3, 5, 6),
    ),
}


@pytest.mark.parametrize("name", MODULES)
def test_module_computes_what_its_torch_twin_computes(name):
    make, shape = MODULES[name]
    theirs = make(torch.nn).to(F64)
    ours = make(cnn).to(F64)
    assert isinstance(ours, type(theirs))
    ours.load_state_dict(theirs.state_dict())
    x = randn(*shape)
    x_ours = x.detach().clone().requires_grad_()
    y, y_ours = theirs(x), ours(x_ours)
    assert y_ours.dtype == F64 and y_ours.shape == y.shape
    assert rel(y_ours, y) < TOL
    dy = randn(*y.shape, grad=False, seed=1)
    y.backward(dy)
    y_ours.backward(dy)
    assert rel(x_ours.grad, x.grad) < TOL
    for (p, a), (q, b) in zip(
        ours.named_parameters(), theirs.named_parameters(), strict=True
    ):
        assert p == q and rel(a.grad, b.grad) < TOL, p


def test_modules_initialise_like_torch():
    torch.manual_seed(3)
    theirs = torch.nn.Conv2d(3, 8, 5, groups=1)
    torch.manual_seed(3)
    ours = cnn.Conv2d(3, 8, 5, groups=1)
    theirs_state = theirs.state_dict()
    assert list(ours.state_dict()) == list(theirs_state) == ["weight", "bias"]
    for name, value in ours.state_dict().items():
        assert torch.equal(value, theirs_state[name]), name


def test_cross_entropy_loss_matches_torch():
    logits, targets = randn(6, 4), torch.tensor([0, 3, 2, 2, 1, 0])
    logits_ours = logits.detach().clone().requires_grad_()
    loss = torch.nn.CrossEntropyLoss()(logits, targets)
    loss_ours = cnn.CrossEntropyLoss()(logits_ours, targets)
    assert loss_ours.shape == () and loss_ours.dtype == F64
    assert abs(loss_ours.item() - loss.item()) < TOL
    (3 * loss).backward()
    (3 * loss_ours).backward()  # the incoming gradient scales dlogits
    assert rel(logits_ours.grad, logits.grad) < TOL


def small_cnn(m):
    return torch.nn.Sequential(
        m.Conv2d(1, 4, 3, padding=1),
        m.ReLU(),
        m.MaxPool2d(2),
        m.Conv2d(4, 6, 3, stride=1, groups=2),
        m.ReLU(),
        m.AvgPool2d(2),
        torch.nn.Flatten(),
        m.Linear(6, 3),
    )


def test_small_cnn_trains_exactly_like_torch():
    torch.manual_seed(0)
    theirs = small_cnn(torch.nn).to(F64)
    ours = small_cnn(cnn).to(F64)
    ours.load_state_dict(theirs.state_dict())
    x, y = randn(8, 1, 8, 8, grad=False), torch.tensor([0, 1, 2, 0, 1, 2, 0, 1])
    losses = {}
    for name, model, loss_fn in [
        ("torch", theirs, torch.nn.CrossEntropyLoss()),
        ("cnnlib", ours, cnn.CrossEntropyLoss()),
    ]:
        opt = torch.optim.SGD(model.parameters(), lr=0.5, momentum=0.9)
        losses[name] = []
        for _ in range(5):
            opt.zero_grad()
            loss = loss_fn(model(x), y)
            loss.backward()
            opt.step()
            losses[name].append(loss.item())
    np.testing.assert_allclose(losses["cnnlib"], losses["torch"], rtol=0, atol=1e-10)
    assert losses["torch"][-1] < losses["torch"][0]  # it did learn something
    for a, b in zip(ours.parameters(), theirs.parameters(), strict=True):
        assert rel(a, b) < 1e-10


def test_float32_in_float32_out_close_to_torch():
    torch.manual_seed(1)
    theirs = small_cnn(torch.nn)
    ours = small_cnn(cnn)
    ours.load_state_dict(theirs.state_dict())
    x = torch.randn(4, 1, 8, 8)
    out, out_ours = theirs(x), ours(x)
    assert out_ours.dtype == torch.float32
    assert rel(out_ours, out) < 1e-5
    out_ours.sum().backward()
    out.sum().backward()
    assert ours[0].weight.grad.dtype == torch.float32
    assert rel(ours[0].weight.grad, theirs[0].weight.grad) < 1e-4


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_gpu_tensors_come_back_on_the_gpu():
    model = small_cnn(cnn).cuda()
    out = model(torch.randn(2, 1, 8, 8, device="cuda"))
    loss = cnn.CrossEntropyLoss()(out, torch.tensor([0, 2], device="cuda"))
    loss.backward()
    assert out.device.type == "cuda" and loss.device.type == "cuda"
    assert model[0].weight.grad.device.type == "cuda"


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda: cnn.Conv2d(1, 1, 3, padding_mode="reflect"), "Conv2d: padding_mode"),
        (lambda: cnn.Conv1d(1, 1, 3, padding_mode="circular"), "Conv1d: padding_mode"),
        (lambda: cnn.MaxPool2d(2, ceil_mode=True), "MaxPool2d: ceil_mode=True"),
        (lambda: cnn.MaxPool1d(2, dilation=2), "MaxPool1d: dilation=2"),
        (lambda: cnn.MaxPool2d(2, return_indices=True), "return_indices=True"),
        (lambda: cnn.AvgPool1d(2, ceil_mode=True), "AvgPool1d: ceil_mode=True"),
        (
            lambda: cnn.AvgPool2d(2, count_include_pad=False),
            "AvgPool2d: count_include_pad=False",
        ),
        (lambda: cnn.AvgPool2d(2, divisor_override=3), "divisor_override=3"),
        (lambda: cnn.ReLU(inplace=True), "ReLU: inplace=True"),
        (lambda: cnn.CrossEntropyLoss(reduction="sum"), "reduction='sum'"),
        (lambda: cnn.CrossEntropyLoss(ignore_index=0), "ignore_index=0"),
        (lambda: cnn.CrossEntropyLoss(label_smoothing=0.1), "label_smoothing=0.1"),
        (lambda: cnn.CrossEntropyLoss(weight=torch.ones(3)), "CrossEntropyLoss: weig"),
    ],
)
def test_unsupported_options_are_rejected(make, message):
    with pytest.raises(ValueError, match=message) as info:
        make()
    assert "not supported by the numpy layers" in str(info.value)


def test_bad_inputs_reach_the_user_as_cnnlib_messages():
    with pytest.raises(ValueError, match=r"conv2d_forward: input has 2 channels"):
        cnn.Conv2d(3, 4, 3)(torch.zeros(1, 2, 5, 5))
    with pytest.raises(ValueError, match=r"softmax_cross_entropy: targets must be"):
        cnn.CrossEntropyLoss()(torch.zeros(2, 3), torch.tensor([0, 3]))
