//! One STFT frame: periodic Hann window, real 1024-point FFT (microfft), power and magnitude.
//!
//! Matches `librosa.stft(y, n_fft=N_FFT, window="hann")` for one frame, with PCM mapped to
//! float as `x / 32768` (the librosa/soundfile convention for 16-bit audio).

use crate::config::{N_BINS, N_FFT};
use crate::tables::WINDOW_HALF;

/// Scale from i16 PCM to float audio in [-1, 1): `x / 32768`, exact in f32.
const PCM_SCALE: f32 = 1.0 / 32768.0;

/// [`WINDOW_HALF`] with the PCM scale folded in, `w[n] / 32768`: a power-of-two scale of
/// normal numbers is exact, and so `x · WINDOW_PCM[n]` equals `(x / 32768) · w[n]` bit for
/// bit, with one multiplication fewer per sample.
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

/// Windows `frame` and writes its one-sided power spectrum `|X[k]|²` (k = 0..=N_FFT/2) into
/// `power`; `scratch` is the FFT work buffer.
#[inline(never)] // one call per hop; out of line it measured faster on the M4F
pub fn power_spectrum(frame: &[i16; N_FFT], scratch: &mut [f32; N_FFT], power: &mut [f32; N_BINS]) {
    // Periodic Hann is symmetric about N_FFT/2: w[n] = w[N_FFT - n]. Two loops, one per
    // half, instead of choosing the index per sample.
    let (head, tail) = scratch.split_at_mut(N_FFT / 2 + 1);
    let (frame_head, frame_tail) = frame.split_at(N_FFT / 2 + 1);
    for ((out, &x), &w) in head.iter_mut().zip(frame_head).zip(WINDOW_PCM.iter()) {
        *out = f32::from(x) * w;
    }
    for ((out, &x), &w) in tail
        .iter_mut()
        .zip(frame_tail)
        .zip(WINDOW_PCM[1..N_FFT / 2].iter().rev())
    {
        *out = f32::from(x) * w;
    }
    let spectrum = microfft::real::rfft_1024(scratch);
    // microfft packs the real Nyquist coefficient into the imaginary part of bin 0.
    let dc = spectrum[0].re;
    let nyquist = spectrum[0].im;
    power[0] = dc * dc;
    power[N_BINS - 1] = nyquist * nyquist;
    for (p, c) in power[1..N_BINS - 1].iter_mut().zip(spectrum[1..].iter()) {
        *p = c.re * c.re + c.im * c.im;
    }
}

/// Turns a power spectrum into the magnitude spectrum `|X[k]| = sqrt(power[k])`, in place.
#[inline(never)] // one call per hop; out of line it measured faster on the M4F
pub fn power_to_magnitude(spectrum: &mut [f32; N_BINS]) {
    // `vsqrt.f32` on the M4F, `libm::sqrtf` elsewhere: both correctly rounded, so host and
    // device get the same bits (micromath's `sqrt` errs by up to 6 %).
    crate::arch::sqrt_in_place(spectrum);
}
