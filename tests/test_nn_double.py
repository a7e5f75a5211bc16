"""Gradients of gradients through cnnlib.nn (a gradient penalty, create_graph=True).

Until the backward passes became Functions of their own (cnnlib/nn/_conv.py,
_route.py, _loss.py), torch treated their results as constants: a second backward
gave silently wrong weight gradients. Now every Function passes
torch.autograd.gradgradcheck, a gradient penalty on a small CNN gives torch's
gradients, third derivatives through convolutions, linear layers, ReLU and pooling
are torch's too, and what is not implemented (a second derivative through batch
norm, a third one of cross-entropy) raises an error instead of giving a wrong number.
"""

import pytest
import torch
from test_nn import GRADCHECK, randn, rel, small_cnn

import cnnlib.nn as cnn

torch.set_num_threads(1)
F64 = torch.float64


@pytest.mark.parametrize("name", GRADCHECK)
def test_every_function_passes_torch_gradgradcheck(name):
    f, shapes = GRADCHECK[name]
    inputs = tuple(randn(*s, seed=i) for i, s in enumerate(shapes))
    if name.startswith(("relu", "max_pool")):
        # keep inputs away from the kinks, where finite differences of the
        # gradient cross a jump (a tie or x = 0)
        inputs = tuple(
            (x + 0.1 * torch.sign(x)).detach().requires_grad_() for x in inputs
        )
    assert torch.autograd.gradgradcheck(f, inputs, eps=1e-6, atol=1e-6)


def penalty_grads(model, x, y, loss_fn):
    """Gradients of loss + |d loss / d x|^2 (a gradient penalty) w.r.t. parameters."""
    x = x.detach().clone().requires_grad_()
    loss = loss_fn(model(x), y)
    (gx,) = torch.autograd.grad(loss, x, create_graph=True)
    total = loss + (gx**2).sum()
    params = list(model.parameters())
    return torch.autograd.grad(total, params), gx


def test_a_gradient_penalty_gives_torchs_gradients():
    torch.manual_seed(0)
    theirs = small_cnn(torch.nn).to(F64)
    ours = small_cnn(cnn).to(F64)
    ours.load_state_dict(theirs.state_dict())
    x, y = randn(6, 1, 8, 8, grad=False), torch.tensor([0, 1, 2, 0, 1, 2])
    g_theirs, gx_theirs = penalty_grads(theirs, x, y, torch.nn.CrossEntropyLoss())
    g_ours, gx_ours = penalty_grads(ours, x, y, cnn.CrossEntropyLoss())
    assert rel(gx_ours, gx_theirs) < 1e-10
    for (name, _), a, b in zip(ours.named_parameters(), g_ours, g_theirs, strict=True):
        assert rel(a, b) < 1e-10, name


def test_a_penalty_on_an_unbatched_conv_and_a_linear_layer():
    torch.manual_seed(1)
    pairs = [
        (torch.nn.Conv1d(2, 3, 3, padding="same"), cnn.Conv1d(2, 3, 3, padding="same")),
        (torch.nn.Linear(5, 4), cnn.Linear(5, 4)),
    ]
    for theirs, ours in pairs:
        theirs, ours = theirs.to(F64), ours.to(F64)
        ours.load_state_dict(theirs.state_dict())
        x = randn(2, 5, grad=False)  # Conv1d: one sample (C=2, L=5), no batch axis
        g_theirs, _ = penalty_grads(theirs, x, None, lambda out, _: (out**3).sum())
        g_ours, _ = penalty_grads(ours, x, None, lambda out, _: (out**3).sum())
        for a, b in zip(g_ours, g_theirs, strict=True):
            assert rel(a, b) < 1e-10, type(ours).__name__


def third_derivative(model, x, weight):
    """d/dweight of sum(d/dx |d/dx sum(model(x)^3)|^2): three nested derivatives"""
    x = x.detach().clone().requires_grad_()
    (g,) = torch.autograd.grad((model(x) ** 3).sum(), x, create_graph=True)
    (gg,) = torch.autograd.grad((g**2).sum(), x, create_graph=True)
    return torch.autograd.grad(gg.sum(), weight)[0]


THIRD = {
    "Linear": (lambda m: m.Linear(3, 2), (2, 3)),
    "Conv1d": (lambda m: m.Conv1d(3, 2, 2, stride=2, padding=1), (2, 3, 6)),
    "Conv2d, ReLU, MaxPool2d": (
        lambda m: torch.nn.Sequential(m.Conv2d(3, 2, 2), m.ReLU(), m.MaxPool2d(2)),
        (2, 3, 5, 5),
    ),
}


@pytest.mark.parametrize("name", THIRD)
def test_third_derivatives_through_conv_linear_relu_and_pooling_are_torchs(name):
    make, shape = THIRD[name]
    torch.manual_seed(2)
    theirs, ours = make(torch.nn).to(F64), make(cnn).to(F64)
    ours.load_state_dict(theirs.state_dict())
    x = randn(*shape, grad=False)
    first = next(ours.parameters()), next(theirs.parameters())  # a weight
    d3 = [third_derivative(m, x, w) for m, w in zip((ours, theirs), first, strict=True)]
    assert rel(*d3) < 1e-10


def test_a_third_derivative_of_cross_entropy_is_refused_not_wrong():
    logits, y = randn(3, 4), torch.tensor([0, 3, 1])
    (g,) = torch.autograd.grad(
        cnn.CrossEntropyLoss()(logits, y), logits, create_graph=True
    )
    (gg,) = torch.autograd.grad((g**3).sum(), logits, create_graph=True)
    with pytest.raises(RuntimeError, match="CrossEntropyLoss: third derivatives are"):
        gg.sum().backward()


def test_batch_norm_refuses_a_second_derivative_even_when_dy_is_a_constant():
    # torch's @once_differentiable (used here before) lets this case through: dy = c
    # needs no gradient, so the penalty's gradient was silently dropped
    bn = cnn.BatchNorm2d(2).to(F64)
    x, c = randn(4, 2, 3, 3), randn(4, 2, 3, 3, grad=False, seed=5)
    loss = (bn(x) * c).sum()
    (g,) = torch.autograd.grad(loss, x, create_graph=True)
    assert g.requires_grad  # the dependence on x and gamma is recorded
    with pytest.raises(RuntimeError, match="BatchNorm2d: gradients of its gradients"):
        (loss + (g**2).sum()).backward()
