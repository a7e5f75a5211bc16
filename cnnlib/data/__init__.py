"""Datasets for the book: committed, checksummed files and offline generators.

Each loader returns NumPy arrays and documents shapes, dtypes, classes and source;
:mod:`cnnlib.data.loaders` wraps arrays as torch ``Dataset``/``DataLoader``. Nothing
here downloads anything unless a function's ``download=True`` is passed explicitly.
"""

from .files import DataFileError, data_dir, load_npz
from .loaders import make_loader, tensor_dataset

__all__ = ["DataFileError", "data_dir", "load_npz", "make_loader", "tensor_dataset"]
