//! The `train` and `eval` commands: data → features → (cross-validation) → final model →
//! quantisation → blob, model card and plots.

use std::process::ExitCode;
use std::sync::atomic::Ordering;
use std::time::Instant;

use anyhow::{Context, Result};

use crate::atomic::write_atomic;
use crate::cli::TrainConfig;
use crate::dataset::{self, GENRES};
use crate::eval::{self, CvData, CvReport};
use crate::features::{self, ClipFeatures};
use crate::report::{self, ConfigCard, DataCard, ModelCard, TrainingCard};
use crate::teacher::{self, Embeddings};
use crate::train::{self, Hyper};
use crate::{augment, device, export, nomusic};

/// File names inside the output folder.
pub const BLOB: &str = "tinygenre.tgm";
const CARD: &str = "model-card.json";
const CV_REPORT: &str = "cv-report.json";
const CONFUSION_PNG: &str = "confusion.png";
const CURVES_PNG: &str = "learning-curves.png";
const DEVICE_PNG: &str = "device-and-capture.png";
const RELIABILITY_PNG: &str = "reliability.png";

/// Length of each training sound without music (s).
const NO_MUSIC_SECONDS: f64 = 12.0;

/// What `train` and `eval` share: the clips, their features, the teacher's embeddings, the
/// device.
struct Prepared {
    clips: Vec<dataset::Clip>,
    feats: Vec<ClipFeatures>,
    /// Frames of sounds without music to train on.
    no_music: Vec<Vec<genre_core::config::FeatureFrame>>,
    /// Sounds without music to score on.
    probes: Vec<nomusic::Probe>,
    teacher: Option<Vec<Embeddings>>,
    device: tch::Device,
    hyper: Hyper,
}

impl Prepared {
    fn cv_data<'a>(&'a self, cfg: &TrainConfig) -> CvData<'a> {
        CvData {
            clips: &self.clips,
            feats: &self.feats,
            teacher: self.teacher.as_deref(),
            split: cfg.split,
            capture: cfg.capture,
            no_music_train: &self.no_music,
            probes: &self.probes,
        }
    }
}

fn prepare(cfg: &TrainConfig) -> Result<Prepared> {
    install_ctrlc();
    if cfg.threads > 0 {
        tch::set_num_threads(i32::try_from(cfg.threads).unwrap_or(1));
    }
    let device = device::select(cfg.device)?;
    let hyper = Hyper::new(cfg);
    eprintln!(
        "seed {} (augmentation, initialisation, batch order); data {}; cache {}",
        cfg.seed,
        cfg.data.display(),
        cfg.cache.display()
    );
    let mut clips = dataset::load(
        &cfg.data,
        cfg.more_clips.as_deref(),
        cfg.split,
        cfg.clips_per_genre,
    )?;
    if cfg.train_gtzan_only {
        // The recipe before more-clips: they are scored, never trained on.
        clips.retain(|c| c.scored());
        for c in &mut clips {
            c.trained = c.source.is_gtzan();
        }
    }
    eprintln!(
        "{} clips ({} scored, {} training-only{}); extracting features (+{} augmented copies each)",
        clips.len(),
        clips.iter().filter(|c| c.scored()).count(),
        clips.iter().filter(|c| !c.scored()).count(),
        cfg.more_clips
            .as_ref()
            .map_or_else(String::new, |d| format!(
                ", more-clips from {}",
                d.display()
            )),
        cfg.augment_copies
    );
    let mut feats = features::extract_all(&clips, cfg.augment_copies, cfg.seed, &cfg.cache)?;
    // The model reads c0 and c1…c12 relative to their running means (genre_core::level), as
    // the device does from the start of a stream: here from the start of each clip and each
    // augmented copy.
    for sequence in feats.iter_mut().flatten() {
        genre_core::level::apply_to_stream(sequence);
    }
    let teacher = if cfg.teacher {
        Some(teacher::load_all(&clips, &cfg.cache)?)
    } else {
        None
    };
    eprintln!(
        "sounds without music: {} kinds, {} of each ({} of clicks and of mixes) to train on and \
         20 to score (synthesised)",
        nomusic::KINDS.len(),
        cfg.no_music_per_kind,
        cfg.no_music_per_kind * cfg.no_music_focus
    );
    let no_music = nomusic::frames(
        cfg.seed,
        cfg.no_music_per_kind,
        cfg.no_music_focus,
        NO_MUSIC_SECONDS,
    )
    .into_iter()
    .map(|(_, frames)| frames)
    .collect();
    let probes = nomusic::probes(cfg.seed);
    Ok(Prepared {
        clips,
        feats,
        no_music,
        probes,
        teacher,
        device,
        hyper,
    })
}

