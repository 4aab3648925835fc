"""The frontend configuration, read from core/src/config.rs (the single source of truth).

Only lines of the form `pub const NAME: type = literal;` are parsed; values written as
expressions there (N_BINS, offsets, ...) are derived here in Python.
"""

import pathlib
import re

ROOT = pathlib.Path(__file__).resolve().parents[2]
CONFIG_RS = ROOT / "core" / "src" / "config.rs"

_CONST = re.compile(r"^pub const (\w+): (\w+) = ([^;]+);\s*$")


def _parse(path=CONFIG_RS):
    values = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        m = _CONST.match(line.strip())
        if not m:
            continue
        name, ty, lit = m.group(1), m.group(2), m.group(3).strip().replace("_", "")
        try:
            if ty in ("f32", "f64"):
                values[name] = float(lit)
            elif ty in ("u8", "u16", "u32", "u64", "usize", "i32", "i64"):
                values[name] = int(lit, 0)
        except ValueError:
            pass  # an expression: derived below
    return values


_V = _parse()
SAMPLE_RATE_HZ = _V["SAMPLE_RATE_HZ"]
N_FFT = _V["N_FFT"]
HOP = _V["HOP"]
N_MELS = _V["N_MELS"]
N_MFCC = _V["N_MFCC"]
N_CHROMA = _V["N_CHROMA"]
CONTRAST_FMIN_HZ = _V["CONTRAST_FMIN_HZ"]
N_CONTRAST_BANDS = _V["N_CONTRAST_BANDS"]
CONTRAST_QUANTILE = _V["CONTRAST_QUANTILE"]
AMIN = _V["AMIN"]

N_BINS = N_FFT // 2 + 1
N_CONTRAST = N_CONTRAST_BANDS + 1
N_FEATURES = N_MFCC + 1 + N_CHROMA + N_CONTRAST
MFCC_OFFSET = 0
CENTROID_OFFSET = N_MFCC
CHROMA_OFFSET = CENTROID_OFFSET + 1
CONTRAST_OFFSET = CHROMA_OFFSET + N_CHROMA

# The model's shape and its window rule (used by the integer-engine reference).
WINDOW_FRAMES = _V["WINDOW_FRAMES"]
POOL_FROM = _V["POOL_FROM"]
N_LAYERS = _V["N_LAYERS"]
HIDDEN = _V["HIDDEN"]
N_GENRES = _V["N_GENRES"]
RUNNING_WINDOWS = _V["RUNNING_WINDOWS"]
SWITCH_MARGIN_Q16 = _V["SWITCH_MARGIN_Q16"]
NO_MUSIC_BELOW_Q16 = _V["NO_MUSIC_BELOW_Q16"]
SILENCE_C0 = _V["SILENCE_C0"]
NO_MUSIC_RESET_WINDOWS = _V["NO_MUSIC_RESET_WINDOWS"]
LEVEL_MEAN_SHIFT = _V["LEVEL_MEAN_SHIFT"]
CEPSTRAL_MEAN_SHIFT = _V["CEPSTRAL_MEAN_SHIFT"]
FLOOR_RATIO = _V["FLOOR_RATIO"]
