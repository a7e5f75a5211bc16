"""The training loop: learns a toy task, is reproducible, validates its settings."""

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

from cnnlib.data import make_loader  # noqa: E402
from cnnlib.models import MLP, count_parameters  # noqa: E402
from cnnlib.train import TrainConfig, evaluate, fit, plot_history, show_progress  # noqa: E402


def blobs(n=400, seed=0):
    """Two well-separated Gaussian blobs in 2D: a linearly separable task."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    x = rng.normal(size=(n, 2)) + 4.0 * y[:, None]
    return x.astype(np.float32), y


def run(seed=0, **kw):
    torch.manual_seed(123)  # the model's initial weights
    model = MLP(2, hidden=16, classes=2, depth=1)
    x, y = blobs()
    settings = dict(epochs=5, lr=0.1, batch_size=32, device="cpu", progress=False)
    config = TrainConfig(**{**settings, **kw}, seed=seed)
    history = fit(
        model,
        make_loader(x, y, 32, seed=seed),
        config,
        val_loader=make_loader(*blobs(200, seed=1), 64, shuffle=False),
    )
    return model, history


def test_learns_a_separable_task():
    model, history = run()
    assert history.epochs == 5 and len(history.val_acc) == 5
    assert history.val_acc[-1] > 0.97
    assert history.train_loss[-1] < history.train_loss[0]
    loss, acc = evaluate(model, make_loader(*blobs(200, seed=1), 64, shuffle=False))
    assert acc == pytest.approx(history.val_acc[-1]) and loss > 0


def test_same_seed_same_history_on_cpu():
    _, a = run(seed=3)
    _, b = run(seed=3)
    assert a.train_loss == b.train_loss and a.val_acc == b.val_acc
    _, c = run(seed=4)
    assert a.train_loss != c.train_loss  # the seed matters (the batch order)


@pytest.mark.parametrize(
    "kw",
    [
        dict(optimizer="adam", lr=0.01),
        dict(optimizer="adamw", lr=0.01),
        dict(scheduler="cosine"),
        dict(scheduler="step"),
    ],
)
def test_optimizers_and_schedulers(kw):
    _, history = run(**kw)
    assert history.val_acc[-1] > 0.95


@pytest.mark.parametrize(
    "kw, message",
    [
        (dict(epochs=0), "epochs"),
        (dict(batch_size=1.5), "batch_size"),
        (dict(lr=0), "lr"),
        (dict(optimizer="rmsprop"), "optimizer"),
        (dict(scheduler="linear"), "scheduler"),
    ],
)
def test_config_rejects_bad_settings(kw, message):
    with pytest.raises(ValueError, match=message):
        TrainConfig(**kw)


def test_fit_rejects_non_module():
    with pytest.raises(TypeError, match="nn.Module"):
        fit(lambda x: x, [], TrainConfig(progress=False))


def test_mlp_checks_input_size_and_counts():
    model = MLP(784, hidden=32, depth=2)
    assert count_parameters(model) == 784 * 32 + 32 + 32 * 32 + 32 + 32 * 10 + 10
    assert model(torch.zeros(3, 1, 28, 28)).shape == (3, 10)
    with pytest.raises(ValueError, match="expects 784"):
        model(torch.zeros(3, 1, 20, 20))
    with pytest.raises(ValueError, match="depth"):
        MLP(10, depth=0)


def test_progress_switch(monkeypatch):
    assert show_progress(True) and not show_progress(False)
    monkeypatch.setenv("CNNLIB_PROGRESS", "0")
    assert not show_progress()
    monkeypatch.setenv("CNNLIB_PROGRESS", "1")
    assert show_progress()


def test_plot_history():
    _, history = run()
    axes = plot_history(history, history, labels=["a", "b"])
    assert len(axes[0].lines) == 4
    with pytest.raises(ValueError, match="labels"):
        plot_history(history, labels=["a", "b"])
