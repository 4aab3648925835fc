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
#[inline(never)] // one call per hop; out of line it measured faster on the M4F
pub fn power_spectrum(frame: &[i16; N_FFT], scratch: &mut [f32; N_FFT], power: &mut [f32; N_BINS]) {
    // Periodic Hann is symmetric about N_FFT/2: w[n] = w[N_FFT - n]. Two loops, one per
    // half, instead of choosing the index per sample.
    let (head, tail) = scratch.split_at_mut(N_FFT / 2 + 1);
    let (frame_head, frame_tail) = frame.split_at(N_FFT / 2 + 1);
    for ((out, &x), &w) in head.iter_mut().zip(frame_head).zip(WINDOW_HALF.iter()) {
        *out = (f32::from(x) * PCM_SCALE) * w;
    }
    for ((out, &x), &w) in tail
        .iter_mut()
        .zip(frame_tail)
        .zip(WINDOW_HALF[1..N_FFT / 2].iter().rev())
    {
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
#[inline(never)] // one call per hop; out of line it measured faster on the M4F
pub fn power_to_magnitude(spectrum: &mut [f32; N_BINS]) {
    for x in spectrum.iter_mut() {
        *x = sqrt(*x);
    }
}

/// Correctly rounded IEEE 754 square root: the FPU's `vsqrt.f32` on hard-float Arm targets
/// (a call to a two-instruction routine instead of libm's software square root), `libm::sqrtf`
/// elsewhere. Both round correctly, so host and device get the same bits (micromath's `sqrt`
/// errs by up to 6 %).
#[cfg(all(target_arch = "arm", target_abi = "eabihf"))]
use vsqrt::sqrt;

/// `vsqrt.f32` for hard-float Arm. `asm!` cannot name FPU registers there (rustc's `vfp2`
/// feature is off for single-precision FPUs such as the M4F's), so the instruction lives in a
/// leaf routine with the hard-float calling convention: argument and result in `s0`.
#[cfg(all(target_arch = "arm", target_abi = "eabihf"))]
#[allow(unsafe_code)]
mod vsqrt {
    core::arch::global_asm!(
        ".section .text.genre_core_vsqrtf,\"ax\",%progbits",
        ".syntax unified",
        ".thumb",
        ".fpu vfpv2",
        ".p2align 2",
        ".global genre_core_vsqrtf",
        ".type genre_core_vsqrtf,%function",
        ".thumb_func",
        "genre_core_vsqrtf:",
        "vsqrt.f32 s0, s0",
        "bx lr",
        ".size genre_core_vsqrtf, . - genre_core_vsqrtf",
    );

    extern "C" {
        fn genre_core_vsqrtf(x: f32) -> f32;
    }

    /// Square root of `x`, correctly rounded.
    pub fn sqrt(x: f32) -> f32 {
        // Safety: the routine above follows the AAPCS-VFP convention of `extern "C"` on this
        // target, reads and writes only `s0` (NaN for negative input, no trap with the
        // default FPSCR), and touches no memory and no stack.
        unsafe { genre_core_vsqrtf(x) }
    }
}

/// Square root of `x`, correctly rounded (see the hard-float Arm version above).
#[cfg(not(all(target_arch = "arm", target_abi = "eabihf")))]
fn sqrt(x: f32) -> f32 {
    libm::sqrtf(x)
}
