//! The integer engine's dot products, gate epilogue and cell update for x86_64 with AVX2, chosen at run
//! time, with [`super::portable`] as the fallback on a CPU without AVX2; the frontend's
//! square roots (SSE); and the FFT's stages with AVX2, also chosen at run time, bit-exact with
//! [`crate::fft`]'s scalar ones ([`fft_first_stage`], [`fft_middle_stages`],
//! [`fft_last_stage_and_split`]).
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
//!
//! **The gate epilogue** ([`gate_outputs`]) runs [`crate::fixed`]'s integer formulas lane by
//! lane, eight rows at a time, with the same intermediate values: the high half of the exact
//! 64-bit product (`vpmuldq`, even and odd lanes), the same shifts (`vpsravd`), saturating
//! additions built from the wrapped sum and its overflow test, the tanh table's two entries by
//! scalar loads and the same rounded `u32` interpolation; for shifts of 32 and less (the other
//! branch of [`crate::fixed::requantize`]) the exact 64-bit sum and shift, saturated to `i32`.
//! The cell update ([`cell_update`]) likewise, eight units at a time. Integer operations
//! only, so the bits are the portable ones; the host test
//! `core/tests/simd_kernels.rs` compares both on random and extreme inputs.

use super::portable;
use super::{Activation, GateBlocks, GateOperand};
use crate::config::{HIDDEN, N_FEATURES};
use crate::fixed::{ACT_FRAC_BITS, TANH_INTERVALS, TANH_STEP_BITS, TANH_TABLE};
use crate::format::{
    le_i32, BLOCK_ROWS, MAX_CELL_FRAC_BITS, MIN_CELL_FRAC_BITS, PADDED_FEATURES, ROW_RECORD,
};
use crate::lstm::GATES;
use crate::quant::PRE_FRAC_BITS;

