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
    sqrt_in_place(spectrum);
}

/// Replaces every value by its correctly rounded IEEE 754 square root: with the FPU's
/// `vsqrt.f32` on hard-float Arm targets (instead of libm's software square root),
/// `libm::sqrtf` elsewhere. Both round correctly, so host and device get the same bits
/// (micromath's `sqrt` errs by up to 6 %).
#[cfg(all(target_arch = "arm", target_abi = "eabihf"))]
use vsqrt::sqrt_in_place;

/// `vsqrt.f32` for hard-float Arm. `asm!` cannot name FPU registers there (rustc's `vfp2`
/// feature is off for single-precision FPUs such as the M4F's), so the loop lives in a leaf
/// routine: `r0` the first value, `r1` how many; it uses only `r0`-`r2`, `s0`-`s3` and the
/// flags, all caller-saved under the AAPCS.
#[cfg(all(target_arch = "arm", target_abi = "eabihf"))]
#[allow(unsafe_code)]
mod vsqrt {
    core::arch::global_asm!(
        ".section .text.genre_core_vsqrt_in_place,\"ax\",%progbits",
        ".syntax unified",
        ".thumb",
        ".fpu vfpv2",
        ".p2align 2",
        ".global genre_core_vsqrt_in_place",
        ".type genre_core_vsqrt_in_place,%function",
        ".thumb_func",
        "genre_core_vsqrt_in_place:",
        // Groups of four.
        "lsrs r2, r1, #2",
        "beq 2f",
        "1:",
        "vldmia r0, {{s0-s3}}",
        "vsqrt.f32 s0, s0",
        "vsqrt.f32 s1, s1",
        "vsqrt.f32 s2, s2",
        "vsqrt.f32 s3, s3",
        "vstmia r0!, {{s0-s3}}",
        "subs r2, r2, #1",
        "bne 1b",
        // The last `len % 4`.
        "2:",
        "ands r1, r1, #3",
        "beq 4f",
        "3:",
        "vldr s0, [r0]",
        "vsqrt.f32 s0, s0",
        "vstmia r0!, {{s0}}",
        "subs r1, r1, #1",
        "bne 3b",
        "4:",
        "bx lr",
        ".size genre_core_vsqrt_in_place, . - genre_core_vsqrt_in_place",
    );

    extern "C" {
        fn genre_core_vsqrt_in_place(values: *mut f32, len: usize);
    }

    /// Replaces every value by its square root, correctly rounded.
    pub fn sqrt_in_place(values: &mut [f32]) {
        // Safety: the routine reads and writes exactly `values.len()` f32s from
        // `values.as_mut_ptr()` (exclusively borrowed here), follows the AAPCS for
        // `extern "C"` on this target, touches no stack, and `vsqrt.f32` gives NaN for
        // negative input with no trap under the default FPSCR.
        unsafe { genre_core_vsqrt_in_place(values.as_mut_ptr(), values.len()) }
    }
}

/// Replaces every value by its square root, correctly rounded (see the Arm version above).
#[cfg(not(all(target_arch = "arm", target_abi = "eabihf")))]
fn sqrt_in_place(values: &mut [f32]) {
    for x in values.iter_mut() {
        *x = libm::sqrtf(*x);
    }
}
