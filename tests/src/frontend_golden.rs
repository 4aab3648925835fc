//! Frontend goldens (`.tgfe`, written by `tests/generators/librosa_features.py`) and the
//! per-frame float32 error bounds the frontend tests compare against.

use std::path::{Path, PathBuf};

use genre_core::config::{
    FeatureFrame, AMIN, CENTROID_OFFSET, CHROMA_OFFSET, CONTRAST_OFFSET, MFCC_OFFSET, N_BINS,
    N_CHROMA, N_FEATURES, N_FFT, N_MELS, N_MFCC, SAMPLE_RATE_HZ,
};
use genre_core::contrast::N_CONTRAST;
use genre_core::Frontend;

/// librosa's features of one signal, and the reference intermediates the error bounds use.
pub struct Golden {
    /// The 16 kHz PCM the features are of.
    pub pcm: Vec<i16>,
    /// librosa's features, frame by frame (the frames a stream emits).
    pub features: Vec<[f64; N_FEATURES]>,
    /// Mel-band powers.
    pub mel: Vec<[f64; N_MELS]>,
    /// Spectral-contrast peak (mean of the largest |X| of each band).
    pub peak: Vec<[f64; N_CONTRAST]>,
    /// Spectral-contrast valley (mean of the smallest |X| of each band).
    pub valley: Vec<[f64; N_CONTRAST]>,
    /// Largest chroma class before normalisation.
    pub chroma_max: Vec<f64>,
    /// `Σ_k |X_k|`.
    pub mag_sum: Vec<f64>,
    /// `‖window · frame‖₂`.
    pub frame_l2: Vec<f64>,
}

struct Reader<'a>(&'a [u8]);

impl Reader<'_> {
    fn take<const N: usize>(&mut self) -> [u8; N] {
        assert!(self.0.len() >= N, "golden file truncated");
        let (head, rest) = self.0.split_at(N);
        self.0 = rest;
        head.try_into().expect("split_at gave N bytes")
    }
    fn u32(&mut self) -> usize {
        u32::from_le_bytes(self.take()) as usize
    }
    fn rows<const M: usize>(&mut self, n: usize) -> Vec<[f64; M]> {
        (0..n)
            .map(|_| core::array::from_fn(|_| f64::from_le_bytes(self.take())))
            .collect()
    }
    fn column(&mut self, n: usize) -> Vec<f64> {
        self.rows::<1>(n).into_iter().map(|[x]| x).collect()
    }
}

