//! Spectral contrast (`librosa.feature.spectral_contrast(fmin=200, n_bands=6,
//! quantile=0.02)`, with `power_to_db` not clipped by `top_db`).
//!
//! Per band, the mean of the `q` largest magnitudes (peak) minus the mean of the `q` smallest
//! (valley), both in dB of the magnitude. Band bins and `q` come from [`crate::tables`], which
//! reproduces librosa's band edges (the extra bin below each band above the first, the last
//! bin dropped below the top band, everything above for the top band).

use crate::config::{N_BINS, N_CONTRAST_BANDS};
use crate::mel::power_to_db;
use crate::tables::{CONTRAST_LEN, CONTRAST_MAX_Q, CONTRAST_Q, CONTRAST_START};

/// Values of the spectral-contrast group: one per band plus the band above the last edge.
pub const N_CONTRAST: usize = N_CONTRAST_BANDS + 1;

/// Writes the spectral contrast of the magnitude spectrum `magnitude` (dB) into `contrast`,
/// with `floor` (a magnitude per bin, [`crate::level::SpectralFloor`]; 0 for librosa's
/// contrast) added to every bin.
#[inline(never)] // one call per hop; out of line it measured faster on the M4F
pub fn spectral_contrast(magnitude: &[f32; N_BINS], floor: f32, contrast: &mut [f32; N_CONTRAST]) {
    for (b, out) in contrast.iter_mut().enumerate() {
        let start = usize::from(CONTRAST_START[b]);
        let band = &magnitude[start..start + usize::from(CONTRAST_LEN[b])];
        let q = usize::from(CONTRAST_Q[b]);
        #[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
        let (valley, peak) = extremes_two_way(band, q);
        #[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
        let (valley, peak) = extremes(band, q);
        *out = power_to_db(peak + floor) - power_to_db(valley + floor);
    }
}

/// Means of the `q` smallest and the `q` largest values of `band`, each summed in ascending
/// order as numpy's mean of the sorted band does. Keeps two sorted buffers of `q` values
/// instead of sorting the band, and their last entries in locals: most values beat neither,
/// which then costs two compares.
///
/// The values are compared as their IEEE bit patterns read as `i32`: for the non-negative,
/// finite values of a magnitude spectrum that order is the order of the values, and integer
/// compares are cheaper than float compares on the M4F (no transfer of the FPU's flags).
fn extremes(band: &[f32], q: usize) -> (f32, f32) {
    // Ascending `q` smallest so far, and descending `q` largest so far, as bit patterns; the
    // sentinels lie above (below) the bits of every non-negative finite f32.
    let mut low = [i32::MAX; CONTRAST_MAX_Q];
    let mut high = [-1i32; CONTRAST_MAX_Q];
    let (low, high) = (&mut low[..q], &mut high[..q]);
    // The last entries of `low` and `high`: what a value must beat to be kept.
    let (mut low_bar, mut high_bar) = (i32::MAX, -1);
    for &x in band {
        let x = x.to_bits() as i32;
        if x < low_bar {
            low_bar = insert(low, x, |a, b| a < b).unwrap_or(i32::MIN);
        }
        if x > high_bar {
            high_bar = insert(high, x, |a, b| a > b).unwrap_or(i32::MAX);
        }
    }
    let value = |bits: i32| f32::from_bits(bits as u32);
    let mut valley = 0.0f32;
    for &x in low.iter() {
        valley += value(x);
    }
    let mut peak = 0.0f32;
    for &x in high.iter().rev() {
        peak += value(x);
    }
    let n = q as f32;
    (valley / n, peak / n)
}

/// Inserts `x`, which goes `before` the last entry of `kept`, into `kept` (ordered by
/// `before`), dropping the last entry; returns the new last entry, or `None` when `kept` is
/// empty (nothing is kept, so nothing may beat the bar).
fn insert(kept: &mut [i32], x: i32, before: impl Fn(i32, i32) -> bool) -> Option<i32> {
    let last = kept.len().checked_sub(1)?;
    let mut i = last;
    while i > 0 && before(x, kept[i - 1]) {
        kept[i] = kept[i - 1];
        i -= 1;
    }
    kept[i] = x;
    Some(kept[last])
}

/// [`extremes`], for the host test that compares it with [`extremes_two_way`].
#[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
#[doc(hidden)]
#[must_use]
pub fn extremes_one_way(band: &[f32], q: usize) -> (f32, f32) {
    extremes(band, q)
}

/// [`extremes`] in two passes, the host's: the `q` largest scanning the band upwards, the `q`
/// smallest scanning it downwards. A magnitude spectrum mostly falls with frequency within a
/// band, so a value rarely beats the bar of either pass (one scan direction made nearly every
/// value an insertion into the smallest). Both keep the same values (the `q` smallest and the
/// `q` largest, which do not depend on the scan order: equal bit patterns are equal values) and
/// sum them in the same ascending order, so the results are [`extremes`]'s bits.
#[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
#[doc(hidden)] // public for the test that compares it with `extremes`
#[must_use]
pub fn extremes_two_way(band: &[f32], q: usize) -> (f32, f32) {
    let mut low = [i32::MAX; CONTRAST_MAX_Q];
    let mut high = [-1i32; CONTRAST_MAX_Q];
    let (low, high) = (&mut low[..q], &mut high[..q]);
    let mut high_bar = -1;
    for &x in band {
        let x = x.to_bits() as i32;
        if x > high_bar {
            high_bar = insert(high, x, |a, b| a > b).unwrap_or(i32::MAX);
        }
    }
    let mut low_bar = i32::MAX;
    for &x in band.iter().rev() {
        let x = x.to_bits() as i32;
        if x < low_bar {
            low_bar = insert(low, x, |a, b| a < b).unwrap_or(i32::MIN);
        }
    }
    let value = |bits: i32| f32::from_bits(bits as u32);
    let mut valley = 0.0f32;
    for &x in low.iter() {
        valley += value(x);
    }
    let mut peak = 0.0f32;
    for &x in high.iter().rev() {
        peak += value(x);
    }
    let n = q as f32;
    (valley / n, peak / n)
}
