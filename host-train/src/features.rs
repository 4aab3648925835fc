//! Feature extraction with genre-core's streaming frontend (the same code the device runs),
//! in parallel over clips, with an on-disk cache keyed by the configuration fingerprint, the
//! file's content hash and the augmentation variant.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use genre_core::config::{FeatureFrame, FINGERPRINT, N_FEATURES};
use genre_core::frontend::Frontend;
use indicatif::{ParallelProgressIterator, ProgressBar, ProgressStyle};
use rayon::prelude::*;

use crate::atomic::write_atomic;
use crate::augment;
use crate::dataset::{content_hash, Clip};

/// Cache file magic (format version 1).
const MAGIC: &[u8; 4] = b"TGF1";

/// The frames of one clip: index 0 is the original audio, 1.. the augmented copies.
pub type ClipFeatures = Vec<Vec<FeatureFrame>>;

/// Input shorter than this (4 s at 16 kHz) is repeated end to end up to it before anything
/// else, so that a 2-3 s excerpt gives one training window even after a speed-up of 7.5 %
/// (the teacher's patches are cut from the same tiling: `host-train/teacher/embed.py`).
pub const TILE_TO_SAMPLES: usize = 64_000;

/// `pcm` repeated end to end up to [`TILE_TO_SAMPLES`] when shorter (and not empty).
pub fn tile_short(pcm: Vec<i16>) -> Vec<i16> {
    if pcm.is_empty() || pcm.len() >= TILE_TO_SAMPLES {
        return pcm;
    }
    pcm.iter().copied().cycle().take(TILE_TO_SAMPLES).collect()
}

/// Runs the model's frontend ([`Frontend::for_model`]) over 16 kHz PCM and returns every
/// frame.
pub fn frames_of(pcm: &[i16]) -> Vec<FeatureFrame> {
    let mut frontend = Box::new(Frontend::for_model());
    let mut frames = Vec::with_capacity(pcm.len() / genre_core::config::HOP + 1);
    frontend.push(pcm, |f: &FeatureFrame| frames.push(*f));
    frames
}

/// Decodes an audio file (any supported format) and returns its feature frames.
///
/// # Errors
/// The file cannot be read or decoded.
pub fn file_frames(path: &Path) -> Result<Vec<FeatureFrame>> {
    // The audio error already names the file and its cause.
    let pcm = genre_audio::load_pcm16k(path)?;
    Ok(frames_of(&pcm))
}

