//! Sounds without music, synthesised here (issue #21): what the model learns to call "no
//! music" and what `eval` scores that on. Eleven kinds, each drawn with random parameters and
//! a random level (dBFS: RMS relative to `i16` full scale), at 16 kHz:
//! silence with dither, microphone self-noise, white, pink and brown noise, mains hum with
//! harmonics, fan/HVAC band noise, steady tones, sweeps, clicks, and mixes of these at a low
//! level. Deterministic for a seed; no audio is stored. Speech is not among them: the three
//! real recordings PyPI ships (`scripts/speech-check`) are scored apart, never trained on.

use genre_core::config::{FeatureFrame, FILE_MUSIC_ONE_IN, NO_MUSIC_BELOW_Q16, SAMPLE_RATE_HZ};
use genre_core::decision::{file_has_music, music_in_one_of};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::Serialize;

use crate::capture::{self, Condition};

const FS: f64 = SAMPLE_RATE_HZ as f64;

/// One kind of sound without music.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum Kind {
    /// Digital zeros, then ±1 LSB of triangular dither (or dither throughout).
    Silence,
    /// White noise at −80…−55 dBFS: a quiet room through a microphone.
    MicNoise,
    /// White noise at −60…−10 dBFS.
    White,
    /// Pink noise (−3 dB per octave) at −60…−10 dBFS.
    Pink,
    /// Brown noise (−6 dB per octave) at −60…−10 dBFS.
    Brown,
    /// 50 or 60 Hz mains hum with 2–12 harmonics, over a faint noise floor.
    Hum,
    /// Band-limited noise (a fan or air conditioning) with a faint blade tone that wavers.
    Fan,
    /// One to three steady sine tones at 80 Hz–5 kHz.
    Tone,
    /// Sine sweeps (linear or logarithmic, up or down) of 1–20 s, repeated.
    Sweep,
    /// Clicks at 0.5–12 per second, regular or not, over a faint noise floor.
    Clicks,
    /// Two or three of the kinds above at −55…−30 dBFS together.
    Mix,
}

/// Every kind, in table order.
pub const KINDS: [Kind; 11] = [
    Kind::Silence,
    Kind::MicNoise,
    Kind::White,
    Kind::Pink,
    Kind::Brown,
    Kind::Hum,
    Kind::Fan,
    Kind::Tone,
    Kind::Sweep,
    Kind::Clicks,
    Kind::Mix,
];

impl Kind {
    /// The table's name of the kind.
    pub fn name(self) -> &'static str {
        match self {
            Self::Silence => "silence + dither",
            Self::MicNoise => "microphone self-noise",
            Self::White => "white noise",
            Self::Pink => "pink noise",
            Self::Brown => "brown noise",
            Self::Hum => "mains hum",
            Self::Fan => "fan / HVAC",
            Self::Tone => "steady tones",
            Self::Sweep => "sweeps",
            Self::Clicks => "clicks",
            Self::Mix => "mixes at low level",
        }
    }

    /// `seconds` of this kind at 16 kHz, drawn from `rng`.
    pub fn synth(self, seconds: f64, rng: &mut ChaCha8Rng) -> Vec<i16> {
        let n = (seconds * FS) as usize;
        let x = match self {
            Self::Silence => return silence(n, rng),
            Self::MicNoise => at_level(white(n, rng), rng.random_range(-80.0..-55.0)),
            Self::White => at_level(white(n, rng), loud(rng)),
            Self::Pink => at_level(capture::coloured_noise(n, 1.0, rng), loud(rng)),
            Self::Brown => at_level(capture::coloured_noise(n, 2.0, rng), loud(rng)),
            Self::Hum => at_level(hum(n, rng), loud(rng)),
            Self::Fan => at_level(fan(n, rng), loud(rng)),
            Self::Tone => at_level(tones(n, rng), loud(rng)),
            Self::Sweep => at_level(sweeps(n, rng), loud(rng)),
            Self::Clicks => at_level(clicks(n, rng), loud(rng)),
            Self::Mix => mix(n, rng),
        };
        to_i16(&x)
    }
}

