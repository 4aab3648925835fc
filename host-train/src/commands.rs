//! The `train` and `eval` commands: data → features → (cross-validation) → final model →
//! quantisation → blob, model card and plots.

use std::process::ExitCode;
use std::sync::atomic::Ordering;
use std::time::Instant;

use anyhow::{Context, Result};

use crate::atomic::write_atomic;
use crate::cli::TrainConfig;
use crate::dataset::{self, GENRES};
use crate::eval::{self, CvReport};
use crate::features::{self, ClipFeatures};
use crate::report::{self, ConfigCard, DataCard, ModelCard, TrainingCard};
use crate::train::{self, Hyper};
use crate::{augment, device, export};

/// File names inside the output folder.
pub const BLOB: &str = "tinygenre.tgm";
const CARD: &str = "model-card.json";
const CV_REPORT: &str = "cv-report.json";
const CONFUSION_PNG: &str = "confusion.png";
const CURVES_PNG: &str = "learning-curves.png";

/// What `train` and `eval` share: the clips, their features, the device.
struct Prepared {
    clips: Vec<dataset::Clip>,
    feats: Vec<ClipFeatures>,
    device: tch::Device,
    hyper: Hyper,
}

fn prepare(cfg: &TrainConfig) -> Result<Prepared> {
    install_ctrlc();
    if cfg.threads > 0 {
        tch::set_num_threads(i32::try_from(cfg.threads).unwrap_or(1));
    }
    let device = device::select();
    let hyper = Hyper::new(cfg);
    eprintln!(
        "seed {} (augmentation, initialisation, batch order); data {}; cache {}",
        cfg.seed,
        cfg.data.display(),
        cfg.cache.display()
    );
    let clips = dataset::load(&cfg.data, cfg.clips_per_genre)?;
    eprintln!(
        "{} clips; extracting features (+{} augmented copies each)",
        clips.len(),
        cfg.augment_copies
    );
    let feats = features::extract_all(&clips, cfg.augment_copies, cfg.seed, &cfg.cache)?;
    Ok(Prepared {
        clips,
        feats,
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
    let cv = eval::cross_validate(&p.clips, &p.feats, &p.hyper, p.device)?;
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
        Some(eval::cross_validate(
            &p.clips, &p.feats, &p.hyper, p.device,
        )?)
    } else {
        None
    };
    let final_started = Instant::now();
    let all: Vec<&ClipFeatures> = p.feats.iter().collect();
    let labels: Vec<usize> = p.clips.iter().map(|c| c.genre).collect();
    let trained = train::train(&all, &labels, None, &p.hyper, p.device, "final")?;
    let exported = export::export(&trained, &all)?;
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
                "GTZAN genre collection subset at {} (standard genres/<genre>/ layout)",
                cfg.data.display()
            ),
            clips: p.clips.len(),
            clips_per_genre: per_genre,
            folds: "folds.csv (path,genre,fold): contiguous clip-number pairs per fold, 5 folds".into(),
            augmented_copies_per_clip: cfg.augment_copies,
            augmentation: format!(
                "audio domain, recipe v{}: time shift 0-1 hop, high-pass 60-300 Hz, low-pass \
                 3.5-7.5 kHz (p=0.5), peaking EQ ±6 dB at 150 Hz-5 kHz, gain -18..+6 dB \
                 (saturating), white noise at 15-45 dB SNR; one variant (original or copy) drawn \
                 per window and epoch",
                augment::RECIPE_VERSION
            ),
        },
        training: TrainingCard {
            device: device::name(p.device).into(),
            threads: tch::get_num_threads(),
            hyper: p.hyper.clone(),
            normalisation: "per-feature z-score (mean, std) over all training frames, stored in the blob".into(),
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
            "clip = mean of per-window log-probabilities over every {}-frame window (stride {})",
            genre_core::config::WINDOW_FRAMES,
            p.hyper.stride_frames
        ),
        evaluation: "5-fold cross-validation over folds.csv: per fold, a model trained on the \
            other folds (same recipe, seed + fold + 1), calibrated and quantised on them; float = \
            genre_core::lstm::FloatEngine on the trained (moving-average) weights, int = \
            genre_core::quant::QuantEngine on the fold's blob; the shipped model is trained on \
            every clip afterwards. The original project's recipe (2x128 LSTM, no augmentation, \
            30 epochs) is reported at 78/100 on these folds; it is not re-run here."
            .into(),
        cross_validation: cv,
        git_commit,
        created_unix_s: std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs()),
        limitations: vec![
            "100 clips only: one clip is 1 point; a 95% interval on 5-fold accuracy is about ±9 points.".into(),
            "GTZAN repeats artists within a genre; folds keep neighbouring clips together but do not filter artists, so CV flatters the model.".into(),
            "Trained on studio audio plus simulated microphone effects; real rooms, distance and reverberation are not modelled.".into(),
            "The device hears 16 kHz audio, so nothing above 8 kHz: on these folds that band is worth about 9 points to a \
             model-free yardstick (clip mean/std of the 33 features + logistic regression: 82-85/100 at 22.05 kHz with \
             librosa's defaults, 73-76 band-limited to 8 kHz, 75 at this configuration; scripts/bandwidth-study)."
                .into(),
        ],
    };
    report::write_json(&cfg.out.join(CARD), &card)?;
    eprintln!(
        "wrote {} ({} bytes), {CARD}, plots into {} in {:.0} s",
        BLOB,
        exported.blob.len(),
        cfg.out.display(),
        started.elapsed().as_secs_f64()
    );
    Ok(ExitCode::SUCCESS)
}
