"""Finding, verifying and writing the committed files in the repository's ``data/``.

Every file there is listed in ``data/SHA256SUMS`` (the format of ``sha256sum``, so
``cd data && sha256sum -c SHA256SUMS`` checks them too). :func:`load_npz` verifies a
file against that list before reading it, and never unpickles. A file ``data/NAME.npz``
is made by the script ``data/make_NAME.py``; ``make data`` runs them all and then
rewrites ``SHA256SUMS`` (``python -m cnnlib.data --write-checksums``).

Where is ``data/``? In this order: the folder named by ``CNNLIB_DATA``; ``data/`` under
``CNNLIB_ROOT`` (the notebooks' setup cell sets it on Colab); the ``data/`` beside the
installed package (an editable install from a clone); ``data/`` in the working
directory or its parent (running from ``notebooks/``).
"""

from __future__ import annotations

import argparse
import hashlib
import io
import os
import zipfile
from pathlib import Path

import numpy as np

DATA_ENV, ROOT_ENV = "CNNLIB_DATA", "CNNLIB_ROOT"
CHECKSUMS = "SHA256SUMS"
_verified: dict[tuple[str, int, int], str] = {}  # (path, size, mtime_ns) -> sha256


class DataFileError(OSError):
    """A data file is missing or does not match its checksum; the message says why and
    which command makes it again."""


def _candidates() -> list[Path]:
    found = []
    if os.environ.get(DATA_ENV):
        found.append(Path(os.environ[DATA_ENV]))
    if os.environ.get(ROOT_ENV):
        found.append(Path(os.environ[ROOT_ENV]) / "data")
    found.append(Path(__file__).resolve().parents[2] / "data")
    found += [Path.cwd() / "data", Path.cwd().parent / "data"]
    return found


def data_dir() -> Path:
    """The repository's ``data/`` folder (the first candidate holding SHA256SUMS)."""
    candidates = _candidates()
    for folder in candidates:
        if (folder / CHECKSUMS).is_file():
            return folder
    tried = "\n  ".join(str(c) for c in candidates)
    raise DataFileError(
        f"cannot find the book's data/ folder (a folder with {CHECKSUMS}); tried:\n"
        f"  {tried}\nSet {DATA_ENV}=/path/to/cnn-book/data, or run from the repository."
    )


def regenerate_command(name: str) -> str:
    """The command that makes ``data/NAME.npz`` again."""
    return f"python data/make_{Path(name).stem}.py   (or `make data` for every file)"


def read_checksums(folder: Path | None = None) -> dict[str, str]:
    """``{file name: sha256}`` from ``data/SHA256SUMS``."""
    folder = data_dir() if folder is None else folder
    sums = {}
    for line in (folder / CHECKSUMS).read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            digest, name = line.split(maxsplit=1)
            sums[name.lstrip("*")] = digest
    return sums


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def verified_path(name: str) -> Path:
    """Path of ``data/NAME`` after checking it exists and matches ``SHA256SUMS``."""
    folder = data_dir()
    path = folder / name
    expected = read_checksums(folder).get(name)
    if expected is None:
        raise DataFileError(f"{name} is not listed in {folder / CHECKSUMS}")
    if not path.is_file():
        raise DataFileError(
            f"data file {path} is missing. Make it with: {regenerate_command(name)}"
        )
    stat = path.stat()
    key = (str(path), stat.st_size, stat.st_mtime_ns)
    if _verified.get(key) != expected:
        actual = sha256(path)
        if actual != expected:
            raise DataFileError(
                f"data file {path} is corrupted or out of date: sha256 {actual}, "
                f"expected {expected} (data/{CHECKSUMS}). Make it again with: "
                f"{regenerate_command(name)}, or restore it with "
                f"`git checkout -- data/{name}`"
            )
        _verified[key] = actual
    return path


def load_npz(name: str) -> dict[str, np.ndarray]:
    """Verify ``data/NAME`` against its sha256, then read every array (no pickles)."""
    with np.load(verified_path(name), allow_pickle=False) as archive:
        return {key: archive[key] for key in archive.files}


def save_npz(path: str | Path, **arrays: np.ndarray) -> Path:
    """Write a compressed ``.npz`` whose bytes depend only on the arrays.

    ``np.savez_compressed`` stamps the current time into the zip, so the same data
    would get a new checksum each time; here every entry gets a fixed date.
    """
    path = Path(path)
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for key in sorted(arrays):
            array = np.asarray(arrays[key])
            if array.dtype == object:
                raise TypeError(f"save_npz: array {key!r} has dtype object (a pickle)")
            buffer = io.BytesIO()
            np.lib.format.write_array(buffer, array, allow_pickle=False)
            info = zipfile.ZipInfo(f"{key}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type, info.external_attr = zipfile.ZIP_DEFLATED, 0o644 << 16
            zf.writestr(info, buffer.getvalue(), compresslevel=9)
    return path


def write_checksums(folder: Path | None = None) -> Path:
    """Rewrite ``SHA256SUMS`` for every data file (not README, scripts or the list)."""
    folder = data_dir() if folder is None else folder
    names = sorted(
        p.name
        for p in folder.iterdir()
        if p.is_file() and p.suffix in (".npz", ".npy", ".wav") and p.name != CHECKSUMS
    )
    lines = [f"{sha256(folder / name)}  {name}" for name in names]
    (folder / CHECKSUMS).write_text("\n".join(lines) + "\n")
    return folder / CHECKSUMS


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="check or rewrite data/SHA256SUMS")
    parser.add_argument("--write-checksums", action="store_true")
    args = parser.parse_args(argv)
    if args.write_checksums:
        print(f"wrote {write_checksums()}")
        return 0
    bad = 0
    for name in read_checksums():
        try:
            verified_path(name)
            print(f"ok      {name}")
        except DataFileError as err:
            bad += 1
            print(f"FAILED  {err}")
    return 1 if bad else 0
