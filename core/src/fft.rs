//! Windowed real 1024-point FFT straight to the power spectrum, in safe f32 Rust.
//!
//! As CMSIS-DSP's `arm_rfft_fast_f32`: the 1024 real samples, paired as 512 complex points
//! `z[n] = x[2n] + i·x[2n+1]`, go through a 512-point complex FFT, and a real split turns
//! its output `Z` into the spectrum `X` of `x`. Shaped for the Cortex-M4F:
//!
//! - decimation in frequency, natural-order input: the first radix-4 stage reads the i16
//!   frame and multiplies by the window on the way in (no separate window pass);
//! - two more radix-4 stages, then the last, twiddle-free radix-8 stage fused with the real
//!   split; every butterfly keeps its outputs in bit-reversed order, so `Z[f]` lands at
//!   position `rev9(f)` and the split reads it there (`rbit`) instead of permuting in a pass
//!   of its own;
//! - the split writes `|X[k]|²` directly, without storing the complex spectrum;
//! - one table, a quarter wave of cosine computed at compile time; a radix-4 stage's `W²` and
//!   `W³` are products of `W`.
//!
//! Why our own rather than `microfft` (radix-2, a separate bit-reversal pass, then our window
//! and power passes): on the M4F (QEMU instruction count, `scripts/firmware-bench`) window +
//! FFT + power took 59,440 instructions per hop and 12.4 KB of flash (code and tables, window
//! included); this module takes 39,320 and 6.4 KB, at about the same error
//! (`tests/frontend_fft.rs`: largest error / bound 0.65, microfft 0.61; with exact `W²`,
//! `W³` it would be 0.60, for another 2 KB of table).

use core::hint::black_box;

use crate::config::{N_BINS, N_FFT};

/// Complex points of the half-length FFT.
pub(crate) const M: usize = N_FFT / 2;

/// Quarter wave of cosine: `COS[j] = cos(2πj / N_FFT)` for `j = 0..=N_FFT/4`, each the f32
/// nearest to the exact value; `sin(2πj / N_FFT) = COS[N_FFT/4 - j]`.
pub static COS: [f32; N_FFT / 4 + 1] = cos_table();

/// Builds [`COS`] in f64: Taylor series of `cos` (angle ≤ π/4) or of `sin` at the
/// complementary angle, 14 terms, whose truncation error is far below f64 rounding.
const fn cos_table() -> [f32; N_FFT / 4 + 1] {
    let mut table = [0.0; N_FFT / 4 + 1];
    let mut j = 0;
    while j < table.len() {
        // cos(θ) for θ ≤ π/4, else sin(π/2 - θ): both series on |t| ≤ π/4.
        let (t, odd) = if 2 * j <= N_FFT / 4 {
            (j, false)
        } else {
            (N_FFT / 4 - j, true)
        };
        let t = 2.0 * core::f64::consts::PI * t as f64 / N_FFT as f64;
        let mut term = if odd { t } else { 1.0 };
        let mut sum = term;
        let mut k = if odd { 2 } else { 1 };
        while k < 28 {
            term = -term * t * t / ((k * (k + 1)) as f64);
            sum += term;
            k += 2;
        }
        table[j] = sum as f32;
        j += 1;
    }
    table
}

/// A complex number (f32 parts).
#[derive(Clone, Copy)]
struct Complex {
    re: f32,
    im: f32,
}

impl Complex {
    fn load(p: [f32; 2]) -> Self {
        Self { re: p[0], im: p[1] }
    }

    fn store(self) -> [f32; 2] {
        [self.re, self.im]
    }

    fn add(self, o: Self) -> Self {
        Self {
            re: self.re + o.re,
            im: self.im + o.im,
        }
    }

    fn sub(self, o: Self) -> Self {
        Self {
            re: self.re - o.re,
            im: self.im - o.im,
        }
    }

    fn mul(self, o: Self) -> Self {
        Self {
            re: self.re * o.re - self.im * o.im,
            im: self.re * o.im + self.im * o.re,
        }
    }

    /// `-i · self`.
    fn mul_neg_i(self) -> Self {
        Self {
            re: self.im,
            im: -self.re,
        }
    }

    fn norm_sqr(self) -> f32 {
        self.re * self.re + self.im * self.im
    }
}

/// `W^j = e^{-2πij / N_FFT}` for `j = 0..=N_FFT/4`.
fn twiddle(j: usize) -> Complex {
    Complex {
        re: COS[j],
        im: -COS[N_FFT / 4 - j],
    }
}

