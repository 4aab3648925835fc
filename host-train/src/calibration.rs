//! Calibrated confidence (issue #21): one temperature `T` for the logits, fitted on held-out
//! cross-validation windows by least negative log-likelihood, and the expected calibration
//! error (ECE) before and after. The shipped model carries `T` folded into its head
//! ([`crate::export::export`] divides the head's weights and bias by it), so every
//! probability the device and `tinygenre` show (window, running decision, file) is the
//! softmax of calibrated logits. Dividing by `T > 0` keeps every logit's sign, so the
//! no-music rule (largest logit below 0, after export's shift) is unchanged.

use genre_core::config::N_GENRES;
use genre_core::lstm::softmax;
use serde::Serialize;

/// Confidence bins of the reliability plot and the ECE.
pub const BINS: usize = 10;

/// One held-out window: its fold, logits (float units) and true genre.
#[derive(Clone, Copy, Debug)]
pub struct Scored {
    pub fold: usize,
    pub logits: [f32; N_GENRES],
    pub genre: usize,
}

/// One confidence bin: windows whose top probability falls in it, their mean confidence and
/// their accuracy.
#[derive(Clone, Copy, Debug, Default, Serialize)]
pub struct Bin {
    pub windows: usize,
    pub confidence: f64,
    pub accuracy: f64,
}

/// The calibration figures of the model card.
#[derive(Clone, Debug, Default, Serialize)]
pub struct CalibrationReport {
    /// Held-out windows (device windows of the scored clips that heard music), all folds.
    pub windows: usize,
    /// The temperature fitted on every fold's held-out windows: the shipped model's.
    pub temperature: f64,
    /// ECE of the uncalibrated logits.
    pub ece_before: f64,
    /// ECE with each fold's windows scaled by the temperature fitted on the other folds
    /// (nothing fitted on the windows it scores).
    pub ece_after: f64,
    pub bins_before: Vec<Bin>,
    pub bins_after: Vec<Bin>,
}

/// Mean negative log-likelihood of `windows` at temperature `t`.
fn nll(windows: &[&Scored], t: f64) -> f64 {
    let sum: f64 = windows
        .iter()
        .map(|w| {
            let p = softmax(&w.logits.map(|v| (f64::from(v) / t) as f32));
            -f64::from(p[w.genre].max(1e-12)).ln()
        })
        .sum();
    sum / windows.len().max(1) as f64
}

/// The temperature in 0.25…8 (a log grid of 1 % steps) with the least negative
/// log-likelihood; 1 without windows.
pub fn fit_temperature(windows: &[&Scored]) -> f64 {
    if windows.is_empty() {
        return 1.0;
    }
    let steps = (32f64.ln() / 1.01f64.ln()).ceil() as i32;
    (0..=steps)
        .map(|k| 0.25 * 1.01f64.powi(k))
        .map(|t| (t, nll(windows, t)))
        .min_by(|a, b| a.1.total_cmp(&b.1))
        .map_or(1.0, |(t, _)| t)
}

/// Reliability bins of `(confidence, correct)` pairs and their ECE: the windows-weighted mean
/// of |accuracy − confidence| over [`BINS`] equal-width bins.
pub fn reliability(pairs: &[(f64, bool)]) -> (Vec<Bin>, f64) {
    let mut bins = vec![Bin::default(); BINS];
    for &(c, ok) in pairs {
        let b = ((c * BINS as f64) as usize).min(BINS - 1);
        bins[b].windows += 1;
        bins[b].confidence += c;
        bins[b].accuracy += f64::from(u8::from(ok));
    }
    let mut ece = 0.0;
    for b in &mut bins {
        if b.windows > 0 {
            let n = b.windows as f64;
            b.confidence /= n;
            b.accuracy /= n;
            ece += n * (b.accuracy - b.confidence).abs();
        }
    }
    (bins, ece / pairs.len().max(1) as f64)
}

/// Top probability and whether the top genre is right, at temperature `t`.
fn judged(w: &Scored, t: f64) -> (f64, bool) {
    let p = softmax(&w.logits.map(|v| (f64::from(v) / t) as f32));
    let top = (0..N_GENRES).fold(0, |b, g| if p[g] > p[b] { g } else { b });
    (f64::from(p[top]), top == w.genre)
}

/// Fits the temperature on all `windows` and measures the ECE before and after (after: each
/// fold scaled by the temperature of the other folds).
pub fn calibrate(windows: &[Scored]) -> CalibrationReport {
    let all: Vec<&Scored> = windows.iter().collect();
    let temperature = fit_temperature(&all);
    let before: Vec<(f64, bool)> = windows.iter().map(|w| judged(w, 1.0)).collect();
    let mut folds: Vec<usize> = windows.iter().map(|w| w.fold).collect();
    folds.sort_unstable();
    folds.dedup();
    let mut after = Vec::with_capacity(windows.len());
    for &fold in &folds {
        let others: Vec<&Scored> = windows.iter().filter(|w| w.fold != fold).collect();
        let t = if others.is_empty() {
            temperature
        } else {
            fit_temperature(&others)
        };
        after.extend(
            windows
                .iter()
                .filter(|w| w.fold == fold)
                .map(|w| judged(w, t)),
        );
    }
    let (bins_before, ece_before) = reliability(&before);
    let (bins_after, ece_after) = reliability(&after);
    CalibrationReport {
        windows: windows.len(),
        temperature,
        ece_before,
        ece_after,
        bins_before,
        bins_after,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    /// Windows whose true logits are `l`, sharpened 3×: overconfident by a factor of 3.
    fn overconfident(n: usize, seed: u64) -> Vec<Scored> {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        (0..n)
            .map(|i| {
                let logits: [f32; N_GENRES] = core::array::from_fn(|_| rng.random_range(-1.5..1.5));
                let p = softmax(&logits);
                let mut u = rng.random::<f32>();
                let genre = (0..N_GENRES)
                    .find(|&g| {
                        u -= p[g];
                        u <= 0.0
                    })
                    .unwrap_or(N_GENRES - 1);
                Scored {
                    fold: i % 5,
                    logits: logits.map(|v| 3.0 * v),
                    genre,
                }
            })
            .collect()
    }

    #[test]
    fn finds_the_temperature_of_overconfident_logits_and_lowers_the_ece() {
        let windows = overconfident(6000, 1);
        let r = calibrate(&windows);
        assert!((r.temperature - 3.0).abs() < 0.4, "{}", r.temperature);
        assert!(r.ece_before > 0.1, "{}", r.ece_before);
        assert!(r.ece_after < 0.03, "{}", r.ece_after);
        assert_eq!(r.bins_after.iter().map(|b| b.windows).sum::<usize>(), 6000);
    }

    #[test]
    fn ece_of_a_perfectly_calibrated_bin_is_zero() {
        let pairs = [(0.75, true), (0.75, true), (0.75, true), (0.75, false)];
        let (bins, ece) = reliability(&pairs);
        assert!(ece.abs() < 1e-12);
        assert_eq!(bins[7].windows, 4);
    }
}
