//! The integer-only LSTM engine over a parsed weights blob ([`Model`]), its calibration, and
//! (feature `std`) the float→fixed conversion done once at export (`quantize`, `prepare`).
//!
//! [`QuantEngine::step`] uses no float operation (it runs unchanged on a Cortex-M0+);
//! the only float steps are [`Model::quantize_input`] before it and [`probabilities`] after.
//! On hard-float Arm targets (the Cortex-M4F) the weight-row dot products run in a
//! hand-written DSP-extension routine (`sxtb16`/`smlad`, private module `dsp`), elsewhere in
//! portable Rust; integer sums are exact, so both give the same bits
//! (`scripts/firmware-bit-exact` compares them).
//!
//! Number formats (`Qn` = value · 2^n in an integer):
//!
//! | quantity | type | format |
//! |---|---|---|
//! | input feature `x_q` | `i8` | `round((x - mean) · mul)` clamped to ±127; per feature `mul = 1/(std · s_in)`, `s_in = input_range / 127` (calibrated) |
//! | weights `w_ih`, `w_hh`, head | `i8` | symmetric, one scale per output row (folded into the row's [`Requant`]) |
//! | accumulators | `i32` | `Σ w · x` (≤ 64 terms of 127·32768: never overflows) |
//! | gate pre-activation | `i32` | Q16: `requant_x(acc_x) + requant_h(acc_h) + bias`, saturating |
//! | gates i, f, g, o | `i16` | Q15 ([`sigmoid_q15`] / [`tanh_q15`], ≤ 2 LSB from exact) |
//! | hidden state `h` | `i16` | Q15 |
//! | cell state `c` | `i16` | Q(15-n).n, `n` = [`Model::cell_frac_bits`] per layer (6..=15), from calibration |
//! | pooled `h` (window readout) | `i64` sum → `i16` | Q15: sum of the top layer's `h` over steps ≥ [`POOL_FROM`], divided by their count with rounding |
//! | logits | `i32` | Q16 ([`LOGIT_FRAC_BITS`]) |
//!
//! Cell update, with round-half-up shifts ([`round_shr`]) and saturation to ±32767:
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

use crate::config::{FeatureFrame, HIDDEN, N_FEATURES, N_GENRES, N_LAYERS, POOL_FROM};
use crate::fixed::{requantize, round_shr, sat_i16, sigmoid_q15, tanh_q15, Requant, ACT_FRAC_BITS};
use crate::format::{le_i32, LayerView, Model};
use crate::lstm::{FloatEngine, GATES};

/// Fraction bits of the gate pre-activations (Q16 in `i32`).
pub const PRE_FRAC_BITS: u32 = 16;
/// Fraction bits of [`QuantEngine::logits`]: a logit is `value as f32 / 65536.0`.
pub const LOGIT_FRAC_BITS: u32 = 16;
/// The cell format leaves this factor of headroom above the largest calibrated `|c|`.
pub const CELL_HEADROOM: f32 = 1.5;

/// Hidden values per packed word of [`QuantEngine`]'s hidden state.
const PAIRS: usize = HIDDEN / 2;
const _: () = assert!(HIDDEN % 2 == 0);

/// Streaming state of the integer engine (h, c per layer, gate scratch, the pooled top-layer
/// `h`): 1.5 kB, owned by the caller (a `static` on the device). The hidden state is kept as
/// pairs of Q15 values in one `u32` (low half `h[2p]`, high half `h[2p+1]`), so that one load
/// gives two values (hard-float Arm targets repack them once per layer for the `smlad`
/// routine in `dsp`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QuantEngine {
    h: [[u32; PAIRS]; N_LAYERS],
    c: [[i16; HIDDEN]; N_LAYERS],
    gates: [i16; GATES],
    /// Sum of the top layer's Q15 `h` over the pooled steps (index ≥ [`POOL_FROM`]); `i64`, so
    /// a stream that is never reset cannot overflow it.
    pool: [i64; HIDDEN],
    /// Steps since the last reset.
    steps: u32,
}

impl Default for QuantEngine {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(all(target_arch = "arm", target_abi = "eabihf"))]
#[allow(unsafe_code)]
mod dsp;

