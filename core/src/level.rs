//! Level and channel invariance of the model's input, in three steps.
//!
//! - [`SpectralFloor`], inside the model's frontend ([`crate::Frontend::for_model`]): a white
//!   floor a fixed ratio below the running level is added to the spectrum, so a quiet input's
//!   16-bit noise floor (which fills the spectral valleys and moves the upper MFCCs and the
//!   contrast bands) stays under it.
//! - [`RelativeLevel`], on the frames: the absolute level reaches the model only through MFCC
//!   c0 (the log energy; a gain adds a constant to it and to nothing else, see
//!   `shared/capture-facts.md`), so c0 is replaced by its difference from a causal running
//!   mean of c0 before the frame enters the model. A constant gain then cancels exactly, up to
//!   f32 rounding; the loudness *changes* within the music (beats, dynamics) remain.
//! - [`RelativeChannel`], on the frames (issue #20): a stationary loudspeaker, room colouring
//!   or microphone response multiplies the spectrum, which adds a constant to each log-mel
//!   band and so to each MFCC; c1…c12 are replaced by their differences from their causal
//!   running means (cepstral mean subtraction, over ≈ 8 s), so such a response cancels once
//!   the means have settled. The timbre's *changes* remain, and the centroid, chroma and
//!   contrast (peak over valley within a band, which a smooth response barely moves) still
//!   carry the absolute spectral shape.
//!
//! The running means are causal averages (their factors in each type's docs), started at the
//! stream's first frame, over the whole stream and not reset per window. The 33 features
//! themselves (what `features --csv` prints) stay librosa's: these are steps of the model
//! input, like the normalisation in the weights blob.
//!
//! Float, in a fixed order of IEEE operations, so host and device compute the same bits.

use crate::config::{
    FeatureFrame, CEPSTRAL_MEAN_SHIFT, LEVEL_MEAN_SHIFT, MFCC_OFFSET, N_BINS, N_MFCC,
};
use crate::mel::power_to_db;

/// The running mean of c0 over the stream so far: an exponential moving average with factor
/// 2^-[`LEVEL_MEAN_SHIFT`] per frame (a time constant of 32 frames ≈ 1 s), started at the
/// stream's first c0.
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

    /// The running mean of c0 after the last frame (the stream's level; −∞ before the first).
    #[must_use]
    pub fn mean(&self) -> f32 {
        self.mean.unwrap_or(f32::NEG_INFINITY)
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

/// The running means of MFCC c1…c12 over the stream so far: the plain mean of the frames
/// so far for the first 2^[`CEPSTRAL_MEAN_SHIFT`] frames (≈ 8 s), then an exponential moving
/// average with factor 2^-[`CEPSTRAL_MEAN_SHIFT`] per frame. The plain mean at the start keeps
/// the stream's first frames from weighing more than the rest (an average started at the
/// first frame would hold it for seconds).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct RelativeChannel {
    /// Running means of c1…c12.
    means: [f32; N_MFCC - 1],
    /// Frames taken in, up to 2^[`CEPSTRAL_MEAN_SHIFT`].
    frames: u32,
}

impl RelativeChannel {
    /// At the start of a stream.
    #[must_use]
    pub const fn new() -> Self {
        Self {
            means: [0.0; N_MFCC - 1],
            frames: 0,
        }
    }

    /// Turns the next frame of the stream into the model's input: each of c1…c12 becomes
    /// `c - mean`, after its mean has taken in this frame (`mean += (c - mean) / n`, `n` the
    /// frames so far up to 2^[`CEPSTRAL_MEAN_SHIFT`]).
    pub fn apply(&mut self, frame: &mut FeatureFrame) {
        if self.frames < 1 << CEPSTRAL_MEAN_SHIFT {
            self.frames += 1;
        }
        // Exact for a power of two; otherwise IEEE division, the same bits everywhere.
        let factor = 1.0 / self.frames as f32;
        let cepstrum = &mut frame[MFCC_OFFSET + 1..MFCC_OFFSET + N_MFCC];
        // A rolled loop on purpose: unrolled (the trip count in sight), the twelve steps took
        // 336 bytes more of the device's flash and put the nRF52840 image over its target.
        // `black_box` only hides the count; the bits are the same.
        let coefficients = core::hint::black_box(N_MFCC - 1);
        for (c, mean) in cepstrum.iter_mut().zip(&mut self.means).take(coefficients) {
            *mean += (*c - *mean) * factor;
            *c -= *mean;
        }
    }
}