use core::arch::x86_64::{
    __m256, __m256i, _mm256_abs_epi32, _mm256_add_epi32, _mm256_add_epi64, _mm256_and_si256,
    _mm256_blend_epi32, _mm256_blendv_epi8, _mm256_castsi256_si128, _mm256_cmpeq_epi32,
    _mm256_cmpgt_epi32, _mm256_cmpgt_epi64, _mm256_cvtepi16_epi32, _mm256_cvtepi8_epi16,
    _mm256_hadd_epi32, _mm256_loadu_si256, _mm256_madd_epi16, _mm256_max_epi32, _mm256_max_epu32,
    _mm256_min_epi32, _mm256_min_epu32, _mm256_mul_epi32, _mm256_mullo_epi32, _mm256_or_si256,
    _mm256_packs_epi32, _mm256_permute4x64_epi64, _mm256_permutevar8x32_epi32, _mm256_set1_epi32,
    _mm256_set1_epi64x, _mm256_setr_epi32, _mm256_setzero_si256, _mm256_shuffle_epi32,
    _mm256_sign_epi32, _mm256_slli_epi32, _mm256_slli_epi64, _mm256_sllv_epi64, _mm256_sra_epi32,
    _mm256_srai_epi32, _mm256_srav_epi32, _mm256_srl_epi32, _mm256_srli_epi64, _mm256_srlv_epi64,
    _mm256_storeu_si256, _mm256_sub_epi32, _mm256_sub_epi64, _mm256_testz_si256, _mm256_xor_si256,
    _mm_cvtsi32_si128, _mm_loadu_si128, _mm_storeu_si128,
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

/// [`TANH_TABLE`] at an address, for the gathers.
static TANH: [i16; TANH_INTERVALS + 1] = TANH_TABLE;

/// One gate's outputs from its accumulators, as [`portable::gate_outputs`] (same arguments,
/// same bits): with AVX2, eight rows at a time (see `gate_outputs_avx2`), else the portable
/// loop.
///
/// # Panics
/// In debug builds, as [`portable::gate_outputs`].
#[inline]
pub fn gate_outputs(
    act: Activation,
    acc: &[[i32; HIDDEN]; 2],
    records: &[[u8; ROW_RECORD]; HIDDEN],
    shifts: &[[u8; 2]; HIDDEN],
    out: &mut [i16; HIDDEN],
) {
    if avx2() {
        // Safety: the CPU has AVX2 (just checked).
        unsafe { gate_outputs_avx2(act, acc, records, shifts, out) }
    } else {
        portable::gate_outputs(act, acc, records, shifts, out);
    }
}

/// `a + b` per `i32` lane, saturating (AVX2 has no saturating 32-bit add): on overflow (both
/// operands of one sign, the wrapped sum of the other) the rail of `a`'s sign.
#[target_feature(enable = "avx2")]
fn adds_epi32(a: __m256i, b: __m256i) -> __m256i {
    let s = _mm256_add_epi32(a, b);
    let overflow = _mm256_srai_epi32(
        _mm256_and_si256(_mm256_xor_si256(s, a), _mm256_xor_si256(s, b)),
        31,
    );
    let rail = _mm256_xor_si256(_mm256_srai_epi32(a, 31), _mm256_set1_epi32(i32::MAX));
    _mm256_blendv_epi8(s, rail, overflow)
}

/// [`crate::fixed::requantize`] per lane for shifts above 32 (the caller checked): the high
/// half of the 64-bit product `acc · mult`, then `((hi >> (shift - 33)) + 1) >> 1`, the same
/// integer steps.
#[target_feature(enable = "avx2")]
fn requantize_high(acc: __m256i, mult: __m256i, shift: __m256i) -> __m256i {
    // Signed 32 × 32 → 64 products of the even lanes, then of the odd ones (moved down).
    let even = _mm256_mul_epi32(acc, mult);
    let odd = _mm256_mul_epi32(_mm256_srli_epi64(acc, 32), _mm256_srli_epi64(mult, 32));
    // High halves: the even products' moved down into the even lanes, the odd ones' in place.
    let hi = _mm256_blend_epi32(_mm256_srli_epi64(even, 32), odd, 0b1010_1010);
    let t = _mm256_srav_epi32(hi, _mm256_sub_epi32(shift, _mm256_set1_epi32(33)));
    _mm256_srai_epi32(_mm256_add_epi32(t, _mm256_set1_epi32(1)), 1)
}

/// [`crate::fixed::requantize`]'s branch for shifts of 32 and less, per 64-bit lane (the even
/// `i32` lanes of `acc`, `mult` and `shift`; the caller moves the odd ones down): `p = acc ·
/// mult + 2^(shift - 1)` exactly in `i64`, `r = p >> shift` (arithmetic: a logical shift of
/// `p` with its sign flipped away and back), and `r` when it fits `i32`, else the rail of `p`'s
/// sign, as the scalar code's two halves compute it. The result in the even `i32` lanes.
#[target_feature(enable = "avx2")]
fn requantize_low_even(acc: __m256i, mult: __m256i, shift: __m256i) -> __m256i {
    let shift = _mm256_and_si256(shift, _mm256_set1_epi64x(0xffff_ffff));
    let one = _mm256_set1_epi64x(1);
    let round = _mm256_sllv_epi64(one, _mm256_sub_epi64(shift, one));
    let p = _mm256_add_epi64(_mm256_mul_epi32(acc, mult), round);
    let sign = _mm256_cmpgt_epi64(_mm256_setzero_si256(), p);
    let r = _mm256_xor_si256(_mm256_srlv_epi64(_mm256_xor_si256(p, sign), shift), sign);
    // Fits i32: the high half equals the low half's sign (compared in the odd lanes).
    let low_sign = _mm256_slli_epi64(_mm256_srai_epi32(r, 31), 32);
    let fits = _mm256_cmpeq_epi32(low_sign, r);
    let fits = _mm256_shuffle_epi32::<0b1111_0101>(fits);
    let rail = _mm256_xor_si256(sign, _mm256_set1_epi64x(i64::from(i32::MAX)));
    _mm256_blendv_epi8(rail, r, fits)
}

/// [`crate::fixed::requantize`] per lane: [`requantize_high`] where the shift exceeds 32,
/// [`requantize_low_even`] (on the even and the odd lanes) where it does not; computed only
/// when some lane needs it.
#[target_feature(enable = "avx2")]
fn requantize_lanes(acc: __m256i, mult: __m256i, shift: __m256i) -> __m256i {
    let high = requantize_high(acc, mult, shift);
    let low_lanes = _mm256_cmpgt_epi32(_mm256_set1_epi32(33), shift);
    if _mm256_testz_si256(low_lanes, low_lanes) != 0 {
        return high;
    }
    let even = requantize_low_even(acc, mult, shift);
    let odd = requantize_low_even(
        _mm256_srli_epi64(acc, 32),
        _mm256_srli_epi64(mult, 32),
        _mm256_srli_epi64(shift, 32),
    );
    let low = _mm256_blend_epi32(even, _mm256_slli_epi64(odd, 32), 0b1010_1010);
    _mm256_blendv_epi8(high, low, low_lanes)
}

/// [`crate::fixed::tanh_q15`] per lane with `s = frac_bits - TANH_STEP_BITS` in 0..=20 (the
/// caller's constant; at 0 the interpolation adds nothing, as the scalar code's table read): the table index and fraction of `|x|`, the two neighbouring entries (one
/// 32-bit gather of two `i16`), the same rounded interpolation in `u32`, 32767 from index
/// `TANH_INTERVALS` on, the sign put back.
///
/// # Safety
/// The CPU must have AVX2.
#[target_feature(enable = "avx2")]
unsafe fn tanh_lanes(x: __m256i, s: u32) -> __m256i {
    let shift = _mm256_set1_epi64x(i64::from(s));
    // |x| as u32 (|i32::MIN| = 2^31 too).
    let a = _mm256_abs_epi32(x);
    let idx = _mm256_srl_epi32(a, _mm256_castsi256_si128(shift));
    let last = _mm256_set1_epi32(TANH_INTERVALS as i32);
    // idx ≥ TANH_INTERVALS as unsigned: max(idx, last) == idx.
    let saturated = _mm256_cmpeq_epi32(_mm256_max_epu32(idx, last), idx);
    let safe_idx = _mm256_min_epu32(idx, _mm256_set1_epi32(TANH_INTERVALS as i32 - 1));
    // The two entries per lane by scalar loads (`vpgatherdd` measured slower on this AMD
    // host): entries `safe_idx` and `safe_idx + 1` ≤ TANH_INTERVALS.
    let mut idx_lanes = [0u32; 8];
    // Safety: `idx_lanes` is 8 u32s; `storeu` needs no alignment.
    unsafe { _mm256_storeu_si256(idx_lanes.as_mut_ptr().cast(), safe_idx) };
    let pairs = idx_lanes.map(|i| {
        let i = i as usize;
        (u32::from(TANH[i] as u16) | (u32::from(TANH[i + 1] as u16) << 16)) as i32
    });
    // Safety: `pairs` is 8 i32s; `loadu` needs no alignment.
    let pair = unsafe { _mm256_loadu_si256(pairs.as_ptr().cast()) };
    // t0: the low i16 (sign-extended), t1: the high one; t1 ≥ t0.
    let t0 = _mm256_srai_epi32(_mm256_slli_epi32(pair, 16), 16);
    let t1 = _mm256_srai_epi32(pair, 16);
    let diff = _mm256_sub_epi32(t1, t0);
    let frac = _mm256_and_si256(a, _mm256_set1_epi32(((1u32 << s) - 1) as i32));
    let round = _mm256_set1_epi32(if s == 0 { 0 } else { 1 << (s - 1) });
    let step = _mm256_srl_epi32(
        _mm256_add_epi32(_mm256_mullo_epi32(diff, frac), round),
        _mm256_castsi256_si128(shift),
    );
    let y = _mm256_blendv_epi8(
        _mm256_add_epi32(t0, step),
        _mm256_set1_epi32(i32::from(i16::MAX)),
        saturated,
    );
    // -y where x < 0 (`sign` by x: x = 0 gives 0, and y is 0 there).
    _mm256_sign_epi32(y, _mm256_or_si256(x, _mm256_set1_epi32(1)))
}

/// The AVX2 gate epilogue, eight rows at a time: both requantisations ([`requantize_lanes`]), the two saturating additions, then the activation ([`tanh_lanes`];
/// the logistic function as `(32768 + tanh(x/2) + 1) >> 1` capped at 32767, as
/// [`crate::fixed::sigmoid_q15`]).
///
/// # Safety
/// The CPU must have AVX2.
#[target_feature(enable = "avx2")]
unsafe fn gate_outputs_avx2(
    act: Activation,
    acc: &[[i32; HIDDEN]; 2],
    records: &[[u8; ROW_RECORD]; HIDDEN],
    shifts: &[[u8; 2]; HIDDEN],
    out: &mut [i16; HIDDEN],
) {
    let frac_bits = match act {
        Activation::Sigmoid => PRE_FRAC_BITS + 1,
        Activation::Tanh => PRE_FRAC_BITS,
    };
    let s = frac_bits - TANH_STEP_BITS;
    const _: () =
        assert!(PRE_FRAC_BITS > TANH_STEP_BITS && PRE_FRAC_BITS + 1 - TANH_STEP_BITS <= 20);
    let rows = out
        .as_chunks_mut::<8>()
        .0
        .iter_mut()
        .zip(
            acc[0]
                .as_chunks::<8>()
                .0
                .iter()
                .zip(acc[1].as_chunks::<8>().0),
        )
        .zip(
            records
                .as_chunks::<8>()
                .0
                .iter()
                .zip(shifts.as_chunks::<8>().0),
        );
    for ((o, (ax, ah)), (rec, sh)) in rows {
        let field =
            |i: usize| -> [i32; 8] { core::array::from_fn(|r| le_i32(&rec[r][4 * i..4 * i + 4])) };
        let shift = |p: usize| -> [i32; 8] { core::array::from_fn(|r| i32::from(sh[r][p])) };
        let v = |a: &[i32; 8]| {
            // Safety: `a` is 8 i32s; `loadu` needs no alignment.
            unsafe { _mm256_loadu_si256(a.as_ptr().cast()) }
        };
        let rx = requantize_lanes(v(ax), v(&field(0)), v(&shift(0)));
        let rh = requantize_lanes(v(ah), v(&field(1)), v(&shift(1)));
        let z = adds_epi32(adds_epi32(rx, rh), v(&field(2)));
        // Safety: the CPU has AVX2 (this function's contract).
        let t = unsafe { tanh_lanes(z, s) };
        let y = match act {
            Activation::Tanh => t,
            Activation::Sigmoid => _mm256_min_epi32(
                _mm256_srai_epi32(_mm256_add_epi32(t, _mm256_set1_epi32(32769)), 1),
                _mm256_set1_epi32(i32::from(i16::MAX)),
            ),
        };
        let mut lanes = [0i32; 8];
        // Safety: `lanes` is 8 i32s; `storeu` needs no alignment.
        unsafe { _mm256_storeu_si256(lanes.as_mut_ptr().cast(), y) };
        // Every lane is within ±32767.
        *o = lanes.map(|l| l as i16);
    }
}

/// A layer's cell and hidden update, as [`portable::cell_update`] (same arguments, same bits):
/// with AVX2 eight units at a time (`cell_update_avx2`), else the portable loop.
///
/// # Panics
/// In debug builds, as [`portable::cell_update`].
#[inline]
pub fn cell_update(
    gates: &[i16; GATES],
    c: &mut [i16; HIDDEN],
    h: &mut [u32; PAIRS],
    cell_frac_bits: u32,
) {
    if avx2() && (MIN_CELL_FRAC_BITS..=MAX_CELL_FRAC_BITS).contains(&(cell_frac_bits as u8)) {
        // Safety: the CPU has AVX2 (just checked), and the fraction bits are in range.
        unsafe { cell_update_avx2(gates, c, h, cell_frac_bits) }
    } else {
        portable::cell_update(gates, c, h, cell_frac_bits);
    }
}

/// [`portable::cell_update`] on eight units per pass: the same `i32` products (each within
/// ±2^30), the same rounding shifts, the symmetric `i16` saturation as `min`/`max`, tanh by
/// [`tanh_lanes`], and the eight new `h` stored as the four pairs they make.
///
/// # Safety
/// The CPU must have AVX2, and `cell_frac_bits` must be in
/// `MIN_CELL_FRAC_BITS..=MAX_CELL_FRAC_BITS` (6..=15).
#[target_feature(enable = "avx2")]
unsafe fn cell_update_avx2(
    gates: &[i16; GATES],
    c: &mut [i16; HIDDEN],
    h: &mut [u32; PAIRS],
    cell_frac_bits: u32,
) {
    let n = cell_frac_bits;
    let widen = |v: &[i16; 8]| {
        // Safety: `v` is 8 i16s (16 bytes); `loadu` needs no alignment.
        _mm256_cvtepi16_epi32(unsafe { _mm_loadu_si128(v.as_ptr().cast()) })
    };
    let round_shr = |x: __m256i, k: u32| {
        _mm256_sra_epi32(
            _mm256_add_epi32(x, _mm256_set1_epi32(1 << (k - 1))),
            _mm_cvtsi32_si128(k as i32),
        )
    };
    let sat = |x: __m256i| {
        _mm256_max_epi32(
            _mm256_min_epi32(x, _mm256_set1_epi32(i32::from(i16::MAX))),
            _mm256_set1_epi32(-i32::from(i16::MAX)),
        )
    };
    // Eight i32 lanes within i16 to eight i16 (lane order kept).
    let narrow = |x: __m256i| {
        let packed = _mm256_packs_epi32(x, x);
        _mm256_castsi256_si128(_mm256_permute4x64_epi64::<0b1000>(packed))
    };
    let (gate_rows, _) = gates.as_chunks::<HIDDEN>();
    let [i_row, f_row, g_row, o_row] = gate_rows else {
        unreachable!("four gates")
    };
    let units = eights(i_row)
        .iter()
        .zip(eights(f_row))
        .zip(eights(g_row).iter().zip(eights(o_row)))
        .zip(c.as_chunks_mut::<8>().0)
        .zip(h.as_chunks_mut::<4>().0);
    for ((((i, f), (g, o)), c8), h4) in units {
        let (i, f, g, o, old) = (widen(i), widen(f), widen(g), widen(o), widen(c8));
        let fc = round_shr(_mm256_mullo_epi32(f, old), ACT_FRAC_BITS);
        let ig = round_shr(_mm256_mullo_epi32(i, g), 2 * ACT_FRAC_BITS - n);
        let new = sat(_mm256_add_epi32(fc, ig));
        // Safety: the CPU has AVX2 (this function's contract); n - TANH_STEP_BITS ≤ 9.
        let t = unsafe { tanh_lanes(new, n - TANH_STEP_BITS) };
        let hv = sat(round_shr(_mm256_mullo_epi32(o, t), ACT_FRAC_BITS));
        // Safety: `c8` is 8 i16s and `h4` 4 u32s (16 bytes each); `storeu` needs no
        // alignment. The pairs are the units in order, low half first: the i16s as stored.
        unsafe {
            _mm_storeu_si128(c8.as_mut_ptr().cast(), narrow(new));
            _mm_storeu_si128(h4.as_mut_ptr().cast(), narrow(hv));
        }
    }
}

/// A gate's row in blocks of eight units.
fn eights(row: &[i16; HIDDEN]) -> &[[i16; 8]] {
    row.as_chunks::<8>().0
}

/// The FFT's two middle radix-4 stages ([`crate::fft`]'s `stage` over blocks of 128 and of 32
/// points) with AVX2, eight butterflies at a time; `false` (nothing done) without AVX2.
///
/// The butterflies `n..n + 8` of a block read eight consecutive complex points of each
/// quarter: two loads, split into real and imaginary lanes (`vshufps`, lane order 0, 1, 4, 5,
/// 2, 3, 6, 7, undone by `vunpck*ps` on the way out), the twiddles tabulated in that order.
/// Each lane does `radix4`'s additions, subtractions and the complex products `(a·c - b·d,
/// a·d + b·c)` on the same values in the same order, without fused multiply-adds (the
/// intrinsics are separate multiplies and adds, which the compiler does not contract), with
/// `twiddles3`'s values (tabulated by the same f32 operations): the same bits as the scalar
/// stages.
pub fn fft_middle_stages(z: &mut [[f32; 2]; FFT_M]) -> bool {
    if !avx2() {
        return false;
    }
    // Safety: the CPU has AVX2 (just checked).
    unsafe {
        fft_stage_avx2::<128, 32>(z, &FFT_TWIDDLES_128);
        fft_stage_avx2::<32, 8>(z, &FFT_TWIDDLES_32);
    }
    true
}

use crate::config::{N_BINS, N_FFT};
use crate::fft::{COS, M as FFT_M};

/// Per butterfly `n` of a stage over blocks of `L = 4Q` points, in the lane order of the
/// kernel: the real and imaginary parts of `W`, `W²`, `W³` (`twiddles3(n · N_FFT / L)`).
struct FftTwiddles<const Q: usize> {
    re: [[f32; Q]; 3],
    im: [[f32; Q]; 3],
}

const fn fft_twiddles<const Q: usize>() -> FftTwiddles<Q> {
    let mut t = FftTwiddles {
        re: [[0.0; Q]; 3],
        im: [[0.0; Q]; 3],
    };
    const ORDER: [usize; 8] = [0, 1, 4, 5, 2, 3, 6, 7];
    let mut slot = 0;
    while slot < Q {
        let n = slot / 8 * 8 + ORDER[slot % 8];
        let j = n * (N_FFT / (4 * Q));
        // `twiddle(j)`, then `twiddles3`'s products, operation for operation.
        let (r1, i1) = (COS[j], -COS[N_FFT / 4 - j]);
        let (r2, i2) = (r1 * r1 - i1 * i1, 2.0 * (r1 * i1));
        let (r3, i3) = (r1 * r2 - i1 * i2, r1 * i2 + i1 * r2);
        t.re[0][slot] = r1;
        t.im[0][slot] = i1;
        t.re[1][slot] = r2;
        t.im[1][slot] = i2;
        t.re[2][slot] = r3;
        t.im[2][slot] = i3;
        slot += 1;
    }
    t
}

static FFT_TWIDDLES_128: FftTwiddles<32> = fft_twiddles();
static FFT_TWIDDLES_32: FftTwiddles<8> = fft_twiddles();

/// One middle stage over blocks of `L = 4Q` points (`Q` a multiple of 8).
///
/// # Safety
/// The CPU must have AVX2.
#[target_feature(enable = "avx2")]
unsafe fn fft_stage_avx2<const L: usize, const Q: usize>(
    z: &mut [[f32; 2]; FFT_M],
    w: &FftTwiddles<Q>,
) {
    use core::arch::x86_64::{__m256, _mm256_loadu_ps, _mm256_shuffle_ps};
    const { assert!(L == 4 * Q && Q.is_multiple_of(8)) };
    for block in z.as_chunks_mut::<L>().0 {
        for n in (0..Q).step_by(8) {
            let load = |m: usize| -> (__m256, __m256) {
                let p: *const f32 = block[n + m * Q..n + m * Q + 8].as_ptr().cast();
                // Safety: points `n..n + 8` of quarter `m` are 16 f32s inside `block`
                // (n + 8 ≤ Q); `loadu` needs no alignment.
                let (v0, v1) = unsafe { (_mm256_loadu_ps(p), _mm256_loadu_ps(p.add(8))) };
                (
                    _mm256_shuffle_ps::<0b10_00_10_00>(v0, v1),
                    _mm256_shuffle_ps::<0b11_01_11_01>(v0, v1),
                )
            };
            let out = radix4_lanes([load(0), load(1), load(2), load(3)], w, n);
            for (m, y) in out.into_iter().enumerate() {
                store_points(&mut block[n + m * Q..n + m * Q + 8], y);
            }
        }
    }
}

/// Eight radix-4 butterflies `n..n + 8` of a stage over blocks of `4Q` points (`n` a multiple
/// of 8): `radix4` of the quarters' points `a[m]` (real, imaginary parts, in the lane order
/// 0, 1, 4, 5, 2, 3, 6, 7), lane by lane with the same operations in the same order; the four
/// outputs in the same lane order.
#[target_feature(enable = "avx2")]
#[inline]
fn radix4_lanes<const Q: usize>(
    a: [(__m256, __m256); 4],
    w: &FftTwiddles<Q>,
    n: usize,
) -> [(__m256, __m256); 4] {
    use core::arch::x86_64::{
        _mm256_add_ps, _mm256_loadu_ps, _mm256_mul_ps, _mm256_set1_ps, _mm256_sub_ps, _mm256_xor_ps,
    };
    let tw = |k: usize| -> (__m256, __m256) {
        let (re, im) = (&w.re[k][n..n + 8], &w.im[k][n..n + 8]);
        // Safety: `re` and `im` are 8 f32s; `loadu` needs no alignment.
        unsafe { (_mm256_loadu_ps(re.as_ptr()), _mm256_loadu_ps(im.as_ptr())) }
    };
    let [a0, a1, a2, a3] = a;
    // dft4: t0 = a0 + a2, t1 = a0 - a2, t2 = a1 + a3, t3 = -i(a1 - a3).
    let t0 = (_mm256_add_ps(a0.0, a2.0), _mm256_add_ps(a0.1, a2.1));
    let t1 = (_mm256_sub_ps(a0.0, a2.0), _mm256_sub_ps(a0.1, a2.1));
    let t2 = (_mm256_add_ps(a1.0, a3.0), _mm256_add_ps(a1.1, a3.1));
    let d = (_mm256_sub_ps(a1.0, a3.0), _mm256_sub_ps(a1.1, a3.1));
    // -i·d = (d.im, -d.re): negation as 0 - x would differ for x = +0, so XOR the sign bit,
    // as the scalar `-` does.
    let t3 = (d.1, _mm256_xor_ps(d.0, _mm256_set1_ps(-0.0)));
    let y0 = (_mm256_add_ps(t0.0, t2.0), _mm256_add_ps(t0.1, t2.1));
    let y2 = (_mm256_sub_ps(t0.0, t2.0), _mm256_sub_ps(t0.1, t2.1));
    let y1 = (_mm256_add_ps(t1.0, t3.0), _mm256_add_ps(t1.1, t3.1));
    let y3 = (_mm256_sub_ps(t1.0, t3.0), _mm256_sub_ps(t1.1, t3.1));
    // Complex::mul: (a·c - b·d, a·d + b·c).
    let mul = |a: (__m256, __m256), k: usize| {
        let (c, d) = tw(k);
        (
            _mm256_sub_ps(_mm256_mul_ps(a.0, c), _mm256_mul_ps(a.1, d)),
            _mm256_add_ps(_mm256_mul_ps(a.0, d), _mm256_mul_ps(a.1, c)),
        )
    };
    [y0, mul(y2, 1), mul(y1, 0), mul(y3, 2)]
}

/// Stores eight points given as real and imaginary parts in the lane order 0, 1, 4, 5, 2, 3,
/// 6, 7 (`vunpck*ps` restores the order).
#[target_feature(enable = "avx2")]
#[inline]
fn store_points(dst: &mut [[f32; 2]], y: (__m256, __m256)) {
    use core::arch::x86_64::{_mm256_storeu_ps, _mm256_unpackhi_ps, _mm256_unpacklo_ps};
    let dst: &mut [[f32; 2]; 8] = dst.try_into().expect("eight points");
    let p: *mut f32 = dst.as_mut_ptr().cast();
    // Safety: `dst` is 16 f32s; `storeu` needs no alignment.
    unsafe {
        _mm256_storeu_ps(p, _mm256_unpacklo_ps(y.0, y.1));
        _mm256_storeu_ps(p.add(8), _mm256_unpackhi_ps(y.0, y.1));
    }
}

/// The FFT's last stage and real split ([`crate::fft`]'s `last_stage_and_split`) with AVX2,
/// eight values of `f` at a time, into `power` (`|X[k]|²`, the spectrum's units squared);
/// `false` (nothing done) without AVX2.
///
/// Lane `j` of pass `g` is `f = 8g + j`: the eight blocks `rev6(f)` (and their partners
/// `rev6(64 - f)`) are transposed into one vector per real and imaginary part of each point
/// (`vinsertf128` loads, then `vunpck*ps`/`vshufps` within 128-bit lanes); each lane then does
/// `dft8_even`, `dft8_odd` and `split_pair`'s additions, subtractions, products and sign flips
/// on the same values in the same order, without fused multiply-adds, with the twiddles
/// `twiddle(k)` tabulated per lane: the same bits as the scalar loop. The eight bins of a lane
/// are stored as four runs of eight ascending bins and four descending ones (reversed with
/// `vpermps`). Lane `f = 0` computes values for bins that the scalar `f = 0` case (run after,
/// as in the portable code) overwrites.
pub fn fft_last_stage_and_split(z: &[[f32; 2]; FFT_M], power: &mut [f32; N_BINS]) -> bool {
    if !avx2() {
        return false;
    }
    // Safety: the CPU has AVX2 (just checked).
    unsafe { fft_last_stage_avx2(z, power) };
    crate::fft::split_first_block(z, power);
    true
}

/// Blocks of the last stage (`M / 8`), and values of `f` per block pair.
const LAST_S: usize = FFT_M / 8;

/// Twiddles of the real split per lane `f` (`f = 0..64`): family 0 is `W^f`, 1 `W^(128 - f)`,
/// 2 `W^(128 + f)`, 3 `W^(256 - f)`, each as `twiddle(k) = (COS[k], -COS[N_FFT/4 - k])`.
struct SplitTwiddles {
    re: [[f32; LAST_S]; 4],
    im: [[f32; LAST_S]; 4],
}

const fn split_twiddles() -> SplitTwiddles {
    let mut t = SplitTwiddles {
        re: [[0.0; LAST_S]; 4],
        im: [[0.0; LAST_S]; 4],
    };
    let mut f = 0;
    while f < LAST_S {
        let ks = [f, 2 * LAST_S - f, 2 * LAST_S + f, 4 * LAST_S - f];
        let mut i = 0;
        while i < 4 {
            t.re[i][f] = COS[ks[i]];
            t.im[i][f] = -COS[N_FFT / 4 - ks[i]];
            i += 1;
        }
        f += 1;
    }
    t
}

static SPLIT_TWIDDLES: SplitTwiddles = split_twiddles();

/// The last stage and real split for `f = 0..64`, eight lanes at a time (see
/// [`fft_last_stage_and_split`]); the bins of `f = 0` are left to the scalar case.
///
/// # Safety
/// The CPU must have AVX2.
#[target_feature(enable = "avx2")]
unsafe fn fft_last_stage_avx2(z: &[[f32; 2]; FFT_M], power: &mut [f32; N_BINS]) {
    use core::arch::x86_64::{
        __m256, _mm256_add_ps, _mm256_loadu2_m128, _mm256_loadu_ps, _mm256_mul_ps,
        _mm256_permutevar8x32_ps, _mm256_set1_ps, _mm256_shuffle_ps, _mm256_storeu_ps,
        _mm256_sub_ps, _mm256_unpackhi_ps, _mm256_unpacklo_ps, _mm256_xor_ps,
    };
    /// A complex vector: eight real parts, eight imaginary parts.
    type C = (__m256, __m256);
    const { assert!(LAST_S == 64 && FFT_M == 512 && N_BINS == FFT_M + 1) };
    let base: *const f32 = z.as_ptr().cast();
    // Block holding `Z[f + 64·j]`: `rev6(f mod 64)` (f = 64 only for lane 0's unused partner).
    let rev6 = |f: usize| ((f % LAST_S) as u32).reverse_bits() as usize >> (32 - LAST_S.ilog2());
    // The eight points of the blocks at `rows` (16 f32s each) as eight complex vectors: for
    // each quarter of a block (offset `o` f32s), rows `j` and `j + 4` share a register (low
    // and high 128 bits), and a 4×4 transpose within the 128-bit lanes gives the columns.
    let points = |rows: [*const f32; 8]| -> [C; 8] {
        let quad = |o: usize| -> [__m256; 4] {
            // Safety: `o + 4 ≤ 16`, and each row points at a block of 16 f32s inside `z`;
            // `loadu2` needs no alignment.
            let r = |j: usize| unsafe { _mm256_loadu2_m128(rows[j + 4].add(o), rows[j].add(o)) };
            let (r0, r1, r2, r3) = (r(0), r(1), r(2), r(3));
            let (t0, t1) = (_mm256_unpacklo_ps(r0, r1), _mm256_unpackhi_ps(r0, r1));
            let (t2, t3) = (_mm256_unpacklo_ps(r2, r3), _mm256_unpackhi_ps(r2, r3));
            [
                _mm256_shuffle_ps::<0b01_00_01_00>(t0, t2),
                _mm256_shuffle_ps::<0b11_10_11_10>(t0, t2),
                _mm256_shuffle_ps::<0b01_00_01_00>(t1, t3),
                _mm256_shuffle_ps::<0b11_10_11_10>(t1, t3),
            ]
        };
        // Columns: re0, im0, re1, im1 | re2, im2, re3, im3 | … of each row.
        let [c0, c1, c2, c3] = quad(0);
        let [c4, c5, c6, c7] = quad(4);
        let [c8, c9, c10, c11] = quad(8);
        let [c12, c13, c14, c15] = quad(12);
        [
            (c0, c1),
            (c2, c3),
            (c4, c5),
            (c6, c7),
            (c8, c9),
            (c10, c11),
            (c12, c13),
            (c14, c15),
        ]
    };
    let add = |x: C, y: C| (_mm256_add_ps(x.0, y.0), _mm256_add_ps(x.1, y.1));
    let sub = |x: C, y: C| (_mm256_sub_ps(x.0, y.0), _mm256_sub_ps(x.1, y.1));
    // The scalar `-x`: the sign bit flipped (0 - x would differ for x = +0).
    let neg = |x: __m256| _mm256_xor_ps(x, _mm256_set1_ps(-0.0));
    let mul_neg_i = |x: C| (x.1, neg(x.0));
    let dft4 = |a: [C; 4]| {
        let t0 = add(a[0], a[2]);
        let t1 = sub(a[0], a[2]);
        let t2 = add(a[1], a[3]);
        let t3 = mul_neg_i(sub(a[1], a[3]));
        [add(t0, t2), sub(t0, t2), add(t1, t3), sub(t1, t3)]
    };
    let dft8_even = |a: &[C; 8]| {
        let [y0, y4, y2, y6] = dft4([0, 1, 2, 3].map(|m| add(a[m], a[m + 4])));
        [y0, y2, y4, y6]
    };
    let r = _mm256_set1_ps(core::f32::consts::FRAC_1_SQRT_2);
    let dft8_odd = |a: &[C; 8]| {
        let d = [0, 1, 2, 3].map(|m| sub(a[m], a[m + 4]));
        let [y1, y5, y3, y7] = dft4([
            d[0],
            (
                _mm256_mul_ps(_mm256_add_ps(d[1].0, d[1].1), r),
                _mm256_mul_ps(_mm256_sub_ps(d[1].1, d[1].0), r),
            ),
            mul_neg_i(d[2]),
            (
                _mm256_mul_ps(_mm256_sub_ps(d[3].1, d[3].0), r),
                neg(_mm256_mul_ps(_mm256_add_ps(d[3].0, d[3].1), r)),
            ),
        ]);
        [y1, y3, y5, y7]
    };
    // `split_pair`: |X[k]|² and |X[M - k]|².
    let split_pair = |zk: C, zmk: C, w: C| {
        let a = (_mm256_add_ps(zk.0, zmk.0), _mm256_sub_ps(zk.1, zmk.1));
        let b = (_mm256_sub_ps(zk.0, zmk.0), _mm256_add_ps(zk.1, zmk.1));
        let b = mul_neg_i(b);
        let g = (
            _mm256_sub_ps(_mm256_mul_ps(w.0, b.0), _mm256_mul_ps(w.1, b.1)),
            _mm256_add_ps(_mm256_mul_ps(w.0, b.1), _mm256_mul_ps(w.1, b.0)),
        );
        let norm_sqr = |c: C| _mm256_add_ps(_mm256_mul_ps(c.0, c.0), _mm256_mul_ps(c.1, c.1));
        (norm_sqr(add(a, g)), norm_sqr(sub(a, g)))
    };
    let reverse = core::arch::x86_64::_mm256_setr_epi32(7, 6, 5, 4, 3, 2, 1, 0);
    let out: *mut f32 = power.as_mut_ptr();
    // Bins `k..k + 8` (`k + 8 ≤ N_BINS`, checked by the callers below in debug builds).
    let store = |k: usize, v: __m256| {
        debug_assert!(k + 8 <= N_BINS);
        // Safety: bins `k..k + 8` are inside `power`; `storeu` needs no alignment.
        unsafe { _mm256_storeu_ps(out.add(k), v) };
    };
    for f0 in (0..LAST_S).step_by(8) {
        // Safety: `rev6` is below 64, so each block's 16 f32s are inside `z`.
        let a = dft8_even(&points(core::array::from_fn(|j| unsafe {
            base.add(16 * rev6(f0 + j))
        })));
        // Safety: as above.
        let b = dft8_odd(&points(core::array::from_fn(|j| unsafe {
            base.add(16 * rev6(LAST_S - f0 - j))
        })));
        let tw = |i: usize| -> C {
            let t = &SPLIT_TWIDDLES;
            // Safety: `f0 + 8 ≤ 64` f32s of each row; `loadu` needs no alignment.
            unsafe {
                (
                    _mm256_loadu_ps(t.re[i][f0..].as_ptr()),
                    _mm256_loadu_ps(t.im[i][f0..].as_ptr()),
                )
            }
        };
        for q in 0..2 {
            // k = f + 128q: bins k ascending, M - k descending.
            let (x, y) = split_pair(a[q], b[3 - q], tw(2 * q));
            store(f0 + 2 * LAST_S * q, x);
            store(
                FFT_M - 2 * LAST_S * q - f0 - 7,
                _mm256_permutevar8x32_ps(y, reverse),
            );
            // k = 128 - f + 128q: bins k descending, M - k ascending.
            let (x, y) = split_pair(b[q], a[3 - q], tw(2 * q + 1));
            store(
                2 * LAST_S * (q + 1) - f0 - 7,
                _mm256_permutevar8x32_ps(x, reverse),
            );
            store(FFT_M - 2 * LAST_S * (q + 1) + f0, y);
        }
    }
}

/// The FFT's first radix-4 stage ([`crate::fft`]'s `first_stage`: windowing on the way in,
/// blocks of `M` points) with AVX2, eight butterflies at a time; `false` (nothing done)
/// without AVX2.
///
/// The butterflies `n..n + 8` read sixteen consecutive samples of each quarter of the frame
/// (`vpmovsxwd`, then `vcvtdq2ps`, exact for `i16`), multiply them by the window (read
/// forwards for the first half, backwards and reversed with `vpermps` for the mirrored
/// second half), one product per value as the scalar `fwd`/`rev` (`x · w`, f32), then split
/// real and imaginary lanes and run the butterflies as the middle stages do (`radix4_lanes`,
/// twiddles `twiddles3(2n)` tabulated): the same bits as the scalar stage.
pub fn fft_first_stage(
    frame: crate::fft::Halves<'_>,
    window: &[f32; N_BINS],
    z: &mut [[f32; 2]; FFT_M],
) -> bool {
    if !avx2() {
        return false;
    }
    // Safety: the CPU has AVX2 (just checked).
    unsafe { fft_first_stage_avx2(frame, window, z) };
    true
}

static FFT_TWIDDLES_512: FftTwiddles<128> = fft_twiddles();

/// See [`fft_first_stage`].
///
/// # Safety
/// The CPU must have AVX2.
#[target_feature(enable = "avx2")]
unsafe fn fft_first_stage_avx2(
    frame: crate::fft::Halves<'_>,
    window: &[f32; N_BINS],
    z: &mut [[f32; 2]; FFT_M],
) {
    use core::arch::x86_64::{
        _mm256_castsi256_si128, _mm256_cvtepi16_epi32, _mm256_cvtepi32_ps,
        _mm256_extracti128_si256, _mm256_loadu_ps, _mm256_loadu_si256, _mm256_mul_ps,
        _mm256_permutevar8x32_ps, _mm256_setr_epi32, _mm256_shuffle_ps,
    };
    const Q: usize = FFT_M / 4;
    const HALF: usize = N_FFT / 2;
    let reverse = _mm256_setr_epi32(7, 6, 5, 4, 3, 2, 1, 0);
    let w = &FFT_TWIDDLES_512;
    for n in (0..Q).step_by(8) {
        // Samples `s..s + 16` of half `h` as f32 (two vectors of eight).
        let samples = |h: usize, s: usize| -> (__m256, __m256) {
            // Safety: `s + 16 ≤ N_FFT / 2` i16s of the half; `loadu` needs no alignment.
            let x = unsafe { _mm256_loadu_si256(frame[h][s..s + 16].as_ptr().cast()) };
            (
                _mm256_cvtepi32_ps(_mm256_cvtepi16_epi32(_mm256_castsi256_si128(x))),
                _mm256_cvtepi32_ps(_mm256_cvtepi16_epi32(_mm256_extracti128_si256::<1>(x))),
            )
        };
        // Window values `j..j + 16` forwards.
        let forwards = |j: usize| -> (__m256, __m256) {
            // Safety: `j + 16 ≤ N_BINS` f32s; `loadu` needs no alignment.
            unsafe {
                (
                    _mm256_loadu_ps(window[j..j + 8].as_ptr()),
                    _mm256_loadu_ps(window[j + 8..j + 16].as_ptr()),
                )
            }
        };
        // Window values `j, j - 1, …, j - 15` (backwards).
        let backwards = |j: usize| -> (__m256, __m256) {
            // Safety: `j - 15 ≥ 0` and `j < N_BINS`; `loadu` needs no alignment.
            let (lo, hi) = unsafe {
                (
                    _mm256_loadu_ps(window[j - 15..=j - 8].as_ptr()),
                    _mm256_loadu_ps(window[j - 7..=j].as_ptr()),
                )
            };
            (
                _mm256_permutevar8x32_ps(hi, reverse),
                _mm256_permutevar8x32_ps(lo, reverse),
            )
        };
        // Points `n..n + 8` of quarter `m` (samples `2n + 256m..`), windowed, split into real
        // and imaginary parts in the lane order 0, 1, 4, 5, 2, 3, 6, 7.
        let load = |m: usize| -> (__m256, __m256) {
            let s = 2 * n + 2 * Q * (m % 2);
            let (x0, x1) = samples(m / 2, s);
            let (w0, w1) = if m < 2 {
                forwards(s)
            } else {
                backwards(HALF - s)
            };
            let (v0, v1) = (_mm256_mul_ps(x0, w0), _mm256_mul_ps(x1, w1));
            (
                _mm256_shuffle_ps::<0b10_00_10_00>(v0, v1),
                _mm256_shuffle_ps::<0b11_01_11_01>(v0, v1),
            )
        };
        let out = radix4_lanes([load(0), load(1), load(2), load(3)], w, n);
        let (quarters, []) = z.as_chunks_mut::<Q>() else {
            unreachable!("M is a multiple of 4")
        };
        for (quarter, y) in quarters.iter_mut().zip(out) {
            store_points(&mut quarter[n..n + 8], y);
        }
    }
}