/// Twiddles `W`, `W²`, `W³` of a radix-4 stage, from `W = W^j` (`j < N_FFT/4`).
fn twiddles3(j: usize) -> [Complex; 3] {
    let w1 = twiddle(j);
    let w2 = Complex {
        re: w1.re * w1.re - w1.im * w1.im,
        im: 2.0 * (w1.re * w1.im),
    };
    [w1, w2, w1.mul(w2)]
}

/// The 4-point DFT of `a` in bit-reversed order (outputs 0, 2, 1, 3).
fn dft4(a: [Complex; 4]) -> [Complex; 4] {
    let t0 = a[0].add(a[2]);
    let t1 = a[0].sub(a[2]);
    let t2 = a[1].add(a[3]);
    let t3 = a[1].sub(a[3]).mul_neg_i();
    [t0.add(t2), t0.sub(t2), t1.add(t3), t1.sub(t3)]
}

/// Radix-4 decimation-in-frequency butterfly: [`dft4`], output `q` times `w[q - 1]`.
fn radix4(a: [Complex; 4], w: &[Complex; 3]) -> [Complex; 4] {
    let [y0, y2, y1, y3] = dft4(a);
    [y0, y2.mul(w[1]), y1.mul(w[0]), y3.mul(w[2])]
}

/// First radix-4 stage (blocks of `M` points), reading the windowed frame: point `n` is
/// `(frame[2n]·w[2n], frame[2n+1]·w[2n+1])` with `w[i] = window[min(i, N_FFT - i)]`.
fn first_stage(frame: Halves<'_>, window: &[f32; N_BINS], z: &mut [[f32; 2]; M]) {
    const Q: usize = M / 4;
    // Sample pairs, each half in two quarters; window pairs (w[2j], w[2j+1]) read forwards
    // for samples 0..512, and (w[2j+1], w[2j+2]) read backwards, swapped, for the mirrored
    // samples 512..1024.
    let (first, []) = frame[0].as_chunks::<2>() else {
        unreachable!("N_FFT / 2 is even")
    };
    let (second, []) = frame[1].as_chunks::<2>() else {
        unreachable!("N_FFT / 2 is even")
    };
    let (wf, _) = window.as_chunks::<2>();
    let (wr, _) = window[1..].as_chunks::<2>();
    let (quarters, []) = z.as_chunks_mut::<Q>() else {
        unreachable!("M is a multiple of 4")
    };
    let [z0, z1, z2, z3] = quarters else {
        unreachable!("four quarters")
    };
    for n in 0..Q {
        let fwd = |x: [i16; 2], w: [f32; 2]| Complex {
            re: f32::from(x[0]) * w[0],
            im: f32::from(x[1]) * w[1],
        };
        let rev = |x: [i16; 2], w: [f32; 2]| Complex {
            re: f32::from(x[0]) * w[1],
            im: f32::from(x[1]) * w[0],
        };
        let a = [
            fwd(first[n], wf[n]),
            fwd(first[n + Q], wf[n + Q]),
            rev(second[n], wr[2 * Q - 1 - n]),
            rev(second[n + Q], wr[Q - 1 - n]),
        ];
        let [y0, y1, y2, y3] = radix4(a, &twiddles3(n * (N_FFT / M)));
        z0[n] = y0.store();
        z1[n] = y1.store();
        z2[n] = y2.store();
        z3[n] = y3.store();
    }
}

/// A radix-4 stage over blocks of `L` points.
fn stage<const L: usize>(z: &mut [[f32; 2]; M]) {
    let q = L / 4;
    for n in 0..q {
        let w = twiddles3(n * (N_FFT / L));
        for block in z.as_chunks_mut::<L>().0 {
            let a = [0, 1, 2, 3].map(|m| Complex::load(block[n + m * q]));
            for (m, y) in radix4(a, &w).into_iter().enumerate() {
                block[n + m * q] = y.store();
            }
        }
    }
}

/// Even outputs `X[0], X[2], X[4], X[6]` of the 8-point DFT of `a`.
fn dft8_even(a: &[Complex; 8]) -> [Complex; 4] {
    let [y0, y4, y2, y6] = dft4([0, 1, 2, 3].map(|m| a[m].add(a[m + 4])));
    [y0, y2, y4, y6]
}

