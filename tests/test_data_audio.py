"""The spoken-digits file and loader (cnnlib.data.audio) and its generator.

The generator tests call espeak-ng and SciPy; they skip, saying so, where either is
missing. Everything else reads the committed ``data/spoken_digits.npz``.
"""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from cnnlib.data import audio
from cnnlib.data.files import CHECKSUMS, DATA_ENV, DataFileError, data_dir

ROOT = Path(__file__).resolve().parent.parent
MAKE = "python data/make_spoken_digits.py"


@pytest.fixture(scope="module")
def splits():
    """{split: (x, y, voice)} for "train", "test" and "human"."""
    return {s: audio.load_spoken_digits(s, return_voices=True) for s in audio.SPLITS}


@pytest.fixture(scope="module")
def generator():
    """data/make_spoken_digits.py as a module (needs SciPy and espeak-ng)."""
    pytest.importorskip("scipy", reason="the generator needs SciPy")
    if shutil.which("espeak-ng") is None:
        pytest.skip("espeak-ng is not installed: apt-get install espeak-ng")
    spec = importlib.util.spec_from_file_location(
        "make_spoken_digits", ROOT / "data" / "make_spoken_digits.py"
    )
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up by name
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize(
    "split, n, n_voices", [("train", 760, 76), ("test", 200, 20), ("human", 10, 1)]
)
def test_shapes_dtypes_and_ranges(splits, split, n, n_voices):
    x, y, voice = splits[split]
    assert x.shape == (n, audio.SAMPLE_RATE) and x.dtype == np.float32
    assert y.shape == voice.shape == (n,)
    assert y.dtype == voice.dtype == np.int64
    assert -1 <= x.min() and x.max() <= 1
    peaks = np.abs(x).max(axis=1)
    assert np.allclose(peaks, 0.9, atol=1e-3), "every clip's peak is 0.9"
    assert set(np.unique(y)) == set(range(10))
    assert len(np.unique(voice)) == n_voices


def test_every_digit_equally_often_and_said_by_every_voice(splits):
    for split in ("train", "test", "human"):
        x, y, voice = splits[split]
        counts = np.bincount(y, minlength=10)
        assert (counts == counts[0]).all(), f"{split}: digit counts {counts}"
        pairs = set(zip(voice.tolist(), y.tolist(), strict=True))
        assert len(pairs) == len(y), f"{split}: a voice says a digit twice"
    per_digit = np.bincount(splits["train"][1]) + np.bincount(splits["test"][1])
    assert per_digit.min() >= 60, f"synthetic clips per digit: {per_digit}"


def test_no_voice_or_variant_in_both_train_and_test(splits):
    names = audio.voice_names()
    assert len(set(names)) == len(names), "voice names are unique"
    train, test, human = (set(splits[s][2].tolist()) for s in audio.SPLITS)
    assert not train & test and not (train | test) & human
    assert train | test | human == set(range(len(names)))
    variant = [name.split("+")[-1] for name in names]
    assert not {variant[i] for i in train} & {variant[i] for i in test}
    accents = {names[i].split("+")[0] for i in test}
    assert len(accents) >= 6, f"test voices should span the accents, got {accents}"


def test_file_stores_fixed_width_strings():
    with np.load(data_dir() / audio.FILE, allow_pickle=False) as f:
        assert f["voice_names"].dtype.kind == "U"
        assert int(f["sample_rate"]) == audio.SAMPLE_RATE


def test_human_split_has_each_digit_once(splits):
    x, y, voice = splits["human"]
    assert sorted(y.tolist()) == list(range(10))
    assert audio.voice_names()[voice[0]].startswith("human")


def test_clips_are_loud_enough_and_centred(splits):
    for split, (x, _, _) in splits.items():
        energy = x.astype(np.float64) ** 2  # (N, 8000)
        assert np.sqrt(energy.mean(axis=1)).min() > 0.02, f"{split}: a quiet clip"
        middle = energy[:, 1000:7000].sum(axis=1) / energy.sum(axis=1)
        assert middle.min() > 0.99, f"{split}: sound outside 0.125..0.875 s"
        assert not x[:, :800].any() and not x[:, -800:].any(), f"{split}: edges"
        sounding = x != 0
        first = sounding.argmax(axis=1)
        last = x.shape[1] - sounding[:, ::-1].argmax(axis=1)
        assert np.abs((first + last) / 2 - 4000).max() < 150, f"{split}: off centre"


def test_unknown_split_names_the_choices():
    with pytest.raises(ValueError, match=r"split must be one of .*'human'"):
        audio.load_spoken_digits("valid")


def _copy_data(tmp_path, monkeypatch, sums):
    shutil.copy(data_dir() / audio.FILE, tmp_path / audio.FILE)
    (tmp_path / CHECKSUMS).write_text(f"{sums}  {audio.FILE}\n")
    monkeypatch.setenv(DATA_ENV, str(tmp_path))
    return tmp_path / audio.FILE


