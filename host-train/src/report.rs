//! The model card (serde JSON) and the plots (plotters, bitmap backend, with an embedded
//! DejaVu font so text renders on machines without system fonts).

use std::path::Path;
use std::sync::Once;

use anyhow::{anyhow, Result};
use genre_core::config;
use plotters::prelude::*;
use plotters::style::FontStyle;
use serde::Serialize;

use crate::atomic::{write_atomic, write_atomic_with};
use crate::dataset::GENRES;
use crate::eval::{Confusion, CvReport};
use crate::train::{EpochStats, Hyper};

/// The frame/feature/model configuration, as recorded in the card.
#[derive(Debug, Serialize)]
pub struct ConfigCard {
    pub fingerprint: String,
    pub sample_rate_hz: u32,
    pub n_fft: usize,
    pub hop: usize,
    pub n_mels: usize,
    pub n_mfcc: usize,
    pub n_chroma: usize,
    pub n_contrast_bands: usize,
    pub n_features: usize,
    pub window_frames: usize,
    pub lstm_layers: usize,
    pub hidden: usize,
    pub n_genres: usize,
}

impl ConfigCard {
    /// From `genre_core::config`.
    pub fn current() -> Self {
        Self {
            fingerprint: format!("0x{:08x}", config::FINGERPRINT),
            sample_rate_hz: config::SAMPLE_RATE_HZ,
            n_fft: config::N_FFT,
            hop: config::HOP,
            n_mels: config::N_MELS,
            n_mfcc: config::N_MFCC,
            n_chroma: config::N_CHROMA,
            n_contrast_bands: config::N_CONTRAST_BANDS,
            n_features: config::N_FEATURES,
            window_frames: config::WINDOW_FRAMES,
            lstm_layers: config::N_LAYERS,
            hidden: config::HIDDEN,
            n_genres: config::N_GENRES,
        }
    }
}

/// Where the data came from.
#[derive(Debug, Serialize)]
pub struct DataCard {
    pub source: String,
    pub clips: usize,
    pub clips_per_genre: Vec<(String, usize)>,
    pub folds: String,
    pub augmented_copies_per_clip: usize,
    pub augmentation: String,
}

/// How the shipped model was trained.
#[derive(Debug, Serialize)]
pub struct TrainingCard {
    pub device: String,
    pub threads: i32,
    pub hyper: Hyper,
    pub normalisation: String,
    pub windows: String,
    pub seconds_final_model: f64,
    pub seconds_per_epoch: f64,
    pub seconds_whole_run: f64,
    pub final_history: Vec<EpochStats>,
}

/// The model card.
#[derive(Debug, Serialize)]
pub struct ModelCard {
    pub model: String,
    pub blob: String,
    pub blob_bytes: usize,
    pub labels: Vec<String>,
    pub configuration: ConfigCard,
    pub data: DataCard,
    pub training: TrainingCard,
    pub quantisation: String,
    pub decision: String,
    pub evaluation: String,
    pub cross_validation: Option<CvReport>,
    pub git_commit: Option<String>,
    pub created_unix_s: u64,
    pub limitations: Vec<String>,
}

/// `git describe --always --dirty` in the workspace, if git is there.
pub fn git_commit() -> Option<String> {
    let out = std::process::Command::new("git")
        .args(["describe", "--always", "--dirty", "--abbrev=40"])
        .current_dir(crate::cli::workspace_root())
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

/// Writes any serialisable value as pretty JSON, atomically.
///
/// # Errors
/// Serialisation or writing fails.
pub fn write_json<T: Serialize>(path: &Path, value: &T) -> Result<()> {
    let mut text = serde_json::to_string_pretty(value)?;
    text.push('\n');
    write_atomic(path, text.as_bytes())
}

fn register_font() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // The DejaVu bytes are a valid TrueType font; a failure only loses the text.
        let _ = plotters::style::register_font(
            "sans-serif",
            FontStyle::Normal,
            dejavu::sans::regular(),
        );
        let _ = plotters::style::register_font("sans-serif", FontStyle::Bold, dejavu::sans::bold());
    });
}

