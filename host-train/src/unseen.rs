//! The held-out capture family: loudspeaker → room → microphone → board, modelled
//! independently of [`crate::capture`] with a different model of each stage, for `eval` only.
//!
//! Training never uses this module, and no recipe may be tuned on its table: it measures how
//! far the robustness learnt from `capture` carries to captures the model has never seen.
//! Stages: an image-source shoebox room with a diffuse tail at the Sabine RT60; loudspeakers and
//! a MEMS microphone as cascades of bilinear-transformed analog sections (direct form I), with a
//! speaker's soft saturation and the microphone's self-noise and 16-bit ADC; a feed-forward
//! AGC with a peak limiter; mains hum, fan noise and synthetic other music. Deterministic per
//! seed, pure Rust, no audio shipped. Levels in dBFS are RMS re an amplitude of 32 768.
//!
//! Low-bitrate codec artefacts are not modelled: the encoders the registries ship for Rust
//! (MP3, Opus) wrap C libraries.

use std::f64::consts::{PI, TAU};

use genre_core::config::SAMPLE_RATE_HZ;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use realfft::num_complex::Complex;
use realfft::RealFftPlanner;

const FS: f64 = SAMPLE_RATE_HZ as f64;
/// The amplitude of 0 dBFS.
const FULL_SCALE: f64 = 32_768.0;
/// Speed of sound, m/s (20 °C).
const SOUND_M_S: f64 = 343.0;
/// Image sources arrive up to this long after the direct path (s); the diffuse tail follows.
const EARLY_S: f64 = 0.08;
/// The tail's level is matched to the image sources' energy over this last stretch (s).
const MATCH_S: f64 = 0.02;
/// Half-width of the Lanczos fractional-delay kernel (samples).
const LANCZOS_A: i64 = 4;
/// Sources and microphones stay this far from every surface (m).
const WALL_MARGIN_M: f64 = 0.4;
/// MEMS microphone: output level of a 94 dB SPL tone (dBFS)...
const MIC_SENSITIVITY_DBFS: f64 = -26.0;
/// ...and its signal-to-noise ratio at 94 dB SPL (dB): self-noise at 32 dB SPL.
const MIC_SNR_DB: f64 = 62.0;
/// Mains frequency (Hz).
const MAINS_HZ: f64 = 50.0;

/// A rectangular room.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Shoebox {
    /// Length, width, height (m).
    pub dims_m: [f64; 3],
    /// Energy absorption of the two surfaces normal to each axis (x walls, y walls, floor and
    /// ceiling), 0..1.
    pub absorption: [f64; 3],
}

impl Shoebox {
    /// A bedroom or office: Sabine RT60 0.33 s.
    pub const SMALL: Self = Self {
        dims_m: [3.6, 3.0, 2.5],
        absorption: [0.2, 0.2, 0.3],
    };
    /// A living room: RT60 0.46 s.
    pub const LIVING: Self = Self {
        dims_m: [5.5, 4.2, 2.7],
        absorption: [0.15, 0.15, 0.3],
    };
    /// A classroom: RT60 0.74 s.
    pub const CLASSROOM: Self = Self {
        dims_m: [9.0, 7.0, 3.2],
        absorption: [0.12, 0.12, 0.25],
    };
    /// The rooms a room stage draws from.
    pub const ALL: [Self; 3] = [Self::SMALL, Self::LIVING, Self::CLASSROOM];

    /// Reverberation time by Sabine's formula, 0.161 V / Σ Sα (s).
    pub fn sabine_rt60_s(&self) -> f64 {
        let [x, y, z] = self.dims_m;
        let areas = [2.0 * y * z, 2.0 * x * z, 2.0 * x * y];
        let absorbing: f64 = areas.iter().zip(&self.absorption).map(|(s, a)| s * a).sum();
        0.161 * x * y * z / absorbing
    }

    /// Whether `p` (m) is at least [`WALL_MARGIN_M`] inside every surface.
    fn holds(&self, p: [f64; 3]) -> bool {
        p.iter()
            .zip(&self.dims_m)
            .all(|(&c, &l)| (WALL_MARGIN_M..=l - WALL_MARGIN_M).contains(&c))
    }
}

/// A small loudspeaker: a high-pass (the driver's excursion), a soft saturation, then the
/// cabinet's and driver's coloration.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Speaker {
    /// 4th-order high-pass at 400 Hz, +6 dB resonance at 1 kHz, low-pass at 7 kHz.
    Phone,
    /// 4th-order high-pass at 250 Hz, +5 dB resonance at 600 Hz, −6 dB dip at 2.5 kHz,
    /// low-pass at 6.5 kHz.
    Laptop,
    /// 4th-order high-pass at 90 Hz, +4 dB bass-port bump at 110 Hz, +2 dB at 3 kHz and a
    /// −4 dB first-order shelf above 5 kHz (its 9 kHz roll-off lies above 8 kHz Nyquist).
    BluetoothBox,
}

impl Speaker {
    /// The three.
    pub const ALL: [Self; 3] = [Self::Phone, Self::Laptop, Self::BluetoothBox];

    /// (sections before the saturation, drive, sections after). Drive `g`: y = tanh(g x) / g
    /// on full-scale-normalised samples (unity gain for small signals).
    fn model(self) -> (Vec<Section>, f64, Vec<Section>) {
        match self {
            Self::Phone => (
                butterworth_high_pass_4(400.0),
                1.5,
                vec![
                    Section::resonance(1000.0, 2.0, 6.0),
                    Section::low_pass(7000.0, core::f64::consts::FRAC_1_SQRT_2),
                ],
            ),
            Self::Laptop => (
                butterworth_high_pass_4(250.0),
                1.2,
                vec![
                    Section::resonance(600.0, 1.5, 5.0),
                    Section::resonance(2500.0, 2.0, -6.0),
                    Section::low_pass(6500.0, core::f64::consts::FRAC_1_SQRT_2),
                ],
            ),
            Self::BluetoothBox => {
                let mut pre = butterworth_high_pass_4(90.0);
                pre.push(Section::resonance(110.0, 1.5, 4.0));
                (
                    pre,
                    1.0,
                    vec![
                        Section::resonance(3000.0, 1.0, 2.0),
                        Section::shelf(5000.0, -4.0),
                    ],
                )
            }
        }
    }
}

