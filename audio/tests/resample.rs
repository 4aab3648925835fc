//! The resampler on synthetic signals: frequency, amplitude, timing, band-limiting, length.

mod common;

use common::rms;
use genre_audio::{resample_to_16k, AudioError};
use std::f64::consts::PI;

/// `seconds` of `amp * sin(2 pi f t)` sampled at `rate` Hz, starting at t = 0.
fn sine(f: f64, amp: f64, rate: u32, seconds: f64) -> Vec<f32> {
    let n = (seconds * f64::from(rate)).round() as usize;
    (0..n)
        .map(|i| (amp * (2.0 * PI * f * i as f64 / f64::from(rate)).sin()) as f32)
        .collect()
}

/// Samples excluded at each end, where the filter sees the signal's abrupt start or end:
/// 256 taps at up to 48 kHz span under 128 output samples each side; 300 leaves a margin.
const EDGE: usize = 300;

/// Resamples a sine of `f` Hz from `rate` and returns (gain in dB, RMS error against the ideal
/// 16 kHz sine in dB relative to its RMS, largest absolute error), over the interior.
fn sine_through(f: f64, rate: u32) -> (f64, f64, f64) {
    let x = sine(f, 0.5, rate, 2.0);
    let y = resample_to_16k(&x, rate).expect("resample");
    assert_eq!(y.len(), 32_000, "2 s at 16 kHz");
    let ideal = sine(f, 0.5, 16_000, 2.0);
    let (y, ideal) = (&y[EDGE..y.len() - EDGE], &ideal[EDGE..ideal.len() - EDGE]);
    let err: Vec<f32> = y.iter().zip(ideal).map(|(a, b)| a - b).collect();
    let max_err = err.iter().fold(0.0f64, |m, &e| m.max(f64::from(e.abs())));
    (
        20.0 * (rms(y) / rms(ideal)).log10(),
        20.0 * (rms(&err) / rms(ideal)).log10(),
        max_err,
    )
}

#[test]
fn sine_keeps_frequency_amplitude_and_timing() {
    // Comparing sample by sample with the ideal 16 kHz sine checks frequency (a 0.01 Hz error
    // drifts up to 0.13 rad over 2 s: about -23 dB), amplitude and the exact removal of the filter delay (a
    // timing error of 0.001 sample at 5 kHz alone gives -54 dB) at once. Measured: -100 to
    // -134 dB on the polyphase path, -92 dB worst on the cubic fallback (44 101 Hz, 5 kHz),
    // i.e. f32 rounding; gains within 0.0001 dB.
    for (f, rate) in [
        (1000.0, 22_050),
        (1000.0, 44_100),
        (1000.0, 48_000),
        (1000.0, 8_000),
        (1000.0, 11_025),
        (5000.0, 22_050),
        // 16000 / gcd = 16000 phases: the cubic-interpolated fallback.
        (1000.0, 44_101),
        (5000.0, 44_101),
    ] {
        let (gain_db, err_db, max_err) = sine_through(f, rate);
        println!(
            "{f} Hz from {rate} Hz: gain {gain_db:.4} dB, error {err_db:.1} dB, max {max_err:.2e}"
        );
        // 0.01 dB: far below any audible or feature-relevant change; measured < 0.001 dB.
        assert!(
            gain_db.abs() < 0.01,
            "{f} Hz from {rate} Hz: gain {gain_db} dB"
        );
        // -40 dB (1 % of the signal): leaves 5 dB to the worst measured case.
        assert!(err_db < -40.0, "{f} Hz from {rate} Hz: error {err_db} dB");
        // Largest single-sample error under 1 % of the 0.5 amplitude: a glitch at a chunk
        // boundary (4096 input frames) would show here, the RMS would hide it.
        assert!(
            max_err < 0.005,
            "{f} Hz from {rate} Hz: max error {max_err}"
        );
    }
}

#[test]
fn passband_is_flat_up_to_7_khz() {
    // The 7 kHz passband edge loses 0.12 dB (measured); 0.5 dB bounds it with margin while
    // still failing for a filter whose cutoff slipped down toward 6 kHz.
    let (gain_db, _, _) = sine_through(7000.0, 44_100);
    println!("7 kHz from 44.1 kHz: gain {gain_db:.3} dB");
    assert!(gain_db > -0.5, "7 kHz gain {gain_db} dB");
}

