//! Audio file input for the host: decode, down-mix to mono, resample to 16 kHz.
//!
//! WAV (16/24/32-bit integer, 32-bit float), MP3, FLAC and OGG/Vorbis are decoded by
//! [symphonia]; Sun/NeXT `.au` (GTZAN's original format), which symphonia does not read, by a
//! small strict parser in this crate. Channels are averaged to mono, resampled with a
//! band-limited sinc (by FFT for the common rates, rubato's sinc resampler otherwise) to
//! [`SAMPLE_RATE_HZ`] and converted to `i16`, the input of
//! `genre_core`'s frontend.
//!
//! Two ways in:
//! - [`Pcm16kStream`]: any length in constant memory: decodes packet by packet, resamples and
//!   converts as it goes, and hands out 16 kHz `i16` blocks;
//! - [`load_pcm16k`] / [`decode`]: the whole file in memory, up to [`MAX_SECONDS`].
//!
//! Both run the same decoders and the same resampler and give the same samples.
//!
//! Untrusted files: no allocation is sized by a header field, and errors are typed
//! ([`AudioError`]), never panics.

#![forbid(unsafe_code)]

mod au;
mod error;
mod resample;
mod source;
mod symph;
mod wav;

use std::num::NonZeroU16;
use std::path::{Path, PathBuf};

pub use error::AudioError;
pub use genre_core::config::SAMPLE_RATE_HZ;
pub use resample::{resample_to_16k, Resampler16k, MAX_PHASES, SINC_LEN, SINC_OVERSAMPLING};
pub use source::{downmix, Format};

use source::Source;

/// Longest audio [`decode`] and [`load_pcm16k`] accept, in seconds at the file's own sample
/// rate (GTZAN clips are 30 s); [`Pcm16kStream`] has no limit.
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
    let mut source = Source::open(path)?;
    let mut block = Vec::new();
    let mut samples = Vec::new();
    let mut format = None;
    while let Some(f) = source.next_block(&mut block)? {
        // 600 s x 384 kHz = 2.3e8 frames: fits usize on every 32/64-bit host.
        if samples.len() + block.len() > MAX_SECONDS as usize * f.sample_rate as usize {
            return Err(AudioError::TooLong {
                path: path.to_path_buf(),
                max_seconds: MAX_SECONDS,
            });
        }
        samples.extend_from_slice(&block);
        format = Some(f);
    }
    let format = format.ok_or_else(|| AudioError::NoAudio {
        path: path.to_path_buf(),
    })?;
    Ok(Decoded {
        sample_rate: format.sample_rate,
        channels: format.channels.get(),
        samples,
    })
}

/// A file decoded, down-mixed, resampled to 16 kHz and converted to `i16` block by block.
///
/// Gives the same samples as [`load_pcm16k`], for files of any length, in constant memory:
/// the decoder's packet, one resampler chunk (4096 input frames) and the filter table.
///
/// ```no_run
/// # fn main() -> Result<(), genre_audio::AudioError> {
/// let mut stream = genre_audio::Pcm16kStream::open(std::path::Path::new("song.mp3"))?;
/// let mut samples = 0;
/// while let Some(block) = stream.next_block()? {
///     samples += block.len();
/// }
/// # Ok(()) }
/// ```
pub struct Pcm16kStream {
    path: PathBuf,
    source: Source,
    /// Created with the first decoded block, whose rate it needs; taken at the end.
    resampler: Option<Resampler16k>,
    format: Option<Format>,
    mono: Vec<f32>,
    resampled: Vec<f32>,
    block: Vec<i16>,
    done: bool,
}

impl Pcm16kStream {
    /// Opens `path` and reads its header.
    ///
    /// # Errors
    /// The errors of [`decode`] that the header shows (every one names `path`); the others
    /// come from [`Pcm16kStream::next_block`].
    pub fn open(path: &Path) -> Result<Self, AudioError> {
        Ok(Self {
            path: path.to_path_buf(),
            source: Source::open(path)?,
            resampler: None,
            format: None,
            mono: Vec::new(),
            resampled: Vec::new(),
            block: Vec::new(),
            done: false,
        })
    }

