"""cnnlib.segmentation: the U-Net paper's weight map against a brute-force reference
(distances by looping over pixels and cells), Dice and IoU against hand-computed
examples, and object counts."""

import numpy as np
import pytest
import torch

from cnnlib.segmentation import (
    cell_distances,
    class_weights,
    count_objects,
    dice,
    iou,
    weight_map,
)


def tiny_instances():
    """(9, 12): cells 1 and 2 two pixels apart, cell 3 apart from both, 1-px cell 4."""
    a = np.zeros((9, 12), np.int32)
    a[1:4, 1:4] = 1
    a[1:5, 6:9] = 2  # columns 4 and 5 between 1 and 2: a 2-pixel gap
    a[6:9, 1:3] = 3
    a[7, 10] = 4
    return a


def reference_weights(instances, classes, w0, sigma, background_only=True):
    """The paper's w(x), computed the slow way: for every pixel, the distance to each
    cell is the smallest distance to one of its pixels; d1, d2 the two smallest."""
    h, w = instances.shape
    cells = [np.argwhere(instances == k) for k in np.unique(instances) if k > 0]
    freq = np.array([(classes == c).mean() for c in range(classes.max() + 1)])
    k_present = np.count_nonzero(freq)
    out = np.empty((h, w))
    for y in range(h):
        for x in range(w):
            out[y, x] = 1 / (k_present * freq[classes[y, x]])
            dists = sorted(np.hypot(*(pix - (y, x)).T).min() for pix in cells)
            if len(dists) >= 2 and (instances[y, x] == 0 or not background_only):
                out[y, x] += w0 * np.exp(-((dists[0] + dists[1]) ** 2) / (2 * sigma**2))
    return out


@pytest.mark.parametrize("w0, sigma", [(10.0, 5.0), (3.0, 1.5)])
@pytest.mark.parametrize("background_only", [True, False])
def test_weight_map_matches_brute_force(w0, sigma, background_only):
    inst = tiny_instances()
    cls = (inst > 0).astype(int)
    got = weight_map(inst, w0=w0, sigma=sigma, background_only=background_only)
    np.testing.assert_allclose(
        got, reference_weights(inst, cls, w0, sigma, background_only), rtol=1e-12
    )


def test_weight_map_with_three_classes_and_a_batch():
    inst = tiny_instances()
    classes = (inst > 0).astype(int)
    classes[1, 1:4] = 2  # a "border" row in cell 1
    got = weight_map(inst, classes)
    np.testing.assert_allclose(got, reference_weights(inst, classes, 10.0, 5.0))
    batch = np.stack([inst, np.zeros_like(inst), np.fliplr(inst)])
    cls_batch = (batch > 0).astype(int)
    many = weight_map(batch)
    assert many.shape == batch.shape
    for w, i, c in zip(many, batch, cls_batch, strict=True):
        np.testing.assert_allclose(w, reference_weights(i, c, 10.0, 5.0))


def test_the_gap_between_two_cells_gets_the_separation_weight():
    inst = tiny_instances()
    w = weight_map(inst)
    base = class_weights((inst > 0).astype(int))
    # pixel (2, 4): 1 px from cell 1 and 2 px from cell 2 -> d1 + d2 = 3
    assert w[2, 4] - base[2, 4] == pytest.approx(10 * np.exp(-9 / 50))
    assert (w[inst > 0] == base[inst > 0]).all()  # cells: only the class weight
    d1, d2 = cell_distances(inst)
    assert d1[2, 4] == 1 and d2[2, 4] == 2 and (d1[inst > 0] == 0).all()


def test_class_weights_balance_the_classes():
    cls = (tiny_instances() > 0).astype(int)
    w = class_weights(cls)
    assert w.mean() == pytest.approx(1.0)
    assert w[cls == 0].sum() == pytest.approx(w[cls == 1].sum())  # equal totals
    w = class_weights(cls, freq=[0.8, 0.2])  # a training set's frequencies
    assert set(np.unique(w)) == {1 / (2 * 0.8), 1 / (2 * 0.2)}
    with pytest.raises(ValueError, match="freq is 0"):
        class_weights(cls, freq=[1.0, 0.0])
    with pytest.raises(ValueError, match="holds label 1 but freq has only 1"):
        class_weights(cls, freq=[1.0])


