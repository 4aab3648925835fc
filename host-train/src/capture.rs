//! Capture conditions: what happens to 16 kHz PCM between a loudspeaker and a board's
//! microphone (level and the 16-bit floor, ADC clipping, noise, a room, a small speaker's band,
//! a late start), generated deterministically in Rust.
//!
//! [`robustness_conditions`] is the fixed table `eval` scores held-out clips under;
//! [`augment`](crate::augment) draws random chains of the same stages for training.
//! Every stage runs in `f64`; [`apply`] rounds and saturates to `i16` once, at the end.

use std::cell::RefCell;
use std::sync::Arc;

use genre_core::config::SAMPLE_RATE_HZ;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use realfft::num_complex::Complex;
use realfft::{ComplexToReal, RealFftPlanner, RealToComplex};

const FS: f64 = SAMPLE_RATE_HZ as f64;
/// Quality of one 2nd-order Butterworth section.
const BUTTERWORTH_Q: f64 = core::f64::consts::FRAC_1_SQRT_2;
/// Coloured noise is white below this frequency (Hz), so no power hides below hearing.
const COLOURED_FLOOR_HZ: f64 = 20.0;
/// A room's tail starts this long after the direct path (s).
const ROOM_PRE_DELAY_S: f64 = 0.002;
/// A room's impulse response is cut at this multiple of RT60 (72 dB down)...
const ROOM_LENGTH_RT60: f64 = 1.2;
/// ...and at this length (s).
const ROOM_MAX_S: f64 = 10.0;

/// Noise spectrum.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Colour {
    /// Flat power spectral density.
    White,
    /// Power spectral density falling 3 dB per octave (white below 20 Hz).
    Pink,
    /// Power spectral density falling 6 dB per octave (white below 20 Hz): rumble, wind.
    Brown,
}

/// One capture stage, or a chain of them.
#[derive(Clone, Debug, PartialEq)]
pub enum Condition {
    /// Unchanged.
    Clean,
    /// Gain of `db` decibels, saturating at the `i16` range like an ADC.
    Level { db: f64 },
    /// Additive noise whose mean power is `snr_db` decibels below the signal's.
    Noise { colour: Colour, snr_db: f64 },
    /// Convolution with a synthetic room response: a direct path, then (after 2 ms) a noise
    /// tail decaying 60 dB in `rt60_s` seconds, `drr_db` decibels below the direct path in
    /// energy; normalised to unit energy, so the output keeps the input's level.
    Room { rt60_s: f64, drr_db: f64 },
    /// 2nd-order Butterworth high-pass at `hz`.
    HighPass { hz: f64 },
    /// 2nd-order Butterworth low-pass at `hz`.
    LowPass { hz: f64 },
    /// Peaking EQ of `gain_db` decibels at `hz`, quality 1.
    Peak { hz: f64, gain_db: f64 },
    /// Drops a prefix of uniformly 0..=`max_samples` samples (the clip entered late).
    Offset { max_samples: usize },
    /// Played `rate_hz / 16 000` times as fast: tempo and pitch both scale (a turntable's
    /// speed error, or a cover a little faster and higher). The 16 kHz signal is taken as
    /// sampled at `rate_hz` and resampled to 16 kHz with genre-audio's band-limited resampler.
    Speed { rate_hz: u32 },
    /// The stages in order.
    Chain(Vec<Condition>),
}

impl Condition {
    /// Gain of `db` decibels (see [`Condition::Level`]).
    pub fn level(db: f64) -> Self {
        Self::Level { db }
    }

    /// The filter of a filter stage.
    fn biquad(&self) -> Option<Biquad> {
        match *self {
            Self::HighPass { hz } => Some(Biquad::pass(hz, BUTTERWORTH_Q, true)),
            Self::LowPass { hz } => Some(Biquad::pass(hz, BUTTERWORTH_Q, false)),
            Self::Peak { hz, gain_db } => Some(Biquad::peak(hz, 1.0, gain_db)),
            _ => None,
        }
    }
}

