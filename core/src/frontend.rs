//! Streaming frontend: 16 kHz i16 PCM in, one [`FeatureFrame`] of 33 librosa features out per
//! hop. No heap; all state lives inline in [`Frontend`] (≈ 8 KiB: 2 KiB of samples, 6 KiB of
//! FFT and spectrum buffers kept off the stack), so it can be a `static`.
//!
//! Two kinds: [`Frontend::new`] gives librosa's features (what `features --csv` prints and
//! the goldens pin); [`Frontend::for_model`] gives the model's input, the same features of the
//! spectrum plus the model's spectral floor ([`crate::level::SpectralFloor`]).
//!
//! Frame `t` is centred on input sample `t·HOP`, as librosa's `center=True` with zero padding:
//! the stream starts with `N_FFT/2` zeros, so the first frame is emitted after `N_FFT/2`
//! samples. The stream has no end, so librosa's frames over the zero-padded end are never
//! emitted; frame `t` equals librosa's frame `t` for every `t` it does emit.

use crate::centroid::spectral_centroid;
use crate::chroma::chroma;
use crate::config::{
    FeatureFrame, CENTROID_OFFSET, CHROMA_OFFSET, CONTRAST_FMIN_HZ, CONTRAST_OFFSET,
    CONTRAST_QUANTILE, FLOOR_RATIO, HOP, MFCC_OFFSET, N_BINS, N_CHROMA, N_CONTRAST_BANDS,
    N_FEATURES, N_FFT, N_MELS, N_MFCC, SAMPLE_RATE_HZ,
};
use crate::contrast::{spectral_contrast, N_CONTRAST};
use crate::level::{Floor, SpectralFloor};
use crate::mel::{add_floor, mel_power};
use crate::mfcc::mfcc;
use crate::stft::{power_spectrum, power_to_magnitude};
use crate::tables;

// The generated tables must describe this configuration (rerun gen_tables.py if not).
const _: () = {
    assert!(tables::GEN_SAMPLE_RATE_HZ == SAMPLE_RATE_HZ);
    assert!(tables::GEN_N_FFT == N_FFT);
    assert!(tables::GEN_N_MELS == N_MELS);
    assert!(tables::GEN_N_MFCC == N_MFCC);
    assert!(tables::GEN_N_CHROMA == N_CHROMA);
    assert!(tables::GEN_CONTRAST_FMIN_HZ.to_bits() == CONTRAST_FMIN_HZ.to_bits());
    assert!(tables::GEN_N_CONTRAST_BANDS == N_CONTRAST_BANDS);
    assert!(tables::GEN_CONTRAST_QUANTILE.to_bits() == CONTRAST_QUANTILE.to_bits());
    assert!(tables::CONTRAST_Q.len() == N_CONTRAST);
    let mut b = 0;
    while b < N_CONTRAST {
        let q = tables::CONTRAST_Q[b] as usize;
        assert!(q >= 1 && q <= tables::CONTRAST_MAX_Q);
        assert!(q <= tables::CONTRAST_LEN[b] as usize);
        assert!(tables::CONTRAST_START[b] as usize + tables::CONTRAST_LEN[b] as usize <= N_BINS);
        b += 1;
    }
    // The chroma runs cover the weights exactly and stay inside the spectrum.
    let (mut r, mut w) = (0, 0);
    let mut p = 0;
    while p < N_CHROMA {
        r += tables::CHROMA_CLASS_RUNS[p] as usize;
        p += 1;
    }
    assert!(r == tables::CHROMA_RUN_START.len() && r == tables::CHROMA_RUN_LEN.len());
    r = 0;
    while r < tables::CHROMA_RUN_START.len() {
        let end = tables::CHROMA_RUN_START[r] as usize + tables::CHROMA_RUN_LEN[r] as usize;
        assert!(end <= N_BINS);
        w += tables::CHROMA_RUN_LEN[r] as usize;
        r += 1;
    }
    assert!(w == tables::CHROMA_WEIGHTS.len());
    assert!(N_FEATURES == CONTRAST_OFFSET + N_CONTRAST);
    assert!(HOP <= N_FFT);
    // The FFT (crate::fft) is written for 1024 points, and the frontend keeps a frame as its
    // two hops.
    assert!(N_FFT == 1024);
    assert!(2 * HOP == N_FFT);
};

