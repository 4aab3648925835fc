//! One STFT frame: periodic Hann window, real 1024-point FFT (microfft), power and magnitude.
//!
//! Matches `librosa.stft(y, n_fft=N_FFT, window="hann")` for one frame, with PCM mapped to
//! float as `x / 32768` (the librosa/soundfile convention for 16-bit audio).

use crate::config::{N_BINS, N_FFT};
use crate::tables::WINDOW_HALF;

/// Scale from i16 PCM to float audio in [-1, 1): `x / 32768`, exact in f32.
const PCM_SCALE: f32 = 1.0 / 32768.0;

/// Windows `frame` and writes its one-sided power spectrum `|X[k]|²` (k = 0..=N_FFT/2) into
/// `power`; `scratch` is the FFT work buffer.
pub fn power_spectrum(frame: &[i16; N_FFT], scratch: &mut [f32; N_FFT], power: &mut [f32; N_BINS]) {
    for (n, (out, &x)) in scratch.iter_mut().zip(frame.iter()).enumerate() {
        // Periodic Hann is symmetric about N_FFT/2: w[n] = w[N_FFT - n].
        let w = WINDOW_HALF[if n <= N_FFT / 2 { n } else { N_FFT - n }];
        *out = (f32::from(x) * PCM_SCALE) * w;
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
/// `libm::sqrtf` is correctly rounded (micromath's `sqrt` errs by up to 6 %).
pub fn power_to_magnitude(spectrum: &mut [f32; N_BINS]) {
    for x in spectrum.iter_mut() {
        *x = libm::sqrtf(*x);
    }
}
