//! The integer-only LSTM engine over a parsed weights blob ([`Model`](crate::format::Model)), its calibration, and
//! (feature `std`) the float→fixed conversion done once at export (`quantize`, `prepare`).
//!
//! [`QuantEngine::step`] uses no float operation (it runs unchanged on a Cortex-M0+);
//! the only float steps are [`Model::quantize_input`](crate::format::Model::quantize_input) before it and [`probabilities`] after.
//! The weight-row dot products run in the kernels of [`crate::arch`] (the DSP extension's
//! `sxtb16`/`smlad` on the Cortex-M4F, portable Rust elsewhere); integer sums are exact, so
//! both give the same bits.
//!
//! Rooms: [`engine`] (the step, the layer API, the window readout), [`calibrate`] (activation
//! ranges seen by the float model), `export` (feature `std`: all float→fixed work, once).
//!
//! Number formats (`Qn` = value · 2^n in an integer):
//!
//! | quantity | type | format |
//! |---|---|---|
//! | input feature `x_q` | `i8` | `round((x - mean) · mul)` clamped to ±127; per feature `mul = 1/(std · s_in)`, `s_in = input_range / 127` (calibrated) |
//! | weights `w_ih`, `w_hh`, head | `i8` | symmetric, one scale per output row (folded into the row's [`Requant`](crate::fixed::Requant)) |
//! | accumulators | `i32` | `Σ w · x` (≤ 64 terms of 127·32768: never overflows) |
//! | gate pre-activation | `i32` | Q16: `requant_x(acc_x) + requant_h(acc_h) + bias`, saturating |
//! | gates i, f, g, o | `i16` | Q15 ([`sigmoid_q15`](crate::fixed::sigmoid_q15) / [`tanh_q15`](crate::fixed::tanh_q15), ≤ 2 LSB from exact) |
//! | hidden state `h` | `i16` | Q15 |
//! | cell state `c` | `i16` | Q(15-n).n, `n` = [`Model::cell_frac_bits`](crate::format::Model::cell_frac_bits) per layer (6..=15), from calibration |
//! | pooled `h` (window readout) | `i32` sum → `i16` | Q15: saturating sum of the top layer's `h` over steps ≥ [`POOL_FROM`](crate::config::POOL_FROM) (saturates only after more than 65,536 such steps without a reset), divided by their count `n` in `u32` with rounding half away from zero: `±((\|sum\| + n / 2) / n)` |
//! | logits | `i32` | Q16 ([`LOGIT_FRAC_BITS`]) |
//!
//! Cell update, with round-half-up shifts ([`round_shr`](crate::fixed::round_shr)) and saturation to ±32767:
//! `c' = (f·c) >> 15 + (i·g) >> (30 - n)`, `h' = (o · tanh(c')) >> 15`.
//!
//! Each gate row has two requantisations because `x` (i8, per-feature scales) and `h` (Q15)
//! have unrelated scales: sharing one weight scale would crush the recurrent weights.
//!
//! Calibration: run [`crate::lstm::FloatEngine`] over training windows and call
//! [`Calibration::observe`] after each step; it records a histogram and the maximum of
//! `|x_norm|` per feature and `max |c|` per layer. `quantize` then picks `s_in` from
//! [`Calibration::input_range`] (all but [`INPUT_CLIP_FRACTION`] of the frames inside ±127)
//! and the cell format (with [`CELL_HEADROOM`]).

/// Fraction bits of the gate pre-activations (Q16 in `i32`).
pub const PRE_FRAC_BITS: u32 = 16;
/// Fraction bits of [`QuantEngine::logits`]: a logit is `value as f32 / 65536.0`.
pub const LOGIT_FRAC_BITS: u32 = 16;
/// The cell format leaves this factor of headroom above the largest calibrated `|c|`.
pub const CELL_HEADROOM: f32 = 1.5;

pub mod calibrate;
pub mod engine;
#[cfg(feature = "std")]
mod export;

pub use calibrate::{Calibration, INPUT_BINS, INPUT_BIN_WIDTH, INPUT_CLIP_FRACTION};
pub use engine::{
    cell_update, dequantize_logits, gate, layer_step, probabilities, Gate, LayerInput, QuantEngine,
};
#[cfg(feature = "std")]
pub use export::{prepare, quantize, PrepareError};
