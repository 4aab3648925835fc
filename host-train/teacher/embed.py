"""Teacher embeddings for `host-train` (training time only; never in `tinygenre`, the firmware
or the tests): musicnn's MSD model (PyPI `musicnn==0.1.0`, ISC licence, weights inside the
package), its 200-value penultimate layer on 3 s patches aligned with the student's windows.

Reads audio paths (one per line, optionally `KEY<TAB>PATH` with KEY the file's FNV-1a 64 in
16 hex digits, as `host-train` gives it) on stdin and writes, per file, `<out>/<KEY>.tgt`:
    b"TGT1", u32 patches, u32 stride (student frames), u32 dim, then patches × dim f32,
all little-endian. Patch p starts at student frame p × stride (hop 512 at 16 kHz), which is
musicnn's mel frame 2 × p × stride (hop 256); each patch is 187 mel frames (3 s), the length
musicnn was trained on. Input shorter than one student window is tiled first, as
`host-train` tiles it (to `--min-samples`).

The graph is built once and every patch runs through it (`musicnn.extractor.extractor()`
repeats the first patch's penultimate vector for every patch and rebuilds the graph per call).
Each clip's RMS is normalised to -17 dBFS first: musicnn's log-mel input depends on the level.
"""

import argparse
import os
import pathlib
import struct
import sys

import numpy as np

# The frame configuration has one home, core/src/config.rs; the golden generators' parser of
# it serves here too.
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[2] / "tests" / "generators"))
import config as frames  # noqa: E402

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
import librosa  # noqa: E402
import tensorflow as tf  # noqa: E402
from musicnn import configuration as mconf  # noqa: E402
from musicnn import models  # noqa: E402

SR = frames.SAMPLE_RATE_HZ
PATCH_MEL_FRAMES = 187
STUDENT_HOP = frames.HOP
WINDOW_FRAMES = frames.WINDOW_FRAMES
TARGET_RMS_DBFS = -17.0


def fnv1a64(data: bytes) -> int:
    h = 0xCBF29CE484222325
    for b in data:
        h = ((h ^ b) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return h


def log_mel(audio: np.ndarray) -> np.ndarray:
    """musicnn's input representation: log10(1 + 10^4 · mel power), time-major."""
    mel = librosa.feature.melspectrogram(
        y=audio, sr=SR, hop_length=mconf.FFT_HOP, n_fft=mconf.FFT_SIZE, n_mels=mconf.N_MELS
    ).T
    return np.log10(10000 * mel.astype(np.float16) + 1).astype(np.float32)


def patches(audio: np.ndarray, stride: int, min_samples: int) -> np.ndarray:
    if len(audio) < min_samples:
        audio = np.tile(audio, -(-min_samples // max(len(audio), 1)))[:min_samples]
    rms = float(np.sqrt(np.mean(audio.astype(np.float64) ** 2)))
    if rms > 0:
        audio = audio * (10 ** (TARGET_RMS_DBFS / 20) / rms)
    rep = log_mel(audio)
    student_frames = len(audio) // STUDENT_HOP + 1
    starts = list(range(0, max(student_frames - WINDOW_FRAMES, 0) + 1, stride))
    out = []
    for s in starts:
        m = 2 * s
        if m + PATCH_MEL_FRAMES > rep.shape[0]:
            m = max(rep.shape[0] - PATCH_MEL_FRAMES, 0)
        patch = rep[m : m + PATCH_MEL_FRAMES]
        if patch.shape[0] < PATCH_MEL_FRAMES:
            patch = np.pad(patch, ((0, PATCH_MEL_FRAMES - patch.shape[0]), (0, 0)))
        out.append(patch)
    return np.stack(out)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", required=True, help="cache folder for the .tgt files")
    ap.add_argument("--stride", type=int, default=16, help="patch stride, student frames")
    ap.add_argument("--min-samples", type=int, required=True, help="tile shorter input to this")
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)

    tf.compat.v1.disable_eager_execution()
    with tf.name_scope("model"):
        x = tf.compat.v1.placeholder(tf.float32, [None, PATCH_MEL_FRAMES, mconf.N_MELS])
        is_training = tf.compat.v1.placeholder(tf.bool)
        out = models.define_model(x, is_training, "MSD_musicnn", len(mconf.MSD_LABELS))
        penultimate = out[8]
    sess = tf.compat.v1.Session()
    sess.run(tf.compat.v1.global_variables_initializer())
    ckpt = os.path.join(os.path.dirname(models.__file__), "MSD_musicnn") + "/"
    tf.compat.v1.train.Saver().restore(sess, ckpt)

    lines = [line.rstrip("\n") for line in sys.stdin if line.strip()]
    for i, line in enumerate(lines):
        key, _, path = line.rpartition("\t")
        if not key:
            with open(path, "rb") as f:
                key = f"{fnv1a64(f.read()):016x}"
        target = os.path.join(args.out, f"{key}.tgt")
        if os.path.exists(target):
            continue
        audio, _ = librosa.load(path, sr=SR, mono=True)
        batch = patches(audio, args.stride, args.min_samples)
        emb = np.concatenate(
            [
                sess.run(penultimate, {x: batch[k : k + 64], is_training: False})
                for k in range(0, len(batch), 64)
            ]
        ).astype("<f4")
        tmp = target + ".tmp"
        with open(tmp, "wb") as f:
            f.write(b"TGT1" + struct.pack("<III", emb.shape[0], args.stride, emb.shape[1]))
            f.write(emb.tobytes())
        os.replace(tmp, target)
        print(f"teacher {i + 1}/{len(lines)} {path}: {emb.shape[0]} patches", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
