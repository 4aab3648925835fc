//! Per-frame cost of the streaming frontend: push exactly one hop of audio (one frame out),
//! and the cost of each stage of that frame.
//!
//! `cargo bench -p genre-core --bench frontend`

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use genre_core::config::{FeatureFrame, HOP, N_BINS, N_CHROMA, N_FEATURES, N_FFT, N_MELS, N_MFCC};
use genre_core::contrast::N_CONTRAST;
use genre_core::{centroid, chroma, contrast, mel, mfcc, stft, Frontend};

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

fn stages(c: &mut Criterion) {
    let frame: [i16; N_FFT] = core::array::from_fn(|i| noise(N_FFT)[i]);
    let mut scratch = [0.0f32; N_FFT];
    let mut power = [0.0f32; N_BINS];
    let mut magnitude = [0.0f32; N_BINS];
    let (halves, []) = frame.as_chunks::<{ N_FFT / 2 }>() else {
        unreachable!("N_FFT is even")
    };
    let halves = [&halves[0], &halves[1]];
    stft::power_spectrum(halves, &mut scratch, &mut power);
    magnitude.copy_from_slice(&power);
    stft::power_to_magnitude(&mut magnitude);

    c.bench_function("stage: window + real FFT + |X|^2", |b| {
        b.iter(|| stft::power_spectrum(black_box(halves), &mut scratch, &mut power));
    });
    c.bench_function("stage: magnitude (513 sqrt)", |b| {
        b.iter(|| {
            let mut spectrum = black_box(power);
            stft::power_to_magnitude(&mut spectrum);
            black_box(spectrum)
        });
    });
    c.bench_function("stage: mel + dB + MFCC", |b| {
        let (mut bands, mut coefficients) = ([0.0f32; N_MELS], [0.0f32; N_MFCC]);
        b.iter(|| {
            mel::mel_power(black_box(&power), &mut bands);
            mfcc::mfcc(&mut bands, &mut coefficients);
            black_box(coefficients)
        });
    });
    c.bench_function("stage: centroid", |b| {
        b.iter(|| centroid::spectral_centroid(black_box(&magnitude), 0.0));
    });
    c.bench_function("stage: chroma", |b| {
        let mut classes = [0.0f32; N_CHROMA];
        b.iter(|| {
            chroma::chroma(black_box(&power), 0.0, &mut classes);
            black_box(classes)
        });
    });
    c.bench_function("stage: contrast", |b| {
        let mut out = [0.0f32; N_CONTRAST];
        b.iter(|| {
            contrast::spectral_contrast(black_box(&magnitude), 0.0, &mut out);
            black_box(out)
        });
    });
}

criterion_group!(benches, per_frame, stages);
criterion_main!(benches);
