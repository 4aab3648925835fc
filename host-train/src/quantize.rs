//! From trained float weights to genre-core's models: the f32 [`FloatModel`] and, after
//! post-training calibration, the integer blob; plus window classifiers over both engines.

use anyhow::{anyhow, Result};
use genre_core::config::{FeatureFrame, N_GENRES, WINDOW_FRAMES};
use genre_core::format::Model;
use genre_core::lstm::{log_softmax, FloatEngine, FloatModel, TorchParams};
use genre_core::quant::{dequantize_logits, prepare, Calibration, QuantEngine};

use crate::dataset::GENRES;
use crate::features::ClipFeatures;
use crate::train::{window_starts, Trained};

/// How the blob was quantised (for the model card).
pub const DESCRIPTION: &str = "post-training quantisation (genre_core::quant::prepare): the \
    f32 model runs over every other 94-frame window (stride 188 frames, state reset per window) \
    of the original audio and of the first augmented copy of every training clip; per feature, \
    the |normalised input| that all but 0.01 % of the frames stay below sets the i8 input \
    scale, and the largest |c| per layer the cell format (1.5x headroom); weights are i8 with \
    one scale per row, biases Q16; the window readout pools the Q15 top-layer h in i64";

/// Something that turns one window of frames into per-genre log-probabilities.
pub trait WindowClassifier {
    /// Log-probabilities after running a fresh state over `window`.
    fn window_log_probs(&mut self, window: &[FeatureFrame]) -> [f32; N_GENRES];
}

/// The f32 reference engine with its model.
pub struct FloatClassifier<'a> {
    model: &'a FloatModel,
    engine: FloatEngine,
}

impl WindowClassifier for FloatClassifier<'_> {
    fn window_log_probs(&mut self, window: &[FeatureFrame]) -> [f32; N_GENRES] {
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
    engine: QuantEngine,
}

impl<'a> IntClassifier<'a> {
    /// Parses (and checks) a blob.
    ///
    /// # Errors
    /// The blob is malformed or for another configuration.
    pub fn parse(blob: &'a [u8]) -> Result<Self> {
        let model = Model::parse(blob).map_err(|e| anyhow!("weights blob: {e}"))?;
        Ok(Self {
            model,
            engine: QuantEngine::new(),
        })
    }

    /// The model's label of genre `g`.
    pub fn label(&self, g: usize) -> &'a str {
        self.model.label(g)
    }

    /// Integer (Q16) logits after running a fresh state over `window`.
    pub fn window_logits(&mut self, window: &[FeatureFrame]) -> [i32; N_GENRES] {
        self.engine.reset();
        for frame in window {
            let x = self.model.quantize_input(frame);
            self.engine.step(&self.model, &x);
        }
        self.engine.window_logits(&self.model)
    }
}

impl WindowClassifier for IntClassifier<'_> {
    fn window_log_probs(&mut self, window: &[FeatureFrame]) -> [f32; N_GENRES] {
        log_softmax(&dequantize_logits(&self.window_logits(window)))
    }
}

/// A trained model in both of genre-core's forms.
pub struct Exported {
    pub float: Box<FloatModel>,
    pub blob: Vec<u8>,
}

impl Exported {
    /// A classifier over the f32 reference engine.
    pub fn float_classifier(&self) -> FloatClassifier<'_> {
        FloatClassifier {
            model: &self.float,
            engine: FloatEngine::new(),
        }
    }

    /// A classifier over the integer engine and the blob.
    ///
    /// # Errors
    /// The blob does not parse.
    pub fn int_classifier(&self) -> Result<IntClassifier<'_>> {
        IntClassifier::parse(&self.blob)
    }
}

/// Copies the trained weights into a [`FloatModel`], calibrates on `train` and writes the blob.
///
/// # Errors
/// Wrong tensor sizes, or a scale the blob cannot represent.
pub fn export(trained: &Trained, train: &[&ClipFeatures]) -> Result<Exported> {
    let w = &trained.weights;
    let layer = |l: usize, k: usize| w.layers.get(l).map_or(&[][..], |p| &p[k][..]);
    let params = TorchParams {
        norm_mean: &trained.norm.mean,
        norm_std: &trained.norm.std,
        w_ih: [layer(0, 0), layer(1, 0)],
        w_hh: [layer(0, 1), layer(1, 1)],
        b_ih: [layer(0, 2), layer(1, 2)],
        b_hh: [layer(0, 3), layer(1, 3)],
        head_w: &w.head_w,
        head_b: &w.head_b,
    };
    let mut float = Box::new(FloatModel::ZERO);
    float
        .fill_from(&params)
        .map_err(|e| anyhow!("trained weights: {e}"))?;

    let started = std::time::Instant::now();
    let mut calib = Calibration::new();
    let mut engine = FloatEngine::new();
    for clip in train {
        for frames in clip.iter().take(2) {
            for s in window_starts(frames.len(), 2 * WINDOW_FRAMES) {
                engine.reset();
                for frame in &frames[s..s + WINDOW_FRAMES] {
                    engine.step(&float, frame);
                    calib.observe(&engine);
                }
            }
        }
    }
    let blob = prepare(&float, &calib, &GENRES).map_err(|e| anyhow!("quantisation: {e}"))?;
    eprintln!(
        "quantised: calibrated on {} steps in {:.1} s",
        calib.steps(),
        started.elapsed().as_secs_f64()
    );
    Ok(Exported { float, blob })
}
