//! The integer engine's dot products for aarch64 with NEON (Advanced SIMD, part of every
//! aarch64 core, so no run-time check is needed).
//!
//! **The kernel.** A gate's weights come in the blob's blocks of four rows
//! ([`super::GateBlocks`]): group `g` of a block is 16 bytes, the weights `4g..4g + 4` of each
//! of the block's four rows. One `ld1` loads a group, two `sxtl` widen it to two vectors of
//! eight `i16` (rows 0 and 1, rows 2 and 3), and `smlal`/`smlal2` multiply each row's four
//! weights by the input's four values `x[4g..4g + 4]` into four `i32` lanes per row, which
//! accumulate over the groups; `addv` then adds each row's four lanes.
//!
//! **Exactness.** Every product is an `i8` weight (−128..=127) times an input value that fits
//! `i16` (an `i8` feature, or a Q15 hidden value): `|w·x| ≤ 128 · 32768 = 2^22`, exact in
//! `smlal`'s `i32` lanes. A row has at most 64 terms (`4 · GROUPS ≤ 64`), so every partial
//! sum, in any order, is at most `64 · 2^22 = 2^28 < 2^31`: no `i32` addition overflows,
//! integer addition is associative and commutative, and the result equals
//! [`super::portable`]'s sum bit for bit.

use super::{GateBlocks, GateOperand};
use crate::config::{HIDDEN, N_FEATURES};
use crate::format::{BLOCK_ROWS, PADDED_FEATURES};

use core::arch::aarch64::{
    int16x8_t, vaddvq_s32, vcombine_s16, vcreate_s16, vdupq_n_s32, vget_high_s8, vget_low_s16,
    vget_low_s8, vld1q_s8, vmlal_high_s16, vmlal_s16, vmovl_s8,
};

/// Values packed per `u32` of the engine's hidden state.
const PAIRS: usize = HIDDEN / 2;
/// Groups of four values in a hidden state.
const HIDDEN_GROUPS: usize = HIDDEN / 4;
/// Groups of four values in layer 0's padded input.
const FEATURE_GROUPS: usize = PADDED_FEATURES / 4;
const _: () = assert!(BLOCK_ROWS == 4);
// The exactness argument above: at most 64 terms a row.
const _: () = assert!(4 * FEATURE_GROUPS <= 64 && 4 * HIDDEN_GROUPS <= 64);

/// The dot-product kernel in use.
#[must_use]
pub fn kernel() -> &'static str {
    "neon"
}

/// Four values (each within `i16`) as the `i16` lanes of one `u64`, low lane first.
#[inline]
fn pack4(x: &[i32; 4]) -> u64 {
    x.iter()
        .rev()
        .fold(0u64, |acc, &v| (acc << 16) | u64::from(v as i16 as u16))
}

/// Layer 0's input: the quantised features, zero-padded to whole groups, per group four
/// `i16` lanes.
#[derive(Clone, Copy, Debug)]
pub struct FeatureOperand([u64; FEATURE_GROUPS]);

impl FeatureOperand {
    /// Prepares `x` (from [`crate::format::Model::quantize_input`]).
    #[inline]
    #[must_use]
    pub fn new(x: &[i8; N_FEATURES]) -> Self {
        Self(core::array::from_fn(|g| {
            pack4(&core::array::from_fn(|k| {
                x.get(4 * g + k).map_or(0, |&v| i32::from(v))
            }))
        }))
    }
}

impl GateOperand<FEATURE_GROUPS> for FeatureOperand {
    #[inline]
    fn dot_gate(&self, rows: &GateBlocks<FEATURE_GROUPS>, out: &mut [i32; HIDDEN]) {
        // Safety: NEON is part of every aarch64 core (the aarch64 targets enable it).
        unsafe { dot_blocks(rows, &self.0, out) }
    }
}

/// A hidden state (Q15) as a layer input.
#[derive(Clone, Copy, Debug)]
pub struct HiddenOperand([u64; HIDDEN_GROUPS]);

impl HiddenOperand {
    /// Prepares the packed hidden state `h` (pairs `(h[2p], h[2p + 1])`): a group of four
    /// values is two pairs, already two `i16` lanes each.
    #[inline]
    #[must_use]
    pub fn new(h: &[u32; PAIRS]) -> Self {
        Self(core::array::from_fn(|g| {
            u64::from(h[2 * g]) | (u64::from(h[2 * g + 1]) << 32)
        }))
    }
}

impl GateOperand<HIDDEN_GROUPS> for HiddenOperand {
    #[inline]
    fn dot_gate(&self, rows: &GateBlocks<HIDDEN_GROUPS>, out: &mut [i32; HIDDEN]) {
        // Safety: NEON is part of every aarch64 core (the aarch64 targets enable it).
        unsafe { dot_blocks(rows, &self.0, out) }
    }
}

/// The dot products of one gate's rows with the input whose group `g` is the four `i16`
/// lanes of `lanes[g]` (see the module docs).
#[target_feature(enable = "neon")]
fn dot_blocks<const GROUPS: usize>(
    rows: &GateBlocks<GROUPS>,
    lanes: &[u64; GROUPS],
    out: &mut [i32; HIDDEN],
) {
    // Each group's four values, twice (for `smlal2`'s high half).
    let x: [int16x8_t; GROUPS] = core::array::from_fn(|g| {
        let v = vcreate_s16(lanes[g]);
        vcombine_s16(v, v)
    });
    let (outs, _) = out.as_chunks_mut::<BLOCK_ROWS>();
    for (block, o) in rows.iter().zip(outs) {
        let mut acc = [vdupq_n_s32(0); BLOCK_ROWS];
        for (group, xg) in block.iter().zip(&x) {
            // Safety: `group` is 16 bytes; `ld1` needs no alignment.
            let w = unsafe { vld1q_s8(group.as_ptr().cast()) };
            let (w01, w23) = (vmovl_s8(vget_low_s8(w)), vmovl_s8(vget_high_s8(w)));
            let xl = vget_low_s16(*xg);
            acc[0] = vmlal_s16(acc[0], vget_low_s16(w01), xl);
            acc[1] = vmlal_high_s16(acc[1], w01, *xg);
            acc[2] = vmlal_s16(acc[2], vget_low_s16(w23), xl);
            acc[3] = vmlal_high_s16(acc[3], w23, *xg);
        }
        *o = acc.map(|a| vaddvq_s32(a));
    }
}

/// Replaces every value by its correctly rounded IEEE 754 square root: `fsqrt` on four lanes
/// at a time, and `libm::sqrtf` for the rest. Both round correctly, so the bits are
/// [`super::portable::sqrt_in_place`]'s.
#[inline]
pub fn sqrt_in_place(values: &mut [f32]) {
    use core::arch::aarch64::{vld1q_f32, vsqrtq_f32, vst1q_f32};
    let (quads, rest) = values.as_chunks_mut::<4>();
    for q in quads {
        // Safety: NEON is part of every aarch64 core; `q` is 4 f32s, and `ld1`/`st1` need no
        // alignment.
        unsafe { vst1q_f32(q.as_mut_ptr(), vsqrtq_f32(vld1q_f32(q.as_ptr()))) };
    }
    super::portable::sqrt_in_place(rest);
}
