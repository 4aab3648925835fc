//! The kernels in portable Rust: what every target but the Cortex-M4F/M7 runs (the host, the
//! Cortex-M0+), and the reference the Arm DSP kernels are compared with on the device.

use super::{Activation, GateBlocks, GateOperand};
use crate::config::{HIDDEN, N_FEATURES};
use crate::fixed::{requantize, round_shr, sat_i16, sigmoid_q15, tanh_q15, Requant, ACT_FRAC_BITS};
use crate::format::{le_i32, BLOCK_ROWS, PADDED_FEATURES, ROW_RECORD};
use crate::lstm::GATES;
use crate::quant::PRE_FRAC_BITS;

/// Values packed per `u32` of a hidden state: `h[2p]` in the low half, `h[2p + 1]` high.
const PAIRS: usize = HIDDEN / 2;
/// Groups of four values in a hidden state.
const HIDDEN_GROUPS: usize = HIDDEN / 4;
/// Groups of four values in layer 0's padded input.
const FEATURE_GROUPS: usize = PADDED_FEATURES / 4;
const _: () = assert!(HIDDEN.is_multiple_of(BLOCK_ROWS) && HIDDEN.is_multiple_of(4));

/// The dot products of one gate's rows with `x` (`4 · GROUPS` values), block by block.
#[inline]
fn dot_blocks<const GROUPS: usize>(
    rows: &GateBlocks<GROUPS>,
    x: &[[i32; 4]; GROUPS],
    out: &mut [i32; HIDDEN],
) {
    let (accs, _) = out.as_chunks_mut::<BLOCK_ROWS>();
    for (acc, block) in accs.iter_mut().zip(rows) {
        *acc = [0; BLOCK_ROWS];
        for (group, xg) in block.iter().zip(x) {
            let (words, _) = group.as_chunks::<4>();
            for (a, w) in acc.iter_mut().zip(words) {
                for (&wk, &xk) in w.iter().zip(xg) {
                    *a += i32::from(wk as i8) * xk;
                }
            }
        }
    }
}

/// Layer 0's input: the quantised features, zero-padded to whole groups.
#[derive(Clone, Copy, Debug)]
pub struct FeatureOperand([[i32; 4]; FEATURE_GROUPS]);

impl FeatureOperand {
    /// Prepares `x` (from [`crate::format::Model::quantize_input`]).
    #[inline]
    #[must_use]
    pub fn new(x: &[i8; N_FEATURES]) -> Self {
        Self(core::array::from_fn(|g| {
            core::array::from_fn(|k| x.get(4 * g + k).map_or(0, |&v| i32::from(v)))
        }))
    }
}

impl GateOperand<FEATURE_GROUPS> for FeatureOperand {
    #[inline]
    fn dot_gate(&self, rows: &GateBlocks<FEATURE_GROUPS>, out: &mut [i32; HIDDEN]) {
        dot_blocks(rows, &self.0, out);
    }
}

/// A hidden state (Q15) as a layer input.
#[derive(Clone, Copy, Debug)]
pub struct HiddenOperand([[i32; 4]; HIDDEN_GROUPS]);

impl HiddenOperand {
    /// Prepares the packed hidden state `h` (pairs `(h[2p], h[2p + 1])`).
    #[inline]
    #[must_use]
    pub fn new(h: &[u32; PAIRS]) -> Self {
        let v = |p: u32| [i32::from(p as u16 as i16), (p as i32) >> 16];
        Self(core::array::from_fn(|g| {
            let ([a, b], [c, d]) = (v(h[2 * g]), v(h[2 * g + 1]));
            [a, b, c, d]
        }))
    }
}

impl GateOperand<HIDDEN_GROUPS> for HiddenOperand {
    #[inline]
    fn dot_gate(&self, rows: &GateBlocks<HIDDEN_GROUPS>, out: &mut [i32; HIDDEN]) {
        dot_blocks(rows, &self.0, out);
    }
}

/// One gate's outputs (Q15) from its accumulators (`acc[0]` the input path's, `acc[1]` the
/// recurrent path's): `act(requantize(ax, rx) + requantize(ah, rh) + bias)` per row, each
/// addition saturating, the pre-activation in Q16 ([`PRE_FRAC_BITS`]). `records` and `shifts`
/// are the rows' numbers as the blob stores them; every factor must be
/// [`Requant::is_valid`] (the parser checked them).
///
/// # Panics
/// In debug builds, for a shift outside 1..=62 (a shift overflow).
#[inline]
pub fn gate_outputs(
    act: Activation,
    acc: &[[i32; HIDDEN]; 2],
    records: &[[u8; ROW_RECORD]; HIDDEN],
    shifts: &[[u8; 2]; HIDDEN],
    out: &mut [i16; HIDDEN],
) {
    let rows = out
        .iter_mut()
        .zip(acc[0].iter().zip(&acc[1]))
        .zip(records.iter().zip(shifts));
    for ((o, (&ax, &ah)), (rec, sh)) in rows {
        let (mx, mh, bias) = (le_i32(&rec[0..4]), le_i32(&rec[4..8]), le_i32(&rec[8..12]));
        let z = requantize(
            ax,
            Requant {
                mult: mx,
                shift: sh[0],
            },
        )
        .saturating_add(requantize(
            ah,
            Requant {
                mult: mh,
                shift: sh[1],
            },
        ))
        .saturating_add(bias);
        *o = match act {
            Activation::Sigmoid => sigmoid_q15(z, PRE_FRAC_BITS),
            Activation::Tanh => tanh_q15(z, PRE_FRAC_BITS),
        };
    }
}

/// Cell and hidden update of one layer's [`HIDDEN`] units from its gates (Q15, `[i; f; g; o]`):
/// per unit `c' = sat((f·c) >> 15 + (i·g) >> (30 - n))` (rounding shifts, saturated to ±32767)
/// in place in `c` (`n` = `cell_frac_bits` fraction bits), and `h = (o · tanh(c')) >> 15`
/// (Q15) written as the engine's pairs (`h[2p]` low half, `h[2p + 1]` high).
///
/// # Panics
/// In debug builds, for `cell_frac_bits` outside
/// [`MIN_CELL_FRAC_BITS`](crate::format::MIN_CELL_FRAC_BITS)`..=`[`MAX_CELL_FRAC_BITS`](crate::format::MAX_CELL_FRAC_BITS)
/// (a shift overflow); the weights parser admits no other value.
#[inline]
pub fn cell_update(
    gates: &[i16; GATES],
    c: &mut [i16; HIDDEN],
    h: &mut [u32; PAIRS],
    cell_frac_bits: u32,
) {
    let n = cell_frac_bits;
    let unit = |c: &mut i16, k: usize| {
        let i = i32::from(gates[k]);
        let f = i32::from(gates[HIDDEN + k]);
        let g = i32::from(gates[2 * HIDDEN + k]);
        let o = i32::from(gates[3 * HIDDEN + k]);
        // |each product| ≤ 2^30: no overflow.
        let fc = round_shr(f * i32::from(*c), ACT_FRAC_BITS);
        let ig = round_shr(i * g, 2 * ACT_FRAC_BITS - n);
        *c = sat_i16(fc + ig);
        let t = i32::from(tanh_q15(i32::from(*c), n));
        sat_i16(round_shr(o * t, ACT_FRAC_BITS)) as u16
    };
    for (p, (pair, cp)) in h.iter_mut().zip(c.chunks_exact_mut(2)).enumerate() {
        let lo = unit(&mut cp[0], 2 * p);
        let hi = unit(&mut cp[1], 2 * p + 1);
        *pair = u32::from(lo) | (u32::from(hi) << 16);
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
