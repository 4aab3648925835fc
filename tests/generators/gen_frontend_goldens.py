"""Writes tests/golden/frontend/*.tgfe: deterministic synthetic 16 kHz i16 signals and
librosa 0.11's features of them (format: see librosa_features.py); and model-*.tgfe, the
features the model reads (librosa's features of the spectrum plus the model's spectral floor,
core/src/level.rs) of some of them and of a fade that drops by 50 dB.

Usage: python tests/generators/gen_frontend_goldens.py
"""

import librosa
import numpy as np

import config as c
from librosa_features import features, write_golden

assert librosa.__version__ == "0.11.0", f"goldens are pinned to librosa 0.11.0, not {librosa.__version__}"

OUT = c.ROOT / "tests" / "golden" / "frontend"
SR = c.SAMPLE_RATE_HZ


def to_i16(y):
    return np.clip(np.rint(np.asarray(y) * 32768.0), -32768, 32767).astype(np.int16)


def t(seconds):
    return np.arange(int(seconds * SR)) / SR


def signals(rng):
    yield "silence", np.zeros(SR, dtype=np.int16)
    yield "sine", to_i16(0.5 * np.sin(2 * np.pi * 440.0 * t(1.5)))
    tt = t(1.5)
    triad = sum(0.2 * np.sin(2 * np.pi * f * tt) for f in (261.63, 329.63, 392.0))
    yield "chord", to_i16(triad)
    yield "chirp", to_i16(0.5 * librosa.chirp(fmin=50.0, fmax=7900.0, sr=SR, duration=2.0))
    yield "noise", to_i16(rng.uniform(-0.3, 0.3, int(1.5 * SR)))
    # Full scale, period 80 samples (200 Hz): every sample is ±32767 or -32768.
    square = np.where((np.arange(SR) // 40) % 2 == 0, 32767, -32768).astype(np.int16)
    yield "square", square
    clicks = np.zeros(int(1.5 * SR), dtype=np.int16)
    clicks[1000::4000] = 30000
    clicks[3001::4000] = -12000
    yield "clicks", clicks
    # A few LSB of noise: frames near the i16 noise floor.
    yield "whisper", np.clip(np.rint(rng.normal(0.0, 2.0, SR)), -32768, 32767).astype(np.int16)


# Signals whose model features (with the spectral floor) are pinned too.
MODEL_SIGNALS = ("chirp", "chord", "noise", "whisper", "fade")


def fade(rng):
    """A chord with hiss that drops by 50 dB after 1 s: the floor follows the running level
    down, so for a while the quiet part lies under it."""
    tt = t(3.0)
    chord = sum(0.2 * np.sin(2 * np.pi * f * tt) for f in (110.0, 220.0, 277.18, 329.63))
    y = chord + rng.normal(0.0, 0.002, len(tt))
    return to_i16(np.where(tt < 1.0, 1.0, 10.0 ** (-50.0 / 20.0)) * y)


def main():
    rng = np.random.default_rng(20251125)
    OUT.mkdir(parents=True, exist_ok=True)
    total = 0
    model_pcm = {}
    for name, pcm in signals(rng):
        path = OUT / f"{name}.tgfe"
        write_golden(path, pcm, features(pcm))
        total += path.stat().st_size
        print(f"wrote {path.relative_to(c.ROOT)} ({len(pcm)} samples)")
        model_pcm[name] = pcm
    model_pcm["fade"] = fade(rng)
    for name in MODEL_SIGNALS:
        path = OUT / f"model-{name}.tgfe"
        write_golden(path, model_pcm[name], features(model_pcm[name], model_floor=True))
        total += path.stat().st_size
        print(f"wrote {path.relative_to(c.ROOT)} (model features)")
    print(f"total {total / 1e6:.2f} MB")


if __name__ == "__main__":
    main()
