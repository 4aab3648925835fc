//! The kernels for the Cortex-M4F/M7 (Armv7E-M with the DSP extension and a single-precision
//! FPU), in assembly; chosen by the `arm_dsp` cfg alias (see [`super`]).
//!
//! Dot products (`genre_core_dot_blocks`): the weights come in the blob's blocks of four rows
//! ([`super::GateBlocks`]), so one `ldm` loads a word (four weights) of each of the four rows;
//! `sxtb16` widens bytes 0 and 2 of a word to two `i16` lanes (`ror #8`: bytes 1 and 3) and
//! `smlad` adds both lane products to an `i32` accumulator: 18 instructions for 16
//! multiply-accumulates, four groups per loop pass. The activations therefore come as
//! [`pack_group`] words: per group of four values `x[4g..4g + 4]`, the word
//! `(x[4g], x[4g + 2])` then `(x[4g + 1], x[4g + 3])` (low half first). Integer sums are exact (no accumulator can overflow), so the different
//! summation order gives the same bits as [`super::portable`].
//!
//! Gate epilogue (`genre_core_gate_outputs`): per row one `ldm` of the row's record (both
//! multipliers and the bias), [`crate::fixed::requantize`] as `smmul` and two shifts (shift >
//! 32); for shift ≤ 32 (layer 0's input path) `smmul` of the accumulator shifted left by
//! `33 - shift` when that fits in 32 bits (the shift-33 formula, exact), else `smlal` with the
//! 64-bit shift done in halves and saturated; two `qadd`, and [`crate::fixed::tanh_q15`]'s
//! interpolation with one (unaligned) word load of the two neighbouring table entries: about
//! 40 instructions a row.
//!
//! Cell update (`genre_core_cell_update`): two units a pass, word loads of the i, f, g and c
//! pairs and `smlabb`/`smlatt` (the rounding term as the accumulator) for `f·c` and `i·g`;
//! the symmetric saturation of `c` as `usat #15` of `|x|` with the sign put back; tanh by the
//! table as in the epilogue, with `|c|` first scaled to 15 fraction bits (`<< (21 - n)`) so
//! that the interpolation shift is a constant and one `usat #24` caps the index (entries 511
//! and 512 are both 32767, so the capped value is the saturated one). About 28 instructions a
//! unit.
//!
//! Both routines need their weight or record pointer at a multiple of 4 (`ldm`, `ldrd`):
//! [`crate::format::Model::parse`] refuses a blob that does not start at one on this build, so
//! every section is aligned.
//!
//! Square roots: `vsqrt.f32`, correctly rounded like `libm::sqrtf`. `asm!` cannot name FPU
//! registers here (rustc's `vfp2` feature is off for single-precision FPUs such as the
//! M4F's), so the loop is a leaf routine: `r0` the first value, `r1` how many; it uses only
//! `r0`-`r2`, `s0`-`s3` and the flags, all caller-saved under the AAPCS.

use super::{Activation, GateBlocks, GateOperand};
use crate::config::{HIDDEN, N_FEATURES};
use crate::fixed::{TANH_INTERVALS, TANH_TABLE};
use crate::format::{MAX_CELL_FRAC_BITS, MIN_CELL_FRAC_BITS, PADDED_FEATURES, ROW_RECORD};
use crate::lstm::GATES;

/// Values packed per `u32` of the engine's hidden state.
const PAIRS: usize = HIDDEN / 2;

