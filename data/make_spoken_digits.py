"""Make ``data/spoken_digits.npz``: the words "zero" ... "nine" said by 96 synthetic
voices (eSpeak NG) and by one human (Allison Smith's Asterisk prompts).

Run ``python data/make_spoken_digits.py`` (about 15 s on 2 cores). It needs
Debian's ``espeak-ng`` and ``asterisk-core-sounds-en-wav`` and SciPy; the same
versions give the same bytes (the voices, speeds and pitches come from a fixed seed).

A *voice* is one English accent (``en-us``, ``en-gb-scotland``, ...) with one voice
variant (``+m3``, ``+f2``, ``+croak``, ``+Andy``, ...) and its own base pitch. Each of
the 48 variants speaks with two accents; every voice says every digit once, with the
speed (words per minute) and a small pitch wobble drawn per clip. Test voices are
unseen in the strongest sense we can arrange: the 10 test variants (20 voices, 2 or 3
per accent) are never heard in training, with any accent.

Every clip, synthetic or human: resampled to 8 kHz mono (``resample_poly``), leading
and trailing silence trimmed (10 ms frames below -50 dB of the loudest frame), the word
centred in a 1 s window of 8000 samples, scaled so its peak is 0.9 of full scale, int16.
A word longer than 0.95 s after trimming is synthesised again 20 % faster (never
cropped unless that fails five times).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import wave
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from math import gcd
from pathlib import Path

import numpy as np
from scipy.signal import resample_poly

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))  # run from a clone without installing cnnlib
from cnnlib.data.files import save_npz  # noqa: E402

OUT = ROOT / "data" / "spoken_digits.npz"
HUMAN_DIR = Path("/usr/share/asterisk/sounds/en_US_f_Allison/digits")
HUMAN_NAME = "human:Allison_Smith(asterisk)"
INSTALL = "apt-get install espeak-ng asterisk-core-sounds-en-wav"
WORDS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
SEED = 8000
SAMPLE_RATE, CLIP_LEN, MAX_WORD = 8000, 8000, 7600
PEAK = 0.9  # of int16 full scale
FRAME, THRESHOLD_DB = 80, -50.0  # 10 ms frames at 8 kHz
SPEED_WPM = (130, 190)  # per clip; espeak's default is 175
PITCH = (25, 75)  # per voice, espeak's 0..99 scale (default 50)
PITCH_WOBBLE = 6  # per clip, +-
AMPLITUDE = 50  # espeak's -a (default 100 clips some variants); peaks are rescaled
N_TEST_VARIANTS = 10

ACCENTS = (
    "en",  # British (espeak's default English)
    "en-029",  # Caribbean
    "en-gb-scotland",
    "en-gb-x-gbclan",  # Lancaster
    "en-gb-x-gbcwmd",  # West Midlands
    "en-gb-x-rp",  # Received Pronunciation
    "en-us",
    "en-us-nyc",
)
# Left out: robotic variants (robosoft*, UniRobot, anikaRobot, Demonic, Tweaky,
# RicishayMax*), ones that clip or drawl (antonio, iven, Jacky, ed, paul, Marco,
# AnxiousAndy), and klatt/klatt6, whose output is identical to caleb's.
VARIANTS = (
    ("m1", "m2", "m3", "m4", "m5", "m6", "m7", "m8", "f1", "f2", "f3", "f4", "f5")
    + ("croak", "whisper", "whisperf", "klatt2", "klatt3", "klatt4", "klatt5")
    + ("Alex", "Alicia", "Andrea", "Andy", "Annie", "aunty", "belinda", "benjamin")
    + ("boris", "caleb", "david", "Denis", "edward", "kaukovalta", "Lee", "linda")
    + ("Michael", "Mike", "Nguyen", "quincy", "steph", "steph2", "anika", "grandma")
    + ("grandpa", "norbert", "travis", "zac")
)


@dataclass(frozen=True)
class Voice:
    accent: str
    variant: str
    pitch: int
    test: bool

    @property
    def name(self) -> str:
        return f"{self.accent}+{self.variant}"


@dataclass(frozen=True)
class Clip:
    voice: int  # index into the voice list
    digit: int
    speed: int
    pitch: int


def plan_voices(seed: int = SEED) -> list[Voice]:
    """96 voices: each variant with two accents, each accent with 12 variants.

    Variants are dealt in rounds of four; each round takes a fresh random order of the
    8 accents, so every accent gets one slot per round. The first 10 variants (after a
    seeded shuffle) are the test variants: 20 voices, 2 or 3 per accent.
    """
    rng = np.random.default_rng(seed)
    variants = [VARIANTS[i] for i in rng.permutation(len(VARIANTS))]
    per_round = len(ACCENTS) // 2
    voices = []
    for k, variant in enumerate(variants):
        if k % per_round == 0:
            order = [ACCENTS[i] for i in rng.permutation(len(ACCENTS))]
        pair = order[2 * (k % per_round) : 2 * (k % per_round) + 2]
        for accent in pair:
            pitch = int(rng.integers(PITCH[0], PITCH[1] + 1))
            voices.append(Voice(accent, variant, pitch, k < N_TEST_VARIANTS))
    return sorted(voices, key=lambda v: (v.accent, v.variant.lower()))


def plan_clips(voices: list[Voice], seed: int = SEED) -> list[Clip]:
    """One clip per (voice, digit), with a speed and a pitch drawn for each."""
    rng = np.random.default_rng(seed + 1)
    clips = []
    for i, voice in enumerate(voices):
        for digit in range(len(WORDS)):
            speed = int(rng.integers(SPEED_WPM[0], SPEED_WPM[1] + 1))
            wobble = int(rng.integers(-PITCH_WOBBLE, PITCH_WOBBLE + 1))
            pitch = int(np.clip(voice.pitch + wobble, 0, 99))
            clips.append(Clip(i, digit, speed, pitch))
    return clips


def _uint(data: bytes, pos: int, size: int) -> int:
    return int.from_bytes(data[pos : pos + size], "little")


def read_wav(data: bytes) -> tuple[np.ndarray, int]:
    """WAV bytes (mono 16-bit PCM) -> samples (L,) float64 in [-1, 1), sample rate.

    espeak's ``--stdout`` leaves the data size unset, so the data chunk is read to the
    end of the bytes rather than trusted.
    """
    if data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        raise ValueError("read_wav: not a RIFF/WAVE file")
    pos, rate = 12, None
    while pos + 8 <= len(data):
        tag, size = data[pos : pos + 4], _uint(data, pos + 4, 4)
        if tag == b"fmt ":
            channels, bits = _uint(data, pos + 10, 2), _uint(data, pos + 22, 2)
            rate = _uint(data, pos + 12, 4)
            if (channels, bits) != (1, 16):
                raise ValueError(f"read_wav: need mono 16-bit, got {channels}, {bits}")
        elif tag == b"data" and rate is not None:
            body = data[pos + 8 :]
            return np.frombuffer(body[: len(body) // 2 * 2], "<i2") / 32768.0, rate
        pos += 8 + size + size % 2
    raise ValueError("read_wav: no fmt and data chunks")


def to_8k(x: np.ndarray, rate: int) -> np.ndarray:
    """x (L,) at ``rate`` Hz -> (L * 8000 / rate,) at 8 kHz (polyphase, low-passed)."""
    if rate == SAMPLE_RATE:
        return x
    g = gcd(SAMPLE_RATE, rate)
    return resample_poly(x, SAMPLE_RATE // g, rate // g)


def trim(x: np.ndarray) -> np.ndarray:
    """x (L,) -> the span from the first to the last 10 ms frame above -50 dB of the
    loudest frame, with one frame of margin each side."""
    n = len(x) // FRAME
    rms = np.sqrt(np.mean(x[: n * FRAME].reshape(n, FRAME) ** 2, axis=1))  # (n,)
    loud = np.flatnonzero(rms > rms.max() * 10 ** (THRESHOLD_DB / 20))
    if rms.max() == 0 or len(loud) == 0:
        return x[:0]
    start, stop = max(loud[0] - 1, 0) * FRAME, min(loud[-1] + 2, n) * FRAME
    return x[start:stop]


def finish(word: np.ndarray) -> np.ndarray:
    """word (L,) float, L <= 8000 -> (8000,) int16, centred, peak at 0.9 full scale."""
    clip = np.zeros(CLIP_LEN)
    start = (CLIP_LEN - len(word)) // 2
    clip[start : start + len(word)] = word * (PEAK / np.abs(word).max())
    return np.round(clip * 32767).astype(np.int16)


def espeak(voice: str, word: str, speed: int, pitch: int) -> np.ndarray:
    """One word from espeak-ng -> (L,) float64 at 8 kHz, silence trimmed."""
    cmd = ["espeak-ng", "-v", voice, "-s", str(speed), "-p", str(pitch)]
    cmd += ["-a", str(AMPLITUDE), "--stdout", word]
    result = subprocess.run(cmd, capture_output=True, check=True)
    return trim(to_8k(*read_wav(result.stdout)))


def synthesize(accent: str, variant: str, digit: int, speed: int, pitch: int):
    """One clip -> ((8000,) int16, speed actually used). Silent -> all zeros."""
    for _ in range(5):
        word = espeak(f"{accent}+{variant}", WORDS[digit], speed, pitch)
        if len(word) <= MAX_WORD:
            break
        speed = int(speed * 1.2)  # too long for 1 s: say it faster
    else:
        word = word[(len(word) - MAX_WORD) // 2 :][:MAX_WORD]
    if len(word) < SAMPLE_RATE // 10:  # under 0.1 s of sound: a broken variant
        return np.zeros(CLIP_LEN, np.int16), speed
    return finish(word), speed


def load_human(folder: Path = HUMAN_DIR) -> tuple[np.ndarray, np.ndarray]:
    """Allison Smith's digits/0.wav ... 9.wav -> x (10, 8000) int16, y (10,) int64."""
    clips = []
    for digit in range(10):
        with wave.open(str(folder / f"{digit}.wav")) as f:
            rate = f.getframerate()
            if (f.getnchannels(), f.getsampwidth()) != (1, 2):
                raise ValueError(f"{folder / f'{digit}.wav'}: expected mono 16-bit PCM")
            x = np.frombuffer(f.readframes(f.getnframes()), "<i2") / 32768.0
        if rate != SAMPLE_RATE:
            print(f"  note: {digit}.wav is {rate} Hz; resampling to {SAMPLE_RATE}")
        clips.append(finish(trim(to_8k(x, rate))[:CLIP_LEN]))
    return np.stack(clips), np.arange(10, dtype=np.int64)


