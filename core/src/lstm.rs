//! The f32 reference model: per-feature normalisation, two stacked LSTM layers with PyTorch
//! semantics, and a linear head giving one logit per genre.
//!
//! It is the ground truth the integer engine ([`crate::quant`]) is calibrated on and compared
//! to, and is itself checked against libtorch (`tests/tests/engine_lstm.rs`).
//!
//! Per step, for layer `l` with input `x` (the normalised frame `(frame - mean) / std` for
//! layer 0, the new hidden state of layer 0 for layer 1), as `torch.nn.LSTM`:
//!
//! ```text
//! [i f g o] = W_ih·x + b_ih + W_hh·h + b_hh      (rows 0..64, 64..128, 128..192, 192..256)
//! i, f, o   = sigmoid(·);  g = tanh(·)
//! c' = f·c + i·g;          h' = o·tanh(c')
//! logits = W_head·h'(top layer) + b_head                      (one step)
//! window logits = W_head·mean(h'(top layer), steps POOL_FROM..) + b_head
//! ```
//!
//! A window's decision is the pooled readout ([`FloatEngine::window_logits`]): the head is
//! linear, so it equals the mean of the per-step logits over the pooled steps, which is what
//! `host-train` trains.
//!
//! Items: [`FloatModel`] (weights as plain arrays; [`FloatModel::from_pytorch`] copies flat
//! PyTorch-layout slices, see [`TorchParams`]), [`FloatEngine`] (state `h`, `c` per layer, plus
//! the last step's normalised input and gate activations for calibration and tests),
//! [`softmax`] and [`log_softmax`].
//!
//! Determinism: `libm` for `exp`/`tanh`, no FMA, fixed summation order, so a step gives the
//! same bits on the host and on a Cortex-M.

use crate::config::{FeatureFrame, HIDDEN, N_FEATURES, N_GENRES, N_LAYERS, POOL_FROM};

/// Gate rows per layer: i, f, g, o blocks of [`HIDDEN`] each.
pub const GATES: usize = 4 * HIDDEN;

// The engines hard-wire a two-layer stack (layer 0 reads features, layer 1 reads layer 0).
const _: () = assert!(
    N_LAYERS == 2,
    "the engines implement exactly two LSTM layers"
);

/// One LSTM layer's weights, PyTorch layout: row `r` of `w_ih`/`w_hh` produces gate row `r`.
#[derive(Clone, Debug, PartialEq)]
pub struct FloatLayer<const IN: usize> {
    /// Input-to-hidden weights, `[4·HIDDEN][IN]`.
    pub w_ih: [[f32; IN]; GATES],
    /// Hidden-to-hidden weights, `[4·HIDDEN][HIDDEN]`.
    pub w_hh: [[f32; HIDDEN]; GATES],
    /// Input bias.
    pub b_ih: [f32; GATES],
    /// Hidden bias.
    pub b_hh: [f32; GATES],
}

impl<const IN: usize> FloatLayer<IN> {
    const ZERO: Self = Self {
        w_ih: [[0.0; IN]; GATES],
        w_hh: [[0.0; HIDDEN]; GATES],
        b_ih: [0.0; GATES],
        b_hh: [0.0; GATES],
    };

    /// One step: reads `x` and `h`, writes the gate activations, then updates `c` and `h`.
    fn step(
        &self,
        x: &[f32; IN],
        h: &mut [f32; HIDDEN],
        c: &mut [f32; HIDDEN],
        gates: &mut [f32; GATES],
    ) {
        for (r, gate) in gates.iter_mut().enumerate() {
            let a = dot(&self.w_ih[r], x) + self.b_ih[r] + (dot(&self.w_hh[r], h) + self.b_hh[r]);
            *gate = if r / HIDDEN == 2 {
                libm::tanhf(a)
            } else {
                sigmoid(a)
            };
        }
        for k in 0..HIDDEN {
            let (i, f, g, o) = (
                gates[k],
                gates[HIDDEN + k],
                gates[2 * HIDDEN + k],
                gates[3 * HIDDEN + k],
            );
            c[k] = f * c[k] + i * g;
            h[k] = o * libm::tanhf(c[k]);
        }
    }
}

