//! Helpers shared by the integration tests: GTZAN location and synthetic file builders.
#![allow(dead_code)] // Each test binary uses a different subset.

use std::path::{Path, PathBuf};

/// The GTZAN test data directory: `GTZAN_DIR`, else `<repo>/../shared/gtzan`.
///
/// Returns `None` (after saying so) when it is missing, so the caller skips; panics instead
/// under `CI=true`, where missing data must fail the run.
pub fn gtzan_dir() -> Option<PathBuf> {
    let dir = std::env::var_os("GTZAN_DIR").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/gtzan"),
        PathBuf::from,
    );
    if dir.join("genres").is_dir() {
        return Some(dir);
    }
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!(
            "GTZAN data not found at {} (set GTZAN_DIR); required when CI=true",
            dir.display()
        );
    }
    eprintln!(
        "skipping: GTZAN data not found at {} (set GTZAN_DIR)",
        dir.display()
    );
    None
}

/// A RIFF/WAVE file: `fmt ` chunk with `format_tag` (1 = PCM, 3 = IEEE float), then `data`.
/// `data_len` overrides the data chunk's declared size (for malformed files).
pub fn wav_bytes(
    format_tag: u16,
    channels: u16,
    rate: u32,
    bits: u16,
    data: &[u8],
    data_len: Option<u32>,
) -> Vec<u8> {
    let block_align = channels * bits / 8;
    let mut v = Vec::new();
    v.extend_from_slice(b"RIFF");
    v.extend_from_slice(&(36 + data.len() as u32).to_le_bytes());
    v.extend_from_slice(b"WAVEfmt ");
    v.extend_from_slice(&16u32.to_le_bytes());
    v.extend_from_slice(&format_tag.to_le_bytes());
    v.extend_from_slice(&channels.to_le_bytes());
    v.extend_from_slice(&rate.to_le_bytes());
    v.extend_from_slice(&(rate.wrapping_mul(u32::from(block_align))).to_le_bytes());
    v.extend_from_slice(&block_align.to_le_bytes());
    v.extend_from_slice(&bits.to_le_bytes());
    v.extend_from_slice(b"data");
    v.extend_from_slice(&data_len.unwrap_or(data.len() as u32).to_le_bytes());
    v.extend_from_slice(data);
    v
}

/// A 16-bit PCM WAV of interleaved `samples`.
pub fn wav_i16(channels: u16, rate: u32, samples: &[i16]) -> Vec<u8> {
    let data: Vec<u8> = samples.iter().flat_map(|s| s.to_le_bytes()).collect();
    wav_bytes(1, channels, rate, 16, &data, None)
}

/// A Sun `.au` file: 24-byte header, `annotation`, then `data` (big-endian samples).
pub fn au_bytes(
    encoding: u32,
    rate: u32,
    channels: u32,
    annotation: &[u8],
    data: &[u8],
    data_len: Option<u32>,
) -> Vec<u8> {
    let mut v = Vec::new();
    v.extend_from_slice(b".snd");
    v.extend_from_slice(&(24 + annotation.len() as u32).to_be_bytes());
    v.extend_from_slice(&data_len.unwrap_or(data.len() as u32).to_be_bytes());
    v.extend_from_slice(&encoding.to_be_bytes());
    v.extend_from_slice(&rate.to_be_bytes());
    v.extend_from_slice(&channels.to_be_bytes());
    v.extend_from_slice(annotation);
    v.extend_from_slice(data);
    v
}

/// A 16-bit linear PCM `.au` of interleaved `samples`.
pub fn au_i16(channels: u32, rate: u32, samples: &[i16]) -> Vec<u8> {
    let data: Vec<u8> = samples.iter().flat_map(|s| s.to_be_bytes()).collect();
    au_bytes(3, rate, channels, b"test\0\0\0\0", &data, None)
}

/// Writes `bytes` as `name` inside `dir` and returns the path.
pub fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).expect("write test file");
    path
}

/// Pearson correlation of two equally long signals (f64 accumulation).
pub fn correlation(a: &[f32], b: &[f32]) -> f64 {
    assert_eq!(a.len(), b.len());
    let n = a.len() as f64;
    let ma = a.iter().map(|&x| f64::from(x)).sum::<f64>() / n;
    let mb = b.iter().map(|&x| f64::from(x)).sum::<f64>() / n;
    let (mut sab, mut saa, mut sbb) = (0.0, 0.0, 0.0);
    for (&x, &y) in a.iter().zip(b) {
        let (x, y) = (f64::from(x) - ma, f64::from(y) - mb);
        sab += x * y;
        saa += x * x;
        sbb += y * y;
    }
    sab / (saa * sbb).sqrt()
}

/// Root mean square (f64 accumulation).
pub fn rms(x: &[f32]) -> f64 {
    (x.iter().map(|&v| f64::from(v) * f64::from(v)).sum::<f64>() / x.len() as f64).sqrt()
}
