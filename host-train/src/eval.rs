//! Cross-validation: 5 folds (artist-disjoint, or `folds.csv`), clip-level decisions
//! ([`crate::classify::clip_decision`]: mean log-probability over every window) of the whole
//! clips, float (genre-core `FloatEngine` on the trained weights), integer (genre-core
//! `QuantEngine` on the exported blob) and the teacher's readout side by side.

use std::collections::HashSet;

use anyhow::{bail, Result};
use genre_core::config::{FeatureFrame, FILE_MUSIC_ONE_IN, N_GENRES, WINDOW_FRAMES};
use serde::Serialize;
use tch::Device;

use crate::calibration::{self, CalibrationReport, Scored};
use crate::classify::{argmax, clip_decision};
use crate::dataset::{Clip, Source, Split, GENRES, N_FOLDS};
use crate::export;
use crate::features::ClipFeatures;
use crate::nomusic::{self, NoMusicReport, Probe};
use crate::robustness::{self, Robustness};
use crate::shown::{self, Shown};
use crate::teacher::{Embeddings, Readout};
use crate::train::{self, EpochStats, Hyper, Teaching, Validation};

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
    /// What the board would show on this fold's held-out clips (device windows, running
    /// decision), float and integer engine.
    pub shown_float: Shown,
    pub shown_int: Shown,
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

/// Correct decisions of one group of clips.
#[derive(Debug, Clone, Serialize)]
pub struct GroupCounts {
    pub group: &'static str,
    pub clips: usize,
    pub float_correct: usize,
    pub int_correct: usize,
    pub teacher_correct: usize,
}

