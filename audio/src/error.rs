//! The crate's single error type.

use std::fmt;
use std::path::{Path, PathBuf};

/// Why a file could not be turned into 16 kHz mono PCM.
///
/// Every variant that concerns a file carries its path, and `Display` starts with it.
#[derive(Debug)]
#[non_exhaustive]
pub enum AudioError {
    /// The file could not be opened or read.
    Io {
        /// The file.
        path: PathBuf,
        /// The operating system's error.
        source: std::io::Error,
    },
    /// The bytes are not a container this crate reads (WAV, AU, MP3, FLAC, OGG).
    UnknownFormat {
        /// The file.
        path: PathBuf,
    },
    /// The container is recognised but uses a codec, sample encoding or feature this crate
    /// does not decode (e.g. MP3 inside WAV, A-law `.au`, chained OGG streams).
    Unsupported {
        /// The file.
        path: PathBuf,
        /// What is unsupported, in words.
        feature: String,
    },
    /// The header or the stream is malformed or truncated.
    Malformed {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        detail: String,
    },
    /// The sample rate is zero or outside
    /// [`MIN_SAMPLE_RATE_HZ`](crate::MIN_SAMPLE_RATE_HZ)..=[`MAX_SAMPLE_RATE_HZ`](crate::MAX_SAMPLE_RATE_HZ).
    InvalidSampleRate {
        /// The file, when the rate came from one.
        path: Option<PathBuf>,
        /// The rejected rate in Hz.
        hz: u32,
    },
    /// The channel count is zero or above [`MAX_CHANNELS`](crate::MAX_CHANNELS).
    InvalidChannelCount {
        /// The file.
        path: PathBuf,
        /// The rejected count.
        channels: u32,
    },
    /// The rate or channel count changed in the middle of the stream.
    FormatChanged {
        /// The file.
        path: PathBuf,
    },
    /// The decoded audio is longer than [`MAX_SECONDS`](crate::MAX_SECONDS).
    TooLong {
        /// The file.
        path: PathBuf,
        /// The limit in seconds.
        max_seconds: u32,
    },
    /// The file holds no audio frames.
    NoAudio {
        /// The file.
        path: PathBuf,
    },
    /// The resampler rejected its configuration or input.
    Resample {
        /// The file, when the samples came from one.
        path: Option<PathBuf>,
        /// The resampler's message.
        detail: String,
    },
}

impl AudioError {
    /// Attaches `path` to an error that was raised without one (from [`crate::resample_to_16k`]).
    pub(crate) fn with_path(self, path: &Path) -> Self {
        match self {
            Self::InvalidSampleRate { path: None, hz } => Self::InvalidSampleRate {
                path: Some(path.to_path_buf()),
                hz,
            },
            Self::Resample { path: None, detail } => Self::Resample {
                path: Some(path.to_path_buf()),
                detail,
            },
            other => other,
        }
    }
}

impl fmt::Display for AudioError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Io { path, source } => write!(f, "{}: cannot read: {source}", path.display()),
            Self::UnknownFormat { path } => write!(
                f,
                "{}: not a supported audio file (expected WAV, AU, MP3, FLAC or OGG/Vorbis)",
                path.display()
            ),
            Self::Unsupported { path, feature } => {
                write!(f, "{}: unsupported: {feature}", path.display())
            }
            Self::Malformed { path, detail } => {
                write!(f, "{}: malformed audio: {detail}", path.display())
            }
            Self::InvalidSampleRate { path, hz } => {
                if let Some(path) = path {
                    write!(f, "{}: ", path.display())?;
                }
                write!(
                    f,
                    "sample rate {hz} Hz outside {}..={} Hz",
                    crate::MIN_SAMPLE_RATE_HZ,
                    crate::MAX_SAMPLE_RATE_HZ
                )
            }
            Self::InvalidChannelCount { path, channels } => write!(
                f,
                "{}: channel count {channels} outside 1..={}",
                path.display(),
                crate::MAX_CHANNELS
            ),
            Self::FormatChanged { path } => write!(
                f,
                "{}: sample rate or channel count changes mid-stream",
                path.display()
            ),
            Self::TooLong { path, max_seconds } => write!(
                f,
                "{}: longer than the {max_seconds} s limit",
                path.display()
            ),
            Self::NoAudio { path } => write!(f, "{}: contains no audio frames", path.display()),
            Self::Resample { path, detail } => {
                if let Some(path) = path {
                    write!(f, "{}: ", path.display())?;
                }
                write!(f, "resampling failed: {detail}")
            }
        }
    }
}

/// `Display` is self-contained: an [`AudioError::Io`] prints the operating system's error
/// itself, so `source()` is `None` for every variant and a chain of causes (anyhow's `{:#}`)
/// prints the OS error once. The `io::Error` stays reachable as the variant's `source` field.
impl std::error::Error for AudioError {}
