//! The integer-only step ([`QuantEngine`]), the layer API that tests pin one gate, one cell
//! update and one layer at a time, and the window readout. Number formats: [`super`].

use super::LOGIT_FRAC_BITS;
use crate::arch::{
    cell_update as cell_kernel, gate_outputs, Activation, FeatureOperand, GateBlocks, GateOperand,
    HiddenOperand,
};
use crate::config::{FeatureFrame, HIDDEN, N_FEATURES, N_GENRES, N_LAYERS, POOL_FROM};
use crate::fixed::requantize;
use crate::format::{le_i32, LayerView, Model, ROW_RECORD};
use crate::lstm::GATES;

/// Hidden values per packed word of [`QuantEngine`]'s hidden state.
const PAIRS: usize = HIDDEN / 2;
/// Groups of four values in a hidden state (the dot-product kernels' unit).
const HIDDEN_GROUPS: usize = HIDDEN / 4;
const _: () = assert!(HIDDEN.is_multiple_of(2));

/// Streaming state of the integer engine (h, c per layer, the pooled top-layer `h`, and a
/// layer step's scratch: gates and accumulators): 2 kB, owned by the caller (a `static` on the
/// device). The hidden state is kept as pairs of Q15 values in one `u32` (low half `h[2p]`,
/// high half `h[2p+1]`), so that one load gives two values (hard-float Arm targets repack them
/// once per layer for the `smlad` routine in `dsp`). Equality compares the state, not the
/// scratch.
#[derive(Clone, Debug)]
pub struct QuantEngine {
    h: [[u32; PAIRS]; N_LAYERS],
    c: [[i16; HIDDEN]; N_LAYERS],
    scratch: Scratch,
    /// Sum of the top layer's Q15 `h` over the pooled steps (index ≥ [`POOL_FROM`]), each
    /// addition saturating: |h| ≤ 32767, so it can saturate only after more than 65,536
    /// pooled steps without a reset (a window has 47; [`crate::stream::WindowRule`] resets
    /// every 94 steps), and `i32` keeps the readout's division in 32 bits.
    pool: [i32; HIDDEN],
    /// Steps since the last reset.
    steps: u32,
}

impl PartialEq for QuantEngine {
    fn eq(&self, other: &Self) -> bool {
        (self.h, self.c, self.pool, self.steps) == (other.h, other.c, other.pool, other.steps)
    }
}

impl Eq for QuantEngine {}

impl Default for QuantEngine {
    fn default() -> Self {
        Self::new()
    }
}

const _: () = assert!(GATES == 4 * HIDDEN);

/// A layer step's working memory, kept between steps so that no step clears it: every value
/// is written before it is read.
#[derive(Clone, Debug)]
struct Scratch {
    /// The gates' outputs (Q15, `[i; f; g; o]`).
    gates: [i16; GATES],
    /// One gate's accumulators: the input path's, then the recurrent path's.
    acc: [[i32; HIDDEN]; 2],
}

impl Scratch {
    const fn new() -> Self {
        Self {
            gates: [0; GATES],
            acc: [[0; HIDDEN]; 2],
        }
    }
}

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

/// One gate's weight blocks after another, for rows of `4 · GROUPS` weights.
#[inline]
fn gate_blocks<const GROUPS: usize>(w: &[u8]) -> &[GateBlocks<GROUPS>] {
    // The parser checked the lengths: `as_chunks` leaves no remainder.
    w.as_chunks::<16>().0.as_chunks::<GROUPS>().0.as_chunks().0
}

/// One layer step: all gate rows from `x` and the old `h`, then the cell/hidden update.
fn packed_layer_step<const GROUPS: usize, X: GateOperand<GROUPS>>(
    l: &LayerView<'_>,
    x: &X,
    h: &mut [u32; PAIRS],
    c: &mut [i16; HIDDEN],
    scratch: &mut Scratch,
) {
    let hx = HiddenOperand::new(h);
    let records = l
        .records
        .as_chunks::<ROW_RECORD>()
        .0
        .as_chunks::<HIDDEN>()
        .0;
    let shifts = l.shifts.as_chunks::<2>().0.as_chunks::<HIDDEN>().0;
    let gate_rows = gate_blocks::<GROUPS>(l.w_ih)
        .iter()
        .zip(gate_blocks::<HIDDEN_GROUPS>(l.w_hh))
        .zip(records.iter().zip(shifts))
        .zip(scratch.gates.as_chunks_mut::<HIDDEN>().0);
    let acc = &mut scratch.acc;
    for (q, (((wx, wh), (rec, sh)), out)) in gate_rows.enumerate() {
        x.dot_gate(wx, &mut acc[0]);
        hx.dot_gate(wh, &mut acc[1]);
        // The cell input g uses tanh, the gates i, f, o the logistic function.
        let act = if q == Gate::Cell as usize {
            Activation::Tanh
        } else {
            Activation::Sigmoid
        };
        gate_outputs(act, acc, rec, sh, out);
    }
    cell_kernel(&scratch.gates, c, h, l.cell_frac_bits);
}

