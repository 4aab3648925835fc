//! The per-bin error model of the f32 STFT that the frontend tolerances are built on
//! (`frontend_golden::{fft_abs_err, FFT_REL}`), checked against an f64 DFT of the same
//! windowed i16 frames: noise, loud and quiet tones, harmonics over noise, full-scale squares;
//! and the FFT's compile-time cosine table against f64 `cos`.

use std::f64::consts::PI;

use genre_core::config::{N_BINS, N_FFT, SAMPLE_RATE_HZ};
use genre_core::fft::COS;
use genre_core::stft::power_spectrum;
use tinygenre_tests::frontend_golden::{fft_abs_err, FFT_REL};

/// Frame `i` of the test set (deterministic; `rnd` is an LCG).
fn frame(i: usize, rnd: &mut impl FnMut() -> u32) -> [i16; N_FFT] {
    let f0 = 20.0 + f64::from(rnd() % 7900) + f64::from(rnd() % 1000) / 1000.0;
    core::array::from_fn(|n| {
        let t = n as f64 / f64::from(SAMPLE_RATE_HZ);
        let noise = f64::from((rnd() >> 16) as u16 as i16);
        let tone = |a: f64, f: f64| a * (2.0 * PI * f * t).sin();
        let x = match i % 5 {
            0 => noise,
            1 => tone(32000.0, f0),
            2 => tone(320.0, f0),
            3 => {
                (1..6)
                    .map(|h| tone(6000.0 / f64::from(h), f0 / 3.0 * f64::from(h)))
                    .sum::<f64>()
                    + noise / 300.0
            }
            _ => {
                if (n as f64 * f0 / f64::from(SAMPLE_RATE_HZ)) as i64 % 2 == 0 {
                    32767.0
                } else {
                    -32768.0
                }
            }
        };
        x.round().clamp(-32768.0, 32767.0) as i16
    })
}

#[test]
fn stft_error_stays_within_the_tolerance_model() {
    let mut state = 1u32;
    let mut rnd = move || {
        state = state.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
        state
    };
    let twiddle: Vec<(f64, f64)> = (0..N_FFT)
        .map(|i| (-2.0 * PI * i as f64 / N_FFT as f64).sin_cos())
        .collect();
    let window: Vec<f64> = (0..N_FFT)
        .map(|n| 0.5 - 0.5 * (2.0 * PI * n as f64 / N_FFT as f64).cos())
        .collect();
    let (mut scratch, mut power) = ([0.0f32; N_FFT], [0.0f32; N_BINS]);
    let mut worst = 0.0f64;
    for i in 0..1000 {
        let pcm = frame(i, &mut rnd);
        let (halves, []) = pcm.as_chunks::<{ N_FFT / 2 }>() else {
            unreachable!("N_FFT is even")
        };
        power_spectrum([&halves[0], &halves[1]], &mut scratch, &mut power);
        let x: Vec<f64> = pcm
            .iter()
            .zip(&window)
            .map(|(&s, w)| f64::from(s) / 32768.0 * w)
            .collect();
        let l2 = x.iter().map(|v| v * v).sum::<f64>().sqrt();
        for (k, &p) in power.iter().enumerate() {
            let (mut re, mut im) = (0.0, 0.0);
            for (n, &v) in x.iter().enumerate() {
                let (s, c) = twiddle[k * n % N_FFT];
                re += v * c;
                im += v * s;
            }
            let reference = re.hypot(im);
            let err = (f64::from(p).sqrt() - reference).abs();
            let ratio = err / (fft_abs_err(l2) + FFT_REL * reference);
            worst = worst.max(ratio);
            assert!(
                ratio <= 1.0,
                "frame {i} bin {k}: |X| {reference:e}, error {err:e}"
            );
        }
    }
    eprintln!("largest |X| error / its bound: {worst:.3}");
}

#[test]
fn cosine_table_is_f64_cos_rounded_to_f32() {
    let angle = |j: usize| 2.0 * PI * j as f64 / N_FFT as f64;
    for (j, &c) in COS.iter().enumerate() {
        // cos(x) = sin(π/2 - x): f64 `cos` near π/2 is off by 6e-17 there (π/2 rounded).
        let exact = if 2 * j <= N_FFT / 4 {
            angle(j).cos()
        } else {
            angle(N_FFT / 4 - j).sin()
        };
        assert_eq!(c, exact as f32, "COS[{j}]");
    }
}
