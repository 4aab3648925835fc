//! Target-specific code: the kernels the integer engine and the frontend call in their inner
//! loops, and the only `unsafe` in genre-core.
//!
//! One cfg alias, `arm_dsp` (set by `core/build.rs` for `target_arch = "arm"` with
//! `target_abi = "eabihf"`: the Cortex-M4F/M7, whose ISA has the DSP extension and an FPU),
//! chooses between two rooms with the same items:
//!
//! | item | [`portable`] (every target) | `arm_dsp` (Cortex-M4F/M7) |
//! |---|---|---|
//! | [`FeatureOperand`], [`HiddenOperand`]: one gate's 64 `i8` weight rows (in [`GateBlocks`]) · an input | Rust, one block of four rows at a time (on x86_64: `x86`'s AVX2 `vpmaddwd` kernel when the CPU has AVX2, chosen at run time; on aarch64: `neon`'s `smlal` kernel) | `sxtb16`/`smlad` assembly, `ldm` of a word of each row |
//! | [`gate_outputs`]: one gate's epilogue (two requantisations, bias, sigmoid or tanh) | Rust over [`crate::fixed`] (x86_64 with AVX2: `x86`'s eight rows at a time) | assembly, one pass over the rows |
//! | [`cell_update`]: a layer's cell and hidden update from its gates | Rust over [`crate::fixed`] (x86_64 with AVX2: `x86`'s eight units at a time) | assembly, two units a pass |
//! | [`sqrt_in_place`]: correctly rounded `f32` square roots | `libm::sqrtf` (x86_64: `sqrtps`; aarch64: `fsqrt` on four lanes) | `vsqrt.f32` assembly |
//! | [`dot_f32`]: `f32` dot products of the filterbanks and the DCT, in index order | Rust, unrolled by four | `vldmia`/`vmla.f32` assembly |
//!
//! Integer sums are exact, the epilogue follows [`crate::fixed`]'s formulas step by step, both
//! square roots round correctly, and both float dot products round each product and then each
//! sum in the same order, so both rooms give the same bits. [`portable`] is compiled on every
//! target, so that a test on the device (`firmware/qemu`'s `kernel-check`) can compare it
//! with `arm_dsp` on random rows.
//!
//! Stable rustc does not expose the Arm `dsp` target feature to `cfg`; a hard-float Arm core
//! without the DSP extension (none ships today) would need the alias changed.

use crate::config::HIDDEN;
use crate::format::BLOCK_ROWS;

pub mod portable;

#[cfg(arm_dsp)]
#[allow(unsafe_code)]
pub mod arm_dsp;

#[cfg(arm_dsp)]
pub use arm_dsp::{
    cell_update, dot_f32, gate_outputs, sqrt_in_place, FeatureOperand, HiddenOperand,
};
#[cfg(not(arm_dsp))]
pub use portable::dot_f32;
#[cfg(not(any(arm_dsp, target_arch = "x86_64")))]
pub use portable::{cell_update, gate_outputs};
#[cfg(not(any(arm_dsp, target_arch = "x86_64", target_arch = "aarch64")))]
pub use portable::{sqrt_in_place, FeatureOperand, HiddenOperand};

#[cfg(target_arch = "x86_64")]
#[allow(unsafe_code)]
pub mod x86;
#[cfg(target_arch = "x86_64")]
pub use x86::{cell_update, gate_outputs, sqrt_in_place, FeatureOperand, HiddenOperand};

#[cfg(target_arch = "aarch64")]
#[allow(unsafe_code)]
pub mod neon;
#[cfg(target_arch = "aarch64")]
pub use neon::{sqrt_in_place, FeatureOperand, HiddenOperand};

/// The integer engine's dot-product kernel on this build and CPU: `"avx2"` or `"portable"`
/// on x86_64 (chosen at run time, see [`x86`]), `"neon"` on aarch64, `"arm_dsp"` on the
/// Cortex-M4F/M7, `"portable"` elsewhere.
#[must_use]
pub fn dot_kernel() -> &'static str {
    #[cfg(arm_dsp)]
    return "arm_dsp";
    #[cfg(target_arch = "x86_64")]
    return x86::kernel();
    #[cfg(target_arch = "aarch64")]
    return neon::kernel();
    #[cfg(not(any(arm_dsp, target_arch = "x86_64", target_arch = "aarch64")))]
    return "portable";
}

/// One gate's [`HIDDEN`] weight rows as the blob stores them: blocks of [`BLOCK_ROWS`] rows,
/// each `GROUPS` groups of 16 bytes (bytes `4g..4g + 4` of each of the block's rows, see
/// [the format](crate::format#weight-blocks)). A row is `4 · GROUPS` `i8` weights.
pub type GateBlocks<const GROUPS: usize> = [[[u8; 16]; GROUPS]; HIDDEN / BLOCK_ROWS];

/// A layer input prepared for the dot-product kernel: the features (layer 0) or a packed
/// hidden state (layer 1 and both recurrences), of `4 · GROUPS` values.
pub trait GateOperand<const GROUPS: usize> {
    /// The dot products of one gate's [`HIDDEN`] `i8` weight rows with this input, exact in
    /// `i32` (≤ 64 terms of 127 · 32768).
    fn dot_gate(&self, rows: &GateBlocks<GROUPS>, out: &mut [i32; HIDDEN]);
}

/// The activation of a gate: the logistic function (i, f, o) or tanh (the cell input g).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Activation {
    /// [`crate::fixed::sigmoid_q15`].
    Sigmoid,
    /// [`crate::fixed::tanh_q15`].
    Tanh,
}
