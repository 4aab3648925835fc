//! The streaming frontend against librosa 0.11 on synthetic signals
//! (goldens: `tests/generators/gen_frontend_goldens.py`).
//!
//! Every frame and feature is compared with a per-frame bound on the float32 error of the
//! frontend (see `tinygenre_tests::frontend_golden::tolerance` for each term's justification):
//! relative rounding of the f32 sums plus the f32 FFT's absolute error, carried through each
//! feature's formula. The absolute FFT term is what bounds dB values of powers far below the
//! frame's energy (near-silent bands, spectral valleys of loud tones).

use genre_core::config::{FeatureFrame, N_MFCC};
use tinygenre_tests::frontend_golden::{
    compare, repo_root, report, run_frontend, run_model_frontend, Golden,
};

const SIGNALS: [&str; 8] = [
    "silence", "sine", "chord", "chirp", "noise", "square", "clicks", "whisper",
];

/// Compares `run` on the PCM of each golden `{prefix}{name}.tgfe` with the golden; prints
/// each one's statistics and returns the violations.
fn violations(prefix: &str, names: &[&str], run: fn(&[i16]) -> Vec<FeatureFrame>) -> Vec<String> {
    let dir = repo_root().join("tests/golden/frontend");
    let mut failures = Vec::new();
    for name in names {
        let label = format!("{prefix}{name}");
        let golden = Golden::read(&dir.join(format!("{label}.tgfe")));
        let (stats, found) = compare(&golden, &run(&golden.pcm));
        eprint!("{}", report(&label, &stats));
        failures.extend(found.into_iter().map(|v| format!("{label}: {v}")));
    }
    failures
}

#[test]
fn frontend_matches_librosa_on_synthetic_signals() {
    let failures = violations("", &SIGNALS, run_frontend);
    assert!(
        failures.is_empty(),
        "frontend differs from librosa:\n{}",
        failures.join("\n")
    );
}

/// Signals whose model features (`model-*.tgfe`) are pinned.
const MODEL_SIGNALS: [&str; 5] = ["chirp", "chord", "noise", "whisper", "fade"];

#[test]
fn model_features_match_librosa_of_the_floored_spectrum() {
    // The model's input (Frontend::for_model) is librosa's features of the spectrum plus the
    // spectral floor, computed in float64 by the generator from librosa's STFT; the same
    // per-frame bounds apply, on the floored intermediates.
    let failures = violations("model-", &MODEL_SIGNALS, run_model_frontend);
    assert!(
        failures.is_empty(),
        "model features differ from librosa's of the floored spectrum:\n{}",
        failures.join("\n")
    );
}

#[test]
fn silence_matches_librosa_to_f32_rounding() {
    // Zero input: every power is exactly 0, so centroid, chroma and contrast are exactly 0 and
    // each MFCC is the DCT of 40 × (-100 dB), the AMIN floor.
    let golden = Golden::read(&repo_root().join("tests/golden/frontend/silence.tgfe"));
    let ours = run_frontend(&golden.pcm);
    assert_eq!(ours.len(), golden.features.len());
    for (frame, want) in ours.iter().zip(&golden.features) {
        for (i, (&x, &w)) in frame.iter().zip(want).enumerate() {
            // MFCC: a 40-term f32 dot product (f32-rounded DCT table) of -100 dB values errs by
            // ≤ (n + 1)·2^-24·Σ|D·dB| ≤ 41·2^-24·100·√40 (rows of D have unit L2 norm).
            // The other features are exactly 0.
            let bound = 41.0 * f64::from(f32::EPSILON) / 2.0 * 100.0 * 40f64.sqrt();
            assert!((f64::from(x) - w).abs() <= bound, "{x} vs {w}");
            if i >= N_MFCC {
                assert_eq!(x, 0.0);
            }
        }
    }
}
