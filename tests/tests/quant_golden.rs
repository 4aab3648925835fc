//! The integer engine, exact, in layers (as tflite-micro tests its LSTM): one gate, one cell
//! update, one layer step, then full steps over a 100-step sequence with every state, the
//! per-step logits and the window readout. Goldens: `tests/golden/quant/engine.json`, written
//! by `tests/generators/gen_quant_goldens.py` from `quant_reference.py`, an independent
//! implementation of the engine's specification; the model is the committed random test blob
//! `test-blob.tgm`, so retraining never moves these values.

use std::path::PathBuf;

use genre_core::config::{HIDDEN, N_FEATURES, N_LAYERS};
use genre_core::fixed::TANH_TABLE;
use genre_core::format::{crc32, Model};
use genre_core::quant::{cell_update, gate, layer_step, Gate, LayerInput, QuantEngine};
use serde::Deserialize;

#[derive(Deserialize)]
struct Golden {
    blob: String,
    blob_crc32: u32,
    tanh_table: Vec<i16>,
    gates: Vec<GateCase>,
    cells: Vec<CellCase>,
    layers: Vec<LayerCase>,
    sequence: Sequence,
}

#[derive(Deserialize)]
struct GateCase {
    layer: usize,
    gate: usize,
    x: Vec<i32>,
    h: Vec<i16>,
    out: Vec<i16>,
}

#[derive(Deserialize)]
struct CellCase {
    gates: Vec<i16>,
    c: Vec<i16>,
    cell_frac_bits: u32,
    c_out: Vec<i16>,
    h_out: Vec<i16>,
}

#[derive(Deserialize)]
struct LayerCase {
    layer: usize,
    x: Vec<i32>,
    h: Vec<i16>,
    c: Vec<i16>,
    gates: Vec<i16>,
    c_out: Vec<i16>,
    h_out: Vec<i16>,
}

#[derive(Deserialize)]
struct Sequence {
    inputs: Vec<Vec<i8>>,
    steps: Vec<Step>,
}

#[derive(Deserialize)]
struct Step {
    h0: Vec<i16>,
    c0: Vec<i16>,
    h1: Vec<i16>,
    c1: Vec<i16>,
    logits: Vec<i32>,
    window_logits: Vec<i32>,
}

fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("golden/quant")
}

fn golden() -> (Golden, Vec<u8>) {
    let text = std::fs::read_to_string(dir().join("engine.json")).expect("engine.json");
    let golden: Golden = serde_json::from_str(&text).expect("engine.json parses");
    let blob = std::fs::read(dir().join(&golden.blob)).expect("the test blob");
    assert_eq!(
        crc32(&blob[..blob.len() - 4]),
        golden.blob_crc32,
        "{} is not the blob engine.json was made from: rerun tests/generators/gen_quant_goldens.py",
        golden.blob
    );
    (golden, blob)
}

fn arr<T: Copy, const N: usize>(v: &[T]) -> [T; N] {
    v.try_into()
        .expect("golden vector of the configured length")
}

/// Holds a layer's input as the engine takes it.
enum Input {
    Features([i8; N_FEATURES]),
    Hidden([i16; HIDDEN]),
}

impl Input {
    fn new(layer: usize, x: &[i32]) -> Self {
        if layer == 0 {
            Self::Features(arr(&x.iter().map(|&v| v as i8).collect::<Vec<_>>()))
        } else {
            Self::Hidden(arr(&x.iter().map(|&v| v as i16).collect::<Vec<_>>()))
        }
    }

    fn as_layer_input(&self) -> LayerInput<'_> {
        match self {
            Self::Features(x) => LayerInput::Features(x),
            Self::Hidden(h) => LayerInput::Hidden(h),
        }
    }
}

#[test]
fn tanh_table_is_the_reference_table() {
    let (g, _) = golden();
    assert_eq!(&TANH_TABLE[..], &g.tanh_table[..]);
}

#[test]
fn one_gate() {
    let (g, blob) = golden();
    let m = Model::parse(&blob).expect("test blob parses");
    let kinds = [Gate::Input, Gate::Forget, Gate::Cell, Gate::Output];
    for (n, case) in g.gates.iter().enumerate() {
        let input = Input::new(case.layer, &case.x);
        let out = gate(&m, input.as_layer_input(), &arr(&case.h), kinds[case.gate]);
        assert_eq!(
            &out[..],
            &case.out[..],
            "case {n}: layer {} gate {}",
            case.layer,
            case.gate
        );
    }
    assert_eq!(g.gates.len(), 2 * 6 * 4);
}

#[test]
fn one_cell_update() {
    let (g, _) = golden();
    for (n, case) in g.cells.iter().enumerate() {
        let mut c = arr(&case.c);
        let h = cell_update(&arr(&case.gates), &mut c, case.cell_frac_bits);
        assert_eq!(&c[..], &case.c_out[..], "case {n}: c");
        assert_eq!(&h[..], &case.h_out[..], "case {n}: h");
    }
    assert_eq!(g.cells.len(), 8);
}

#[test]
fn one_layer_step() {
    let (g, blob) = golden();
    let m = Model::parse(&blob).expect("test blob parses");
    for (n, case) in g.layers.iter().enumerate() {
        let input = Input::new(case.layer, &case.x);
        let (mut h, mut c) = (arr(&case.h), arr(&case.c));
        let gates = layer_step(&m, input.as_layer_input(), &mut h, &mut c);
        assert_eq!(&gates[..], &case.gates[..], "case {n}: gates");
        assert_eq!(&c[..], &case.c_out[..], "case {n}: c");
        assert_eq!(&h[..], &case.h_out[..], "case {n}: h");
    }
    assert_eq!(g.layers.len(), 8);
}

#[test]
fn full_steps_over_a_sequence() {
    let (g, blob) = golden();
    let m = Model::parse(&blob).expect("test blob parses");
    let mut engine = Box::new(QuantEngine::new());
    let seq = &g.sequence;
    assert_eq!(seq.inputs.len(), seq.steps.len());
    for (t, (x, want)) in seq.inputs.iter().zip(&seq.steps).enumerate() {
        engine.step(&m, &arr(x));
        let states = [(&want.h0, &want.c0), (&want.h1, &want.c1)];
        for (layer, (h, c)) in states.into_iter().enumerate().take(N_LAYERS) {
            assert_eq!(&engine.hidden(layer)[..], &h[..], "step {t}: h{layer}");
            assert_eq!(&engine.cell(layer)[..], &c[..], "step {t}: c{layer}");
        }
        assert_eq!(&engine.logits(&m)[..], &want.logits[..], "step {t}: logits");
        assert_eq!(
            &engine.window_logits(&m)[..],
            &want.window_logits[..],
            "step {t}: window readout"
        );
    }
    assert_eq!(seq.steps.len(), 100);
}