core::arch::global_asm!(
    ".section .text.genre_core_dot_blocks,\"ax\",%progbits",
    ".syntax unified",
    ".thumb",
    ".arch armv7e-m",
    ".p2align 2",
    ".global genre_core_dot_blocks",
    ".type genre_core_dot_blocks,%function",
    ".thumb_func",
    // r0: first block (word-aligned), r1: packed activations, r2: groups per row (4k or
    // 4k + 1, k > 0), r3: output (4 i32 per block), [sp]: blocks (> 0).
    // Loop: r0 weights (walks through every block), r1 activations, r2 groups left,
    // lr/r3: activation words, r4-r7: accumulators, r8-r11: a word of each row, r12: lanes.
    // Frame: [sp] activations, [sp, #4] groups, [sp, #8] output, [sp, #12] output end.
    "genre_core_dot_blocks:",
    "push {{r4-r11, lr}}",
    "sub sp, #16",
    "ldr r12, [sp, #52]",
    "add r12, r3, r12, lsl #4",
    "strd r1, r2, [sp]",
    "strd r3, r12, [sp, #8]",
    "2:",
    "ldrd r1, r2, [sp]",
    // An odd group count: the first group alone (its products start the accumulators).
    "lsrs r3, r2, #1",
    "bcc 4f",
    "ldrd lr, r3, [r1], #8",
    "ldmia r0!, {{r8-r11}}",
    "sxtb16 r12, r8",
    "smuad r4, r12, lr",
    "sxtb16 r8, r8, ror #8",
    "smlad r4, r8, r3, r4",
    "sxtb16 r12, r9",
    "smuad r5, r12, lr",
    "sxtb16 r9, r9, ror #8",
    "smlad r5, r9, r3, r5",
    "sxtb16 r12, r10",
    "smuad r6, r12, lr",
    "sxtb16 r10, r10, ror #8",
    "smlad r6, r10, r3, r6",
    "sxtb16 r12, r11",
    "smuad r7, r12, lr",
    "sxtb16 r11, r11, ror #8",
    "smlad r7, r11, r3, r7",
    "subs r2, r2, #1",
    "b 1f",
    "4:",
    "movs r4, #0",
    "movs r5, #0",
    "movs r6, #0",
    "movs r7, #0",
    // Four groups per pass.
    "1:",
    ".rept 4",
    "ldrd lr, r3, [r1], #8",
    "ldmia r0!, {{r8-r11}}",
    "sxtb16 r12, r8",
    "smlad r4, r12, lr, r4",
    "sxtb16 r8, r8, ror #8",
    "smlad r4, r8, r3, r4",
    "sxtb16 r12, r9",
    "smlad r5, r12, lr, r5",
    "sxtb16 r9, r9, ror #8",
    "smlad r5, r9, r3, r5",
    "sxtb16 r12, r10",
    "smlad r6, r12, lr, r6",
    "sxtb16 r10, r10, ror #8",
    "smlad r6, r10, r3, r6",
    "sxtb16 r12, r11",
    "smlad r7, r12, lr, r7",
    "sxtb16 r11, r11, ror #8",
    "smlad r7, r11, r3, r7",
    ".endr",
    "subs r2, r2, #4",
    "bne 1b",
    "ldr r12, [sp, #8]",
    "stmia r12!, {{r4-r7}}",
    "str r12, [sp, #8]",
    "ldr r3, [sp, #12]",
    "cmp r12, r3",
    "bne 2b",
    "add sp, #16",
    "pop {{r4-r11, pc}}",
    ".size genre_core_dot_blocks, . - genre_core_dot_blocks",
);

extern "C" {
    fn genre_core_dot_blocks(
        w: *const u8,
        act: *const u32,
        groups: usize,
        out: *mut i32,
        blocks: usize,
    );
}

/// The two words of one group of four `i16` activations, in the order [`dot_blocks`] expects.
#[inline]
#[must_use]
pub fn pack_group(x: [i16; 4]) -> [u32; 2] {
    let h = |v: i16| u32::from(v as u16);
    [h(x[0]) | (h(x[2]) << 16), h(x[1]) | (h(x[3]) << 16)]
}

/// Dot products of one gate's rows (`4 · GROUPS` `i8` weights each) with the `4 · GROUPS`
/// activations packed by [`pack_group`] in `act`.
///
/// # Panics
/// If `rows` does not start at a multiple of 4 (a parsed blob's never do).
#[inline]
fn dot_blocks<const GROUPS: usize, const WORDS: usize>(
    rows: &GateBlocks<GROUPS>,
    act: &[u32; WORDS],
    out: &mut [i32; HIDDEN],
) {
    const {
        // Two words per group; the routine takes one odd group, then four per pass.
        assert!(WORDS == 2 * GROUPS && GROUPS >= 4 && GROUPS % 4 <= 1);
    }
    assert!(
        (rows.as_ptr() as usize).is_multiple_of(4),
        "weights not word-aligned"
    );
    // Safety: `rows` starts at a multiple of 4 (asserted; `ldm` needs it) and the routine
    // reads exactly its `HIDDEN / 4` blocks of `16 · GROUPS` bytes, `WORDS` words from `act`
    // (word-aligned, `ldrd`), writes `HIDDEN` `i32` to `out`, and follows the AAPCS (saves
    // r4-r11 and lr, restores sp; the flags are caller-saved).
    unsafe {
        genre_core_dot_blocks(
            rows.as_ptr().cast::<u8>(),
            act.as_ptr(),
            GROUPS,
            out.as_mut_ptr(),
            rows.len(),
        );
    }
}

