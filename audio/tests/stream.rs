//! The streaming API: `Pcm16kStream` gives exactly `load_pcm16k`'s samples, for every rate,
//! channel count and container, on synthetic files and on the GTZAN clips and formats;
//! `Resampler16k` does not depend on how its input is split; errors are typed and name the
//! file; length is not limited.

mod common;

use common::{au_bytes, au_i16, gtzan_dir, wav_i16, write};
use genre_audio::{
    load_pcm16k, resample_to_16k, AudioError, Pcm16kStream, Resampler16k, MAX_SECONDS,
};
use std::path::Path;

/// Every block of the stream of `path`, concatenated, with the block count.
fn streamed(path: &Path) -> Result<(Vec<i16>, usize), AudioError> {
    let mut stream = Pcm16kStream::open(path)?;
    let (mut pcm, mut blocks) = (Vec::new(), 0);
    while let Some(block) = stream.next_block()? {
        assert!(!block.is_empty(), "{}: empty block", path.display());
        pcm.extend_from_slice(block);
        blocks += 1;
    }
    // The end is sticky.
    assert!(stream.next_block()?.is_none());
    Ok((pcm, blocks))
}

/// A deterministic, non-periodic test signal: two tones and pseudo-random noise.
fn signal(frames: usize, channels: usize) -> Vec<i16> {
    let mut state = 0x2545_f491u32;
    (0..frames * channels)
        .map(|i| {
            state = state.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            let t = (i / channels) as f64;
            let tone =
                9000.0 * (t * 0.031).sin() + 5000.0 * (t * 0.17 + (i % channels) as f64).sin();
            (tone + f64::from((state >> 19) as i32 - 4096)) as i16
        })
        .collect()
}

#[test]
fn stream_equals_load_pcm16k_for_every_rate_and_layout() {
    let dir = tempfile::tempdir().expect("tempdir");
    // Lengths around the resampler's 4096-frame chunk and the AU reader's 64 KiB chunk.
    for rate in [
        8_000u32, 11_025, 16_000, 22_050, 44_100, 48_000, 44_101, 96_000,
    ] {
        for (channels, frames) in [
            (1u16, 1usize),
            (1, 4095),
            (2, 4097),
            (1, 40_000),
            (2, 70_001),
        ] {
            let samples = signal(frames, usize::from(channels));
            for (name, bytes) in [
                ("s.wav", wav_i16(channels, rate, &samples)),
                ("s.au", au_i16(u32::from(channels), rate, &samples)),
            ] {
                let path = write(dir.path(), name, &bytes);
                let whole = load_pcm16k(&path).expect("load_pcm16k");
                let (stream, blocks) = streamed(&path).expect("stream");
                let what = format!("{name}: {frames} frames x{channels} at {rate} Hz");
                assert_eq!(stream.len(), whole.len(), "{what}: length");
                assert!(stream == whole, "{what}: samples differ");
                let expected = (frames as u64 * 16_000).div_ceil(u64::from(rate)) as usize;
                assert_eq!(stream.len(), expected, "{what}");
                // Long inputs come out in several blocks, not one.
                assert!(frames < 40_000 || blocks > 1, "{what}: {blocks} block(s)");
            }
        }
    }
}

#[test]
fn resampler_output_does_not_depend_on_block_sizes() {
    let x: Vec<f32> = signal(50_000, 1)
        .iter()
        .map(|&s| f32::from(s) / 32_768.0)
        .collect();
    for rate in [22_050u32, 44_100, 48_000, 44_101, 8_000] {
        let whole = resample_to_16k(&x, rate).expect("whole");
        for block in [1usize, 7, 4095, 4096, 4097, 30_000] {
            let mut r = Resampler16k::new(rate).expect("new");
            let mut out = Vec::new();
            for piece in x.chunks(block) {
                r.push(piece, &mut out).expect("push");
            }
            r.push(&[], &mut out).expect("empty push");
            r.finish(&mut out).expect("finish");
            assert!(out == whole, "{rate} Hz in blocks of {block}");
        }
    }
    // Nothing in, nothing out; invalid rates are typed errors.
    let mut out = vec![1.0];
    Resampler16k::new(44_100)
        .expect("new")
        .finish(&mut out)
        .expect("finish");
    assert_eq!(out, [1.0], "finish appends, and nothing for no input");
    assert!(matches!(
        Resampler16k::new(0),
        Err(AudioError::InvalidSampleRate { path: None, hz: 0 })
    ));
}

