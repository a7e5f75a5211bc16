"""cnnlib.data.cells: synthetic microscopy cells with exact 3-class masks and instances.

The masks are checked against a second, deliberately plain definition of the border
(sliding windows rather than the library's shifts and dilations).
"""

import numpy as np
import pytest
from numpy.lib.stride_tricks import sliding_window_view

from cnnlib.data.cells import CellImages, cell_stats, make_cells


@pytest.fixture(scope="module")
def cells():
    return make_cells(12, size=96, seed=3)


def _near(label, r, test):
    """label (H, W) -> (H, W, 2r+1, 2r+1) windows (frame edge replicated), test'd."""
    return test(sliding_window_view(np.pad(label, r, mode="edge"), (2 * r + 1,) * 2))


def _reference_mask(label, border_width):
    """A cell pixel is border if background lies within `border_width` (Chebyshev) or
    another cell within ceil(border_width / 2); the frame's edge does not count."""
    w, h = border_width, -(-border_width // 2)
    near_bg = _near(label, w, lambda win: (win == 0).any(axis=(2, 3)))
    own = label[:, :, None, None]
    near_other = _near(
        label, h, lambda win: ((win != own) & (win != 0)).any(axis=(2, 3))
    )
    return np.where(label > 0, np.where(near_bg | near_other, 2, 1), 0)


def _is_connected(region):
    """region (H, W) bool, not empty -> whether it is one 4-connected piece."""
    rows, cols = np.nonzero(region)
    region = region[rows.min() : rows.max() + 1, cols.min() : cols.max() + 1]
    reached = np.zeros_like(region)
    reached[rows[0] - rows.min(), cols[0] - cols.min()] = True
    while True:  # flood fill: grow by one pixel per step, inside the region
        grown = reached.copy()
        grown[1:] |= reached[:-1]
        grown[:-1] |= reached[1:]
        grown[:, 1:] |= reached[:, :-1]
        grown[:, :-1] |= reached[:, 1:]
        grown &= region
        if (grown == reached).all():
            return bool((reached == region).all())
        reached = grown


def _touching_pairs(label):
    """label (H, W) -> horizontal (H, W-1), vertical (H-1, W): True where a pixel and
    its right / lower neighbour lie in two different cells."""
    pairs = []
    for a, b in ((label[:, :-1], label[:, 1:]), (label[:-1], label[1:])):
        pairs.append((a != b) & (a > 0) & (b > 0))
    return pairs


def test_shapes_dtypes_and_ranges(cells):
    assert isinstance(cells, CellImages)
    images, masks, instances = cells
    for a, dtype in ((images, np.float32), (masks, np.uint8), (instances, np.int32)):
        assert a.shape == (12, 96, 96)
        assert a.dtype == dtype
    assert images.min() >= 0 and images.max() <= 1
    assert set(np.unique(masks)) == {0, 1, 2}
    assert instances.min() == 0


def test_background_is_zero_in_masks_and_instances(cells):
    assert np.array_equal(cells.masks == 0, cells.instances == 0)


def test_instances_are_numbered_one_to_k_and_connected(cells):
    counts = []
    for label in cells.instances:
        k = label.max()
        counts.append(k)
        assert set(np.unique(label)) == set(range(k + 1))
        for i in range(1, k + 1):
            assert _is_connected(label == i), f"instance {i} is in several pieces"
    assert min(counts) >= 3 and max(counts) <= 15


@pytest.mark.parametrize("border_width", [1, 2, 3])
def test_border_and_interior_follow_the_geometry(border_width):
    c = make_cells(4, size=64, seed=5, border_width=border_width, touching=0.8)
    for label, mask in zip(c.instances, c.masks, strict=True):
        assert np.array_equal(mask, _reference_mask(label, border_width))
        for i in range(1, label.max() + 1):  # every cell has a rim of border pixels
            assert (mask[label == i] == 2).any()


def test_border_class_separates_touching_cells():
    c = make_cells(6, size=64, seed=2, n_cells=(6, 10), touching=1.0)
    shared = 0
    for label, mask in zip(c.instances, c.masks, strict=True):
        horizontal, vertical = _touching_pairs(label)
        shared += horizontal.sum() + vertical.sum()
        assert (mask[:, :-1][horizontal] == 2).all()
        assert (mask[:, 1:][horizontal] == 2).all()
        assert (mask[:-1][vertical] == 2).all()
        assert (mask[1:][vertical] == 2).all()
    assert shared > 20, "expected touching cells with touching=1.0"


def test_same_seed_same_arrays_different_seed_different():
    a, b = make_cells(3, size=48, seed=7), make_cells(3, size=48, seed=7)
    for x, y in zip(a, b, strict=True):
        assert np.array_equal(x, y)
    other = make_cells(3, size=48, seed=8)
    assert not np.array_equal(a.images, other.images)
    assert not np.array_equal(a.instances, other.instances)
    assert not np.array_equal(a.images[0], a.images[1])


def test_image_i_does_not_depend_on_n():
    many, few = make_cells(5, size=48, seed=4), make_cells(2, size=48, seed=4)
    one = make_cells(1, size=48, seed=4, start=3)
    for x, y, z in zip(many, few, one, strict=True):
        assert np.array_equal(x[:2], y)
        assert np.array_equal(x[3], z[0])


def test_cells_are_brighter_than_background(cells):
    contrasts = []
    for image, label in zip(cells.images, cells.instances, strict=True):
        far = ~_near(label, 4, lambda win: (win > 0).any(axis=(2, 3)))
        contrasts.append(image[label > 0].mean() - image[far].mean())
    assert min(contrasts) > 0.03
    assert np.mean(contrasts) > 0.12


def test_background_is_noisy(cells):
    for image, label in zip(cells.images, cells.instances, strict=True):
        far = ~_near(label, 4, lambda win: (win > 0).any(axis=(2, 3)))
        both = far[:, 1:] & far[:, :-1]  # horizontal neighbours, both far from cells
        steps = np.diff(image.astype(np.float64), axis=1)[both]
        assert both.sum() > 100
        assert steps.std() > 0.003


def test_cell_stats_fractions(cells):
    fractions = cell_stats(cells.masks)
    assert fractions.shape == (3,)
    assert np.isclose(fractions.sum(), 1)
    assert np.isclose(fractions[2], (cells.masks == 2).mean())
    assert fractions[0] > 0.5 and fractions[1] > 0 and fractions[2] > 0
    assert np.allclose(cell_stats(cells.masks[0]), cell_stats(cells.masks[:1]))


def test_cell_stats_rejects_bad_masks():
    with pytest.raises(ValueError, match="masks"):
        cell_stats(np.zeros(5, np.uint8))
    with pytest.raises(TypeError, match="masks"):
        cell_stats(np.zeros((4, 4)))
    with pytest.raises(ValueError, match="classes"):
        cell_stats(np.full((4, 4), 3))


@pytest.mark.parametrize(
    ("kwargs", "error", "name"),
    [
        ({"n": 0}, ValueError, "n"),
        ({"n": 2.0}, TypeError, "n"),
        ({"n": True}, TypeError, "n"),
        ({"size": 16}, ValueError, "size"),
        ({"size": 64.0}, TypeError, "size"),
        ({"seed": -1}, ValueError, "seed"),
        ({"seed": "a"}, TypeError, "seed"),
        ({"start": -1}, ValueError, "start"),
        ({"n_cells": (5, 2)}, ValueError, "n_cells"),
        ({"n_cells": (0, 2)}, ValueError, "n_cells"),
        ({"n_cells": (1, 2, 3)}, TypeError, "n_cells"),
        ({"n_cells": 2.5}, TypeError, "n_cells"),
        ({"radius": (0.1, 0.05)}, ValueError, "radius"),
        ({"radius": (0.0, 0.1)}, ValueError, "radius"),
        ({"radius": (0.1, 0.5)}, ValueError, "radius"),
        ({"radius": "big"}, TypeError, "radius"),
        ({"size": 32, "radius": (0.03, 0.1)}, ValueError, "radius"),
        ({"touching": 1.5}, ValueError, "touching"),
        ({"touching": None}, TypeError, "touching"),
        ({"border_width": 0}, ValueError, "border_width"),
        ({"border_width": 1.5}, TypeError, "border_width"),
    ],
)
def test_argument_errors_name_the_argument(kwargs, error, name):
    kwargs = {"n": 1, **kwargs}
    with pytest.raises(error, match=rf"make_cells: {name}\b"):
        make_cells(**kwargs)


def test_small_and_single_cell_settings():
    c = make_cells(2, size=32, seed=0, n_cells=1, radius=0.2)
    assert c.images.shape == (2, 32, 32)
    assert [label.max() for label in c.instances] == [1, 1]