/// Renders a PNG of `size` pixels (white background) and writes it to `path` atomically.
fn render_png(
    path: &Path,
    size: (u32, u32),
    draw: impl FnOnce(&DrawingArea<BitMapBackend<'_>, plotters::coord::Shift>) -> Result<()>,
) -> Result<()> {
    register_font();
    // The bitmap encoder picks the format from the extension of the temporary file.
    write_atomic_with(path, ".png", |tmp| {
        let root = BitMapBackend::new(tmp, size).into_drawing_area();
        root.fill(&WHITE).map_err(|e| anyhow!("{e}"))?;
        draw(&root)?;
        root.present().map_err(|e| anyhow!("{e}"))?;
        Ok(())
    })
}

/// Two confusion-matrix heat maps (float and integer engine), counts in the cells, shaded by
/// the fraction of the true genre's clips.
///
/// # Errors
/// Drawing or writing fails.
pub fn plot_confusions(path: &Path, title: &str, panels: &[(&str, &Confusion)]) -> Result<()> {
    let (pw, ph) = (560u32, 600u32);
    let width = pw * panels.len() as u32;
    render_png(path, (width, ph + 40), |root| {
        let e = |e: DrawingAreaErrorKind<_>| anyhow!("{e:?}");
        let (top, rest) = root.split_vertically(40);
        top.titled(title, ("sans-serif", 22).into_font())
            .map_err(e)?;
        let areas = rest.split_evenly((1, panels.len()));
        for (area, (name, conf)) in areas.iter().zip(panels) {
            let correct: u32 = (0..config::N_GENRES).map(|g| conf[g][g]).sum();
            let total: u32 = conf.iter().flatten().sum();
            let (x0, y0, cell) = (110i32, 60i32, 42i32);
            area.draw_text(
                &format!("{name}: {correct}/{total} clips correct"),
                &("sans-serif", 18).into_font().color(&BLACK),
                (x0, 14),
            )
            .map_err(e)?;
            area.draw_text(
                "predicted →",
                &("sans-serif", 14).into_font().color(&BLACK),
                (x0 + 5 * cell - 40, 38),
            )
            .map_err(e)?;
            for (t, row) in conf.iter().enumerate() {
                let row_total = row.iter().sum::<u32>().max(1);
                let y = y0 + t as i32 * cell;
                area.draw_text(
                    GENRES[t],
                    &("sans-serif", 14).into_font().color(&BLACK),
                    (8, y + cell / 2 - 8),
                )
                .map_err(e)?;
                for (p, &count) in row.iter().enumerate() {
                    let x = x0 + p as i32 * cell;
                    let frac = f64::from(count) / f64::from(row_total);
                    let shade = (255.0 * (1.0 - 0.85 * frac)) as u8;
                    let fill = if t == p {
                        RGBColor(shade, shade, 255)
                    } else {
                        RGBColor(255, shade, shade)
                    };
                    area.draw(&Rectangle::new(
                        [(x, y), (x + cell, y + cell)],
                        fill.filled(),
                    ))
                    .map_err(e)?;
                    area.draw(&Rectangle::new(
                        [(x, y), (x + cell, y + cell)],
                        RGBColor(200, 200, 200),
                    ))
                    .map_err(e)?;
                    if count > 0 {
                        let colour = if frac > 0.6 { WHITE } else { BLACK };
                        area.draw_text(
                            &count.to_string(),
                            &("sans-serif", 16).into_font().color(&colour),
                            (
                                x + cell / 2 - 5 * count.to_string().len() as i32,
                                y + cell / 2 - 9,
                            ),
                        )
                        .map_err(e)?;
                    }
                }
            }
            let yl = y0 + 10 * cell + 8;
            for (p, g) in GENRES.iter().enumerate() {
                let x = x0 + p as i32 * cell + cell / 2;
                area.draw(&Text::new(
                    g.to_string(),
                    (x + 7, yl),
                    ("sans-serif", 14)
                        .into_font()
                        .transform(FontTransform::Rotate90)
                        .color(&BLACK),
                ))
                .map_err(e)?;
            }
            area.draw_text(
                "rows: true genre",
                &("sans-serif", 14).into_font().color(&BLACK),
                (8, y0 - 18),
            )
            .map_err(e)?;
        }
        Ok(())
    })
}

/// Learning curves: training loss (solid) and held-out window loss (dashed) per fold, and
/// held-out clip accuracy per fold; the final model's training loss in black.
///
/// # Errors
/// Drawing or writing fails.
pub fn plot_learning_curves(
    path: &Path,
    folds: &[(usize, Vec<EpochStats>)],
    final_history: Option<&[EpochStats]>,
) -> Result<()> {
    render_png(path, (1100, 480), |root| {
        let e = |e: DrawingAreaErrorKind<_>| anyhow!("{e:?}");
        let (left, right) = root.split_horizontally(560);
        let epochs = folds
            .iter()
            .map(|(_, h)| h.len())
            .chain(final_history.map(<[EpochStats]>::len))
            .max()
            .unwrap_or(1)
            .max(2);
        let max_loss = folds
            .iter()
            .flat_map(|(_, h)| h.iter())
            .chain(final_history.unwrap_or_default())
            .flat_map(|s| [Some(s.train_loss), s.val_loss])
            .flatten()
            .fold(0.5f64, f64::max)
            * 1.05;
        // Dark, distinguishable colours (no yellow on white).
        const COLOURS: [RGBColor; 6] = [
            RGBColor(31, 119, 180),
            RGBColor(214, 39, 40),
            RGBColor(44, 160, 44),
            RGBColor(148, 103, 189),
            RGBColor(255, 127, 14),
            RGBColor(23, 190, 207),
        ];
        let palette = |i: usize| COLOURS[i % COLOURS.len()];

        let mut chart = ChartBuilder::on(&left)
            .caption(
                "Loss per epoch (solid: train, dashed: held-out fold)",
                ("sans-serif", 16),
            )
            .margin(12)
            .x_label_area_size(36)
            .y_label_area_size(48)
            .build_cartesian_2d(1f64..epochs as f64, 0f64..max_loss)
            .map_err(e)?;
        chart
            .configure_mesh()
            .x_label_formatter(&|x| format!("{x:.0}"))
            .x_desc("epoch")
            .y_desc("cross-entropy")
            .label_style(("sans-serif", 13))
            .draw()
            .map_err(e)?;
        for (k, (fold, h)) in folds.iter().enumerate() {
            let c = palette(k);
            chart
                .draw_series(LineSeries::new(
                    h.iter().map(|s| (s.epoch as f64, s.train_loss)),
                    c.stroke_width(2),
                ))
                .map_err(e)?
                .label(format!("fold {fold}"))
                .legend(move |(x, y)| PathElement::new([(x, y), (x + 18, y)], c.stroke_width(2)));
            chart
                .draw_series(DashedLineSeries::new(
                    h.iter()
                        .filter_map(|s| s.val_loss.map(|v| (s.epoch as f64, v))),
                    6,
                    4,
                    c.stroke_width(2),
                ))
                .map_err(e)?;
        }
        if let Some(h) = final_history {
            chart
                .draw_series(LineSeries::new(
                    h.iter().map(|s| (s.epoch as f64, s.train_loss)),
                    BLACK.stroke_width(3),
                ))
                .map_err(e)?
                .label("final model (all clips)")
                .legend(|(x, y)| PathElement::new([(x, y), (x + 18, y)], BLACK.stroke_width(3)));
        }
        draw_legend(&mut chart, SeriesLabelPosition::UpperRight)?;

        let mut acc = ChartBuilder::on(&right)
            .caption(
                "Accuracy: held-out clips (solid), training windows (faint)",
                ("sans-serif", 16),
            )
            .margin(12)
            .x_label_area_size(36)
            .y_label_area_size(48)
            .build_cartesian_2d(1f64..epochs as f64, 0f64..1.0)
            .map_err(e)?;
        acc.configure_mesh()
            .x_label_formatter(&|x| format!("{x:.0}"))
            .x_desc("epoch")
            .y_desc("accuracy")
            .label_style(("sans-serif", 13))
            .draw()
            .map_err(e)?;
        for (k, (fold, h)) in folds.iter().enumerate() {
            let c = palette(k);
            acc.draw_series(LineSeries::new(
                h.iter()
                    .filter_map(|s| s.val_clip_acc.map(|v| (s.epoch as f64, v))),
                c.stroke_width(2),
            ))
            .map_err(e)?
            .label(format!("fold {fold}"))
            .legend(move |(x, y)| PathElement::new([(x, y), (x + 18, y)], c.stroke_width(2)));
            acc.draw_series(LineSeries::new(
                h.iter().map(|s| (s.epoch as f64, s.train_window_acc)),
                c.mix(0.35).stroke_width(1),
            ))
            .map_err(e)?;
        }
        if !folds.is_empty() {
            draw_legend(&mut acc, SeriesLabelPosition::LowerRight)?;
        }
        Ok(())
    })
}

/// One group of bars per category, one bar per series, values in `0..=1` (shares).
fn bar_panel(
    area: &DrawingArea<BitMapBackend<'_>, plotters::coord::Shift>,
    caption: &str,
    categories: &[String],
    series: &[(&str, Vec<f64>, RGBColor)],
) -> Result<()> {
    let e = |e: DrawingAreaErrorKind<_>| anyhow!("{e:?}");
    let n = categories.len().max(1) as f64;
    let mut chart = ChartBuilder::on(area)
        .caption(caption, ("sans-serif", 16))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(48)
        .build_cartesian_2d(0f64..n, 0f64..1.0)
        .map_err(e)?;
    let names = categories.to_vec();
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(categories.len() * 2 + 1)
        .x_label_formatter(&move |x| {
            let k = x.floor() as usize;
            if (x - x.floor() - 0.5).abs() < 1e-6 {
                names.get(k).cloned().unwrap_or_default()
            } else {
                String::new()
            }
        })
        .x_label_style(
            ("sans-serif", 12)
                .into_font()
                .transform(FontTransform::Rotate90),
        )
        .y_desc("share of clips / windows right")
        .y_label_formatter(&|y| format!("{:.0} %", 100.0 * y))
        .label_style(("sans-serif", 13))
        .draw()
        .map_err(e)?;
    let width = 0.8 / series.len().max(1) as f64;
    for (s, (name, values, colour)) in series.iter().enumerate() {
        let c = *colour;
        chart
            .draw_series(values.iter().enumerate().map(|(k, &v)| {
                let x0 = k as f64 + 0.1 + s as f64 * width;
                Rectangle::new([(x0, 0.0), (x0 + width, v)], c.filled())
            }))
            .map_err(e)?
            .label(*name)
            .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 14, y + 5)], c.filled()));
    }
    draw_legend(&mut chart, SeriesLabelPosition::UpperRight)
}