#[test]
fn stream_has_no_length_limit() {
    // One frame beyond the in-memory cap of `load_pcm16k`, at the lowest accepted rate.
    let rate = genre_audio::MIN_SAMPLE_RATE_HZ;
    let frames = MAX_SECONDS as usize * rate as usize + 1;
    let dir = tempfile::tempdir().expect("tempdir");
    let path = write(
        dir.path(),
        "long.au",
        &au_bytes(3, rate, 1, &[], &vec![0u8; 2 * frames], None),
    );
    assert!(matches!(
        load_pcm16k(&path),
        Err(AudioError::TooLong { .. })
    ));
    let (pcm, _) = streamed(&path).expect("streams");
    assert_eq!(pcm.len(), frames * 4, "4 kHz -> 16 kHz");
}

#[test]
fn stream_errors_are_typed_and_name_the_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    // Errors the header shows come from `open`.
    for (name, bytes) in [
        ("empty.wav", Vec::new()),
        ("notes.mp3", b"this is not audio at all\n".repeat(50)),
        ("rate.au", au_bytes(3, 1_000_000, 1, &[], &[0; 8], None)),
        ("alaw.au", au_bytes(27, 8_000, 1, &[], &[0; 8], None)),
    ] {
        let path = write(d, name, &bytes);
        let err = Pcm16kStream::open(&path).err().expect(name);
        assert!(err.to_string().contains(name), "{err}");
        assert_eq!(
            err.to_string(),
            load_pcm16k(&path).expect_err(name).to_string()
        );
    }
    let missing = d.join("missing.flac");
    assert!(matches!(
        Pcm16kStream::open(&missing),
        Err(AudioError::Io { .. })
    ));
    // Errors in the data come from `next_block`, after the good blocks before them.
    let mut truncated = au_i16(1, 8_000, &signal(50_000, 1));
    truncated.truncate(truncated.len() - 10);
    let cases = [
        ("noframes.wav", wav_i16(1, 8_000, &[])),
        ("short.au", truncated),
    ];
    for (name, bytes) in cases {
        let path = write(d, name, &bytes);
        // After the error, the stream has ended.
        let mut stream = Pcm16kStream::open(&path).expect(name);
        while stream.next_block().is_ok_and(|b| b.is_some()) {}
        assert!(matches!(stream.next_block(), Ok(None)), "{name}");
        let err = streamed(&path).expect_err(name);
        assert!(err.to_string().contains(name), "{err}");
        assert_eq!(
            err.to_string(),
            load_pcm16k(&path).expect_err(name).to_string()
        );
    }
}

#[test]
fn stream_reports_the_source_format() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = write(dir.path(), "f.wav", &wav_i16(2, 22_050, &signal(5000, 2)));
    let mut stream = Pcm16kStream::open(&path).expect("open");
    assert_eq!(stream.format(), None, "known once a block decoded");
    stream.next_block().expect("block").expect("some");
    let format = stream.format().expect("format");
    assert_eq!((format.sample_rate, format.channels.get()), (22_050, 2));
}

#[test]
fn gtzan_clips_and_formats_stream_to_the_same_samples() {
    let Some(dir) = gtzan_dir() else { return };
    let mut files: Vec<_> = ["formats", "au"]
        .iter()
        .flat_map(|d| std::fs::read_dir(dir.join(d)).expect("folder"))
        .map(|e| e.expect("entry").path())
        .collect();
    files.sort();
    // One 22 050 Hz clip per genre and one of the 16 kHz other-artist clips.
    for genre in genre_core::config::GENRES {
        files.push(dir.join(format!("genres/{genre}/{genre}.00001.wav")));
    }
    files.push(dir.join("genres/blues/blues.00016.wav"));
    assert!(files.len() >= 25, "{files:?}");
    for path in files {
        let whole = load_pcm16k(&path).unwrap_or_else(|e| panic!("{e}"));
        let (stream, blocks) = streamed(&path).unwrap_or_else(|e| panic!("{e}"));
        println!(
            "{}: {} samples in {blocks} blocks",
            path.display(),
            stream.len()
        );
        assert_eq!(stream.len(), whole.len(), "{}", path.display());
        assert!(stream == whole, "{}: samples differ", path.display());
        assert!(blocks > 10, "{}: {blocks} blocks", path.display());
    }
}
