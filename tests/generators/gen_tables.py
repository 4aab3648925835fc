"""Writes core/src/tables.rs: the frontend's constant tables, computed by librosa/scipy.

Usage: python tests/generators/gen_tables.py [--check]
  --check  exit 1 (and write nothing) if core/src/tables.rs differs from what would be written.

Tables (all f32, sized by core/src/config.rs, read through config.py):
  WINDOW_HALF      periodic Hann (scipy get_window('hann', N_FFT, fftbins=True)), samples
                   0..=N_FFT/2; the rest mirror them (w[n] = w[N_FFT - n]).
  MEL_*            librosa.filters.mel (Slaney scale and area norm, 0 Hz..Nyquist), stored
                   sparse: each band's first bin, its bin count, and its non-zero weights.
  DCT_HALF         the first N_MFCC rows of the orthonormal DCT-II (scipy.fftpack.dct), their
                   first N_MELS/2 columns: row j's column N_MELS-1-i is (-1)^j times column i
                   (checked here exactly, in f32), so the frontend folds its input instead.
  CHROMA_*         librosa.filters.chroma (tuning 0), stored sparse per pitch class: the
                   class's runs of consecutive FFT bins (first bin, length) and their weights,
                   class after class, so each class is a few dot products. Weights below
                   CHROMA_DROP x their bin's largest weight are dropped: they change a
                   max-normalised chroma by at most N_CHROMA x CHROMA_DROP (< f32 epsilon).
  CONTRAST_*       librosa.feature.spectral_contrast's band bins (its band-edge rules) and
                   the number of bins averaged for each band's peak and valley.
"""

import sys

import librosa
import numpy as np
import scipy.fftpack
import scipy.signal

import config as c

OUT = c.ROOT / "core" / "src" / "tables.rs"
CHROMA_DROP = 1e-9


def f32_lit(v):
    return np.format_float_scientific(np.float32(v), unique=True, trim="-")


def f32_pos(v):
    return np.format_float_positional(np.float32(v), unique=True, trim="0")


def array(name, ty, values, per_line=6, doc=""):
    lits = [f32_lit(v) if ty == "f32" else str(int(v)) for v in values]
    lines = [f"/// {doc}"] if doc else []
    lines.append(f"pub static {name}: [{ty}; {len(lits)}] = [")
    for i in range(0, len(lits), per_line):
        lines.append("    " + ", ".join(lits[i : i + per_line]) + ",")
    lines.append("];")
    return "\n".join(lines)