/// The whole float model: normalisation, two layers, head.
#[derive(Clone, Debug, PartialEq)]
pub struct FloatModel {
    /// Per-feature mean subtracted before the LSTM.
    pub norm_mean: [f32; N_FEATURES],
    /// Per-feature standard deviation divided by (positive).
    pub norm_std: [f32; N_FEATURES],
    /// Layer 0, reading the normalised features.
    pub layer0: FloatLayer<N_FEATURES>,
    /// Layer 1, reading layer 0's hidden state.
    pub layer1: FloatLayer<HIDDEN>,
    /// Head weights, `[N_GENRES][HIDDEN]`.
    pub head_w: [[f32; HIDDEN]; N_GENRES],
    /// Head bias.
    pub head_b: [f32; N_GENRES],
}

/// Flat slices in PyTorch layout (`nn.LSTM.weight_ih_l{k}` etc. and `nn.Linear`), row-major,
/// for [`FloatModel::from_pytorch`].
#[derive(Clone, Copy, Debug)]
pub struct TorchParams<'a> {
    /// `[N_FEATURES]`.
    pub norm_mean: &'a [f32],
    /// `[N_FEATURES]`, every value finite and > 0.
    pub norm_std: &'a [f32],
    /// `weight_ih_l0` `[4H, N_FEATURES]` and `weight_ih_l1` `[4H, H]`.
    pub w_ih: [&'a [f32]; N_LAYERS],
    /// `weight_hh_l{k}`, `[4H, H]`.
    pub w_hh: [&'a [f32]; N_LAYERS],
    /// `bias_ih_l{k}`, `[4H]`.
    pub b_ih: [&'a [f32]; N_LAYERS],
    /// `bias_hh_l{k}`, `[4H]`.
    pub b_hh: [&'a [f32]; N_LAYERS],
    /// Linear head weight `[N_GENRES, H]`.
    pub head_w: &'a [f32],
    /// Linear head bias `[N_GENRES]`.
    pub head_b: &'a [f32],
}

/// Why [`FloatModel::from_pytorch`] refused its slices.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ModelError {
    /// A slice has the wrong number of elements.
    Length {
        /// Which tensor (PyTorch name).
        tensor: &'static str,
        /// Elements expected.
        expected: usize,
        /// Elements given.
        actual: usize,
    },
    /// A normalisation standard deviation is not a positive finite number.
    BadStd {
        /// Feature index.
        feature: usize,
    },
    /// A value is NaN or infinite.
    NonFinite {
        /// Which tensor (PyTorch name).
        tensor: &'static str,
    },
}

impl core::fmt::Display for ModelError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::Length {
                tensor,
                expected,
                actual,
            } => write!(f, "{tensor}: {actual} values, expected {expected}"),
            Self::BadStd { feature } => {
                write!(f, "feature {feature}: std must be positive and finite")
            }
            Self::NonFinite { tensor } => write!(f, "{tensor}: non-finite value"),
        }
    }
}

/// Copies `src` into the rows of `dst` after checking its length and finiteness.
fn fill<const W: usize>(
    dst: &mut [[f32; W]],
    src: &[f32],
    tensor: &'static str,
) -> Result<(), ModelError> {
    let expected = dst.len() * W;
    if src.len() != expected {
        return Err(ModelError::Length {
            tensor,
            expected,
            actual: src.len(),
        });
    }
    if src.iter().any(|v| !v.is_finite()) {
        return Err(ModelError::NonFinite { tensor });
    }
    for (row, chunk) in dst.iter_mut().zip(src.chunks_exact(W)) {
        row.copy_from_slice(chunk);
    }
    Ok(())
}

/// [`fill`] for a vector.
fn fill_vec<const W: usize>(
    dst: &mut [f32; W],
    src: &[f32],
    tensor: &'static str,
) -> Result<(), ModelError> {
    fill(core::slice::from_mut(dst), src, tensor)
}