/// Groups of four features in layer 0's padded rows.
const IN_GROUPS: usize = PADDED_FEATURES / 4;

/// Layer 0's quantised features, zero-padded to whole groups and packed for [`dot_blocks`].
#[derive(Clone, Copy, Debug)]
pub struct FeatureOperand([u32; 2 * IN_GROUPS]);

impl FeatureOperand {
    /// Packs `x` (from [`crate::format::Model::quantize_input`]).
    #[inline]
    #[must_use]
    pub fn new(x: &[i8; N_FEATURES]) -> Self {
        let mut words = [0u32; 2 * IN_GROUPS];
        for (g, w) in words.chunks_exact_mut(2).enumerate() {
            let v = |k: usize| x.get(4 * g + k).map_or(0, |&v| i16::from(v));
            w.copy_from_slice(&pack_group([v(0), v(1), v(2), v(3)]));
        }
        Self(words)
    }
}

impl GateOperand<IN_GROUPS> for FeatureOperand {
    #[inline]
    fn dot_gate(&self, rows: &GateBlocks<IN_GROUPS>, out: &mut [i32; HIDDEN]) {
        dot_blocks(rows, &self.0, out);
    }
}

/// A packed hidden state (pairs `(h[2p], h[2p + 1])`) repacked for [`dot_blocks`].
#[derive(Clone, Copy, Debug)]
pub struct HiddenOperand([u32; PAIRS]);

impl HiddenOperand {
    /// Repacks the engine's pairs `h` into [`pack_group`] order.
    #[inline]
    #[must_use]
    pub fn new(h: &[u32; PAIRS]) -> Self {
        let mut words = [0u32; PAIRS];
        for (w, p) in words.chunks_exact_mut(2).zip(h.chunks_exact(2)) {
            w[0] = (p[0] & 0xffff) | (p[1] << 16);
            w[1] = (p[0] >> 16) | (p[1] & 0xffff_0000);
        }
        Self(words)
    }
}

impl GateOperand<{ HIDDEN / 4 }> for HiddenOperand {
    #[inline]
    fn dot_gate(&self, rows: &GateBlocks<{ HIDDEN / 4 }>, out: &mut [i32; HIDDEN]) {
        dot_blocks(rows, &self.0, out);
    }
}

