//! PCM to window logits through the shared streaming classifier (`genre_core::stream`), exact:
//! three synthesised signals (one of them silence) (`tests/golden/quant/*.pcm`) through
//! genre-core's frontend (its f32 features pinned bit for bit in `*.features.f32`) and the
//! integer engine with the shipped weights, against `pipeline.json`, which
//! `tests/generators/gen_quant_goldens.py` computes with its independent reference of the
//! quantisation, the engine and the window rule.

use std::path::PathBuf;

use genre_core::config::{FeatureFrame, N_FEATURES};
use genre_core::format::{crc32, Model};
use genre_core::frontend::Frontend;
use genre_core::stream::{argmax, Heard, Stream, WindowRule};
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
    heard: String,
    running: Running,
}

#[derive(Deserialize)]
struct Running {
    genre: Option<usize>,
    label: String,
    windows: u8,
    mean_logits: Vec<i32>,
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
fn model_features_are_bit_exact_in_blocks_of_any_size() {
    let (g, _) = golden();
    for s in &g.signals {
        let pcm = read_pcm(&s.pcm);
        let want = read_features(&s.features);
        assert_eq!(want.len(), s.frames);
        for block in [1, 100, 256, 512, 4096, pcm.len()] {
            let mut frontend = Box::new(Frontend::for_model());
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
fn stream_windows_of_the_shipped_weights_are_exact_in_blocks_of_any_size() {
    let (g, blob) = golden();
    let m = Model::parse(&blob).expect("shipped weights parse");
    for s in &g.signals {
        let pcm = read_pcm(&s.pcm);
        for block in [1, 100, 256, 512, 4096, pcm.len()] {
            let mut stream = Box::new(Stream::new());
            let mut got = Vec::new();
            for chunk in pcm.chunks(block) {
                stream.push(&m, chunk, &(), |w, r| got.push((*w, *r)));
            }
            assert_eq!(got.len(), s.windows.len(), "{}: windows", s.name);
            for ((w, r), want) in got.iter().zip(&s.windows) {
                let at = format!("{} window {} (block {block})", s.name, want.index);
                assert_eq!(w.index, want.index, "{at}");
                assert_eq!(&w.logits[..], &want.logits[..], "{at}");
                assert_eq!(w.top1, want.top1, "{at}");
                assert_eq!(w.heard.name(), want.heard, "{at}");
                let logits: Vec<String> = want.logits.iter().map(i32::to_string).collect();
                let label = if want.heard == "music" {
                    &want.label
                } else {
                    &want.heard
                };
                let line = format!("window {} {label} {}", want.index, logits.join(" "));
                assert_eq!(w.line(&m).to_string(), line, "{at}");
                let run = &want.running;
                assert_eq!(
                    (r.index, r.genre, r.windows),
                    (want.index, run.genre, run.windows),
                    "{at}: running"
                );
                assert_eq!(&r.mean_logits[..], &run.mean_logits[..], "{at}: running");
                let means: Vec<String> = run.mean_logits.iter().map(i32::to_string).collect();
                let line = format!(
                    "running {} {} {}/10 {}",
                    want.index,
                    run.label,
                    run.windows,
                    means.join(" ")
                );
                assert_eq!(r.line(&m).to_string(), line, "{at}");
            }
            if s.name == "hush" {
                // Silence: no window is music, and the decision shows no genre.
                assert!(got.iter().all(|(w, _)| w.heard == Heard::Silence));
                assert!(got.iter().all(|(_, r)| r.genre.is_none()));
            } else {
                assert!(got.iter().all(|(w, _)| w.heard != Heard::Silence));
            }
            let costs = stream.costs();
            assert_eq!(costs.frames as usize, s.frames);
            assert_eq!(
                costs.frontend_block.count as usize,
                pcm.len().div_ceil(block)
            );
            assert_eq!(costs.window_end.count as usize, s.windows.len());
        }
    }
}

#[test]
fn level_then_window_rule_on_the_golden_features_gives_the_same_windows() {
    let (g, blob) = golden();
    let m = Model::parse(&blob).expect("shipped weights parse");
    for s in &g.signals {
        let mut rule = Box::new(WindowRule::new());
        // The stream makes c0…c12 relative before the window rule sees a frame.
        let mut frames = read_features(&s.features);
        genre_core::level::apply_to_stream(&mut frames);
        let got: Vec<_> = frames
            .iter()
            .filter_map(|f| rule.push_frame(&m, f))
            .collect();
        let want: Vec<_> = s
            .windows
            .iter()
            .map(|w| (w.index, w.top1, w.logits.clone()))
            .collect();
        let got: Vec<_> = got
            .iter()
            .map(|w| (w.index, w.top1, w.logits.to_vec()))
            .collect();
        assert_eq!(got, want, "{}", s.name);
    }
}

#[test]
fn reset_starts_a_new_stream() {
    let (g, blob) = golden();
    let m = Model::parse(&blob).expect("shipped weights parse");
    let pcm = read_pcm(&g.signals[0].pcm);
    let mut stream = Box::new(Stream::new());
    let mut first = Vec::new();
    stream.push(&m, &pcm, &(), |w, r| first.push((*w, *r)));
    stream.reset();
    let mut second = Vec::new();
    stream.push(&m, &pcm, &(), |w, r| second.push((*w, *r)));
    assert_eq!(first, second);
    assert_eq!(stream.costs().window_end.count as usize, first.len());
}

#[test]
fn top1_is_the_first_largest_logit() {
    assert_eq!(argmax(&[1, 7, 7, -3, 0, 0, 0, 0, 0, 7]), 1);
    assert_eq!(argmax(&[-5, -9, -9, -9, -9, -9, -9, -9, -9, -9]), 0);
    assert_eq!(argmax(&[0, 0, 0, 0, 0, 0, 0, 0, 0, 1]), 9);
}

#[test]
fn a_stationary_channel_leaves_the_model_input_almost_unchanged() {
    // A fixed loudspeaker or microphone response adds a constant to each MFCC: c1…c12
    // relative to their running means (a plain mean from the first frame) cancel it from the
    // first frame on; c0 and the other features are not touched by this step.
    let (g, _) = golden();
    for s in &g.signals {
        let mut frames = read_features(&s.features);
        let mut coloured = frames.clone();
        for f in &mut coloured {
            for (k, c) in f[1..13].iter_mut().enumerate() {
                *c += 20.0 - 3.5 * k as f32;
            }
        }
        genre_core::level::apply_to_stream(&mut frames);
        genre_core::level::apply_to_stream(&mut coloured);
        for (a, b) in frames.iter().zip(&coloured) {
            assert_eq!(a[0], b[0]);
            for (k, (x, y)) in a[1..13].iter().zip(&b[1..13]).enumerate() {
                assert!((x - y).abs() < 1e-3, "{}: c{} {x} vs {y}", s.name, k + 1);
            }
            assert_eq!(a[13..], b[13..]);
        }
    }
}

#[test]
fn a_gain_leaves_the_relative_level_almost_unchanged() {
    // c0 relative to its running mean: a gain adds a constant to c0, which cancels.
    let (g, _) = golden();
    let mut frames = read_features(&g.signals[0].features);
    let mut louder = frames.clone();
    for f in &mut louder {
        f[0] += 123.0;
    }
    genre_core::level::apply_to_stream(&mut frames);
    genre_core::level::apply_to_stream(&mut louder);
    for (a, b) in frames.iter().zip(&louder) {
        assert!((a[0] - b[0]).abs() < 1e-3, "{} vs {}", a[0], b[0]);
        assert_eq!(a[1..], b[1..]);
    }
}
