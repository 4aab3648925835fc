//! Decoding through symphonia: WAV, MP3, FLAC and OGG/Vorbis.

use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};

use symphonia::core::codecs::audio::{AudioDecoder, AudioDecoderOptions};
use symphonia::core::errors::Error as SymError;
use symphonia::core::formats::probe::Hint;
use symphonia::core::formats::{FormatOptions, FormatReader, TrackType};
use symphonia::core::io::MediaSourceStream;
use symphonia::core::meta::MetadataOptions;

use crate::source::{downmix, Format};
use crate::{check_channels, check_rate, AudioError};

/// symphonia's message when no format reader recognises the stream: not audio we know.
const NO_FORMAT_READER: &str = "core (probe): no suitable format reader found";

/// The first audio track of a file and its decoder.
pub(crate) struct Reader {
    format: Box<dyn FormatReader>,
    decoder: Box<dyn AudioDecoder>,
    track_id: u32,
    path: PathBuf,
    /// The format of the first decoded frames; every later buffer must match it.
    seen: Option<Format>,
    /// One decoded buffer, interleaved.
    interleaved: Vec<f32>,
    done: bool,
}

impl Reader {
    /// Probes `file` and opens the decoder of its first audio track.
    pub(crate) fn open(file: File, path: &Path) -> Result<Self, AudioError> {
        let mss = MediaSourceStream::new(Box::new(file), Default::default());
        let mut hint = Hint::new();
        if let Some(ext) = path.extension().and_then(|e| e.to_str()) {
            hint.with_extension(ext);
        }
        let format = symphonia::default::get_probe()
            .probe(
                &hint,
                mss,
                FormatOptions::default(),
                MetadataOptions::default(),
            )
            .map_err(|e| match e {
                SymError::Unsupported(NO_FORMAT_READER) => AudioError::UnknownFormat {
                    path: path.to_path_buf(),
                },
                other => map_error(path, other),
            })?;

        let track =
            format
                .default_track(TrackType::Audio)
                .ok_or_else(|| AudioError::Malformed {
                    path: path.to_path_buf(),
                    detail: "no audio track".into(),
                })?;
        let track_id = track.id;
        let params = track
            .codec_params
            .as_ref()
            .and_then(|p| p.audio())
            .ok_or_else(|| AudioError::Malformed {
                path: path.to_path_buf(),
                detail: "audio track without codec parameters".into(),
            })?;
        // Check what the header declares before decoding anything.
        if let Some(rate) = params.sample_rate {
            check_rate(Some(path), rate)?;
        }
        if let Some(channels) = &params.channels {
            check_channels(path, u32::try_from(channels.count()).unwrap_or(u32::MAX))?;
        }
        // Verify against the stream's checksum where the codec has one (FLAC's MD5).
        let options = AudioDecoderOptions::default().verify(true);
        let decoder = symphonia::default::get_codecs()
            .make_audio_decoder(params, &options)
            .map_err(|e| match e {
                SymError::Unsupported(what) => AudioError::Unsupported {
                    path: path.to_path_buf(),
                    feature: format!("codec id {} ({what})", params.codec),
                },
                other => map_error(path, other),
            })?;
        Ok(Self {
            format,
            decoder,
            track_id,
            path: path.to_path_buf(),
            seen: None,
            interleaved: Vec::new(),
            done: false,
        })
    }

    /// Decodes packets until one yields frames, appends them down-mixed to `mono`; `None` at
    /// the end of the track (after checking the stream's checksum, where it has one).
    pub(crate) fn next_block(&mut self, mono: &mut Vec<f32>) -> Result<Option<Format>, AudioError> {
        let path = self.path.as_path();
        while !self.done {
            let packet = match self.format.next_packet() {
                Ok(Some(packet)) => packet,
                // The end, or a file cut inside its audio data: keep what decoded.
                Ok(None) => break,
                Err(SymError::IoError(e)) if e.kind() == io::ErrorKind::UnexpectedEof => break,
                Err(e) => return Err(map_error(path, e)),
            };
            if packet.track_id != self.track_id {
                continue;
            }
            let buffer = self
                .decoder
                .decode(&packet)
                .map_err(|e| map_error(path, e))?;
            if buffer.frames() == 0 {
                continue;
            }
            let spec = buffer.spec();
            let rate = spec.rate();
            let channels = u32::try_from(spec.channels().count()).unwrap_or(u32::MAX);
            let format = match self.seen {
                Some(seen) => {
                    if seen.sample_rate != rate || u32::from(seen.channels.get()) != channels {
                        return Err(AudioError::FormatChanged {
                            path: path.to_path_buf(),
                        });
                    }
                    seen
                }
                None => *self.seen.insert(Format {
                    sample_rate: check_rate(Some(path), rate)?,
                    channels: check_channels(path, channels)?,
                }),
            };
            buffer.copy_to_vec_interleaved(&mut self.interleaved);
            downmix(&self.interleaved, format.channels, mono);
            return Ok(Some(format));
        }
        if !self.done {
            self.done = true;
            if self.decoder.finalize().verify_ok == Some(false) {
                return Err(AudioError::Malformed {
                    path: path.to_path_buf(),
                    detail: "decoded audio fails the stream's checksum".into(),
                });
            }
        }
        Ok(None)
    }
}

/// Maps a symphonia error met while reading `path`.
fn map_error(path: &Path, e: SymError) -> AudioError {
    let path = path.to_path_buf();
    match e {
        SymError::IoError(e) if e.kind() == io::ErrorKind::UnexpectedEof => AudioError::Malformed {
            path,
            detail: "file ends inside a header".into(),
        },
        SymError::IoError(source) => AudioError::Io { path, source },
        SymError::Unsupported(what) => AudioError::Unsupported {
            path,
            feature: what.into(),
        },
        SymError::DecodeError(what) | SymError::LimitError(what) => AudioError::Malformed {
            path,
            detail: what.into(),
        },
        SymError::ResetRequired => AudioError::Unsupported {
            path,
            feature: "tracks that change mid-stream (chained OGG)".into(),
        },
        other => AudioError::Malformed {
            path,
            detail: other.to_string(),
        },
    }
}
