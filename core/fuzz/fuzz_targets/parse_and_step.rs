//! Arbitrary bytes as a weights blob: parsing must return an error or a model; a model must
//! quantise frames and step without panicking (overflow checks are on in fuzz builds).
//! The frames come from the input too, so that clamping and NaN paths are reached; enough
//! steps are taken for the pooled window readout to see two steps.
//!
//! Seeds: `seeds/valid.tgm` is a copy of the shipped `weights/tinygenre.tgm` (format version
//! 2; refresh it when the configuration fingerprint or the format changes);
//! `seeds/valid_with_frames.bin` is its first `BLOB_LEN - 4` bytes followed by four frames (33
//! little-endian `f32` each), as `ENGINE_FUZZ_SEEDS` in `tests/tests/engine_format.rs` writes.
#![no_main]

use genre_core::config::{N_FEATURES, POOL_FROM};
use genre_core::format::{crc32, Model, BLOB_LEN};
use genre_core::quant::{probabilities, QuantEngine};
use libfuzzer_sys::fuzz_target;

fn run(blob: &[u8], frame_bytes: &[u8]) {
    let Ok(m) = Model::parse(blob) else { return };
    for g in 0..=m.n_genres() {
        let _ = m.label(g);
    }
    let mut e = QuantEngine::new();
    let mut frames = frame_bytes.chunks_exact(4 * N_FEATURES).cycle();
    for _ in 0..POOL_FROM + 2 {
        let frame: [f32; N_FEATURES] = match frames.next() {
            Some(b) => core::array::from_fn(|j| {
                f32::from_le_bytes([b[4 * j], b[4 * j + 1], b[4 * j + 2], b[4 * j + 3]])
            }),
            None => [1.0e3; N_FEATURES],
        };
        e.step(&m, &m.quantize_input(&frame));
    }
    let _ = probabilities(&e.logits(&m));
    let _ = probabilities(&e.window_logits(&m));
}

fuzz_target!(|data: &[u8]| {
    // As given: exercises every header/size/CRC check.
    run(data, &[]);
    // With a valid CRC appended to a BLOB_LEN-sized prefix, so that mutations reach the
    // content checks and the engine; bytes after it become frames.
    if data.len() >= BLOB_LEN - 4 {
        let (body, frames) = data.split_at(BLOB_LEN - 4);
        let mut blob = body.to_vec();
        blob.extend_from_slice(&crc32(body).to_le_bytes());
        run(&blob, frames);
    }
});
