"""Hand-written backward passes in numpy, and gradient checking.

Every layer comes as a forward/backward pair: ``y, cache = conv2d_forward(x, w, b)``
keeps in ``cache`` (a small NamedTuple) what the backward pass needs, and
``dx, dw, db = conv2d_backward(dy, cache)`` turns the gradient of the loss with
respect to y into the gradients with respect to the inputs. The forward passes are
cnnlib's own ops (same checks, same torch semantics); the backward passes agree with
torch autograd in float64 (tests/test_grad*.py, benchmarks/grad_agreement.py).
``check_gradient`` checks any backward pass, yours included, against finite
differences.
"""

from .check import check_gradient, numerical_gradient, relative_error
from .conv import (
    ConvCache,
    conv1d_backward,
    conv1d_forward,
    conv2d_backward,
    conv2d_forward,
)
from .conv_naive import conv1d_backward_naive, conv2d_backward_naive
from .layers import (
    LinearCache,
    ReLUCache,
    linear_backward,
    linear_forward,
    relu_backward,
    relu_forward,
    softmax_cross_entropy,
)
from .pool import (
    PoolCache,
    avg_pool1d_backward,
    avg_pool1d_forward,
    avg_pool2d_backward,
    avg_pool2d_forward,
    max_pool1d_backward,
    max_pool1d_forward,
    max_pool2d_backward,
    max_pool2d_forward,
)

__all__ = [
    "ConvCache",
    "LinearCache",
    "PoolCache",
    "ReLUCache",
    "avg_pool1d_backward",
    "avg_pool1d_forward",
    "avg_pool2d_backward",
    "avg_pool2d_forward",
    "check_gradient",
    "conv1d_backward",
    "conv1d_backward_naive",
    "conv1d_forward",
    "conv2d_backward",
    "conv2d_backward_naive",
    "conv2d_forward",
    "linear_backward",
    "linear_forward",
    "max_pool1d_backward",
    "max_pool1d_forward",
    "max_pool2d_backward",
    "max_pool2d_forward",
    "numerical_gradient",
    "relative_error",
    "relu_backward",
    "relu_forward",
    "softmax_cross_entropy",
]
