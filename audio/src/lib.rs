//! Audio file input for the host: decode, down-mix to mono, resample to 16 kHz.
//!
//! WAV (16/24/32-bit integer, 32-bit float), MP3, FLAC and OGG/Vorbis are decoded by
//! [symphonia]; Sun/NeXT `.au` (GTZAN's original format), which symphonia does not read, by a
//! small strict parser in this crate. Channels are averaged to mono, resampled with rubato's
//! band-limited sinc resampler to [`SAMPLE_RATE_HZ`] and converted to `i16`, the input of
//! `genre_core`'s frontend.
//!
//! Untrusted files: no allocation is sized by a header field. Decoding streams packet by packet
//! into one growing buffer and stops with [`AudioError::TooLong`] once the audio exceeds
//! [`MAX_SECONDS`] at the file's own rate.

#![forbid(unsafe_code)]

mod au;
mod error;
mod resample;
mod symph;

use std::path::Path;

pub use error::AudioError;
pub use genre_core::config::SAMPLE_RATE_HZ;
pub use resample::{resample_to_16k, MAX_PHASES, SINC_LEN, SINC_OVERSAMPLING};

/// Longest accepted audio, in seconds at the file's own sample rate (GTZAN clips are 30 s).
pub const MAX_SECONDS: u32 = 600;
/// Lowest accepted input sample rate in Hz; lower rates are not music recordings.
pub const MIN_SAMPLE_RATE_HZ: u32 = 4_000;
/// Highest accepted input sample rate in Hz (the highest common studio rate).
pub const MAX_SAMPLE_RATE_HZ: u32 = 384_000;
/// Most input channels accepted (covers every WAV speaker layout and 3rd-order ambisonics).
pub const MAX_CHANNELS: u16 = 32;

/// A decoded file, down-mixed to mono at its own sample rate.
#[derive(Debug, Clone, PartialEq)]
pub struct Decoded {
    /// Sample rate of the file in Hz.
    pub sample_rate: u32,
    /// Channel count of the file before the down-mix.
    pub channels: u16,
    /// Mono samples, the mean of the channels of each frame: within [-1, 1) for integer PCM;
    /// float and lossy sources may overshoot slightly ([`to_i16`] saturates).
    pub samples: Vec<f32>,
}

/// Decodes `path`, down-mixes it to mono, resamples it to 16 kHz and converts it to `i16`.
///
/// # Errors
/// Any [`AudioError`] of [`decode`] or [`resample_to_16k`]; every one names `path`.
pub fn load_pcm16k(path: &Path) -> Result<Vec<i16>, AudioError> {
    let decoded = decode(path)?;
    let resampled =
        resample_to_16k(&decoded.samples, decoded.sample_rate).map_err(|e| e.with_path(path))?;
    Ok(to_i16(&resampled))
}

/// Decodes `path` and down-mixes it to mono. The format is recognised from the content; the
/// file name's extension is only a hint.
///
/// # Errors
/// [`AudioError::Io`] when the file cannot be read; [`AudioError::UnknownFormat`],
/// [`AudioError::Unsupported`] or [`AudioError::Malformed`] when it is not audio this crate
/// decodes, or when a packet fails to decode (corrupt data is reported, not skipped);
/// [`AudioError::InvalidSampleRate`] / [`AudioError::InvalidChannelCount`] for rates or
/// channel counts outside the accepted ranges; [`AudioError::FormatChanged`] when they change
/// mid-stream; [`AudioError::TooLong`] beyond [`MAX_SECONDS`]; [`AudioError::NoAudio`] when no
/// frame decodes. A WAV, MP3, FLAC or OGG stream cut short inside its audio data decodes up to
/// the cut; a cut `.au` is [`AudioError::Malformed`].
pub fn decode(path: &Path) -> Result<Decoded, AudioError> {
    let mut file = std::fs::File::open(path).map_err(|source| AudioError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let meta = file.metadata().map_err(|source| AudioError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    if meta.len() == 0 {
        return Err(AudioError::Malformed {
            path: path.to_path_buf(),
            detail: "empty file (0 bytes)".into(),
        });
    }
    let decoded = if au::has_magic(&mut file, path)? {
        au::decode(file, path)?
    } else {
        symph::decode(file, path)?
    };
    if decoded.samples.is_empty() {
        return Err(AudioError::NoAudio {
            path: path.to_path_buf(),
        });
    }
    Ok(decoded)
}

/// Converts samples in [-1, 1) to `i16`: `x * 32768`, rounded half away from zero, saturated to
/// `i16::MIN..=i16::MAX`. NaN becomes 0.
pub fn to_i16(samples: &[f32]) -> Vec<i16> {
    samples
        .iter()
        // `as` saturates out-of-range values and maps NaN to 0.
        .map(|&x| (x * 32_768.0).round() as i16)
        .collect()
}

/// Checks a sample rate read from `path` against the accepted range.
fn check_rate(path: Option<&Path>, hz: u32) -> Result<u32, AudioError> {
    if (MIN_SAMPLE_RATE_HZ..=MAX_SAMPLE_RATE_HZ).contains(&hz) {
        Ok(hz)
    } else {
        Err(AudioError::InvalidSampleRate {
            path: path.map(Path::to_path_buf),
            hz,
        })
    }
}

/// Checks a channel count read from `path` against the accepted range.
fn check_channels(path: &Path, channels: u32) -> Result<u16, AudioError> {
    match u16::try_from(channels) {
        Ok(c) if (1..=MAX_CHANNELS).contains(&c) => Ok(c),
        _ => Err(AudioError::InvalidChannelCount {
            path: path.to_path_buf(),
            channels,
        }),
    }
}

/// Mono output that grows frame by frame and refuses to pass [`MAX_SECONDS`].
struct MonoSink<'p> {
    path: &'p Path,
    sample_rate: u32,
    channels: u16,
    max_frames: usize,
    samples: Vec<f32>,
}

impl<'p> MonoSink<'p> {
    /// A sink for `channels` channels at `sample_rate` Hz, both already checked.
    fn new(path: &'p Path, sample_rate: u32, channels: u16) -> Self {
        // 600 s x 384 kHz = 2.3e8 frames: fits usize on every 32/64-bit host.
        let max_frames = MAX_SECONDS as usize * sample_rate as usize;
        Self {
            path,
            sample_rate,
            channels,
            max_frames,
            samples: Vec::new(),
        }
    }

    /// Appends whole interleaved frames, each replaced by the mean of its channels (summed in
    /// channel order; mono passes through unchanged).
    ///
    /// # Errors
    /// [`AudioError::TooLong`] when the total would pass [`MAX_SECONDS`].
    fn push_interleaved(&mut self, interleaved: &[f32]) -> Result<(), AudioError> {
        let n = usize::from(self.channels);
        let frames = interleaved.len() / n;
        if self.samples.len() + frames > self.max_frames {
            return Err(AudioError::TooLong {
                path: self.path.to_path_buf(),
                max_seconds: MAX_SECONDS,
            });
        }
        if n == 1 {
            self.samples.extend_from_slice(interleaved);
        } else {
            let scale = n as f32;
            self.samples.extend(
                interleaved
                    .chunks_exact(n)
                    .map(|frame| frame.iter().sum::<f32>() / scale),
            );
        }
        Ok(())
    }

    fn finish(self) -> Decoded {
        Decoded {
            sample_rate: self.sample_rate,
            channels: self.channels,
            samples: self.samples,
        }
    }
}
