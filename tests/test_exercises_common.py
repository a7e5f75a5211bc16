"""What every checker in cnnlib.exercises does, whatever its exercise.

The chapter files (test_exercises_*.py) feed each checker right and wrong answers;
this file checks the behaviour they all share: a stub that still raises
NotImplementedError is reported as "not implemented yet" (the student edition relies
on it), passing something other than a function is a TypeError, and the notebooks'
own solutions, changed to modify their inputs in place or to assume contiguous
arrays, are caught and told so. It also holds the helpers the chapter files share.
"""

import math
from pathlib import Path

import nbformat
import numpy as np
import pytest
import torch

import cnnlib.exercises as ex
from cnnlib.exercises._core import describe_change, noncontiguous

CHECKERS = [getattr(ex, name) for name in ex.__all__ if name.startswith("check_")]
NOTEBOOKS = sorted(
    (Path(__file__).resolve().parent.parent / "notebooks").glob("*.ipynb")
)


def stub(*args, **kwargs):
    raise NotImplementedError("Exercise: write this function")


def assume_contiguous(a):
    """What np.lib.stride_tricks.as_strided with item-size strides reads: right for
    a C-contiguous array, scrambled for a strided or transposed view. A torch tensor
    is read the same way (like torch.as_strided with contiguous strides)."""
    if isinstance(a, torch.Tensor):
        return torch.from_numpy(assume_contiguous(a.numpy()))
    if not isinstance(a, np.ndarray) or a.flags.c_contiguous or a.ndim == 0:
        return a
    strides = [a.itemsize] * a.ndim
    for i in range(a.ndim - 2, -1, -1):
        strides[i] = strides[i + 1] * a.shape[i + 1]
    return np.lib.stride_tricks.as_strided(a, a.shape, strides, writeable=False).copy()


def test_every_chapter_exports_its_checkers():
    names = {c.__name__ for c in CHECKERS}
    for expected in (
        "check_conv1d",  # 02
        "check_moving_average",  # 03
        "check_conv1d_kernel_grad",  # 04
        "check_conv_volume",  # 05
        "check_circulant_matrix",  # 06
        "check_circulant_eigenvalues",  # 06
        "check_fft_correlate",  # 06
        "check_rotate_p4",  # 06
        "check_batch_norm_forward",  # 07
        "check_fold_batch_norm",  # 07
        "check_basic_block",  # 08
        "check_bottleneck_params",  # 08
        "check_path_counts",  # 08
        "check_dense_channels",  # 08
        "check_center_crop",  # 09
        "check_valid_unet_size",  # 09
        "check_transposed_output_size",  # 09
        "check_dice",  # 09
    ):
        assert expected in names
    assert len(names) == len(CHECKERS) >= 35


@pytest.mark.parametrize("check", CHECKERS, ids=lambda c: c.__name__)
def test_a_stub_is_not_implemented_yet(check, capsys):
    assert check(stub) is False
    assert ex.NOT_IMPLEMENTED in capsys.readouterr().out


@pytest.mark.parametrize("check", CHECKERS, ids=lambda c: c.__name__)
@pytest.mark.parametrize("not_a_function", [None, 3, [[0, 1], [1, 0]], "dw"])
def test_a_checker_wants_a_function(check, not_a_function):
    with pytest.raises(TypeError, match="pass your function itself"):
        check(not_a_function)


@pytest.mark.parametrize("check", CHECKERS, ids=lambda c: c.__name__)
def test_a_function_that_forgets_to_return_is_told(check):
    with pytest.raises(ex.ExerciseError, match="returned None"):
        check(lambda *args, **kwargs: None)


# --------------------------------------------------------------------------------------
# The notebooks' solutions, made wrong in two ways every checker must see