core::arch::global_asm!(
    ".section .text.genre_core_gate_outputs,\"ax\",%progbits",
    ".syntax unified",
    ".thumb",
    ".arch armv7e-m",
    ".p2align 2",
    ".global genre_core_gate_outputs",
    ".type genre_core_gate_outputs,%function",
    ".thumb_func",
    // r0: accumulators (HIDDEN input-path i32, then HIDDEN recurrent-path), r1: records
    // (word-aligned), r2: shifts, r3: output (HIDDEN i16), [sp]: TANH_TABLE, [sp, #4]: 0 for
    // the logistic function, else tanh.
    // Per row: r6 input path, then the pre-activation z; r7 recurrent path, then |z| and the
    // output; r7-r9 the record (mult_x, mult_h, bias); r10 a shift less 33; r4 output end,
    // r5 the table. The requantisations follow `fixed::requantize`, the activations
    // `fixed::tanh_q15` (Q16 input: 10 interpolation bits; the logistic function: 11) and `fixed::sigmoid_q15` (`(32768 + t + 1) >> 1`, at most 32768: `usat` caps it at
    // 32767).
    "genre_core_gate_outputs:",
    "push {{r4-r11, lr}}",
    "ldrd r5, r12, [sp, #36]",
    "add r4, r3, #128",
    "cmp r12, #0",
    "bne 40f",
    "10:",
    "ldr r6, [r0], #4",
    "ldmia r1!, {{r7, r8, r9}}",
    "ldrb r10, [r2], #1",
    "subs r10, r10, #33",
    "bmi 30f",
    "smmul r6, r6, r7",
    "asr r6, r6, r10",
    "adds r6, #1",
    "asrs r6, r6, #1",
    "11:",
    "ldr r7, [r0, #252]",
    "ldrb r10, [r2], #1",
    "subs r10, r10, #33",
    "bmi 31f",
    "smmul r7, r7, r8",
    "asr r7, r7, r10",
    "adds r7, #1",
    "asrs r7, r7, #1",
    "12:",
    "qadd r6, r6, r7",
    "qadd r6, r6, r9",
    "eor r7, r6, r6, asr #31",
    "sub r7, r7, r6, asr #31",
    "lsrs r8, r7, #11",
    "cmp r8, #512",
    "bhs 32f",
    "ldr r10, [r5, r8, lsl #1]",
    "ubfx r7, r7, #0, #11",
    "uxth r11, r10",
    "rsb r10, r11, r10, lsr #16",
    "mul r10, r10, r7",
    "add r10, r10, #1024",
    "add r7, r11, r10, lsr #11",
    "13:",
    "eor r7, r7, r6, asr #31",
    "sub r7, r7, r6, asr #31",
    "add r7, r7, #32768",
    "adds r7, #1",
    "usat r7, #15, r7, asr #1",
    "strh r7, [r3], #2",
    "cmp r3, r4",
    "bne 10b",
    "pop {{r4-r11, pc}}",
    // tanh: the cell input g.
    "40:",
    "ldr r6, [r0], #4",
    "ldmia r1!, {{r7, r8, r9}}",
    "ldrb r10, [r2], #1",
    "subs r10, r10, #33",
    "bmi 60f",
    "smmul r6, r6, r7",
    "asr r6, r6, r10",
    "adds r6, #1",
    "asrs r6, r6, #1",
    "41:",
    "ldr r7, [r0, #252]",
    "ldrb r10, [r2], #1",
    "subs r10, r10, #33",
    "bmi 61f",
    "smmul r7, r7, r8",
    "asr r7, r7, r10",
    "adds r7, #1",
    "asrs r7, r7, #1",
    "42:",
    "qadd r6, r6, r7",
    "qadd r6, r6, r9",
    "eor r7, r6, r6, asr #31",
    "sub r7, r7, r6, asr #31",
    "lsrs r8, r7, #10",
    "cmp r8, #512",
    "bhs 62f",
    "ldr r10, [r5, r8, lsl #1]",
    "ubfx r7, r7, #0, #10",
    "uxth r11, r10",
    "rsb r10, r11, r10, lsr #16",
    "mul r10, r10, r7",
    "add r10, r10, #512",
    "add r7, r11, r10, lsr #10",
    "43:",
    "eor r7, r7, r6, asr #31",
    "sub r7, r7, r6, asr #31",
    "strh r7, [r3], #2",
    "cmp r3, r4",
    "bne 40b",
    "pop {{r4-r11, pc}}",
    // Shift s <= 32: when `acc << (33 - s)` fits in i32, the shift-33 formula on it (the same
    // floor, and no saturation); else `p = 2^(s-1) + acc * mult` in 64 bits, `p >> s` from
    // its halves, saturated when the top half is not the sign extension of the result.
    "30:",
    "rsb r11, r10, #0",
    "lsl r12, r6, r11",
    "asr lr, r12, r11",
    "cmp lr, r6",
    "bne 35f",
    "smmul r6, r12, r7",
    "adds r6, #1",
    "asrs r6, r6, #1",
    "b 11b",
    "32:",
    "movw r7, #32767",
    "b 13b",
    "35:",
    "add r10, r10, #33",
    "sub r11, r10, #1",
    "movs r12, #1",
    "lsl r12, r12, r11",
    "mov.w lr, #0",
    "smlal r12, lr, r6, r7",
    "rsb r11, r10, #32",
    "lsr r12, r12, r10",
    "lsl r6, lr, r11",
    "orr r6, r6, r12",
    "asr r11, lr, r10",
    "cmp r11, r6, asr #31",
    "beq 11b",
    "mvn r6, #0x80000000",
    "eor r6, r6, lr, asr #31",
    "b 11b",
    "31:",
    "rsb r11, r10, #0",
    "lsl r12, r7, r11",
    "asr lr, r12, r11",
    "cmp lr, r7",
    "bne 36f",
    "smmul r7, r12, r8",
    "adds r7, #1",
    "asrs r7, r7, #1",
    "b 12b",
    "36:",
    "add r10, r10, #33",
    "sub r11, r10, #1",
    "movs r12, #1",
    "lsl r12, r12, r11",
    "mov.w lr, #0",
    "smlal r12, lr, r7, r8",
    "rsb r11, r10, #32",
    "lsr r12, r12, r10",
    "lsl r7, lr, r11",
    "orr r7, r7, r12",
    "asr r11, lr, r10",
    "cmp r11, r7, asr #31",
    "beq 12b",
    "mvn r7, #0x80000000",
    "eor r7, r7, lr, asr #31",
    "b 12b",
    "60:",
    "rsb r11, r10, #0",
    "lsl r12, r6, r11",
    "asr lr, r12, r11",
    "cmp lr, r6",
    "bne 65f",
    "smmul r6, r12, r7",
    "adds r6, #1",
    "asrs r6, r6, #1",
    "b 41b",
    "62:",
    "movw r7, #32767",
    "b 43b",
    "65:",
    "add r10, r10, #33",
    "sub r11, r10, #1",
    "movs r12, #1",
    "lsl r12, r12, r11",
    "mov.w lr, #0",
    "smlal r12, lr, r6, r7",
    "rsb r11, r10, #32",
    "lsr r12, r12, r10",
    "lsl r6, lr, r11",
    "orr r6, r6, r12",
    "asr r11, lr, r10",
    "cmp r11, r6, asr #31",
    "beq 41b",
    "mvn r6, #0x80000000",
    "eor r6, r6, lr, asr #31",
    "b 41b",
    "61:",
    "rsb r11, r10, #0",
    "lsl r12, r7, r11",
    "asr lr, r12, r11",
    "cmp lr, r7",
    "bne 66f",
    "smmul r7, r12, r8",
    "adds r7, #1",
    "asrs r7, r7, #1",
    "b 42b",
    "66:",
    "add r10, r10, #33",
    "sub r11, r10, #1",
    "movs r12, #1",
    "lsl r12, r12, r11",
    "mov.w lr, #0",
    "smlal r12, lr, r7, r8",
    "rsb r11, r10, #32",
    "lsr r12, r12, r10",
    "lsl r7, lr, r11",
    "orr r7, r7, r12",
    "asr r11, lr, r10",
    "cmp r11, r7, asr #31",
    "beq 42b",
    "mvn r7, #0x80000000",
    "eor r7, r7, lr, asr #31",
    "b 42b",
    ".size genre_core_gate_outputs, . - genre_core_gate_outputs",
);

