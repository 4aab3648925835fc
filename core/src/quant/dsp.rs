//! Cortex-M4 DSP-extension dot products for [`super::QuantEngine`] on hard-float Arm targets.
//!
//! `sxtb16` widens bytes 0 and 2 of a weight word to two `i16` lanes (`ror #8`: bytes 1 and 3)
//! and `smlad` adds both lane products to an `i32` accumulator, so four weights cost about
//! five instructions. The activations therefore come as [`pack_group`] words: per group of
//! four values `x[4g..4g + 4]`, the word `(x[4g], x[4g + 2])` then `(x[4g + 1], x[4g + 3])`
//! (low half first). Integer sums are exact (no accumulator can overflow, see the
//! module docs of [`super`]), so the different summation order gives the same bits as the
//! portable code.
//!
//! Stable rustc does not expose the Arm `dsp` target feature to `cfg`, so this module is
//! compiled for `target_abi = "eabihf"` Arm targets (Cortex-M4F/M7, whose ISA includes
//! the DSP extension); the routine declares `.arch armv7e-m` itself.

use super::{GateOperand, PAIRS};
use crate::config::{HIDDEN, N_FEATURES};

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
pub(super) fn pack_group(x: [i16; 4]) -> [u32; 2] {
    let h = |v: i16| u32::from(v as u16);
    [h(x[0]) | (h(x[2]) << 16), h(x[1]) | (h(x[3]) << 16)]
}

/// Dot products of `out.len()` `i8` weight rows (row `r` starts at `w[r · stride]`) with
/// the `2 · act.len()` activations packed in `act` by [`pack_group`]; each row's first
/// `2 · act.len()` bytes are used. Leaves `out` unchanged when `act` is empty or its length
/// is not a multiple of 8 (four groups per loop pass), `out`'s is not a multiple of 4 (four
/// rows per block), or `w` is too short (callers pass fixed sizes that never are).
#[inline]
pub(super) fn dot_rows(w: &[u8], stride: usize, act: &[u32], out: &mut [i32]) {
    let groups = act.len() / 2;
    let blocks = out.len() / 4;
    if groups == 0
        || blocks == 0
        || act.len() % 8 != 0
        || out.len() % 4 != 0
        || w.len() < (out.len() - 1) * stride + 4 * groups
    {
        return;
    }
    // Safety: the routine reads bytes `r · stride .. r · stride + 4 · groups` of `w` for
    // each row `r < out.len()` (checked above to lie inside `w`; `ldr` allows any alignment
    // on the M4), `2 · groups` words from `act` (its length; `ldrd` at word-aligned
    // addresses), writes `4 · blocks` = `out.len()` `i32` to `out`, and follows the AAPCS
    // (saves r4-r11 and lr, restores sp; the flags are caller-saved).
    unsafe {
        genre_core_dot_rows(
            w.as_ptr(),
            stride,
            act.as_ptr(),
            groups,
            out.as_mut_ptr(),
            blocks,
        );
    }
}

/// Groups of four features handled by [`dot_rows`]; the last `N_FEATURES % 4` go the scalar way.
const IN_GROUPS: usize = N_FEATURES / 4;
const _: () = assert!(HIDDEN % 16 == 0 && IN_GROUPS % 4 == 0);

/// Layer 0's quantised features, packed for [`dot_rows`].
pub(super) struct PackedInput {
    words: [u32; 2 * IN_GROUPS],
    tail: [i8; N_FEATURES % 4],
}

impl PackedInput {
    pub(super) fn new(x: &[i8; N_FEATURES]) -> Self {
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

impl GateOperand for PackedInput {
    const LEN: usize = N_FEATURES;
    #[inline]
    fn dot_gate(&self, w: &[u8], out: &mut [i32; HIDDEN]) {
        let Ok(w): Result<&[u8; HIDDEN * N_FEATURES], _> = w.try_into() else {
            return;
        };
        dot_rows(w, N_FEATURES, &self.words, out);
        for (j, a) in out.iter_mut().enumerate() {
            for (t, &x) in self.tail.iter().enumerate() {
                *a += i32::from(w[j * N_FEATURES + 4 * IN_GROUPS + t] as i8) * i32::from(x);
            }
        }
    }
}

/// A packed hidden state (pairs `(h[2p], h[2p + 1])`) repacked for [`dot_rows`].
pub(super) struct PackedHidden([u32; PAIRS]);

impl PackedHidden {
    pub(super) fn new(h: &[u32; PAIRS]) -> Self {
        let mut words = [0u32; PAIRS];
        for (w, p) in words.chunks_exact_mut(2).zip(h.chunks_exact(2)) {
            w[0] = (p[0] & 0xffff) | (p[1] << 16);
            w[1] = (p[0] >> 16) | (p[1] & 0xffff_0000);
        }
        Self(words)
    }
}

impl GateOperand for PackedHidden {
    const LEN: usize = HIDDEN;
    #[inline]
    fn dot_gate(&self, w: &[u8], out: &mut [i32; HIDDEN]) {
        dot_rows(w, HIDDEN, &self.0, out);
    }
}
