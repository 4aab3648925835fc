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

use super::{LayerInput, BLOCK, PAIRS};
use crate::config::{HIDDEN, N_FEATURES};

core::arch::global_asm!(
    ".section .text.genre_core_dot4,\"ax\",%progbits",
    ".syntax unified",
    ".thumb",
    ".arch armv7e-m",
    ".p2align 2",
    ".global genre_core_dot4",
    ".type genre_core_dot4,%function",
    ".thumb_func",
    // r0: row 0, r1: row stride in bytes, r2: packed activations, r3: groups (even, > 0),
    // [sp]: output (4 × i32). r4-r7: accumulators, r12: row 2, r8/r9: activation words.
    "genre_core_dot4:",
    "push {{r4-r11, lr}}",
    "add r12, r0, r1, lsl #1",
    "movs r4, #0",
    "movs r5, #0",
    "movs r6, #0",
    "movs r7, #0",
    "1:",
    // Two groups per pass.
    ".rept 2",
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
    "subs r3, r3, #2",
    "bne 1b",
    "ldr r0, [sp, #36]",
    "stmia r0, {{r4-r7}}",
    "pop {{r4-r11, pc}}",
    ".size genre_core_dot4, . - genre_core_dot4",
);

extern "C" {
    fn genre_core_dot4(w: *const u8, stride: usize, act: *const u32, groups: usize, out: *mut i32);
}

/// The two words of one group of four `i16` activations, in the order [`dot4`] expects.
#[inline]
pub(super) fn pack_group(x: [i16; 4]) -> [u32; 2] {
    let h = |v: i16| u32::from(v as u16);
    [h(x[0]) | (h(x[2]) << 16), h(x[1]) | (h(x[3]) << 16)]
}

/// Dot products of four `i8` weight rows (row `j` starts at `w[j · stride]`) with the
/// `2 · act.len()` activations packed in `act` by [`pack_group`]; the rows' first
/// `2 · act.len()` bytes are used. Zeros when `act` is empty, its length is not a multiple
/// of 4 (two groups per loop pass), or `w` is too short (callers pass fixed sizes that
/// never are).
#[inline]
pub(super) fn dot4(w: &[u8], stride: usize, act: &[u32]) -> [i32; 4] {
    let mut out = [0i32; 4];
    let groups = act.len() / 2;
    if groups == 0 || act.len() % 4 != 0 || w.len() < 3 * stride + 4 * groups {
        return out;
    }
    // Safety: the routine reads `4 · groups` bytes from each of `w[0..]`, `w[stride..]`,
    // `w[2 · stride..]` and `w[3 · stride..]` (checked above to lie inside `w`, with `ldr`,
    // which allows any alignment on the M4), `2 · groups` words from `act` (its length, with
    // `ldrd` at word-aligned addresses), writes four `i32` to `out`, and follows the AAPCS
    // (saves r4-r11, restores sp; the flags are caller-saved).
    unsafe {
        genre_core_dot4(w.as_ptr(), stride, act.as_ptr(), groups, out.as_mut_ptr());
    }
    out
}

/// Groups of four features handled by [`dot4`]; the last `N_FEATURES % 4` go the scalar way.
const IN_GROUPS: usize = N_FEATURES / 4;
const _: () = assert!(BLOCK == 4 && HIDDEN % 8 == 0 && IN_GROUPS % 2 == 0);

/// Layer 0's quantised features, packed for [`dot4`].
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

impl LayerInput for PackedInput {
    const LEN: usize = N_FEATURES;
    #[inline]
    fn dot_block(&self, block: &[u8]) -> [i32; BLOCK] {
        let Ok(w): Result<&[u8; BLOCK * N_FEATURES], _> = block.try_into() else {
            return [0; BLOCK];
        };
        let mut acc = dot4(w, N_FEATURES, &self.words);
        for (j, a) in acc.iter_mut().enumerate() {
            for (t, &x) in self.tail.iter().enumerate() {
                *a += i32::from(w[j * N_FEATURES + 4 * IN_GROUPS + t] as i8) * i32::from(x);
            }
        }
        acc
    }
}

/// A packed hidden state (pairs `(h[2p], h[2p + 1])`) repacked for [`dot4`].
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

impl LayerInput for PackedHidden {
    const LEN: usize = HIDDEN;
    #[inline]
    fn dot_block(&self, block: &[u8]) -> [i32; BLOCK] {
        dot4(block, HIDDEN, &self.0)
    }
}