/// Odd outputs `X[1], X[3], X[5], X[7]` of the 8-point DFT of `a`: [`dft4`] of the
/// differences `a[m] - a[m + 4]` times `W8^m`.
fn dft8_odd(a: &[Complex; 8]) -> [Complex; 4] {
    let r = core::f32::consts::FRAC_1_SQRT_2;
    let d = [0, 1, 2, 3].map(|m| a[m].sub(a[m + 4]));
    // d[m] · W8^m: 1, (1 - i)/√2, -i, -(1 + i)/√2.
    let [y1, y5, y3, y7] = dft4([
        d[0],
        Complex {
            re: (d[1].re + d[1].im) * r,
            im: (d[1].im - d[1].re) * r,
        },
        d[2].mul_neg_i(),
        Complex {
            re: (d[3].im - d[3].re) * r,
            im: -((d[3].re + d[3].im) * r),
        },
    ]);
    [y1, y3, y5, y7]
}

/// `|X[k]|²` and `|X[M - k]|²` from `Z[k]` and `Z[M - k]` (`w = W^k`): with
/// `A = Z[k] + conj Z[M-k]` and `G = W^k · -i(Z[k] - conj Z[M-k])`, `X[k] = (A + G)/2` and
/// `X[M-k] = conj(A - G)/2`; the window carries the 1/2.
fn split_pair(zk: Complex, zmk: Complex, w: Complex) -> (f32, f32) {
    let a = Complex {
        re: zk.re + zmk.re,
        im: zk.im - zmk.im,
    };
    let b = Complex {
        re: zk.re - zmk.re,
        im: zk.im + zmk.im,
    };
    let g = w.mul(b.mul_neg_i());
    (a.add(g).norm_sqr(), a.sub(g).norm_sqr())
}

/// Last stage and real split: the 8-point DFTs of the blocks of `z` (radix-4 stages done),
/// then the power spectrum. Block `rev6(f)` holds `Z[f + 64·j]` (`f < 64`, `j = 0..8`) in
/// bit-reversed order; the even outputs of block `f` and the odd ones of block `64 - f` hold
/// the partners `Z[M - k]` of each other's `Z[k]`, and make 8 bins. (Each iteration computes
/// half of two blocks' DFTs: a whole pair of blocks does not fit the M4F's 32 registers.)
fn last_stage_and_split(z: &[[f32; 2]; M], power: &mut [f32; N_BINS]) {
    const S: usize = M / 8;
    let (blocks, []) = z.as_chunks::<8>() else {
        unreachable!("M is a multiple of 8")
    };
    let block = |f: usize| {
        blocks[((f as u32).reverse_bits() >> (32 - S.ilog2())) as usize].map(Complex::load)
    };
    split_first_block(z, power);
    for f in 1..S {
        // Z[f + 2S·q] and Z[S - f + S·(2q + 1)], q = 0..4.
        let a = dft8_even(&block(f));
        let b = dft8_odd(&block(S - f));
        for q in 0..2 {
            let k = f + 2 * S * q;
            (power[k], power[M - k]) = split_pair(a[q], b[3 - q], twiddle(k));
            let k = 2 * S - f + 2 * S * q;
            (power[k], power[M - k]) = split_pair(b[q], a[3 - q], twiddle(k));
        }
    }
}

/// The `f = 0` bins of [`last_stage_and_split`] (0, 64·j for j = 1..8, and `M`); also run by
/// the x86_64 AVX2 last stage, whose lanes do every other `f`.
#[inline(always)]
pub(crate) fn split_first_block(z: &[[f32; 2]; M], power: &mut [f32; N_BINS]) {
    const S: usize = M / 8;
    let (blocks, []) = z.as_chunks::<8>() else {
        unreachable!("M is a multiple of 8")
    };
    // Block rev6(0) = 0.
    let a = blocks[0].map(Complex::load);
    let [z0, z128, z256, z384] = dft8_even(&a);
    let [z64, z192, z320, z448] = dft8_odd(&a);
    power[0] = (2.0 * (z0.re + z0.im)) * (2.0 * (z0.re + z0.im));
    power[M] = (2.0 * (z0.re - z0.im)) * (2.0 * (z0.re - z0.im));
    power[M / 2] = 4.0 * z256.norm_sqr();
    for (k, zk, zmk) in [(S, z64, z448), (2 * S, z128, z384), (3 * S, z192, z320)] {
        (power[k], power[M - k]) = split_pair(zk, zmk, twiddle(k));
    }
}