/// Gate rows computed together by the portable dot products, so that each input value is
/// loaded once per block.
#[cfg(not(all(target_arch = "arm", target_abi = "eabihf")))]
const BLOCK: usize = 4;
const _: () = assert!(GATES == 4 * HIDDEN && HIDDEN % 4 == 0);

/// The two Q15 values of a packed pair.
#[inline]
fn unpack(pair: u32) -> (i32, i32) {
    (i32::from(pair as u16 as i16), (pair as i32) >> 16)
}

/// Packs two Q15 values.
#[inline]
fn pack(lo: i16, hi: i16) -> u32 {
    u32::from(lo as u16) | (u32::from(hi as u16) << 16)
}

/// A layer input: computes one gate's weight rows' dot products with itself.
trait GateOperand {
    /// Input width.
    const LEN: usize;
    /// Dot products of the `HIDDEN` consecutive `i8` weight rows of one gate in `w` (each as
    /// long as the input) with `self`, in `i32` (exact: ≤ 64 terms of 127 · 32768).
    fn dot_gate(&self, w: &[u8], out: &mut [i32; HIDDEN]);
}

/// Layer 0 reads the quantised features.
#[cfg(not(all(target_arch = "arm", target_abi = "eabihf")))]
impl GateOperand for [i8; N_FEATURES] {
    const LEN: usize = N_FEATURES;
    #[inline]
    fn dot_gate(&self, w: &[u8], out: &mut [i32; HIDDEN]) {
        for (acc, block) in out
            .chunks_exact_mut(BLOCK)
            .zip(w.chunks_exact(BLOCK * N_FEATURES))
        {
            let (Ok(acc), Ok(w)): (
                Result<&mut [i32; BLOCK], _>,
                Result<&[u8; BLOCK * N_FEATURES], _>,
            ) = (acc.try_into(), block.try_into()) else {
                return;
            };
            *acc = [0; BLOCK];
            for (k, &x) in self.iter().enumerate() {
                let x = i32::from(x);
                for (j, a) in acc.iter_mut().enumerate() {
                    *a += i32::from(w[j * N_FEATURES + k] as i8) * x;
                }
            }
        }
    }
}

/// Layer 1 and the recurrences read a packed hidden state.
#[cfg(not(all(target_arch = "arm", target_abi = "eabihf")))]
impl GateOperand for [u32; PAIRS] {
    const LEN: usize = HIDDEN;
    #[inline]
    fn dot_gate(&self, w: &[u8], out: &mut [i32; HIDDEN]) {
        for (acc, block) in out
            .chunks_exact_mut(BLOCK)
            .zip(w.chunks_exact(BLOCK * HIDDEN))
        {
            let (Ok(acc), Ok(w)): (
                Result<&mut [i32; BLOCK], _>,
                Result<&[u8; BLOCK * HIDDEN], _>,
            ) = (acc.try_into(), block.try_into()) else {
                return;
            };
            *acc = [0; BLOCK];
            for (p, &pair) in self.iter().enumerate() {
                let (lo, hi) = unpack(pair);
                for (j, a) in acc.iter_mut().enumerate() {
                    let row = j * HIDDEN + 2 * p;
                    *a += i32::from(w[row] as i8) * lo + i32::from(w[row + 1] as i8) * hi;
                }
            }
        }
    }
}

/// An operand borrowed from the engine's state.
#[cfg(not(all(target_arch = "arm", target_abi = "eabihf")))]
impl<T: GateOperand> GateOperand for &T {
    const LEN: usize = T::LEN;
    #[inline]
    fn dot_gate(&self, w: &[u8], out: &mut [i32; HIDDEN]) {
        (**self).dot_gate(w, out);
    }
}

/// Layer 0's input operand: the features themselves, or packed for the DSP routine.
#[cfg(not(all(target_arch = "arm", target_abi = "eabihf")))]
fn input_operand(x: &[i8; N_FEATURES]) -> &[i8; N_FEATURES] {
    x
}

/// A hidden state as a layer input operand: itself, or repacked for the DSP routine.
#[cfg(not(all(target_arch = "arm", target_abi = "eabihf")))]
fn hidden_operand(h: &[u32; PAIRS]) -> &[u32; PAIRS] {
    h
}

