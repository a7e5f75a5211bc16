"""Models the chapters train; each file states its departures from the original."""

from .alexnet import AlexNet
from .cifar_resnet import CifarResNet
from .cnn1d import MNIST1DCNN, MNIST1DMLP, BetterCNN1d, SpokenDigitCNN
from .densenet import (
    DenseBlock,
    DenseLayer,
    DenseNet,
    Transition,
    densenet121,
    small_densenet,
)
from .groupcnn import P4CNN, Z2CNN, P4MaxPool2d, matched_channels
from .highway import HighwayBlock, HighwayCNN
from .hourglass import Hourglass, Residual
from .lenet import LeNet5
from .mlp import MLP
from .plain import PlainCNN
from .resnet import (
    RESNET200_LAYERS,
    ResNet,
    resnet18,
    resnet34,
    resnet50,
    resnet101,
    resnet152,
    resnet200,
)
from .resnet_blocks import (
    BasicBlock,
    Bottleneck,
    PreActBasicBlock,
    PreActBottleneck,
)
from .summary import LayerRow, count_parameters, format_table, layer_table, summarize
from .unet import UNet, UNet3D
from .unet_parts import DoubleConv, Down, OutConv, Up
from .unet_sizes import unet_size_steps, unet_sizes, valid_input_sizes
from .vgg import VGG16, SmallVGG

__all__ = [
    "AlexNet",
    "LeNet5",
    "P4CNN",
    "P4MaxPool2d",
    "Z2CNN",
    "matched_channels",
    "SmallVGG",
    "VGG16",
    "MLP",
    "MNIST1DCNN",
    "MNIST1DMLP",
    "PlainCNN",
    "BetterCNN1d",
    "BasicBlock",
    "Bottleneck",
    "PreActBasicBlock",
    "PreActBottleneck",
    "RESNET200_LAYERS",
    "ResNet",
    "resnet18",
    "resnet34",
    "resnet50",
    "resnet101",
    "resnet152",
    "resnet200",
    "CifarResNet",
    "DenseLayer",
    "DenseBlock",
    "Transition",
    "DenseNet",
    "densenet121",
    "small_densenet",
    "HighwayBlock",
    "HighwayCNN",
    "SpokenDigitCNN",
    "DoubleConv",
    "Down",
    "Up",
    "OutConv",
    "UNet",
    "UNet3D",
    "unet_sizes",
    "unet_size_steps",
    "valid_input_sizes",
    "Hourglass",
    "Residual",
    "count_parameters",
    "LayerRow",
    "format_table",
    "layer_table",
    "summarize",
]
