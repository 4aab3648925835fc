//! Slaney mel filterbank (sparse, from [`crate::tables`]) and librosa's `power_to_db`.

use crate::arch::dot_f32;
use crate::config::{AMIN, N_BINS, N_MELS};
use crate::level::filter_sums;
use crate::tables::{MEL_LEN, MEL_START, MEL_WEIGHTS};

/// Mel-band powers `M[b] = Σ_k W[b][k]·power[k]` (librosa.feature.melspectrogram, power 2).
#[inline(never)] // one call per hop; out of line it measured faster on the M4F
pub fn mel_power(power: &[f32; N_BINS], mel: &mut [f32; N_MELS]) {
    let mut w = 0;
    for ((out, &start), &len) in mel.iter_mut().zip(MEL_START.iter()).zip(MEL_LEN.iter()) {
        let (start, len) = (usize::from(start), usize::from(len));
        *out = dot_f32(0.0, &MEL_WEIGHTS[w..w + len], &power[start..start + len]);
        w += len;
    }
}

/// Sum of each band's weights: what a white floor of power 1 per bin adds to the band.
static MEL_WEIGHT_SUM: [f32; N_MELS] = filter_sums(&MEL_WEIGHTS, &MEL_LEN, &[1; N_MELS]);

/// Adds a white floor of `power` per bin to the mel-band powers `mel`.
pub fn add_floor(mel: &mut [f32; N_MELS], power: f32) {
    for (m, &sum) in mel.iter_mut().zip(MEL_WEIGHT_SUM.iter()) {
        *m += power * sum;
    }
}

/// Decibels of a power, `10·log10(max(AMIN, p))`, as `librosa.power_to_db` with `ref=1.0`
/// and no `top_db` clipping. `libm` keeps the result bit-identical on host and device and
/// within 1 ulp; micromath's `log10` approximation errs by up to 0.51 dB here (measured over
/// 1e-10..1e7), hundreds of times the frontend's tolerances.
#[must_use]
pub fn power_to_db(p: f32) -> f32 {
    10.0 * libm::log10f(if p > AMIN { p } else { AMIN })
}
