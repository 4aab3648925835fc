//! The f32 reference LSTM against libtorch goldens (`tests/golden/lstm/`, written by
//! `tests/torch-goldens`): gates, cell/hidden update, one step, whole sequences, and the
//! pooled window readout (the mean of libtorch's per-step logits, the head being linear).
//!
//! Tolerance everywhere: 1e-5 absolute. Both sides compute in f32; they differ only by
//! summation order over ≤ 97-term dot products and by libm's vs. libtorch's exp/tanh (each
//! ≤ 2 ULP), i.e. a few 1e-7 on O(1) values, and the 240-step recurrence is contracting.

mod engine_support;

use engine_support::{golden_inputs, golden_model, read_f32, SEQS, STEPS, TRACE_STEPS};
use genre_core::config::{HIDDEN, N_GENRES, N_LAYERS, POOL_FROM, WINDOW_FRAMES};
use genre_core::lstm::{log_softmax, softmax, FloatEngine, GATES};

const TOL: f32 = 1e-5;

/// Per traced step and layer: gates (i, f, g, o after the nonlinearity), h, c.
const TRACE_RECORD: usize = GATES + 2 * HIDDEN;

fn max_diff(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len());
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f32::max)
}

fn trace() -> Vec<f32> {
    read_f32("trace.f32", TRACE_STEPS * N_LAYERS * TRACE_RECORD)
}

/// Gate activations of both layers, first 16 steps of sequence 0, against
/// `sigmoid`/`tanh` of libtorch's `x·W_ihᵀ + b_ih + h·W_hhᵀ + b_hh`.
#[test]
fn gates_match_libtorch() {
    let (m, inputs, trace) = (golden_model(), golden_inputs(), trace());
    let mut e = FloatEngine::new();
    let mut worst = 0.0f32;
    for (t, rec) in trace.chunks_exact(N_LAYERS * TRACE_RECORD).enumerate() {
        e.step(&m, &inputs[0][t]);
        for (l, r) in rec.chunks_exact(TRACE_RECORD).enumerate() {
            worst = worst.max(max_diff(e.gates(l), &r[..GATES]));
        }
    }
    println!("gates max |diff| = {worst:e}");
    assert!(worst <= TOL, "{worst}");
}

/// h and c of both layers against libtorch's `lstm_cell`, first 16 steps of sequence 0.
#[test]
fn cell_and_hidden_match_libtorch() {
    let (m, inputs, trace) = (golden_model(), golden_inputs(), trace());
    let mut e = FloatEngine::new();
    let (mut wh, mut wc) = (0.0f32, 0.0f32);
    for (t, rec) in trace.chunks_exact(N_LAYERS * TRACE_RECORD).enumerate() {
        e.step(&m, &inputs[0][t]);
        for (l, r) in rec.chunks_exact(TRACE_RECORD).enumerate() {
            wh = wh.max(max_diff(e.hidden(l), &r[GATES..GATES + HIDDEN]));
            wc = wc.max(max_diff(e.cell(l), &r[GATES + HIDDEN..]));
        }
    }
    println!("h max |diff| = {wh:e}, c max |diff| = {wc:e}");
    assert!(wh <= TOL && wc <= TOL, "h {wh} c {wc}");
}

/// One step from the zero state: logits of every sequence's first frame.
#[test]
fn first_step_logits_match_libtorch() {
    let (m, inputs) = (golden_model(), golden_inputs());
    let logits = read_f32("logits.f32", SEQS * STEPS * N_GENRES);
    for (s, seq) in inputs.iter().enumerate() {
        let mut e = FloatEngine::new();
        e.step(&m, &seq[0]);
        let want = &logits[s * STEPS * N_GENRES..][..N_GENRES];
        let d = max_diff(&e.logits(&m), want);
        assert!(d <= TOL, "sequence {s}: {d}");
    }
}

/// Whole 240-step sequences (libtorch `at::lstm` + `linear`): logits after every step, and
/// `reset` really returns to the zero state.
#[test]
fn sequence_logits_match_libtorch() {
    let (m, inputs) = (golden_model(), golden_inputs());
    let logits = read_f32("logits.f32", SEQS * STEPS * N_GENRES);
    let mut e = FloatEngine::new();
    let mut worst = 0.0f32;
    for (s, seq) in inputs.iter().enumerate() {
        e.reset();
        for (t, frame) in seq.iter().enumerate() {
            e.step(&m, frame);
            let want = &logits[(s * STEPS + t) * N_GENRES..][..N_GENRES];
            worst = worst.max(max_diff(&e.logits(&m), want));
        }
    }
    println!("sequence logits max |diff| = {worst:e} over {SEQS}×{STEPS} steps");
    assert!(worst <= TOL, "{worst}");
    // The spread of the golden logits shows the comparison is not trivially small.
    let spread = logits.iter().fold(0.0f32, |a, v| a.max(v.abs()));
    assert!(spread > 0.5, "golden logits too flat: {spread}");
}

/// The window readout after every step of the 240-step sequences: the head's bias before
/// step `POOL_FROM`, then the mean of libtorch's logits over steps `POOL_FROM..=t` (summed in
/// f64). The engine averages `h` in f32 instead, a few 1e-7 apart.
#[test]
fn window_logits_are_the_mean_of_libtorch_step_logits() {
    let (m, inputs) = (golden_model(), golden_inputs());
    let logits = read_f32("logits.f32", SEQS * STEPS * N_GENRES);
    let mut e = FloatEngine::new();
    let (mut worst, mut worst_at_window_end) = (0.0f32, 0.0f32);
    for (s, seq) in inputs.iter().enumerate() {
        e.reset();
        let mut sum = [0f64; N_GENRES];
        for (t, frame) in seq.iter().enumerate() {
            e.step(&m, frame);
            let got = e.window_logits(&m);
            if t < POOL_FROM {
                assert_eq!(got, m.head_b, "sequence {s} step {t}: nothing pooled yet");
                continue;
            }
            let step = &logits[(s * STEPS + t) * N_GENRES..][..N_GENRES];
            for (acc, &v) in sum.iter_mut().zip(step) {
                *acc += f64::from(v);
            }
            let n = (t + 1 - POOL_FROM) as f64;
            let want: Vec<f32> = sum.iter().map(|v| (v / n) as f32).collect();
            let d = max_diff(&got, &want);
            worst = worst.max(d);
            if t + 1 == WINDOW_FRAMES {
                worst_at_window_end = d;
            }
        }
    }
    println!("window logits max |diff| = {worst:e} (at the window end {worst_at_window_end:e})");
    assert!(worst <= TOL, "{worst}");
}

/// softmax sums to 1 and agrees with exp(log_softmax) (1e-6: a few f32 ULPs near 1).
#[test]
fn softmax_consistent() {
    let l = [3.0, -1.0, 0.5, 100.0, -100.0, 0.0, 2.0, 2.0, -3.5, 7.0];
    let p = softmax(&l);
    let lp = log_softmax(&l);
    assert!((p.iter().sum::<f32>() - 1.0).abs() < 1e-6);
    for g in 0..N_GENRES {
        assert!((p[g] - libm::expf(lp[g])).abs() < 1e-6, "{g}");
    }
}