def check_tools() -> str:
    """The espeak-ng version, after checking the tools, accents and variants exist."""
    if shutil.which("espeak-ng") is None or not (HUMAN_DIR / "9.wav").is_file():
        sys.exit(f"make_spoken_digits: needs espeak-ng and Allison's digits: {INSTALL}")
    listing = _run("--voices=en").splitlines()[1:]
    languages = (
        {  # the Language column and the "(en 2)" Other Languages entries
            word.strip("(") for line in listing for word in line.split("(")[1:]
        }
        | {line.split()[1] for line in listing}
    )
    listing = _run("--voices=variant").splitlines()[1:]
    variants = {line.split("!v/")[1].split()[0] for line in listing}
    missing = [a for a in ACCENTS if a not in languages]
    missing += [v for v in VARIANTS if v not in variants]
    if missing:  # espeak silently falls back to a default for unknown names
        sys.exit(f"make_spoken_digits: espeak-ng lacks voices {missing}: {INSTALL}")
    return _run("--version").split(":")[1].split()[0]


def _run(option: str) -> str:
    return subprocess.run(
        ["espeak-ng", option], capture_output=True, text=True, check=True
    ).stdout


def synthesize_all(voices: list[Voice], clips: list[Clip]) -> tuple[np.ndarray, int]:
    """Every clip, one espeak-ng process per core at a time -> (len(clips), 8000)
    int16, and how many clips had to be said faster to fit in 1 s."""

    def one(c: Clip) -> tuple[np.ndarray, int]:
        v = voices[c.voice]
        return synthesize(v.accent, v.variant, c.digit, c.speed, c.pitch)

    with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        results = list(pool.map(one, clips))
    faster = sum(speed != c.speed for (_, speed), c in zip(results, clips, strict=True))
    return np.stack([x for x, _ in results]), faster


