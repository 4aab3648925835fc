//! Each fold's models scored on their held-out clips under the capture conditions of
//! [`crate::capture`] (generated deterministically from the clip's audio), and a level sweep.
//!
//! A clip's decision here is the device's: mean log-probability over its non-overlapping
//! windows (cheaper than the stride used for the headline figure, and what a board decides
//! on). The `clean` row uses the same rule, so every row compares like with like.

use anyhow::{Context, Result};
use genre_core::config::{FeatureFrame, WINDOW_FRAMES};
use rayon::prelude::*;
use serde::Serialize;

use crate::capture::{self, Condition};
use crate::classify::{argmax, clip_decision, WindowClassifier};
use crate::dataset::Clip;
use crate::export::Exported;
use crate::features::frames_of;

/// Gains of the level sweep, dB (0 dB is the clean clip).
pub const SWEEP_DB: [f64; 5] = [-40.0, -30.0, -20.0, -10.0, 0.0];

/// One condition's counts over the held-out clips.
#[derive(Debug, Clone, Serialize)]
pub struct ConditionResult {
    pub condition: String,
    pub clips: usize,
    pub float_correct: usize,
    pub int_correct: usize,
    /// Integer engine: clips whose decision is the one it gives on the clean clip.
    pub int_same_as_clean: usize,
    /// The other-artist clips alone: clips and integer correct.
    pub other_artist_clips: usize,
    pub other_artist_int_correct: usize,
}

/// The robustness table and the level sweep, all folds.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Robustness {
    pub conditions: Vec<ConditionResult>,
    /// Clips whose integer decision is the same at every gain of [`SWEEP_DB`].
    pub level_sweep_clips: usize,
    pub level_sweep_unchanged: usize,
}

impl Robustness {
    /// Adds a fold's counts (conditions in the same order).
    pub fn merge(&mut self, other: &Robustness) {
        if self.conditions.is_empty() {
            self.conditions = other.conditions.clone();
        } else {
            for (a, b) in self.conditions.iter_mut().zip(&other.conditions) {
                a.clips += b.clips;
                a.float_correct += b.float_correct;
                a.int_correct += b.int_correct;
                a.int_same_as_clean += b.int_same_as_clean;
                a.other_artist_clips += b.other_artist_clips;
                a.other_artist_int_correct += b.other_artist_int_correct;
            }
        }
        self.level_sweep_clips += other.level_sweep_clips;
        self.level_sweep_unchanged += other.level_sweep_unchanged;
    }
}

/// The model input of captured audio: features, then c0 relative to its running mean.
fn model_input(pcm: &[i16]) -> Vec<FeatureFrame> {
    let mut frames = frames_of(pcm);
    genre_core::level::apply_to_stream(&mut frames);
    frames
}

/// The device's clip decision (non-overlapping windows), if the clip holds a window.
fn decide(c: &mut dyn WindowClassifier, frames: &[FeatureFrame]) -> Option<usize> {
    clip_decision(c, frames, WINDOW_FRAMES).map(|(logp, _)| argmax(&logp))
}

/// Per clip: (float, int) decision per condition, and the int decision per sweep gain.
type ClipOutcome = (Vec<(Option<usize>, Option<usize>)>, Vec<Option<usize>>);

/// Scores one fold's models on its held-out `clips` (indices into `all`).
///
/// # Errors
/// A clip cannot be decoded, or the blob does not parse.
pub fn measure(
    exported: &Exported,
    all: &[Clip],
    clips: &[usize],
    seed: u64,
) -> Result<Robustness> {
    let conditions = capture::robustness_conditions();
    let outcomes: Vec<ClipOutcome> = clips
        .par_iter()
        .map(|&i| -> Result<ClipOutcome> {
            let clip = &all[i];
            let pcm = genre_audio::load_pcm16k(&clip.path)
                .with_context(|| format!("robustness: {}", clip.name))?;
            let mut float = exported.float_classifier();
            let mut int = exported.int_classifier()?;
            let per_condition: Vec<(Option<usize>, Option<usize>)> = conditions
                .iter()
                .enumerate()
                .map(|(k, (_, condition))| {
                    let clip_seed = seed ^ ((i as u64) << 8) ^ k as u64;
                    let frames = model_input(&capture::apply(&pcm, condition, clip_seed));
                    (decide(&mut float, &frames), decide(&mut int, &frames))
                })
                .collect();
            // Gains the table already scored (clean is 0 dB) are not run again.
            let sweep = SWEEP_DB
                .iter()
                .map(|&db| {
                    let gain = if db == 0.0 {
                        Condition::Clean
                    } else {
                        Condition::level(db)
                    };
                    let scored = conditions.iter().position(|(_, c)| *c == gain);
                    scored.map_or_else(
                        || decide(&mut int, &model_input(&capture::apply(&pcm, &gain, seed))),
                        |k| per_condition[k].1,
                    )
                })
                .collect();
            Ok((per_condition, sweep))
        })
        .collect::<Result<_>>()?;

    let clean = conditions
        .iter()
        .position(|(name, _)| *name == "clean")
        .unwrap_or(0);
    let mut out = Robustness::default();
    for (k, (name, _)) in conditions.iter().enumerate() {
        let mut row = ConditionResult {
            condition: (*name).to_owned(),
            clips: 0,
            float_correct: 0,
            int_correct: 0,
            int_same_as_clean: 0,
            other_artist_clips: 0,
            other_artist_int_correct: 0,
        };
        for (&i, (per_condition, _)) in clips.iter().zip(&outcomes) {
            let genre = all[i].genre;
            let (f, n) = per_condition[k];
            row.clips += 1;
            row.float_correct += usize::from(f == Some(genre));
            row.int_correct += usize::from(n == Some(genre));
            row.int_same_as_clean += usize::from(n.is_some() && n == per_condition[clean].1);
            if all[i].other_artist {
                row.other_artist_clips += 1;
                row.other_artist_int_correct += usize::from(n == Some(genre));
            }
        }
        out.conditions.push(row);
    }
    for (_, sweep) in &outcomes {
        out.level_sweep_clips += 1;
        out.level_sweep_unchanged +=
            usize::from(sweep[0].is_some() && sweep.iter().all(|d| *d == sweep[0]));
    }
    Ok(out)
}

/// The table, on stderr.
pub fn print(r: &Robustness) {
    eprintln!("  robustness (held-out clips, device windows): condition  float  int  int same as clean  other-artist int");
    for c in &r.conditions {
        eprintln!(
            "    {:<24} {:>3}/{:<3} {:>3}/{:<3} {:>3}/{:<3} {:>2}/{:<2}",
            c.condition,
            c.float_correct,
            c.clips,
            c.int_correct,
            c.clips,
            c.int_same_as_clean,
            c.clips,
            c.other_artist_int_correct,
            c.other_artist_clips
        );
    }
    eprintln!(
        "  level sweep -40..0 dB: int decision unchanged on {}/{} clips",
        r.level_sweep_unchanged, r.level_sweep_clips
    );
}
