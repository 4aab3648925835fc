//! Per-frame cost of the streaming frontend: push exactly one hop of audio (one frame out).
//!
//! `cargo bench -p genre-core --bench frontend`

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use genre_core::config::{FeatureFrame, HOP, N_FEATURES};
use genre_core::Frontend;

/// Deterministic broadband test audio (an LCG; the frontend's cost does not depend on it).
fn noise(n: usize) -> Vec<i16> {
    let mut state = 0x1234_5678u32;
    (0..n)
        .map(|_| {
            state = state.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            (state >> 16) as i16 / 4
        })
        .collect()
}

fn per_frame(c: &mut Criterion) {
    let audio = noise(HOP * 64);
    let mut frontend = Frontend::new();
    // Fill the first frame so every push below completes exactly one frame.
    frontend.push(&audio[..HOP], |_| {});
    let mut hops = audio.chunks_exact(HOP).cycle();
    let mut last: FeatureFrame = [0.0; N_FEATURES];
    c.bench_function("frontend: push one hop (512 samples) -> 1 frame", |b| {
        b.iter(|| {
            let hop = hops.next().unwrap_or(&audio[..HOP]);
            frontend.push(black_box(hop), |f| last = *f);
        });
    });
    black_box(last);
}

criterion_group!(benches, per_frame);
criterion_main!(benches);
