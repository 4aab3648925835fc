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

/// Copies the trained weights into a [`FloatModel`], calibrates the quantisation on `train`
/// and writes the blob. The head's bias is lowered by `music_boundary` (logits; the no-music
/// rule's point between its two training margins, [`crate::train::Hyper::music_boundary`]),
/// so the device's rule stays "largest logit below 0", and the head is then divided by
/// `temperature` (the calibration, [`crate::calibration`]; 1 leaves it). Neither changes a
/// window's probabilities except through the temperature: a softmax ignores a common shift.
///
/// # Errors
/// Wrong tensor sizes, or a scale the blob cannot represent.
pub fn export(
    trained: &Trained,
    train: &[&ClipFeatures],
    music_boundary: f64,
    temperature: f64,
) -> Result<Exported> {
    let w = &trained.weights;
    let fold = |v: &[f32], shift: f64| -> Vec<f32> {
        v.iter()
            .map(|&x| ((f64::from(x) - shift) / temperature) as f32)
            .collect()
    };
    let (head_w, head_b) = (fold(&w.head_w, 0.0), fold(&w.head_b, music_boundary));
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::train::{FloatWeights, LayerWeights, Normaliser};
    use genre_core::config::{FeatureFrame, HIDDEN, N_FEATURES, N_GENRES, N_LAYERS};

    /// Small deterministic weights in (−0.25, 0.25).
    fn filled(n: usize, seed: u32) -> Vec<f32> {
        (0..n as u32)
            .map(|i| {
                let x = i
                    .wrapping_mul(2_654_435_761)
                    .wrapping_add(seed.wrapping_mul(40_503));
                (x >> 8) as f32 / (1 << 24) as f32 * 0.5 - 0.25
            })
            .collect()
    }

    fn trained() -> Trained {
        let layer = |k: usize| LayerWeights {
            w_ih: filled(
                4 * HIDDEN * if k == 0 { N_FEATURES } else { HIDDEN },
                1 + k as u32,
            ),
            w_hh: filled(4 * HIDDEN * HIDDEN, 11 + k as u32),
            b_ih: filled(4 * HIDDEN, 21 + k as u32),
            b_hh: filled(4 * HIDDEN, 31 + k as u32),
        };
        Trained {
            weights: FloatWeights {
                layers: std::array::from_fn::<_, N_LAYERS, _>(layer),
                head_w: filled(N_GENRES * HIDDEN, 41),
                head_b: filled(N_GENRES, 42),
            },
            norm: Normaliser {
                mean: [0.0; N_FEATURES],
                std: [1.0; N_FEATURES],
            },
            history: Vec::new(),
        }
    }

    fn window_logits(model: &FloatModel, frames: &[FeatureFrame]) -> [f32; N_GENRES] {
        let mut engine = FloatEngine::new();
        for frame in frames {
            engine.step(model, frame);
        }
        engine.window_logits(model)
    }

    #[test]
    fn export_moves_the_music_boundary_to_zero_before_the_temperature() {
        let frames: Vec<FeatureFrame> = (0..2 * WINDOW_FRAMES)
            .map(|t| std::array::from_fn(|k| ((t * 7 + k * 3) % 11) as f32 / 5.0 - 1.0))
            .collect();
        let clip: ClipFeatures = vec![frames.clone()];
        let trained = trained();
        let plain = export(&trained, &[&clip], 0.0, 1.0).unwrap();
        let folded = export(&trained, &[&clip], 0.5, 2.0).unwrap();
        let window = &frames[..WINDOW_FRAMES];
        let (a, b) = (
            window_logits(&plain.float, window),
            window_logits(&folded.float, window),
        );
        for (a, b) in a.iter().zip(b) {
            assert!(((a - 0.5) / 2.0 - b).abs() < 1e-5, "{a} → {b}");
        }
    }
}