/// Layer 0's input operand: the features themselves, or packed for the DSP routine.
#[cfg(all(target_arch = "arm", target_abi = "eabihf"))]
fn input_operand(x: &[i8; N_FEATURES]) -> dsp::PackedInput {
    dsp::PackedInput::new(x)
}

/// A hidden state as a layer input operand: itself, or repacked for the DSP routine.
#[cfg(all(target_arch = "arm", target_abi = "eabihf"))]
fn hidden_operand(h: &[u32; PAIRS]) -> dsp::PackedHidden {
    dsp::PackedHidden::new(h)
}

/// One gate's outputs: `act(requant_x(ax) + requant_h(ah) + bias)` per row, each addition
/// saturating, the pre-activation in Q16 ([`PRE_FRAC_BITS`]).
#[inline]
fn gate_outputs<'a>(
    rows: impl Iterator<
        Item = (
            ((&'a mut i16, &'a [u8]), (&'a i32, &'a i32)),
            (Requant, Requant),
        ),
    >,
    act: impl Fn(i32) -> i16,
) {
    for (((gate, b), (&ax, &ah)), (rx, rh)) in rows {
        let z = requantize(ax, rx)
            .saturating_add(requantize(ah, rh))
            .saturating_add(le_i32(b));
        *gate = act(z);
    }
}

/// One layer step: all gate rows from `x` and the old `h`, then the cell/hidden update.
fn packed_layer_step<X: GateOperand>(
    l: &LayerView<'_>,
    x: &X,
    h: &mut [u32; PAIRS],
    c: &mut [i16; HIDDEN],
    gates: &mut [i16; GATES],
) {
    let hx = hidden_operand(h);
    let gate_rows = l
        .w_ih
        .chunks_exact(HIDDEN * X::LEN)
        .zip(l.w_hh.chunks_exact(HIDDEN * HIDDEN))
        .zip(l.bias.chunks_exact(4 * HIDDEN))
        .zip(l.requant_x.groups(HIDDEN).zip(l.requant_h.groups(HIDDEN)))
        .zip(gates.chunks_exact_mut(HIDDEN));
    // Every gate overwrites both.
    let mut ax = [0i32; HIDDEN];
    let mut ah = [0i32; HIDDEN];
    for (q, ((((wx, wh), bias), (rq_x, rq_h)), out)) in gate_rows.enumerate() {
        x.dot_gate(wx, &mut ax);
        hx.dot_gate(wh, &mut ah);
        let rows = out
            .iter_mut()
            .zip(bias.chunks_exact(4))
            .zip(ax.iter().zip(&ah))
            .zip(rq_x.iter().zip(rq_h.iter()));
        // The cell input g uses tanh, the gates i, f, o the logistic function (one loop
        // each, so that no row branches on the kind).
        if q == 2 {
            gate_outputs(rows, |z| tanh_q15(z, PRE_FRAC_BITS));
        } else {
            gate_outputs(rows, |z| sigmoid_q15(z, PRE_FRAC_BITS));
        }
    }
    let n = l.cell_frac_bits;
    for (p, pair) in h.iter_mut().enumerate() {
        let lo = cell_unit(gates, c, 2 * p, n);
        let hi = cell_unit(gates, c, 2 * p + 1, n);
        *pair = pack(lo, hi);
    }
}

/// Cell and hidden update of unit `k` from the layer's gates (Q15): `c[k]` becomes
/// `(f·c) >> 15 + (i·g) >> (30 - n)` (saturated), and the result is `h = (o · tanh(c)) >> 15`.
#[inline(always)]
fn cell_unit(gates: &[i16; GATES], c: &mut [i16; HIDDEN], k: usize, n: u32) -> i16 {
    let i = i32::from(gates[k]);
    let f = i32::from(gates[HIDDEN + k]);
    let g = i32::from(gates[2 * HIDDEN + k]);
    let o = i32::from(gates[3 * HIDDEN + k]);
    // f, i, o in [0, 32767], g and c in ±32767: each product < 2^30.
    let fc = round_shr(f * i32::from(c[k]), ACT_FRAC_BITS);
    let ig = round_shr(i * g, 2 * ACT_FRAC_BITS - n);
    c[k] = sat_i16(fc + ig);
    let t = i32::from(tanh_q15(i32::from(c[k]), n));
    sat_i16(round_shr(o * t, ACT_FRAC_BITS))
}

