//! One STFT frame: periodic Hann window, real 1024-point FFT ([`crate::fft`]), power and
//! magnitude.
//!
//! Matches `librosa.stft(y, n_fft=N_FFT, window="hann")` for one frame, with PCM mapped to
//! float as `x / 32768` (the librosa/soundfile convention for 16-bit audio).

use crate::config::{N_BINS, N_FFT};
use crate::fft::{self, Halves};
use crate::tables::WINDOW_HALF;

/// Scale from i16 PCM to float audio in [-1, 1), `x / 32768`, times the 1/2 that
/// [`fft::power_spectrum`] leaves to its window: exact in f32.
const PCM_SCALE: f32 = 0.5 / 32768.0;

/// [`WINDOW_HALF`] with the PCM scale and the FFT's 1/2 folded in, `w[n] / 65536`: a
/// power-of-two scale of normal numbers is exact, and so `x · WINDOW_PCM[n]` equals
/// `(x / 32768) · w[n] / 2` bit for bit, with no multiplication of its own.
static WINDOW_PCM: [f32; N_FFT / 2 + 1] = {
    let mut out = [0.0; N_FFT / 2 + 1];
    let mut n = 0;
    while n < out.len() {
        out[n] = WINDOW_HALF[n] * PCM_SCALE;
        // Zero or normal: the scale lost no bits.
        assert!(out[n] == 0.0 || out[n] >= f32::MIN_POSITIVE);
        n += 1;
    }
    out
};

/// Windows `frame` (its two halves) and writes its one-sided power spectrum `|X[k]|²`
/// (k = 0..=N_FFT/2) into `power`; `scratch` is the FFT work buffer.
pub fn power_spectrum(frame: Halves<'_>, scratch: &mut [f32; N_FFT], power: &mut [f32; N_BINS]) {
    fft::power_spectrum(frame, &WINDOW_PCM, scratch, power);
}

/// Turns a power spectrum into the magnitude spectrum `|X[k]| = sqrt(power[k])`, in place.
#[inline(never)] // one call per hop; out of line it measured faster on the M4F
pub fn power_to_magnitude(spectrum: &mut [f32; N_BINS]) {
    // `vsqrt.f32` on the M4F, `libm::sqrtf` elsewhere: both correctly rounded, so host and
    // device get the same bits (micromath's `sqrt` errs by up to 6 %).
    crate::arch::sqrt_in_place(spectrum);
}