impl Golden {
    /// Reads a `.tgfe` file.
    ///
    /// # Panics
    /// If the file is missing, malformed, or for another feature configuration.
    #[must_use]
    pub fn read(path: &Path) -> Self {
        let bytes =
            std::fs::read(path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
        let mut r = Reader(&bytes);
        assert_eq!(
            &r.take::<4>(),
            b"TGFE",
            "{}: not a frontend golden",
            path.display()
        );
        assert_eq!(r.u32(), 1, "golden version");
        let (n_samples, n_frames) = (r.u32(), r.u32());
        assert_eq!(
            (r.u32(), r.u32(), r.u32()),
            (N_FEATURES, N_MELS, N_CONTRAST),
            "{}: golden for another configuration; regenerate it",
            path.display()
        );
        let pcm = (0..n_samples)
            .map(|_| i16::from_le_bytes(r.take()))
            .collect();
        let golden = Self {
            pcm,
            features: r.rows(n_frames),
            mel: r.rows(n_frames),
            peak: r.rows(n_frames),
            valley: r.rows(n_frames),
            chroma_max: r.column(n_frames),
            mag_sum: r.column(n_frames),
            frame_l2: r.column(n_frames),
        };
        assert!(r.0.is_empty(), "{}: trailing bytes", path.display());
        golden
    }
}

/// Runs a fresh [`Frontend`] over all of `pcm` in one push.
#[must_use]
pub fn run_frontend(pcm: &[i16]) -> Vec<FeatureFrame> {
    let mut frames = Vec::new();
    Frontend::new().push(pcm, |f| frames.push(*f));
    frames
}

/// Runs a fresh [`Frontend::for_model`] (the model's input: the spectral floor added) over
/// all of `pcm` in one push.
#[must_use]
pub fn run_model_frontend(pcm: &[i16]) -> Vec<FeatureFrame> {
    let mut frames = Vec::new();
    Frontend::for_model().push(pcm, |f| frames.push(*f));
    frames
}

/// f32 unit roundoff, 2^-24.
pub const EPS: f64 = f32::EPSILON as f64 / 2.0;
/// Per-bin error of the frontend's f32 FFT (genre_core::fft, f32 twiddles), in units of
/// `EPS · log2(N_FFT) · ‖window · frame‖₂`, on top of `8·EPS·|X_k|`: each of the log2 N
/// stages adds rounding error of about `EPS` relative to the signal's L2 norm. Measured
/// against an f64 DFT (tests/frontend_fft.rs) the largest is ≈ 3 (tones), so 4 leaves ~30 %.
pub const FFT_ERR: f64 = 4.0;
/// Relative part of the per-bin error of |X_k| (see [`FFT_ERR`]).
pub const FFT_REL: f64 = 8.0 * EPS;
/// Relative error of an f32 sum of up to 520 positive terms. Its rounding errors are
/// independent and zero-mean, so they add as a random walk: 4σ is 4·√n·EPS (the worst case,
/// (n − 1)·EPS, needs every rounding to go the same way).
const SUM_REL: f64 = 4.0 * 22.9 * EPS;
/// Slaney mel weights of one band sum to about 1 / (bin width in Hz) (each filter has unit
/// area over Hz); 10 % headroom for the sampling of the triangle.
const MEL_ROW_SUM: f64 = 1.1 * N_FFT as f64 / SAMPLE_RATE_HZ as f64;
/// Chroma weights dropped from the sparse table (< 1e-9 of their bin's largest) shift a
/// max-normalised class by at most N_CHROMA · 1e-9.
const CHROMA_DROPPED: f64 = N_CHROMA as f64 * 1e-9;

/// Absolute part of the per-bin error of the f32 |X_k| for a windowed frame of L2 norm `l2`.
#[must_use]
pub fn fft_abs_err(l2: f64) -> f64 {
    FFT_ERR * EPS * (N_FFT as f64).log2() * l2
}

/// Largest dB change of `10·log10(max(x, AMIN))` when `x` moves by up to `delta`.
fn db_err(x: f64, delta: f64) -> f64 {
    let amin = f64::from(AMIN);
    let at = |v: f64| v.max(amin);
    let up = 10.0 * (at(x + delta) / at(x)).log10();
    let down = 10.0 * (at(x) / at(x - delta)).log10();
    up.max(down)
}

/// Orthonormal DCT-II coefficient (row `j`, column `i`) for `N_MELS` inputs.
fn dct(j: usize, i: usize) -> f64 {
    let n = N_MELS as f64;
    let scale = if j == 0 {
        (1.0 / n).sqrt()
    } else {
        (2.0 / n).sqrt()
    };
    scale * (std::f64::consts::PI * j as f64 * (2.0 * i as f64 + 1.0) / (2.0 * n)).cos()
}

/// Error bound of every feature of frame `t` of `g`, from float32 rounding in the frontend.
#[must_use]
pub fn tolerance(g: &Golden, t: usize) -> [f64; N_FEATURES] {
    let mut tol = [0.0; N_FEATURES];
    // Absolute error of each |X_k|, and of each power |X_k|² (relative part aside).
    let dx = fft_abs_err(g.frame_l2[t]);

    // MFCC: dB error of each mel band, through the DCT; plus rounding of log10 and the DCT.
    let db: Vec<f64> = g.mel[t]
        .iter()
        .map(|&m| 10.0 * m.max(f64::from(AMIN)).log10())
        .collect();
    let band_err: Vec<f64> = g.mel[t]
        .iter()
        .map(|&m| {
            let abs = 2.0 * dx * (MEL_ROW_SUM * m).sqrt() + MEL_ROW_SUM * dx * dx;
            db_err(m, abs + SUM_REL * m)
        })
        .collect();
    for j in 0..N_MFCC {
        let mut propagated = 0.0;
        let mut rounding = 0.0;
        for i in 0..N_MELS {
            propagated += dct(j, i).abs() * band_err[i];
            rounding += dct(j, i).abs() * db[i].abs();
        }
        // log10f (≤ 2 ulp) plus a 40-term f32 dot product: ≤ 48·EPS of Σ|D||dB|.
        tol[MFCC_OFFSET + j] = propagated + 48.0 * EPS * rounding;
    }

    // Centroid: the per-bin errors δ_k of |X_k| (independent, |δ_k| ≤ dx) move Σ|X|
    // and Σ f·|X| by at most √N_BINS·dx (a random walk) plus their relative rounding, so the
    // centroid by at most (f_max + centroid)·that / Σ|X|; plus the rounding of both f32 sums.
    let centroid = g.features[t][CENTROID_OFFSET];
    if g.mag_sum[t] > 0.0 {
        let f_max = f64::from(SAMPLE_RATE_HZ) / 2.0;
        let moved = (N_BINS as f64).sqrt() * dx + SUM_REL * g.mag_sum[t];
        tol[CENTROID_OFFSET] = (f_max + centroid) * moved / g.mag_sum[t] + 2.0 * SUM_REL * centroid;
    }

    // Chroma: each class moves by Σ_k w_k·δP_k, δP_k ≈ 2|X_k|·δ_k with independent δ_k: a
    // random walk of at most 2·dx·√(Σ_k P_k) ≤ 2·dx·√N_FFT·‖w·x‖₂ (weights ≤ 1, Parseval),
    // plus N_BINS·dx² and its relative sum rounding; normalising by the (equally perturbed)
    // max doubles it.
    if g.chroma_max[t] > 0.0 {
        let raw = 2.0 * dx * (N_FFT as f64).sqrt() * g.frame_l2[t] + N_BINS as f64 * dx * dx;
        let rel = 2.0 * (raw / g.chroma_max[t] + SUM_REL) + CHROMA_DROPPED;
        tol[CHROMA_OFFSET..CHROMA_OFFSET + N_CHROMA].fill(rel);
    }

    // Contrast: a mean of the q smallest (largest) values moves by at most the largest
    // per-bin move, dx + a few EPS relative (sqrt, mean); the dB of both, plus log10f rounding.
    for b in 0..N_CONTRAST {
        let (p, v) = (g.peak[t][b], g.valley[t][b]);
        let contrast = g.features[t][CONTRAST_OFFSET + b];
        tol[CONTRAST_OFFSET + b] = db_err(p, dx + FFT_REL * p)
            + db_err(v, dx + FFT_REL * v)
            + 8.0
                * EPS
                * (contrast.abs() + 2.0 * 10.0 * p.max(v).max(f64::from(AMIN)).log10().abs());
    }
    tol
}

/// Feature groups reported separately.
pub const GROUPS: [(&str, usize, usize); 4] = [
    ("mfcc", MFCC_OFFSET, N_MFCC),
    ("centroid", CENTROID_OFFSET, 1),
    ("chroma", CHROMA_OFFSET, N_CHROMA),
    ("contrast", CONTRAST_OFFSET, N_CONTRAST),
];

/// Per feature group: the largest absolute error and the largest error / tolerance seen.
#[derive(Clone, Copy, Default, Debug)]
pub struct GroupStats {
    /// Largest |ours − librosa|.
    pub max_abs: f64,
    /// Largest |ours − librosa| / tolerance (≤ 1 passes).
    pub max_ratio: f64,
    /// Largest tolerance applied.
    pub max_tol: f64,
}

/// Compares `ours` with golden `g` frame by frame; returns per-group statistics and a list of
/// the violations (as readable lines, the first few only).
#[must_use]
pub fn compare(g: &Golden, ours: &[FeatureFrame]) -> ([GroupStats; 4], Vec<String>) {
    let mut stats = [GroupStats::default(); 4];
    let mut violations = Vec::new();
    if ours.len() != g.features.len() {
        violations.push(format!(
            "{} frames, librosa has {}",
            ours.len(),
            g.features.len()
        ));
        return (stats, violations);
    }
    for (t, frame) in ours.iter().enumerate() {
        let tol = tolerance(g, t);
        for (s, &(name, offset, len)) in stats.iter_mut().zip(GROUPS.iter()) {
            for i in offset..offset + len {
                let (x, want) = (f64::from(frame[i]), g.features[t][i]);
                let err = (x - want).abs();
                let ratio = if err == 0.0 { 0.0 } else { err / tol[i] };
                s.max_abs = s.max_abs.max(err);
                s.max_ratio = s.max_ratio.max(ratio);
                s.max_tol = s.max_tol.max(tol[i]);
                if (ratio > 1.0 || ratio.is_nan()) && violations.len() < 10 {
                    violations.push(format!(
                        "frame {t} {name}[{}]: ours {x} librosa {want} |err| {err:.3e} > tol {:.3e}",
                        i - offset,
                        tol[i]
                    ));
                }
            }
        }
    }
    (stats, violations)
}

/// Formats group statistics as one line per group.
#[must_use]
pub fn report(label: &str, stats: &[GroupStats; 4]) -> String {
    let mut out = String::new();
    for (s, (name, _, _)) in stats.iter().zip(GROUPS.iter()) {
        out += &format!(
            "{label:>12} {name:>8}: max |err| {:.3e}  max tol {:.3e}  max err/tol {:.3}\n",
            s.max_abs, s.max_tol, s.max_ratio
        );
    }
    out
}

/// Repository root (the parent of this crate).
#[must_use]
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ has a parent")
        .to_path_buf()
}