/// The head on a packed Q15 hidden vector: Q16 logits.
fn head(m: &Model<'_>, h: &[u32; PAIRS]) -> [i32; N_GENRES] {
    let mut out = [0i32; N_GENRES];
    let rows = m
        .head
        .w
        .chunks_exact(HIDDEN)
        .zip(m.head.bias.chunks_exact(4));
    for (g, (w, b)) in rows.enumerate() {
        let mut acc = 0i32;
        for (wp, &pair) in w.chunks_exact(2).zip(h) {
            let (lo, hi) = unpack(pair);
            acc += i32::from(wp[0] as i8) * lo + i32::from(wp[1] as i8) * hi;
        }
        out[g] = requantize(acc, m.head.requant.get(g)).saturating_add(le_i32(b));
    }
    out
}

/// One of an LSTM layer's four gates, in the order of its weight rows (PyTorch's i, f, g, o).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Gate {
    /// Input gate `i` (logistic).
    Input = 0,
    /// Forget gate `f` (logistic).
    Forget = 1,
    /// Cell input `g` (tanh).
    Cell = 2,
    /// Output gate `o` (logistic).
    Output = 3,
}

/// What a layer reads; the variant names the layer: layer 0 reads the quantised features
/// (from [`Model::quantize_input`]), layer 1 the Q15 hidden state of layer 0.
#[derive(Clone, Copy, Debug)]
pub enum LayerInput<'a> {
    /// Layer 0's input.
    Features(&'a [i8; N_FEATURES]),
    /// Layer 1's input.
    Hidden(&'a [i16; HIDDEN]),
}

/// Packs a Q15 vector into the engine's pairs.
fn pack_all(h: &[i16; HIDDEN]) -> [u32; PAIRS] {
    core::array::from_fn(|p| pack(h[2 * p], h[2 * p + 1]))
}

/// One layer step of the engine on explicit state: the layer of `input` reads it and `h`
/// (Q15), updates `c` (the layer's cell format) and `h` in place, and returns the four gates'
/// outputs (Q15, `[i; f; g; o]`). [`QuantEngine::step`] is this for both layers; exposed so
/// that tests can pin one layer, one gate ([`gate`]) and one cell update ([`cell_update`]).
pub fn layer_step(
    m: &Model<'_>,
    input: LayerInput<'_>,
    h: &mut [i16; HIDDEN],
    c: &mut [i16; HIDDEN],
) -> [i16; GATES] {
    let mut packed = pack_all(h);
    let mut gates = [0i16; GATES];
    match input {
        LayerInput::Features(x) => {
            packed_layer_step(&m.layers[0], &input_operand(x), &mut packed, c, &mut gates);
        }
        LayerInput::Hidden(x) => {
            let x = pack_all(x);
            packed_layer_step(
                &m.layers[1],
                &hidden_operand(&x),
                &mut packed,
                c,
                &mut gates,
            );
        }
    }
    *h = core::array::from_fn(|k| {
        let (lo, hi) = unpack(packed[k / 2]);
        (if k % 2 == 0 { lo } else { hi }) as i16
    });
    gates
}

/// The outputs (Q15) of one gate of the layer that reads `input`, with hidden state `h`:
/// `act(requant_x(W_x · x) + requant_h(W_h · h) + bias)` per unit.
#[must_use]
pub fn gate(m: &Model<'_>, input: LayerInput<'_>, h: &[i16; HIDDEN], gate: Gate) -> [i16; HIDDEN] {
    let gates = layer_step(m, input, &mut h.clone(), &mut [0; HIDDEN]);
    let first = gate as usize * HIDDEN;
    core::array::from_fn(|k| gates[first + k])
}

/// The cell and hidden update of one layer from its gates (Q15, `[i; f; g; o]`): `c` (with
/// `cell_frac_bits` fraction bits) is updated in place and the new `h` (Q15) returned.
///
/// # Panics
/// In debug builds, for `cell_frac_bits` outside
/// [`MIN_CELL_FRAC_BITS`](crate::format::MIN_CELL_FRAC_BITS)`..=`[`MAX_CELL_FRAC_BITS`](crate::format::MAX_CELL_FRAC_BITS)
/// (a shift overflow); the weights parser admits no other value.
#[must_use]
pub fn cell_update(
    gates: &[i16; GATES],
    c: &mut [i16; HIDDEN],
    cell_frac_bits: u32,
) -> [i16; HIDDEN] {
    core::array::from_fn(|k| cell_unit(gates, c, k, cell_frac_bits))
}

impl QuantEngine {
    /// Zero state.
    #[must_use]
    pub const fn new() -> Self {
        Self {
            h: [[0; PAIRS]; N_LAYERS],
            c: [[0; HIDDEN]; N_LAYERS],
            gates: [0; GATES],
            pool: [0; HIDDEN],
            steps: 0,
        }
    }

    /// Back to the zero state (start of a window).
    pub fn reset(&mut self) {
        *self = Self::new();
    }

    /// Advances both layers by one quantised frame (from [`Model::quantize_input`]).
    /// Integer-only; about 57 k `i8`×`i8`/`i16` multiply-accumulates.
    pub fn step(&mut self, m: &Model<'_>, input: &[i8; N_FEATURES]) {
        let [h0, h1] = &mut self.h;
        let [c0, c1] = &mut self.c;
        packed_layer_step(&m.layers[0], &input_operand(input), h0, c0, &mut self.gates);
        packed_layer_step(&m.layers[1], &hidden_operand(h0), h1, c1, &mut self.gates);
        if self.steps as usize >= POOL_FROM {
            for (acc, &pair) in self.pool.chunks_exact_mut(2).zip(h1.iter()) {
                let (lo, hi) = unpack(pair);
                acc[0] += i64::from(lo);
                acc[1] += i64::from(hi);
            }
        }
        self.steps = self.steps.saturating_add(1);
    }

    /// Logits of the top layer's current hidden state (this step's), Q16
    /// ([`LOGIT_FRAC_BITS`]).
    #[must_use]
    pub fn logits(&self, m: &Model<'_>) -> [i32; N_GENRES] {
        head(m, &self.h[N_LAYERS - 1])
    }

    /// The window's readout, Q16: the head applied to [`Self::pooled_hidden`]. Before step
    /// [`POOL_FROM`] nothing is pooled yet and the result is the head's bias. Integer-only,
    /// like [`Self::step`].
    #[must_use]
    pub fn window_logits(&self, m: &Model<'_>) -> [i32; N_GENRES] {
        let mean = self.pooled_hidden();
        let mut packed = [0u32; PAIRS];
        for (pair, v) in packed.iter_mut().zip(mean.chunks_exact(2)) {
            *pair = pack(v[0], v[1]);
        }
        head(m, &packed)
    }

    /// Mean of the top layer's `h` over the steps from [`POOL_FROM`] on (since the last
    /// reset), Q15, rounded half away from zero; zeros before step `POOL_FROM`.
    #[must_use]
    pub fn pooled_hidden(&self) -> [i16; HIDDEN] {
        let n = i64::from(self.steps.saturating_sub(POOL_FROM as u32));
        if n == 0 {
            return [0; HIDDEN];
        }
        self.pool.map(|sum| {
            let half = if sum < 0 { -(n / 2) } else { n / 2 };
            // |sum| ≤ 32767·n, so the rounded mean fits in i16.
            ((sum + half) / n) as i16
        })
    }

    /// Hidden state of `layer`, Q15 (unpacked copy).
    ///
    /// # Panics
    /// If `layer >= N_LAYERS`.
    #[must_use]
    pub fn hidden(&self, layer: usize) -> [i16; HIDDEN] {
        let h = &self.h[layer];
        core::array::from_fn(|k| {
            let (lo, hi) = unpack(h[k / 2]);
            (if k % 2 == 0 { lo } else { hi }) as i16
        })
    }

    /// Cell state of `layer`, in [`Model::cell_frac_bits`] fraction bits.
    ///
    /// # Panics
    /// If `layer >= N_LAYERS`.
    #[must_use]
    pub fn cell(&self, layer: usize) -> &[i16; HIDDEN] {
        &self.c[layer]
    }
}

impl Model<'_> {
    /// Normalises and quantises one feature frame: `round((x - mean) · mul)` clamped to ±127
    /// (NaN gives 0). The only float step of inference; bit-identical on host and device.
    #[must_use]
    pub fn quantize_input(&self, frame: &FeatureFrame) -> [i8; N_FEATURES] {
        core::array::from_fn(|j| {
            let v = libm::roundf((frame[j] - self.input_mean(j)) * self.input_mul(j));
            // `as` saturates and maps NaN to 0.
            v.clamp(-127.0, 127.0) as i8
        })
    }
}

