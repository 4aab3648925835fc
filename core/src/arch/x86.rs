//! The integer engine's dot products for x86_64 with AVX2, chosen at run time, with
//! [`super::portable`] as the fallback on a CPU without AVX2.
//!
//! **Detection.** With genre-core's `std` feature, `is_x86_feature_detected!("avx2")` (std
//! caches the answer: one load and a test per call); without it (genre-core is `no_std`), the
//! compile-time `target_feature = "avx2"` (e.g. `-C target-cpu=native`), else the portable
//! kernel. [`kernel`] names the one in use.
//!
//! **The kernel.** A gate's weights come in the blob's blocks of four rows
//! ([`super::GateBlocks`]): group `g` of a block is 16 bytes, the weights `4g..4g + 4` of each
//! of the block's four rows. `vpmovsxbw` widens a group to sixteen `i16` lanes (row 0 in lanes
//! 0–3, row 1 in 4–7, row 2 in 8–11, row 3 in 12–15); `vpmaddwd` multiplies them lane by
//! lane with the input's four values `x[4g..4g + 4]` repeated four times, and adds adjacent
//! products into eight `i32` lanes (two per row), which `vpaddd` accumulates over the groups.
//! Two blocks run side by side (two independent accumulators); one `vphaddd` and one
//! `vpermd` then fold each row's two lanes and store the eight rows in order.
//!
//! **Exactness.** Every product is an `i8` weight (−128..=127) times an input value that fits
//! `i16` (an `i8` feature, or a Q15 hidden value, −32768..=32767): `|w·x| ≤ 128 · 32768 =
//! 2^22`, so `vpmaddwd`'s sum of two products is exact (`≤ 2^23`; its one overflowing case,
//! both pairs −32768 · −32768, needs a weight of −32768). A row has at most 64 terms
//! (`4 · GROUPS ≤ 64`), so every partial sum, in any order, is at most `64 · 2^22 = 2^28 <
//! 2^31`: no `i32` addition overflows, integer addition is associative and commutative, and
//! the result equals the portable kernel's sum bit for bit whatever the order of the terms.

use super::portable;
use super::{GateBlocks, GateOperand};
use crate::config::{HIDDEN, N_FEATURES};
use crate::format::{BLOCK_ROWS, PADDED_FEATURES};

use core::arch::x86_64::{
    __m256i, _mm256_add_epi32, _mm256_cvtepi8_epi16, _mm256_hadd_epi32, _mm256_madd_epi16,
    _mm256_permutevar8x32_epi32, _mm256_set1_epi64x, _mm256_setr_epi32, _mm256_setzero_si256,
    _mm256_storeu_si256, _mm_loadu_si128,
};

/// Values packed per `u32` of the engine's hidden state.
const PAIRS: usize = HIDDEN / 2;
/// Groups of four values in a hidden state.
const HIDDEN_GROUPS: usize = HIDDEN / 4;
/// Groups of four values in layer 0's padded input.
const FEATURE_GROUPS: usize = PADDED_FEATURES / 4;
/// Blocks per gate; the kernel takes them two at a time.
const BLOCKS: usize = HIDDEN / BLOCK_ROWS;
const _: () = assert!(BLOCK_ROWS == 4 && BLOCKS.is_multiple_of(2));
// The exactness argument above: at most 64 terms a row.
const _: () = assert!(4 * FEATURE_GROUPS <= 64 && 4 * HIDDEN_GROUPS <= 64);

/// Whether this CPU runs the AVX2 kernel (see the module docs for how it is decided).
#[inline]
#[must_use]
pub fn avx2() -> bool {
    #[cfg(feature = "std")]
    {
        std::is_x86_feature_detected!("avx2")
    }
    #[cfg(not(feature = "std"))]
    {
        cfg!(target_feature = "avx2")
    }
}

/// The dot-product kernel in use: `"avx2"` or `"portable"`.
#[must_use]
pub fn kernel() -> &'static str {
    if avx2() {
        "avx2"
    } else {
        "portable"
    }
}

/// Four values (each within `i16`) as the `i16` lanes of one `u64`, low lane first.
#[inline]
fn pack4(x: &[i32; 4]) -> u64 {
    x.iter()
        .rev()
        .fold(0u64, |acc, &v| (acc << 16) | u64::from(v as i16 as u16))
}

/// An input prepared for both kernels: the portable operand (fallback) and, per group, its
/// four values as `i16` lanes.
#[derive(Clone, Copy, Debug)]
struct Packed<P, const GROUPS: usize> {
    portable: P,
    lanes: [u64; GROUPS],
}

/// Layer 0's input: the quantised features, zero-padded to whole groups.
#[derive(Clone, Copy, Debug)]
pub struct FeatureOperand(Packed<portable::FeatureOperand, FEATURE_GROUPS>);

impl FeatureOperand {
    /// Prepares `x` (from [`crate::format::Model::quantize_input`]).
    #[inline]
    #[must_use]
    pub fn new(x: &[i8; N_FEATURES]) -> Self {
        let lanes = core::array::from_fn(|g| {
            pack4(&core::array::from_fn(|k| {
                x.get(4 * g + k).map_or(0, |&v| i32::from(v))
            }))
        });
        Self(Packed {
            portable: portable::FeatureOperand::new(x),
            lanes,
        })
    }
}

