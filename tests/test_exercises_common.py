"""What every checker in cnnlib.exercises does, whatever its exercise.

The chapter files (test_exercises_*.py) feed each checker right and wrong answers;
this file checks the behaviour they all share: a stub that still raises
NotImplementedError is reported as "not implemented yet" (the student edition relies
on it), and passing something other than a function is a TypeError.
"""

import pytest

import cnnlib.exercises as ex

CHECKERS = [getattr(ex, name) for name in ex.__all__ if name.startswith("check_")]


def stub(*args, **kwargs):
    raise NotImplementedError("Exercise: write this function")


def test_every_chapter_exports_its_checkers():
    names = {c.__name__ for c in CHECKERS}
    for expected in (
        "check_conv1d",  # 02
        "check_moving_average",  # 03
        "check_conv1d_kernel_grad",  # 04
        "check_conv_volume",  # 05
        "check_batch_norm_forward",  # 07
    ):
        assert expected in names
    assert len(names) == len(CHECKERS) >= 22


@pytest.mark.parametrize("check", CHECKERS, ids=lambda c: c.__name__)
def test_a_stub_is_not_implemented_yet(check, capsys):
    assert check(stub) is False
    assert ex.NOT_IMPLEMENTED in capsys.readouterr().out


@pytest.mark.parametrize("check", CHECKERS, ids=lambda c: c.__name__)
@pytest.mark.parametrize("not_a_function", [None, 3, [[0, 1], [1, 0]], "dw"])
def test_a_checker_wants_a_function(check, not_a_function):
    with pytest.raises(TypeError, match="pass your function itself"):
        check(not_a_function)