/// The Python with librosa: `$TINYGENRE_PYTHON`, else `~/.cache/tinygenre/venv/bin/python`.
#[must_use]
pub fn python() -> PathBuf {
    if let Some(p) = std::env::var_os("TINYGENRE_PYTHON") {
        return PathBuf::from(p);
    }
    let home = std::env::var_os("HOME").unwrap_or_default();
    Path::new(&home).join(".cache/tinygenre/venv/bin/python")
}

/// The GTZAN folder: `$GTZAN_DIR`, else `../shared/gtzan` relative to the repository root.
#[must_use]
pub fn gtzan_dir() -> PathBuf {
    std::env::var_os("GTZAN_DIR").map_or_else(|| repo_root().join("../shared/gtzan"), PathBuf::from)
}

/// The GTZAN folder ([`gtzan_dir`]) when it holds `genres/`; otherwise [`missing`]: `None`
/// (the caller skips), or a panic under `CI=true`.
#[must_use]
pub fn gtzan_or_skip() -> Option<PathBuf> {
    let dir = gtzan_dir();
    if dir.join("genres").is_dir() {
        return Some(dir);
    }
    missing(&format!("no GTZAN at {} (set GTZAN_DIR)", dir.display()));
    None
}

/// For a missing external resource: panics under `CI=true`, otherwise prints why the test is
/// skipped and returns (the caller then returns).
///
/// # Panics
/// When `CI=true`.
pub fn missing(what: &str) {
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("{what} (required when CI=true)");
    }
    eprintln!("skipping: {what}");
}