/// One stage of an unseen capture. Random draws come from the stage's seed, per clip.
#[derive(Clone, Debug, PartialEq)]
pub enum Stage {
    /// One of `models`, drawn uniformly.
    Speaker(&'static [Speaker]),
    /// One of [`Shoebox::ALL`], source and microphone `min_m..=max_m` apart (uniform), placed
    /// at random inside it; the image-source response, normalised to unit energy.
    Room { min_m: f64, max_m: f64 },
    /// The MEMS microphone with the sound at `min_spl_db..=max_spl_db` dB SPL (uniform): the
    /// signal's RMS is set to that level through the sensitivity, then a 1st-order high-pass at
    /// 100 Hz, +2 dB at Nyquist from a 1st-order shelf at 6 kHz (the in-band skirt of a
    /// presence rise near 10 kHz), white self-noise and a 16-bit ADC.
    Mic { min_spl_db: f64, max_spl_db: f64 },
    /// 50 Hz mains hum with 8 harmonics, `snr_db` below the signal's mean power.
    Hum { snr_db: f64 },
    /// Fan noise (band noise, a blade-pass tone, slow amplitude modulation), `snr_db` below.
    Fan { snr_db: f64 },
    /// Synthetic other music (chords, bass, kick, hi-hat), its mean power `below_db` below.
    OtherMusic { below_db: f64 },
    /// The board's AGC and limiter (see [`agc`]).
    Agc,
    /// Gain of `db` decibels.
    Gain { db: f64 },
}

/// An unseen capture: its stages in order (none: clean).
pub type Condition = Vec<Stage>;

/// The conditions of the unseen table, with their table/JSON keys, in table order. The first
/// is `clean` (no stage).
pub fn conditions() -> Vec<(&'static str, Condition)> {
    use Stage::*;
    vec![
        ("clean", vec![]),
        (
            "over the air",
            vec![
                Speaker(&self::Speaker::ALL),
                Room {
                    min_m: 1.0,
                    max_m: 3.0,
                },
                Fan { snr_db: 25.0 },
                Mic {
                    min_spl_db: 60.0,
                    max_spl_db: 72.0,
                },
                Hum { snr_db: 40.0 },
                Agc,
                Gain { db: -20.0 },
            ],
        ),
        (
            "small speaker",
            vec![Speaker(&[self::Speaker::Phone, self::Speaker::Laptop])],
        ),
        (
            "room 1 m",
            vec![Room {
                min_m: 1.0,
                max_m: 1.0,
            }],
        ),
        ("hum 20 dB", vec![Hum { snr_db: 20.0 }]),
        ("fan noise 15 dB", vec![Fan { snr_db: 15.0 }]),
        ("other music -15 dB", vec![OtherMusic { below_db: 15.0 }]),
        ("AGC/limiter", vec![Agc]),
    ]
}

/// The seed of clip `name` under unseen condition `k`: a function of the clip alone (FNV-1a,
/// then SplitMix64), so every model is scored on the same audio whatever its training seed.
pub fn clip_seed(name: &str, k: usize) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in name.bytes() {
        h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
    }
    let mut z = h ^ (k as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// `pcm` (16 kHz) under `condition`, same length; deterministic for a given `seed`.
pub fn apply(pcm: &[i16], condition: &[Stage], seed: u64) -> Vec<i16> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut x: Vec<f64> = pcm.iter().map(|&s| f64::from(s)).collect();
    for stage in condition {
        run(stage, &mut x, &mut rng);
    }
    x.iter()
        .map(|v| v.round().clamp(f64::from(i16::MIN), f64::from(i16::MAX)) as i16)
        .collect()
}

fn run(stage: &Stage, x: &mut Vec<f64>, rng: &mut ChaCha8Rng) {
    match *stage {
        Stage::Speaker(models) => {
            if let Some(&model) = models.get(rng.random_range(0..models.len().max(1))) {
                speaker(x, model);
            }
        }
        Stage::Room { min_m, max_m } => {
            let room = Shoebox::ALL[rng.random_range(0..Shoebox::ALL.len())];
            let d = draw(rng, min_m, max_m);
            let (source, mic) = place(&room, d, rng);
            let h = room_response(&room, source, mic, rng);
            *x = convolve(x, &h);
        }
        Stage::Mic {
            min_spl_db,
            max_spl_db,
        } => {
            let spl = draw(rng, min_spl_db, max_spl_db);
            mems(x, spl, rng);
        }
        Stage::Hum { snr_db } => {
            let hum = hum(x.len(), rng);
            mix(x, &hum, snr_db);
        }
        Stage::Fan { snr_db } => {
            let fan = fan(x.len(), rng);
            mix(x, &fan, snr_db);
        }
        Stage::OtherMusic { below_db } => {
            let music = other_music(x.len(), rng);
            mix(x, &music, below_db);
        }
        Stage::Agc => agc(x),
        Stage::Gain { db } => {
            let g = 10f64.powf(db / 20.0);
            x.iter_mut().for_each(|v| *v *= g);
        }
    }
}

/// Uniform in `lo..=hi` (`lo` when the range is empty).
fn draw(rng: &mut ChaCha8Rng, lo: f64, hi: f64) -> f64 {
    if hi > lo {
        rng.random_range(lo..=hi)
    } else {
        lo
    }
}

/// A standard normal deviate (Box–Muller).
fn gauss(rng: &mut ChaCha8Rng) -> f64 {
    let u: f64 = 1.0 - rng.random::<f64>();
    let v: f64 = rng.random();
    (-2.0 * u.ln()).sqrt() * (TAU * v).cos()
}

fn power(x: &[f64]) -> f64 {
    x.iter().map(|v| v * v).sum::<f64>() / x.len().max(1) as f64
}

/// Adds `noise` scaled so that its mean power is `below_db` under `x`'s.
fn mix(x: &mut [f64], noise: &[f64], below_db: f64) {
    let (px, pn) = (power(x), power(noise));
    if pn > 0.0 {
        let g = (px / pn / 10f64.powf(below_db / 10.0)).sqrt();
        x.iter_mut().zip(noise).for_each(|(v, n)| *v += g * n);
    }
}

// --- Filters -----------------------------------------------------------------------------

/// One filter section (1st or 2nd order), coefficients over a0.
#[derive(Clone, Copy, Debug)]
struct Section {
    b: [f64; 3],
    a: [f64; 2],
}

impl Section {
    /// Bilinear transform, pre-warped at `f0` Hz, of the analog section
    /// (n0 + n1 s + n2 s²) / (d0 + d1 s + d2 s²) in s normalised to 2π `f0`.
    fn analog(f0: f64, n: [f64; 3], d: [f64; 3]) -> Self {
        let k = (PI * f0 / FS).tan();
        // s = (1 − z⁻¹) / (k (1 + z⁻¹)); both polynomials times k (1 + z⁻¹) per order.
        let (b, a) = if n[2] == 0.0 && d[2] == 0.0 {
            let z = |p: [f64; 3]| [p[0] * k + p[1], p[0] * k - p[1], 0.0];
            (z(n), z(d))
        } else {
            let k2 = k * k;
            let z = |p: [f64; 3]| {
                [
                    p[0] * k2 + p[1] * k + p[2],
                    2.0 * (p[0] * k2 - p[2]),
                    p[0] * k2 - p[1] * k + p[2],
                ]
            };
            (z(n), z(d))
        };
        Self {
            b: b.map(|v| v / a[0]),
            a: [a[1] / a[0], a[2] / a[0]],
        }
    }

