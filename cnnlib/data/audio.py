"""Spoken digits: one-second waveforms of the words "zero" ... "nine" at 8 kHz.

The file ``data/spoken_digits.npz`` (about 6 MB, made by
``data/make_spoken_digits.py``) holds three splits:

- ``"train"``: 760 clips, 76 synthetic voices x 10 digits;
- ``"test"``: 200 clips, 20 *other* synthetic voices x 10 digits. No voice is in both,
  and the 10 voice variants the test voices use are never heard in training;
- ``"human"``: 10 clips, one real speaker (Allison Smith) saying each digit once.

A synthetic voice is an English accent of eSpeak NG (``en``, ``en-us``,
``en-gb-scotland``, ``en-029``, ...) with a voice variant (``+m3``, ``+f2``,
``+croak``, ``+whisper``, ...) and its own pitch; speed and pitch vary per clip.
Every clip is trimmed of silence, centred in 8000 samples and scaled to a peak of 0.9.

Sources and licences: the synthetic clips are output of eSpeak NG 1.51
(https://github.com/espeak-ng/espeak-ng, a GPL-3.0-or-later program). The human clips
are Asterisk's English prompts ``digits/0.wav`` ... ``9.wav``, recorded by Allison
Smith (http://www.theivrvoice.com) with financial contributions by Digium, Inc.,
licensed CC BY-SA 3.0 (https://creativecommons.org/licenses/by-sa/3.0/); here they are
trimmed, centred and rescaled. See ``data/README.md``.
"""

from __future__ import annotations

import numbers

import numpy as np

from .files import load_npz

FILE = "spoken_digits.npz"
SAMPLE_RATE = 8000  # Hz; every clip is 1 s = 8000 samples
DIGIT_NAMES = (
    "zero",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
)
SPLITS = ("train", "test", "human")


def load_spoken_digits(split="train", return_voices=False):
    """-> x (N, 8000) float32 in [-1, 1], y (N,) int64 digit 0..9 [, voice (N,) int64].

    ``x`` holds waveforms sampled at 8 kHz (int16 / 32768, so each clip's peak is
    about 0.9); ``y[i]`` is the digit spoken, named by ``DIGIT_NAMES[y[i]]``. With
    ``return_voices=True`` a third array gives each clip's speaker, an index into
    :func:`voice_names`. ``split`` is ``"train"`` (N = 760, 76 voices), ``"test"``
    (N = 200, 20 unseen voices) or ``"human"`` (N = 10, one real speaker). Each
    digit is equally often in every split.
    """
    if split not in SPLITS:
        raise ValueError(
            f"load_spoken_digits: split must be one of {SPLITS}, got {split!r}"
        )
    arrays = load_npz(FILE)
    x = arrays[f"x_{split}"].astype(np.float32) / np.float32(32768)
    y = arrays[f"y_{split}"].astype(np.int64)
    if return_voices:
        return x, y, arrays[f"voice_{split}"].astype(np.int64)
    return x, y


def voice_names():
    """-> tuple of str, one per voice index: ``"ACCENT+VARIANT"`` for the synthetic
    voices (``"en-us+f2"`` is eSpeak NG's ``-v en-us+f2``) and, last, the human."""
    return tuple(str(name) for name in load_npz(FILE)["voice_names"])


def _check_waveforms(x, fn):
    x = np.asarray(x)
    if x.ndim not in (2, 3) or 0 in x.shape:
        raise ValueError(
            f"{fn}: x must be (N, L) or (N, C, L) waveforms, got shape {x.shape}"
        )
    return x


def time_shift(x, shift):
    """x (N, L) or (N, C, L), shift int or (N,) ints -> same shape and dtype as x.

    Moves each waveform ``shift`` samples later (earlier when negative) along the
    last axis; samples pushed past either end are dropped and the gap is filled
    with zeros, so ``out[n, ..., t] = x[n, ..., t - shift[n]]`` where that index
    exists, else 0. A shift of ``L`` or more leaves only zeros.
    """
    x = _check_waveforms(x, "time_shift")
    shift = np.asarray(shift)
    if shift.dtype.kind not in "iu" or shift.shape not in ((), (len(x),)):
        raise ValueError(
            f"time_shift: shift must be an int or (N,) = ({len(x)},) integers for x "
            f"of shape {x.shape}, got {shift.dtype} of shape {shift.shape}"
        )
    L = x.shape[-1]
    src = np.arange(L) - np.broadcast_to(shift, (len(x),))[:, None]  # (N, L)
    valid = (src >= 0) & (src < L)  # (N, L)
    if x.ndim == 3:
        src, valid = src[:, None, :], valid[:, None, :]  # (N, 1, L)
    taken = np.take_along_axis(x, np.broadcast_to(np.clip(src, 0, L - 1), x.shape), -1)
    return np.where(valid, taken, np.zeros((), x.dtype))


def random_time_shift(x, max_shift, seed=0, return_shifts=False):
    """x (N, L) or (N, C, L) -> same shape, each waveform shifted by its own whole
    number of samples drawn uniformly from ``-max_shift .. max_shift`` (see
    :func:`time_shift`); ``return_shifts=True`` also returns the (N,) int64 shifts.

    At 8 kHz a shift of 800 samples is 0.1 s. The same ``seed`` gives the same shifts.
    """
    x = _check_waveforms(x, "random_time_shift")
    if (
        not isinstance(max_shift, numbers.Integral)
        or isinstance(max_shift, bool)
        or max_shift < 0
    ):
        raise ValueError(
            f"random_time_shift: max_shift must be an int >= 0 (samples), "
            f"got {max_shift!r}"
        )
    rng = np.random.default_rng(seed)
    shifts = rng.integers(-max_shift, max_shift + 1, size=len(x))  # (N,) int64
    out = time_shift(x, shifts)
    return (out, shifts) if return_shifts else out