#[test]
fn tones_above_8_khz_are_removed() {
    // Without band-limiting, 10 kHz sampled at 16 kHz aliases to 6 kHz at full level. The
    // Blackman-Harris² sinc attenuates it by 138-144 dB (measured, f32 arithmetic); requiring
    // 100 dB puts the alias below one LSB of the i16 output (-96 dB) even at full scale.
    for rate in [22_050, 44_100, 48_000] {
        let x = sine(10_000.0, 0.5, rate, 1.0);
        let y = resample_to_16k(&x, rate).expect("resample");
        let inner = &y[EDGE..y.len() - EDGE];
        let attenuation_db = 20.0 * (rms(&x) / rms(inner)).log10();
        println!("10 kHz from {rate} Hz: attenuated {attenuation_db:.1} dB");
        assert!(
            attenuation_db > 100.0,
            "{rate} Hz: only {attenuation_db} dB"
        );
    }
}

#[test]
fn output_length_is_ceil_of_scaled_input() {
    for rate in [8_000u32, 11_025, 22_050, 44_100, 48_000, 96_000] {
        for len in [1usize, 7, 1000, 4096, 4097, 22_051] {
            let y = resample_to_16k(&vec![0.25; len], rate).expect("resample");
            let expected = (len as u64 * 16_000).div_ceil(u64::from(rate)) as usize;
            assert_eq!(y.len(), expected, "{len} samples at {rate} Hz");
        }
    }
    assert!(resample_to_16k(&[], 44_100).expect("empty").is_empty());
}

#[test]
fn sixteen_khz_input_is_returned_unchanged() {
    let x = sine(440.0, 0.3, 16_000, 0.1);
    assert_eq!(resample_to_16k(&x, 16_000).expect("identity"), x);
}

#[test]
fn out_of_range_rates_are_typed_errors() {
    for hz in [0, 1, 3_999, 384_001, u32::MAX] {
        match resample_to_16k(&[0.0; 10], hz) {
            Err(AudioError::InvalidSampleRate {
                path: None,
                hz: got,
            }) => assert_eq!(got, hz),
            other => panic!("{hz} Hz: expected InvalidSampleRate, got {other:?}"),
        }
    }
    // Both ends of the accepted range work.
    assert_eq!(resample_to_16k(&[0.0; 4], 4_000).expect("4 kHz").len(), 16);
    assert_eq!(
        resample_to_16k(&[0.0; 48], 384_000).expect("384 kHz").len(),
        2
    );
}

#[test]
fn to_i16_rounds_half_away_from_zero_and_saturates_as_round() {
    // Every kind of value: halves, near-halves, the rails and beyond, NaN, infinities, and
    // a sweep of random bit patterns in [-2, 2].
    let mut x: Vec<f32> = vec![
        0.0,
        -0.0,
        0.5 / 32_768.0,
        -0.5 / 32_768.0,
        1.5 / 32_768.0,
        -1.5 / 32_768.0,
        2.5 / 32_768.0,
        -2.5 / 32_768.0,
        1.0,
        -1.0,
        32_767.5 / 32_768.0,
        -32_768.5 / 32_768.0,
        2.0,
        -2.0,
        1e30,
        -1e30,
        f32::INFINITY,
        f32::NEG_INFINITY,
        f32::NAN,
        f32::MIN_POSITIVE,
    ];
    let below_half = f32::from_bits(0.5f32.to_bits() - 1) / 32_768.0;
    x.extend([below_half, -below_half]);
    let mut state = 0x2026_1234u32;
    for _ in 0..200_000 {
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        let v = f32::from_bits(state);
        if v.is_finite() && v.abs() <= 2.0 {
            x.push(v);
        }
        x.push((state % 131_072) as f32 / 32_768.0 - 2.0 + 0.5 / 32_768.0);
    }
    let expected: Vec<i16> = x.iter().map(|&v| (v * 32_768.0).round() as i16).collect();
    assert_eq!(genre_audio::to_i16(&x), expected);
}