    /// 2nd-order high-pass at `f0` Hz, quality `q`.
    fn high_pass(f0: f64, q: f64) -> Self {
        Self::analog(f0, [0.0, 0.0, 1.0], [1.0, 1.0 / q, 1.0])
    }

    /// 2nd-order low-pass at `f0` Hz, quality `q`.
    fn low_pass(f0: f64, q: f64) -> Self {
        Self::analog(f0, [1.0, 0.0, 0.0], [1.0, 1.0 / q, 1.0])
    }

    /// 2nd-order band-pass at `f0` Hz, quality `q`, unity gain at `f0`.
    fn band_pass(f0: f64, q: f64) -> Self {
        Self::analog(f0, [0.0, 1.0 / q, 0.0], [1.0, 1.0 / q, 1.0])
    }

    /// `gain_db` at `f0` Hz (a resonance, or a dip when negative), quality `q`, unity far away.
    fn resonance(f0: f64, q: f64, gain_db: f64) -> Self {
        let g = 10f64.powf(gain_db / 40.0);
        Self::analog(f0, [1.0, g / q, 1.0], [1.0, 1.0 / (g * q), 1.0])
    }

    /// 1st-order high-pass at `f0` Hz.
    fn high_pass_1(f0: f64) -> Self {
        Self::analog(f0, [0.0, 1.0, 0.0], [1.0, 1.0, 0.0])
    }

