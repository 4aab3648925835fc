//! Cost of one `step` (one hop's frame through both LSTM layers) for the f32 reference
//! ([`FloatEngine`]) and the integer engine ([`QuantEngine`]), on a seeded random model.
//! Run: `cargo bench -p genre-core --features std --bench engine`.

use criterion::{black_box, Criterion};
use genre_core::config::{FeatureFrame, HIDDEN, N_FEATURES, N_GENRES};
use genre_core::format::Model;
use genre_core::lstm::{FloatEngine, FloatModel, TorchParams, GATES};
use genre_core::quant::{prepare, Calibration, QuantEngine};
use std::time::Instant;

/// Deterministic uniform values in ±`range` (64-bit LCG, top bits).
struct Lcg(u64);
impl Lcg {
    fn next(&mut self, range: f32) -> f32 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        ((self.0 >> 40) as f32 / (1u64 << 24) as f32 * 2.0 - 1.0) * range
    }
    fn vec(&mut self, n: usize, range: f32) -> Vec<f32> {
        (0..n).map(|_| self.next(range)).collect()
    }
}

fn frames(rng: &mut Lcg, n: usize) -> Vec<FeatureFrame> {
    (0..n)
        .map(|_| core::array::from_fn(|_| rng.next(2.0)))
        .collect()
}

fn main() {
    let mut rng = Lcg(7);
    let w: Vec<Vec<f32>> = vec![
        rng.vec(GATES * N_FEATURES, 0.3),
        rng.vec(GATES * HIDDEN, 0.3),
        rng.vec(GATES * HIDDEN, 0.3),
        rng.vec(GATES * HIDDEN, 0.3),
    ];
    let b: Vec<Vec<f32>> = (0..4).map(|_| rng.vec(GATES, 0.3)).collect();
    let head_w = rng.vec(N_GENRES * HIDDEN, 0.4);
    let head_b = rng.vec(N_GENRES, 0.2);
    let std = vec![1.0; N_FEATURES];
    let mean = vec![0.0; N_FEATURES];
    let fm = Box::new(
        FloatModel::from_pytorch(&TorchParams {
            norm_mean: &mean,
            norm_std: &std,
            w_ih: [&w[0], &w[2]],
            w_hh: [&w[1], &w[3]],
            b_ih: [&b[0], &b[2]],
            b_hh: [&b[1], &b[3]],
            head_w: &head_w,
            head_b: &head_b,
        })
        .expect("model shapes"),
    );
    let input = frames(&mut rng, 256);
    let mut fe = FloatEngine::new();
    let mut cal = Calibration::new();
    for f in &input {
        fe.step(&fm, f);
        cal.observe(&fe);
    }
    let labels = ["a", "b", "c", "d", "e", "f", "g", "h", "i", "j"];
    let blob = prepare(&fm, &cal, &labels).expect("prepare");
    let model = Model::parse(&blob).expect("parse");
    let qin: Vec<[i8; N_FEATURES]> = input.iter().map(|f| model.quantize_input(f)).collect();

    let mut c = Criterion::default().configure_from_args();
    let mut i = 0;
    c.bench_function("float_step", |bch| {
        bch.iter(|| {
            fe.step(&fm, black_box(&input[i % input.len()]));
            i += 1;
        });
    });
    let mut qe = QuantEngine::new();
    c.bench_function("quant_step", |bch| {
        bch.iter(|| {
            qe.step(&model, black_box(&qin[i % qin.len()]));
            i += 1;
        });
    });
    c.bench_function("quantize_input", |bch| {
        bch.iter(|| model.quantize_input(black_box(&input[i % input.len()])));
    });
    c.final_summary();

    // Ratio in this run, from a plain timed loop over the same frames.
    let n = 20_000;
    let t = Instant::now();
    for k in 0..n {
        fe.step(&fm, black_box(&input[k % input.len()]));
    }
    let float_ns = t.elapsed().as_nanos() as f64 / n as f64;
    let t = Instant::now();
    for k in 0..n {
        qe.step(&model, black_box(&qin[k % qin.len()]));
    }
    let quant_ns = t.elapsed().as_nanos() as f64 / n as f64;
    println!(
        "step: float {float_ns:.0} ns, quant {quant_ns:.0} ns, quant/float {:.2}",
        quant_ns / float_ns
    );
    black_box((fe.logits(&fm), qe.logits(&model)));
}
