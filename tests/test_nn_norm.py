"""cnnlib.nn.BatchNorm1d / BatchNorm2d and BatchNormFunction against torch (float64)."""

import copy

import pytest
import torch

import cnnlib.nn as cnn
from cnnlib.nn import BatchNorm1d, BatchNorm2d, BatchNormFunction

TOL = 1e-10
torch.set_num_threads(1)


def rel(a, b):
    a, b = a.detach().double(), b.detach().double()
    assert a.shape == b.shape
    scale = max(a.abs().max().item(), b.abs().max().item(), 1e-300)
    return (a - b).abs().max().item() / scale


def batch(shape, seed, dtype=torch.float64):
    g = torch.Generator().manual_seed(seed)
    c = shape[1]
    scale = torch.randn(c, generator=g, dtype=torch.float64).exp()
    scale = scale.reshape((1, c) + (1,) * (len(shape) - 2))
    x = torch.randn(shape, generator=g, dtype=torch.float64) * scale + 2 * scale
    return x.to(dtype)


def twins(cls, c, seed=0, **kwargs):
    """torch's module and ours, same random weight / bias, float64."""
    theirs = getattr(torch.nn, cls.__name__)(c, **kwargs).double()
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in theirs.parameters():
            p.copy_(torch.randn(p.shape, generator=g, dtype=torch.float64))
    ours = cls(c, **kwargs).double()
    ours.load_state_dict(theirs.state_dict())
    return ours, theirs


def assert_same_step(ours, theirs, x, seed):
    """One forward/backward on both: outputs, input and parameter gradients."""
    dy = batch(x.shape, seed + 1)
    xs = [x.clone().requires_grad_(), x.clone().requires_grad_()]
    ys = [m(xi) for m, xi in zip((ours, theirs), xs, strict=True)]
    for y in ys:
        y.backward(dy)
    assert rel(ys[0], ys[1]) < TOL
    assert rel(xs[0].grad, xs[1].grad) < TOL
    for (name, p), q in zip(ours.named_parameters(), theirs.parameters(), strict=True):
        assert rel(p.grad, q.grad) < TOL, name
    assert_same_buffers(ours, theirs)


def assert_same_buffers(ours, theirs):
    a, b = ours.state_dict(), theirs.state_dict()
    assert list(a) == list(b)
    for k in a:
        if k == "num_batches_tracked":
            assert a[k].dtype == torch.long and int(a[k]) == int(b[k])
        else:
            assert rel(a[k], b[k]) < TOL, k


CASES = [
    (BatchNorm1d, (8, 3)),
    (BatchNorm1d, (4, 3, 6)),
    (BatchNorm2d, (4, 3, 5, 4)),
]


@pytest.mark.parametrize("cls, shape", CASES)
@pytest.mark.parametrize("momentum", [0.1, None])
def test_training_then_eval_matches_torch(cls, shape, momentum):
    ours, theirs = twins(cls, shape[1], eps=1e-3, momentum=momentum)
    assert isinstance(ours, getattr(torch.nn, cls.__name__))
    for step in range(5):
        assert_same_step(ours, theirs, batch(shape, 10 * step), 10 * step)
        with torch.no_grad():
            for m in (ours, theirs):
                for p in m.parameters():
                    p -= 0.1 * p.grad
                    p.grad = None
    assert int(ours.num_batches_tracked) == 5
    assert ours.running_mean.abs().max() > 0.1  # the buffers did move
    ours.eval(), theirs.eval()
    before = copy.deepcopy(ours.state_dict())
    assert_same_step(ours, theirs, batch((1,) + shape[1:], 99), 99)  # N = 1 is fine
    for k, v in before.items():
        assert torch.equal(v, ours.state_dict()[k]), k  # eval leaves buffers alone


@pytest.mark.parametrize("cls, shape", CASES)
@pytest.mark.parametrize(
    "kwargs",
    [
        dict(affine=False),
        dict(track_running_stats=False),
        dict(affine=False, track_running_stats=False),
        dict(bias=False),
        dict(momentum=0.0),
        dict(momentum=1.0),
    ],
)
def test_options_match_torch(cls, shape, kwargs):
    ours, theirs = twins(cls, shape[1], **kwargs)
    for step in range(3):
        assert_same_step(ours, theirs, batch(shape, step), step)
    ours.eval(), theirs.eval()
    assert_same_step(ours, theirs, batch(shape, 7), 7)


def test_init_and_state_dict_are_torchs():
    torch.manual_seed(0)
    theirs = torch.nn.BatchNorm2d(5)
    torch.manual_seed(0)
    ours = BatchNorm2d(5)
    assert repr(ours) == repr(theirs)
    a, b = ours.state_dict(), theirs.state_dict()
    assert list(a) == list(b)
    assert all(torch.equal(a[k], b[k]) and a[k].dtype == b[k].dtype for k in a)
    assert "BatchNorm1d" in cnn.__all__ and "BatchNorm2d" in cnn.__all__


