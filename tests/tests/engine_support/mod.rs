//! Shared by the `engine_*` tests: the libtorch goldens in `tests/golden/lstm/`, a seeded
//! generator for long synthetic sequences, and calibration + export of a float model.
#![allow(dead_code)] // each test file uses a different subset

use genre_core::config::{FeatureFrame, HIDDEN, N_FEATURES, N_GENRES};
use genre_core::lstm::{FloatEngine, FloatModel, TorchParams, GATES};
use genre_core::quant::{prepare, Calibration};
use std::path::PathBuf;

/// Sequences, steps and traced steps in the golden files (see the generator).
pub const SEQS: usize = 3;
pub const STEPS: usize = 240;
pub const TRACE_STEPS: usize = 16;
/// Genre labels used for test blobs.
pub use genre_core::config::GENRES as LABELS;

pub fn golden_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("golden/lstm")
}

/// A golden file as little-endian f32, checked to hold `len` values.
pub fn read_f32(name: &str, len: usize) -> Vec<f32> {
    let path = golden_dir().join(name);
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert_eq!(
        bytes.len(),
        4 * len,
        "{name}: size does not match the configuration"
    );
    bytes
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect()
}

/// The golden model (weights.f32: mean, std, per layer w_ih, w_hh, b_ih, b_hh, head w, b).
pub fn golden_model() -> Box<FloatModel> {
    let sizes = [
        N_FEATURES,
        N_FEATURES,
        GATES * N_FEATURES,
        GATES * HIDDEN,
        GATES,
        GATES,
        GATES * HIDDEN,
        GATES * HIDDEN,
        GATES,
        GATES,
        N_GENRES * HIDDEN,
        N_GENRES,
    ];
    let all = read_f32("weights.f32", sizes.iter().sum());
    let mut parts = Vec::new();
    let mut rest = &all[..];
    for s in sizes {
        let (a, b) = rest.split_at(s);
        parts.push(a);
        rest = b;
    }
    let mut m = Box::new(FloatModel::ZERO);
    m.fill_from(&TorchParams {
        norm_mean: parts[0],
        norm_std: parts[1],
        w_ih: [parts[2], parts[6]],
        w_hh: [parts[3], parts[7]],
        b_ih: [parts[4], parts[8]],
        b_hh: [parts[5], parts[9]],
        head_w: parts[10],
        head_b: parts[11],
    })
    .expect("golden weights fit the configuration");
    m
}

/// The golden feature sequences, `[SEQS][STEPS]`.
pub fn golden_inputs() -> Vec<Vec<FeatureFrame>> {
    let all = read_f32("inputs.f32", SEQS * STEPS * N_FEATURES);
    all.chunks_exact(STEPS * N_FEATURES)
        .map(|s| {
            s.chunks_exact(N_FEATURES)
                .map(|f| f.try_into().expect("frame"))
                .collect()
        })
        .collect()
}

/// Deterministic pseudo-random numbers (64-bit LCG).
pub struct Lcg(pub u64);

impl Lcg {
    /// Uniform in [0, 1).
    pub fn uniform(&mut self) -> f64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Standard normal (Box–Muller).
    pub fn normal(&mut self) -> f64 {
        let u = self.uniform().max(1e-300);
        let v = self.uniform();
        (-2.0 * u.ln()).sqrt() * (2.0 * std::f64::consts::PI * v).cos()
    }
}

/// A long feature sequence shaped like the golden ones (mean + std · (AR(1) + noise)), for
/// `m`'s normalisation.
pub fn synthetic_sequence(m: &FloatModel, seed: u64, steps: usize) -> Vec<FeatureFrame> {
    let mut rng = Lcg(seed);
    let mut z = [0.0f64; N_FEATURES];
    (0..steps)
        .map(|_| {
            core::array::from_fn(|j| {
                z[j] = 0.9 * z[j] + 0.45 * rng.normal();
                let v = z[j] + 0.3 * rng.normal();
                m.norm_mean[j] + m.norm_std[j] * v as f32
            })
        })
        .collect()
}

/// Calibrates on `seqs` (engine reset per sequence) and exports a blob.
pub fn calibrated_blob(m: &FloatModel, seqs: &[Vec<FeatureFrame>]) -> Vec<u8> {
    let mut cal = Calibration::new();
    for s in seqs {
        let mut e = FloatEngine::new();
        for f in s {
            e.step(m, f);
            cal.observe(&e);
        }
    }
    prepare(m, &cal, &LABELS).expect("prepare")
}
