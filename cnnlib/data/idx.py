"""Reading and writing IDX files, the format MNIST and Fashion-MNIST ship in.

An IDX file is a 4-byte magic number, one big-endian uint32 per dimension, then the
values in C order. The magic number's first two bytes are zero, the third names the
value type (0x08 unsigned byte, ...) and the fourth the number of dimensions: images
are ``0x00000803`` (N, 28, 28) uint8, labels ``0x00000801`` (N,) uint8. Files ending
in ``.gz`` are read and written gzip-compressed.
"""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np

# type byte of the magic number -> big-endian numpy dtype
IDX_TYPES = {
    0x08: np.dtype(">u1"),
    0x09: np.dtype(">i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
# the four files of a standard set; each may also be stored without ``.gz``
IDX_NAMES = {
    "x_train": "train-images-idx3-ubyte",
    "y_train": "train-labels-idx1-ubyte",
    "x_test": "t10k-images-idx3-ubyte",
    "y_test": "t10k-labels-idx1-ubyte",
}


def _open(path: Path, mode: str):
    return gzip.open(path, mode) if path.suffix == ".gz" else open(path, mode)


def parse_idx(data: bytes, name: str = "<bytes>") -> np.ndarray:
    """IDX bytes -> array of shape (d1, ..., dk) in native byte order.

    Raises ``ValueError`` naming ``name`` when the magic number, the header or the
    length of the data is wrong.
    """
    if len(data) < 4 or data[0] != 0 or data[1] != 0:
        raise ValueError(
            f"read_idx: {name} is not an IDX file: its magic number {data[:4].hex()} "
            "should start with two zero bytes (e.g. 00000803 for images)"
        )
    type_code, ndim = data[2], data[3]
    if type_code not in IDX_TYPES or ndim == 0:
        raise ValueError(
            f"read_idx: {name} has magic number {data[:4].hex()}: type byte "
            f"0x{type_code:02x} (known: {', '.join(f'0x{t:02x}' for t in IDX_TYPES)})"
            f" and {ndim} dimensions (need at least 1)"
        )
    header = 4 + 4 * ndim
    shape = tuple(int(d) for d in np.frombuffer(data[4:header], dtype=">u4"))
    dtype = IDX_TYPES[type_code]
    expected = header + int(np.prod(shape)) * dtype.itemsize
    if len(data) != expected:
        raise ValueError(
            f"read_idx: {name} has {len(data)} bytes but its header (shape {shape}, "
            f"{dtype.name}) needs {expected}; the file is truncated or corrupted"
        )
    values = np.frombuffer(data, dtype=dtype, offset=header).reshape(shape)
    return values.astype(dtype.newbyteorder("="))


def read_idx(path: str | Path) -> np.ndarray:
    """``path`` (IDX, optionally ``.gz``) -> array (d1, ..., dk), e.g. (N, 28, 28)."""
    path = Path(path)
    with _open(path, "rb") as f:
        return parse_idx(f.read(), name=str(path))


def write_idx(path: str | Path, array: np.ndarray) -> Path:
    """array (d1, ..., dk) -> IDX file at ``path`` (gzip when it ends in ``.gz``)."""
    array = np.asarray(array)
    codes = {dtype.newbyteorder("="): code for code, dtype in IDX_TYPES.items()}
    code = codes.get(array.dtype.newbyteorder("="))
    if code is None or array.ndim == 0:
        raise TypeError(
            f"write_idx: array has dtype {array.dtype} and shape {array.shape}; IDX "
            "holds uint8, int8, int16, int32, float32 or float64 with >= 1 dimension"
        )
    path = Path(path)
    header = bytes([0, 0, code, array.ndim]) + np.asarray(array.shape, ">u4").tobytes()
    body = array.astype(IDX_TYPES[code]).tobytes()
    if path.suffix == ".gz":  # mtime=0: the same array gives the same bytes
        path.write_bytes(gzip.compress(header + body, mtime=0))
    else:
        path.write_bytes(header + body)
    return path


def find_idx_set(folder: str | Path) -> dict[str, Path] | None:
    """The four standard files in ``folder`` (``.gz`` or not), or None if any lacks."""
    folder = Path(folder)
    found = {}
    for key, stem in IDX_NAMES.items():
        for candidate in (folder / f"{stem}.gz", folder / stem):
            if candidate.is_file():
                found[key] = candidate
                break
        else:
            return None
    return found


def read_idx_set(folder: str | Path) -> dict[str, np.ndarray]:
    """folder -> {x_train (N, H, W) uint8, y_train (N,) int64, x_test, y_test}.

    Checks that images are 3-D uint8, labels 1-D, and that the counts agree.
    """
    paths = find_idx_set(folder)
    if paths is None:
        names = ", ".join(f"{stem}.gz" for stem in IDX_NAMES.values())
        raise FileNotFoundError(f"read_idx_set: {folder} does not hold {names}")
    arrays = {key: read_idx(path) for key, path in paths.items()}
    for split in ("train", "test"):
        x, y = arrays[f"x_{split}"], arrays[f"y_{split}"]
        if x.ndim != 3 or x.dtype != np.uint8 or y.ndim != 1 or len(x) != len(y):
            raise ValueError(
                f"read_idx_set: {paths[f'x_{split}']} holds {x.dtype} {x.shape} and "
                f"{paths[f'y_{split}']} holds {y.dtype} {y.shape}; expected uint8 "
                "(N, H, W) images and (N,) labels with the same N"
            )
        arrays[f"y_{split}"] = y.astype(np.int64)
    return arrays
