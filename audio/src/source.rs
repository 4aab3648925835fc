//! A decoder of either kind behind one interface: mono blocks at the file's own rate.

use std::fs::File;
use std::num::NonZeroU16;
use std::path::Path;

use crate::{au, symph, wav, AudioError};

/// Sample rate and channel count of a file, both checked against the accepted ranges.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Format {
    /// Sample rate in Hz.
    pub sample_rate: u32,
    /// Channel count before the down-mix.
    pub channels: NonZeroU16,
}

/// An open file and its decoder.
pub(crate) enum Source {
    Au(au::Reader),
    Wav(wav::Reader),
    Symph(Box<symph::Reader>),
}

impl Source {
    /// Opens `path` and reads its header; the format is recognised from the content.
    pub(crate) fn open(path: &Path) -> Result<Self, AudioError> {
        let io_err = |source| AudioError::Io {
            path: path.to_path_buf(),
            source,
        };
        let mut file = File::open(path).map_err(io_err)?;
        let meta = file.metadata().map_err(io_err)?;
        if meta.len() == 0 {
            return Err(AudioError::Malformed {
                path: path.to_path_buf(),
                detail: "empty file (0 bytes)".into(),
            });
        }
        if au::has_magic(&mut file, path)? {
            return Ok(Self::Au(au::Reader::open(file, path)?));
        }
        Ok(match wav::open_canonical(file, meta.len(), path)? {
            Ok(reader) => Self::Wav(reader),
            Err(file) => Self::Symph(Box::new(symph::Reader::open(file, path)?)),
        })
    }

    /// Replaces `mono` with the next decoded frames (at least one), down-mixed, and returns
    /// their format (the same for the whole file); `None` at the end of the stream.
    pub(crate) fn next_block(&mut self, mono: &mut Vec<f32>) -> Result<Option<Format>, AudioError> {
        mono.clear();
        match self {
            Self::Au(r) => r.next_block(mono),
            Self::Wav(r) => r.next_block(mono),
            Self::Symph(r) => r.next_block(mono),
        }
    }
}

/// Appends the whole frames of `interleaved` to `mono`, each replaced by the mean of its
/// `channels` samples (summed in channel order; mono passes through unchanged).
pub fn downmix(interleaved: &[f32], channels: NonZeroU16, mono: &mut Vec<f32>) {
    let n = usize::from(channels.get());
    if n == 1 {
        mono.extend_from_slice(interleaved);
    } else {
        let scale = n as f32;
        mono.extend(
            interleaved
                .chunks_exact(n)
                .map(|frame| frame.iter().sum::<f32>() / scale),
        );
    }
}