fn install_ctrlc() {
    // A second Ctrl-C exits at once; every output is written atomically, so nothing is torn.
    let _ = ctrlc::set_handler(|| {
        if train::STOP.swap(true, Ordering::SeqCst) {
            eprintln!("\ninterrupted again: exiting now (no file was half-written)");
            std::process::exit(130);
        }
        eprintln!(
            "\nCtrl-C: finishing this epoch, then stopping without writing (again to exit now)"
        );
    });
}

/// `host-train eval`: the cross-validation report and plots.
///
/// # Errors
/// Data, training or writing fails.
pub fn eval(cfg: &TrainConfig) -> Result<ExitCode> {
    let p = prepare(cfg)?;
    let cv = eval::cross_validate(&p.cv_data(cfg), &p.hyper, p.device)?;
    std::fs::create_dir_all(&cfg.out).with_context(|| format!("creating {}", cfg.out.display()))?;
    report::write_json(&cfg.out.join(CV_REPORT), &cv)?;
    write_cv_plots(cfg, &cv, None)?;
    eprintln!("wrote {}", cfg.out.display());
    Ok(ExitCode::SUCCESS)
}

fn write_cv_plots(
    cfg: &TrainConfig,
    cv: &CvReport,
    final_history: Option<&[train::EpochStats]>,
) -> Result<()> {
    report::plot_confusions(
        &cfg.out.join(CONFUSION_PNG),
        &format!("5-fold cross-validation, clip level ({} clips)", cv.clips),
        &[
            ("float", &cv.confusion_float),
            ("integer", &cv.confusion_int),
        ],
    )?;
    report::plot_device_and_capture(&cfg.out.join(DEVICE_PNG), cv)?;
    report::plot_reliability(&cfg.out.join(RELIABILITY_PNG), &cv.calibration)?;
    report::plot_learning_curves(&cfg.out.join(CURVES_PNG), &cv.histories, final_history)
}