/// Q16 logits to floats.
#[must_use]
pub fn dequantize_logits(logits: &[i32; N_GENRES]) -> [f32; N_GENRES] {
    core::array::from_fn(|g| logits[g] as f32 / (1u32 << LOGIT_FRAC_BITS) as f32)
}

/// Softmax of the dequantised logits (float, outside the integer step).
#[must_use]
pub fn probabilities(logits: &[i32; N_GENRES]) -> [f32; N_GENRES] {
    crate::lstm::softmax(&dequantize_logits(logits))
}

/// Width of a calibration histogram bin of `|x_norm|`, in standard deviations.
pub const INPUT_BIN_WIDTH: f32 = 0.125;
/// Calibration histogram bins per feature; the last also counts everything beyond 32 σ.
pub const INPUT_BINS: usize = 256;
/// Largest fraction of calibration frames whose input may clip at ±127 (per feature): a few
/// outliers must not coarsen the 8-bit step for all other frames.
pub const INPUT_CLIP_FRACTION: f64 = 1e-4;

/// Activation ranges seen while running the float model over calibration data: a histogram
/// and the maximum of `|x_norm|` per feature, and the maximum `|c|` per layer (34 kB).
#[derive(Clone, Debug, PartialEq)]
pub struct Calibration {
    input_absmax: [f32; N_FEATURES],
    input_hist: [[u32; INPUT_BINS]; N_FEATURES],
    cell_absmax: [f32; N_LAYERS],
    steps: u64,
}