extern "C" {
    fn genre_core_gate_outputs(
        acc: *const i32,
        records: *const u8,
        shifts: *const u8,
        out: *mut i16,
        table: *const i16,
        tanh: u32,
    );
}

/// One gate's outputs (Q15) from its accumulators; the same values as
/// [`super::portable::gate_outputs`] (see there), for factors a parse admitted (others give
/// unspecified values, never undefined behaviour).
///
/// # Panics
/// If `records` does not start at a multiple of 4 (a parsed blob's never do).
#[inline]
pub fn gate_outputs(
    act: Activation,
    acc: &[[i32; HIDDEN]; 2],
    records: &[[u8; ROW_RECORD]; HIDDEN],
    shifts: &[[u8; 2]; HIDDEN],
    out: &mut [i16; HIDDEN],
) {
    const { assert!(HIDDEN == 64 && ROW_RECORD == 12) };
    assert!(
        (records.as_ptr() as usize).is_multiple_of(4),
        "records not word-aligned"
    );
    // Safety: the routine reads `HIDDEN` records of 12 bytes from `records` (at a multiple of
    // 4, asserted above, for `ldm`), `2 · HIDDEN` shift bytes, the `2 · HIDDEN` `i32` of `acc`
    // (contiguous: an array of arrays), table entries `idx` and `idx + 1` for `idx < 512`
    // (the table has 513), writes `HIDDEN` `i16` to `out`, and follows the AAPCS (saves
    // r4-r11 and lr; the flags are caller-saved).
    unsafe {
        genre_core_gate_outputs(
            acc.as_ptr().cast::<i32>(),
            records.as_ptr().cast::<u8>(),
            shifts.as_ptr().cast::<u8>(),
            out.as_mut_ptr(),
            TANH_TABLE.as_ptr(),
            u32::from(act == Activation::Tanh),
        );
    }
}