def test_wrong_checksum_says_how_to_regenerate(tmp_path, monkeypatch):
    _copy_data(tmp_path, monkeypatch, "0" * 64)
    with pytest.raises(DataFileError, match="spoken_digits.npz") as err:
        audio.load_spoken_digits("test")
    assert "corrupted or out of date" in str(err.value) and MAKE in str(err.value)


def test_corrupted_bytes_are_caught(tmp_path, monkeypatch):
    good = (data_dir() / CHECKSUMS).read_text().split(f"  {audio.FILE}")[0][-64:]
    path = _copy_data(tmp_path, monkeypatch, good)
    audio.load_spoken_digits("human")  # the copy itself passes
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(DataFileError, match=r"spoken_digits\.npz.*corrupted") as err:
        audio.load_spoken_digits("human")
    assert MAKE in str(err.value)


def test_missing_file_says_how_to_make_it(tmp_path, monkeypatch):
    _copy_data(tmp_path, monkeypatch, "0" * 64).unlink()
    with pytest.raises(DataFileError, match="spoken_digits.npz is missing") as err:
        audio.voice_names()
    assert MAKE in str(err.value)


def test_generator_is_deterministic(generator):
    voices = generator.plan_voices()
    clips = generator.plan_clips(voices)
    assert voices == generator.plan_voices() and clips == generator.plan_clips(voices)
    assert [v.name for v in voices] == list(audio.voice_names()[:-1])
    first_test = next(c for c in clips if voices[c.voice].test)
    v = voices[first_test.voice]
    args = (v.accent, v.variant, first_test.digit, first_test.speed, first_test.pitch)
    once, twice = generator.synthesize(*args)[0], generator.synthesize(*args)[0]
    assert once.dtype == np.int16 and once.tobytes() == twice.tobytes()
    version = subprocess.run(["espeak-ng", "--version"], capture_output=True, text=True)
    with np.load(data_dir() / audio.FILE, allow_pickle=False) as f:
        stored, stored_version = f["x_test"][0], str(f["espeak_version"])
    if f" {stored_version} " not in version.stdout:
        pytest.skip(f"espeak-ng differs from {stored_version}, so may the bytes")
    assert once.tobytes() == stored.tobytes(), "the committed clip is reproduced"


def _time_shift_loop(x, shifts):
    """The definition, one sample at a time: out[n, ..., t] = x[n, ..., t - s_n]."""
    out = np.zeros_like(x)
    L = x.shape[-1]
    for n, s in enumerate(shifts):
        for t in range(L):
            if 0 <= t - s < L:
                out[n, ..., t] = x[n, ..., t - s]
    return out


def test_time_shift_matches_the_definition():
    x = np.arange(1, 4 * 2 * 9 + 1, dtype=np.float32).reshape(4, 2, 9)
    shifts = np.array([0, 3, -2, 12])
    for xs in (x, x[:, 0]):  # (N, C, L) and (N, L)
        out = audio.time_shift(xs, shifts)
        assert out.dtype == xs.dtype and out.shape == xs.shape
        assert np.array_equal(out, _time_shift_loop(xs, shifts))
    assert np.array_equal(audio.time_shift(x[:, 0], 2)[:, 2:], x[:, 0, :-2])
    assert not audio.time_shift(x[:, 0], 2)[:, :2].any(), "zero fill, later = right"
    assert np.array_equal(audio.time_shift(x, 0), x)


def test_time_shift_rejects_bad_shapes():
    with pytest.raises(ValueError, match=r"x must be \(N, L\).*shape \(9,\)"):
        audio.time_shift(np.zeros(9), 1)
    with pytest.raises(ValueError, match=r"shift must be .*\(3,\).*shape \(2,\)"):
        audio.time_shift(np.zeros((3, 9)), np.array([1, 2]))
    with pytest.raises(ValueError, match="shift must be an int"):
        audio.time_shift(np.zeros((3, 9)), 1.5)
    with pytest.raises(ValueError, match="max_shift must be an int >= 0"):
        audio.random_time_shift(np.zeros((3, 9)), -1)


def test_random_time_shift_is_seeded_and_bounded():
    x = np.random.default_rng(0).standard_normal((50, 1, 100)).astype(np.float32)
    out, shifts = audio.random_time_shift(x, 7, seed=3, return_shifts=True)
    assert np.abs(shifts).max() <= 7 and len(np.unique(shifts)) > 5
    assert np.array_equal(out, audio.time_shift(x, shifts))
    assert np.array_equal(out, audio.random_time_shift(x, 7, seed=3))
    assert not np.array_equal(out, audio.random_time_shift(x, 7, seed=4))
