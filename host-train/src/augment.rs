//! Audio-domain augmentation for microphone robustness, applied to 16 kHz PCM before the
//! frontend, so the features of an augmented copy are exactly what the device would compute
//! from such a recording (feature-domain tricks cannot model band-limiting or noise through
//! the log-mel/chroma/contrast non-linearities faithfully).
//!
//! Each copy draws: a time shift (0–1 hop dropped at the start, so frames fall at other
//! sample offsets), a cheap-microphone band limit (2nd-order high-pass 60–300 Hz, and with
//! probability ½ a low-pass 3.5–7.5 kHz), a peaking EQ (±6 dB at 150 Hz–5 kHz), a gain
//! (−18…+6 dB, saturating like an ADC) and white noise (SNR 15–45 dB).

use genre_core::config::{HOP, SAMPLE_RATE_HZ};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Bumped whenever the recipe changes, so cached augmented features are recomputed.
pub const RECIPE_VERSION: u32 = 1;

/// A transposed direct-form-II biquad (RBJ audio-EQ cookbook coefficients).
struct Biquad {
    b: [f64; 3],
    a: [f64; 2],
    z: [f64; 2],
}

impl Biquad {
    fn new(b: [f64; 3], a0: f64, a: [f64; 2]) -> Self {
        Self {
            b: b.map(|v| v / a0),
            a: a.map(|v| v / a0),
            z: [0.0; 2],
        }
    }

    /// Low- or high-pass with quality `q` at `f0` Hz.
    fn pass(f0: f64, q: f64, high: bool) -> Self {
        let w0 = core::f64::consts::TAU * f0 / f64::from(SAMPLE_RATE_HZ);
        let (sin, cos) = w0.sin_cos();
        let alpha = sin / (2.0 * q);
        let b = if high {
            [(1.0 + cos) / 2.0, -(1.0 + cos), (1.0 + cos) / 2.0]
        } else {
            [(1.0 - cos) / 2.0, 1.0 - cos, (1.0 - cos) / 2.0]
        };
        Self::new(b, 1.0 + alpha, [-2.0 * cos, 1.0 - alpha])
    }

    /// Peaking EQ of `gain_db` at `f0` Hz with quality `q`.
    fn peak(f0: f64, q: f64, gain_db: f64) -> Self {
        let amp = 10f64.powf(gain_db / 40.0);
        let w0 = core::f64::consts::TAU * f0 / f64::from(SAMPLE_RATE_HZ);
        let (sin, cos) = w0.sin_cos();
        let alpha = sin / (2.0 * q);
        Self::new(
            [1.0 + alpha * amp, -2.0 * cos, 1.0 - alpha * amp],
            1.0 + alpha / amp,
            [-2.0 * cos, 1.0 - alpha / amp],
        )
    }

    fn run(&mut self, x: f64) -> f64 {
        let y = self.b[0] * x + self.z[0];
        self.z[0] = self.b[1] * x - self.a[0] * y + self.z[1];
        self.z[1] = self.b[2] * x - self.a[1] * y;
        y
    }
}

/// Returns augmented copy number `copy` of `pcm`, drawn from `seed` (deterministic).
pub fn augment(pcm: &[i16], seed: u64, copy: usize) -> Vec<i16> {
    let mut rng =
        ChaCha8Rng::seed_from_u64(seed ^ (copy as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15));
    let shift = rng.random_range(0..HOP).min(pcm.len());
    let mut filters = vec![Biquad::pass(rng.random_range(60.0..300.0), 0.707, true)];
    if rng.random_bool(0.5) {
        filters.push(Biquad::pass(rng.random_range(3500.0..7500.0), 0.707, false));
    }
    let f_eq = 150.0 * (5000.0f64 / 150.0).powf(rng.random::<f64>());
    filters.push(Biquad::peak(f_eq, 1.0, rng.random_range(-6.0..6.0)));
    let gain = 10f64.powf(rng.random_range(-18.0..6.0) / 20.0);
    let snr_db: f64 = rng.random_range(15.0..45.0);

    let mut y: Vec<f64> = pcm[shift..]
        .iter()
        .map(|&s| filters.iter_mut().fold(f64::from(s), |x, f| f.run(x)) * gain)
        .collect();
    let power = y.iter().map(|v| v * v).sum::<f64>() / y.len().max(1) as f64;
    let noise_rms = (power / 10f64.powf(snr_db / 10.0)).sqrt();
    // Uniform noise on [-a, a] has RMS a/√3.
    let amp = noise_rms * 3f64.sqrt();
    for v in &mut y {
        *v += rng.random_range(-1.0..=1.0) * amp;
    }
    y.iter()
        .map(|v| v.round().clamp(f64::from(i16::MIN), f64::from(i16::MAX)) as i16)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deterministic_and_different_per_copy() {
        let pcm: Vec<i16> = (0..16_000)
            .map(|i| ((i * 37) % 2000) as i16 - 1000)
            .collect();
        let a = augment(&pcm, 7, 0);
        assert_eq!(a, augment(&pcm, 7, 0));
        assert_ne!(a, augment(&pcm, 7, 1));
        // The shift drops fewer than one hop of samples.
        assert!(pcm.len() - a.len() < HOP);
    }

    #[test]
    fn high_pass_removes_dc() {
        let mut hp = Biquad::pass(100.0, 0.707, true);
        let last = (0..16_000).map(|_| hp.run(1000.0)).last().unwrap_or(0.0);
        // After 1 s a 100 Hz high-pass has settled far below 1e-3 of the input step.
        assert!(last.abs() < 1.0, "{last}");
    }
}
