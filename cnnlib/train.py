"""A small training loop shared by every chapter that trains a network.

    config = TrainConfig(epochs=10, lr=0.05, batch_size=128)
    history = fit(model, train_loader, config, val_loader=test_loader)
    loss, accuracy = evaluate(model, test_loader)
    plot_history(history)

``fit`` seeds torch from ``config.seed`` before it touches the model's data order, picks
the device (CUDA when present, unless ``config.device`` says otherwise), shows a
``tqdm`` progress bar when someone is watching, and returns a :class:`History` with the
loss and accuracy of every epoch. Two runs with the same seed on the CPU give identical
histories (``tests/test_train.py``).
"""

from __future__ import annotations

import os
import sys
import time
from dataclasses import dataclass, field

import matplotlib.pyplot as plt
import torch
from torch import nn
from tqdm.auto import tqdm

from .runtime import pick_device

PROGRESS_ENV = "CNNLIB_PROGRESS"
OPTIMIZERS = ("sgd", "adam", "adamw")
SCHEDULERS = ("none", "cosine", "step")


@dataclass
class TrainConfig:
    """Settings of one training run (SGD with momentum by default)."""

    epochs: int = 10
    lr: float = 0.05
    momentum: float = 0.9
    weight_decay: float = 0.0
    batch_size: int = 128
    optimizer: str = "sgd"  # "sgd", "adam" or "adamw"
    scheduler: str = "none"  # "none", "cosine" (per step) or "step" (x0.1 at 50%, 75%)
    seed: int = 0
    device: str | None = None  # None: cuda when available, else cpu
    progress: bool | None = None  # None: a bar only when someone is watching

    def __post_init__(self):
        for name in ("epochs", "batch_size"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(
                    f"TrainConfig: {name} must be an int >= 1, got {value!r}"
                )
        if not self.lr > 0:
            raise ValueError(f"TrainConfig: lr must be > 0, got {self.lr!r}")
        for name, allowed in (("optimizer", OPTIMIZERS), ("scheduler", SCHEDULERS)):
            if getattr(self, name) not in allowed:
                raise ValueError(
                    f"TrainConfig: {name} must be one of {allowed}, "
                    f"got {getattr(self, name)!r}"
                )


@dataclass
class History:
    """Per-epoch records of a run; ``val_*`` stay empty without a validation set."""

    train_loss: list[float] = field(default_factory=list)
    train_acc: list[float] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    val_acc: list[float] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)

    @property
    def epochs(self) -> int:
        return len(self.train_loss)


def show_progress(flag: bool | None = None) -> bool:
    """Whether to draw progress bars: ``flag`` if given, else ``CNNLIB_PROGRESS``, else
    yes in a Jupyter kernel or a terminal. The book build and the tests set
    ``CNNLIB_PROGRESS=0``."""
    if flag is not None:
        return bool(flag)
    env = os.environ.get(PROGRESS_ENV)
    if env is not None:
        return env.strip().lower() not in ("", "0", "false", "no", "off")
    if "ipykernel" in sys.modules:
        return True
    return sys.stderr.isatty()


def _optimizer(model: nn.Module, config: TrainConfig) -> torch.optim.Optimizer:
    params, wd = model.parameters(), config.weight_decay
    if config.optimizer == "sgd":
        return torch.optim.SGD(
            params, lr=config.lr, momentum=config.momentum, weight_decay=wd
        )
    cls = torch.optim.Adam if config.optimizer == "adam" else torch.optim.AdamW
    return cls(params, lr=config.lr, weight_decay=wd)


def _scheduler(optimizer, config: TrainConfig, steps: int):
    if config.scheduler == "cosine":
        return torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=steps)
    if config.scheduler == "step":
        milestones = [int(steps * 0.5), int(steps * 0.75)]
        return torch.optim.lr_scheduler.MultiStepLR(optimizer, milestones, gamma=0.1)
    return None


def _step(model, x, y, loss_fn, optimizer, scheduler):
    """One optimisation step; returns (summed loss, number correct)."""
    optimizer.zero_grad()
    logits = model(x)  # (B, classes)
    loss = loss_fn(logits, y)
    loss.backward()
    optimizer.step()
    if scheduler is not None:
        scheduler.step()
    return loss.item() * len(y), (logits.argmax(1) == y).sum().item()