/// The teacher's own figures on the same folds (its readout fitted on each fold's training
/// clips): the yardstick.
#[derive(Debug, Clone, Serialize)]
pub struct TeacherFigures {
    pub correct: usize,
    pub balanced_accuracy: f64,
    pub per_genre_recall: Vec<(&'static str, f64)>,
    pub confusion: Confusion,
}

/// The cross-validation report (part of the model card).
#[derive(Debug, Clone, Serialize)]
pub struct CvReport {
    /// Which folds: artist-disjoint or `folds.csv`.
    pub split: Split,
    /// Share of the scored held-out clips whose artist no training clip of their fold has
    /// (1 on artist-disjoint folds, checked, not assumed).
    pub new_artist_share: f64,
    pub per_genre_recall_float: Vec<(&'static str, f64)>,
    pub per_genre_recall_int: Vec<(&'static str, f64)>,
    /// Correct decisions per source of the clips.
    pub by_source: Vec<GroupCounts>,
    /// `None` when trained without the teacher.
    pub teacher: Option<TeacherFigures>,
    pub folds: Vec<FoldResult>,
    pub clips: usize,
    pub float_correct: usize,
    pub int_correct: usize,
    /// The clips of `other-artists.txt` alone: clips, float and integer correct.
    pub other_artist_clips: usize,
    pub other_artist_float_correct: usize,
    pub other_artist_int_correct: usize,
    /// Mean per-genre recall over every clip.
    pub balanced_accuracy_float: f64,
    pub balanced_accuracy_int: f64,
    /// What the board shows, all folds together.
    pub shown_float: Shown,
    pub shown_int: Shown,
    /// Held-out clips under capture conditions, and the level sweep.
    pub robustness: Robustness,
    /// Sounds without music and the held-out music: what the no-music rule keeps and drops.
    pub no_music: NoMusicReport,
    /// The temperature of the shipped head and the calibration error before and after.
    pub calibration: CalibrationReport,
    /// Rows: true genre; columns: predicted genre (label order of the model).
    pub confusion_float: Confusion,
    pub confusion_int: Confusion,
    pub per_clip: Vec<ClipResult>,
    /// Learning curves, one per fold.
    #[serde(skip)]
    pub histories: Vec<(usize, Vec<EpochStats>)>,
}

/// What cross-validation runs on.
pub struct CvData<'a> {
    pub clips: &'a [Clip],
    pub feats: &'a [ClipFeatures],
    /// The teacher's embeddings of every clip, when it teaches.
    pub teacher: Option<&'a [Embeddings]>,
    pub split: Split,
    /// Score the capture conditions and what the board shows (slow).
    pub capture: bool,
    /// Frames of sounds without music to train on.
    pub no_music_train: &'a [Vec<FeatureFrame>],
    /// Sounds without music to score on (drawn apart from the training ones).
    pub probes: &'a [Probe],
}

/// The teacher's readout fitted on `train` and its soft labels of those clips.
///
/// # Errors
/// The readout's tensors do not convert.
pub fn teach(
    emb: &[Embeddings],
    train: &[usize],
    labels: &[usize],
    hyper: &Hyper,
) -> Result<(Readout, Teaching)> {
    let refs: Vec<&Embeddings> = train.iter().map(|&i| &emb[i]).collect();
    let readout = Readout::fit(&refs, labels)?;
    let soft = refs
        .iter()
        .map(|e| readout.soft_labels(e, hyper.teacher_temperature))
        .collect();
    // Regression targets only when the recipe regresses.
    let embeddings = if hyper.teacher_embedding_weight > 0.0 {
        refs.iter()
            .map(|e| e.patches.iter().map(|p| readout.standardise(p)).collect())
            .collect()
    } else {
        Vec::new()
    };
    Ok((readout, Teaching { soft, embeddings }))
}

/// Per-genre recall from a confusion matrix (genres without clips: 0).
pub fn per_genre_recall(confusion: &Confusion) -> Vec<(&'static str, f64)> {
    confusion
        .iter()
        .enumerate()
        .map(|(g, row)| {
            let n: u32 = row.iter().sum();
            (
                GENRES[g],
                if n > 0 {
                    f64::from(row[g]) / f64::from(n)
                } else {
                    0.0
                },
            )
        })
        .collect()
}

/// The report's name of a clip source.
fn group_name(source: Source) -> &'static str {
    match source {
        Source::GtzanNumbered => "gtzan numbered 00000-00009",
        Source::GtzanOther => "gtzan other-artists.txt",
        Source::MoreClip => "more-clips whole clips",
        Source::MoreExcerpt => "more-clips excerpts",
        Source::MoreStyle => "more-clips style samples",
    }
}

/// Runs the 5-fold cross-validation.
///
/// # Errors
/// A fold with test clips has no training clips, or training is interrupted.
pub fn cross_validate(data: &CvData<'_>, hyper: &Hyper, device: Device) -> Result<CvReport> {
    let (clips, feats) = (data.clips, data.feats);
    let mut teacher_confusion: Confusion = [[0; N_GENRES]; N_GENRES];
    let mut teacher_correct = 0usize;
    let (mut new_artist, mut scored) = (0usize, 0usize);
    let mut held_out_windows: Vec<Scored> = Vec::new();
    let mut by_source: Vec<GroupCounts> = Vec::new();
    let mut report = CvReport {
        split: data.split,
        new_artist_share: 0.0,
        per_genre_recall_float: Vec::new(),
        per_genre_recall_int: Vec::new(),
        by_source: Vec::new(),
        teacher: None,
        folds: Vec::new(),
        clips: 0,
        float_correct: 0,
        int_correct: 0,
        other_artist_clips: 0,
        other_artist_float_correct: 0,
        other_artist_int_correct: 0,
        balanced_accuracy_float: 0.0,
        balanced_accuracy_int: 0.0,
        shown_float: Shown::default(),
        shown_int: Shown::default(),
        robustness: Robustness::default(),
        no_music: NoMusicReport::default(),
        calibration: CalibrationReport::default(),
        confusion_float: [[0; N_GENRES]; N_GENRES],
        confusion_int: [[0; N_GENRES]; N_GENRES],
        per_clip: Vec::new(),
        histories: Vec::new(),
    };
    for fold in 0..N_FOLDS {
        let test: Vec<usize> = (0..clips.len())
            .filter(|&i| clips[i].fold == Some(fold) && clips[i].scored())
            .collect();
        if test.is_empty() {
            continue;
        }
        let train_idx: Vec<usize> = (0..clips.len())
            .filter(|&i| clips[i].fold != Some(fold) && clips[i].trained)
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
        let taught = match data.teacher {
            Some(emb) => Some(teach(emb, &train_idx, &labels, &fold_hyper)?),
            None => None,
        };
        let trained_artists: HashSet<&str> = train_idx
            .iter()
            .flat_map(|&i| clips[i].artist.split('|'))
            .collect();
        let trained = train::train(
            &train_feats,
            &labels,
            data.no_music_train,
            taught.as_ref().map(|(_, t)| t),
            Some(&val),
            &fold_hyper,
            device,
            &format!("fold {fold}"),
        )?;
        let train_seconds = started.elapsed().as_secs_f64();
        let exported = export::export(&trained, &train_feats, fold_hyper.music_boundary(), 1.0)?;
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
            shown_float: Shown::default(),
            shown_int: Shown::default(),
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
            let tp = match (&taught, data.teacher) {
                (Some((readout, _)), Some(emb)) => Some(argmax(&readout.clip_logits(&emb[i]))),
                _ => None,
            };
            if let Some(tp) = tp {
                teacher_confusion[genre][tp] += 1;
                teacher_correct += usize::from(tp == genre);
            }
            scored += 1;
            new_artist += usize::from(
                clips[i]
                    .artist
                    .split('|')
                    .all(|a| !trained_artists.contains(a)),
            );
            let name = group_name(clips[i].source);
            let at = by_source
                .iter()
                .position(|g| g.group == name)
                .unwrap_or_else(|| {
                    by_source.push(GroupCounts {
                        group: name,
                        clips: 0,
                        float_correct: 0,
                        int_correct: 0,
                        teacher_correct: 0,
                    });
                    by_source.len() - 1
                });
            let counts = &mut by_source[at];
            counts.clips += 1;
            counts.float_correct += usize::from(fp == genre);
            counts.int_correct += usize::from(ip == genre);
            counts.teacher_correct += usize::from(tp == Some(genre));
            result.float_correct += usize::from(fp == genre);
            result.int_correct += usize::from(ip == genre);
            if clips[i].other_artist {
                report.other_artist_clips += 1;
                report.other_artist_float_correct += usize::from(fp == genre);
                report.other_artist_int_correct += usize::from(ip == genre);
            }
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
        let held_out_clips: Vec<nomusic::HeldOutClip<'_>> = test
            .iter()
            .map(|&i| nomusic::HeldOutClip {
                name: &clips[i].name,
                frames: &feats[i][0][..],
                genre: clips[i].genre,
                of_the_126: clips[i].source.is_gtzan(),
            })
            .collect();
        let (no_music, windows) = nomusic::score_fold(&exported, &held_out_clips, data.probes)?;
        report.no_music.merge(&no_music);
        held_out_windows.extend(windows.into_iter().map(|(logits, genre)| Scored {
            fold,
            logits,
            genre,
        }));
        if data.capture {
            let held_out: Vec<(&[FeatureFrame], usize)> =
                held_out_clips.iter().map(|c| (c.frames, c.genre)).collect();
            result.shown_float = shown::measure(&mut float, &held_out);
            result.shown_int = shown::measure(&mut int, &held_out);
            report.shown_float.merge(&result.shown_float);
            report.shown_int.merge(&result.shown_int);
            let rob = robustness::measure(&exported, clips, &test, fold_hyper.seed)?;
            report.robustness.merge(&rob);
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
    report.no_music.sweep = report.no_music.sweep_rows();
    report.no_music.file_rules = report.no_music.file_rule_rows();
    report.balanced_accuracy_float = balanced_accuracy(&report.confusion_float);
    report.balanced_accuracy_int = balanced_accuracy(&report.confusion_int);
    report.per_genre_recall_float = per_genre_recall(&report.confusion_float);
    report.per_genre_recall_int = per_genre_recall(&report.confusion_int);
    report.new_artist_share = new_artist as f64 / scored.max(1) as f64;
    report.calibration = calibration::calibrate(&held_out_windows);
    report.by_source = by_source;
    if data.teacher.is_some() {
        report.teacher = Some(TeacherFigures {
            correct: teacher_correct,
            balanced_accuracy: balanced_accuracy(&teacher_confusion),
            per_genre_recall: per_genre_recall(&teacher_confusion),
            confusion: teacher_confusion,
        });
    }
    print_summary(&report);
    if data.capture {
        robustness::print(&report.robustness);
    }
    Ok(report)
}

/// Mean per-genre recall (genres without clips are left out).
pub fn balanced_accuracy(confusion: &Confusion) -> f64 {
    let recalls: Vec<f64> = confusion
        .iter()
        .enumerate()
        .filter_map(|(g, row)| {
            let n: u32 = row.iter().sum();
            (n > 0).then(|| f64::from(row[g]) / f64::from(n))
        })
        .collect();
    recalls.iter().sum::<f64>() / recalls.len().max(1) as f64
}

/// The figures users need, on stderr.
fn print_summary(r: &CvReport) {
    eprintln!(
        "cross-validation ({} folds, new-artist share {:.2}): float {}/{}, int {}/{}; balanced \
         accuracy float {:.3}, int {:.3}",
        match r.split {
            Split::Artists => "artist-disjoint",
            Split::Gtzan => "folds.csv",
        },
        r.new_artist_share,
        r.float_correct,
        r.clips,
        r.int_correct,
        r.clips,
        r.balanced_accuracy_float,
        r.balanced_accuracy_int
    );
    if let Some(t) = &r.teacher {
        eprintln!(
            "  teacher (musicnn + readout, same folds): {}/{}, balanced accuracy {:.3}",
            t.correct, r.clips, t.balanced_accuracy
        );
    }
    let recalls = |v: &[(&str, f64)]| {
        v.iter()
            .map(|(g, x)| format!("{g} {x:.2}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    eprintln!(
        "  per-genre recall, int: {}",
        recalls(&r.per_genre_recall_int)
    );
    if let Some(t) = &r.teacher {
        eprintln!(
            "  per-genre recall, teacher: {}",
            recalls(&t.per_genre_recall)
        );
    }
    for g in &r.by_source {
        eprintln!(
            "  {}: float {}/{}, int {}/{}{}",
            g.group,
            g.float_correct,
            g.clips,
            g.int_correct,
            g.clips,
            if r.teacher.is_some() {
                format!(", teacher {}/{}", g.teacher_correct, g.clips)
            } else {
                String::new()
            }
        );
    }
    eprintln!(
        "  other-artist clips: float {}/{}, int {}/{}",
        r.other_artist_float_correct,
        r.other_artist_clips,
        r.other_artist_int_correct,
        r.other_artist_clips
    );
    let nm = &r.no_music;
    eprintln!(
        "  no music: held-out music windows lost int {}/{}, float {}/{}; clips lost int {}/{}, \
         float {}/{}",
        nm.music_windows_lost_int,
        nm.music_windows,
        nm.music_windows_lost_float,
        nm.music_windows,
        nm.clips_lost_int,
        nm.clips,
        nm.clips_lost_float,
        nm.clips
    );
    for k in &nm.kinds {
        eprintln!(
            "    {:<22} windows called music: int {}/{}, float {}/{}",
            k.kind, k.music_int, k.windows, k.music_float, k.windows
        );
    }
    if !nm.lost_clips_int.is_empty() {
        eprintln!("    clips lost (int): {}", nm.lost_clips_int.join(", "));
    }
    eprintln!(
        "    threshold sweep (int; largest logit below it: no music): threshold, music windows \
         lost, clips lost of the 126 + of more-clips, then windows called music per kind"
    );
    for row in &nm.sweep {
        let kinds: Vec<String> = row
            .kinds_music
            .iter()
            .map(|(kind, n)| format!("{kind} {n}"))
            .collect();
        eprintln!(
            "      {:>5.2}: lost {}/{}, clips {}+{}; {}",
            row.threshold,
            row.music_windows_lost,
            nm.music_windows,
            row.clips_lost_of_126,
            row.clips_lost_more,
            kinds.join(", ")
        );
    }
    eprintln!(
        "    file rule (int; a file needs music in one of every N windows): N, clips given no \
         genre of the 126 (named) + of more-clips; shipped N = {FILE_MUSIC_ONE_IN}"
    );
    for row in &nm.file_rules {
        eprintln!(
            "      {}: {}+{} {}",
            row.one_in,
            row.clips_lost_of_126,
            row.clips_lost_more,
            row.lost_of_126.join(", ")
        );
    }
    let c = &r.calibration;
    eprintln!(
        "  calibration ({} held-out int windows): temperature {:.2}; ECE {:.3} before, {:.3} after",
        c.windows, c.temperature, c.ece_before, c.ece_after
    );
    // Measured with the capture tables only (not under --no-capture).
    for (name, s) in [("float", &r.shown_float), ("int", &r.shown_int)]
        .into_iter()
        .filter(|(_, s)| s.windows > 0)
    {
        let at: Vec<String> = shown::CHECKPOINTS_S
            .iter()
            .zip(s.running_correct.iter().zip(&s.running_clips))
            .map(|(t, (c, n))| format!("{t:.0} s {c}/{n}"))
            .collect();
        eprintln!(
            "  shown ({name}): windows {}/{} right; running decision {}; medley {:.1} flips/min, \
             {}/{} changes followed, median delay {}",
            s.windows_correct,
            s.windows,
            at.join(", "),
            s.flips_per_minute(),
            s.switch_delays_s.len(),
            s.medley_changes,
            s.median_delay_s()
                .map_or_else(|| "-".to_owned(), |d| format!("{d:.1} s"))
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn balanced_accuracy_is_the_mean_recall_of_present_genres() {
        let mut c: Confusion = [[0; N_GENRES]; N_GENRES];
        c[0][0] = 9; // genre 0: 9 of 10 right
        c[0][1] = 1;
        c[1][1] = 1; // genre 1: 1 of 2 right
        c[1][0] = 1;
        assert!((balanced_accuracy(&c) - 0.7).abs() < 1e-12);
    }
}