/// A small speaker's band: two high-pass sections at `low_hz`, two low-pass sections at
/// `high_hz` (4th order, −6 dB at each corner).
pub fn speaker_band(low_hz: f64, high_hz: f64) -> Condition {
    Condition::Chain(vec![
        Condition::HighPass { hz: low_hz },
        Condition::HighPass { hz: low_hz },
        Condition::LowPass { hz: high_hz },
        Condition::LowPass { hz: high_hz },
    ])
}

/// The conditions `eval` scores each fold's models under, with their table/JSON keys, in
/// table order.
pub fn robustness_conditions() -> Vec<(&'static str, Condition)> {
    use Condition::*;
    let pink = |snr_db| Noise {
        colour: Colour::Pink,
        snr_db,
    };
    vec![
        ("clean", Clean),
        ("level -40 dB", Condition::level(-40.0)),
        ("level +12 dB clipped", Condition::level(12.0)),
        ("pink noise 20 dB", pink(20.0)),
        ("pink noise 10 dB", pink(10.0)),
        (
            "room RT60 0.5 s",
            Room {
                rt60_s: 0.5,
                drr_db: 0.0,
            },
        ),
        ("speaker band 250 Hz-6 kHz", speaker_band(250.0, 6000.0)),
        (
            "over the air",
            Chain(vec![
                speaker_band(180.0, 7000.0),
                Room {
                    rt60_s: 0.6,
                    drr_db: 0.0,
                },
                pink(25.0),
                HighPass { hz: 80.0 },
                Condition::level(-20.0),
            ]),
        ),
        (
            "random offset",
            Offset {
                max_samples: 15 * SAMPLE_RATE_HZ as usize,
            },
        ),
    ]
}

/// `pcm` (16 kHz) under `condition`, 16 kHz out; deterministic for a given `seed`. The length
/// is kept, except that [`Condition::Offset`] drops a prefix and [`Condition::Speed`] scales
/// it by 16 000 / `rate_hz`.
pub fn apply(pcm: &[i16], condition: &Condition, seed: u64) -> Vec<i16> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut x: Vec<f64> = pcm.iter().map(|&s| f64::from(s)).collect();
    run(condition, &mut x, &mut rng);
    x.iter()
        .map(|v| v.round().clamp(f64::from(i16::MIN), f64::from(i16::MAX)) as i16)
        .collect()
}

fn run(condition: &Condition, x: &mut Vec<f64>, rng: &mut ChaCha8Rng) {
    match condition {
        Condition::Clean => {}
        Condition::Level { db } => {
            let gain = 10f64.powf(db / 20.0);
            for v in x.iter_mut() {
                *v = (*v * gain).clamp(f64::from(i16::MIN), f64::from(i16::MAX));
            }
        }
        Condition::Noise { colour, snr_db } => add_noise(x, *colour, *snr_db, rng),
        Condition::Room { rt60_s, drr_db } => {
            let h = room_response(*rt60_s, *drr_db, rng);
            *x = convolve(x, &h);
        }
        Condition::HighPass { .. } | Condition::LowPass { .. } | Condition::Peak { .. } => {
            cascade(x, &Vec::from_iter(condition.biquad()));
        }
        Condition::Offset { max_samples } => {
            let drop = rng.random_range(0..=*max_samples).min(x.len());
            x.drain(..drop);
        }
        Condition::Speed { rate_hz } => *x = change_speed(x, *rate_hz),
        Condition::Chain(stages) => {
            // Consecutive filters run as one cascade (one pass, twice as fast as one each).
            let mut filters = Vec::new();
            for stage in stages {
                if let Some(f) = stage.biquad() {
                    filters.push(f);
                } else {
                    cascade(x, &filters);
                    filters.clear();
                    run(stage, x, rng);
                }
            }
            cascade(x, &filters);
        }
    }
}

