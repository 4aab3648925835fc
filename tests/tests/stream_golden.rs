//! PCM to window logits, exact: two synthesised signals (`tests/golden/quant/*.pcm`) through
//! genre-core's frontend (its f32 features pinned bit for bit in `*.features.f32`) and the
//! integer engine with the shipped weights, against `pipeline.json`, which
//! `tests/generators/gen_quant_goldens.py` computes with its independent reference of the
//! quantisation, the engine and the window rule.

use std::path::PathBuf;

use genre_core::config::{FeatureFrame, N_FEATURES, WINDOW_FRAMES};
use genre_core::format::{crc32, Model};
use genre_core::frontend::Frontend;
use genre_core::quant::QuantEngine;
use serde::Deserialize;

#[derive(Deserialize)]
struct Golden {
    blob: String,
    blob_crc32: u32,
    signals: Vec<Signal>,
}

#[derive(Deserialize)]
struct Signal {
    name: String,
    pcm: String,
    features: String,
    frames: usize,
    windows: Vec<Window>,
}

#[derive(Deserialize)]
struct Window {
    index: u32,
    top1: usize,
    label: String,
    logits: Vec<i32>,
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn dir() -> PathBuf {
    root().join("tests/golden/quant")
}

fn golden() -> (Golden, Vec<u8>) {
    let text = std::fs::read_to_string(dir().join("pipeline.json")).expect("pipeline.json");
    let golden: Golden = serde_json::from_str(&text).expect("pipeline.json parses");
    let blob = std::fs::read(root().join(&golden.blob)).expect("the shipped weights");
    assert_eq!(
        crc32(&blob[..blob.len() - 4]),
        golden.blob_crc32,
        "{} changed since pipeline.json was made: rerun tests/generators/gen_quant_goldens.py \
         and review the diff",
        golden.blob
    );
    (golden, blob)
}

fn read_pcm(name: &str) -> Vec<i16> {
    let bytes = std::fs::read(dir().join(name)).expect("golden PCM");
    bytes
        .chunks_exact(2)
        .map(|b| i16::from_le_bytes([b[0], b[1]]))
        .collect()
}

fn read_features(name: &str) -> Vec<FeatureFrame> {
    let bytes = std::fs::read(dir().join(name)).expect("golden features");
    assert_eq!(bytes.len() % (4 * N_FEATURES), 0);
    bytes
        .chunks_exact(4 * N_FEATURES)
        .map(|f| {
            core::array::from_fn(|j| f32::from_le_bytes(f[4 * j..4 * j + 4].try_into().unwrap()))
        })
        .collect()
}

#[test]
fn frontend_features_are_bit_exact_in_blocks_of_any_size() {
    let (g, _) = golden();
    for s in &g.signals {
        let pcm = read_pcm(&s.pcm);
        let want = read_features(&s.features);
        assert_eq!(want.len(), s.frames);
        for block in [1, 100, 256, 512, 4096, pcm.len()] {
            let mut frontend = Box::new(Frontend::new());
            let mut got = Vec::new();
            for chunk in pcm.chunks(block) {
                frontend.push(chunk, |f| got.push(*f));
            }
            assert_eq!(got.len(), want.len(), "{}: frames", s.name);
            for (t, (a, b)) in got.iter().zip(&want).enumerate() {
                let (a, b) = (a.map(f32::to_bits), b.map(f32::to_bits));
                assert_eq!(a, b, "{}: frame {t} (block {block})", s.name);
            }
        }
    }
}

#[test]
fn window_logits_of_the_shipped_weights_are_exact() {
    let (g, blob) = golden();
    let m = Model::parse(&blob).expect("shipped weights parse");
    for s in &g.signals {
        let frames = read_features(&s.features);
        let mut engine = Box::new(QuantEngine::new());
        let mut got = Vec::new();
        for window in frames.chunks_exact(WINDOW_FRAMES) {
            engine.reset();
            for frame in window {
                engine.step(&m, &m.quantize_input(frame));
            }
            got.push(engine.window_logits(&m));
        }
        assert_eq!(got.len(), s.windows.len(), "{}: windows", s.name);
        for (logits, w) in got.iter().zip(&s.windows) {
            assert_eq!(&logits[..], &w.logits[..], "{} window {}", s.name, w.index);
            assert_eq!(m.label(w.top1), w.label);
        }
    }
}