impl FloatModel {
    /// A model with every weight 0, mean 0 and std 1 (a starting point to fill in place).
    pub const ZERO: Self = Self {
        norm_mean: [0.0; N_FEATURES],
        norm_std: [1.0; N_FEATURES],
        layer0: FloatLayer::ZERO,
        layer1: FloatLayer::ZERO,
        head_w: [[0.0; HIDDEN]; N_GENRES],
        head_b: [0.0; N_GENRES],
    };

    /// Copies flat PyTorch-layout slices into a model (the model is ~230 KB; box it on
    /// small stacks).
    ///
    /// # Errors
    /// [`ModelError::Length`] for a slice of the wrong size, [`ModelError::NonFinite`] for a
    /// NaN/∞, [`ModelError::BadStd`] for a std that is not positive.
    pub fn from_pytorch(p: &TorchParams<'_>) -> Result<Self, ModelError> {
        let mut m = Self::ZERO;
        m.fill_from(p)?;
        Ok(m)
    }

    /// [`FloatModel::from_pytorch`] in place (no 230 KB temporary).
    ///
    /// # Errors
    /// As [`FloatModel::from_pytorch`]; `self` may be partly overwritten on error.
    pub fn fill_from(&mut self, p: &TorchParams<'_>) -> Result<(), ModelError> {
        fill_vec(&mut self.norm_mean, p.norm_mean, "norm_mean")?;
        fill_vec(&mut self.norm_std, p.norm_std, "norm_std")?;
        if let Some(feature) = self.norm_std.iter().position(|&s| s <= 0.0) {
            return Err(ModelError::BadStd { feature });
        }
        fill(&mut self.layer0.w_ih, p.w_ih[0], "weight_ih_l0")?;
        fill(&mut self.layer0.w_hh, p.w_hh[0], "weight_hh_l0")?;
        fill_vec(&mut self.layer0.b_ih, p.b_ih[0], "bias_ih_l0")?;
        fill_vec(&mut self.layer0.b_hh, p.b_hh[0], "bias_hh_l0")?;
        fill(&mut self.layer1.w_ih, p.w_ih[1], "weight_ih_l1")?;
        fill(&mut self.layer1.w_hh, p.w_hh[1], "weight_hh_l1")?;
        fill_vec(&mut self.layer1.b_ih, p.b_ih[1], "bias_ih_l1")?;
        fill_vec(&mut self.layer1.b_hh, p.b_hh[1], "bias_hh_l1")?;
        fill(&mut self.head_w, p.head_w, "head.weight")?;
        fill_vec(&mut self.head_b, p.head_b, "head.bias")?;
        Ok(())
    }
}

/// Streaming state of the f32 model: `h` and `c` per layer, the pooled top-layer `h`, and the
/// last step's normalised input and gate activations (what [`crate::quant::Calibration`]
/// observes).
#[derive(Clone, Debug, PartialEq)]
pub struct FloatEngine {
    h: [[f32; HIDDEN]; N_LAYERS],
    c: [[f32; HIDDEN]; N_LAYERS],
    x: [f32; N_FEATURES],
    gates: [[f32; GATES]; N_LAYERS],
    /// Sum of the top layer's `h` over the pooled steps (index ≥ [`POOL_FROM`]).
    pool: [f32; HIDDEN],
    /// Steps since the last reset.
    steps: usize,
}

impl Default for FloatEngine {
    fn default() -> Self {
        Self::new()
    }
}

impl FloatEngine {
    /// Zero state, as PyTorch's default `(h0, c0)`.
    #[must_use]
    pub const fn new() -> Self {
        Self {
            h: [[0.0; HIDDEN]; N_LAYERS],
            c: [[0.0; HIDDEN]; N_LAYERS],
            x: [0.0; N_FEATURES],
            gates: [[0.0; GATES]; N_LAYERS],
            pool: [0.0; HIDDEN],
            steps: 0,
        }
    }

    /// Back to the zero state (start of a window or a clip).
    pub fn reset(&mut self) {
        *self = Self::new();
    }

