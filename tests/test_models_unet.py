"""U-Net (Ronneberger et al. 2015): the paper's 572 -> 388 level by level, its
31,030,658 parameters, the sizes the valid network takes (checked by running it),
the padded variant on odd sizes, 3D U-Net shapes and the hourglass block.

Big networks are built and run on the "meta" device (shapes only, no memory)."""

import pytest
import torch
from torch import nn
from torch.nn import functional as F

from cnnlib.models import (
    DoubleConv,
    Hourglass,
    UNet,
    UNet3D,
    Up,
    count_parameters,
    layer_table,
    unet_size_steps,
    unet_sizes,
    valid_input_sizes,
)
from cnnlib.models.unet_parts import center_crop, pad_to

torch.set_num_threads(1)

# the paper's figure 1, read off the boxes: input, then each 3x3 conv, pool, up-conv
PAPER_SIZES = [572, 570, 568, 284, 282, 280, 140, 138, 136, 68, 66, 64, 32, 30, 28]
PAPER_SIZES += [56, 54, 52, 104, 102, 100, 200, 198, 196, 392, 390, 388]


def meta_unet(*args, **kw):
    with torch.device("meta"):
        return UNet(*args, **kw)


def hand_count(c_in, classes, base, depth, bn=False, bilinear=False, k=9):
    """Parameters by hand: k = 9 (3x3) or 27 (3x3x3) weights per channel pair."""
    extra = 2 if bn else 1  # batch norm (gamma, beta) or a bias, per channel

    def double_conv(a, b):
        return a * b * k + extra * b + b * b * k + extra * b

    total = double_conv(c_in, base)
    for i in range(depth):
        total += double_conv(base * 2**i, base * 2 ** (i + 1))
    up_taps = 1 if bilinear else (8 if k == 27 else 4)  # 1x1 conv or 2x2 up-conv
    for i in range(depth, 0, -1):
        c = base * 2**i
        total += c * (c // 2) * up_taps + c // 2 + double_conv(c, c // 2)
    return total + base * classes + classes


def _leaf_for_step(step):
    """'down2.conv1' -> the name of the leaf module whose output it is."""
    block, part = step.split(".")
    convs = "double_conv" if block == "inc" else "maxpool_conv.1.double_conv"
    if block.startswith("up"):
        convs = "conv.double_conv"
    if part == "pool":
        return f"{block}.maxpool_conv.0"
    if part == "up":
        return f"{block}.up"
    return f"{block}.{convs}.{0 if part == 'conv1' else 2}"


def test_paper_unet_572_to_388_level_by_level():
    rows = {
        r.name: r.output_shape for r in layer_table(meta_unet(1, 2), (1, 1, 572, 572))
    }
    assert unet_sizes(572) == PAPER_SIZES
    steps = unet_size_steps(572)
    assert len(steps) == len(PAPER_SIZES)
    for step, size in steps[1:]:
        assert rows[_leaf_for_step(step)][2:] == (size, size), step
    assert rows["down4.maxpool_conv.1.double_conv.2"] == (
        1,
        1024,
        28,
        28,
    )  # the bottom, x5
    assert rows["up1.up"] == (1, 512, 56, 56)  # x4 (64x64) is cropped to this
    assert rows["outc.conv"] == (1, 2, 388, 388)


def test_paper_parameter_count_and_variants():
    assert count_parameters(meta_unet(1, 2)) == 31_030_658
    assert hand_count(1, 2, 64, 4) == 31_030_658
    cases = [
        dict(valid=False),  # batch norm on: the common implementation
        dict(valid=False, batch_norm=False),
        dict(bilinear=True),
        dict(valid=False, bilinear=True, in_channels=3, num_classes=5),
        dict(base=4, depth=2),
        dict(base=8, depth=5, batch_norm=True),
    ]
    for kw in cases:
        model = meta_unet(**kw)
        c_in, classes = kw.get("in_channels", 1), kw.get("num_classes", 2)
        base, depth = kw.get("base", 64), kw.get("depth", 4)
        bn = kw.get("batch_norm", not kw.get("valid", True))
        expect = hand_count(c_in, classes, base, depth, bn, kw.get("bilinear", False))
        assert count_parameters(model) == expect, kw
    # the padded net differs from the paper's only by norms replacing biases: + 5,888
    assert count_parameters(meta_unet(valid=False)) == 31_036_546


def test_common_implementation_state_dict_names():
    sd = meta_unet(3, 2, valid=False).state_dict()
    assert sd["inc.double_conv.0.weight"].shape == (64, 3, 3, 3)
    assert sd["inc.double_conv.1.running_var"].shape == (64,)
    assert sd["down4.maxpool_conv.1.double_conv.3.weight"].shape == (1024, 1024, 3, 3)
    assert sd["up1.up.weight"].shape == (1024, 512, 2, 2)  # transposed: (in, out, ..)
    assert sd["up4.conv.double_conv.0.weight"].shape == (64, 128, 3, 3)
    assert sd["outc.conv.weight"].shape == (2, 64, 1, 1)
    assert "inc.double_conv.0.bias" not in sd  # batch norm follows
    assert "inc.double_conv.0.bias" in meta_unet(1, 2).state_dict()  # the paper's


def test_valid_sizes_follow_the_formula():
    sizes = valid_input_sizes()  # depth 4, up to 600
    assert sizes == list(range(188, 601, 16))  # 16 k + 12 from 188 (output 4)
    assert [n for n in sizes if 540 <= n <= 600] == [540, 556, 572, 588]
    for d in (1, 2, 3, 5):
        got = valid_input_sizes(400, depth=d)
        first = got[0]
        assert got == list(range(first, 401, 2**d))
        assert unet_sizes(first, d)[-1] >= 1 and (
            first - 2**d < 1 or first - 2**d not in got
        )
        assert all((n + 4) % 2**d == 0 for n in got)
    assert valid_input_sizes(400, depth=3)[0] == 92  # 3D U-Net: 132 and 116 fit
    assert {132, 116} <= set(valid_input_sizes(200, depth=3))


@pytest.mark.parametrize(
    "depth, device, low, top", [(2, "cpu", 1, 90), (4, "meta", 180, 300)]
)
def test_valid_sizes_are_those_that_run_with_even_poolings(depth, device, low, top):
    """Run the network with its size check switched off on widths low..top (the
    height fits): a width is accepted when torch runs it, every 2x2 pooling sees an
    even width, and the output is not empty."""
    fit = valid_input_sizes(top, depth)[0]
    with torch.device(device):
        model = UNet(base=1, depth=depth)
    model.check_input = lambda x: None  # let torch itself decide
    seen = []  # the widths the poolings see, per run
    for m in model.modules():
        if isinstance(m, nn.MaxPool2d):
            m.register_forward_hook(lambda mod, i, o: seen.append(i[0].shape[-1]))
    accepted = []
    for n in range(low, top + 1):
        seen.clear()
        try:
            out = model(torch.zeros(1, 1, fit, n, device=device))
        except RuntimeError:  # a convolution or pooling with nothing left to see
            continue
        if out.shape[-1] >= 1 and all(s % 2 == 0 for s in seen):
            accepted.append(n)
            assert out.shape[-1] == unet_sizes(n, depth)[-1]
    assert accepted == [n for n in valid_input_sizes(top, depth) if n >= low]
    assert len(accepted) >= 5


def test_a_size_that_does_not_fit_is_named_with_its_neighbours():
    model = UNet(base=2)
    with pytest.raises(ValueError, match=r"input H = 570 .*556 and 572"):
        model(torch.zeros(1, 1, 570, 572, device="meta"))
    with pytest.raises(
        ValueError, match=r"input W = 100 .*smallest size that fits is 188"
    ):
        model(torch.zeros(1, 1, 572, 100, device="meta"))
    with pytest.raises(ValueError, match=r"input_size 573 .*odd size.*572 and 588"):
        unet_sizes(573)
    with pytest.raises(ValueError, match="expected input \\(N, 1, H, W\\)"):
        model(torch.zeros(1, 3, 572, 572, device="meta"))
    with pytest.raises(TypeError, match="torch tensor"):
        model([[0.0]])
    for kw in (dict(base=0), dict(depth=0), dict(num_classes=1.5)):
        with pytest.raises(ValueError, match=next(iter(kw))):
            UNet(**kw)


def test_valid_unet_is_equivariant_to_shifts_by_16():
    """A valid U-Net of depth 4 sees every 16-pixel shift identically: the output of
    a tile 16 px further is the output 16 px further (the crops line up)."""
    torch.manual_seed(0)
    model = UNet(base=2).eval()
    x = torch.randn(1, 1, 204, 220)
    with torch.no_grad():
        big = model(x)  # (1, 2, 20, 36)
        small = model(x[:, :, 16:, 32:])  # (1, 2, 4, 4)
    assert big.shape == (1, 2, 20, 36) and small.shape == (1, 2, 4, 4)
    torch.testing.assert_close(small, big[:, :, 16:, 32:])


@pytest.mark.parametrize("bilinear", [False, True])
@pytest.mark.parametrize("shape", [(37, 45), (16, 16), (17, 31)])
def test_padded_unet_keeps_any_size(shape, bilinear):
    model = UNet(valid=False, base=2, bilinear=bilinear)
    assert model.batch_norm and not UNet(base=2).batch_norm
    out = model(torch.randn(3, 1, *shape))
    assert out.shape == (3, 2, *shape)
    assert model(torch.zeros(0, 1, *shape)).shape == (0, 2, *shape)  # empty batch
    with pytest.raises(ValueError, match=r"input H = 15 .*>= 16"):
        model(torch.zeros(1, 1, 15, 40))


def test_empty_batch_and_explicit_forward_agree_with_the_loop():
    torch.manual_seed(1)
    model = UNet(base=2).eval()
    assert model(torch.zeros(0, 1, 188, 188)).shape == (0, 2, 4, 4)
    x = torch.randn(2, 1, 188, 204)
    with torch.no_grad():
        torch.testing.assert_close(model(x), model.forward_any_depth(x))


def test_crop_and_pad_helpers():
    x = torch.arange(7 * 6.0).reshape(1, 1, 7, 6)
    c = center_crop(x, (3, 4))
    assert torch.equal(c, x[:, :, 2:5, 1:5])  # 7 - 3 = 4: 2 off each side
    assert torch.equal(center_crop(x, (6, 6)), x[:, :, :6])  # odd: extra off the end
    p = pad_to(x, (8, 9))  # 1 row: at the end; 3 columns: 1 before, 2 after
    assert p.shape == (1, 1, 8, 9) and torch.equal(p[:, :, :7, 1:7], x)
    assert p[:, :, 7].abs().sum() == 0 and p[..., [0, 7, 8]].abs().sum() == 0
    with pytest.raises(ValueError, match="cannot crop"):
        center_crop(x, (8, 6))
    with pytest.raises(ValueError, match="cannot pad"):
        pad_to(x, (6, 6))


def test_parts_shapes():
    assert DoubleConv(3, 5)(torch.zeros(2, 3, 10, 11)).shape == (2, 5, 6, 7)
    assert DoubleConv(3, 5, valid=False)(torch.zeros(2, 3, 10, 11)).shape == (
        2,
        5,
        10,
        11,
    )
    up = Up(8, 4)  # x (N, 8, 5, 5), skip (N, 4, 14, 14) -> crop to 10 -> conv -> 6
    assert up(torch.zeros(1, 8, 5, 5), torch.zeros(1, 4, 14, 14)).shape == (1, 4, 6, 6)
    up = Up(8, 4, valid=False, bilinear=True)
    assert up(torch.zeros(1, 8, 5, 5), torch.zeros(1, 4, 11, 10)).shape == (
        1,
        4,
        11,
        10,
    )


def test_unet3d_shapes_match_cicek():
    with torch.device("meta"):
        model = UNet3D(base=4)
    rows = layer_table(model, (1, 1, 132, 132, 116))
    assert rows[-1].output_shape == (
        1,
        2,
        44,
        44,
        28,
    )  # 3D U-Net: 132x132x116 -> 44x44x28
    by_name = {r.name: r.output_shape for r in rows}
    for step, size in unet_size_steps(116, depth=3)[1:]:
        assert by_name[_leaf_for_step(step)][-1] == size, step
    assert count_parameters(model) == hand_count(1, 2, 4, 3, k=27)
    with pytest.raises(ValueError, match=r"input D = 131 "):
        model(torch.zeros(1, 1, 131, 132, 116, device="meta"))
    small = UNet3D(base=2, depth=2, valid=False)
    assert small(torch.zeros(2, 1, 9, 10, 11)).shape == (2, 2, 9, 10, 11)


@pytest.mark.parametrize("depth", [1, 2, 3])
@pytest.mark.parametrize("shape", [(16, 16), (19, 23)])
def test_hourglass_keeps_the_shape(depth, shape):
    h = Hourglass(8, depth)
    assert h(torch.randn(2, 8, *shape)).shape == (2, 8, *shape)


def test_hourglass_is_skip_plus_upsampled_inner():
    torch.manual_seed(2)
    h = Hourglass(4, 2).eval()
    assert isinstance(h.low2, Hourglass) and not isinstance(h.low2.low2, Hourglass)
    x = torch.randn(1, 4, 9, 10)
    with torch.no_grad():
        inner = h.low3(h.low2(h.low1(F.max_pool2d(x, 2))))  # (1, 4, 4, 5)
        up = inner.repeat_interleave(2, 2).repeat_interleave(2, 3)  # (1, 4, 8, 10)
        up = torch.cat([up, up[:, :, -1:]], dim=2)  # row 8, dropped by the pooling
        expect = h.up1(x) + up
        torch.testing.assert_close(h(x), expect)
    with pytest.raises(ValueError, match=">= 4"):
        h(torch.zeros(1, 4, 3, 10))
    with pytest.raises(ValueError, match=r"\(N, 4, H, W\)"):
        h(torch.zeros(1, 3, 8, 8))