/// Extracts (or loads from `cache`) the original and `copies` augmented feature sets of every
/// clip, in parallel, with a progress bar.
///
/// # Errors
/// A clip cannot be read or decoded, or the cache folder cannot be created.
pub fn extract_all(
    clips: &[Clip],
    copies: usize,
    seed: u64,
    cache: &Path,
) -> Result<Vec<ClipFeatures>> {
    fs::create_dir_all(cache).with_context(|| format!("creating cache {}", cache.display()))?;
    let bar = ProgressBar::new(clips.len() as u64).with_style(
        ProgressStyle::with_template("features {bar:30} {pos}/{len} clips [{elapsed}<{eta}]")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let probe = pipeline_probe(cache)?;
    let out = clips
        .par_iter()
        .progress_with(bar)
        .map(|clip| clip_features(clip, copies, seed, cache, probe))
        .collect();
    out
}

/// Hash of the features that decoding, resampling and the frontend give for a fixed
/// synthetic 22 050 Hz WAV (2 s of two tones and a pseudo-random component): part of every
/// cache key, so a change in genre-audio's or genre-core's code (which the configuration
/// fingerprint does not see) invalidates the cache.
fn pipeline_probe(dir: &Path) -> Result<u64> {
    const RATE: u32 = 22_050;
    let mut state = 0x1234_5678u32;
    let pcm: Vec<i16> = (0..2 * RATE as usize)
        .map(|n| {
            state = state.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            let t = n as f64 / f64::from(RATE);
            let tone = 8000.0 * (core::f64::consts::TAU * 440.0 * t).sin()
                + 4000.0 * (core::f64::consts::TAU * 1234.5 * t).sin();
            (tone + f64::from((state >> 20) as i32 - 2048)) as i16
        })
        .collect();
    let data_len = u32::try_from(pcm.len() * 2)?;
    let mut wav = Vec::with_capacity(44 + pcm.len() * 2);
    wav.extend_from_slice(b"RIFF");
    wav.extend_from_slice(&(36 + data_len).to_le_bytes());
    wav.extend_from_slice(b"WAVEfmt ");
    wav.extend_from_slice(&16u32.to_le_bytes());
    wav.extend_from_slice(&1u16.to_le_bytes()); // PCM
    wav.extend_from_slice(&1u16.to_le_bytes()); // mono
    wav.extend_from_slice(&RATE.to_le_bytes());
    wav.extend_from_slice(&(RATE * 2).to_le_bytes());
    wav.extend_from_slice(&2u16.to_le_bytes());
    wav.extend_from_slice(&16u16.to_le_bytes());
    wav.extend_from_slice(b"data");
    wav.extend_from_slice(&data_len.to_le_bytes());
    wav.extend(pcm.iter().flat_map(|v| v.to_le_bytes()));
    let mut tmp = tempfile::Builder::new()
        .suffix(".wav")
        .tempfile_in(dir)
        .with_context(|| format!("creating a temporary file in {}", dir.display()))?;
    tmp.write_all(&wav)?;
    tmp.flush()?;
    let bytes: Vec<u8> = file_frames(tmp.path())?
        .iter()
        .flatten()
        .flat_map(|v| v.to_bits().to_le_bytes())
        .collect();
    Ok(crate::dataset::fnv1a64(&bytes))
}

fn clip_features(
    clip: &Clip,
    copies: usize,
    seed: u64,
    cache: &Path,
    probe: u64,
) -> Result<ClipFeatures> {
    let hash = content_hash(&clip.path)?;
    let name = |variant: &str| {
        cache.join(format!(
            "{FINGERPRINT:08x}-{probe:016x}-{hash:016x}-{variant}.tgf"
        ))
    };
    let paths: Vec<PathBuf> = (0..=copies)
        .map(|c| {
            if c == 0 {
                name("orig")
            } else {
                name(&format!("aug{}-{seed:x}-{c}", augment::RECIPE_VERSION))
            }
        })
        .collect();
    let mut result = Vec::with_capacity(paths.len());
    let mut pcm: Option<Vec<i16>> = None;
    for (copy, path) in paths.iter().enumerate() {
        if let Some(frames) = read_cache(path) {
            result.push(frames);
            continue;
        }
        if pcm.is_none() {
            pcm = Some(tile_short(genre_audio::load_pcm16k(&clip.path)?));
        }
        let source = pcm.as_deref().unwrap_or_default();
        let frames = if copy == 0 {
            frames_of(source)
        } else {
            frames_of(&augment::augment(source, seed ^ hash, copy))
        };
        write_cache(path, &frames)?;
        result.push(frames);
    }
    Ok(result)
}

/// Reads a cache entry; any problem (absent, truncated, other format) is a miss.
fn read_cache(path: &Path) -> Option<Vec<FeatureFrame>> {
    let bytes = fs::read(path).ok()?;
    let (head, body) = bytes.split_at_checked(8)?;
    if &head[..4] != MAGIC {
        return None;
    }
    let n = u32::from_le_bytes(head[4..8].try_into().ok()?) as usize;
    if body.len() != n.checked_mul(N_FEATURES * 4)? {
        return None;
    }
    let mut frames = vec![[0.0f32; N_FEATURES]; n];
    for (frame, chunk) in frames.iter_mut().zip(body.chunks_exact(N_FEATURES * 4)) {
        for (v, b) in frame.iter_mut().zip(chunk.chunks_exact(4)) {
            *v = f32::from_le_bytes(b.try_into().ok()?);
        }
    }
    Some(frames)
}

/// Writes a cache entry atomically (temporary file in the same folder, then rename).
fn write_cache(path: &Path, frames: &[FeatureFrame]) -> Result<()> {
    let Ok(n) = u32::try_from(frames.len()) else {
        bail!("too many frames to cache");
    };
    let mut bytes = Vec::with_capacity(8 + frames.len() * N_FEATURES * 4);
    bytes.extend_from_slice(MAGIC);
    bytes.extend_from_slice(&n.to_le_bytes());
    for v in frames.iter().flatten() {
        bytes.extend_from_slice(&v.to_le_bytes());
    }
    write_atomic(path, &bytes)
}