core::arch::global_asm!(
    ".section .text.genre_core_cell_update,\"ax\",%progbits",
    ".syntax unified",
    ".thumb",
    ".arch armv7e-m",
    ".p2align 2",
    ".global genre_core_cell_update",
    ".type genre_core_cell_update,%function",
    ".thumb_func",
    // r0: gates (i16 i, then f, g, o at +128, +256, +384 bytes), r1: c (i16), r2: h (pairs),
    // r3: n (cell fraction bits, 6..=15), [sp]: TANH_TABLE.
    // Loop: r0 walks the i gates to r3 (their end), r4 the table, r5 16384, r6 2^(29-n),
    // r7 30 - n, r8 21 - n; r11, r12 the units' x = (f·c) >> 15 + (i·g) >> (30 - n), then r11
    // the first unit's h; r9, r10, lr scratch. Per unit: a = min(|x|, 32767) (r9), c' = ±a;
    // `a << (21 - n)` (< 2^30) capped at 2^24 - 1, whose
    // bits 15.. index the table and bits 0..14 interpolate (`fixed::tanh_q15` with the
    // fraction scaled by 2^(15 - (n - 6)): the same floor); h = (o · ±y + 2^14) >> 15, which
    // needs no saturation (|y| ≤ 32767).
    // One unit, from its x in register `x` and its o gate at byte offset `o` from r0, to
    // its h (before the >> 15) in r10; writes c' through r1.
    ".macro cell_unit x, o",
    "eor r9, \\x, \\x, asr #31",
    "sub r9, r9, \\x, asr #31",
    "usat r9, #15, r9",
    "eor r10, r9, \\x, asr #31",
    "sub r10, r10, \\x, asr #31",
    "strh r10, [r1], #2",
    "lsl r9, r9, r8",
    "usat r9, #24, r9",
    "lsrs r10, r9, #15",
    "ldr r10, [r4, r10, lsl #1]",
    "ubfx r9, r9, #0, #15",
    "uxth lr, r10",
    "rsb r10, lr, r10, lsr #16",
    "mla r10, r10, r9, r5",
    "add r10, lr, r10, lsr #15",
    "eor r10, r10, \\x, asr #31",
    "sub r10, r10, \\x, asr #31",
    "ldrsh r9, [r0, #\\o]",
    "smlabb r10, r9, r10, r5",
    ".endm",
    "genre_core_cell_update:",
    "push {{r4-r11, lr}}",
    "ldr r4, [sp, #36]",
    "movw r5, #16384",
    "rsb r7, r3, #30",
    "rsb r8, r3, #21",
    "rsb r6, r3, #29",
    "movs r9, #1",
    "lsl r6, r9, r6",
    "add r3, r0, #128",
    "1:",
    "ldr r9, [r0, #128]",
    "ldr r10, [r1]",
    "smlabb r11, r9, r10, r5",
    "smlatt r12, r9, r10, r5",
    "ldr r9, [r0, #256]",
    "ldr r10, [r0]",
    "smlabb lr, r9, r10, r6",
    "asr lr, lr, r7",
    "add r11, lr, r11, asr #15",
    "smlatt lr, r9, r10, r6",
    "asr lr, lr, r7",
    "add r12, lr, r12, asr #15",
    // First unit: x in r11, h to r11.
    "cell_unit r11, 384",
    "asr r11, r10, #15",
    // Second unit: x in r12; its h (before the shift) packed with the first.
    "cell_unit r12, 386",
    "pkhbt r11, r11, r10, lsl #1",
    "str r11, [r2], #4",
    "adds r0, #4",
    "cmp r0, r3",
    "bne 1b",
    "pop {{r4-r11, pc}}",
    ".size genre_core_cell_update, . - genre_core_cell_update",
    ".purgem cell_unit",
);

extern "C" {
    fn genre_core_cell_update(
        gates: *const i16,
        c: *mut i16,
        h: *mut u32,
        n: u32,
        table: *const i16,
    );
}

// The capped index reads entries 511 and 512, which must both be the saturated value.
const _: () = assert!(TANH_TABLE[TANH_INTERVALS - 1] == i16::MAX && TANH_INTERVALS == 512);

