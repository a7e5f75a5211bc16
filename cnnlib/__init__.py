"""cnnlib: the library behind the CNN course book.

The functions at the top level mirror ``torch.nn.functional`` (same names, argument
order and layouts) but take and return NumPy arrays, so a reader can check every
hand-written operation against PyTorch.
"""

from . import _env  # noqa: F401  (first: sets OpenMP's wait policy before torch loads)
from .conv import (
    conv1d,
    conv1d_naive,
    conv2d,
    conv2d_naive,
    conv_transpose1d,
    conv_transpose1d_naive,
    conv_transpose2d,
    conv_transpose2d_naive,
    convolve1d,
    convolve2d,
    get_patches,
    pad,
)
from .matrices import circulant, conv_matrix, conv_output_size
from .pool import avg_pool1d, avg_pool2d, max_pool1d, max_pool2d, max_unpool2d
from .runtime import (
    full_scale,
    limit_threads,
    pick_device,
    seed_everything,
    setup,
    thread_count,
)
from .spectral import fft_conv1d, fft_conv2d
from .upsample import interpolate

__version__ = "0.1.0"

__all__ = [
    "avg_pool1d",
    "avg_pool2d",
    "circulant",
    "conv1d",
    "conv1d_naive",
    "conv2d",
    "conv2d_naive",
    "conv_matrix",
    "conv_output_size",
    "conv_transpose1d",
    "conv_transpose1d_naive",
    "conv_transpose2d",
    "conv_transpose2d_naive",
    "convolve1d",
    "convolve2d",
    "fft_conv1d",
    "fft_conv2d",
    "full_scale",
    "get_patches",
    "interpolate",
    "limit_threads",
    "max_pool1d",
    "max_pool2d",
    "max_unpool2d",
    "pad",
    "pick_device",
    "seed_everything",
    "setup",
    "thread_count",
]