/// A level for the audible kinds, dBFS.
fn loud(rng: &mut ChaCha8Rng) -> f64 {
    rng.random_range(-60.0..-10.0)
}

fn white(n: usize, rng: &mut ChaCha8Rng) -> Vec<f64> {
    (0..n).map(|_| rng.random_range(-1.0..=1.0)).collect()
}

/// `x` scaled to an RMS of `db` dBFS (0 dBFS: RMS of `i16::MAX`).
fn at_level(mut x: Vec<f64>, db: f64) -> Vec<f64> {
    let rms = (x.iter().map(|v| v * v).sum::<f64>() / x.len().max(1) as f64).sqrt();
    if rms > 0.0 {
        let gain = f64::from(i16::MAX) * 10f64.powf(db / 20.0) / rms;
        x.iter_mut().for_each(|v| *v *= gain);
    }
    x
}

fn to_i16(x: &[f64]) -> Vec<i16> {
    x.iter()
        .map(|v| v.round().clamp(f64::from(i16::MIN), f64::from(i16::MAX)) as i16)
        .collect()
}

fn silence(n: usize, rng: &mut ChaCha8Rng) -> Vec<i16> {
    let zeros = if rng.random_bool(0.5) {
        rng.random_range(0..=n)
    } else {
        0
    };
    (0..n)
        .map(|i| {
            if i < zeros {
                0
            } else {
                // Triangular dither: the sum of two uniform draws of −½…½ LSB, rounded.
                (rng.random_range(-0.5..0.5f64) + rng.random_range(-0.5..0.5f64)).round() as i16
            }
        })
        .collect()
}

fn hum(n: usize, rng: &mut ChaCha8Rng) -> Vec<f64> {
    let f0 = if rng.random_bool(0.5) { 50.0 } else { 60.0 } * rng.random_range(0.99..1.01);
    let harmonics: Vec<(f64, f64, f64)> = (1..=rng.random_range(2..=12))
        .map(|k| {
            let k = f64::from(k);
            let amplitude = rng.random_range(0.1..1.0) / k.powf(rng.random_range(0.0..1.5));
            (
                k * f0,
                amplitude,
                rng.random_range(0.0..core::f64::consts::TAU),
            )
        })
        .filter(|&(f, _, _)| f < FS / 2.0)
        .collect();
    let floor = white(n, rng);
    (0..n)
        .map(|i| {
            let t = i as f64 / FS;
            harmonics
                .iter()
                .map(|&(f, a, p)| a * (core::f64::consts::TAU * f * t + p).sin())
                .sum::<f64>()
                + 0.003 * floor[i]
        })
        .collect()
}

/// `x` through `condition`'s filters (capture.rs), at a working level well inside `i16`.
fn filtered(x: Vec<f64>, condition: &Condition, seed: u64) -> Vec<f64> {
    let pcm = to_i16(&at_level(x, -20.0));
    capture::apply(&pcm, condition, seed)
        .into_iter()
        .map(f64::from)
        .collect()
}

fn fan(n: usize, rng: &mut ChaCha8Rng) -> Vec<f64> {
    let low = rng.random_range(40.0..400.0);
    let high = rng.random_range(low * 3.0..7000.0);
    let noise = filtered(
        capture::coloured_noise(n, rng.random_range(0.0..2.0), rng),
        &capture::speaker_band(low, high),
        rng.random(),
    );
    let rms = (noise.iter().map(|v| v * v).sum::<f64>() / n.max(1) as f64).sqrt();
    // The blade tone: 20-150 Hz, its pitch wavering by up to 2 % over a few seconds.
    let (blade, share) = (rng.random_range(20.0..150.0), rng.random_range(0.0..0.3));
    let (wobble_hz, depth) = (rng.random_range(0.1..0.5), rng.random_range(0.0..0.02));
    let mut phase = 0.0;
    noise
        .iter()
        .enumerate()
        .map(|(i, v)| {
            let t = i as f64 / FS;
            phase += core::f64::consts::TAU
                * blade
                * (1.0 + depth * (core::f64::consts::TAU * wobble_hz * t).sin())
                / FS;
            v + share * rms * core::f64::consts::SQRT_2 * phase.sin()
        })
        .collect()
}