impl Default for Calibration {
    fn default() -> Self {
        Self::new()
    }
}

impl Calibration {
    /// Nothing observed yet.
    #[must_use]
    pub const fn new() -> Self {
        Self {
            input_absmax: [0.0; N_FEATURES],
            input_hist: [[0; INPUT_BINS]; N_FEATURES],
            cell_absmax: [0.0; N_LAYERS],
            steps: 0,
        }
    }

    /// Records the engine's state after a [`FloatEngine::step`]; non-finite values are
    /// ignored.
    pub fn observe(&mut self, e: &FloatEngine) {
        fn absmax(acc: &mut f32, v: f32) {
            if v.is_finite() && v.abs() > *acc {
                *acc = v.abs();
            }
        }
        let inputs = self.input_absmax.iter_mut().zip(&mut self.input_hist);
        for ((m, hist), &x) in inputs.zip(e.normalized_input()) {
            absmax(m, x);
            if x.is_finite() {
                // Saturating float→int cast: everything past the end lands in the last bin.
                let bin = ((x.abs() / INPUT_BIN_WIDTH) as usize).min(INPUT_BINS - 1);
                hist[bin] = hist[bin].saturating_add(1);
            }
        }
        for (l, m) in self.cell_absmax.iter_mut().enumerate() {
            for &c in e.cell(l) {
                absmax(m, c);
            }
        }
        self.steps += 1;
    }

    /// Largest `|(x - mean) / std|` seen per feature.
    #[must_use]
    pub fn input_absmax(&self) -> &[f32; N_FEATURES] {
        &self.input_absmax
    }

    /// The `|x_norm|` range the 8-bit input of `feature` covers: the upper edge of the
    /// histogram bin below which all but [`INPUT_CLIP_FRACTION`] of the frames fall, capped at
    /// [`Calibration::input_absmax`] (so without outliers it is the maximum).
    ///
    /// # Panics
    /// If `feature >= N_FEATURES`.
    #[must_use]
    pub fn input_range(&self, feature: usize) -> f32 {
        let allowed = (self.steps as f64 * INPUT_CLIP_FRACTION) as u64;
        let mut above = 0u64;
        let mut edge = self.input_absmax[feature];
        for (b, &n) in self.input_hist[feature].iter().enumerate().rev() {
            if above + u64::from(n) > allowed {
                edge = (b + 1) as f32 * INPUT_BIN_WIDTH;
                break;
            }
            above += u64::from(n);
        }
        edge.min(self.input_absmax[feature])
    }