@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize("shape", [(4, 2), (3, 2, 3), (2, 2, 3, 2)])
def test_gradcheck(training, shape):
    x = batch(shape, 3).requires_grad_()
    w = torch.randn(shape[1], dtype=torch.float64).requires_grad_()
    b = torch.randn(shape[1], dtype=torch.float64).requires_grad_()
    r_mean = torch.randn(shape[1], dtype=torch.float64)
    r_var = torch.rand(shape[1], dtype=torch.float64) + 0.5

    def f(x, w, b):
        return BatchNormFunction.apply(x, w, b, r_mean, r_var, training, 1e-3)[0]

    assert torch.autograd.gradcheck(f, (x, w, b), eps=1e-6, atol=1e-8, rtol=1e-6)

    def g(x):  # affine=False
        return BatchNormFunction.apply(x, None, None, r_mean, r_var, training, 1e-3)

    assert torch.autograd.gradcheck(g, (x,), eps=1e-6, atol=1e-8, rtol=1e-6)


def test_function_returns_the_statistics_it_used():
    x = batch((6, 3, 4), 5)
    r_mean, r_var = torch.zeros(3, dtype=torch.float64), torch.ones(3).double()
    _, mu, var = BatchNormFunction.apply(x, None, None, None, None, True, 1e-5)
    assert rel(mu, x.mean(dim=(0, 2))) < 1e-14
    assert rel(var, x.var(dim=(0, 2), unbiased=False)) < 1e-12
    assert not mu.requires_grad and not var.requires_grad
    _, mu, var = BatchNormFunction.apply(x, None, None, r_mean, r_var, False, 1e-5)
    assert torch.equal(mu, r_mean) and torch.equal(var, r_var)


def conv_net(bn):
    return torch.nn.Sequential(
        torch.nn.Conv2d(1, 4, 3, padding=1),
        bn(4),
        torch.nn.ReLU(),
        torch.nn.MaxPool2d(2),
        torch.nn.Flatten(),
        torch.nn.Linear(4 * 4 * 4, 3),
    ).double()


def test_drop_in_replacement_in_a_conv_net():
    torch.manual_seed(0)
    theirs = conv_net(torch.nn.BatchNorm2d)
    ours = conv_net(BatchNorm2d)
    ours.load_state_dict(theirs.state_dict())
    g = torch.Generator().manual_seed(1)
    x = torch.randn(16, 1, 8, 8, generator=g, dtype=torch.float64)
    t = torch.randint(0, 3, (16,), generator=g)
    opts = [
        torch.optim.SGD(m.parameters(), lr=0.2, momentum=0.9) for m in (ours, theirs)
    ]
    losses = []
    for step in range(6):
        xb, tb = x[step % 2 * 8 :][:8], t[step % 2 * 8 :][:8]
        pair = []
        for m, opt in zip((ours, theirs), opts, strict=True):
            opt.zero_grad()
            loss = torch.nn.functional.cross_entropy(m(xb), tb)
            loss.backward()
            opt.step()
            pair.append(loss.item())
        assert abs(pair[0] - pair[1]) <= 1e-10 * abs(pair[1])
        losses.append(pair[1])
    assert losses[-1] < losses[0]  # it did train
    assert_same_buffers(ours[1], theirs[1])
    ours.eval(), theirs.eval()
    assert rel(ours(x), theirs(x)) < TOL


def test_float32_keeps_dtype_and_is_close():
    ours, theirs = BatchNorm2d(3), torch.nn.BatchNorm2d(3)
    x = batch((4, 3, 5, 5), 8, torch.float32).requires_grad_()
    y = ours(x)
    assert y.dtype == torch.float32 and ours.running_mean.dtype == torch.float32
    y.sum().backward()
    assert ours.weight.grad.dtype == torch.float32
    assert rel(y, theirs(x)) < 1e-5
    assert rel(ours.running_var, theirs.running_var) < 1e-5


def test_errors():
    with pytest.raises(ValueError, match="expected 4D input"):
        BatchNorm2d(3)(torch.ones(2, 3, 4))
    with pytest.raises(ValueError, match="expected 2D or 3D input"):
        BatchNorm1d(3)(torch.ones(2, 3, 4, 4))
    with pytest.raises(ValueError, match="more than 1 value per channel when training"):
        BatchNorm1d(3)(torch.ones(1, 3))
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        BatchNorm2d(3)(torch.ones(1, 3, 1, 1))
    message = r"BatchNorm2d: input has 4 channels but num_features=3 \(input shape"
    with pytest.raises(ValueError, match=message):
        BatchNorm2d(3)(torch.ones(2, 4, 2, 2))
    with pytest.raises(ValueError, match="BatchNorm1d: input has 4 channels"):
        BatchNorm1d(3, affine=False).eval()(torch.ones(2, 4))
    with pytest.raises(ValueError, match=r"gamma must have shape \(C,\) = \(4,\)"):
        BatchNormFunction.apply(
            torch.ones(2, 4), torch.ones(3), None, None, None, True, 1e-5
        )
    # like torch, no per-channel tensors means any channel count
    free = BatchNorm1d(3, affine=False, track_running_stats=False)
    assert free(batch((5, 4), 0)).shape == (5, 4)
    m = BatchNorm2d(3).eval()
    assert m(torch.ones(1, 3, 1, 1)).shape == (1, 3, 1, 1)  # eval: one value is fine
