//! Spectral centroid in Hz of the magnitude spectrum (`librosa.feature.spectral_centroid`).

use crate::config::{N_BINS, N_FFT, SAMPLE_RATE_HZ};

/// Width of one FFT bin in Hz (15.625 Hz, exact in f32).
const BIN_HZ: f32 = SAMPLE_RATE_HZ as f32 / N_FFT as f32;

/// `Σ f_k` over all bins, Hz.
const FREQ_SUM: f32 = BIN_HZ * ((N_BINS * (N_BINS - 1) / 2) as f32);

/// `Σ f_k·(|X_k| + floor) / Σ (|X_k| + floor)` in Hz, `floor` a magnitude per bin added to
/// the spectrum ([`crate::level::SpectralFloor`]; 0 for librosa's centroid). As librosa's `util.normalize`, a frame whose magnitude sum
/// is below the smallest normal f32 is not normalised (so silence gives 0 Hz, not NaN).
#[must_use]
#[inline(never)] // one call per hop; out of line it measured faster on the M4F
pub fn spectral_centroid(magnitude: &[f32; N_BINS], floor: f32) -> f32 {
    let mut weighted = 0.0f32;
    let mut total = 0.0f32;
    // Frequency of bin k, k·BIN_HZ, as a running sum: BIN_HZ = 125·2^-3 and k ≤ 512, so every
    // partial sum is a multiple of 2^-3 below 2^13, exact in f32 (no int-to-float conversion).
    let mut freq = 0.0f32;
    // Unrolled by four by hand: the firmware's size-optimising link does not unroll it.
    let quads = magnitude.chunks_exact(4);
    let rest = quads.remainder();
    for quad in quads {
        for &m in quad {
            weighted += freq * m;
            total += m;
            freq += BIN_HZ;
        }
    }
    for &m in rest {
        weighted += freq * m;
        total += m;
        freq += BIN_HZ;
    }
    // The floor's share: Σ f_k = BIN_HZ·(0 + 1 + … + N_BINS-1), exact in f32.
    weighted += floor * FREQ_SUM;
    total += floor * N_BINS as f32;
    if total < f32::MIN_POSITIVE {
        weighted
    } else {
        weighted / total
    }
}
