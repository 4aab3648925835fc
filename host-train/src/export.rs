//! From trained float weights to genre-core's models: the f32 [`FloatModel`] and, after
//! post-training calibration, the integer blob ([`export`]), plus the card's description of
//! the quantisation ([`DESCRIPTION`]).

use anyhow::{anyhow, Result};
use genre_core::config::WINDOW_FRAMES;
use genre_core::lstm::{FloatEngine, FloatModel, TorchParams};
use genre_core::quant::{prepare, Calibration};

use crate::classify::{FloatClassifier, IntClassifier};
use crate::dataset::GENRES;
use crate::features::ClipFeatures;
use crate::train::{window_starts, Trained};

/// How the blob was quantised (for the model card).
pub const DESCRIPTION: &str = "post-training quantisation (genre_core::quant::prepare): the \
    f32 model runs over every other 94-frame window (stride 188 frames, state reset per window) \
    of the original audio and of the first augmented copy of every training clip; per feature, \
    the |normalised input| that all but 0.01 % of the frames stay below sets the i8 input \
    scale, and the largest |c| per layer the cell format (1.5x headroom); weights are i8 with \
    one scale per row, biases Q16; the window readout pools the Q15 top-layer h in i32 \
    (saturating; a window sums 47 steps)";

/// A trained model in both of genre-core's forms.
pub struct Exported {
    pub float: Box<FloatModel>,
    pub blob: Vec<u8>,
}

impl Exported {
    /// A classifier over the f32 reference engine.
    pub fn float_classifier(&self) -> FloatClassifier<'_> {
        FloatClassifier::new(&self.float)
    }

    /// A classifier over the integer engine and the blob.
    ///
    /// # Errors
    /// The blob does not parse.
    pub fn int_classifier(&self) -> Result<IntClassifier<'_>> {
        IntClassifier::parse(&self.blob)
    }
}

/// Copies the trained weights into a [`FloatModel`], with the head divided by `temperature`
/// (the calibration, [`crate::calibration`]; 1 leaves it), calibrates the quantisation on
/// `train` and writes the blob.
///
/// # Errors
/// Wrong tensor sizes, or a scale the blob cannot represent.
pub fn export(trained: &Trained, train: &[&ClipFeatures], temperature: f64) -> Result<Exported> {
    let w = &trained.weights;
    let scale = |v: &[f32]| -> Vec<f32> {
        v.iter()
            .map(|&x| (f64::from(x) / temperature) as f32)
            .collect()
    };
    let (head_w, head_b) = (scale(&w.head_w), scale(&w.head_b));
    let params = TorchParams {
        norm_mean: &trained.norm.mean,
        norm_std: &trained.norm.std,
        w_ih: w.layers.each_ref().map(|l| &l.w_ih[..]),
        w_hh: w.layers.each_ref().map(|l| &l.w_hh[..]),
        b_ih: w.layers.each_ref().map(|l| &l.b_ih[..]),
        b_hh: w.layers.each_ref().map(|l| &l.b_hh[..]),
        head_w: &head_w,
        head_b: &head_b,
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