    /// The file's own sample rate and channel count, once the first block has decoded.
    pub fn format(&self) -> Option<Format> {
        self.format
    }

    /// The next block of 16 kHz mono `i16` samples (never empty); `None` at the end.
    ///
    /// # Errors
    /// The errors of [`decode`] except [`AudioError::TooLong`]: a bad packet, a format change
    /// or a failed checksum mid-file ends the stream with the error (the blocks before it were
    /// good audio; later calls return `None`); [`AudioError::NoAudio`] when the file holds no
    /// frame; every error names the file.
    pub fn next_block(&mut self) -> Result<Option<&[i16]>, AudioError> {
        match self.fill_block() {
            Ok(true) => Ok(Some(&self.block)),
            Ok(false) => Ok(None),
            Err(e) => {
                self.done = true;
                Err(e)
            }
        }
    }

    /// Decodes and resamples until `block` holds samples (`true`) or the stream ends.
    fn fill_block(&mut self) -> Result<bool, AudioError> {
        while !self.done {
            self.resampled.clear();
            match self.source.next_block(&mut self.mono)? {
                Some(format) => {
                    self.format = Some(format);
                    let resampler = match &mut self.resampler {
                        Some(r) => r,
                        None => self.resampler.insert(
                            Resampler16k::new(format.sample_rate)
                                .map_err(|e| e.with_path(&self.path))?,
                        ),
                    };
                    resampler
                        .push(&self.mono, &mut self.resampled)
                        .map_err(|e| e.with_path(&self.path))?;
                }
                None => {
                    self.done = true;
                    let resampler = self.resampler.take().ok_or_else(|| AudioError::NoAudio {
                        path: self.path.clone(),
                    })?;
                    resampler
                        .finish(&mut self.resampled)
                        .map_err(|e| e.with_path(&self.path))?;
                }
            }
            if !self.resampled.is_empty() {
                self.block.clear();
                to_i16_into(&self.resampled, &mut self.block);
                return Ok(true);
            }
        }
        Ok(false)
    }
}

/// Converts samples in [-1, 1) to `i16`: `x * 32768`, rounded half away from zero, saturated to
/// `i16::MIN..=i16::MAX`. NaN becomes 0.
pub fn to_i16(samples: &[f32]) -> Vec<i16> {
    let mut out = Vec::with_capacity(samples.len());
    to_i16_into(samples, &mut out);
    out
}

/// [`to_i16`], appending to `out`.
///
/// `round` without calling it (`roundf` is a library call on x86_64 without SSE4.1, which
/// keeps the loop scalar): `t = v as i32` truncates towards zero, `v - t` is exact (both lie
/// within one binade step of each other, `|v| < 2^24` after the clamp), and a fraction of ±½
/// or more moves `t` one away from zero: half away from zero, as `round`. The clamp to ±65536
/// keeps `t` and `t ± 1` in `i32` and maps every value beyond the `i16` range beyond it, so the
/// final saturation matches `round() as i16`; NaN stays NaN through the clamp, `as i32` makes
/// it 0 and both compares fail, 0 as before.
fn to_i16_into(samples: &[f32], out: &mut Vec<i16>) {
    out.extend(samples.iter().map(|&x| {
        let v = (x * 32_768.0).clamp(-65_536.0, 65_536.0);
        let t = v as i32;
        let frac = v - t as f32;
        let r = t + i32::from(frac >= 0.5) - i32::from(frac <= -0.5);
        r.clamp(i32::from(i16::MIN), i32::from(i16::MAX)) as i16
    }));
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
fn check_channels(path: &Path, channels: u32) -> Result<NonZeroU16, AudioError> {
    match u16::try_from(channels).ok().and_then(NonZeroU16::new) {
        Some(c) if c.get() <= MAX_CHANNELS => Ok(c),
        _ => Err(AudioError::InvalidChannelCount {
            path: path.to_path_buf(),
            channels,
        }),
    }
}