def split_arrays(x, clips, voices, split, drop):
    """x (len(clips), 8000) -> {x_SPLIT, y_SPLIT, voice_SPLIT} for the clips of the
    voices in ``split`` ("train" or "test"), leaving out the voices in ``drop``."""
    keep = [
        i
        for i, c in enumerate(clips)
        if voices[c.voice].test == (split == "test") and c.voice not in drop
    ]
    return {
        f"x_{split}": x[keep],
        f"y_{split}": np.array([clips[i].digit for i in keep], np.int64),
        f"voice_{split}": np.array([clips[i].voice for i in keep], np.int16),
    }


def make_arrays(version: str) -> tuple[dict[str, np.ndarray], int]:
    """Everything that goes into the file, and the count of clips said faster."""
    voices = plan_voices()
    clips = plan_clips(voices)
    print(f"espeak-ng {version}: {len(voices)} voices x {len(WORDS)} digits ...")
    x, faster = synthesize_all(voices, clips)
    drop = {c.voice for c, row in zip(clips, x, strict=True) if not row.any()}
    if drop:
        print(f"  dropped voices with a silent clip: {[voices[i].name for i in drop]}")
    x_human, y_human = load_human()
    arrays = split_arrays(x, clips, voices, "train", drop)
    arrays |= split_arrays(x, clips, voices, "test", drop)
    names = [v.name for v in voices] + [HUMAN_NAME]
    return arrays | {
        "x_human": x_human,
        "y_human": y_human,
        "voice_human": np.full(10, len(voices), np.int16),
        "voice_names": np.array(names, dtype="<U40"),
        "sample_rate": np.array(SAMPLE_RATE, np.int64),
        "espeak_version": np.array(version, dtype="<U40"),
    }, faster


def main() -> None:
    start = time.perf_counter()
    arrays, faster = make_arrays(check_tools())
    save_npz(OUT, **arrays)
    for split in ("train", "test", "human"):
        n_voices = len(np.unique(arrays[f"voice_{split}"]))
        print(f"  {split:5s} x {arrays[f'x_{split}'].shape} from {n_voices} voices")
    print(f"  {faster} clips said faster to fit in 1 s, none cropped")
    size, took = OUT.stat().st_size / 2**20, time.perf_counter() - start
    print(f"wrote {OUT.relative_to(ROOT)} ({size:.2f} MiB) in {took:.1f} s")
    print("then record its checksum: python -m cnnlib.data --write-checksums")


if __name__ == "__main__":
    main()