impl GateOperand<FEATURE_GROUPS> for FeatureOperand {
    #[inline]
    fn dot_gate(&self, rows: &GateBlocks<FEATURE_GROUPS>, out: &mut [i32; HIDDEN]) {
        if avx2() {
            // Safety: the CPU has AVX2 (just checked).
            unsafe { dot_blocks_avx2(rows, &self.0.lanes, out) }
        } else {
            self.0.portable.dot_gate(rows, out);
        }
    }
}

/// A hidden state (Q15) as a layer input.
#[derive(Clone, Copy, Debug)]
pub struct HiddenOperand(Packed<portable::HiddenOperand, HIDDEN_GROUPS>);

impl HiddenOperand {
    /// Prepares the packed hidden state `h` (pairs `(h[2p], h[2p + 1])`): a group of four
    /// values is two pairs, already two `i16` lanes each.
    #[inline]
    #[must_use]
    pub fn new(h: &[u32; PAIRS]) -> Self {
        let lanes = core::array::from_fn(|g| u64::from(h[2 * g]) | (u64::from(h[2 * g + 1]) << 32));
        Self(Packed {
            portable: portable::HiddenOperand::new(h),
            lanes,
        })
    }
}

impl GateOperand<HIDDEN_GROUPS> for HiddenOperand {
    #[inline]
    fn dot_gate(&self, rows: &GateBlocks<HIDDEN_GROUPS>, out: &mut [i32; HIDDEN]) {
        if avx2() {
            // Safety: the CPU has AVX2 (just checked).
            unsafe { dot_blocks_avx2(rows, &self.0.lanes, out) }
        } else {
            self.0.portable.dot_gate(rows, out);
        }
    }
}

/// The dot products of one gate's rows with the input whose group `g` is the four `i16`
/// lanes of `lanes[g]` (see the module docs).
///
/// # Safety
/// The CPU must have AVX2.
#[target_feature(enable = "avx2")]
unsafe fn dot_blocks_avx2<const GROUPS: usize>(
    rows: &GateBlocks<GROUPS>,
    lanes: &[u64; GROUPS],
    out: &mut [i32; HIDDEN],
) {
    // Each group's four values, repeated for the four rows of a block.
    let x: [__m256i; GROUPS] = core::array::from_fn(|g| _mm256_set1_epi64x(lanes[g] as i64));
    // `vphaddd` leaves (block A rows 0, 1, block B rows 0, 1, A 2, 3, B 2, 3); this puts the
    // rows in order.
    let order = _mm256_setr_epi32(0, 1, 4, 5, 2, 3, 6, 7);
    let (pairs, _) = rows.as_chunks::<2>();
    let (outs, _) = out.as_chunks_mut::<{ 2 * BLOCK_ROWS }>();
    for (pair, o) in pairs.iter().zip(outs) {
        let (mut acc_a, mut acc_b) = (_mm256_setzero_si256(), _mm256_setzero_si256());
        for ((ga, gb), xg) in pair[0].iter().zip(&pair[1]).zip(&x) {
            // Safety: `ga` and `gb` are 16-byte arrays; `loadu` needs no alignment.
            let (wa, wb) = unsafe {
                (
                    _mm_loadu_si128(ga.as_ptr().cast()),
                    _mm_loadu_si128(gb.as_ptr().cast()),
                )
            };
            let (wa, wb) = (_mm256_cvtepi8_epi16(wa), _mm256_cvtepi8_epi16(wb));
            acc_a = _mm256_add_epi32(acc_a, _mm256_madd_epi16(wa, *xg));
            acc_b = _mm256_add_epi32(acc_b, _mm256_madd_epi16(wb, *xg));
        }
        let rows8 = _mm256_permutevar8x32_epi32(_mm256_hadd_epi32(acc_a, acc_b), order);
        // Safety: `o` is 8 `i32` (32 bytes); `storeu` needs no alignment.
        unsafe { _mm256_storeu_si256(o.as_mut_ptr().cast(), rows8) };
    }
}

/// Replaces every value by its correctly rounded IEEE 754 square root: `sqrtps` (SSE, part of
/// every x86_64 CPU), four at a time, and `libm::sqrtf` for the rest. Both round correctly,
/// so the bits are [`portable::sqrt_in_place`]'s. (Eight lanes with AVX measured no faster.)
#[inline]
pub fn sqrt_in_place(values: &mut [f32]) {
    use core::arch::x86_64::{_mm_loadu_ps, _mm_sqrt_ps, _mm_storeu_ps};
    let (quads, rest) = values.as_chunks_mut::<4>();
    for q in quads {
        // Safety: SSE is part of the x86_64 baseline; `q` is 4 f32s, and `loadu`/`storeu`
        // need no alignment.
        unsafe { _mm_storeu_ps(q.as_mut_ptr(), _mm_sqrt_ps(_mm_loadu_ps(q.as_ptr()))) };
    }
    portable::sqrt_in_place(rest);
}
