//! Activation ranges seen while the float model runs over training windows: what
//! `export::quantize` turns into the input scales and the cell formats.

use crate::config::{N_FEATURES, N_LAYERS};
use crate::lstm::FloatEngine;

/// Width of a calibration histogram bin of `|x_norm|`, in standard deviations.
pub const INPUT_BIN_WIDTH: f32 = 0.125;
/// Calibration histogram bins per feature; the last also counts everything beyond 32 σ.
pub const INPUT_BINS: usize = 256;
/// Largest fraction of calibration frames whose input may clip at ±127 (per feature): a few
/// outliers must not coarsen the 8-bit step for all other frames.
pub const INPUT_CLIP_FRACTION: f64 = 1e-4;

/// Activation ranges seen while running the float model over calibration data: a histogram
/// and the maximum of `|x_norm|` per feature, and the maximum `|c|` per layer (34 kB).
#[derive(Clone, Debug, PartialEq)]
pub struct Calibration {
    input_absmax: [f32; N_FEATURES],
    input_hist: [[u32; INPUT_BINS]; N_FEATURES],
    cell_absmax: [f32; N_LAYERS],
    steps: u64,
}

impl Default for Calibration {
    fn default() -> Self {
        Self::new()
    }
}

impl Calibration {
    /// Nothing observed yet.
    #[must_use]
    pub const fn new() -> Self {
        Self {
            input_absmax: [0.0; N_FEATURES],
            input_hist: [[0; INPUT_BINS]; N_FEATURES],
            cell_absmax: [0.0; N_LAYERS],
            steps: 0,
        }
    }

    /// Records the engine's state after a [`FloatEngine::step`]; non-finite values are
    /// ignored.
    pub fn observe(&mut self, e: &FloatEngine) {
        fn absmax(acc: &mut f32, v: f32) {
            if v.is_finite() && v.abs() > *acc {
                *acc = v.abs();
            }
        }
        let inputs = self.input_absmax.iter_mut().zip(&mut self.input_hist);
        for ((m, hist), &x) in inputs.zip(e.normalized_input()) {
            absmax(m, x);
            if x.is_finite() {
                // Saturating float→int cast: everything past the end lands in the last bin.
                let bin = ((x.abs() / INPUT_BIN_WIDTH) as usize).min(INPUT_BINS - 1);
                hist[bin] = hist[bin].saturating_add(1);
            }
        }
        for (l, m) in self.cell_absmax.iter_mut().enumerate() {
            for &c in e.cell(l) {
                absmax(m, c);
            }
        }
        self.steps += 1;
    }

    /// Largest `|(x - mean) / std|` seen per feature.
    #[must_use]
    pub fn input_absmax(&self) -> &[f32; N_FEATURES] {
        &self.input_absmax
    }

    /// The `|x_norm|` range the 8-bit input of `feature` covers: the upper edge of the
    /// histogram bin below which all but [`INPUT_CLIP_FRACTION`] of the frames fall, capped at
    /// [`Calibration::input_absmax`] (so without outliers it is the maximum).
    ///
    /// # Panics
    /// If `feature >= N_FEATURES`.
    #[must_use]
    pub fn input_range(&self, feature: usize) -> f32 {
        let allowed = (self.steps as f64 * INPUT_CLIP_FRACTION) as u64;
        let mut above = 0u64;
        let mut edge = self.input_absmax[feature];
        for (b, &n) in self.input_hist[feature].iter().enumerate().rev() {
            if above + u64::from(n) > allowed {
                edge = (b + 1) as f32 * INPUT_BIN_WIDTH;
                break;
            }
            above += u64::from(n);
        }
        edge.min(self.input_absmax[feature])
    }

    /// Largest `|c|` seen per layer.
    #[must_use]
    pub fn cell_absmax(&self) -> &[f32; N_LAYERS] {
        &self.cell_absmax
    }

    /// Steps observed.
    #[must_use]
    pub fn steps(&self) -> u64 {
        self.steps
    }
}
