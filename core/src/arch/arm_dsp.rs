//! The kernels for the Cortex-M4F/M7 (Armv7E-M with the DSP extension and a single-precision
//! FPU), in assembly; chosen by the `arm_dsp` cfg alias (see [`super`]).
//!
//! Dot products: `sxtb16` widens bytes 0 and 2 of a weight word to two `i16` lanes (`ror #8`:
//! bytes 1 and 3) and `smlad` adds both lane products to an `i32` accumulator, so four
//! weights cost about five instructions. The activations therefore come as [`pack_group`]
//! words: per group of four values `x[4g..4g + 4]`, the word `(x[4g], x[4g + 2])` then
//! `(x[4g + 1], x[4g + 3])` (low half first). Integer sums are exact (no accumulator can
//! overflow), so the different summation order gives the same bits as [`super::portable`].
//!
//! Square roots: `vsqrt.f32`, correctly rounded like `libm::sqrtf`. `asm!` cannot name FPU
//! registers here (rustc's `vfp2` feature is off for single-precision FPUs such as the
//! M4F's), so the loop is a leaf routine: `r0` the first value, `r1` how many; it uses only
//! `r0`-`r2`, `s0`-`s3` and the flags, all caller-saved under the AAPCS.

use super::GateOperand;
use crate::config::{HIDDEN, N_FEATURES};

/// Values packed per `u32` of the engine's hidden state.
const PAIRS: usize = HIDDEN / 2;

core::arch::global_asm!(
    ".section .text.genre_core_dot_rows,\"ax\",%progbits",
    ".syntax unified",
    ".thumb",
    ".arch armv7e-m",
    ".p2align 2",
    ".global genre_core_dot_rows",
    ".type genre_core_dot_rows,%function",
    ".thumb_func",
    // r0: row 0, r1: row stride in bytes, r2: packed activations, r3: groups (4k, k > 0),
    // [sp]: output (4 × blocks i32), [sp, #4]: blocks of four rows (> 0).
    // r4-r7: accumulators, r0/r12: rows 0 and 2 of the block, r8/r9: activation words,
    // lr: blocks left; [sp]: activations, groups, output pointer.
    "genre_core_dot_rows:",
    "push {{r4-r11, lr}}",
    "sub sp, #16",
    "strd r2, r3, [sp]",
    "ldr r8, [sp, #52]",
    "str r8, [sp, #8]",
    "ldr lr, [sp, #56]",
    "2:",
    "add r12, r0, r1, lsl #1",
    "movs r4, #0",
    "movs r5, #0",
    "movs r6, #0",
    "movs r7, #0",
    "ldrd r2, r3, [sp]",
    "1:",
    // Four groups per pass.
    ".rept 4",
    "ldrd r8, r9, [r2], #8",
    "ldr r10, [r0, r1]",
    "sxtb16 r11, r10",
    "smlad r5, r11, r8, r5",
    "sxtb16 r10, r10, ror #8",
    "smlad r5, r10, r9, r5",
    "ldr r10, [r0], #4",
    "sxtb16 r11, r10",
    "smlad r4, r11, r8, r4",
    "sxtb16 r10, r10, ror #8",
    "smlad r4, r10, r9, r4",
    "ldr r10, [r12, r1]",
    "sxtb16 r11, r10",
    "smlad r7, r11, r8, r7",
    "sxtb16 r10, r10, ror #8",
    "smlad r7, r10, r9, r7",
    "ldr r10, [r12], #4",
    "sxtb16 r11, r10",
    "smlad r6, r11, r8, r6",
    "sxtb16 r10, r10, ror #8",
    "smlad r6, r10, r9, r6",
    ".endr",
    "subs r3, r3, #4",
    "bne 1b",
    // Next block: row 0 moves on by 4 · stride (r12 is 2 · stride + 4 · groups past it).
    "ldr r3, [sp, #4]",
    "add r0, r12, r1, lsl #1",
    "sub.w r0, r0, r3, lsl #2",
    "ldr r8, [sp, #8]",
    "stmia r8!, {{r4-r7}}",
    "str r8, [sp, #8]",
    "subs lr, lr, #1",
    "bne 2b",
    "add sp, #16",
    "pop {{r4-r11, pc}}",
    ".size genre_core_dot_rows, . - genre_core_dot_rows",
);