/// Draws a chart's legend (series labels) at `position`, in the style of every plot here.
fn draw_legend<'a, DB: DrawingBackend + 'a, CT: CoordTranslate>(
    chart: &mut ChartContext<'a, DB, CT>,
    position: SeriesLabelPosition,
) -> Result<()>
where
    DB::ErrorType: 'static,
{
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .label_font(("sans-serif", 13))
        .position(position)
        .draw()
        .map_err(|e| anyhow!("{e:?}"))
}

/// What the board shows (each window; the running decision 10, 20, 30 s in) and the
/// robustness table (clip decisions under capture conditions), float and integer engine; below,
/// the unseen capture family's table.
///
/// # Errors
/// Drawing or writing fails.
pub fn plot_device_and_capture(path: &Path, cv: &CvReport) -> Result<()> {
    const FLOAT: RGBColor = RGBColor(31, 119, 180);
    const INT: RGBColor = RGBColor(214, 39, 40);
    let share = |a: usize, b: usize| a as f64 / b.max(1) as f64;
    let shown = |s: &crate::shown::Shown| -> Vec<f64> {
        let mut v = vec![share(s.windows_correct, s.windows)];
        v.extend((0..3).map(|i| share(s.running_correct[i], s.running_clips[i])));
        v
    };
    let mut shown_categories = vec!["window".to_owned()];
    shown_categories.extend(
        crate::shown::CHECKPOINTS_S
            .iter()
            .map(|t| format!("{t:.0} s")),
    );
    let rob = &cv.robustness;
    // Short names under the bars; the card and `eval` print the full ones.
    let short = |name: &str| -> String {
        name.replace("level ", "")
            .replace("pink noise ", "pink ")
            .replace(" clipped", " clip")
            .replace("room RT60 ", "room ")
            .replace("speaker band 250 Hz-6 kHz", "speaker")
            .replace("over the air", "air")
            .replace("random offset", "offset")
            .replace("small speaker", "speaker")
            .replace("fan noise ", "fan ")
            .replace("other music ", "music ")
            .replace("AGC/limiter", "AGC")
    };
    let bars = |rows: &[crate::robustness::ConditionResult]| {
        let names: Vec<String> = rows.iter().map(|c| short(&c.condition)).collect();
        let float = rows
            .iter()
            .map(|c| share(c.float_correct, c.clips))
            .collect();
        let int = rows.iter().map(|c| share(c.int_correct, c.clips)).collect();
        (names, float, int)
    };
    let (conditions, rob_float, rob_int) = bars(&rob.conditions);
    let (unseen, unseen_float, unseen_int) = bars(&rob.unseen);
    let height = if unseen.is_empty() { 560 } else { 1040 };
    render_png(path, (1300, height), |root| {
        let (top, bottom) = root.split_vertically(560);
        let (left, right) = top.split_horizontally(460);
        bar_panel(
            &left,
            &format!(
                "What the board shows ({:.1} / {:.1} flips/min)",
                cv.shown_float.flips_per_minute(),
                cv.shown_int.flips_per_minute()
            ),
            &shown_categories,
            &[
                ("float", shown(&cv.shown_float), FLOAT),
                ("integer", shown(&cv.shown_int), INT),
            ],
        )?;
        bar_panel(
            &right,
            &format!(
                "Clip decisions under capture conditions (level sweep: {}/{} unchanged)",
                rob.level_sweep_unchanged, rob.level_sweep_clips
            ),
            &conditions,
            &[("float", rob_float, FLOAT), ("integer", rob_int, INT)],
        )?;
        if unseen.is_empty() {
            return Ok(());
        }
        bar_panel(
            &bottom,
            "Unseen capture family (never trained on): clip decisions",
            &unseen,
            &[("float", unseen_float, FLOAT), ("integer", unseen_int, INT)],
        )
    })
}