fn tones(n: usize, rng: &mut ChaCha8Rng) -> Vec<f64> {
    let tones: Vec<(f64, f64)> = (0..rng.random_range(1..=3))
        .map(|_| {
            (
                80.0 * (5000.0f64 / 80.0).powf(rng.random::<f64>()),
                rng.random_range(0.2..1.0),
            )
        })
        .collect();
    (0..n)
        .map(|i| {
            let t = i as f64 / FS;
            tones
                .iter()
                .map(|&(f, a)| a * (core::f64::consts::TAU * f * t).sin())
                .sum()
        })
        .collect()
}

fn sweeps(n: usize, rng: &mut ChaCha8Rng) -> Vec<f64> {
    let period = (rng.random_range(1.0..20.0) * FS) as usize;
    let (mut lo, mut hi): (f64, f64) = (
        rng.random_range(20.0..500.0),
        rng.random_range(1000.0..7900.0),
    );
    if rng.random_bool(0.5) {
        (lo, hi) = (hi, lo);
    }
    let logarithmic = rng.random_bool(0.5);
    let mut phase = 0.0;
    (0..n)
        .map(|i| {
            let u = (i % period.max(1)) as f64 / period.max(1) as f64;
            let f = if logarithmic {
                lo * (hi / lo).powf(u)
            } else {
                lo + (hi - lo) * u
            };
            phase += core::f64::consts::TAU * f / FS;
            phase.sin()
        })
        .collect()
}

fn clicks(n: usize, rng: &mut ChaCha8Rng) -> Vec<f64> {
    let rate = rng.random_range(0.5..12.0);
    let jitter = if rng.random_bool(0.5) {
        0.0
    } else {
        rng.random_range(0.0..0.9)
    };
    // Each click: a few ms of decaying noise or a single impulse.
    let length = rng.random_range(1..=80usize);
    let mut x: Vec<f64> = white(n, rng).iter().map(|v| 0.001 * v).collect();
    let mut at = rng.random_range(0.0..FS / rate);
    while (at as usize) < n {
        let start = at as usize;
        for (k, v) in x[start..(start + length).min(n)].iter_mut().enumerate() {
            let decay = (-(k as f64) / (length as f64 / 4.0 + 0.5)).exp();
            *v += decay
                * if k == 0 {
                    1.0
                } else {
                    rng.random_range(-1.0..1.0)
                };
        }
        at += FS / rate * (1.0 + jitter * rng.random_range(-0.5..0.5));
    }
    x
}

fn mix(n: usize, rng: &mut ChaCha8Rng) -> Vec<f64> {
    let parts = rng.random_range(2..=3);
    let mut out = vec![0.0; n];
    for _ in 0..parts {
        let kind = KINDS[rng.random_range(1..KINDS.len() - 1)];
        let part = kind.synth(n as f64 / FS, rng);
        let part = at_level(
            part.iter().map(|&v| f64::from(v)).collect(),
            rng.random_range(-55.0..-30.0),
        );
        for (o, p) in out.iter_mut().zip(part) {
            *o += p;
        }
    }
    out
}

/// The kinds a model still takes for music most often once the others are learnt (the
/// README's #21 tables: a click train is close to a drum machine, a tone over clicks closer
/// still): `--no-music-focus` draws more of them.
pub const FOCUS_KINDS: [Kind; 2] = [Kind::Clicks, Kind::Mix];