extern "C" {
    fn genre_core_dot_rows(
        w: *const u8,
        stride: usize,
        act: *const u32,
        groups: usize,
        out: *mut i32,
        blocks: usize,
    );
}

/// The two words of one group of four `i16` activations, in the order [`dot_rows`] expects.
#[inline]
#[must_use]
pub fn pack_group(x: [i16; 4]) -> [u32; 2] {
    let h = |v: i16| u32::from(v as u16);
    [h(x[0]) | (h(x[2]) << 16), h(x[1]) | (h(x[3]) << 16)]
}

/// Dot products of [`HIDDEN`] `i8` weight rows of `LEN` bytes with the first `2 · GROUP_WORDS`
/// activations, packed by [`pack_group`] in `act`.
#[inline]
fn dot_rows<const LEN: usize, const GROUP_WORDS: usize>(
    rows: &[[u8; LEN]; HIDDEN],
    act: &[u32; GROUP_WORDS],
    out: &mut [i32; HIDDEN],
) {
    const {
        // The routine takes four groups per loop pass and four rows per block, and reads
        // 2 · GROUP_WORDS bytes of each row.
        assert!(GROUP_WORDS > 0 && GROUP_WORDS.is_multiple_of(8) && 2 * GROUP_WORDS <= LEN);
        assert!(HIDDEN.is_multiple_of(4));
    }
    // Safety: the routine reads bytes `r · LEN .. r · LEN + 2 · GROUP_WORDS` of `rows` for
    // each row `r < HIDDEN` (inside the array, by the assertion above; `ldr` allows any
    // alignment on the M4), `GROUP_WORDS` words from `act` (its length; `ldrd` at
    // word-aligned addresses), writes `HIDDEN` `i32` to `out`, and follows the AAPCS (saves
    // r4-r11 and lr, restores sp; the flags are caller-saved).
    unsafe {
        genre_core_dot_rows(
            rows.as_ptr().cast::<u8>(),
            LEN,
            act.as_ptr(),
            GROUP_WORDS / 2,
            out.as_mut_ptr(),
            HIDDEN / 4,
        );
    }
}

/// Groups of four features handled by [`dot_rows`]; the last `N_FEATURES % 4` go the scalar way.
const IN_GROUPS: usize = N_FEATURES / 4;

/// Layer 0's quantised features, packed for [`dot_rows`].
#[derive(Clone, Copy, Debug)]
pub struct FeatureOperand {
    words: [u32; 2 * IN_GROUPS],
    tail: [i8; N_FEATURES % 4],
}

impl FeatureOperand {
    /// Packs `x` (from [`crate::format::Model::quantize_input`]).
    #[inline]
    #[must_use]
    pub fn new(x: &[i8; N_FEATURES]) -> Self {
        let mut words = [0u32; 2 * IN_GROUPS];
        for (w, g) in words.chunks_exact_mut(2).zip(x.chunks_exact(4)) {
            w.copy_from_slice(&pack_group(core::array::from_fn(|k| i16::from(g[k]))));
        }
        Self {
            words,
            tail: core::array::from_fn(|t| x[4 * IN_GROUPS + t]),
        }
    }
}

impl GateOperand<N_FEATURES> for FeatureOperand {
    #[inline]
    fn dot_gate(&self, rows: &[[u8; N_FEATURES]; HIDDEN], out: &mut [i32; HIDDEN]) {
        dot_rows(rows, &self.words, out);
        for (a, row) in out.iter_mut().zip(rows) {
            for (t, &x) in self.tail.iter().enumerate() {
                *a += i32::from(row[4 * IN_GROUPS + t] as i8) * i32::from(x);
            }
        }
    }
}

/// A packed hidden state (pairs `(h[2p], h[2p + 1])`) repacked for [`dot_rows`].
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

impl GateOperand<HIDDEN> for HiddenOperand {
    #[inline]
    fn dot_gate(&self, rows: &[[u8; HIDDEN]; HIDDEN], out: &mut [i32; HIDDEN]) {
        dot_rows(rows, &self.0, out);
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
