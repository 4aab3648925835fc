//! Command-line interface: argument parsing and validation into typed configurations.

use std::path::PathBuf;

use anyhow::{bail, Result};
use clap::{Args, Parser, Subcommand};

use crate::dataset::Split;
use crate::device::Choice;

/// Train, evaluate, quantise and export the tinygenre music-genre classifier.
///
/// The main command, `train`, runs the 5-fold cross-validation, trains the final model on all
/// clips, quantises it and writes a run folder (blob, model card, plots) under target/runs/;
/// `scripts/promote RUN_DIR` ships a run into weights/ and regenerates the goldens that pin it.
/// Predicting with a blob is the `tinygenre` binary's job (`cargo run --release -p tinygenre
/// -- predict FILE`).
#[derive(Debug, Parser)]
#[command(name = "host-train", version, about, long_about)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// 5-fold cross-validation (unless --no-eval), then the final model on all clips:
    /// writes tinygenre.tgm, model-card.json and the plots into --out (default: a new run
    /// folder, <workspace>/target/runs/<unix time>-seed<seed>; weights/ is changed only by
    /// scripts/promote).
    Train(TrainArgs),
    /// 5-fold cross-validation only: float and integer engines side by side; writes
    /// cv-report.json and the plots into --out (default: <workspace>/target/eval, so that it
    /// never overwrites the shipped plots in weights/).
    Eval(TrainArgs),
}

/// Options shared by `train` and `eval`.
#[derive(Debug, Args)]
pub struct TrainArgs {
    /// GTZAN folder (standard layout: genres/<genre>/*.wav|au, optional folds.csv).
    #[arg(long, env = "GTZAN_DIR", default_value = "data/gtzan")]
    pub data: PathBuf,
    /// Output folder for the blob, model card and plots [default: for train a new run folder,
    /// <workspace>/target/runs/<unix time>-seed<seed>; for eval <workspace>/target/eval].
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// libtorch device: auto (CUDA when it loads and sees a GPU, else the CPU), cpu, or cuda
    /// (an error when CUDA cannot be used, instead of falling back). The device used is
    /// printed at the start and recorded in the model card.
    #[arg(long, value_enum, default_value_t = Choice::Auto)]
    pub device: Choice,
    /// Training epochs per model.
    #[arg(long, default_value_t = 60)]
    pub epochs: usize,
    /// Use only the first N clips of each genre (quick runs and tests).
    #[arg(long)]
    pub clips_per_genre: Option<usize>,
    /// Peak learning rate (AdamW, cosine decay to 1/20 of it).
    #[arg(long, default_value_t = 3e-3)]
    pub lr: f64,
    /// AdamW decoupled weight decay.
    #[arg(long, default_value_t = 1e-2)]
    pub weight_decay: f64,
    /// Dropout between the LSTM layers and before the head.
    #[arg(long, default_value_t = 0.3)]
    pub dropout: f64,
    /// Std of Gaussian noise added to the z-scored input features while training.
    #[arg(long, default_value_t = 0.1)]
    pub input_noise: f64,
    /// Mixup: each batch is blended with a shuffled copy of itself, the copy weighted by a
    /// share drawn uniformly from [0, this], and the loss blended likewise (0: off).
    #[arg(long, default_value_t = 0.5)]
    pub mixup: f64,
    /// Feature masking (SpecAugment-style): the probability that a training window has one
    /// feature group (MFCC, centroid, chroma or contrast) zeroed in normalised units, and,
    /// independently, a span of up to 16 frames zeroed (0: off).
    #[arg(long, default_value_t = 0.0)]
    pub feature_mask: f64,
    /// Per epoch, how many times each clip is cut into windows (each time with a randomly
    /// drawn variant and start offset).
    #[arg(long, default_value_t = 1)]
    pub passes: usize,
    /// Windows per optimiser step.
    #[arg(long, default_value_t = 32)]
    pub batch: usize,
    /// libtorch CPU threads (0: libtorch's choice, one per core). One is fastest for this
    /// small LSTM and is not slowed down by other busy processes (OpenMP spin-waits are).
    #[arg(long, default_value_t = 1)]
    pub threads: usize,
    /// Augmented copies of each training clip (speed, band limits, EQ, room, noise, level, time
    /// shift).
    #[arg(long, default_value_t = 3)]
    pub augment_copies: usize,
    /// Seed for augmentation, initialisation and batch order.
    #[arg(long, default_value_t = 20_240_601)]
    pub seed: u64,
    /// Skip the cross-validation in `train` (the card then has no CV figures).
    #[arg(long)]
    pub no_eval: bool,
    /// Feature cache folder [default: $TINYGENRE_CACHE or ~/.cache/tinygenre/features].
    #[arg(long)]
    pub cache: Option<PathBuf>,
    /// The more-clips folder (clips.csv and clips/) [default: more-clips beside --data, when
    /// it exists].
    #[arg(long, env = "MORE_CLIPS_DIR")]
    pub more_clips: Option<PathBuf>,
    /// Use no more-clips folder (GTZAN's clips only).
    #[arg(long, conflicts_with = "more_clips")]
    pub no_more_clips: bool,
    /// Cross-validation split: artist-disjoint folds over every whole clip (artists), or
    /// folds.csv over the GTZAN clips, more-clips always on the training side (gtzan).
    #[arg(long, value_enum, default_value_t = Split::Artists)]
    pub folds: Split,
    /// Train on GTZAN's clips only; more-clips are then only scored (the recipe before
    /// issue #19, for comparisons on the same folds).
    #[arg(long)]
    pub train_gtzan_only: bool,
    /// Train without the teacher (musicnn; installed by scripts/setup-teacher).
    #[arg(long)]
    pub no_teacher: bool,
    /// Share of the teacher's soft-label loss in the training loss.
    #[arg(long, default_value_t = 0.9)]
    pub teacher_weight: f64,
    /// Temperature of the teacher's soft labels.
    #[arg(long, default_value_t = 2.0)]
    pub teacher_temperature: f64,
    /// Weight of a regression onto the teacher's patch embedding (standardised; mean squared
    /// error of a linear map of the student's pooled hidden state, a map used in training
    /// only): 0 is off.
    #[arg(long, default_value_t = 0.0)]
    pub teacher_embedding_weight: f64,
    /// Weight of the no-music terms in the training loss (0: the model does not learn to
    /// tell sounds without music apart).
    #[arg(long, default_value_t = 0.2)]
    pub no_music_weight: f64,
    /// Sounds without music synthesised to train on, per kind (12 s each; half of them
    /// through a capture chain).
    #[arg(long, default_value_t = 512, value_parser = clap::value_parser!(u16).range(1..=512))]
    pub no_music_per_kind: u16,
    /// How many times as many sounds of the kinds that leak most (clicks, and mixes at a low
    /// level) to synthesise as of the other kinds.
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u8).range(1..=8))]
    pub no_music_focus: u8,
    /// Windows without music per training batch, as a share of the batch's music windows.
    #[arg(long, default_value_t = 0.8)]
    pub no_music_share: f64,
    /// Share of the windows without music per batch drawn in proportion to their sound's loss
    /// when last drawn (hard-negative mining); the rest are drawn uniformly. 0: all uniform.
    #[arg(long, default_value_t = 0.0)]
    pub no_music_hard: f64,
    /// How far above 0, in logits, the no-music term pushes the largest logit of a music
    /// window (sounds without music: every logit below −1); export moves the midpoint of the
    /// two margins to 0, the device's threshold.
    #[arg(long, default_value_t = 2.0)]
    pub music_margin: f64,
    /// Skip the capture table and what the board shows in the cross-validation (quicker
    /// recipe comparisons).
    #[arg(long)]
    pub no_capture: bool,
}