    /// Largest `|c|` seen per layer.
    #[must_use]
    pub fn cell_absmax(&self) -> &[f32; N_LAYERS] {
        &self.cell_absmax
    }

    /// Steps observed.
    #[must_use]
    pub fn steps(&self) -> u64 {
        self.steps
    }
}

#[cfg(feature = "std")]
pub use host::{prepare, quantize, PrepareError};

/// Float → fixed conversion, once, on the host.
#[cfg(feature = "std")]
mod host {
    use super::{Calibration, CELL_HEADROOM, LOGIT_FRAC_BITS, PRE_FRAC_BITS};
    use crate::config::{HIDDEN, N_FEATURES, N_GENRES};
    use crate::fixed::{Requant, ACT_FRAC_BITS};
    use crate::format::{
        write, FormatError, QuantHead, QuantLayer, QuantParams, MAX_CELL_FRAC_BITS,
        MIN_CELL_FRAC_BITS,
    };
    use crate::lstm::{FloatLayer, FloatModel, GATES};
    use std::boxed::Box;
    use std::string::ToString;
    use std::vec::Vec;

    // The head's rows are quantised to the gate pre-activation format, Q16.
    const _: () = assert!(LOGIT_FRAC_BITS == PRE_FRAC_BITS);

    /// Why [`quantize`] / [`prepare`] failed.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    #[non_exhaustive]
    pub enum PrepareError {
        /// The calibration observed no step.
        NotCalibrated,
        /// Not exactly one label per genre.
        LabelCount {
            /// Labels given.
            actual: usize,
        },
        /// A scale that [`Requant`] cannot express (weights or biases far out of range).
        Scale {
            /// Section ("layer0.x", "head", ...).
            section: &'static str,
            /// Row.
            row: usize,
        },
        /// The blob writer rejected the result (e.g. a label over 16 bytes).
        Format(FormatError),
    }

