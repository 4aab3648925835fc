//! Cross-validation: 5 folds over `folds.csv`, clip-level decisions
//! ([`crate::classify::clip_decision`]: mean log-probability over every window), float (genre-core `FloatEngine` on the trained weights) and
//! integer (genre-core `QuantEngine` on the exported blob) side by side.

use anyhow::{bail, Result};
use genre_core::config::{N_GENRES, WINDOW_FRAMES};
use serde::Serialize;
use tch::Device;

use crate::classify::{argmax, clip_decision};
use crate::dataset::{Clip, N_FOLDS};
use crate::export;
use crate::features::ClipFeatures;
use crate::train::{self, EpochStats, Hyper, Validation};

/// Counts per (true genre, predicted genre).
pub type Confusion = [[u32; N_GENRES]; N_GENRES];

/// One fold's figures.
#[derive(Debug, Clone, Serialize)]
pub struct FoldResult {
    pub fold: usize,
    pub test_clips: usize,
    pub float_correct: usize,
    pub int_correct: usize,
    /// Windows where the integer engine's top-1 differs from the float engine's.
    pub window_disagreements: usize,
    pub windows: usize,
    pub train_seconds: f64,
}

/// One clip's outcome.
#[derive(Debug, Clone, Serialize)]
pub struct ClipResult {
    pub clip: String,
    pub fold: usize,
    pub genre: &'static str,
    pub float: &'static str,
    pub int: &'static str,
}

/// The cross-validation report (part of the model card).
#[derive(Debug, Clone, Serialize)]
pub struct CvReport {
    pub folds: Vec<FoldResult>,
    pub clips: usize,
    pub float_correct: usize,
    pub int_correct: usize,
    /// Rows: true genre; columns: predicted genre (label order of the model).
    pub confusion_float: Confusion,
    pub confusion_int: Confusion,
    pub per_clip: Vec<ClipResult>,
    /// Learning curves, one per fold.
    #[serde(skip)]
    pub histories: Vec<(usize, Vec<EpochStats>)>,
}

/// Runs the 5-fold cross-validation.
///
/// # Errors
/// A fold with test clips has no training clips, or training is interrupted.
pub fn cross_validate(
    clips: &[Clip],
    feats: &[ClipFeatures],
    hyper: &Hyper,
    device: Device,
) -> Result<CvReport> {
    let mut report = CvReport {
        folds: Vec::new(),
        clips: 0,
        float_correct: 0,
        int_correct: 0,
        confusion_float: [[0; N_GENRES]; N_GENRES],
        confusion_int: [[0; N_GENRES]; N_GENRES],
        per_clip: Vec::new(),
        histories: Vec::new(),
    };
    for fold in 0..N_FOLDS {
        let test: Vec<usize> = (0..clips.len())
            .filter(|&i| clips[i].fold == fold)
            .collect();
        if test.is_empty() {
            continue;
        }
        let train_idx: Vec<usize> = (0..clips.len())
            .filter(|&i| clips[i].fold != fold)
            .collect();
        if train_idx.is_empty() {
            bail!("fold {fold}: every clip is in the test fold, nothing to train on");
        }
        let started = std::time::Instant::now();
        let train_feats: Vec<&ClipFeatures> = train_idx.iter().map(|&i| &feats[i]).collect();
        let labels: Vec<usize> = train_idx.iter().map(|&i| clips[i].genre).collect();
        let val = Validation {
            clips: test.iter().map(|&i| &feats[i]).collect(),
            labels: test.iter().map(|&i| clips[i].genre).collect(),
        };
        let fold_hyper = Hyper {
            seed: hyper.seed.wrapping_add(fold as u64 + 1),
            ..hyper.clone()
        };
        let trained = train::train(
            &train_feats,
            &labels,
            Some(&val),
            &fold_hyper,
            device,
            &format!("fold {fold}"),
        )?;
        let train_seconds = started.elapsed().as_secs_f64();
        let exported = export::export(&trained, &train_feats)?;
        let mut float = exported.float_classifier();
        let mut int = exported.int_classifier()?;
        let mut result = FoldResult {
            fold,
            test_clips: test.len(),
            float_correct: 0,
            int_correct: 0,
            window_disagreements: 0,
            windows: 0,
            train_seconds,
        };
        for &i in &test {
            let frames = &feats[i][0];
            let genre = clips[i].genre;
            let (Some((fl, ftops)), Some((il, itops))) = (
                clip_decision(&mut float, frames, hyper.stride_frames),
                clip_decision(&mut int, frames, hyper.stride_frames),
            ) else {
                bail!(
                    "{}: shorter than one {WINDOW_FRAMES}-frame window",
                    clips[i].name
                );
            };
            let (fp, ip) = (argmax(&fl), argmax(&il));
            result.float_correct += usize::from(fp == genre);
            result.int_correct += usize::from(ip == genre);
            result.windows += ftops.len();
            result.window_disagreements += ftops.iter().zip(&itops).filter(|(a, b)| a != b).count();
            report.confusion_float[genre][fp] += 1;
            report.confusion_int[genre][ip] += 1;
            report.per_clip.push(ClipResult {
                clip: clips[i].name.clone(),
                fold,
                genre: crate::dataset::GENRES[genre],
                float: crate::dataset::GENRES[fp],
                int: crate::dataset::GENRES[ip],
            });
        }
        eprintln!(
            "fold {fold}: float {}/{}, int {}/{} (window top-1 disagreements {}/{}), {:.0} s",
            result.float_correct,
            result.test_clips,
            result.int_correct,
            result.test_clips,
            result.window_disagreements,
            result.windows,
            train_seconds
        );
        report.clips += result.test_clips;
        report.float_correct += result.float_correct;
        report.int_correct += result.int_correct;
        report.histories.push((fold, trained.history));
        report.folds.push(result);
    }
    eprintln!(
        "cross-validation: float {}/{}, int {}/{}",
        report.float_correct, report.clips, report.int_correct, report.clips
    );
    Ok(report)
}