/// Validated training configuration.
#[derive(Debug, Clone)]
pub struct TrainConfig {
    pub data: PathBuf,
    pub out: PathBuf,
    pub cache: PathBuf,
    pub device: Choice,
    pub epochs: usize,
    pub batch: usize,
    pub lr: f64,
    pub weight_decay: f64,
    pub dropout: f64,
    pub input_noise: f64,
    pub mixup: f64,
    pub feature_mask: f64,
    pub passes: usize,
    pub threads: usize,
    pub clips_per_genre: Option<usize>,
    pub augment_copies: usize,
    pub seed: u64,
    pub cross_validate: bool,
    pub more_clips: Option<PathBuf>,
    pub split: Split,
    pub train_gtzan_only: bool,
    pub teacher: bool,
    pub teacher_weight: f64,
    pub teacher_temperature: f64,
    pub teacher_embedding_weight: f64,
    pub no_music_weight: f64,
    pub no_music_per_kind: usize,
    pub no_music_focus: usize,
    pub no_music_share: f64,
    pub no_music_hard: f64,
    pub music_margin: f64,
    pub capture: bool,
}

/// The workspace root, fixed at build time (weights/ lives there).
pub fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map_or_else(|| PathBuf::from("."), PathBuf::from)
}

impl TrainArgs {
    /// Checks the numbers and fills in defaults; `default_out` is the output folder relative
    /// to the workspace when `--out` is not given.
    ///
    /// # Errors
    /// Zero epochs, zero clips per genre, more than 16 augmented copies, or `--out` naming
    /// the shipped `weights/` folder.
    pub fn validate(self, default_out: &str) -> Result<TrainConfig> {
        if self.epochs == 0 {
            bail!("--epochs must be at least 1");
        }
        if !(0.0..1.0).contains(&self.dropout) {
            bail!("--dropout must be in [0, 1)");
        }
        let positive = |v: f64| v.is_finite() && v > 0.0;
        if !positive(self.lr) || !(self.weight_decay == 0.0 || positive(self.weight_decay)) {
            bail!("--lr must be positive and --weight-decay non-negative");
        }
        if !(self.input_noise == 0.0 || positive(self.input_noise)) {
            bail!("--input-noise must be non-negative");
        }
        if !(0.0..=0.5).contains(&self.mixup) {
            bail!("--mixup must be in [0, 0.5]");
        }
        if !(0.0..=1.0).contains(&self.feature_mask) {
            bail!("--feature-mask must be in [0, 1]");
        }
        if self.passes == 0 {
            bail!("--passes must be at least 1");
        }
        if self.batch == 0 {
            bail!("--batch must be at least 1");
        }
        if self.clips_per_genre == Some(0) {
            bail!("--clips-per-genre must be at least 1");
        }
        if self.augment_copies > 16 {
            bail!("--augment-copies must be at most 16");
        }
        if !(0.0..=1.0).contains(&self.teacher_weight) {
            bail!("--teacher-weight must be in [0, 1]");
        }
        if !(self.no_music_weight == 0.0 || positive(self.no_music_weight)) {
            bail!("--no-music-weight must be non-negative");
        }
        if !(positive(self.no_music_share) && self.no_music_share <= 2.0) {
            bail!("--no-music-share must be in (0, 2]");
        }
        if !(0.0..=1.0).contains(&self.no_music_hard) {
            bail!("--no-music-hard must be in [0, 1]");
        }
        if !(positive(self.music_margin) && self.music_margin <= 4.0) {
            bail!("--music-margin must be in (0, 4]");
        }
        if !(self.teacher_embedding_weight == 0.0 || positive(self.teacher_embedding_weight)) {
            bail!("--teacher-embedding-weight must be non-negative");
        }
        if !(self.teacher_temperature.is_finite() && self.teacher_temperature >= 1.0) {
            bail!("--teacher-temperature must be at least 1");
        }
        let cache = self.cache.unwrap_or_else(default_cache);
        let beside = self.data.join("../more-clips");
        let more_clips = match (self.no_more_clips, self.more_clips) {
            (true, _) => None,
            (false, Some(dir)) => Some(dir),
            (false, None) => beside.join("clips.csv").is_file().then_some(beside),
        };
        let out = self
            .out
            .unwrap_or_else(|| workspace_root().join(default_out));
        let shipped = workspace_root().join("weights");
        if out
            .canonicalize()
            .ok()
            .is_some_and(|o| shipped.canonicalize().ok() == Some(o))
        {
            bail!(
                "--out {}: weights/ is changed only by scripts/promote RUN_DIR, which also \
                 regenerates the goldens that pin the shipped blob; write to another folder",
                out.display()
            );
        }
        Ok(TrainConfig {
            data: self.data,
            out,
            cache,
            device: self.device,
            epochs: self.epochs,
            batch: self.batch,
            lr: self.lr,
            weight_decay: self.weight_decay,
            dropout: self.dropout,
            input_noise: self.input_noise,
            mixup: self.mixup,
            feature_mask: self.feature_mask,
            passes: self.passes,
            threads: self.threads,
            clips_per_genre: self.clips_per_genre,
            augment_copies: self.augment_copies,
            seed: self.seed,
            cross_validate: !self.no_eval,
            more_clips,
            split: self.folds,
            train_gtzan_only: self.train_gtzan_only,
            teacher: !self.no_teacher,
            teacher_weight: self.teacher_weight,
            teacher_temperature: self.teacher_temperature,
            teacher_embedding_weight: self.teacher_embedding_weight,
            no_music_weight: self.no_music_weight,
            no_music_per_kind: self.no_music_per_kind.into(),
            no_music_focus: self.no_music_focus.into(),
            no_music_share: self.no_music_share,
            no_music_hard: self.no_music_hard,
            music_margin: self.music_margin,
            capture: !self.no_capture,
        })
    }
}

/// `train`'s default output folder, relative to the workspace: a new run folder,
/// `target/runs/<unix time>-seed<seed>` (sorted by time; weights/ is left alone).
pub fn run_folder(seed: u64) -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    format!("target/runs/{now}-seed{seed}")
}

/// `$TINYGENRE_CACHE`, else `~/.cache/tinygenre/features`, else `target/tinygenre-features`.
fn default_cache() -> PathBuf {
    if let Some(dir) = std::env::var_os("TINYGENRE_CACHE") {
        return PathBuf::from(dir);
    }
    match std::env::var_os("HOME") {
        Some(home) => PathBuf::from(home).join(".cache/tinygenre/features"),
        None => workspace_root().join("target/tinygenre-features"),
    }
}
