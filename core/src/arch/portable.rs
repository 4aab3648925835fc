//! The kernels in portable Rust: what every target but the Cortex-M4F/M7 runs (the host, the
//! Cortex-M0+), and the reference the Arm DSP kernels are compared with on the device.

use super::GateOperand;
use crate::config::{HIDDEN, N_FEATURES};

/// Values packed per `u32` of a hidden state: `h[2p]` in the low half, `h[2p + 1]` high.
const PAIRS: usize = HIDDEN / 2;
/// Weight rows computed together, so that each input value is loaded once per block.
const BLOCK: usize = 4;
const _: () = assert!(HIDDEN.is_multiple_of(BLOCK) && HIDDEN.is_multiple_of(2));

/// The two Q15 values of a packed pair.
#[inline]
fn unpack(pair: u32) -> (i32, i32) {
    (i32::from(pair as u16 as i16), (pair as i32) >> 16)
}

/// Layer 0's input: the quantised features.
#[derive(Clone, Copy, Debug)]
pub struct FeatureOperand([i8; N_FEATURES]);

impl FeatureOperand {
    /// Prepares `x` (from [`crate::format::Model::quantize_input`]).
    #[inline]
    #[must_use]
    pub fn new(x: &[i8; N_FEATURES]) -> Self {
        Self(*x)
    }
}

impl GateOperand<N_FEATURES> for FeatureOperand {
    #[inline]
    fn dot_gate(&self, rows: &[[u8; N_FEATURES]; HIDDEN], out: &mut [i32; HIDDEN]) {
        // No remainders: HIDDEN is a multiple of BLOCK.
        let (blocks, _) = rows.as_chunks::<BLOCK>();
        let (accs, _) = out.as_chunks_mut::<BLOCK>();
        for (acc, w) in accs.iter_mut().zip(blocks) {
            *acc = [0; BLOCK];
            for (k, &x) in self.0.iter().enumerate() {
                let x = i32::from(x);
                for (a, row) in acc.iter_mut().zip(w) {
                    *a += i32::from(row[k] as i8) * x;
                }
            }
        }
    }
}

/// A hidden state (Q15) as a layer input, in the engine's packed pairs.
#[derive(Clone, Copy, Debug)]
pub struct HiddenOperand([u32; PAIRS]);

impl HiddenOperand {
    /// Prepares the packed hidden state `h` (pairs `(h[2p], h[2p + 1])`).
    #[inline]
    #[must_use]
    pub fn new(h: &[u32; PAIRS]) -> Self {
        Self(*h)
    }
}

impl GateOperand<HIDDEN> for HiddenOperand {
    #[inline]
    fn dot_gate(&self, rows: &[[u8; HIDDEN]; HIDDEN], out: &mut [i32; HIDDEN]) {
        // No remainders: HIDDEN is a multiple of BLOCK.
        let (blocks, _) = rows.as_chunks::<BLOCK>();
        let (accs, _) = out.as_chunks_mut::<BLOCK>();
        for (acc, w) in accs.iter_mut().zip(blocks) {
            *acc = [0; BLOCK];
            for (p, &pair) in self.0.iter().enumerate() {
                let (lo, hi) = unpack(pair);
                for (a, row) in acc.iter_mut().zip(w) {
                    *a += i32::from(row[2 * p] as i8) * lo + i32::from(row[2 * p + 1] as i8) * hi;
                }
            }
        }
    }
}

/// Replaces every value by its correctly rounded IEEE 754 square root (`libm::sqrtf`).
#[inline]
pub fn sqrt_in_place(values: &mut [f32]) {
    for x in values.iter_mut() {
        *x = libm::sqrtf(*x);
    }
}

/// `acc + Σ a[i]·b[i]` over the common length, each product rounded and then added, strictly
/// in index order (so it equals a plain loop and the `vmla.f32` kernel, which does not fuse);
/// unrolled by four, which the compiler does not do for a serial float sum.
#[must_use]
#[inline(never)] // inlined into its callers, it measured slower on the M4F
pub fn dot_f32(mut acc: f32, a: &[f32], b: &[f32]) -> f32 {
    let n = a.len().min(b.len());
    let (a, b) = (&a[..n], &b[..n]);
    let (a4, b4) = (a.chunks_exact(4), b.chunks_exact(4));
    let (a1, b1) = (a4.remainder(), b4.remainder());
    for (x, y) in a4.zip(b4) {
        acc += x[0] * y[0];
        acc += x[1] * y[1];
        acc += x[2] * y[2];
        acc += x[3] * y[3];
    }
    for (&x, &y) in a1.iter().zip(b1) {
        acc += x * y;
    }
    acc
}