/// A layer's cell and hidden update; the same values as [`super::portable::cell_update`] (see
/// there), for every `i16` input.
///
/// # Panics
/// If `cell_frac_bits` is outside
/// [`MIN_CELL_FRAC_BITS`]`..=`[`MAX_CELL_FRAC_BITS`] (a parsed blob's never is).
#[inline]
pub fn cell_update(
    gates: &[i16; GATES],
    c: &mut [i16; HIDDEN],
    h: &mut [u32; PAIRS],
    cell_frac_bits: u32,
) {
    const { assert!(HIDDEN == 64 && GATES == 4 * HIDDEN) };
    assert!(
        (u32::from(MIN_CELL_FRAC_BITS)..=u32::from(MAX_CELL_FRAC_BITS)).contains(&cell_frac_bits),
        "cell fraction bits out of range"
    );
    // Safety: the routine reads the `GATES` `i16` of `gates` and the `HIDDEN` of `c` (word
    // loads, which Armv7-M allows unaligned), writes the `HIDDEN` `i16` of `c` and the `PAIRS`
    // words of `h` (a `u32` array: aligned), reads table entries `idx` and `idx + 1` for
    // `idx ≤ 511` (the table has 513), and follows the AAPCS (saves r4-r11 and lr; the flags
    // are caller-saved). `cell_frac_bits` is in range (asserted), so every shift is in 0..=31.
    unsafe {
        genre_core_cell_update(
            gates.as_ptr(),
            c.as_mut_ptr(),
            h.as_mut_ptr(),
            cell_frac_bits,
            TANH_TABLE.as_ptr(),
        );
    }
}

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

/// Replaces every value by its correctly rounded IEEE 754 square root (`vsqrt.f32`).
pub fn sqrt_in_place(values: &mut [f32]) {
    // Safety: the routine reads and writes exactly `values.len()` f32s from
    // `values.as_mut_ptr()` (exclusively borrowed here), follows the AAPCS for `extern "C"`
    // on this target, touches no stack, and `vsqrt.f32` gives NaN for negative input with no
    // trap under the default FPSCR.
    unsafe { genre_core_vsqrt_in_place(values.as_mut_ptr(), values.len()) }
}

core::arch::global_asm!(
    ".section .text.genre_core_dot_f32,\"ax\",%progbits",
    ".syntax unified",
    ".thumb",
    ".fpu vfpv2",
    ".p2align 2",
    ".global genre_core_dot_f32",
    ".type genre_core_dot_f32,%function",
    ".thumb_func",
    // s0: the accumulator (and the result), r0: a, r1: b, r2: n. `vmla.f32` rounds the
    // product before the addition (it is not fused), and the sum runs in index order: the
    // same bits as the portable loop. Uses r0-r3, s0-s15 and the flags (caller-saved).
    "genre_core_dot_f32:",
    // Blocks of eight.
    "lsrs r3, r2, #3",
    "beq 2f",
    "1:",
    ".rept 2",
    "vldmia r0!, {{s8-s11}}",
    "vldmia r1!, {{s12-s15}}",
    "vmla.f32 s0, s8, s12",
    "vmla.f32 s0, s9, s13",
    "vmla.f32 s0, s10, s14",
    "vmla.f32 s0, s11, s15",
    ".endr",
    "subs r3, r3, #1",
    "bne 1b",
    // The last `n % 8`, one at a time.
    "2:",
    "ands r2, r2, #7",
    "beq 4f",
    "3:",
    "vldmia r0!, {{s8}}",
    "vldmia r1!, {{s12}}",
    "vmla.f32 s0, s8, s12",
    "subs r2, r2, #1",
    "bne 3b",
    "4:",
    "bx lr",
    ".size genre_core_dot_f32, . - genre_core_dot_f32",
);

extern "C" {
    fn genre_core_dot_f32(acc: f32, a: *const f32, b: *const f32, n: usize) -> f32;
}

/// `acc + Σ a[i]·b[i]` over the common length, each product rounded and then added, in
/// index order (`vldmia` and `vmla.f32`, 1.75 instructions per term instead of about 3).
#[must_use]
pub fn dot_f32(acc: f32, a: &[f32], b: &[f32]) -> f32 {
    let n = a.len().min(b.len());
    // Safety: the routine reads `n` f32s from each of `a` and `b` (both at least that long),
    // writes no memory, takes `acc` in s0 and returns in s0 as the hard-float AAPCS does, and
    // touches only caller-saved registers (r0-r3, s0-s15, the flags) and no stack.
    unsafe { genre_core_dot_f32(acc, a.as_ptr(), b.as_ptr(), n) }
}
