//! Strict reader for Sun/NeXT `.au` files with 16-bit linear PCM (GTZAN's original format),
//! which symphonia does not read.
//!
//! Layout (all fields big-endian `u32`): magic `.snd`, data offset (>= 24), data size in bytes
//! (`0xFFFF_FFFF` = unknown, read to end of file), encoding (3 = 16-bit linear PCM), sample
//! rate in Hz, channel count; an annotation fills the bytes up to the data offset. Samples are
//! big-endian `i16`, channels interleaved.

use std::fs::File;
use std::io::{self, BufReader, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use crate::source::{downmix, Format};
use crate::{check_channels, check_rate, AudioError};

const MAGIC: [u8; 4] = *b".snd";
const HEADER_LEN: u32 = 24;
const UNKNOWN_SIZE: u32 = u32::MAX;
const ENCODING_LINEAR_16: u32 = 3;
/// Bytes read per step: bounds the buffer whatever the header says.
const CHUNK_BYTES: usize = 64 * 1024;

/// Whether `file` starts with the `.au` magic; leaves the position at the start.
pub(crate) fn has_magic(file: &mut File, path: &Path) -> Result<bool, AudioError> {
    let mut head = Vec::with_capacity(MAGIC.len());
    let io_err = |source| AudioError::Io {
        path: path.to_path_buf(),
        source,
    };
    file.take(MAGIC.len() as u64)
        .read_to_end(&mut head)
        .map_err(io_err)?;
    file.seek(SeekFrom::Start(0)).map_err(io_err)?;
    Ok(head == MAGIC)
}

/// A `.au` file after its header: reads the samples chunk by chunk.
pub(crate) struct Reader {
    reader: BufReader<File>,
    path: PathBuf,
    format: Format,
    /// Data bytes the header declares, `None` when unknown (read to the end of the file).
    declared: Option<u64>,
    /// Data bytes still to read (`u64::MAX` when unknown).
    remaining: u64,
    /// Data bytes read so far.
    total: u64,
    /// One chunk of a whole number of frames.
    bytes: Vec<u8>,
    /// The chunk as interleaved samples.
    samples: Vec<f32>,
    done: bool,
}

impl Reader {
    /// Reads and checks the header of a file whose magic has been seen.
    pub(crate) fn open(file: File, path: &Path) -> Result<Self, AudioError> {
        let malformed = |detail: String| AudioError::Malformed {
            path: path.to_path_buf(),
            detail,
        };
        let io_err = |source| AudioError::Io {
            path: path.to_path_buf(),
            source,
        };
        let mut reader = BufReader::with_capacity(CHUNK_BYTES, file);

        let mut header = [0u8; HEADER_LEN as usize];
        let got = read_full(&mut reader, &mut header).map_err(io_err)?;
        if got < header.len() {
            return Err(malformed(format!(
                "AU header truncated: {got} of {HEADER_LEN} bytes"
            )));
        }
        let field =
            |i: usize| u32::from_be_bytes([header[i], header[i + 1], header[i + 2], header[i + 3]]);
        let (offset, size, encoding, rate, channels) =
            (field(4), field(8), field(12), field(16), field(20));
        if offset < HEADER_LEN {
            return Err(malformed(format!(
                "AU data offset {offset} is inside the {HEADER_LEN}-byte header"
            )));
        }
        if encoding != ENCODING_LINEAR_16 {
            return Err(AudioError::Unsupported {
                path: path.to_path_buf(),
                feature: format!(
                    "AU encoding {encoding} ({}); only 3 (16-bit linear PCM) is read",
                    encoding_name(encoding)
                ),
            });
        }
        let format = Format {
            sample_rate: check_rate(Some(path), rate)?,
            channels: check_channels(path, channels)?,
        };

        let annotation = u64::from(offset - HEADER_LEN);
        let skipped =
            io::copy(&mut (&mut reader).take(annotation), &mut io::sink()).map_err(io_err)?;
        if skipped < annotation {
            return Err(malformed(format!(
                "AU header truncated: data offset {offset} lies beyond the end of the file"
            )));
        }

        let frame_bytes = 2 * usize::from(format.channels.get());
        let declared = (size != UNKNOWN_SIZE).then_some(u64::from(size));
        if declared.is_some_and(|d| d % frame_bytes as u64 != 0) {
            return Err(malformed(format!(
                "AU data size {size} is not a whole number of {frame_bytes}-byte frames"
            )));
        }
        // A whole number of frames, so that no frame straddles two chunks.
        let bytes = vec![0u8; CHUNK_BYTES / frame_bytes * frame_bytes];
        Ok(Self {
            reader,
            path: path.to_path_buf(),
            format,
            declared,
            remaining: declared.unwrap_or(u64::MAX),
            total: 0,
            samples: Vec::with_capacity(bytes.len() / 2),
            bytes,
            done: false,
        })
    }

    /// Appends the next chunk's frames, down-mixed, to `mono`; `None` after the last.
    pub(crate) fn next_block(&mut self, mono: &mut Vec<f32>) -> Result<Option<Format>, AudioError> {
        let malformed = |detail: String| AudioError::Malformed {
            path: self.path.clone(),
            detail,
        };
        while !self.done {
            let want = self
                .bytes
                .len()
                .min(usize::try_from(self.remaining).unwrap_or(usize::MAX));
            let got = read_full(&mut self.reader, &mut self.bytes[..want]).map_err(|source| {
                AudioError::Io {
                    path: self.path.clone(),
                    source,
                }
            })?;
            self.total += got as u64;
            self.remaining -= got as u64;
            self.done = got < want || self.remaining == 0;
            let frame_bytes = 2 * usize::from(self.format.channels.get());
            if got % frame_bytes != 0 {
                return Err(malformed(format!(
                    "AU data ends inside a frame after {} bytes",
                    self.total
                )));
            }
            if self.done {
                if let Some(declared) = self.declared.filter(|&d| self.total < d) {
                    return Err(malformed(format!(
                        "AU data truncated: header declares {declared} bytes, file holds {}",
                        self.total
                    )));
                }
            }
            if got > 0 {
                self.samples.clear();
                self.samples.extend(
                    self.bytes[..got]
                        .chunks_exact(2)
                        .map(|b| f32::from(i16::from_be_bytes([b[0], b[1]])) / 32_768.0),
                );
                downmix(&self.samples, self.format.channels, mono);
                return Ok(Some(self.format));
            }
        }
        Ok(None)
    }
}

/// Reads until `buf` is full or the end of the stream; returns the bytes read.
fn read_full(reader: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match reader.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

/// Name of an AU encoding code, for error messages.
fn encoding_name(encoding: u32) -> &'static str {
    match encoding {
        1 => "8-bit mu-law",
        2 => "8-bit linear PCM",
        4 => "24-bit linear PCM",
        5 => "32-bit linear PCM",
        6 => "32-bit float",
        7 => "64-bit float",
        23..=26 => "G.72x ADPCM",
        27 => "8-bit A-law",
        _ => "unknown",
    }
}
