//! Window classifiers over genre-core's two engines (f32 [`FloatClassifier`], integer
//! [`IntClassifier`]) and the clip-level decision built on them (mean log-probability over
//! every window of a clip), shared by cross-validation and `predict`.

use anyhow::{anyhow, Result};
use genre_core::config::{FeatureFrame, N_GENRES, WINDOW_FRAMES};
use genre_core::format::Model;
use genre_core::lstm::{log_softmax, FloatEngine, FloatModel};
use genre_core::quant::{dequantize_logits, LOGIT_FRAC_BITS};
use genre_core::stream::WindowRule;

use crate::train::window_starts;

/// Something that turns one window of frames into per-genre log-probabilities.
pub trait WindowClassifier {
    /// Log-probabilities after running a fresh state over `window`.
    fn window_log_probs(&mut self, window: &[FeatureFrame; WINDOW_FRAMES]) -> [f32; N_GENRES];

    /// The window's readout in Q16 for the running decision (`genre_core::decision`): the
    /// integer engine's exact logits; for the float engine its log-probabilities rounded to
    /// Q16 (they differ from the logits by one constant per window, which the running
    /// decision's comparisons of sums cancel).
    fn window_q16(&mut self, window: &[FeatureFrame; WINDOW_FRAMES]) -> [i32; N_GENRES] {
        let q16 = (1u32 << LOGIT_FRAC_BITS) as f32;
        self.window_log_probs(window)
            .map(|v| (v * q16).round().clamp(i32::MIN as f32, i32::MAX as f32) as i32)
    }
}

/// The f32 reference engine with its model.
pub struct FloatClassifier<'a> {
    model: &'a FloatModel,
    engine: FloatEngine,
}

impl<'a> FloatClassifier<'a> {
    /// A classifier over `model` with a fresh engine.
    pub fn new(model: &'a FloatModel) -> Self {
        Self {
            model,
            engine: FloatEngine::new(),
        }
    }
}

impl WindowClassifier for FloatClassifier<'_> {
    fn window_log_probs(&mut self, window: &[FeatureFrame; WINDOW_FRAMES]) -> [f32; N_GENRES] {
        self.engine.reset();
        for frame in window {
            self.engine.step(self.model, frame);
        }
        log_softmax(&self.engine.window_logits(self.model))
    }
}

/// The integer engine over a parsed blob.
pub struct IntClassifier<'a> {
    model: Model<'a>,
}

impl<'a> IntClassifier<'a> {
    /// Parses (and checks) a blob.
    ///
    /// # Errors
    /// The blob is malformed or for another configuration.
    pub fn parse(blob: &'a [u8]) -> Result<Self> {
        let model = Model::parse(blob).map_err(|e| anyhow!("weights blob: {e}"))?;
        Ok(Self { model })
    }

    /// Integer (Q16) logits of one window's frames under the device's window rule
    /// (`genre_core::stream::WindowRule`, fresh for each window).
    pub fn window_logits(&self, window: &[FeatureFrame; WINDOW_FRAMES]) -> [i32; N_GENRES] {
        let mut rule = WindowRule::new();
        let closed = window
            .iter()
            .filter_map(|frame| rule.push_frame(&self.model, frame))
            .last();
        // A window of WINDOW_FRAMES frames always closes exactly once, at its last frame.
        closed.map_or([0; N_GENRES], |w| w.logits)
    }
}

impl WindowClassifier for IntClassifier<'_> {
    fn window_log_probs(&mut self, window: &[FeatureFrame; WINDOW_FRAMES]) -> [f32; N_GENRES] {
        log_softmax(&dequantize_logits(&self.window_logits(window)))
    }

    fn window_q16(&mut self, window: &[FeatureFrame; WINDOW_FRAMES]) -> [i32; N_GENRES] {
        self.window_logits(window)
    }
}

/// Mean log-probability over the windows (at `stride`) of `frames`, or `None` when the clip
/// is shorter than a window. Also returns the per-window top-1 indices.
pub fn clip_decision(
    c: &mut dyn WindowClassifier,
    frames: &[FeatureFrame],
    stride: usize,
) -> Option<([f32; N_GENRES], Vec<usize>)> {
    let mut sum = [0f64; N_GENRES];
    let mut tops = Vec::new();
    for s in window_starts(frames.len(), stride) {
        // `window_starts` keeps whole windows only.
        let Some(window) = frames[s..].first_chunk::<WINDOW_FRAMES>() else {
            continue;
        };
        let logp = c.window_log_probs(window);
        for (acc, v) in sum.iter_mut().zip(logp) {
            *acc += f64::from(v);
        }
        tops.push(argmax(&logp));
    }
    let n = tops.len();
    (n > 0).then(|| (sum.map(|v| (v / n as f64) as f32), tops))
}

/// Index of the largest value (the first on ties).
pub fn argmax(v: &[f32; N_GENRES]) -> usize {
    (0..N_GENRES).fold(0, |best, i| if v[i] > v[best] { i } else { best })
}