def test_one_or_no_cell_has_no_separation_term():
    inst = np.zeros((6, 7), int)
    np.testing.assert_array_equal(weight_map(inst), np.ones((6, 7)))
    inst[2:4, 2:4] = 5
    np.testing.assert_allclose(weight_map(inst), class_weights(inst > 0))


def test_weight_map_errors():
    inst = tiny_instances()
    with pytest.raises(ValueError, match="classes has shape"):
        weight_map(inst, np.zeros((3, 3), int))
    with pytest.raises(TypeError, match="integer labels"):
        weight_map(inst.astype(float))
    with pytest.raises(ValueError, match="sigma must be finite and > 0"):
        weight_map(inst, sigma=0)
    with pytest.raises(ValueError, match=r"\(H, W\) or \(N, H, W\)"):
        weight_map(inst.ravel())


# pred and target below, position by position:
# (0,0) 0/0  (0,1) 1/1  (0,2) 1/0  (1,0) 2/2  (1,1) 2/1  (1,2) 0/0
PRED = np.array([[0, 1, 1], [2, 2, 0]])
TARGET = np.array([[0, 1, 0], [2, 1, 0]])


def test_dice_and_iou_by_hand():
    # class 0: P 2 px, T 3 px, both 2; class 1: P 2, T 2, both 1; class 2: P 2, T 1, 1
    d = dice(PRED, TARGET, num_classes=4)
    np.testing.assert_allclose(d[:3], [4 / 5, 2 / 4, 2 / 3])
    assert np.isnan(d[3])  # class 3 is in neither map
    j = iou(PRED, TARGET, num_classes=4)
    np.testing.assert_allclose(j[:3], [2 / 3, 1 / 3, 1 / 2])
    assert np.isnan(j[3])
    np.testing.assert_allclose(d[:3], 2 * j[:3] / (1 + j[:3]))
    smooth = dice(PRED, TARGET, 4, smooth=1.0)
    np.testing.assert_allclose(smooth, [5 / 6, 3 / 5, 3 / 4, 1.0])
    np.testing.assert_allclose(
        iou(PRED, TARGET, 4, smooth=1.0), [3 / 4, 2 / 4, 2 / 3, 1]
    )
    # torch tensors and a batch (pooled over all pixels) give the same
    np.testing.assert_allclose(dice(torch.tensor(PRED), torch.tensor(TARGET), 4), d)
    both = dice(np.stack([PRED, TARGET]), np.stack([TARGET, TARGET]), 3)
    np.testing.assert_allclose(both, [(4 + 6) / (5 + 6), (2 + 4) / (4 + 4), 4 / 5])


def test_dice_and_iou_errors():
    with pytest.raises(ValueError, match="pred has shape"):
        dice(PRED, TARGET[:, :2], 3)
    with pytest.raises(ValueError, match="pred holds label 2, but num_classes=2"):
        iou(PRED, TARGET, 2)
    with pytest.raises(TypeError, match="integer labels"):
        dice(PRED * 1.0, TARGET, 3)


def test_count_objects():
    m = np.array(
        [
            [1, 1, 0, 0, 2, 1],
            [1, 0, 0, 2, 2, 0],
            [0, 0, 1, 0, 0, 0],
            [0, 0, 0, 1, 0, 1],
        ]
    )
    # class 1: {(0,0),(0,1),(1,0)}, {(0,5)}, {(2,2)}, {(3,3)}, {(3,5)}
    assert count_objects(m) == 5
    assert count_objects(m, connectivity=8) == 4  # (2,2) and (3,3) touch at a corner
    assert count_objects(m, min_size=2) == 1
    assert count_objects(m, cls=2) == 1
    assert count_objects(m, cls=7) == 0
    np.testing.assert_array_equal(count_objects(np.stack([m, m == 1])), [5, 5])
    with pytest.raises(ValueError, match="connectivity must be 4 or 8"):
        count_objects(m, connectivity=6)
    with pytest.raises(ValueError, match="min_size must be >= 1"):
        count_objects(m, min_size=0)