/// `x` taken as sampled at `rate_hz`, resampled to 16 kHz.
///
/// # Panics
/// `rate_hz` outside genre-audio's accepted rates (a programming error: the rates come from
/// the augmentation recipe).
fn change_speed(x: &[f64], rate_hz: u32) -> Vec<f64> {
    // Sample values stay in the i16 range, which f32 holds to well below one LSB.
    let narrow: Vec<f32> = x.iter().map(|&v| v as f32).collect();
    genre_audio::resample_to_16k(&narrow, rate_hz)
        .expect("speed-change rate within genre-audio's range")
        .into_iter()
        .map(f64::from)
        .collect()
}

/// Runs `x` through `filters` in order, in place, from rest.
fn cascade(x: &mut [f64], filters: &[Biquad]) {
    if filters.is_empty() {
        return;
    }
    let mut z = vec![[0.0; 2]; filters.len()];
    for v in x {
        *v = filters
            .iter()
            .zip(z.iter_mut())
            .fold(*v, |s, (f, z)| f.run(s, z));
    }
}

thread_local! {
    /// FFT plans by size, kept per thread: planning 2^19 points takes ~10 ms, more than the
    /// transform.
    static PLANNER: RefCell<RealFftPlanner<f64>> = RefCell::new(RealFftPlanner::new());
}

/// Forward and inverse real FFT of `size` points.
fn plans(size: usize) -> (Arc<dyn RealToComplex<f64>>, Arc<dyn ComplexToReal<f64>>) {
    PLANNER.with_borrow_mut(|p| (p.plan_fft_forward(size), p.plan_fft_inverse(size)))
}

fn mean_power(x: &[f64]) -> f64 {
    x.iter().map(|v| v * v).sum::<f64>() / x.len().max(1) as f64
}

/// Adds `colour` noise scaled so that its mean power over `x` is `snr_db` below `x`'s.
fn add_noise(x: &mut [f64], colour: Colour, snr_db: f64, rng: &mut ChaCha8Rng) {
    let noise = match colour {
        Colour::White => (0..x.len()).map(|_| rng.random_range(-1.0..=1.0)).collect(),
        Colour::Pink => coloured_noise(x.len(), 1.0, rng),
        Colour::Brown => coloured_noise(x.len(), 2.0, rng),
    };
    let target = mean_power(x) / 10f64.powf(snr_db / 10.0);
    let power = mean_power(&noise);
    if power > 0.0 {
        let scale = (target / power).sqrt();
        for (v, n) in x.iter_mut().zip(&noise) {
            *v += n * scale;
        }
    }
}

/// `n` samples of noise whose power spectral density falls as `1/f^exponent` (any scale; 1:
/// pink, 2: brown): a random spectrum under that magnitude, one inverse FFT over the next
/// power of two, truncated.
pub fn coloured_noise(n: usize, exponent: f64, rng: &mut ChaCha8Rng) -> Vec<f64> {
    if n == 0 {
        return Vec::new();
    }
    let size = n.next_power_of_two().max(64);
    let (_, inverse) = plans(size);
    let mut spectrum = inverse.make_input_vec();
    let last = spectrum.len() - 1;
    let mut uniform = || rng.random::<f64>() * 2.0 - 1.0;
    for (k, bin) in spectrum.iter_mut().enumerate().skip(1) {
        let f = (k as f64 * FS / size as f64).max(COLOURED_FLOOR_HZ);
        let magnitude = f.powf(-0.5 * exponent);
        // Uniform real and imaginary parts: a random spectrum whose expected power is ∝ 1/f;
        // the Nyquist bin of a real signal is real.
        let im = if k == last { 0.0 } else { uniform() };
        *bin = Complex::new(uniform(), im) * magnitude;
    }
    let mut out = inverse.make_output_vec();
    if inverse.process(&mut spectrum, &mut out).is_err() {
        return vec![0.0; n];
    }
    out.truncate(n);
    out
}

