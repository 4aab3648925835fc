//! Malformed, hostile and non-audio files: each gives a typed error naming the file, no panic.

mod common;

use common::{au_bytes, au_i16, wav_bytes, wav_i16, write};
use genre_audio::{decode, load_pcm16k, AudioError, MAX_SECONDS};
use std::path::Path;

/// Decodes `bytes` written as `name` and returns the error, checking that its message names
/// the file and that `load_pcm16k` fails the same way.
fn error_of(dir: &Path, name: &str, bytes: &[u8]) -> AudioError {
    let path = write(dir, name, bytes);
    let err = match decode(&path) {
        Ok(d) => panic!(
            "{name}: decoded {} samples, expected an error",
            d.samples.len()
        ),
        Err(e) => e,
    };
    let message = err.to_string();
    assert!(
        message.contains(name),
        "{name}: message does not name the file: {message}"
    );
    let again = load_pcm16k(&path).expect_err("load_pcm16k must fail too");
    assert_eq!(again.to_string(), message);
    println!("{message}");
    err
}

/// A valid 16-bit mono 22.05 kHz WAV of 8 samples; header fields sit at fixed offsets
/// (channels 22, rate 24, data size 40, data 44).
fn good_wav() -> Vec<u8> {
    wav_i16(1, 22_050, &[1, 2, 3, 4, 5, 6, 7, 8])
}

/// The same 8 samples as a `.au` without annotation (rate 16, channels 20, data 24).
fn good_au() -> Vec<u8> {
    au_bytes(
        3,
        22_050,
        1,
        &[],
        &[0, 1, 0, 2, 0, 3, 0, 4, 0, 5, 0, 6, 0, 7, 0, 8],
        None,
    )
}

fn patched(mut bytes: Vec<u8>, at: usize, with: &[u8]) -> Vec<u8> {
    bytes[at..at + with.len()].copy_from_slice(with);
    bytes
}

#[test]
fn truncated_headers() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    // Cut inside the RIFF header, inside `fmt `, and just before the data chunk header.
    for cut in [6, 20, 36] {
        let err = error_of(d, &format!("cut{cut}.wav"), &good_wav()[..cut]);
        assert!(
            matches!(
                err,
                AudioError::Malformed { .. } | AudioError::UnknownFormat { .. }
            ),
            "{err:?}"
        );
    }
    // AU: inside the 24-byte header.
    for cut in [4, 10, 23] {
        let err = error_of(d, &format!("cut{cut}.au"), &good_au()[..cut]);
        assert!(matches!(err, AudioError::Malformed { .. }), "{err:?}");
    }
    // AU: the data offset points past the end of the file.
    let bytes = patched(good_au(), 4, &1000u32.to_be_bytes());
    let err = error_of(d, "offset.au", &bytes);
    assert!(matches!(err, AudioError::Malformed { .. }), "{err:?}");
    // AU: data offset inside the header.
    let bytes = patched(good_au(), 4, &8u32.to_be_bytes());
    let err = error_of(d, "offset8.au", &bytes);
    assert!(matches!(err, AudioError::Malformed { .. }), "{err:?}");
}

#[test]
fn truncated_audio_data() {
    let dir = tempfile::tempdir().expect("tempdir");
    // WAV cut inside the data: symphonia decodes the whole frames that are there.
    let path = write(dir.path(), "short.wav", &good_wav()[..44 + 7]);
    let d = decode(&path).expect("decodes up to the cut");
    assert_eq!(d.samples.len(), 3);
    // AU declaring more data than present: the strict reader refuses.
    let err = error_of(dir.path(), "short.au", &good_au()[..24 + 6]);
    assert!(matches!(err, AudioError::Malformed { .. }), "{err:?}");
    // AU of unknown size ending inside a frame.
    let bytes = patched(good_au(), 8, &u32::MAX.to_be_bytes());
    let err = error_of(dir.path(), "odd.au", &bytes[..24 + 7]);
    assert!(matches!(err, AudioError::Malformed { .. }), "{err:?}");
}

#[test]
fn empty_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    for name in ["empty.wav", "empty.au", "empty.mp3"] {
        let err = error_of(dir.path(), name, &[]);
        assert!(matches!(err, AudioError::Malformed { .. }), "{err:?}");
    }
    // A valid header with no frames.
    let err = error_of(dir.path(), "noframes.wav", &wav_i16(1, 8_000, &[]));
    assert!(matches!(err, AudioError::NoAudio { .. }), "{err:?}");
    let err = error_of(dir.path(), "noframes.au", &au_i16(1, 8_000, &[]));
    assert!(matches!(err, AudioError::NoAudio { .. }), "{err:?}");
}