/// [`RelativeLevel`] then [`RelativeChannel`] over a whole stream of frames, in place: the
/// model's input, as [`crate::stream::Stream`] makes it.
pub fn apply_to_stream(frames: &mut [FeatureFrame]) {
    let mut level = RelativeLevel::new();
    let mut channel = RelativeChannel::new();
    for frame in frames {
        level.apply(frame);
        channel.apply(frame);
    }
}

/// The model's spectral floor: a white floor of power `F` per FFT bin, a fixed ratio
/// ([`crate::config::FLOOR_RATIO`], −35 dB) below the running level of the stream, added to
/// every bin before the features are taken. A gain scales the level and the floor together,
/// so it moves nothing the model reads; and detail far below the level (the 16-bit floor of a
/// quiet input, the band a small loudspeaker does not play) stays under the floor instead of
/// reaching the features as noise.
///
/// The running level is an exponential moving average (factor 2^-[`LEVEL_MEAN_SHIFT`] per
/// frame, as c0's) of the frame's mean power per bin in dB, started at the stream's first
/// frame. In dB, it follows a quiet passage down as fast as a loud one up (an average of
/// power would stay up for seconds after a loud moment). `libm`'s `log10f` and `expf` keep
/// the bits the same on host and device (`exp10f` would bring a 4 KiB table into flash).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SpectralFloor {
    /// `F` over the running level.
    ratio: f32,
    /// Running level, dB of power per bin; `None` before the first frame.
    level: Option<f32>,
}

/// One frame's floor, in the units each feature group reads.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Floor {
    /// Power per FFT bin (mel bands and chroma classes add it times their filter's sum).
    pub power: f32,
    /// Magnitude per FFT bin, `√power` (centroid and contrast read magnitudes).
    pub magnitude: f32,
}

impl SpectralFloor {
    /// At the start of a stream, with the floor `ratio` times the running level.
    #[must_use]
    pub const fn new(ratio: f32) -> Self {
        Self { ratio, level: None }
    }

    /// The same floor at the start of a new stream.
    #[must_use]
    pub const fn restarted(self) -> Self {
        Self::new(self.ratio)
    }

    /// Takes in the frame's power spectrum and returns its floor.
    pub fn update(&mut self, power: &[f32; N_BINS]) -> Floor {
        let mut sum = 0.0f32;
        for &p in power {
            sum += p;
        }
        let db = power_to_db(sum / N_BINS as f32);
        let level = match self.level {
            Some(level) => level + (db - level) * ALPHA,
            None => db,
        };
        self.level = Some(level);
        // 10^(level/10), times the ratio.
        let power = libm::expf(level * (core::f32::consts::LN_10 * 0.1)) * self.ratio;
        let mut magnitude = [power];
        crate::arch::sqrt_in_place(&mut magnitude);
        Floor {
            power,
            magnitude: magnitude[0],
        }
    }
}

/// Sum of each row of a sparse filterbank stored row after row as runs of consecutive
/// weights (row `r` is the next `runs[r]` runs, run `j` holds `len[j]` weights), summed in
/// stored order: what a white floor of power 1 per bin adds to each row's output.
pub(crate) const fn filter_sums<const R: usize>(
    weights: &[f32],
    len: &[u16],
    runs: &[u8; R],
) -> [f32; R] {
    let mut out = [0.0; R];
    let (mut row, mut run, mut w) = (0, 0, 0);
    while row < R {
        let end = run + runs[row] as usize;
        while run < end {
            let mut k = 0;
            while k < len[run] as usize {
                out[row] += weights[w + k];
                k += 1;
            }
            w += len[run] as usize;
            run += 1;
        }
        row += 1;
    }
    out
}