    /// 1st-order shelf: unity at DC, `gain_db` at Nyquist, half of it at `f0` Hz.
    fn shelf(f0: f64, gain_db: f64) -> Self {
        let g = 10f64.powf(gain_db / 40.0);
        Self::analog(f0, [1.0, g, 0.0], [1.0, 1.0 / g, 0.0])
    }
}

/// 4th-order Butterworth high-pass at `f0` Hz (two sections).
fn butterworth_high_pass_4(f0: f64) -> Vec<Section> {
    [1.0, 3.0]
        .iter()
        .map(|&k| Section::high_pass(f0, 1.0 / (2.0 * (k * PI / 8.0).cos())))
        .collect()
}

/// Runs `x` through `sections` in order, in place, from rest (direct form I).
fn filter(x: &mut [f64], sections: &[Section]) {
    for s in sections {
        let (mut x1, mut x2, mut y1, mut y2) = (0.0, 0.0, 0.0, 0.0);
        for v in x.iter_mut() {
            let y = s.b[0] * *v + s.b[1] * x1 + s.b[2] * x2 - s.a[0] * y1 - s.a[1] * y2;
            (x2, x1, y2, y1) = (x1, *v, y1, y);
            *v = y;
        }
    }
}

/// `x` through loudspeaker `model`.
fn speaker(x: &mut [f64], model: Speaker) {
    let (pre, drive, post) = model.model();
    filter(x, &pre);
    for v in x.iter_mut() {
        *v = FULL_SCALE * (drive * *v / FULL_SCALE).tanh() / drive;
    }
    filter(x, &post);
}

// --- Room ---------------------------------------------------------------------------------

/// A source and a microphone `d` m apart inside `room` (m), at least [`WALL_MARGIN_M`] from
/// every surface, the microphone 0.7–1.5 m high: rejection sampling, then (if none fits) the
/// pair centred on the room's horizontal diagonal.
fn place(room: &Shoebox, d: f64, rng: &mut ChaCha8Rng) -> ([f64; 3], [f64; 3]) {
    let [lx, ly, lz] = room.dims_m;
    let m = WALL_MARGIN_M;
    for _ in 0..256 {
        let mic = [
            rng.random_range(m..lx - m),
            rng.random_range(m..ly - m),
            rng.random_range(0.7..1.5f64.min(lz - m)),
        ];
        let azimuth = rng.random_range(0.0..TAU);
        let elevation: f64 = rng.random_range(-0.3..0.3);
        let source = [
            mic[0] + d * elevation.cos() * azimuth.cos(),
            mic[1] + d * elevation.cos() * azimuth.sin(),
            mic[2] + d * elevation.sin(),
        ];
        if room.holds(source) {
            return (source, mic);
        }
    }
    let (ix, iy) = (lx - 2.0 * m, ly - 2.0 * m);
    let diagonal = ix.hypot(iy);
    let (ux, uy) = (ix / diagonal, iy / diagonal);
    let half = 0.5 * d.min(diagonal);
    let (cx, cy, cz) = (0.5 * lx, 0.5 * ly, 1.2f64.min(0.5 * lz));
    (
        [cx + half * ux, cy + half * uy, cz],
        [cx - half * ux, cy - half * uy, cz],
    )
}

/// Lanczos kernel (a = [`LANCZOS_A`]) at `t` samples.
fn lanczos(t: f64) -> f64 {
    let a = LANCZOS_A as f64;
    if t == 0.0 {
        1.0
    } else if t.abs() >= a {
        0.0
    } else {
        let p = PI * t;
        a * p.sin() * (p / a).sin() / (p * p)
    }
}

/// Impulse response at 16 kHz from `source` to `mic` (m) in `room`, unit energy, the direct
/// path at sample [`LANCZOS_A`]. Image sources up to [`EARLY_S`] after the direct path, each
/// with amplitude β^reflections / r (β = √(1 − α) per surface) at a Lanczos fractional delay;
/// then Gaussian noise decaying 60 dB in the Sabine RT60, its level matched to the images'
/// energy over their last [`MATCH_S`].
fn room_response(
    room: &Shoebox,
    source: [f64; 3],
    mic: [f64; 3],
    rng: &mut ChaCha8Rng,
) -> Vec<f64> {
    let rt60 = room.sabine_rt60_s();
    let early = (EARLY_S * FS) as usize;
    let len = early + (rt60 * FS) as usize;
    let mut h = vec![0.0; len];
    let direct = (0..3)
        .map(|k| (source[k] - mic[k]).powi(2))
        .sum::<f64>()
        .sqrt();
    let reach = direct + SOUND_M_S * EARLY_S;
    let beta = room.absorption.map(|a| (1.0 - a).clamp(0.0, 1.0).sqrt());
    // Per axis, images at 2mL + s (2|m| reflections) and 2mL − s (|2m − 1| reflections):
    // (offset from the microphone, reflection factor).
    let axis = |k: usize| -> Vec<(f64, f64)> {
        let l = room.dims_m[k];
        let m_max = (reach / (2.0 * l)).ceil() as i32 + 1;
        (-m_max..=m_max)
            .flat_map(|m| {
                let base = 2.0 * f64::from(m) * l;
                [
                    (base + source[k] - mic[k], beta[k].powi((2 * m).abs())),
                    (base - source[k] - mic[k], beta[k].powi((2 * m - 1).abs())),
                ]
            })
            .collect()
    };
    let (ax, ay, az) = (axis(0), axis(1), axis(2));
    for &(dx, gx) in &ax {
        for &(dy, gy) in &ay {
            for &(dz, gz) in &az {
                let r = (dx * dx + dy * dy + dz * dz).sqrt();
                if r > reach {
                    continue;
                }
                let at = (r - direct) / SOUND_M_S * FS + LANCZOS_A as f64;
                let amplitude = gx * gy * gz / r.max(0.1);
                let centre = at.floor() as i64;
                for n in (centre - LANCZOS_A + 1)..=(centre + LANCZOS_A) {
                    if let Some(v) = usize::try_from(n).ok().and_then(|n| h.get_mut(n)) {
                        *v += amplitude * lanczos(n as f64 - at);
                    }
                }
            }
        }
    }
    let matched = early.saturating_sub((MATCH_S * FS) as usize)..early;
    let per_sample = h[matched.clone()].iter().map(|v| v * v).sum::<f64>() / matched.len() as f64;
    // Amplitude falls 60 dB over rt60: 10^(−3 t / rt60).
    let decay = 10f64.powf(-3.0 / (rt60 * FS));
    let mut envelope = per_sample.sqrt();
    for v in &mut h[early..] {
        *v += envelope * gauss(rng);
        envelope *= decay;
    }
    let norm = h.iter().map(|v| v * v).sum::<f64>().sqrt();
    if norm > 0.0 {
        h.iter_mut().for_each(|v| *v /= norm);
    }
    h
}

/// `x` convolved with `h`, truncated to `x.len()`: one FFT over the whole signal.
fn convolve(x: &[f64], h: &[f64]) -> Vec<f64> {
    if x.is_empty() || h.is_empty() {
        return x.to_vec();
    }
    let size = (x.len() + h.len()).next_power_of_two();
    let mut planner = RealFftPlanner::<f64>::new();
    let (forward, inverse) = (
        planner.plan_fft_forward(size),
        planner.plan_fft_inverse(size),
    );
    let spectrum = |v: &[f64]| -> Option<Vec<Complex<f64>>> {
        let mut buf = vec![0.0; size];
        buf[..v.len()].copy_from_slice(v);
        let mut out = forward.make_output_vec();
        forward.process(&mut buf, &mut out).ok()?;
        Some(out)
    };
    let (Some(mut xs), Some(hs)) = (spectrum(x), spectrum(h)) else {
        return x.to_vec();
    };
    for (a, b) in xs.iter_mut().zip(&hs) {
        *a *= b / size as f64;
    }
    let mut y = vec![0.0; size];
    if inverse.process(&mut xs, &mut y).is_err() {
        return x.to_vec();
    }
    y.truncate(x.len());
    y
}

// --- Microphone and board -----------------------------------------------------------------

/// The MEMS microphone (see [`Stage::Mic`]) with the sound at `spl_db` dB SPL.
fn mems(x: &mut [f64], spl_db: f64, rng: &mut ChaCha8Rng) {
    let p = power(x);
    if p > 0.0 {
        let target = FULL_SCALE * 10f64.powf((spl_db - 94.0 + MIC_SENSITIVITY_DBFS) / 20.0);
        let g = target / p.sqrt();
        x.iter_mut().for_each(|v| *v *= g);
    }
    filter(
        x,
        &[Section::high_pass_1(100.0), Section::shelf(6000.0, 2.0)],
    );
    let noise = FULL_SCALE * 10f64.powf((MIC_SENSITIVITY_DBFS - MIC_SNR_DB) / 20.0);
    for v in x.iter_mut() {
        *v = (*v + noise * gauss(rng))
            .round()
            .clamp(f64::from(i16::MIN), f64::from(i16::MAX));
    }
}

/// AGC target (dBFS RMS), level detector time constant (s), gain attack and release (s),
/// gain range (dB).
const AGC_TARGET_DBFS: f64 = -20.0;
const AGC_DETECTOR_S: f64 = 0.01;
const AGC_ATTACK_S: f64 = 0.02;
const AGC_RELEASE_S: f64 = 0.5;
const AGC_GAIN_DB: (f64, f64) = (-30.0, 40.0);
/// Limiter ceiling (dBFS peak) and release (s).
const LIMIT_DBFS: f64 = -1.0;
const LIMIT_RELEASE_S: f64 = 0.05;

/// A feed-forward AGC and limiter. A mean-square detector ([`AGC_DETECTOR_S`]) gives the gain
/// (dB) that would bring the input to [`AGC_TARGET_DBFS`], within [`AGC_GAIN_DB`]; the applied
/// gain follows it down in [`AGC_ATTACK_S`] and up in [`AGC_RELEASE_S`]. Then a peak limiter
/// (instant attack, release [`LIMIT_RELEASE_S`]) and a hard clip hold peaks at [`LIMIT_DBFS`].
fn agc(x: &mut [f64]) {
    let coef = |tau: f64| 1.0 - (-1.0 / (tau * FS)).exp();
    let (detector, attack, release) = (
        coef(AGC_DETECTOR_S),
        coef(AGC_ATTACK_S),
        coef(AGC_RELEASE_S),
    );
    let limit_release = (-1.0 / (LIMIT_RELEASE_S * FS)).exp();
    let target = FULL_SCALE * FULL_SCALE * 10f64.powf(AGC_TARGET_DBFS / 10.0);
    let ceiling = FULL_SCALE * 10f64.powf(LIMIT_DBFS / 20.0);
    // Starts at unity gain.
    let (mut mean_square, mut gain_db, mut peak) = (target, 0.0f64, 0.0f64);
    for v in x.iter_mut() {
        mean_square += detector * (*v * *v - mean_square);
        let wanted = (10.0 * (target / mean_square.max(f64::MIN_POSITIVE)).log10())
            .clamp(AGC_GAIN_DB.0, AGC_GAIN_DB.1);
        gain_db += if wanted < gain_db { attack } else { release } * (wanted - gain_db);
        let y = *v * 10f64.powf(gain_db / 20.0);
        peak = y.abs().max(peak * limit_release);
        let y = if peak > ceiling {
            y * ceiling / peak
        } else {
            y
        };
        *v = y.clamp(-ceiling, ceiling);
    }
}

// --- Background sounds -------------------------------------------------------------------

/// Mains hum: 50 Hz and harmonics 2..=8 (odd ones at 1/k, even ones at 1/(2k)), random phases.
fn hum(n: usize, rng: &mut ChaCha8Rng) -> Vec<f64> {
    let partials: Vec<(f64, f64, f64)> = (1..=8)
        .map(|k| {
            let a = (if k % 2 == 1 { 1.0 } else { 0.5 }) / f64::from(k);
            (
                TAU * MAINS_HZ * f64::from(k) / FS,
                a,
                rng.random_range(0.0..TAU),
            )
        })
        .collect();
    (0..n)
        .map(|i| {
            partials
                .iter()
                .map(|&(w, a, phase)| a * (w * i as f64 + phase).sin())
                .sum()
        })
        .collect()
}

/// Fan noise: white noise band-passed around 300–600 Hz (Q 0.7), a blade-pass tone at
/// 80–160 Hz with its 2nd harmonic, amplitude-modulated ±30 % at 0.2–0.8 Hz.
fn fan(n: usize, rng: &mut ChaCha8Rng) -> Vec<f64> {
    let mut y: Vec<f64> = (0..n).map(|_| gauss(rng)).collect();
    filter(
        &mut y,
        &[
            Section::band_pass(rng.random_range(300.0..600.0), 0.7),
            Section::low_pass(2000.0, core::f64::consts::FRAC_1_SQRT_2),
        ],
    );
    let blade = TAU * rng.random_range(80.0..160.0) / FS;
    let (wobble, phase) = (
        TAU * rng.random_range(0.2..0.8) / FS,
        rng.random_range(0.0..TAU),
    );
    // The tone at about a third of the band noise's RMS.
    let tone = 0.3 * power(&y).sqrt();
    for (i, v) in y.iter_mut().enumerate() {
        let t = i as f64;
        let blade = tone * ((blade * t).sin() + 0.4 * (2.0 * blade * t).sin());
        *v = (*v + blade) * (1.0 + 0.3 * (wobble * t + phase).sin());
    }
    y
}

/// Synthetic other music at 90–140 BPM in a random key: a I–V–vi–IV progression, one chord per
/// bar of 4 beats, each chord note 6 harmonics struck on every beat (decay 0.4 s), a sine bass,
/// a kick (110 → 45 Hz) on beats 1 and 3, a hi-hat (differenced noise, 20 ms) on the off-beats.
fn other_music(n: usize, rng: &mut ChaCha8Rng) -> Vec<f64> {
    const PROGRESSION: [[i32; 3]; 4] = [[0, 4, 7], [7, 11, 14], [9, 12, 16], [5, 9, 12]];
    let beat = ((60.0 / rng.random_range(90.0..140.0)) * FS) as usize;
    let key = rng.random_range(45..57);
    let hz = |midi: i32| 440.0 * 2f64.powf(f64::from(midi - 69) / 12.0);
    let mut y = vec![0.0; n];
    for (b, start) in (0..n).step_by(beat.max(1)).enumerate() {
        let end = (start + beat).min(n);
        let chord = PROGRESSION[(b / 4) % 4];
        // (frequency Hz, amplitude, decay s) of each voice this beat.
        let mut voices: Vec<(f64, f64, f64)> = Vec::new();
        for &step in &chord {
            let f = hz(key + 12 + step);
            voices.extend(
                (1..=6)
                    .map(|k| (f * f64::from(k), 0.3 / f64::from(k), 0.4))
                    .filter(|&(f, _, _)| f < 0.45 * FS),
            );
        }
        voices.push((hz(key - 12 + chord[0]), 0.8, 0.6));
        for (f, a, decay) in voices {
            // A rotating phasor: one complex multiply per sample.
            let step = Complex::from_polar(1.0, TAU * f / FS);
            let mut phasor = Complex::from_polar(a, rng.random_range(0.0..TAU));
            let fall = (-1.0 / (decay * FS)).exp();
            for v in &mut y[start..end] {
                *v += phasor.im;
                phasor *= step * fall;
            }
        }
        if b % 2 == 0 {
            let mut phase = 0.0;
            for (i, v) in y[start..end].iter_mut().enumerate() {
                let t = i as f64 / FS;
                phase += TAU * (45.0 + 65.0 * (-t / 0.05).exp()) / FS;
                *v += 1.5 * (-t / 0.15).exp() * phase.sin();
            }
        }
        let hat = (start + beat / 2).min(end);
        let mut last = 0.0;
        for (i, v) in y[hat..end].iter_mut().enumerate() {
            let w = gauss(rng);
            *v += 0.3 * (-(i as f64) / (0.02 * FS)).exp() * (w - last);
            last = w;
        }
    }
    y
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tone(hz: f64, dbfs: f64, n: usize) -> Vec<f64> {
        // RMS of a sine is its amplitude / √2.
        let a = FULL_SCALE * 10f64.powf(dbfs / 20.0) * std::f64::consts::SQRT_2;
        (0..n)
            .map(|i| a * (TAU * hz * i as f64 / FS).sin())
            .collect()
    }

    fn as_i16(x: &[f64]) -> Vec<i16> {
        x.iter().map(|v| v.round() as i16).collect()
    }

    /// A few partials, like music rather than a single line.
    fn chord(n: usize) -> Vec<i16> {
        let parts = [(196.0, -12.0), (493.9, -18.0), (1174.7, -24.0)];
        let mut x = vec![0.0; n];
        for (hz, db) in parts {
            x.iter_mut().zip(tone(hz, db, n)).for_each(|(v, t)| *v += t);
        }
        as_i16(&x)
    }

    fn db(ratio: f64) -> f64 {
        10.0 * ratio.log10()
    }

    fn to_f64(x: &[i16]) -> Vec<f64> {
        x.iter().map(|&s| f64::from(s)).collect()
    }

    fn dbfs(x: &[f64]) -> f64 {
        db(power(x) / (FULL_SCALE * FULL_SCALE))
    }

    /// Gain (dB) of `stage` on a −30 dBFS tone at `hz`, after 0.5 s of settling.
    fn gain_at(f: impl Fn(&mut Vec<f64>), hz: f64) -> f64 {
        let x = tone(hz, -30.0, 16_000);
        let mut y = x.clone();
        f(&mut y);
        db(power(&y[8000..]) / power(&x[8000..]))
    }

    /// Power spectrum (|X|²) of the first power of two of `x`, Hann-windowed.
    fn spectrum(x: &[f64]) -> Vec<f64> {
        let n = 1 << (usize::BITS - 1 - x.len().leading_zeros());
        let mut buf: Vec<f64> = x[..n]
            .iter()
            .enumerate()
            .map(|(i, v)| v * (PI * i as f64 / n as f64).sin().powi(2))
            .collect();
        let fft = RealFftPlanner::<f64>::new().plan_fft_forward(n);
        let mut out = fft.make_output_vec();
        fft.process(&mut buf, &mut out).unwrap();
        out.iter().map(|c| c.norm_sqr()).collect()
    }

    #[test]
    fn deterministic_per_seed_and_same_length() {
        let pcm = chord(3 * 16_000);
        for (k, (name, c)) in conditions().into_iter().enumerate() {
            let seed = clip_seed("blues.00000.au", k);
            let a = apply(&pcm, &c, seed);
            assert_eq!(a.len(), pcm.len(), "{name}");
            assert_eq!(a, apply(&pcm, &c, seed), "{name}");
            // Every stage but the AGC draws from its seed.
            let random = !c.is_empty() && c != [Stage::Agc];
            let varies = (1..8).any(|s| a != apply(&pcm, &c, seed ^ s));
            assert_eq!(random, varies, "{name}");
            assert_eq!(c.is_empty(), a == pcm, "{name}");
            assert!(apply(&[], &c, seed).is_empty(), "{name}");
            assert_eq!(apply(&[7], &c, seed).len(), 1, "{name}");
        }
        assert_eq!(conditions()[0].0, "clean");
        assert_ne!(clip_seed("a", 0), clip_seed("b", 0));
        assert_ne!(clip_seed("a", 0), clip_seed("a", 1));
    }

    #[test]
    fn filter_sections_have_their_gains() {
        let run = |s: Section| move |x: &mut Vec<f64>| filter(x, &[s]);
        let q = core::f64::consts::FRAC_1_SQRT_2;
        // −3 dB at the corner of a Butterworth section and of the 1st-order high-pass.
        assert!((gain_at(run(Section::low_pass(2000.0, q)), 2000.0) + 3.01).abs() < 0.1);
        assert!((gain_at(run(Section::high_pass(500.0, q)), 500.0) + 3.01).abs() < 0.1);
        assert!((gain_at(run(Section::high_pass_1(300.0)), 300.0) + 3.01).abs() < 0.1);
        assert!(gain_at(run(Section::low_pass(2000.0, q)), 200.0).abs() < 0.1);
        assert!((gain_at(run(Section::resonance(1000.0, 2.0, 6.0)), 1000.0) - 6.0).abs() < 0.1);
        assert!((gain_at(run(Section::resonance(1000.0, 2.0, -6.0)), 1000.0) + 6.0).abs() < 0.1);
        assert!(gain_at(run(Section::resonance(1000.0, 2.0, 6.0)), 100.0).abs() < 0.2);
        assert!(gain_at(run(Section::band_pass(400.0, 0.7)), 400.0).abs() < 0.1);
        assert!((gain_at(run(Section::shelf(2000.0, -4.0)), 2000.0) + 2.0).abs() < 0.1);
        // A 4th-order Butterworth: −3 dB at the corner, 24 dB per octave below.
        let bw = |x: &mut Vec<f64>| filter(x, &butterworth_high_pass_4(400.0));
        assert!((gain_at(bw, 400.0) + 3.01).abs() < 0.1);
        assert!(
            (gain_at(bw, 200.0) + 24.1).abs() < 1.0,
            "{}",
            gain_at(bw, 200.0)
        );
    }

    #[test]
    fn speakers_cut_the_bass_and_ring_where_they_claim() {
        let g = |m: Speaker, hz: f64| gain_at(|x| speaker(x, m), hz);
        use Speaker::*;
        assert!(g(Phone, 1000.0) - g(Phone, 100.0) > 20.0);
        assert!((g(Phone, 1000.0) - 6.0).abs() < 1.0, "{}", g(Phone, 1000.0));
        assert!(g(Phone, 7500.0) < -3.0);
        assert!(g(Laptop, 600.0) - g(Laptop, 100.0) > 20.0);
        assert!(g(Laptop, 2500.0) < g(Laptop, 1500.0) - 4.0);
        assert!((g(Laptop, 600.0) - 5.0).abs() < 1.5, "{}", g(Laptop, 600.0));
        assert!((g(BluetoothBox, 115.0) - g(BluetoothBox, 60.0)) > 12.0);
        assert!(g(BluetoothBox, 115.0) > 1.0, "{}", g(BluetoothBox, 115.0));
        assert!(
            g(BluetoothBox, 7500.0) < -2.0,
            "{}",
            g(BluetoothBox, 7500.0)
        );
        // Loud: the saturation compresses a full-scale phone tone's peaks (+6 dB linear).
        let mut loud = tone(1000.0, -3.0, 16_000);
        let linear_peak = 2.0 * loud.iter().fold(0.0f64, |m, v| m.max(v.abs()));
        speaker(&mut loud, Phone);
        let peak = loud[8000..].iter().fold(0.0f64, |m, v| m.max(v.abs()));
        assert!(peak < 0.75 * linear_peak, "{peak} {linear_peak}");
    }

    /// Schroeder backward integration of `h`; the RT60 of the least-squares line over
    /// −5..−25 dB of the decay curve (T20 × 3).
    fn schroeder_rt60(h: &[f64]) -> f64 {
        let mut left: Vec<f64> = h
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
            .filter(|&(_, d)| (-25.0..=-5.0).contains(&d))
            .unzip();
        let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
        let (mt, me) = (mean(&t), mean(&e));
        let cov: f64 = t.iter().zip(&e).map(|(a, b)| (a - mt) * (b - me)).sum();
        let var: f64 = t.iter().map(|a| (a - mt) * (a - mt)).sum();
        -60.0 / (cov / var)
    }

    #[test]
    fn room_decays_at_its_sabine_rt60() {
        let mut rts = Vec::new();
        for room in Shoebox::ALL {
            let mut rng = ChaCha8Rng::seed_from_u64(4);
            for d in [0.5, 1.5, 3.0] {
                let (source, mic) = place(&room, d, &mut rng);
                assert!(room.holds(source) && room.holds(mic));
                let apart = (0..3).map(|k| (source[k] - mic[k]).powi(2)).sum::<f64>();
                assert!((apart.sqrt() - d).abs() < 1e-9);
                let h = room_response(&room, source, mic, &mut rng);
                assert!((h.iter().map(|v| v * v).sum::<f64>() - 1.0).abs() < 1e-9);
                // Nothing before the direct path at LANCZOS_A; within 1.5 m it is the largest
                // tap (further away, coincident reflections can sum above it).
                let direct = LANCZOS_A as usize;
                assert!(h[direct] > 0.0);
                assert!(h[..direct].iter().all(|v| v.abs() < 1e-3 * h[direct]));
                let top = h
                    .iter()
                    .enumerate()
                    .fold(0, |m, (i, v)| if v.abs() > h[m].abs() { i } else { m });
                assert!(d > 1.5 || top == direct, "{room:?} {d}: {top}");
                let target = room.sabine_rt60_s();
                let measured = schroeder_rt60(&h);
                assert!(
                    (measured / target - 1.0).abs() < 0.25,
                    "{room:?} {d} m: {measured} s vs {target} s"
                );
            }
            rts.push(room.sabine_rt60_s());
        }
        // The three rooms are distinct: 0.33, 0.46, 0.74 s.
        for (rt, want) in rts.iter().zip([0.33, 0.46, 0.74]) {
            assert!((rt - want).abs() < 0.01, "{rt}");
        }
    }

    #[test]
    fn the_direct_path_weakens_with_distance() {
        // Direct-to-reverberant energy ratio falls as the microphone moves away.
        let drr = |d: f64| {
            let mut rng = ChaCha8Rng::seed_from_u64(1);
            let (s, m) = place(&Shoebox::LIVING, d, &mut rng);
            let h = room_response(&Shoebox::LIVING, s, m, &mut rng);
            let direct: f64 = h[..2 * LANCZOS_A as usize].iter().map(|v| v * v).sum();
            db(direct / (1.0 - direct))
        };
        let (near, far) = (drr(0.5), drr(3.0));
        assert!(near > far + 10.0, "{near} {far}");
    }

    #[test]
    fn convolution_matches_direct_form() {
        let mut rng = ChaCha8Rng::seed_from_u64(5);
        let x: Vec<f64> = (0..2000).map(|_| gauss(&mut rng)).collect();
        let h: Vec<f64> = (0..300).map(|_| gauss(&mut rng)).collect();
        let y = convolve(&x, &h);
        assert_eq!(y.len(), x.len());
        for (n, &yn) in y.iter().enumerate() {
            let direct: f64 = (0..=n.min(h.len() - 1)).map(|k| h[k] * x[n - k]).sum();
            assert!((yn - direct).abs() < 1e-9, "{n}");
        }
    }

    #[test]
    fn mems_sets_the_level_and_adds_its_self_noise() {
        let mut rng = ChaCha8Rng::seed_from_u64(2);
        let mut x = tone(1000.0, -10.0, 32_000);
        mems(&mut x, 70.0, &mut rng);
        // 70 dB SPL → 70 − 94 − 26 = −50 dBFS.
        assert!((dbfs(&x[16_000..]) + 50.0).abs() < 0.5, "{}", dbfs(&x));
        assert!(x.iter().all(|v| v.fract() == 0.0));
        // Silence: the self-noise, −26 − 62 = −88 dBFS (plus the ADC's rounding).
        let mut quiet = vec![0.0; 32_000];
        mems(&mut quiet, 70.0, &mut rng);
        assert!((dbfs(&quiet) + 88.0).abs() < 0.5, "{}", dbfs(&quiet));
        // The high-pass: 50 Hz loses about 7 dB against 1 kHz.
        let low = gain_at(|x| filter(x, &[Section::high_pass_1(100.0)]), 50.0);
        assert!((low + 6.99).abs() < 0.2, "{low}");
    }

    #[test]
    fn agc_brings_quiet_and_loud_input_to_its_target() {
        for input_dbfs in [-40.0, -3.0] {
            let mut x = tone(440.0, input_dbfs, 3 * 16_000);
            agc(&mut x);
            let level = dbfs(&x[32_000..]);
            assert!(
                (level - AGC_TARGET_DBFS).abs() < 1.0,
                "{input_dbfs}: {level}"
            );
        }
        // Louder than the gain range reaches: the limiter's ceiling holds every sample.
        let mut loud = tone(440.0, 0.0, 16_000);
        loud.iter_mut()
            .step_by(4000)
            .for_each(|v| *v = 40.0 * FULL_SCALE);
        agc(&mut loud);
        let ceiling = FULL_SCALE * 10f64.powf(LIMIT_DBFS / 20.0);
        assert!(loud.iter().all(|v| v.abs() <= ceiling + 1e-9));
        assert!(loud.iter().any(|v| v.abs() > 0.99 * ceiling));
    }

    #[test]
    fn hum_lies_on_50_hz_multiples() {
        let h = hum(1 << 16, &mut ChaCha8Rng::seed_from_u64(3));
        let spec = spectrum(&h);
        let bin_hz = FS / f64::from(1 << 16);
        let total: f64 = spec.iter().sum();
        let on: f64 = spec
            .iter()
            .enumerate()
            .filter(|&(i, _)| {
                let f = i as f64 * bin_hz;
                let nearest = (f / MAINS_HZ).round() * MAINS_HZ;
                nearest > 0.0 && nearest <= 8.0 * MAINS_HZ && (f - nearest).abs() < 2.0
            })
            .map(|(_, p)| p)
            .sum();
        assert!(on / total > 0.99, "{}", on / total);
    }

    #[test]
    fn fan_noise_is_low_band_and_swells() {
        let f = fan(4 * 16_000, &mut ChaCha8Rng::seed_from_u64(6));
        let spec = spectrum(&f);
        let bin_hz = FS / (2 * (spec.len() - 1)) as f64;
        let below = (2000.0 / bin_hz) as usize;
        let share = spec[..below].iter().sum::<f64>() / spec.iter().sum::<f64>();
        assert!(share > 0.9, "{share}");
        // 100 ms block levels vary with the modulation.
        let blocks: Vec<f64> = f.chunks(1600).map(power).collect();
        let (lo, hi) = blocks
            .iter()
            .fold((f64::MAX, 0.0f64), |(l, h), &b| (l.min(b), h.max(b)));
        assert!(db(hi / lo) > 3.0, "{}", db(hi / lo));
    }

    #[test]
    fn background_sounds_meet_their_levels() {
        let pcm = chord(2 * 16_000);
        for (stage, want) in [
            (Stage::Hum { snr_db: 20.0 }, 20.0),
            (Stage::Fan { snr_db: 15.0 }, 15.0),
            (Stage::OtherMusic { below_db: 15.0 }, 15.0),
        ] {
            let out = apply(&pcm, std::slice::from_ref(&stage), 11);
            let added: Vec<f64> = out
                .iter()
                .zip(&pcm)
                .map(|(&y, &x)| f64::from(y) - f64::from(x))
                .collect();
            let measured = db(power(&to_f64(&pcm)) / power(&added));
            assert!((measured - want).abs() < 0.5, "{stage:?}: {measured}");
        }
    }

    #[test]
    fn other_music_has_beats_and_tonal_lines() {
        let m = other_music(4 * 16_000, &mut ChaCha8Rng::seed_from_u64(8));
        assert!(power(&m) > 0.0);
        // Struck notes: 20 ms block energy swings by well over 10 dB within each beat.
        let blocks: Vec<f64> = m.chunks(320).map(power).collect();
        let (lo, hi) = blocks
            .iter()
            .fold((f64::MAX, 0.0f64), |(l, h), &b| (l.min(b), h.max(b)));
        assert!(db(hi / lo) > 10.0, "{}", db(hi / lo));
        // Tonal: the strongest 1 % of bins hold most of the energy.
        let mut spec = spectrum(&m);
        spec.sort_by(|a, b| b.total_cmp(a));
        let top: f64 = spec[..spec.len() / 100].iter().sum();
        assert!(top / spec.iter().sum::<f64>() > 0.5);
    }

    #[test]
    fn room_keeps_the_level_and_over_the_air_lands_near_minus_40_dbfs() {
        // White noise at −20 dBFS: a unit-energy response keeps its power.
        let mut rng = ChaCha8Rng::seed_from_u64(9);
        let noise: Vec<f64> = (0..3 * 16_000)
            .map(|_| 0.1 * FULL_SCALE * gauss(&mut rng))
            .collect();
        let noise = as_i16(&noise);
        let room = apply(
            &noise,
            &[Stage::Room {
                min_m: 1.0,
                max_m: 1.0,
            }],
            5,
        );
        let change = db(power(&to_f64(&room[16_000..])) / power(&to_f64(&noise[16_000..])));
        assert!(change.abs() < 0.5, "{change}");
        // AGC to −20 dBFS, then −20 dB.
        let pcm = chord(3 * 16_000);
        let air = &conditions()[1].1;
        let level = dbfs(&to_f64(&apply(&pcm, air, 5)[32_000..]));
        assert!((level + 40.0).abs() < 2.0, "{level}");
    }
}