#[test]
fn wrong_magic_and_non_audio() {
    let dir = tempfile::tempdir().expect("tempdir");
    let png: &[u8] =
        b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0\x1f\x15\xc4\x89";
    let cases: [(&str, Vec<u8>); 6] = [
        ("rifx.wav", patched(good_wav(), 0, b"RIFX")),
        ("wavx.wav", patched(good_wav(), 8, b"WAVX")),
        ("snd.au", patched(good_au(), 0, b".SND")),
        ("notes.txt", b"This is a text file, not audio.\n".to_vec()),
        ("image.wav", png.to_vec()),
        ("zeros.mp3", vec![0; 4096]),
    ];
    for (name, bytes) in cases {
        let err = error_of(dir.path(), name, &bytes);
        assert!(matches!(err, AudioError::UnknownFormat { .. }), "{err:?}");
    }
    // Right magic, garbage behind it.
    for (name, bytes) in [
        ("junk.flac", b"fLaC\0\0\0\x22junkjunkjunk".to_vec()),
        ("junk.ogg", b"OggS\0\x02junkjunkjunkjunkjunkjunk".to_vec()),
    ] {
        error_of(dir.path(), name, &bytes);
    }
}

#[test]
fn zero_and_absurd_sample_rates_and_channel_counts() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    for (hz, name) in [(0u32, "0"), (1, "1"), (1_000_000, "1M"), (u32::MAX, "max")] {
        let wav = patched(good_wav(), 24, &hz.to_le_bytes());
        let au = patched(good_au(), 16, &hz.to_be_bytes());
        for (file, bytes) in [
            (format!("rate{name}.wav"), wav),
            (format!("rate{name}.au"), au),
        ] {
            match error_of(d, &file, &bytes) {
                AudioError::InvalidSampleRate {
                    path: Some(_),
                    hz: got,
                } => assert_eq!(got, hz),
                other => panic!("{file}: {other:?}"),
            }
        }
    }
    for channels in [0u32, 33, 65_536, u32::MAX] {
        let file = format!("ch{channels}.au");
        match error_of(d, &file, &patched(good_au(), 20, &channels.to_be_bytes())) {
            AudioError::InvalidChannelCount { channels: got, .. } => assert_eq!(got, channels),
            other => panic!("{file}: {other:?}"),
        }
    }
    // symphonia rejects a zero channel count itself.
    error_of(d, "ch0.wav", &patched(good_wav(), 22, &0u16.to_le_bytes()));
}

#[test]
fn unsupported_codecs() {
    let dir = tempfile::tempdir().expect("tempdir");
    // WAV format tag 0x0055: MP3 inside RIFF.
    let err = error_of(
        dir.path(),
        "mp3.wav",
        &wav_bytes(0x55, 1, 8_000, 16, &[0; 64], None),
    );
    assert!(matches!(err, AudioError::Unsupported { .. }), "{err:?}");
    // AU encodings other than 16-bit linear PCM: mu-law, 24-bit, float, A-law.
    for encoding in [1u32, 4, 6, 27] {
        let file = format!("enc{encoding}.au");
        let err = error_of(
            dir.path(),
            &file,
            &au_bytes(encoding, 8_000, 1, &[], &[0; 12], None),
        );
        assert!(matches!(err, AudioError::Unsupported { .. }), "{err:?}");
    }
}

#[test]
fn longer_than_the_cap() {
    // MAX_SECONDS at the lowest accepted rate, plus one frame: 4.8 MB per file.
    let rate = genre_audio::MIN_SAMPLE_RATE_HZ;
    let frames = MAX_SECONDS as usize * rate as usize + 1;
    let dir = tempfile::tempdir().expect("tempdir");
    let wav = wav_bytes(1, 1, rate, 16, &vec![0u8; 2 * frames], None);
    let au = au_bytes(3, rate, 1, &[], &vec![0u8; 2 * frames], Some(u32::MAX));
    for (name, bytes) in [("long.wav", wav), ("long.au", au)] {
        match error_of(dir.path(), name, &bytes) {
            AudioError::TooLong { max_seconds, .. } => assert_eq!(max_seconds, MAX_SECONDS),
            other => panic!("{name}: {other:?}"),
        }
    }
    // Exactly at the cap is accepted.
    let at_cap = write(
        dir.path(),
        "cap.au",
        &au_bytes(3, rate, 1, &[], &vec![0u8; 2 * (frames - 1)], None),
    );
    assert_eq!(decode(&at_cap).expect("at cap").samples.len(), frames - 1);
}

#[test]
fn missing_file_and_directory() {
    let dir = tempfile::tempdir().expect("tempdir");
    let missing = dir.path().join("missing.wav");
    let err = decode(&missing).expect_err("missing");
    assert!(matches!(err, AudioError::Io { .. }), "{err:?}");
    assert!(err.to_string().contains("missing.wav"));
    let sub = dir.path().join("folder.wav");
    std::fs::create_dir(&sub).expect("mkdir");
    let err = decode(&sub).expect_err("directory");
    assert!(err.to_string().contains("folder.wav"), "{err}");
}
