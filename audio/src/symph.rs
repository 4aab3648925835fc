//! Decoding through symphonia: WAV, MP3, FLAC and OGG/Vorbis.

use std::fs::File;
use std::io;
use std::path::Path;

use symphonia::core::codecs::audio::AudioDecoderOptions;
use symphonia::core::errors::Error as SymError;
use symphonia::core::formats::probe::Hint;
use symphonia::core::formats::{FormatOptions, TrackType};
use symphonia::core::io::MediaSourceStream;
use symphonia::core::meta::MetadataOptions;

use crate::{check_channels, check_rate, AudioError, Decoded, MonoSink};

/// symphonia's message when no format reader recognises the stream: not audio we know.
const NO_FORMAT_READER: &str = "core (probe): no suitable format reader found";

/// Decodes the first audio track of `file` packet by packet into a mono sink.
pub(crate) fn decode(file: File, path: &Path) -> Result<Decoded, AudioError> {
    let mss = MediaSourceStream::new(Box::new(file), Default::default());
    let mut hint = Hint::new();
    if let Some(ext) = path.extension().and_then(|e| e.to_str()) {
        hint.with_extension(ext);
    }
    let mut format = symphonia::default::get_probe()
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

    let track = format
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
    let mut decoder = symphonia::default::get_codecs()
        .make_audio_decoder(params, &options)
        .map_err(|e| match e {
            SymError::Unsupported(what) => AudioError::Unsupported {
                path: path.to_path_buf(),
                feature: format!("codec id {} ({what})", params.codec),
            },
            other => map_error(path, other),
        })?;

    let mut sink: Option<MonoSink<'_>> = None;
    let mut interleaved: Vec<f32> = Vec::new();
    loop {
        let packet = match format.next_packet() {
            Ok(Some(packet)) => packet,
            Ok(None) => break,
            // A file cut inside its audio data: keep what decoded.
            Err(SymError::IoError(e)) if e.kind() == io::ErrorKind::UnexpectedEof => break,
            Err(e) => return Err(map_error(path, e)),
        };
        if packet.track_id != track_id {
            continue;
        }
        let buffer = decoder.decode(&packet).map_err(|e| map_error(path, e))?;
        if buffer.frames() == 0 {
            continue;
        }
        let spec = buffer.spec();
        let rate = spec.rate();
        let channels = u32::try_from(spec.channels().count()).unwrap_or(u32::MAX);
        let sink = match &mut sink {
            Some(sink) => {
                if sink.sample_rate != rate || u32::from(sink.channels) != channels {
                    return Err(AudioError::FormatChanged {
                        path: path.to_path_buf(),
                    });
                }
                sink
            }
            None => sink.insert(MonoSink::new(
                path,
                check_rate(Some(path), rate)?,
                check_channels(path, channels)?,
            )),
        };
        buffer.copy_to_vec_interleaved(&mut interleaved);
        sink.push_interleaved(&interleaved)?;
    }
    if decoder.finalize().verify_ok == Some(false) {
        return Err(AudioError::Malformed {
            path: path.to_path_buf(),
            detail: "decoded audio fails the stream's checksum".into(),
        });
    }
    sink.map(MonoSink::finish)
        .ok_or_else(|| AudioError::NoAudio {
            path: path.to_path_buf(),
        })
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