/// Reliability diagram of the held-out windows: accuracy against confidence per bin, before
/// and after the temperature, with the diagonal a calibrated model follows.
///
/// # Errors
/// Drawing or writing fails.
pub fn plot_reliability(path: &Path, c: &crate::calibration::CalibrationReport) -> Result<()> {
    render_png(path, (640, 560), |root| {
        let e = |e: DrawingAreaErrorKind<_>| anyhow!("{e:?}");
        let mut chart = ChartBuilder::on(root)
            .caption(
                format!(
                    "Confidence of {} held-out windows (integer engine)",
                    c.windows
                ),
                ("sans-serif", 17),
            )
            .margin(14)
            .x_label_area_size(40)
            .y_label_area_size(52)
            .build_cartesian_2d(0f64..1f64, 0f64..1f64)
            .map_err(e)?;
        chart
            .configure_mesh()
            .x_desc("top probability shown (bin mean)")
            .y_desc("share of those windows right")
            .label_style(("sans-serif", 13))
            .draw()
            .map_err(e)?;
        chart
            .draw_series(DashedLineSeries::new(
                [(0.0, 0.0), (1.0, 1.0)],
                6,
                4,
                RGBColor(120, 120, 120).stroke_width(1),
            ))
            .map_err(e)?
            .label("calibrated")
            .legend(|(x, y)| PathElement::new([(x, y), (x + 18, y)], RGBColor(120, 120, 120)));
        let series = [
            (
                &c.bins_before,
                RGBColor(214, 39, 40),
                format!("before (ECE {:.3})", c.ece_before),
            ),
            (
                &c.bins_after,
                RGBColor(31, 119, 180),
                format!(
                    "temperature {:.2}, other folds' (ECE {:.3})",
                    c.temperature, c.ece_after
                ),
            ),
        ];
        for (bins, colour, label) in series {
            let points: Vec<(f64, f64)> = bins
                .iter()
                .filter(|b| b.windows > 0)
                .map(|b| (b.confidence, b.accuracy))
                .collect();
            chart
                .draw_series(LineSeries::new(points.clone(), colour.stroke_width(2)))
                .map_err(e)?
                .label(label)
                .legend(move |(x, y)| {
                    PathElement::new([(x, y), (x + 18, y)], colour.stroke_width(2))
                });
            chart
                .draw_series(points.iter().map(|&p| Circle::new(p, 4, colour.filled())))
                .map_err(e)?;
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperLeft)
            .border_style(BLACK)
            .background_style(WHITE.mix(0.9))
            .label_font(("sans-serif", 13))
            .draw()
            .map_err(e)?;
        Ok(())
    })
}