/// A frame of `N_FFT` samples as its two halves, which need not be adjacent in memory (the
/// frontend keeps its last two hops in place instead of shifting them).
pub type Halves<'a> = [&'a [i16; N_FFT / 2]; 2];

/// Writes the one-sided power spectrum `|X[k]|²` (`k = 0..=N_FFT/2`) of
/// `x[n] = 2 · frame[n] · window[min(n, N_FFT - n)]` into `power`; `work` is the FFT buffer.
///
/// `window` is the first half of a symmetric window (`w[n] = w[N_FFT - n]`); the factor 2 is
/// the real split's 1/2, left to the window, where a caller folds it in exactly.
#[inline(never)] // one call per hop; out of line it measured faster on the M4F
pub fn power_spectrum(
    frame: Halves<'_>,
    window: &[f32; N_BINS],
    work: &mut [f32; N_FFT],
    power: &mut [f32; N_BINS],
) {
    // Opaque addresses: with the buffers at known addresses (the firmware's one static
    // `Frontend`, after LTO) the loops addressed them from shared bases at offsets beyond
    // the reach of `vldr`/`vstr`, 1,240 instructions per call more on the M4F.
    let frame = [black_box(frame[0]), black_box(frame[1])];
    let (work, power) = (black_box(work), black_box(power));
    let (z, []) = work.as_chunks_mut::<2>() else {
        unreachable!("N_FFT is even")
    };
    let z: &mut [[f32; 2]; M] = z.try_into().expect("M = N_FFT / 2 points");
    #[cfg(target_arch = "x86_64")]
    let done = crate::arch::x86::fft_first_stage(frame, window, z);
    #[cfg(not(target_arch = "x86_64"))]
    let done = false;
    if !done {
        first_stage(frame, window, z);
    }
    #[cfg(target_arch = "x86_64")]
    let done = crate::arch::x86::fft_middle_stages(z);
    #[cfg(not(target_arch = "x86_64"))]
    let done = false;
    if !done {
        stage::<{ M / 4 }>(z);
        stage::<{ M / 16 }>(z);
    }
    #[cfg(target_arch = "x86_64")]
    let done = crate::arch::x86::fft_last_stage_and_split(z, power);
    #[cfg(not(target_arch = "x86_64"))]
    let done = false;
    if !done {
        last_stage_and_split(z, power);
    }
}

/// [`power_spectrum`] with the portable stages (first, middle and last), for the host test that
/// compares the two (the x86_64 build runs them with AVX2 where the CPU has it).
#[cfg(target_arch = "x86_64")]
#[doc(hidden)]
pub fn power_spectrum_portable(
    frame: Halves<'_>,
    window: &[f32; N_BINS],
    work: &mut [f32; N_FFT],
    power: &mut [f32; N_BINS],
) {
    let (z, []) = work.as_chunks_mut::<2>() else {
        unreachable!("N_FFT is even")
    };
    let z: &mut [[f32; 2]; M] = z.try_into().expect("M = N_FFT / 2 points");
    first_stage(frame, window, z);
    stage::<{ M / 4 }>(z);
    stage::<{ M / 16 }>(z);
    last_stage_and_split(z, power);
}

/// The FFT buffer `z` (`N_FFT` f32s: `M` complex points, radix-4 stages done) as an array of
/// points.
#[cfg(target_arch = "x86_64")]
fn points(z: &[f32; N_FFT]) -> &[[f32; 2]; M] {
    let (z, []) = z.as_chunks::<2>() else {
        unreachable!("N_FFT is even")
    };
    z.try_into().expect("M = N_FFT / 2 points")
}

/// The last stage and real split as [`power_spectrum`] runs them on this CPU (AVX2 where it
/// has it) on any FFT buffer `z`, writing `|X[k]|²` into `power`: for the host test that
/// compares them with [`last_stage_portable`].
#[cfg(target_arch = "x86_64")]
#[doc(hidden)]
pub fn last_stage_host(z: &[f32; N_FFT], power: &mut [f32; N_BINS]) {
    let z = points(z);
    if !crate::arch::x86::fft_last_stage_and_split(z, power) {
        last_stage_and_split(z, power);
    }
}

/// The portable last stage and real split on any FFT buffer `z` (see [`last_stage_host`]).
#[cfg(target_arch = "x86_64")]
#[doc(hidden)]
pub fn last_stage_portable(z: &[f32; N_FFT], power: &mut [f32; N_BINS]) {
    last_stage_and_split(points(z), power);
}