def window_half():
    w = scipy.signal.get_window("hann", c.N_FFT, fftbins=True)
    w32 = w.astype(np.float32)
    assert np.array_equal(w32[1:], w32[1:][::-1]), "f32 periodic Hann is symmetric"
    return w[: c.N_FFT // 2 + 1]


def mel_sparse():
    fb = librosa.filters.mel(
        sr=c.SAMPLE_RATE_HZ, n_fft=c.N_FFT, n_mels=c.N_MELS, fmin=0.0,
        fmax=c.SAMPLE_RATE_HZ / 2, htk=False, norm="slaney", dtype=np.float32,
    )
    starts, lens, weights = [], [], []
    for row in fb:
        nz = np.flatnonzero(row)
        lo, hi = nz[0], nz[-1] + 1
        starts.append(lo)
        lens.append(hi - lo)
        weights.extend(row[lo:hi])
    return starts, lens, weights


def dct_half_rows():
    d = scipy.fftpack.dct(np.eye(c.N_MELS), type=2, norm="ortho", axis=0)[: c.N_MFCC]
    d = d.astype(np.float32)
    assert c.N_MELS % 2 == 0
    half = c.N_MELS // 2
    for j in range(c.N_MFCC):
        mirrored = d[j, ::-1][:half] * (1 if j % 2 == 0 else -1)
        assert np.array_equal(d[j, :half], mirrored), f"DCT row {j} is not (anti)symmetric in f32"
    return d[:, :half].ravel()


def chroma_sparse():
    fb = librosa.filters.chroma(
        sr=c.SAMPLE_RATE_HZ, n_fft=c.N_FFT, tuning=0.0, n_chroma=c.N_CHROMA, dtype=np.float32
    )
    assert fb.shape == (c.N_CHROMA, c.N_BINS)
    keep = fb >= CHROMA_DROP * fb.max(axis=0, keepdims=True)
    class_runs, run_start, run_len, weights = [], [], [], []
    for p in range(c.N_CHROMA):
        bins = np.flatnonzero(keep[p])
        # maximal runs of consecutive kept bins, in ascending bin order
        splits = np.flatnonzero(np.diff(bins) != 1) + 1
        runs = np.split(bins, splits)
        class_runs.append(len(runs))
        for run in runs:
            run_start.append(run[0])
            run_len.append(len(run))
            weights.extend(fb[p, run])
    return class_runs, run_start, run_len, weights


def contrast_bands():
    """librosa.feature.spectral_contrast's band selection, line for line (librosa 0.11)."""
    freq = librosa.fft_frequencies(sr=c.SAMPLE_RATE_HZ, n_fft=c.N_FFT)
    n_bands = c.N_CONTRAST_BANDS
    octa = np.zeros(n_bands + 2)
    octa[1:] = c.CONTRAST_FMIN_HZ * (2.0 ** np.arange(0, n_bands + 1))
    starts, lens, qs = [], [], []
    for k, (f_low, f_high) in enumerate(zip(octa[:-1], octa[1:])):
        current_band = np.logical_and(freq >= f_low, freq <= f_high)
        idx = np.flatnonzero(current_band)
        if k > 0:
            current_band[idx[0] - 1] = True
        if k == n_bands:
            current_band[idx[-1] + 1 :] = True
        bins = np.flatnonzero(current_band)
        q = int(np.maximum(np.rint(c.CONTRAST_QUANTILE * np.sum(current_band)), 1))
        if k < n_bands:
            bins = bins[:-1]
        assert np.all(np.diff(bins) == 1)
        starts.append(bins[0])
        lens.append(len(bins))
        qs.append(q)
    return starts, lens, qs


def render():
    ms, ml, mw = mel_sparse()
    cr, crs, crl, cw = chroma_sparse()
    bs, bl, bq = contrast_bands()
    parts = [
        "// @generated by tests/generators/gen_tables.py — do not edit",
        f"// librosa {librosa.__version__}, scipy {scipy.__version__}, numpy {np.__version__}",
        "//! Constant tables of the frontend (window, mel and chroma filterbanks, DCT, contrast",
        "//! bands), computed by librosa/scipy for the configuration in [`crate::config`].",
        "",
        "/// Configuration these tables were generated for (checked against `config` at compile time).",
        f"pub const GEN_SAMPLE_RATE_HZ: u32 = {c.SAMPLE_RATE_HZ};",
        "/// See [`GEN_SAMPLE_RATE_HZ`].",
        f"pub const GEN_N_FFT: usize = {c.N_FFT};",
        "/// See [`GEN_SAMPLE_RATE_HZ`].",
        f"pub const GEN_N_MELS: usize = {c.N_MELS};",
        "/// See [`GEN_SAMPLE_RATE_HZ`].",
        f"pub const GEN_N_MFCC: usize = {c.N_MFCC};",
        "/// See [`GEN_SAMPLE_RATE_HZ`].",
        f"pub const GEN_N_CHROMA: usize = {c.N_CHROMA};",
        "/// See [`GEN_SAMPLE_RATE_HZ`].",
        f"pub const GEN_CONTRAST_FMIN_HZ: f32 = {f32_pos(c.CONTRAST_FMIN_HZ)};",
        "/// See [`GEN_SAMPLE_RATE_HZ`].",
        f"pub const GEN_N_CONTRAST_BANDS: usize = {c.N_CONTRAST_BANDS};",
        "/// See [`GEN_SAMPLE_RATE_HZ`].",
        f"pub const GEN_CONTRAST_QUANTILE: f32 = {f32_pos(c.CONTRAST_QUANTILE)};",
        "",
        array("WINDOW_HALF", "f32", window_half(),
              doc="Periodic Hann window, samples `0..=N_FFT/2` (the rest mirror: `w[n] = w[N_FFT - n]`)."),
        "",
        array("MEL_START", "u16", ms, per_line=12, doc="First FFT bin of each mel band."),
        "",
        array("MEL_LEN", "u16", ml, per_line=12, doc="Number of FFT bins (weights) of each mel band."),
        "",
        array("MEL_WEIGHTS", "f32", mw,
              doc="Non-zero Slaney mel weights, band after band (`MEL_LEN[b]` each)."),
        "",
        array("DCT_HALF", "f32", dct_half_rows(),
              doc="Orthonormal DCT-II, first `N_MFCC` rows, columns `0..N_MELS/2` (row-major); "
                  "row `j`'s column `N_MELS-1-i` is `(-1)^j` times column `i`."),
        "",
        array("CHROMA_CLASS_RUNS", "u8", cr, per_line=12,
              doc="Number of runs of consecutive FFT bins each pitch class sums."),
        "",
        array("CHROMA_RUN_START", "u16", crs, per_line=12,
              doc="First FFT bin of each chroma run, class after class (`CHROMA_CLASS_RUNS`)."),
        "",
        array("CHROMA_RUN_LEN", "u16", crl, per_line=12,
              doc="Number of FFT bins of each chroma run."),
        "",
        array("CHROMA_WEIGHTS", "f32", cw,
              doc="Chroma filterbank weights, run after run (`CHROMA_RUN_LEN[r]` each)."),
        "",
        array("CONTRAST_START", "u16", bs, per_line=12,
              doc="First FFT bin of each spectral-contrast band."),
        "",
        array("CONTRAST_LEN", "u16", bl, per_line=12,
              doc="Number of FFT bins of each spectral-contrast band."),
        "",
        array("CONTRAST_Q", "u8", bq, per_line=12,
              doc="Bins averaged for each band's peak and valley (librosa's `idx`)."),
        "",
        "/// Largest entry of [`CONTRAST_Q`]: the size of the partial selection buffers.",
        f"pub const CONTRAST_MAX_Q: usize = {max(bq)};",
        "",
    ]
    return "\n".join(parts)


def main():
    text = render()
    if "--check" in sys.argv[1:]:
        if OUT.read_text(encoding="utf-8") != text:
            print(f"{OUT} is out of date: run python tests/generators/gen_tables.py", file=sys.stderr)
            sys.exit(1)
        print(f"{OUT} is up to date")
        return
    OUT.write_text(text, encoding="utf-8")
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
