//! Each fold's models scored on their held-out clips under the capture conditions of
//! [`crate::capture`] (generated deterministically from the clip's audio), and a level sweep;
//! and, in a second table, under the held-out capture family of [`crate::unseen`], which
//! training never sees.
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
use crate::unseen;

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
    /// The same counts under [`unseen::conditions`] (a capture family training never sees).
    pub unseen: Vec<ConditionResult>,
    /// Clips whose integer decision is the same at every gain of [`SWEEP_DB`].
    pub level_sweep_clips: usize,
    pub level_sweep_unchanged: usize,
}

impl Robustness {
    /// Adds a fold's counts (conditions in the same order).
    pub fn merge(&mut self, other: &Robustness) {
        add_rows(&mut self.conditions, &other.conditions);
        add_rows(&mut self.unseen, &other.unseen);
        self.level_sweep_clips += other.level_sweep_clips;
        self.level_sweep_unchanged += other.level_sweep_unchanged;
    }
}

/// Adds `other`'s counts to `rows` (same conditions, same order; `rows` empty: a copy).
fn add_rows(rows: &mut Vec<ConditionResult>, other: &[ConditionResult]) {
    if rows.is_empty() {
        *rows = other.to_vec();
        return;
    }
    for (a, b) in rows.iter_mut().zip(other) {
        a.clips += b.clips;
        a.float_correct += b.float_correct;
        a.int_correct += b.int_correct;
        a.int_same_as_clean += b.int_same_as_clean;
        a.other_artist_clips += b.other_artist_clips;
        a.other_artist_int_correct += b.other_artist_int_correct;
    }
}

/// The model input of captured audio: features, then c0…c12 relative to their running means.
fn model_input(pcm: &[i16]) -> Vec<FeatureFrame> {
    let mut frames = frames_of(pcm);
    genre_core::level::apply_to_stream(&mut frames);
    frames
}

/// The device's clip decision (non-overlapping windows), if the clip holds a window.
fn decide(c: &mut dyn WindowClassifier, frames: &[FeatureFrame]) -> Option<usize> {
    clip_decision(c, frames, WINDOW_FRAMES).map(|(logp, _)| argmax(&logp))
}

/// A clip's (float, int) decision under each condition of a table.
type Decisions = Vec<(Option<usize>, Option<usize>)>;

/// Per clip: decisions under the capture conditions, the int decision per sweep gain, and
/// decisions under the unseen conditions.
type ClipOutcome = (Decisions, Vec<Option<usize>>, Decisions);

/// Scores one fold's models on its held-out `clips` (indices into `all`). The unseen family is
/// seeded by clip name alone ([`unseen::clip_seed`]), not by `seed`.
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
    let unseen_conditions = unseen::conditions();
    let outcomes: Vec<ClipOutcome> = clips
        .par_iter()
        .map(|&i| -> Result<ClipOutcome> {
            let clip = &all[i];
            let pcm = genre_audio::load_pcm16k(&clip.path)
                .with_context(|| format!("robustness: {}", clip.name))?;
            let mut float = exported.float_classifier();
            let mut int = exported.int_classifier()?;
            let per_condition: Decisions = conditions
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
            // Clean (no stage) is the capture table's clean row, not run again.
            let clean = conditions.iter().position(|(_, c)| *c == Condition::Clean);
            let per_unseen: Decisions = unseen_conditions
                .iter()
                .enumerate()
                .map(|(k, (_, stages))| match clean {
                    Some(c) if stages.is_empty() => per_condition[c],
                    _ => {
                        let captured =
                            unseen::apply(&pcm, stages, unseen::clip_seed(&clip.name, k));
                        let frames = model_input(&captured);
                        (decide(&mut float, &frames), decide(&mut int, &frames))
                    }
                })
                .collect();
            Ok((per_condition, sweep, per_unseen))
        })
        .collect::<Result<_>>()?;

    let names: Vec<&str> = conditions.iter().map(|(name, _)| *name).collect();
    let unseen_names: Vec<&str> = unseen_conditions.iter().map(|(name, _)| *name).collect();
    let seen: Vec<&Decisions> = outcomes.iter().map(|o| &o.0).collect();
    let held_out: Vec<&Decisions> = outcomes.iter().map(|o| &o.2).collect();
    let mut out = Robustness {
        conditions: rows(&names, all, clips, &seen),
        unseen: rows(&unseen_names, all, clips, &held_out),
        ..Robustness::default()
    };
    for (_, sweep, _) in &outcomes {
        out.level_sweep_clips += 1;
        out.level_sweep_unchanged +=
            usize::from(sweep[0].is_some() && sweep.iter().all(|d| *d == sweep[0]));
    }
    Ok(out)
}

/// One table's rows: per condition `names[k]`, the counts over `clips` (indices into `all`) of
/// `decisions` (per clip, per condition); "int same as clean" against the `clean` row.
fn rows(
    names: &[&str],
    all: &[Clip],
    clips: &[usize],
    decisions: &[&Decisions],
) -> Vec<ConditionResult> {
    let clean = names.iter().position(|name| *name == "clean").unwrap_or(0);
    let mut out = Vec::new();
    for (k, name) in names.iter().enumerate() {
        let mut row = ConditionResult {
            condition: (*name).to_owned(),
            clips: 0,
            float_correct: 0,
            int_correct: 0,
            int_same_as_clean: 0,
            other_artist_clips: 0,
            other_artist_int_correct: 0,
        };
        for (&i, per_condition) in clips.iter().zip(decisions) {
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
        out.push(row);
    }
    out
}

/// The tables, on stderr.
pub fn print(r: &Robustness) {
    eprintln!("  robustness (held-out clips, device windows): condition  float  int  int same as clean  other-artist int");
    print_rows(&r.conditions);
    eprintln!(
        "  level sweep -40..0 dB: int decision unchanged on {}/{} clips",
        r.level_sweep_unchanged, r.level_sweep_clips
    );
    eprintln!("  unseen capture family (never trained on): condition  float  int  int same as clean  other-artist int");
    print_rows(&r.unseen);
}

fn print_rows(rows: &[ConditionResult]) {
    for c in rows {
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
}