/// A synthetic room's impulse response at 16 kHz (see [`Condition::Room`]); `[1.0]` for a
/// non-positive or non-finite `rt60_s`.
fn room_response(rt60_s: f64, drr_db: f64, rng: &mut ChaCha8Rng) -> Vec<f64> {
    if !(rt60_s.is_finite() && rt60_s > 0.0) {
        return vec![1.0];
    }
    let start = (ROOM_PRE_DELAY_S * FS) as usize;
    let len = ((ROOM_LENGTH_RT60 * rt60_s).min(ROOM_MAX_S) * FS) as usize;
    let len = len.max(start + 1);
    // Amplitude (and energy, in dB) falls 60 dB over rt60_s: exp(-k t) = 10^(-3 t / rt60_s).
    let k = 3.0 * core::f64::consts::LN_10 / (rt60_s * FS);
    let mut h = vec![0.0; len];
    for (n, v) in h.iter_mut().enumerate().skip(start) {
        *v = rng.random_range(-1.0..=1.0) * (-k * n as f64).exp();
    }
    let tail: f64 = h.iter().map(|v| v * v).sum();
    if tail > 0.0 {
        let tail_gain = (10f64.powf(-drr_db / 10.0) / tail).sqrt();
        h.iter_mut().for_each(|v| *v *= tail_gain);
    }
    h[0] = 1.0;
    let norm = h.iter().map(|v| v * v).sum::<f64>().sqrt();
    if norm.is_finite() && norm > 0.0 {
        h.iter_mut().for_each(|v| *v /= norm);
    }
    h
}

/// `x` convolved with `h`, truncated to `x.len()` (overlap-add FFT convolution).
fn convolve(x: &[f64], h: &[f64]) -> Vec<f64> {
    if x.is_empty() || h.is_empty() {
        return x.to_vec();
    }
    let size = (2 * h.len()).next_power_of_two().max(1024);
    let block = size - h.len() + 1;
    let (forward, inverse) = plans(size);
    let mut buf = forward.make_input_vec();
    let mut h_spec = forward.make_output_vec();
    let mut spec = forward.make_output_vec();
    let mut out_block = inverse.make_output_vec();
    buf[..h.len()].copy_from_slice(h);
    if forward.process(&mut buf, &mut h_spec).is_err() {
        return x.to_vec();
    }
    let mut y = vec![0.0; x.len()];
    for start in (0..x.len()).step_by(block) {
        let chunk = &x[start..(start + block).min(x.len())];
        buf.fill(0.0);
        buf[..chunk.len()].copy_from_slice(chunk);
        if forward.process(&mut buf, &mut spec).is_err() {
            return x.to_vec();
        }
        for (s, hs) in spec.iter_mut().zip(&h_spec) {
            *s *= hs / size as f64;
        }
        if inverse.process(&mut spec, &mut out_block).is_err() {
            return x.to_vec();
        }
        for (yv, ov) in y[start..].iter_mut().zip(&out_block) {
            *yv += ov;
        }
    }
    y
}

/// A transposed direct-form-II biquad (RBJ audio-EQ cookbook coefficients).
struct Biquad {
    b: [f64; 3],
    a: [f64; 2],
}

impl Biquad {
    fn new(b: [f64; 3], a0: f64, a: [f64; 2]) -> Self {
        Self {
            b: b.map(|v| v / a0),
            a: a.map(|v| v / a0),
        }
    }

    /// Low- or high-pass with quality `q` at `f0` Hz.
    fn pass(f0: f64, q: f64, high: bool) -> Self {
        let w0 = core::f64::consts::TAU * f0 / FS;
        let (sin, cos) = w0.sin_cos();
        let alpha = sin / (2.0 * q);
        let b = if high {
            [(1.0 + cos) / 2.0, -(1.0 + cos), (1.0 + cos) / 2.0]
        } else {
            [(1.0 - cos) / 2.0, 1.0 - cos, (1.0 - cos) / 2.0]
        };
        Self::new(b, 1.0 + alpha, [-2.0 * cos, 1.0 - alpha])
    }