/// How many sounds of `kind` to draw: `per_kind`, times `focus` for [`FOCUS_KINDS`].
#[must_use]
pub fn count(kind: Kind, per_kind: usize, focus: usize) -> usize {
    if FOCUS_KINDS.contains(&kind) {
        per_kind * focus
    } else {
        per_kind
    }
}

/// Sounds without music for training or scoring: [`count`] of each kind, `seconds` long,
/// their model frames (the device's frontend, c0…c12 relative as the stream makes it); every
/// other one of them also through a random capture chain (augment.rs's), as a microphone in a
/// room would hear it.
pub fn frames(
    seed: u64,
    per_kind: usize,
    focus: usize,
    seconds: f64,
) -> Vec<(Kind, Vec<FeatureFrame>)> {
    pcm(seed, per_kind, focus, seconds)
        .into_iter()
        .map(|(kind, pcm)| {
            let mut frames = crate::features::frames_of(&pcm);
            genre_core::level::apply_to_stream(&mut frames);
            (kind, frames)
        })
        .collect()
}

/// The audio of [`frames`].
pub fn pcm(seed: u64, per_kind: usize, focus: usize, seconds: f64) -> Vec<(Kind, Vec<i16>)> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut out = Vec::with_capacity(KINDS.iter().map(|&k| count(k, per_kind, focus)).sum());
    for kind in KINDS {
        for i in 0..count(kind, per_kind, focus) {
            let pcm = kind.synth(seconds, &mut rng);
            let pcm = if i % 2 == 1 && kind != Kind::Silence {
                crate::augment::augment(&pcm, rng.random(), 0)
            } else {
                pcm
            };
            out.push((kind, pcm));
        }
    }
    out
}

/// One kind's windows in the no-music table: device windows, and those the integer stream
/// (the device's path: level gate and model rule) and the float model (its rule alone)
/// called music.
#[derive(Clone, Debug, Serialize)]
pub struct KindScore {
    pub kind: &'static str,
    pub windows: usize,
    pub music_int: usize,
    pub music_float: usize,
}

