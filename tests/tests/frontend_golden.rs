//! The streaming frontend against librosa 0.11 on synthetic signals
//! (goldens: `tests/generators/gen_frontend_goldens.py`).
//!
//! Every frame and feature is compared with a per-frame bound on the float32 error of the
//! frontend (see `tinygenre_tests::frontend_golden::tolerance` for each term's justification):
//! relative rounding of the f32 sums plus the f32 FFT's absolute error, carried through each
//! feature's formula. The absolute FFT term is what bounds dB values of powers far below the
//! frame's energy (near-silent bands, spectral valleys of loud tones).

use tinygenre_tests::frontend_golden::{compare, repo_root, report, run_frontend, Golden};

const SIGNALS: [&str; 8] = [
    "silence", "sine", "chord", "chirp", "noise", "square", "clicks", "whisper",
];

#[test]
fn frontend_matches_librosa_on_synthetic_signals() {
    let dir = repo_root().join("tests/golden/frontend");
    let mut failures = Vec::new();
    for name in SIGNALS {
        let golden = Golden::read(&dir.join(format!("{name}.tgfe")));
        let ours = run_frontend(&golden.pcm);
        let (stats, violations) = compare(&golden, &ours);
        eprint!("{}", report(name, &stats));
        failures.extend(violations.into_iter().map(|v| format!("{name}: {v}")));
    }
    assert!(
        failures.is_empty(),
        "frontend differs from librosa:\n{}",
        failures.join("\n")
    );
}

#[test]
fn silence_is_exact() {
    // Zero input: every power is exactly 0, so librosa's values are reproduced exactly
    // (MFCC of AMIN everywhere, centroid 0, chroma 0, contrast 0).
    let golden = Golden::read(&repo_root().join("tests/golden/frontend/silence.tgfe"));
    let ours = run_frontend(&golden.pcm);
    assert_eq!(ours.len(), golden.features.len());
    for (frame, want) in ours.iter().zip(&golden.features) {
        for (&x, &w) in frame.iter().zip(want) {
            // Only the f32 rounding of librosa's f64 value (DCT of -100 dB) may differ.
            assert!(
                (f64::from(x) - w).abs() <= 1e-4 * w.abs().max(1.0),
                "{x} vs {w}"
            );
        }
    }
}