    /// Peaking EQ of `gain_db` at `f0` Hz with quality `q`.
    fn peak(f0: f64, q: f64, gain_db: f64) -> Self {
        let amp = 10f64.powf(gain_db / 40.0);
        let w0 = core::f64::consts::TAU * f0 / FS;
        let (sin, cos) = w0.sin_cos();
        let alpha = sin / (2.0 * q);
        Self::new(
            [1.0 + alpha * amp, -2.0 * cos, 1.0 - alpha * amp],
            1.0 + alpha / amp,
            [-2.0 * cos, 1.0 - alpha / amp],
        )
    }

    /// One sample through the filter with state `z`.
    fn run(&self, x: f64, z: &mut [f64; 2]) -> f64 {
        let y = self.b[0] * x + z[0];
        z[0] = self.b[1] * x - self.a[0] * y + z[1];
        z[1] = self.b[2] * x - self.a[1] * y;
        y
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tone(hz: f64, amplitude: f64, n: usize) -> Vec<i16> {
        (0..n)
            .map(|i| (amplitude * (core::f64::consts::TAU * hz * i as f64 / FS).sin()) as i16)
            .collect()
    }

    /// A few partials, like music rather than a single line.
    fn chord(n: usize) -> Vec<i16> {
        let parts = [(220.0, 6000.0), (554.4, 3000.0), (1318.5, 1500.0)];
        (0..n)
            .map(|i| {
                let t = i as f64 / FS;
                let v: f64 = parts
                    .iter()
                    .map(|(hz, a)| a * (core::f64::consts::TAU * hz * t).sin())
                    .sum();
                v as i16
            })
            .collect()
    }

    fn db(power_ratio: f64) -> f64 {
        10.0 * power_ratio.log10()
    }

    fn power_i16(x: &[i16]) -> f64 {
        mean_power(&x.iter().map(|&s| f64::from(s)).collect::<Vec<_>>())
    }

    #[test]
    fn deterministic_per_seed_and_no_panic_on_short_input() {
        // Longer than the random offset's 15 s.
        let pcm = chord(20 * 16_000);
        for (name, c) in robustness_conditions() {
            let a = apply(&pcm, &c, 3);
            assert_eq!(a, apply(&pcm, &c, 3), "{name}");
            let random = name.starts_with("pink")
                || ["room RT60 0.5 s", "over the air", "random offset"].contains(&name);
            assert_eq!(random, a != apply(&pcm, &c, 4), "{name}");
            assert!(apply(&[], &c, 3).is_empty(), "{name}");
            assert!(apply(&[5], &c, 3).len() <= 1, "{name}");
        }
    }

    #[test]
    fn level_minus_40_db_is_a_rounded_division_by_100() {
        let all: Vec<i16> = (i16::MIN..=i16::MAX).collect();
        let out = apply(&all, &Condition::Level { db: -40.0 }, 0);
        for (&x, &y) in all.iter().zip(&out) {
            // Round half away from zero, in integers.
            let x = i32::from(x);
            let expected = x.signum() * ((x.abs() + 50) / 100);
            assert_eq!(i32::from(y), expected, "{x}");
        }
    }

    #[test]
    fn plus_12_db_saturates() {
        let pcm = tone(440.0, 20_000.0, 1600);
        let out = apply(&pcm, &Condition::Level { db: 12.0 }, 0);
        assert_eq!(out.iter().max(), Some(&i16::MAX));
        assert_eq!(out.iter().min(), Some(&i16::MIN));
        for (&x, &y) in pcm.iter().zip(&out) {
            let ideal = f64::from(x) * 10f64.powf(0.6);
            if ideal.abs() > 32_768.0 {
                assert_eq!(y, if x > 0 { i16::MAX } else { i16::MIN });
            } else {
                assert!((f64::from(y) - ideal).abs() <= 0.5, "{x} -> {y}");
            }
        }
    }

    #[test]
    fn noise_meets_its_snr() {
        let pcm = chord(16_000);
        for colour in [Colour::Pink, Colour::White] {
            for snr_db in [10.0, 20.0, 40.0] {
                let out = apply(&pcm, &Condition::Noise { colour, snr_db }, 9);
                let noise: Vec<f64> = out
                    .iter()
                    .zip(&pcm)
                    .map(|(&y, &x)| f64::from(y) - f64::from(x))
                    .collect();
                let measured = db(power_i16(&pcm) / mean_power(&noise));
                assert!(
                    (measured - snr_db).abs() < 0.5,
                    "{colour:?} {snr_db}: {measured}"
                );
            }
        }
    }

    #[test]
    fn pink_and_brown_noise_fall_3_and_6_db_per_octave() {
        let n = 1 << 15;
        for (exponent, per_octave) in [(1.0, 3.0), (2.0, 6.0)] {
            let noise = coloured_noise(40_000, exponent, &mut ChaCha8Rng::seed_from_u64(1));
            let (forward, _) = plans(n);
            let mut buf = noise[..n].to_vec();
            let mut spec = forward.make_output_vec();
            forward.process(&mut buf, &mut spec).unwrap();
            // Mean power per bin (a density) over [lo, hi) Hz.
            let density = |lo: f64, hi: f64| {
                let bin = |f: f64| (f * n as f64 / FS) as usize;
                let band = &spec[bin(lo)..bin(hi)];
                band.iter().map(|c| c.norm_sqr()).sum::<f64>() / band.len() as f64
            };
            let ratio = db(density(250.0, 500.0) / density(2000.0, 4000.0));
            assert!(
                (ratio - 3.0 * per_octave).abs() < 2.0,
                "{exponent}: {ratio}"
            );
            let ratio = db(density(1000.0, 2000.0) / density(2000.0, 4000.0));
            assert!((ratio - per_octave).abs() < 1.0, "{exponent}: {ratio}");
        }
    }

    #[test]
    fn room_decays_60_db_in_rt60() {
        for rt60_s in [0.5, 0.2, 0.8] {
            let h = room_response(rt60_s, 0.0, &mut ChaCha8Rng::seed_from_u64(2));
            assert!((h.iter().map(|v| v * v).sum::<f64>() - 1.0).abs() < 1e-9);
            // Schroeder backward integral of the tail; least-squares line from -5 to -35 dB.
            let tail = &h[1..];
            let mut left: Vec<f64> = tail
                .iter()
                .rev()
                .scan(0.0, |acc, v| {
                    *acc += v * v;
                    Some(*acc)
                })
                .collect();
            left.reverse();
            let (t, e): (Vec<f64>, Vec<f64>) = left
                .iter()
                .enumerate()
                .map(|(i, &l)| (i as f64 / FS, db(l / left[0])))
                .filter(|&(_, d)| (-35.0..=-5.0).contains(&d))
                .unzip();
            let (mt, me) = (
                t.iter().sum::<f64>() / t.len() as f64,
                e.iter().sum::<f64>() / e.len() as f64,
            );
            let cov: f64 = t.iter().zip(&e).map(|(a, b)| (a - mt) * (b - me)).sum();
            let var: f64 = t.iter().map(|a| (a - mt) * (a - mt)).sum();
            let measured = -60.0 / (cov / var);
            assert!(
                (measured / rt60_s - 1.0).abs() < 0.1,
                "{rt60_s}: {measured}"
            );
        }
    }

    #[test]
    fn room_keeps_the_level() {
        let pcm = chord(16_000);
        let room = Condition::Room {
            rt60_s: 0.5,
            drr_db: 0.0,
        };
        let out = apply(&pcm, &room, 0);
        // After the tail has built up (first 0.6 s), within 3 dB.
        let change = db(power_i16(&out[9600..]) / power_i16(&pcm[9600..]));
        assert!(change.abs() < 3.0, "{change}");
    }

    #[test]
    fn convolution_matches_direct_form() {
        let mut rng = ChaCha8Rng::seed_from_u64(5);
        let x: Vec<f64> = (0..3000).map(|_| rng.random_range(-1.0..1.0)).collect();
        let h: Vec<f64> = (0..700).map(|_| rng.random_range(-1.0..1.0)).collect();
        let y = convolve(&x, &h);
        assert_eq!(y.len(), x.len());
        for (n, &yn) in y.iter().enumerate() {
            let direct: f64 = (0..=n.min(h.len() - 1)).map(|k| h[k] * x[n - k]).sum();
            assert!((yn - direct).abs() < 1e-9, "{n}");
        }
    }

    #[test]
    fn speaker_band_passes_1_khz_and_stops_100_hz_and_7_5_khz() {
        let band = speaker_band(250.0, 6000.0);
        let gain = |hz| {
            let pcm = tone(hz, 10_000.0, 16_000);
            let out = apply(&pcm, &band, 0);
            // Skip the first 0.5 s (the filters settling).
            db(power_i16(&out[8000..]) / power_i16(&pcm[8000..]))
        };
        assert!(gain(1000.0).abs() < 1.0, "{}", gain(1000.0));
        assert!(gain(100.0) <= -10.0, "{}", gain(100.0));
        assert!(gain(7500.0) <= -10.0, "{}", gain(7500.0));
        // Two Butterworth sections: -6 dB at each corner.
        assert!((gain(250.0) + 6.0).abs() < 0.5, "{}", gain(250.0));
        assert!((gain(6000.0) + 6.0).abs() < 0.5, "{}", gain(6000.0));
    }

    #[test]
    fn high_pass_removes_dc() {
        let mut x = vec![1000.0; 16_000];
        cascade(&mut x, &[Biquad::pass(100.0, BUTTERWORTH_Q, true)]);
        // After 1 s a 100 Hz high-pass has settled far below 1e-3 of the input step.
        assert!(x[x.len() - 1].abs() < 1.0, "{}", x[x.len() - 1]);
    }

    #[test]
    fn offset_drops_the_seeded_prefix() {
        let pcm: Vec<i16> = (0..30 * 16_000).map(|i| (i % 30_000) as i16).collect();
        let max_samples = 15 * 16_000;
        let offset = Condition::Offset { max_samples };
        let mut drops = Vec::new();
        for seed in 0..4 {
            let out = apply(&pcm, &offset, seed);
            let expected = ChaCha8Rng::seed_from_u64(seed).random_range(0..=max_samples);
            assert_eq!(out, pcm[expected..], "{seed}");
            drops.push(expected);
        }
        drops.dedup();
        assert!(drops.len() > 1);
        // Longer than the clip: everything goes.
        let all = Condition::Offset {
            max_samples: usize::MAX,
        };
        assert!(apply(&pcm[..10], &all, 0).len() <= 10);
    }

    #[test]
    fn speed_scales_pitch_and_length() {
        let n = 2 * 16_000;
        let pcm = tone(1000.0, 10_000.0, n);
        for (rate_hz, expected_hz) in [(17_200, 1075.0), (14_800, 925.0)] {
            let out = apply(&pcm, &Condition::Speed { rate_hz }, 0);
            assert_eq!(
                out.len(),
                (n * 16_000).div_ceil(rate_hz as usize),
                "{rate_hz}"
            );
            // Upward zero crossings over the middle second (clear of the filter's edges).
            let middle = &out[out.len() / 2 - 8000..out.len() / 2 + 8000];
            let crossings = middle.windows(2).filter(|w| w[0] < 0 && w[1] >= 0).count();
            assert!(
                (crossings as f64 - expected_hz).abs() <= 1.0,
                "{rate_hz}: {crossings}"
            );
            // The level is kept.
            let ratio = db(power_i16(middle) / power_i16(&pcm[8000..24_000]));
            assert!(ratio.abs() < 0.1, "{rate_hz}: {ratio} dB");
        }
        assert_eq!(apply(&pcm, &Condition::Speed { rate_hz: 16_000 }, 0), pcm);
    }
}
