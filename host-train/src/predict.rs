//! The `predict` and `features` commands.

use std::borrow::Cow;
use std::io::{BufWriter, Write};
use std::path::Path;
use std::process::ExitCode;

use anyhow::{bail, Context, Result};
use genre_core::config::{N_GENRES, WINDOW_FRAMES};
use genre_core::lstm::softmax;
use genre_core::stream::Stream;
use serde_json::json;

use crate::classify::{argmax, clip_decision, IntClassifier};
use crate::cli::{FeaturesArgs, PredictArgs};
use crate::features::{feature_names, file_frames};
use crate::train::STRIDE;

/// The shipped blob, compiled in with the `embed-weights` feature.
#[cfg(feature = "embed-weights")]
const EMBEDDED: Option<&[u8]> = Some(include_bytes!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../weights/tinygenre.tgm"
)));
#[cfg(not(feature = "embed-weights"))]
const EMBEDDED: Option<&[u8]> = None;

/// `--weights`, else the embedded blob, else the workspace's `weights/tinygenre.tgm`.
fn load_weights(path: Option<&Path>) -> Result<Cow<'static, [u8]>> {
    if let Some(p) = path {
        return Ok(Cow::Owned(
            std::fs::read(p).with_context(|| format!("reading weights {}", p.display()))?,
        ));
    }
    if let Some(bytes) = EMBEDDED {
        return Ok(Cow::Borrowed(bytes));
    }
    let p = crate::cli::workspace_root()
        .join("weights")
        .join(crate::commands::BLOB);
    Ok(Cow::Owned(std::fs::read(&p).with_context(|| {
        format!(
            "reading the shipped weights {} (run `host-train train`, or pass --weights)",
            p.display()
        )
    })?))
}

/// One file's clip-level prediction: `(genre index, probabilities)`.
fn predict_file(c: &mut IntClassifier<'_>, path: &Path) -> Result<(usize, [f32; N_GENRES])> {
    let frames = file_frames(path)?;
    let Some((mean_logp, _)) = clip_decision(c, &frames, STRIDE) else {
        bail!(
            "{}: too short ({} frames; at least {WINDOW_FRAMES} frames ≈ 3 s are needed)",
            path.display(),
            frames.len()
        );
    };
    Ok((argmax(&mean_logp), softmax(&mean_logp)))
}

/// `host-train predict`.
///
/// # Errors
/// The weights cannot be loaded or stdout fails; a bad audio file is reported per file.
pub fn run(args: &PredictArgs) -> Result<ExitCode> {
    let blob = load_weights(args.weights.as_deref())?;
    let mut c = IntClassifier::parse(&blob)?;
    let mut out = BufWriter::new(std::io::stdout().lock());
    let mut failed = 0usize;
    for path in &args.files {
        if args.window_logits {
            match window_logits(&c, path, &mut out) {
                Ok(()) => {}
                Err(e) => {
                    failed += 1;
                    eprintln!("error: {e}");
                }
            }
            continue;
        }
        let name = path.display().to_string();
        match predict_file(&mut c, path) {
            Ok((_, probs)) => {
                let mut order: Vec<usize> = (0..N_GENRES).collect();
                order.sort_by(|&a, &b| probs[b].total_cmp(&probs[a]));
                let top3: Vec<(&str, f32)> = order
                    .iter()
                    .take(3)
                    .map(|&g| (c.label(g), probs[g]))
                    .collect();
                if args.json {
                    let v = json!({"file": name, "genre": top3[0].0, "top3": top3});
                    writeln!(out, "{v}")?;
                } else {
                    let list: Vec<String> = top3
                        .iter()
                        .map(|(l, p)| format!("{l} {:.1}%", 100.0 * p))
                        .collect();
                    writeln!(out, "{name}: {}", list.join(", "))?;
                }
            }
            Err(e) => {
                failed += 1;
                if args.json {
                    writeln!(out, "{}", json!({"file": name, "error": e.to_string()}))?;
                } else {
                    eprintln!("error: {e}");
                }
            }
        }
    }
    out.flush()?;
    if failed > 0 {
        eprintln!("{failed} of {} file(s) failed", args.files.len());
        return Ok(ExitCode::FAILURE);
    }
    Ok(ExitCode::SUCCESS)
}

/// The device's report lines for each window of the file (`window …`, then `running …`, the
/// running decision after it), streamed through the same `genre_core::stream::Stream` the
/// firmware runs.
fn window_logits(c: &IntClassifier<'_>, path: &Path, out: &mut impl Write) -> Result<()> {
    // The audio error already names the file and its cause.
    let pcm = genre_audio::load_pcm16k(path)?;
    let model = c.model();
    let mut stream = Box::new(Stream::new());
    let mut written = Ok(());
    stream.push(model, &pcm, &(), |window, running| {
        if written.is_ok() {
            written = writeln!(out, "{}\n{}", window.line(model), running.line(model));
        }
    });
    Ok(written?)
}

/// `host-train features`.
///
/// # Errors
/// The file cannot be decoded or stdout fails.
pub fn features(args: &FeaturesArgs) -> Result<ExitCode> {
    let frames = file_frames(&args.file)?;
    let write = || -> std::io::Result<()> {
        let mut out = BufWriter::new(std::io::stdout().lock());
        let sep = if args.csv { "," } else { " " };
        if args.csv {
            writeln!(out, "{}", feature_names().join(","))?;
        }
        for frame in &frames {
            let row: Vec<String> = frame.iter().map(|v| format!("{v}")).collect();
            writeln!(out, "{}", row.join(sep))?;
        }
        out.flush()
    };
    match write() {
        // A closed pipe (`| head`) is the reader's choice, not a failure.
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(e.into()),
        _ => Ok(ExitCode::SUCCESS),
    }
}