/// The head on a packed Q15 hidden vector: Q16 logits.
fn head(m: &Model<'_>, h: &[u32; PAIRS]) -> [i32; N_GENRES] {
    let mut out = [0i32; N_GENRES];
    let (head_rows, _) = m.head.w.as_chunks::<HIDDEN>();
    let rows = head_rows.iter().zip(m.head.bias.chunks_exact(4));
    for (g, (w, b)) in rows.enumerate() {
        let mut acc = 0i32;
        let (weight_pairs, _) = w.as_chunks::<2>();
        for (wp, &pair) in weight_pairs.iter().zip(h) {
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

/// The Q15 vector of the engine's pairs ([`pack_all`] undone).
fn unpack_all(h: &[u32; PAIRS]) -> [i16; HIDDEN] {
    core::array::from_fn(|k| {
        let (lo, hi) = unpack(h[k / 2]);
        (if k % 2 == 0 { lo } else { hi }) as i16
    })
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
    let mut scratch = Scratch::new();
    match input {
        LayerInput::Features(x) => {
            packed_layer_step(
                &m.layers[0],
                &FeatureOperand::new(x),
                &mut packed,
                c,
                &mut scratch,
            );
        }
        LayerInput::Hidden(x) => {
            let x = pack_all(x);
            packed_layer_step(
                &m.layers[1],
                &HiddenOperand::new(&x),
                &mut packed,
                c,
                &mut scratch,
            );
        }
    }
    *h = unpack_all(&packed);
    scratch.gates
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
    let mut h = [0u32; PAIRS];
    cell_kernel(gates, c, &mut h, cell_frac_bits);
    unpack_all(&h)
}

impl QuantEngine {
    /// Zero state.
    #[must_use]
    pub const fn new() -> Self {
        Self {
            h: [[0; PAIRS]; N_LAYERS],
            c: [[0; HIDDEN]; N_LAYERS],
            scratch: Scratch::new(),
            pool: [0; HIDDEN],
            steps: 0,
        }
    }

    /// Back to the zero state (start of a window); the scratch is left as it is.
    pub fn reset(&mut self) {
        let zero = Self::new();
        self.h = zero.h;
        self.c = zero.c;
        self.pool = zero.pool;
        self.steps = zero.steps;
    }

    /// Advances both layers by one quantised frame (from [`Model::quantize_input`]).
    /// Integer-only; about 57 k `i8`×`i8`/`i16` multiply-accumulates.
    pub fn step(&mut self, m: &Model<'_>, input: &[i8; N_FEATURES]) {
        let [h0, h1] = &mut self.h;
        let [c0, c1] = &mut self.c;
        packed_layer_step(
            &m.layers[0],
            &FeatureOperand::new(input),
            h0,
            c0,
            &mut self.scratch,
        );
        packed_layer_step(
            &m.layers[1],
            &HiddenOperand::new(h0),
            h1,
            c1,
            &mut self.scratch,
        );
        if self.steps as usize >= POOL_FROM {
            for (acc, &pair) in self.pool.chunks_exact_mut(2).zip(h1.iter()) {
                let (lo, hi) = unpack(pair);
                acc[0] = acc[0].saturating_add(lo);
                acc[1] = acc[1].saturating_add(hi);
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
    /// reset), Q15, rounded half away from zero: `±((|sum| + n / 2) / n)` in `u32` for the
    /// (saturated, see the `pool` field) sum of `n` steps; zeros before step `POOL_FROM`.
    #[must_use]
    pub fn pooled_hidden(&self) -> [i16; HIDDEN] {
        let n = self.steps.saturating_sub(POOL_FROM as u32);
        if n == 0 {
            return [0; HIDDEN];
        }
        self.pool.map(|sum| {
            // |sum| ≤ 2^31 and n / 2 < 2^31: no overflow. |sum| ≤ min(32767 · n, 2^31), and
            // the sum saturates only for n ≥ 65,538, where 2^31 / n < 32767.5: the rounded
            // mean fits in i16.
            let mean = ((sum.unsigned_abs() + n / 2) / n) as i16;
            if sum < 0 {
                -mean
            } else {
                mean
            }
        })
    }

    /// Hidden state of `layer`, Q15 (unpacked copy).
    ///
    /// # Panics
    /// If `layer >= N_LAYERS`.
    #[must_use]
    pub fn hidden(&self, layer: usize) -> [i16; HIDDEN] {
        unpack_all(&self.h[layer])
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
            let v = (frame[j] - self.input_mean(j)) * self.input_mul(j);
            #[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
            {
                // `as` saturates and maps NaN to 0.
                libm::roundf(v).clamp(-127.0, 127.0) as i8
            }
            #[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
            {
                round_to_i8(v)
            }
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

/// `libm::roundf(v).clamp(-127.0, 127.0) as i8` without the library call (the host's; the
/// device keeps `roundf`): `t = v as i32` truncates towards zero, `v - t` is exact (`|v| ≤
/// 128` after the first clamp), and a fraction of ±½ or more moves `t` one away from zero, as
/// `roundf` rounds halves; values beyond ±128 and the infinities clamp to ±128 and then to
/// ±127 like their rounded values; NaN stays NaN through the clamp and `as i32` makes it 0,
/// as `as i8` does.
#[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
#[doc(hidden)] // public for the test that compares it with `roundf`
#[must_use]
pub fn round_to_i8(v: f32) -> i8 {
    let v = v.clamp(-128.0, 128.0);
    let t = v as i32;
    let frac = v - t as f32;
    let r = t + i32::from(frac >= 0.5) - i32::from(frac <= -0.5);
    r.clamp(-127, 127) as i8
}
