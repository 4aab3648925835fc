"""librosa's 33 frontend features of 16 kHz i16 PCM, and the golden file format they go in.

As a script it prepares real-clip goldens for tests/tests/frontend_gtzan.rs:

    python tests/generators/librosa_features.py OUT_DIR SECONDS CLIP...

For each CLIP (any file soundfile reads) it down-mixes to mono, resamples the whole clip to
16 kHz with librosa (soxr_hq), keeps the first SECONDS, rounds and clips to i16, and writes
OUT_DIR/<clip stem>.tgfe with that PCM and librosa's features of it.

Golden file (.tgfe, little-endian): b"TGFE", u32 version (1), u32 n_samples, u32 n_frames,
u32 n_features, u32 n_mels, u32 n_contrast; i16 pcm[n_samples]; then f64 arrays, frame-major:
features[n_frames][n_features] (13 MFCC, centroid Hz, 12 chroma, 7 contrast dB),
mel[n_frames][n_mels] (mel power), peak[n_frames][n_contrast] and valley[...][n_contrast]
(spectral-contrast band means of |X|, the values whose dB difference is the contrast),
chroma_max[n_frames] (largest chroma class before normalising), mag_sum[n_frames] (Σ_k |X_k|),
frame_l2[n_frames] (‖window·frame‖₂, by Parseval from |X|²). The extra arrays let the tests
bound float32 error frame by frame.

Features are librosa 0.11 on y = pcm / 32768 in float64 (the most exact reference), frames
centred (center=True, zero padding); only the frames a stream can emit are kept (those that
need no padding at the end): n_frames = (n_samples - N_FFT/2) // HOP + 1.
"""

import functools
import pathlib
import struct
import sys

import librosa
import numpy as np

import config as c

MAGIC = b"TGFE"
VERSION = 1


def stream_frames(n_samples):
    """Frames the streaming frontend emits for n_samples samples."""
    if n_samples < c.N_FFT // 2:
        return 0
    return (n_samples - c.N_FFT // 2) // c.HOP + 1


def spectral_floor(power):
    """The model's spectral floor (core/src/level.rs) of each frame of a power spectrogram
    (bins × frames), in float64: FLOOR_RATIO (as the f32 the device uses) times 10^(L/10), L
    an exponential moving average (factor 2^-LEVEL_MEAN_SHIFT, started at the first frame) of
    the frame's mean power per bin in dB."""
    db = 10.0 * np.log10(np.maximum(c.AMIN, power.mean(axis=0)))
    alpha = 2.0 ** -c.LEVEL_MEAN_SHIFT
    level = np.empty_like(db)
    for t, x in enumerate(db):
        level[t] = x if t == 0 else level[t - 1] + (x - level[t - 1]) * alpha
    return 10.0 ** (level / 10.0) * float(np.float32(c.FLOOR_RATIO))


def features(pcm, model_floor=False):
    """librosa's features of i16 `pcm` (frames as rows) plus the error-bound helpers.

    With `model_floor`, the features the model reads (genre-core's Frontend::for_model):
    librosa's features of the spectrum with the model's spectral floor added, a power `F` per
    bin for the mel bands and chroma (which read power) and `√F` per bin for the centroid and
    contrast (which read magnitudes). The helpers are then of that spectrum too.
    """
    assert pcm.dtype == np.int16
    y = pcm.astype(np.float64) / 32768.0
    sr, n_fft, hop = c.SAMPLE_RATE_HZ, c.N_FFT, c.HOP
    common = dict(n_fft=n_fft, hop_length=hop, window="hann", center=True, pad_mode="constant")

    mag = np.abs(librosa.stft(y, **common))
    power = mag**2
    energy = (power[0] + power[-1] + 2.0 * power[1:-1].sum(axis=0)) / n_fft
    if model_floor:
        floor = spectral_floor(power)
        power, mag = power + floor, mag + np.sqrt(floor)

    mel = librosa.feature.melspectrogram(
        S=power, sr=sr, n_mels=c.N_MELS, fmin=0.0, fmax=sr / 2, htk=False, norm="slaney",
        n_fft=n_fft,
    )
    mfcc = librosa.feature.mfcc(S=librosa.power_to_db(mel, top_db=None), n_mfcc=c.N_MFCC)
    centroid = librosa.feature.spectral_centroid(S=mag, sr=sr, n_fft=n_fft)
    chroma_args = dict(S=power, sr=sr, tuning=0.0, n_chroma=c.N_CHROMA, n_fft=n_fft)
    chroma = librosa.feature.chroma_stft(norm=np.inf, **chroma_args)
    chroma_raw = librosa.feature.chroma_stft(norm=None, **chroma_args)

    # spectral_contrast with power_to_db unclipped (top_db=None); record its two inputs
    # (peak, then valley) on the way through.
    seen = []
    original = librosa.feature.spectral.power_to_db

    def unclipped(x, **kw):
        seen.append(np.array(x))
        return functools.partial(original, top_db=None)(x, **kw)

    librosa.feature.spectral.power_to_db = unclipped
    try:
        contrast = librosa.feature.spectral_contrast(
            S=mag, sr=sr, n_fft=n_fft, fmin=c.CONTRAST_FMIN_HZ, n_bands=c.N_CONTRAST_BANDS,
            quantile=c.CONTRAST_QUANTILE, linear=False,
        )
    finally:
        librosa.feature.spectral.power_to_db = original
    peak, valley = seen

    n = stream_frames(len(pcm))
    feats = np.concatenate([mfcc, centroid, chroma, contrast], axis=0)
    assert feats.shape[0] == c.N_FEATURES
    return {
        "features": feats.T[:n],
        "mel": mel.T[:n],
        "peak": peak.T[:n],
        "valley": valley.T[:n],
        "chroma_max": chroma_raw.max(axis=0)[:n],
        "mag_sum": mag.sum(axis=0)[:n],
        "frame_l2": np.sqrt(energy)[:n],
    }


def write_golden(path, pcm, f):
    n = f["features"].shape[0]
    with open(path, "wb") as out:
        out.write(MAGIC)
        out.write(struct.pack("<6I", VERSION, len(pcm), n, c.N_FEATURES, c.N_MELS, c.N_CONTRAST))
        out.write(pcm.astype("<i2").tobytes())
        for key in ("features", "mel", "peak", "valley", "chroma_max", "mag_sum", "frame_l2"):
            out.write(np.ascontiguousarray(f[key], dtype="<f8").tobytes())


def clip_pcm16k(path, seconds):
    """First `seconds` of a clip as 16 kHz mono i16 (soundfile + librosa soxr_hq)."""
    import soundfile

    audio, rate = soundfile.read(path, dtype="float64", always_2d=True)
    mono = audio.mean(axis=1)
    y = librosa.resample(mono, orig_sr=rate, target_sr=c.SAMPLE_RATE_HZ, res_type="soxr_hq")
    y = y[: int(seconds * c.SAMPLE_RATE_HZ)]
    return np.clip(np.rint(y * 32768.0), -32768, 32767).astype(np.int16)


def main(argv):
    if len(argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    out_dir, seconds, clips = pathlib.Path(argv[0]), float(argv[1]), argv[2:]
    out_dir.mkdir(parents=True, exist_ok=True)
    for clip in clips:
        pcm = clip_pcm16k(clip, seconds)
        write_golden(out_dir / (pathlib.Path(clip).stem + ".tgfe"), pcm, features(pcm))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
