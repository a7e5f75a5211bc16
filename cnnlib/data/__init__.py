"""Datasets for the book: committed, checksummed files and offline generators.

Each loader returns NumPy arrays and documents shapes, dtypes, classes and source;
:mod:`cnnlib.data.loaders` wraps arrays as torch ``Dataset``/``DataLoader``. Nothing
here downloads anything unless a function's ``download=True`` is passed explicitly.
The appendix "Datasets" of the book shows examples of each set and their licences.
"""

from .audio import (
    DIGIT_NAMES,
    SAMPLE_RATE,
    load_spoken_digits,
    random_time_shift,
    time_shift,
    voice_names,
)
from .cells import CLASS_NAMES, CellImages, cell_stats, make_cells
from .files import DataFileError, data_dir, load_npz
from .images import (
    FASHION_CLASSES,
    ImageSet,
    load_fashion_mnist,
    load_mnist,
    rotate_digits,
)
from .loaders import make_loader, tensor_dataset
from .mnist1d import load_mnist1d, shuffle_positions
from .photos import PHOTOS, load_photo

__all__ = [
    "CLASS_NAMES",
    "DIGIT_NAMES",
    "FASHION_CLASSES",
    "PHOTOS",
    "SAMPLE_RATE",
    "CellImages",
    "DataFileError",
    "ImageSet",
    "cell_stats",
    "data_dir",
    "load_fashion_mnist",
    "load_mnist",
    "load_mnist1d",
    "load_npz",
    "load_photo",
    "load_spoken_digits",
    "make_cells",
    "make_loader",
    "random_time_shift",
    "rotate_digits",
    "shuffle_positions",
    "tensor_dataset",
    "time_shift",
    "voice_names",
]