/// The no-music figures of the cross-validation: sounds without music (each fold's model, on
/// sounds drawn with a seed training never used) and the held-out music.
#[derive(Clone, Debug, Default, Serialize)]
pub struct NoMusicReport {
    pub kinds: Vec<KindScore>,
    /// Device windows (consecutive, from the start) of the held-out scored clips.
    pub music_windows: usize,
    /// Of those, the windows called no music.
    pub music_windows_lost_int: usize,
    pub music_windows_lost_float: usize,
    pub clips: usize,
    /// Held-out clips that too few of their windows call music: `predict` would give them no
    /// genre ([`file_has_music`]).
    pub clips_lost_int: usize,
    pub clips_lost_float: usize,
    /// The held-out clips the integer rule gives no genre.
    pub lost_clips_int: Vec<String>,
    /// What other thresholds of the integer rule would give: [`NoMusicReport::sweep_rows`]
    /// of the whole cross-validation, filled once at its end.
    pub sweep: Vec<SweepRow>,
    /// What other file rules would give: [`NoMusicReport::file_rule_rows`], filled with
    /// `sweep`.
    pub file_rules: Vec<FileRuleRow>,
    /// Per held-out clip: its name, whether it is one of the 126 (not `more-clips`), and its
    /// windows' largest Q16 logits.
    #[serde(skip)]
    music_peaks: Vec<(String, bool, Vec<i32>)>,
    /// Per kind: its windows' largest Q16 logits, `None` for a window judged silence.
    #[serde(skip)]
    kind_peaks: Vec<(&'static str, Vec<Option<i32>>)>,
}

/// The integer rule's figures at one threshold on the largest Q16 logit.
#[derive(Clone, Debug, Serialize)]
pub struct SweepRow {
    /// The threshold in logit units (the device's is `NO_MUSIC_BELOW_Q16` / 2^16).
    pub threshold: f64,
    pub music_windows_lost: usize,
    /// Held-out clips given no genre: of the 126, and of `more-clips`.
    pub clips_lost_of_126: usize,
    pub clips_lost_more: usize,
    /// Per kind, in [`KINDS`] order: windows called music.
    pub kinds_music: Vec<(&'static str, usize)>,
}

/// The integer rule's held-out clips without a genre if a file needed music in at least one
/// in `one_in` of its windows (the shipped rule: [`genre_core::config::FILE_MUSIC_ONE_IN`]).
#[derive(Clone, Debug, Serialize)]
pub struct FileRuleRow {
    pub one_in: u32,
    pub clips_lost_of_126: usize,
    pub clips_lost_more: usize,
    /// Those of the 126, by name.
    pub lost_of_126: Vec<String>,
}

/// The file rules [`NoMusicReport::file_rule_rows`] compares: one in 2 … 5 windows of music.
const FILE_RULES_ONE_IN: [u32; 4] = [2, 3, 4, 5];

/// Thresholds the sweep tries, in logit units.
const SWEEP_THRESHOLDS: [f64; 9] = [-1.0, -0.5, 0.0, 0.25, 0.5, 0.75, 1.0, 1.5, 2.0];

impl NoMusicReport {
    /// Adds another fold's figures.
    pub fn merge(&mut self, other: &Self) {
        for k in &other.kinds {
            match self.kinds.iter_mut().find(|m| m.kind == k.kind) {
                Some(m) => {
                    m.windows += k.windows;
                    m.music_int += k.music_int;
                    m.music_float += k.music_float;
                }
                None => self.kinds.push(k.clone()),
            }
        }
        self.music_windows += other.music_windows;
        self.music_windows_lost_int += other.music_windows_lost_int;
        self.music_windows_lost_float += other.music_windows_lost_float;
        self.clips += other.clips;
        self.clips_lost_int += other.clips_lost_int;
        self.clips_lost_float += other.clips_lost_float;
        self.lost_clips_int.extend_from_slice(&other.lost_clips_int);
        self.music_peaks.extend_from_slice(&other.music_peaks);
        for (kind, peaks) in &other.kind_peaks {
            match self.kind_peaks.iter_mut().find(|(k, _)| k == kind) {
                Some((_, mine)) => mine.extend_from_slice(peaks),
                None => self.kind_peaks.push((kind, peaks.clone())),
            }
        }
    }

    /// The held-out clips without a genre if a window needed its largest Q16 logit at `q16` or
    /// above and a file music in one of every `one_in` windows: those of the 126 by name, and
    /// how many of `more-clips`.
    fn clips_lost(&self, q16: i32, one_in: u32) -> (Vec<String>, usize) {
        let (mut of_126, mut more) = (Vec::new(), 0);
        for (name, of_the_126, peaks) in &self.music_peaks {
            let music = peaks.iter().filter(|&&p| p >= q16).count();
            if music_in_one_of(music as u64, peaks.len() as u64, one_in) {
                continue;
            }
            if *of_the_126 {
                of_126.push(name.clone());
            } else {
                more += 1;
            }
        }
        (of_126, more)
    }

    /// The integer rule's figures at each of [`SWEEP_THRESHOLDS`]: what moving
    /// `NO_MUSIC_BELOW_Q16` would trade, measured on the same held-out windows and sounds.
    #[must_use]
    pub fn sweep_rows(&self) -> Vec<SweepRow> {
        SWEEP_THRESHOLDS
            .iter()
            .map(|&threshold| {
                let q16 = (threshold * 65_536.0).round() as i32;
                let (of_126, more) = self.clips_lost(q16, FILE_MUSIC_ONE_IN);
                SweepRow {
                    threshold,
                    music_windows_lost: self
                        .music_peaks
                        .iter()
                        .map(|(_, _, peaks)| peaks.iter().filter(|&&p| p < q16).count())
                        .sum(),
                    clips_lost_of_126: of_126.len(),
                    clips_lost_more: more,
                    kinds_music: self
                        .kind_peaks
                        .iter()
                        .map(|(kind, peaks)| {
                            (*kind, peaks.iter().flatten().filter(|&&p| p >= q16).count())
                        })
                        .collect(),
                }
            })
            .collect()
    }