def _solutions():
    """(solution source, check source) for every exercise, named notebook:cell."""
    found = []
    for path in NOTEBOOKS:
        cells = nbformat.read(path, as_version=4).cells
        for i, cell in enumerate(cells):
            if "solution" in cell.metadata.get("tags", []):
                check = next(c for c in cells[i + 1 :] if c.cell_type == "code")
                found.append(
                    pytest.param(cell.source, check.source, id=f"{path.stem}:{i}")
                )
    return found


def _run(solution, check, wrap):
    """Run the check cell on the solution's function, wrapped by ``wrap``."""
    namespace = {  # what the chapters import before their exercises
        "np": np,
        "math": math,
        "torch": torch,
        "F": torch.nn.functional,
        **{c.__name__: c for c in CHECKERS},
    }
    before = set(namespace)
    exec(compile(solution, "<solution>", "exec"), namespace)
    for name in set(namespace) - before:
        if callable(namespace[name]) and not name.startswith("_"):
            namespace[name] = wrap(namespace[name])
    exec(compile(check, "<check>", "exec"), namespace)


def _changes_its_inputs(f):
    def changed(*args, **kwargs):
        result = f(*args, **kwargs)
        for a in args:
            if isinstance(a, np.ndarray) and a.size and a.dtype.kind in "fiu":
                a.flat[0] += 1  # label maps are integer arrays
            elif isinstance(a, torch.Tensor) and a.numel() and a.is_floating_point():
                a[(0,) * a.ndim] += 1.0
            elif isinstance(a, list) and a:
                a.pop()
        return result

    changed.__name__ = f.__name__
    return changed


def _assumes_contiguous(f):
    def scrambled(*args, **kwargs):
        return f(*(assume_contiguous(a) for a in args), **kwargs)

    scrambled.__name__ = f.__name__
    return scrambled


def _takes_arrays(check_source):
    scalars_only = (
        "dense_params",
        "conv2d_params",
        "output_size",
        "conv_pool_length",
        "parameter_counts",
        "conv_volume",
        "edge_kernel",
        "bottleneck_params",
        "path_counts",
        "dense_channels",
    )
    return not any(name in check_source for name in scalars_only)


@pytest.mark.parametrize("solution, check", _solutions())
def test_every_checker_sees_an_input_changed_in_place(solution, check, capsys):
    if not _takes_arrays(check):
        pytest.skip("numbers only: nothing the function could change in place")
    with pytest.raises(ex.ExerciseError, match="changed its input .* in place"):
        _run(solution, check, _changes_its_inputs)


@pytest.mark.parametrize("solution, check", _solutions())
def test_every_checker_tries_non_contiguous_arrays(solution, check, capsys):
    if not _takes_arrays(check) or "receptive_field" in check:
        pytest.skip("no array arguments")
    with pytest.raises(ex.ExerciseError, match="stored non-contiguously"):
        _run(solution, check, _assumes_contiguous)


# --------------------------------------------------------------------------------------
# The shared machinery itself


def test_noncontiguous_keeps_values_and_drops_contiguity():
    for a in (np.arange(5.0), np.arange(12.0).reshape(3, 4), np.ones((2, 3, 4))):
        b = noncontiguous(a)
        assert np.array_equal(a, b) and not b.flags.c_contiguous


@pytest.mark.parametrize(
    "before, after, message",
    [
        (np.arange(4.0), np.arange(4.0)[::-1], "reversed"),
        (np.arange(1.0, 4.0), np.zeros(3), "zeros"),
        (np.arange(4.0), np.array([0.0, 1, 5, 3]), r"entry \[2\] was 2.0 and is now 5"),
        (np.arange(4.0), np.arange(4.0).reshape(1, 4), "shape changed"),
        ([(3, 1), (5, 2)], [(5, 2), (3, 1)], "reversed"),
        ([(3, 1), (5, 2)], [(3, 1)], "lost 1 of its 2 items"),
    ],
)
def test_describe_change_says_what_changed(before, after, message):
    import re

    assert re.search(message, describe_change(before, after))
    assert describe_change(before, before) is None