def fit(
    model: nn.Module,
    train_loader,
    config: TrainConfig | None = None,
    val_loader=None,
    loss_fn: nn.Module | None = None,
) -> History:
    """Train ``model`` (classification, cross-entropy by default) and record a History.

    ``train_loader`` yields ``(x, y)`` batches; the model maps x (B, ...) to logits
    (B, classes). The model is moved to the chosen device and left there.
    """
    config = config or TrainConfig()
    if not isinstance(model, nn.Module):
        raise TypeError(
            f"fit: model must be a torch.nn.Module, got {type(model).__name__}"
        )
    torch.manual_seed(config.seed)
    device = torch.device(config.device) if config.device else pick_device()
    model.to(device)
    loss_fn = loss_fn or nn.CrossEntropyLoss()
    optimizer = _optimizer(model, config)
    scheduler = _scheduler(optimizer, config, config.epochs * len(train_loader))
    history = History()
    bar = tqdm(
        range(config.epochs), desc="epochs", disable=not show_progress(config.progress)
    )
    for _ in bar:
        start, total, correct, seen = time.perf_counter(), 0.0, 0, 0
        model.train()
        for x, y in train_loader:
            x, y = x.to(device), y.to(device)
            batch_loss, batch_correct = _step(
                model, x, y, loss_fn, optimizer, scheduler
            )
            total, correct, seen = (
                total + batch_loss,
                correct + batch_correct,
                seen + len(y),
            )
        history.train_loss.append(total / seen)
        history.train_acc.append(correct / seen)
        if val_loader is not None:
            val_loss, val_acc = evaluate(model, val_loader, loss_fn, device)
            history.val_loss.append(val_loss)
            history.val_acc.append(val_acc)
        history.seconds.append(time.perf_counter() - start)
        bar.set_postfix(
            loss=f"{history.train_loss[-1]:.3f}",
            acc=f"{(history.val_acc or history.train_acc)[-1]:.3f}",
        )
    return history


@torch.no_grad()
def predict(model: nn.Module, loader, device=None) -> tuple[torch.Tensor, torch.Tensor]:
    """Logits (N, classes) and labels (N,) over a loader, on the CPU, in eval mode."""
    device = device or next(model.parameters()).device
    model.eval()
    logits, labels = [], []
    for x, y in loader:
        logits.append(model(x.to(device)).cpu())
        labels.append(y)
    return torch.cat(logits), torch.cat(labels)


def evaluate(
    model: nn.Module, loader, loss_fn: nn.Module | None = None, device=None
) -> tuple[float, float]:
    """Mean loss and accuracy of ``model`` over ``loader`` (eval mode, no gradients)."""
    logits, labels = predict(model, loader, device)
    loss = (loss_fn or nn.CrossEntropyLoss())(logits, labels).item()
    return loss, (logits.argmax(1) == labels).float().mean().item()


def plot_history(*histories: History, labels=None, axes=None):
    """Learning curves: loss (left) and accuracy (right) per epoch, one colour a run."""
    labels = labels or [f"run {i + 1}" for i in range(len(histories))]
    if len(labels) != len(histories):
        raise ValueError(
            f"plot_history: {len(histories)} histories but {len(labels)} labels"
        )
    if axes is None:
        _, axes = plt.subplots(1, 2, figsize=(10, 3.2))
    for i, (h, label) in enumerate(zip(histories, labels, strict=True)):
        epochs = range(1, h.epochs + 1)
        axes[0].plot(epochs, h.train_loss, f"C{i}-", label=f"{label} (train)")
        axes[1].plot(epochs, h.train_acc, f"C{i}-", label=f"{label} (train)")
        if h.val_loss:
            axes[0].plot(epochs, h.val_loss, f"C{i}--", label=f"{label} (test)")
            axes[1].plot(epochs, h.val_acc, f"C{i}--", label=f"{label} (test)")
    axes[0].set(xlabel="epoch", ylabel="cross-entropy loss")
    axes[1].set(xlabel="epoch", ylabel="accuracy")
    for ax in axes:
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    return axes