    impl core::fmt::Display for PrepareError {
        fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
            match self {
                Self::NotCalibrated => write!(f, "calibration observed no step"),
                Self::LabelCount { actual } => {
                    write!(f, "{actual} labels, expected {N_GENRES}")
                }
                Self::Scale { section, row } => {
                    write!(f, "{section} row {row}: scale out of range")
                }
                Self::Format(e) => write!(f, "{e}"),
            }
        }
    }

    impl std::error::Error for PrepareError {}

    impl From<FormatError> for PrepareError {
        fn from(e: FormatError) -> Self {
            Self::Format(e)
        }
    }

    /// Symmetric per-row quantisation of `row · col_scale` (f64): the `i8` row and the
    /// real factor taking `Σ q·x_int` to Q16, given the input's integer step `in_step`.
    fn quant_row<const W: usize>(
        row: &[f32; W],
        col_scale: &[f64; W],
        section: &'static str,
        r: usize,
    ) -> Result<([i8; W], Requant), PrepareError> {
        let w: [f64; W] = core::array::from_fn(|k| f64::from(row[k]) * col_scale[k]);
        let max = w.iter().fold(0.0f64, |m, v| m.max(v.abs()));
        let scale = max / 127.0;
        let q = core::array::from_fn(|k| {
            if scale > 0.0 {
                (w[k] / scale).round().clamp(-127.0, 127.0) as i8
            } else {
                0
            }
        });
        let real = scale * f64::from(1u32 << PRE_FRAC_BITS);
        let rq = Requant::from_real(real).ok_or(PrepareError::Scale { section, row: r })?;
        Ok((q, rq))
    }

    /// Q16 bias, saturated to `i32`.
    fn q16(v: f64) -> i32 {
        (v * f64::from(1u32 << PRE_FRAC_BITS))
            .round()
            .clamp(f64::from(i32::MIN), f64::from(i32::MAX)) as i32
    }

    /// Cell fraction bits: the most that still hold `CELL_HEADROOM · max|c|`.
    fn cell_frac_bits(absmax: f32) -> u8 {
        let need = f64::from(absmax * CELL_HEADROOM);
        let mut n = MAX_CELL_FRAC_BITS;
        while n > MIN_CELL_FRAC_BITS && 2f64.powi(15 - i32::from(n)) < need {
            n -= 1;
        }
        n
    }

    fn layer<const IN: usize>(
        f: &FloatLayer<IN>,
        in_scale: &[f64; IN],
        cell_absmax: f32,
        names: (&'static str, &'static str),
    ) -> Result<Box<QuantLayer<IN>>, PrepareError> {
        let h_scale = [2f64.powi(-(ACT_FRAC_BITS as i32)); HIDDEN];
        let mut q = Box::new(QuantLayer {
            cell_frac_bits: cell_frac_bits(cell_absmax),
            w_ih: [[0; IN]; GATES],
            w_hh: [[0; HIDDEN]; GATES],
            requant_x: [Requant { mult: 0, shift: 31 }; GATES],
            requant_h: [Requant { mult: 0, shift: 31 }; GATES],
            bias: [0; GATES],
        });
        for r in 0..GATES {
            (q.w_ih[r], q.requant_x[r]) = quant_row(&f.w_ih[r], in_scale, names.0, r)?;
            (q.w_hh[r], q.requant_h[r]) = quant_row(&f.w_hh[r], &h_scale, names.1, r)?;
            q.bias[r] = q16(f64::from(f.b_ih[r]) + f64::from(f.b_hh[r]));
        }
        Ok(q)
    }

    /// All float→fixed work: input scales from `calib`, per-row `i8` weights and
    /// requantisation factors, Q16 biases, cell formats.
    ///
    /// # Errors
    /// [`PrepareError::NotCalibrated`], [`PrepareError::LabelCount`], or
    /// [`PrepareError::Scale`] for a row whose factor cannot be represented.
    pub fn quantize(
        float: &FloatModel,
        calib: &Calibration,
        labels: &[&str],
    ) -> Result<Box<QuantParams>, PrepareError> {
        if calib.steps() == 0 {
            return Err(PrepareError::NotCalibrated);
        }
        if labels.len() != N_GENRES {
            return Err(PrepareError::LabelCount {
                actual: labels.len(),
            });
        }
        // Integer step of each quantised input feature, in normalised units.
        let s_in: [f64; N_FEATURES] = core::array::from_fn(|j| {
            let m = f64::from(calib.input_range(j));
            if m > 0.0 {
                m / 127.0
            } else {
                1.0 / 127.0
            }
        });
        let input_mul: [f32; N_FEATURES] =
            core::array::from_fn(|j| (1.0 / (f64::from(float.norm_std[j]) * s_in[j])) as f32);
        // The step the device really applies, after rounding `mul` to f32.
        let in_scale: [f64; N_FEATURES] = core::array::from_fn(|j| {
            1.0 / (f64::from(float.norm_std[j]) * f64::from(input_mul[j]))
        });
        let h_scale = [2f64.powi(-(ACT_FRAC_BITS as i32)); HIDDEN];
        let cells = calib.cell_absmax();
        let layer0 = layer(&float.layer0, &in_scale, cells[0], ("layer0.x", "layer0.h"))?;
        let layer1 = layer(&float.layer1, &h_scale, cells[1], ("layer1.x", "layer1.h"))?;
        let mut head = QuantHead {
            w: [[0; HIDDEN]; N_GENRES],
            requant: [Requant { mult: 0, shift: 31 }; N_GENRES],
            bias: [0; N_GENRES],
        };
        for g in 0..N_GENRES {
            (head.w[g], head.requant[g]) = quant_row(&float.head_w[g], &h_scale, "head", g)?;
            head.bias[g] = q16(f64::from(float.head_b[g]));
        }
        Ok(Box::new(QuantParams {
            labels: core::array::from_fn(|g| labels[g].to_string()),
            input_mean: float.norm_mean,
            input_mul,
            layer0: *layer0,
            layer1: *layer1,
            head,
        }))
    }

    /// [`quantize`] then [`write()`]: the blob for `weights/*.tgm`.
    ///
    /// # Errors
    /// As [`quantize`], plus [`PrepareError::Format`] when a label is not 1..=16 bytes.
    pub fn prepare(
        float: &FloatModel,
        calib: &Calibration,
        labels: &[&str],
    ) -> Result<Vec<u8>, PrepareError> {
        let p = quantize(float, calib, labels)?;
        Ok(write(&p)?)
    }
}
