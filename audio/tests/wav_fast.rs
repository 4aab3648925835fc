//! The canonical-WAV fast path (`src/wav.rs`) against symphonia: the same file with one extra
//! chunk before `data` is not canonical, so symphonia decodes it; the samples must be equal
//! bit for bit (a GTZAN clip, and synthetic mono and stereo files at the rails).

mod common;

use genre_audio::{decode, load_pcm16k};
use std::path::Path;

/// A canonical 16-bit PCM WAV of `samples` (interleaved), and the same with a `LIST` chunk.
fn wav_pair(samples: &[i16], channels: u16, rate: u32) -> (Vec<u8>, Vec<u8>) {
    let data: Vec<u8> = samples.iter().flat_map(|s| s.to_le_bytes()).collect();
    let header = |extra: &[u8]| {
        let mut h = Vec::new();
        h.extend_from_slice(b"RIFF");
        h.extend_from_slice(&((36 + extra.len() + data.len()) as u32).to_le_bytes());
        h.extend_from_slice(b"WAVEfmt ");
        h.extend_from_slice(&16u32.to_le_bytes());
        h.extend_from_slice(&1u16.to_le_bytes());
        h.extend_from_slice(&channels.to_le_bytes());
        h.extend_from_slice(&rate.to_le_bytes());
        h.extend_from_slice(&(rate * 2 * u32::from(channels)).to_le_bytes());
        h.extend_from_slice(&(2 * channels).to_le_bytes());
        h.extend_from_slice(&16u16.to_le_bytes());
        h.extend_from_slice(extra);
        h.extend_from_slice(b"data");
        h.extend_from_slice(&(data.len() as u32).to_le_bytes());
        h.extend_from_slice(&data);
        h
    };
    let list = [b"LIST".as_slice(), &4u32.to_le_bytes(), b"INFO"].concat();
    (header(&[]), header(&list))
}

fn assert_same(canonical: &Path, other: &Path) {
    let (a, b) = (
        decode(canonical).expect("fast path"),
        decode(other).expect("symphonia"),
    );
    assert_eq!((a.sample_rate, a.channels), (b.sample_rate, b.channels));
    let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
    assert_eq!(
        bits(&a.samples),
        bits(&b.samples),
        "{}",
        canonical.display()
    );
    assert_eq!(
        load_pcm16k(canonical).expect("fast path"),
        load_pcm16k(other).expect("symphonia")
    );
}

#[test]
fn canonical_wav_decodes_as_symphonia_does() {
    let dir = tempfile::tempdir().expect("temporary folder");
    let mut state = 0x2026_0777u32;
    let mut next = || {
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        state as i16
    };
    for (channels, rate) in [(1u16, 22_050u32), (2, 44_100), (2, 16_000), (1, 48_000)] {
        let mut samples: Vec<i16> = (0..70_001 * usize::from(channels))
            .map(|_| next())
            .collect();
        samples[..4].copy_from_slice(&[i16::MIN, i16::MAX, 0, -1]);
        let (canonical, listed) = wav_pair(&samples, channels, rate);
        let (a, b) = (dir.path().join("a.wav"), dir.path().join("b.wav"));
        std::fs::write(&a, canonical).expect("write");
        std::fs::write(&b, listed).expect("write");
        assert_same(&a, &b);
    }
    // A GTZAN clip (canonical), re-wrapped with the extra chunk.
    if let Some(gtzan) = common::gtzan_dir() {
        let clip = gtzan.join("genres/blues/blues.00000.wav");
        let bytes = std::fs::read(&clip).expect("GTZAN clip");
        let samples: Vec<i16> = bytes[44..]
            .chunks_exact(2)
            .map(|b| i16::from_le_bytes([b[0], b[1]]))
            .collect();
        let (canonical, listed) = wav_pair(&samples, 1, 22_050);
        assert_eq!(canonical, bytes, "the clip is canonical");
        let b = dir.path().join("listed.wav");
        std::fs::write(&b, listed).expect("write");
        assert_same(&clip, &b);
    }
}