    /// The held-out clips each of [`FILE_RULES_ONE_IN`] would give no genre, at the device's
    /// threshold: what moving [`FILE_MUSIC_ONE_IN`] would trade on music (its cost, a sound
    /// without music given a genre, needs whole files: `tinygenre`'s signal tests).
    #[must_use]
    pub fn file_rule_rows(&self) -> Vec<FileRuleRow> {
        FILE_RULES_ONE_IN
            .iter()
            .map(|&one_in| {
                let (lost_of_126, clips_lost_more) = self.clips_lost(NO_MUSIC_BELOW_Q16, one_in);
                FileRuleRow {
                    one_in,
                    clips_lost_of_126: lost_of_126.len(),
                    clips_lost_more,
                    lost_of_126,
                }
            })
            .collect()
    }
}

/// Sounds without music to score: the audio (for the integer stream) and its frames (for the
/// float model).
pub struct Probe {
    pub kind: Kind,
    pub pcm: Vec<i16>,
    pub frames: Vec<FeatureFrame>,
}

/// The eval's sounds without music: 20 of each kind, 20 s each (six device windows), from a
/// seed of their own.
pub fn probes(seed: u64) -> Vec<Probe> {
    pcm(seed ^ 0x6e6f_6d75_7369_6321, 20, 1, 20.0)
        .into_iter()
        .map(|(kind, pcm)| {
            let mut frames = crate::features::frames_of(&pcm);
            genre_core::level::apply_to_stream(&mut frames);
            Probe { kind, pcm, frames }
        })
        .collect()
}

/// Whether float logits call a window music (the device's rule, in float units).
fn float_music(logits: &[f32; genre_core::config::N_GENRES]) -> bool {
    logits.iter().fold(f32::NEG_INFINITY, |m, &v| m.max(v))
        >= genre_core::config::NO_MUSIC_BELOW_Q16 as f32 / 65_536.0
}

/// A held-out music window's integer logits (float units) and its clip's genre.
pub type HeldOutWindow = ([f32; genre_core::config::N_GENRES], usize);

/// A held-out music clip to score.
pub struct HeldOutClip<'a> {
    pub name: &'a str,
    pub frames: &'a [FeatureFrame],
    pub genre: usize,
    /// One of the 126 GTZAN clips (not `more-clips`).
    pub of_the_126: bool,
}

/// One fold's no-music figures for its exported model; also returns the held-out music
/// windows' integer logits (float units) and genres, for the calibration.
///
/// # Errors
/// The fold's blob does not parse.
pub fn score_fold(
    exported: &crate::export::Exported,
    held_out: &[HeldOutClip<'_>],
    probes: &[Probe],
) -> anyhow::Result<(NoMusicReport, Vec<HeldOutWindow>)> {
    use genre_core::config::WINDOW_FRAMES;
    use genre_core::lstm::FloatEngine;
    use genre_core::quant::dequantize_logits;
    use genre_core::stream::{Heard, Stream};

    let model = genre_core::format::Model::parse(&exported.blob)
        .map_err(|e| anyhow::anyhow!("weights blob: {e}"))?;
    let int = crate::classify::IntClassifier::parse(&exported.blob)?;
    let mut engine = FloatEngine::new();
    let mut float_logits = |window: &[FeatureFrame]| {
        engine.reset();
        for frame in window {
            engine.step(&exported.float, frame);
        }
        engine.window_logits(&exported.float)
    };
    let mut report = NoMusicReport::default();
    let mut scored = Vec::new();
    for clip in held_out {
        let (windows, _) = clip.frames.as_chunks::<WINDOW_FRAMES>();
        let (mut music_int, mut music_float) = (0, 0);
        let mut peaks = Vec::with_capacity(windows.len());
        for window in windows {
            let q16 = int.window_logits(window);
            let heard = Heard::judge(f32::INFINITY, &q16);
            peaks.push(q16.iter().copied().max().unwrap_or(i32::MIN));
            music_int += usize::from(heard.is_music());
            music_float += usize::from(float_music(&float_logits(window)));
            if heard.is_music() {
                scored.push((dequantize_logits(&q16), clip.genre));
            }
        }
        let n = windows.len();
        report.clips += 1;
        report.music_windows += n;
        report.music_windows_lost_int += n - music_int;
        report.music_windows_lost_float += n - music_float;
        let has_music = |music: usize| file_has_music(music as u64, n as u64);
        report.clips_lost_int += usize::from(!has_music(music_int));
        report.clips_lost_float += usize::from(!has_music(music_float));
        if !has_music(music_int) {
            report.lost_clips_int.push(clip.name.to_owned());
        }
        report
            .music_peaks
            .push((clip.name.to_owned(), clip.of_the_126, peaks));
    }
    for kind in KINDS {
        let mut score = KindScore {
            kind: kind.name(),
            windows: 0,
            music_int: 0,
            music_float: 0,
        };
        let mut peaks = Vec::new();
        for probe in probes.iter().filter(|p| p.kind == kind) {
            let mut stream = Box::new(Stream::new());
            stream.push(&model, &probe.pcm, &(), |w, _| {
                score.windows += 1;
                score.music_int += usize::from(w.heard.is_music());
                peaks.push(
                    (w.heard != Heard::Silence)
                        .then(|| w.logits.iter().copied().max().unwrap_or(i32::MIN)),
                );
            });
            let (windows, _) = probe.frames.as_chunks::<WINDOW_FRAMES>();
            score.music_float += windows
                .iter()
                .filter(|w| float_music(&float_logits(&w[..])))
                .count();
        }
        report.kinds.push(score);
        report.kind_peaks.push((kind.name(), peaks));
    }
    Ok((report, scored))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rms_dbfs(x: &[i16]) -> f64 {
        let p = x.iter().map(|&v| f64::from(v).powi(2)).sum::<f64>() / x.len() as f64;
        10.0 * (p / f64::from(i16::MAX).powi(2)).log10()
    }

    #[test]
    fn every_kind_has_its_length_and_a_level_in_range() {
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        for kind in KINDS {
            for _ in 0..5 {
                let x = kind.synth(2.0, &mut rng);
                assert_eq!(x.len(), 32_000, "{kind:?}");
                let db = rms_dbfs(&x);
                let (lo, hi) = match kind {
                    Kind::Silence => (-200.0, -85.0),
                    Kind::MicNoise => (-81.0, -54.0),
                    Kind::Mix => (-60.0, -25.0),
                    _ => (-61.0, -9.0),
                };
                assert!(db.is_nan() || (lo..hi).contains(&db), "{kind:?}: {db} dBFS");
            }
        }
    }

    #[test]
    fn the_sweep_counts_what_each_threshold_drops_and_lets_through() {
        let one = 65_536;
        let mut a = NoMusicReport {
            music_peaks: vec![("a".into(), true, vec![2 * one, one / 2, -one, -one])],
            kind_peaks: vec![("tones", vec![Some(one), None, Some(-2 * one)])],
            ..NoMusicReport::default()
        };
        let b = NoMusicReport {
            music_peaks: vec![("b".into(), false, vec![one / 2, 0])],
            kind_peaks: vec![("tones", vec![Some(3 * one)])],
            ..NoMusicReport::default()
        };
        a.merge(&b);
        let sweep = a.sweep_rows();
        let at = |t: f64| sweep.iter().find(|r| r.threshold == t).unwrap();
        // At 0: the two windows below 0 are lost; both clips keep half their windows.
        assert_eq!(at(0.0).music_windows_lost, 2);
        assert_eq!((at(0.0).clips_lost_of_126, at(0.0).clips_lost_more), (0, 0));
        assert_eq!(at(0.0).kinds_music, vec![("tones", 2)]);
        // At 0.75: a keeps one window in four (enough), b none; a silent window never counts.
        assert_eq!(at(0.75).music_windows_lost, 5);
        assert_eq!(
            (at(0.75).clips_lost_of_126, at(0.75).clips_lost_more),
            (0, 1)
        );
        assert_eq!(at(0.75).kinds_music, vec![("tones", 2)]);
        assert_eq!(at(2.0).kinds_music, vec![("tones", 1)]);
        assert_eq!(at(-1.0).music_windows_lost, 0);
    }

    #[test]
    fn each_file_rule_counts_the_clips_with_too_little_music() {
        let one = 65_536;
        let report = NoMusicReport {
            music_peaks: vec![
                // One window in three of music: lost when a file needs one in two.
                ("a".into(), true, vec![one, -one, -one]),
                // One in five: kept only by one in five.
                ("b".into(), true, vec![one, -one, -one, -one, -one]),
                ("c".into(), false, vec![-one, -one]),
                ("d".into(), true, vec![one, one]),
            ],
            ..NoMusicReport::default()
        };
        let rows = report.file_rule_rows();
        let lost = |one_in: u32| {
            let row = rows.iter().find(|r| r.one_in == one_in).unwrap();
            (row.lost_of_126.clone(), row.clips_lost_more)
        };
        assert_eq!(lost(2), (vec!["a".to_owned(), "b".to_owned()], 1));
        assert_eq!(lost(3), (vec!["b".to_owned()], 1));
        assert_eq!(lost(4), (vec!["b".to_owned()], 1));
        assert_eq!(lost(5), (vec![], 1));
        let shipped = rows.iter().find(|r| r.one_in == FILE_MUSIC_ONE_IN).unwrap();
        assert_eq!(shipped.clips_lost_of_126 + shipped.clips_lost_more, 2);
    }

    #[test]
    fn deterministic_for_a_seed() {
        let a = pcm(9, 2, 1, 1.0);
        assert_eq!(a.len(), 2 * KINDS.len());
        assert_eq!(a, pcm(9, 2, 1, 1.0));
        assert_ne!(a, pcm(10, 2, 1, 1.0));
    }

    #[test]
    fn focus_multiplies_its_kinds_and_leaves_the_first_draws_alone() {
        let plain = pcm(9, 2, 1, 1.0);
        let focused = pcm(9, 2, 3, 1.0);
        let of = |v: &[(Kind, Vec<i16>)], k: Kind| v.iter().filter(|(kind, _)| *kind == k).count();
        for kind in KINDS {
            let times = if FOCUS_KINDS.contains(&kind) { 3 } else { 1 };
            assert_eq!(of(&focused, kind), 2 * times, "{kind:?}");
        }
        // The kinds before the first focused one are drawn from the same stream.
        let before = KINDS.iter().position(|k| FOCUS_KINDS.contains(k)).unwrap() * 2;
        assert_eq!(plain[..before], focused[..before]);
    }

    #[test]
    fn hum_is_at_the_mains_frequency_and_its_harmonics() {
        let mut rng = ChaCha8Rng::seed_from_u64(5);
        let x = hum(16_000, &mut rng);
        // Energy at 50 or 60 Hz (a 1 s DFT bin each) dwarfs the energy at 55 Hz.
        let bin = |f: f64| {
            let (mut re, mut im) = (0.0, 0.0);
            for (i, v) in x.iter().enumerate() {
                let w = core::f64::consts::TAU * f * i as f64 / FS;
                re += v * w.cos();
                im += v * w.sin();
            }
            re * re + im * im
        };
        let mains = bin(50.0).max(bin(60.0)).max(bin(49.5)).max(bin(60.5));
        assert!(mains > 100.0 * bin(55.0), "{mains} vs {}", bin(55.0));
    }
}
