"""data/: checksums, finding the folder, deterministic files, torch wrappers, photos."""

import shutil
from pathlib import Path

import numpy as np
import pytest
import torch

from cnnlib.data import files
from cnnlib.data.files import DataFileError, load_npz, save_npz, write_checksums
from cnnlib.data.loaders import make_loader, tensor_dataset
from cnnlib.data.photos import PHOTOS, load_photo

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "data"


@pytest.fixture
def fake_data(tmp_path, monkeypatch):
    """A data folder with one small file, pointed at by CNNLIB_DATA."""
    save_npz(tmp_path / "toy.npz", x=np.arange(6, dtype=np.int16).reshape(2, 3))
    write_checksums(tmp_path)
    monkeypatch.setenv(files.DATA_ENV, str(tmp_path))
    return tmp_path


def test_every_committed_file_matches_its_checksum():
    sums = files.read_checksums(DATA)
    assert sums, "data/SHA256SUMS lists no files"
    for name, digest in sums.items():
        assert files.sha256(DATA / name) == digest, name


def test_every_data_file_is_listed_and_documented():
    listed = set(files.read_checksums(DATA))
    present = {p.name for p in DATA.iterdir() if p.suffix in (".npz", ".npy", ".wav")}
    assert present == listed, "run: python -m cnnlib.data --write-checksums"
    readme = (DATA / "README.md").read_text()
    for name, digest in files.read_checksums(DATA).items():
        assert name in readme and digest in readme, f"{name}: document it, with sha256"


def test_data_folder_stays_small():
    total = sum(p.stat().st_size for p in DATA.rglob("*") if p.is_file())
    assert total < 25 * 2**20, f"data/ is {total / 2**20:.1f} MB; the budget is 25 MB"


def test_round_trip_and_env_var(fake_data):
    assert files.data_dir() == fake_data
    assert load_npz("toy.npz")["x"].tolist() == [[0, 1, 2], [3, 4, 5]]


def test_root_env_var_is_used(tmp_path, monkeypatch):
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / files.CHECKSUMS).write_text("")
    monkeypatch.delenv(files.DATA_ENV, raising=False)
    monkeypatch.setenv(files.ROOT_ENV, str(tmp_path))
    assert files.data_dir() == tmp_path / "data"


def test_missing_file_names_it_and_the_command(fake_data):
    (fake_data / "toy.npz").unlink()
    with pytest.raises(DataFileError, match=r"toy\.npz is missing.*make_toy\.py"):
        load_npz("toy.npz")


def test_corrupted_file_is_refused(fake_data):
    path = fake_data / "toy.npz"
    raw = bytearray(path.read_bytes())
    raw[len(raw) // 2] ^= 0xFF  # flip one byte
    path.write_bytes(bytes(raw))
    with pytest.raises(DataFileError, match=r"toy\.npz is corrupted.*make_toy\.py"):
        load_npz("toy.npz")


def test_unlisted_file_is_refused(fake_data):
    shutil.copy(fake_data / "toy.npz", fake_data / "other.npz")
    with pytest.raises(DataFileError, match="not listed"):
        load_npz("other.npz")


def test_no_data_folder(tmp_path, monkeypatch):
    monkeypatch.setenv(files.DATA_ENV, str(tmp_path / "nowhere"))
    monkeypatch.setattr(files, "_candidates", lambda: [tmp_path / "nowhere"])
    with pytest.raises(DataFileError, match="CNNLIB_DATA"):
        files.data_dir()


def test_save_npz_is_deterministic_and_refuses_pickles(tmp_path):
    arrays = {"a": np.linspace(0, 1, 50), "b": np.array(["x", "yz"])}
    save_npz(tmp_path / "1.npz", **arrays)
    save_npz(tmp_path / "2.npz", **arrays)
    assert (tmp_path / "1.npz").read_bytes() == (tmp_path / "2.npz").read_bytes()
    with pytest.raises(TypeError, match="object"):
        save_npz(tmp_path / "3.npz", c=np.array([{}, 1], dtype=object))


def test_load_never_unpickles(fake_data):
    np.savez(fake_data / "pickle.npz", c=np.array([{}, 1], dtype=object))
    write_checksums(fake_data)
    with pytest.raises(ValueError, match="allow_pickle"):
        load_npz("pickle.npz")


def test_tensor_dataset_and_loader():
    x, y = np.random.default_rng(0).normal(size=(10, 3)), np.arange(10) % 2
    ds = tensor_dataset(x, y)
    assert ds.tensors[0].dtype == torch.float32 and ds.tensors[1].dtype == torch.int64
    first = [b[1].tolist() for b in make_loader(x, y, batch_size=4, seed=1)]
    again = [b[1].tolist() for b in make_loader(x, y, batch_size=4, seed=1)]
    assert first == again and [len(b) for b in first] == [4, 4, 2]
    with pytest.raises(ValueError, match=r"y has shape \(9,\)"):
        tensor_dataset(x, y[:9])
    with pytest.raises(TypeError, match="integer labels"):
        tensor_dataset(x, y.astype(float))
    with pytest.raises(ValueError, match="batch_size"):
        make_loader(x, y, batch_size=0)


@pytest.mark.parametrize("name", sorted(PHOTOS))
def test_photos_load_offline(name):
    gray, colour = load_photo(name), load_photo(name, gray=False)
    assert gray.ndim == 2 and colour.shape == (*gray.shape, 3)
    assert gray.dtype == np.float32 and 0 <= gray.min() < gray.max() <= 1


def test_photo_bad_name():
    with pytest.raises(ValueError, match="name must be one of"):
        load_photo("lena")