    /// Advances both layers by one feature frame.
    pub fn step(&mut self, m: &FloatModel, frame: &FeatureFrame) {
        for (j, x) in self.x.iter_mut().enumerate() {
            *x = (frame[j] - m.norm_mean[j]) / m.norm_std[j];
        }
        let [h0, h1] = &mut self.h;
        let [c0, c1] = &mut self.c;
        let [g0, g1] = &mut self.gates;
        m.layer0.step(&self.x, h0, c0, g0);
        let x1 = *h0;
        m.layer1.step(&x1, h1, c1, g1);
        if self.steps >= POOL_FROM {
            for (acc, v) in self.pool.iter_mut().zip(h1.iter()) {
                *acc += v;
            }
        }
        self.steps = self.steps.saturating_add(1);
    }

    /// The head applied to the top layer's current hidden state: this step's logits.
    #[must_use]
    pub fn logits(&self, m: &FloatModel) -> [f32; N_GENRES] {
        head(m, &self.h[N_LAYERS - 1])
    }

    /// The window's readout: the head applied to [`Self::pooled_hidden`]. Before step
    /// [`POOL_FROM`] nothing is pooled yet and the result is the head's bias.
    #[must_use]
    pub fn window_logits(&self, m: &FloatModel) -> [f32; N_GENRES] {
        head(m, &self.pooled_hidden())
    }

    /// Mean of the top layer's hidden state over the steps from [`POOL_FROM`] on (since the
    /// last reset); zeros before step `POOL_FROM`.
    #[must_use]
    pub fn pooled_hidden(&self) -> [f32; HIDDEN] {
        let pooled = self.steps.saturating_sub(POOL_FROM);
        if pooled == 0 {
            return [0.0; HIDDEN];
        }
        let n = pooled as f32;
        self.pool.map(|v| v / n)
    }

    /// Hidden state of `layer` after the last step.
    ///
    /// # Panics
    /// If `layer >= N_LAYERS`.
    #[must_use]
    pub fn hidden(&self, layer: usize) -> &[f32; HIDDEN] {
        &self.h[layer]
    }

    /// Cell state of `layer` after the last step.
    ///
    /// # Panics
    /// If `layer >= N_LAYERS`.
    #[must_use]
    pub fn cell(&self, layer: usize) -> &[f32; HIDDEN] {
        &self.c[layer]
    }

    /// Gate activations of `layer` in the last step: `i`, `f`, `g`, `o` blocks (after
    /// sigmoid/tanh).
    ///
    /// # Panics
    /// If `layer >= N_LAYERS`.
    #[must_use]
    pub fn gates(&self, layer: usize) -> &[f32; GATES] {
        &self.gates[layer]
    }

    /// The last frame after normalisation, `(frame - mean) / std`.
    #[must_use]
    pub fn normalized_input(&self) -> &[f32; N_FEATURES] {
        &self.x
    }
}

/// One logit per genre: `W_head·h + b_head`.
fn head(m: &FloatModel, h: &[f32; HIDDEN]) -> [f32; N_GENRES] {
    core::array::from_fn(|g| dot(&m.head_w[g], h) + m.head_b[g])
}

/// Sequential dot product (fixed order, no FMA).
fn dot<const N: usize>(w: &[f32; N], x: &[f32; N]) -> f32 {
    let mut acc = 0.0f32;
    for (a, b) in w.iter().zip(x) {
        acc += a * b;
    }
    acc
}

/// Logistic function with `libm::expf`.
fn sigmoid(a: f32) -> f32 {
    1.0 / (1.0 + libm::expf(-a))
}

/// Softmax of logits: probabilities summing to 1 (max-subtracted, so no overflow).
#[must_use]
pub fn softmax(logits: &[f32; N_GENRES]) -> [f32; N_GENRES] {
    let max = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let e: [f32; N_GENRES] = core::array::from_fn(|g| libm::expf(logits[g] - max));
    let sum: f32 = e.iter().sum();
    core::array::from_fn(|g| e[g] / sum)
}

/// Log-softmax of logits, the per-window term of the clip decision (mean over windows).
#[must_use]
pub fn log_softmax(logits: &[f32; N_GENRES]) -> [f32; N_GENRES] {
    let max = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let sum: f32 = logits.iter().map(|&l| libm::expf(l - max)).sum();
    let lse = max + libm::logf(sum);
    core::array::from_fn(|g| logits[g] - lse)
}