/// Streaming feature extractor; see the module docs for the framing.
#[derive(Clone)]
pub struct Frontend {
    /// The last two hops of the stream: `hops[newest]` is being filled, the other one holds
    /// the hop before it. A full `hops[newest]` completes a frame (older hop first); the next
    /// hop then overwrites the older one, so no sample is ever moved.
    hops: [[i16; HOP]; 2],
    /// Which of `hops` is being filled.
    newest: usize,
    /// Valid samples at the start of `hops[newest]`.
    filled: usize,
    /// FFT work buffer.
    scratch: [f32; N_FFT],
    /// Power spectrum of the current frame, then (in place) its magnitude spectrum.
    spectrum: [f32; N_BINS],
    /// The model's spectral floor; `None` for librosa's features.
    floor: Option<SpectralFloor>,
}

impl Default for Frontend {
    fn default() -> Self {
        Self::new()
    }
}

impl Frontend {
    /// A frontend of librosa's 33 features at the start of a stream (`N_FFT/2` zeros already
    /// in, as librosa's centring).
    #[must_use]
    pub const fn new() -> Self {
        Self::with_floor(None)
    }

    /// A frontend of the model's input at the start of a stream: the 33 features over the
    /// spectrum plus the model's spectral floor ([`SpectralFloor`], [`FLOOR_RATIO`]).
    #[must_use]
    pub const fn for_model() -> Self {
        Self::with_floor(Some(SpectralFloor::new(FLOOR_RATIO)))
    }

    /// A frontend with the given spectral floor (`None`: librosa's features).
    #[must_use]
    const fn with_floor(floor: Option<SpectralFloor>) -> Self {
        // librosa's centring: the first hop is `N_FFT/2` zeros, already in.
        Self {
            hops: [[0; HOP]; 2],
            newest: 1,
            filled: 0,
            scratch: [0.0; N_FFT],
            spectrum: [0.0; N_BINS],
            floor,
        }
    }

    /// Starts a new stream, keeping the kind of features.
    pub fn reset(&mut self) {
        *self = Self::with_floor(self.floor.map(|f| f.restarted()));
    }

    /// Pushes any number of 16 kHz i16 PCM samples; calls `on_frame` once per completed hop,
    /// in stream order. Any input is valid: every feature of every frame is finite.
    pub fn push(&mut self, pcm: &[i16], mut on_frame: impl FnMut(&FeatureFrame)) {
        let mut rest = pcm;
        while !rest.is_empty() {
            let take = rest.len().min(HOP - self.filled);
            let (now, later) = rest.split_at(take);
            self.hops[self.newest][self.filled..self.filled + take].copy_from_slice(now);
            self.filled += take;
            rest = later;
            if self.filled == HOP {
                on_frame(&self.frame());
                self.newest ^= 1;
                self.filled = 0;
            }
        }
    }

    /// Features of the frame in `hops`. Out of line, so that the per-hop work is
    /// compiled as genre-core's code (at its opt-level), not inlined into a caller's closure.
    #[inline(never)]
    fn frame(&mut self) -> FeatureFrame {
        let mut out = [0.0; N_FEATURES];
        let (older, newer) = (&self.hops[self.newest ^ 1], &self.hops[self.newest]);
        power_spectrum([older, newer], &mut self.scratch, &mut self.spectrum);
        let floor = match &mut self.floor {
            Some(floor) => floor.update(&self.spectrum),
            None => Floor::default(),
        };

        let mut mel = [0.0; N_MELS];
        mel_power(&self.spectrum, &mut mel);
        add_floor(&mut mel, floor.power);
        let mut coefficients = [0.0; N_MFCC];
        mfcc(&mut mel, &mut coefficients);
        out[MFCC_OFFSET..MFCC_OFFSET + N_MFCC].copy_from_slice(&coefficients);

        let mut classes = [0.0; N_CHROMA];
        chroma(&self.spectrum, floor.power, &mut classes);
        out[CHROMA_OFFSET..CHROMA_OFFSET + N_CHROMA].copy_from_slice(&classes);

        // Power is no longer needed: centroid and contrast use the magnitude.
        power_to_magnitude(&mut self.spectrum);
        out[CENTROID_OFFSET] = spectral_centroid(&self.spectrum, floor.magnitude);

        let mut contrast = [0.0; N_CONTRAST];
        spectral_contrast(&self.spectrum, floor.magnitude, &mut contrast);
        out[CONTRAST_OFFSET..CONTRAST_OFFSET + N_CONTRAST].copy_from_slice(&contrast);
        out
    }
}