/// `host-train train`: cross-validation (unless disabled), then the final model on every clip,
/// exported as blob, model card and plots.
///
/// # Errors
/// Data, training or writing fails.
pub fn train(cfg: &TrainConfig) -> Result<ExitCode> {
    let started = Instant::now();
    // Before anything is written: the new blob must not mark its own commit as dirty.
    let git_commit = report::git_commit();
    let p = prepare(cfg)?;
    let cv = if cfg.cross_validate {
        Some(eval::cross_validate(&p.cv_data(cfg), &p.hyper, p.device)?)
    } else {
        None
    };
    let final_started = Instant::now();
    let train_idx: Vec<usize> = (0..p.clips.len()).filter(|&i| p.clips[i].trained).collect();
    let all: Vec<&ClipFeatures> = train_idx.iter().map(|&i| &p.feats[i]).collect();
    let labels: Vec<usize> = train_idx.iter().map(|&i| p.clips[i].genre).collect();
    let taught = match &p.teacher {
        Some(emb) => Some(eval::teach(emb, &train_idx, &labels, &p.hyper)?.1),
        None => None,
    };
    let trained = train::train(
        &all,
        &labels,
        &p.no_music,
        taught.as_ref(),
        None,
        &p.hyper,
        p.device,
        "final",
    )?;
    // The cross-validation's temperature calibrates the shipped head (1 without it).
    let temperature = cv.as_ref().map_or(1.0, |cv| cv.calibration.temperature);
    let exported = export::export(&trained, &all, p.hyper.music_boundary(), temperature)?;
    let seconds_final_model = final_started.elapsed().as_secs_f64();

    std::fs::create_dir_all(&cfg.out).with_context(|| format!("creating {}", cfg.out.display()))?;
    write_atomic(&cfg.out.join(BLOB), &exported.blob)?;
    match &cv {
        Some(cv) => write_cv_plots(cfg, cv, Some(&trained.history))?,
        None => {
            report::plot_learning_curves(&cfg.out.join(CURVES_PNG), &[], Some(&trained.history))?
        }
    }
    let per_genre = GENRES
        .iter()
        .map(|g| {
            let n = p.clips.iter().filter(|c| GENRES[c.genre] == *g).count();
            ((*g).to_owned(), n)
        })
        .filter(|(_, n)| *n > 0)
        .collect();
    let epoch_seconds: Vec<f64> = trained.history.iter().map(|s| s.seconds).collect();
    let card = ModelCard {
        model: "tinygenre: 2-layer LSTM over 33 librosa-style features, integer engine".into(),
        blob: BLOB.into(),
        blob_bytes: exported.blob.len(),
        labels: GENRES.iter().map(|g| (*g).to_owned()).collect(),
        configuration: ConfigCard::current(),
        data: DataCard {
            source: format!(
                "GTZAN genre collection subset, folder {} (standard genres/<genre>/ layout){}{}",
                folder_name(&cfg.data),
                cfg.more_clips.as_deref().map_or_else(String::new, |d| format!(
                    ", and the more-clips folder {} (clips.csv: whole GTZAN clips, 2-3 s GTZAN \
                     excerpts tiled to {} s, style samples of another data set)",
                    folder_name(d),
                    crate::features::TILE_TO_SAMPLES / genre_core::config::SAMPLE_RATE_HZ as usize
                )),
                if cfg.train_gtzan_only { "; trained on the GTZAN folder only" } else { "" }
            ),
            clips: p.clips.len(),
            clips_per_genre: per_genre,
            folds: match cfg.split {
                dataset::Split::Artists => "artist-disjoint, 5 folds over every whole clip \
                    (dataset::assign_artist_folds: artists from artists.csv and clips.csv; a GTZAN \
                    name without an artist joins its named neighbours; excerpts follow their \
                    artist's fold, training only; style samples without an artist train in every fold)"
                    .into(),
                dataset::Split::Gtzan => "folds.csv (path,genre,fold): contiguous clip-number \
                    pairs per fold, 5 folds; more-clips on the training side of every fold"
                    .into(),
            },
            augmented_copies_per_clip: cfg.augment_copies,
            augmentation: format!(
                "audio domain, recipe v{} (host-train/src/augment.rs, stages of capture.rs): speed \
                 0.925-1.075 (tempo and pitch, 1.25 % steps); time shift 0-1 hop; a loudspeaker \
                 (p=0.5 each): high-pass 60-300 Hz with low-pass 4-7.5 kHz (p=0.5), or a small \
                 speaker's 4th-order band 100-400 Hz to 4-8 kHz; one or two peaking EQs ±6 dB at \
                 150 Hz-5 kHz; clipping, +3..+12 dB into the 16-bit limits and back (p=0.25); a \
                 room, RT60 0.2-1.2 s, DRR -6..+6 dB (p=0.6); white, pink or brown noise at \
                 10-40 dB SNR (p=0.8); level -40..+12 dB, saturating, rounded to 16 bits; one \
                 variant (original or copy) drawn per window and epoch; and sounds without music \
                 (host-train/src/nomusic.rs: {} kinds, {} of {} s each and {} of clicks and of \
                 mixes, every other one through a capture chain) taught to put every logit \
                 below -1, music's largest above +1 (squared hinges, weight {}){}",
                augment::RECIPE_VERSION,
                nomusic::KINDS.len(),
                p.hyper.no_music_per_kind,
                NO_MUSIC_SECONDS,
                p.hyper.no_music_per_kind * p.hyper.no_music_focus,
                p.hyper.no_music_weight,
                if p.hyper.feature_mask > 0.0 {
                    format!(
                        "; feature masking p={} (one feature group, one span of <= 16 frames)",
                        p.hyper.feature_mask
                    )
                } else {
                    String::new()
                }
            ),
        },
        training: TrainingCard {
            device: device::name(p.device).into(),
            threads: tch::get_num_threads(),
            hyper: p.hyper.clone(),
            normalisation: "features of the spectrum plus a white floor 35 dB below its running \
                level, MFCC c0 made relative to its running mean (genre_core::level, EMAs 2^-5 per \
                frame, from the start of each clip: level invariance) and c1..c12 to theirs (a plain \
                mean up to 256 frames, then EMAs 2^-8 per frame: channel invariance), then a \
                per-feature z-score (mean, std) over all training frames, stored in the blob"
                .into(),
            windows: format!(
                "every {}-frame window at a stride of {} frames, state reset per window, logits \
                 = head on the mean top-layer hidden state of steps {}..{}",
                genre_core::config::WINDOW_FRAMES,
                p.hyper.stride_frames,
                genre_core::config::POOL_FROM,
                genre_core::config::WINDOW_FRAMES
            ),
            seconds_final_model,
            seconds_per_epoch: epoch_seconds.iter().sum::<f64>() / epoch_seconds.len().max(1) as f64,
            seconds_whole_run: started.elapsed().as_secs_f64(),
            final_history: trained.history.clone(),
        },
        quantisation: export::DESCRIPTION.into(),
        decision: format!(
            "clip = mean of per-window log-probabilities over every {}-frame window (stride {}); \
             the device: one readout per non-overlapping window and the running decision over the \
             last {} windows (mean Q16 logits, switching on a lead of {} logits; \
             genre_core::decision)",
            genre_core::config::WINDOW_FRAMES,
            p.hyper.stride_frames,
            genre_core::config::RUNNING_WINDOWS,
            f64::from(genre_core::config::SWITCH_MARGIN_Q16) / 65536.0
        ),
        evaluation: "5-fold cross-validation (data.folds) over the whole clips: per fold, a model \
            trained on the other folds (same recipe, seed + fold + 1; the teacher's readout fitted \
            on the same training clips), calibrated and quantised on them; float = \
            genre_core::lstm::FloatEngine on the trained (moving-average) weights, int = \
            genre_core::quant::QuantEngine on the fold's blob, teacher = musicnn's clip embedding \
            through the fold's readout (the yardstick, never shipped). Reported: clip accuracy, \
            balanced accuracy and per-genre recall for all three, counts per source of the clips, \
            the new-artist share of the held-out clips, what the board shows (device windows, \
            running decision 10/20/30 s in, a medley of held-out clips back to back), and two \
            robustness tables (held-out clips under capture.rs's conditions, which training also \
            draws from, and under unseen.rs's family, which it never sees). The shipped model is \
            trained on every clip afterwards."
            .into(),
        cross_validation: cv,
        git_commit,
        created_unix_s: std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs()),
        limitations: vec![
            "About 200 whole clips are scored: a 95% interval on 5-fold accuracy is about ±7 points; per genre (about 20 clips) about ±20.".into(),
            "The 100 numbered GTZAN clips cover one or two artists per genre, so artist-disjoint folds hold out a genre's main artist at once; folds.csv (which does not filter artists) flatters a model.".into(),
            "The teacher (musicnn, MSD) may have heard famous GTZAN songs in its own training; its labels teach, they are no proof of what is learnable.".into(),
            "Speech is not rejected: nothing in training is speech, and in scripts/speech-check most windows of real speech are called music.".into(),
            "Trained on studio audio plus simulated capture (band limits, EQ, synthetic rooms, noise, level); real rooms, distance and loudspeakers are only approximated.".into(),
            "The device hears 16 kHz audio, so nothing above 8 kHz: on these folds that band is worth about 9 points to a \
             model-free yardstick (clip mean/std of the 33 features + logistic regression: 82-85/100 at 22.05 kHz with \
             librosa's defaults, 73-76 band-limited to 8 kHz, 75 at this configuration; scripts/bandwidth-study)."
                .into(),
        ],
    };
    report::write_json(&cfg.out.join(CARD), &card)?;
    eprintln!(
        "wrote {} ({} bytes), {CARD}, plots into {} in {:.0} s\n\
         to ship this model (weights/ and the goldens that pin it): scripts/promote {}",
        BLOB,
        exported.blob.len(),
        cfg.out.display(),
        started.elapsed().as_secs_f64(),
        cfg.out.display()
    );
    Ok(ExitCode::SUCCESS)
}

/// The data folder's own name (`gtzan`), not a machine's absolute path, for the model card.
fn folder_name(data: &std::path::Path) -> String {
    data.canonicalize()
        .ok()
        .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
        .unwrap_or_else(|| data.display().to_string())
}
