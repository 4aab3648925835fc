//! Writes `tests/golden/lstm/`: a seeded random 2-layer LSTM(33 → 64) + linear head, seeded
//! feature sequences, and what libtorch computes for them (`at::lstm`, `at::lstm_cell`,
//! `at::linear`, `sigmoid`/`tanh`). The genre-core f32 engine is tested against these.
//!
//! Usage (after `scripts/setup-python`, which links `target/libtorch`):
//! `LD_LIBRARY_PATH=target/libtorch/lib cargo run -p torch-goldens [-- OUT_DIR]`.
//! Layout of the files: `tests/golden/lstm/README.md`.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use tch::{Device, Kind, Tensor};

/// Must match `genre_core::config` (checked by the tests reading the files).
const N_FEATURES: i64 = 33;
const HIDDEN: i64 = 64;
const N_GENRES: i64 = 10;
/// Sequences and steps per sequence.
const SEQS: i64 = 3;
const STEPS: i64 = 240;
/// Steps of sequence 0 whose per-layer gates, h and c are written.
const TRACE_STEPS: i64 = 16;
/// Weights are uniform in ±WEIGHT_RANGE: wider than PyTorch's default ±1/8 for HIDDEN = 64,
/// so that gates saturate as in a trained model.
const WEIGHT_RANGE: f64 = 0.3;
const SEED: i64 = 20_251_125;

const OPTS: (Kind, Device) = (Kind::Float, Device::Cpu);

fn uniform(shape: &[i64], range: f64) -> Tensor {
    Tensor::rand(shape, OPTS) * (2.0 * range) - range
}

/// Appends a tensor's values, row-major, as little-endian f32.
fn put(out: &mut Vec<u8>, t: &Tensor) {
    let v: Vec<f32> = Vec::try_from(t.contiguous().view(-1)).expect("f32 tensor");
    for x in v {
        out.extend_from_slice(&x.to_le_bytes());
    }
}

fn save(dir: &Path, name: &str, bytes: &[u8]) {
    let path = dir.join(name);
    let mut f = fs::File::create(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    f.write_all(bytes).expect("write golden");
    println!("wrote {} ({} bytes)", path.display(), bytes.len());
}

fn main() {
    let dir: PathBuf = std::env::args_os()
        .nth(1)
        .map_or_else(|| PathBuf::from("tests/golden/lstm"), PathBuf::from);
    fs::create_dir_all(&dir).expect("output directory");
    tch::manual_seed(SEED);
    let _guard = tch::no_grad_guard();
    let g = 4 * HIDDEN;

    let mean = Tensor::randn([N_FEATURES], OPTS) * 3.0;
    let std = Tensor::rand([N_FEATURES], OPTS) * 2.0 + 0.5;
    let mut params = Vec::new();
    for input in [N_FEATURES, HIDDEN] {
        params.push(uniform(&[g, input], WEIGHT_RANGE)); // weight_ih
        params.push(uniform(&[g, HIDDEN], WEIGHT_RANGE)); // weight_hh
        params.push(uniform(&[g], WEIGHT_RANGE)); // bias_ih
        params.push(uniform(&[g], WEIGHT_RANGE)); // bias_hh
    }
    let head_w = uniform(&[N_GENRES, HIDDEN], 0.4);
    let head_b = uniform(&[N_GENRES], 0.2);

    // Features: mean + std · (AR(1) process + white noise), [SEQS, STEPS, N_FEATURES].
    let mut z = Tensor::zeros([SEQS, N_FEATURES], OPTS);
    let mut frames = Vec::new();
    for _ in 0..STEPS {
        z = &z * 0.9 + Tensor::randn([SEQS, N_FEATURES], OPTS) * 0.45;
        frames.push(&mean + &std * (&z + Tensor::randn([SEQS, N_FEATURES], OPTS) * 0.3));
    }
    let inputs = Tensor::stack(&frames, 1);
    let normed = (&inputs - &mean) / &std;

    // Whole sequences through at::lstm (batch_first), then the head at every step.
    let h0 = Tensor::zeros([2, SEQS, HIDDEN], OPTS);
    let c0 = Tensor::zeros([2, SEQS, HIDDEN], OPTS);
    let (out, _, _) = normed.lstm(&[h0, c0], &params, true, 2, 0.0, false, false, true);
    let logits = out.linear(&head_w, Some(&head_b));

    // Step by step for sequence 0 with at::lstm_cell; gates from the textbook formula.
    let mut trace = Vec::new();
    let mut state: Vec<(Tensor, Tensor)> = (0..2)
        .map(|_| {
            (
                Tensor::zeros([1, HIDDEN], OPTS),
                Tensor::zeros([1, HIDDEN], OPTS),
            )
        })
        .collect();
    let mut max_dev = 0.0f64;
    for t in 0..TRACE_STEPS {
        let mut x = normed.get(0).get(t).unsqueeze(0);
        for (l, (h, c)) in state.iter_mut().enumerate() {
            let p = &params[4 * l..4 * l + 4];
            let pre = x.matmul(&p[0].tr()) + &p[2] + h.matmul(&p[1].tr()) + &p[3];
            let ch = pre.chunk(4, 1);
            let gates = Tensor::cat(
                &[
                    ch[0].sigmoid(),
                    ch[1].sigmoid(),
                    ch[2].tanh(),
                    ch[3].sigmoid(),
                ],
                1,
            );
            let (h1, c1) = x.lstm_cell(&[&*h, &*c], &p[0], &p[1], Some(&p[2]), Some(&p[3]));
            put(&mut trace, &gates);
            put(&mut trace, &h1);
            put(&mut trace, &c1);
            *h = h1;
            *c = c1;
            x = h.shallow_clone();
        }
        let dev = (&x.squeeze() - out.get(0).get(t))
            .abs()
            .max()
            .double_value(&[]);
        max_dev = max_dev.max(dev);
    }
    println!("lstm_cell vs lstm, top hidden, max |diff| = {max_dev:e}");
    assert!(max_dev < 1e-5, "libtorch's lstm and lstm_cell disagree");

    let mut weights = Vec::new();
    put(&mut weights, &mean);
    put(&mut weights, &std);
    for p in &params {
        put(&mut weights, p);
    }
    put(&mut weights, &head_w);
    put(&mut weights, &head_b);
    let mut inp = Vec::new();
    put(&mut inp, &inputs);
    let mut lg = Vec::new();
    put(&mut lg, &logits);
    save(&dir, "weights.f32", &weights);
    save(&dir, "inputs.f32", &inp);
    save(&dir, "logits.f32", &lg);
    save(&dir, "trace.f32", &trace);
}
