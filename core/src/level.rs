//! Level invariance of the model's input: the absolute input level reaches the model only
//! through MFCC c0 (the log energy; a gain adds a constant to it and to nothing else, see
//! `shared/capture-facts.md`), so c0 is replaced by its difference from a causal running mean
//! of c0 before the frame enters the model. A constant gain then cancels exactly, up to f32
//! rounding; the loudness *changes* within the music (beats, dynamics) remain.
//!
//! The running mean is an exponential moving average with factor 2^-[`LEVEL_MEAN_SHIFT`]
//! per frame (a time constant of 32 frames ≈ 1 s), started at the stream's first c0. It runs
//! over the whole stream and is not reset per window. The 33 features themselves (what
//! `features --csv` prints) stay librosa's: this is a step of the model input, like the
//! normalisation in the weights blob.
//!
//! Float, in a fixed order of IEEE operations (one subtraction, one multiplication by a power
//! of two, one addition, one subtraction), so host and device compute the same bits.

use crate::config::{FeatureFrame, LEVEL_MEAN_SHIFT, MFCC_OFFSET};

/// The running mean of c0 over the stream so far.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct RelativeLevel {
    /// `None` before the first frame.
    mean: Option<f32>,
}

/// The moving average's factor, exact in f32.
const ALPHA: f32 = 1.0 / (1u32 << LEVEL_MEAN_SHIFT) as f32;

impl RelativeLevel {
    /// At the start of a stream.
    #[must_use]
    pub const fn new() -> Self {
        Self { mean: None }
    }

    /// Turns the next frame of the stream into the model's input: c0 becomes
    /// `c0 - mean`, after the mean has taken in this frame's c0.
    pub fn apply(&mut self, frame: &mut FeatureFrame) {
        let c0 = frame[MFCC_OFFSET];
        let mean = match self.mean {
            Some(mean) => mean + (c0 - mean) * ALPHA,
            None => c0,
        };
        self.mean = Some(mean);
        frame[MFCC_OFFSET] = c0 - mean;
    }
}

/// [`RelativeLevel`] over a whole stream of frames, in place.
pub fn apply_to_stream(frames: &mut [FeatureFrame]) {
    let mut level = RelativeLevel::new();
    for frame in frames {
        level.apply(frame);
    }
}
