"""Checkers for the book's exercises: they name the mistake, not just "incorrect".

See :mod:`cnnlib.exercises._core` for how every checker reports; each chapter's
checkers are in a module of their own.
"""

from ._core import NOT_IMPLEMENTED, ExerciseError
from .conv import check_conv1d, check_conv_matrix, check_edge_kernel, check_output_size
from .conv1d import (
    check_conv_pool_length,
    check_moving_average,
    check_parameter_counts,
    check_receptive_field,
)
from .why import check_conv2d_params, check_dense_params, check_translate

__all__ = [
    "NOT_IMPLEMENTED",
    "ExerciseError",
    "check_conv1d",
    "check_conv2d_params",
    "check_conv_matrix",
    "check_conv_pool_length",
    "check_dense_params",
    "check_edge_kernel",
    "check_moving_average",
    "check_output_size",
    "check_parameter_counts",
    "check_receptive_field",
    "check_translate",
]
