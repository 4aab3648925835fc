"""Times librosa 0.11 computing the frontend's 33 features on 16 kHz PCM files.

Usage: python tests/generators/bench_librosa.py DIR
       python tests/generators/bench_librosa.py --load FILE...
DIR holds raw little-endian i16 PCM files (*.pcm, 16 kHz mono), as bench-frontend writes them.
With --load (bench-predict), each audio FILE is read with librosa.load(FILE, sr=16000) (its
default resampler, soxr_hq), then the same features are computed; load and features are timed
separately per clip and summed.
Features as the frontend's configuration: one magnitude STFT per clip (n_fft 1024, hop 512,
periodic Hann, centred), reused for the mel spectrogram → power_to_db (no top_db) → 13 MFCC,
the spectral centroid, chroma_stft (tuning 0, norm inf) and spectral contrast (fmin 200,
6 bands, quantile 0.02). Audio as librosa.load gives it: float32, pcm / 32768.
Prints `clips=N load_s=X features_s=Y frames=Z` (load_s: reading the PCM files; features_s:
the feature computation alone, summed over clips).
"""

import pathlib
import sys
import time

import librosa
import numpy as np

import config as c


def features(y):
    sr = c.SAMPLE_RATE_HZ
    S = np.abs(librosa.stft(y, n_fft=c.N_FFT, hop_length=c.HOP, window="hann", center=True,
                            pad_mode="constant"))
    power = S**2
    mel = librosa.feature.melspectrogram(S=power, sr=sr, n_mels=c.N_MELS, fmin=0.0,
                                         fmax=sr / 2, htk=False, norm="slaney")
    mfcc = librosa.feature.mfcc(S=librosa.power_to_db(mel, top_db=None), n_mfcc=c.N_MFCC)
    centroid = librosa.feature.spectral_centroid(S=S, sr=sr)
    chroma = librosa.feature.chroma_stft(S=power, sr=sr, tuning=0.0, n_chroma=c.N_CHROMA,
                                         norm=np.inf)
    contrast = librosa.feature.spectral_contrast(S=S, sr=sr, fmin=c.CONTRAST_FMIN_HZ,
                                                 n_bands=c.N_CONTRAST_BANDS,
                                                 quantile=c.CONTRAST_QUANTILE)
    return np.concatenate([mfcc, centroid, chroma, contrast], axis=0)


def main_load(paths):
    features(librosa.load(paths[0], sr=c.SAMPLE_RATE_HZ)[0])  # warm-up, as above
    load_s, features_s, frames = 0.0, 0.0, 0
    for p in paths:
        t0 = time.perf_counter()
        y, _ = librosa.load(p, sr=c.SAMPLE_RATE_HZ)
        t1 = time.perf_counter()
        f = features(y)
        features_s += time.perf_counter() - t1
        load_s += t1 - t0
        frames += f.shape[1]
    print(f"clips={len(paths)} load_s={load_s:.6f} features_s={features_s:.6f} frames={frames}")
    return 0


def main(argv):
    if argv and argv[0] == "--load":
        return main_load(argv[1:])
    files = sorted(pathlib.Path(argv[0]).glob("*.pcm"))
    if not files:
        print(f"no .pcm files in {argv[0]}", file=sys.stderr)
        return 1
    t0 = time.perf_counter()
    clips = [np.fromfile(f, dtype="<i2").astype(np.float32) / np.float32(32768.0) for f in files]
    load_s = time.perf_counter() - t0
    features(clips[0])  # warm-up: filterbank caches, first-call imports
    features_s, frames = 0.0, 0
    for y in clips:
        t0 = time.perf_counter()
        f = features(y)
        features_s += time.perf_counter() - t0
        frames += f.shape[1]
    print(f"clips={len(clips)} load_s={load_s:.6f} features_s={features_s:.6f} frames={frames}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
