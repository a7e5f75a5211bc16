"""Checkers for the book's exercises: they name the mistake, not just "incorrect".

See :mod:`cnnlib.exercises._core` for how every checker reports and what every
checker checks whatever its exercise (inputs left unchanged, non-contiguous arrays);
:mod:`cnnlib.exercises._diagnose` and :mod:`cnnlib.exercises._formulas` hold the
diagnoses they share. Each chapter's checkers are in a module of their own.
"""

from ._core import NOT_IMPLEMENTED, ExerciseError
from .backprop import (
    check_centred_difference,
    check_conv1d_input_grad,
    check_conv1d_kernel_grad,
    check_max_pool2d_backward,
)
from .batchnorm import (
    check_batch_norm_backward,
    check_batch_norm_forward,
    check_fold_batch_norm,
    check_update_running_stats,
)
from .conv import check_conv1d, check_conv_matrix, check_edge_kernel, check_output_size
from .conv1d import (
    check_conv_pool_length,
    check_moving_average,
    check_parameter_counts,
    check_receptive_field,
)
from .equivariance import (
    check_circulant_eigenvalues,
    check_circulant_matrix,
    check_fft_correlate,
    check_rotate_p4,
)
from .images import (
    check_conv2d_channels,
    check_conv_volume,
    check_diagonal_edge_kernel,
    check_stack_receptive_field,
)
from .resnets import (
    check_basic_block,
    check_bottleneck_params,
    check_dense_channels,
    check_path_counts,
)
from .unet import (
    check_center_crop,
    check_dice,
    check_transposed_output_size,
    check_valid_unet_size,
)
from .why import check_conv2d_params, check_dense_params, check_translate

__all__ = [
    "NOT_IMPLEMENTED",
    "ExerciseError",
    "check_batch_norm_backward",
    "check_batch_norm_forward",
    "check_centred_difference",
    "check_conv1d_input_grad",
    "check_conv1d_kernel_grad",
    "check_max_pool2d_backward",
    "check_conv1d",
    "check_conv2d_params",
    "check_conv_matrix",
    "check_conv_pool_length",
    "check_dense_params",
    "check_edge_kernel",
    "check_fold_batch_norm",
    "check_moving_average",
    "check_output_size",
    "check_parameter_counts",
    "check_receptive_field",
    "check_translate",
    "check_update_running_stats",
    "check_conv2d_channels",
    "check_conv_volume",
    "check_diagonal_edge_kernel",
    "check_stack_receptive_field",
    "check_circulant_matrix",
    "check_circulant_eigenvalues",
    "check_fft_correlate",
    "check_rotate_p4",
    "check_basic_block",
    "check_bottleneck_params",
    "check_path_counts",
    "check_dense_channels",
    "check_center_crop",
    "check_valid_unet_size",
    "check_transposed_output_size",
    "check_dice",
]
