//! `tinygenre predict`: files → the integer engine's windows → a decision per file (and per
//! 30 s segment with `--timeline`), files in parallel, output in input order.

use std::collections::BTreeMap;
use std::io::{self, IsTerminal, Write};
use std::path::Path;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use anyhow::{bail, Result};
use genre_audio::Pcm16kStream;
use genre_core::config::{RUNNING_WINDOWS, SAMPLE_RATE_HZ};
use genre_core::decision::Running;
use genre_core::format::Model;
use genre_core::stream::{Stream, Window};
use indicatif::{ProgressBar, ProgressStyle};
use rayon::iter::{ParallelBridge, ParallelIterator};
use serde::Serialize;

use crate::args::PredictArgs;
use crate::decide::{clock, running_text, Decision, MeanLogProb, WINDOW_SECONDS};
use crate::{broken_pipe, weights};

/// One file's result.
struct Analysis {
    /// Audio length in seconds (16 kHz samples / 16000).
    seconds: f64,
    windows: u64,
    /// The whole-file decision.
    decision: Decision,
    /// The running decision after the last window.
    running: Running,
    /// The 30 s segments, with `--timeline`.
    segments: Vec<Segment>,
}

/// One 30 s segment of the timeline: [`RUNNING_WINDOWS`] windows (fewer at the end).
struct Segment {
    first_window: u64,
    windows: u64,
    decision: Decision,
    /// The running decision after the segment's last window.
    running: Running,
}

/// Runs `path` through the stream and decides.
fn analyse(model: &Model<'_>, path: &Path, timeline: bool) -> Result<Analysis> {
    let mut audio = Pcm16kStream::open(path)?;
    let mut stream = Box::new(Stream::new());
    let mut whole = MeanLogProb::default();
    let mut segment = MeanLogProb::default();
    let mut segments = Vec::new();
    let mut last: Option<Running> = None;
    let mut samples = 0u64;
    let mut on_window = |window: &Window, running: &Running| {
        whole.add(&window.logits);
        last = Some(*running);
        if timeline {
            segment.add(&window.logits);
            if segment.windows() == RUNNING_WINDOWS as u64 {
                close_segment(&mut segment, *running, whole.windows(), &mut segments);
            }
        }
    };
    while let Some(block) = audio.next_block()? {
        samples += block.len() as u64;
        stream.push(model, block, &(), &mut on_window);
    }
    let seconds = samples as f64 / f64::from(SAMPLE_RATE_HZ);
    let (Some(decision), Some(running)) = (whole.decision(), last) else {
        bail!(
            "{}: too short: {seconds:.2} s of audio; a decision needs one whole window of \
             {WINDOW_SECONDS} s",
            path.display()
        );
    };
    if timeline && segment.windows() > 0 {
        close_segment(&mut segment, running, whole.windows(), &mut segments);
    }
    Ok(Analysis {
        seconds,
        windows: whole.windows(),
        decision,
        running,
        segments,
    })
}

/// Ends the segment whose last window is window `windows_so_far - 1`.
fn close_segment(
    segment: &mut MeanLogProb,
    running: Running,
    windows_so_far: u64,
    segments: &mut Vec<Segment>,
) {
    if let Some(decision) = segment.decision() {
        segments.push(Segment {
            first_window: windows_so_far - segment.windows(),
            windows: segment.windows(),
            decision,
            running,
        });
    }
    *segment = MeanLogProb::default();
}

/// `tinygenre predict`.
///
/// # Errors
/// The weights cannot be loaded or stdout fails; a bad audio file is reported per file and
/// makes the exit status 1.
pub fn run(args: &PredictArgs) -> Result<ExitCode> {
    let blob = weights::load(args.weights.as_deref())?;
    let model = weights::parse(&blob, args.weights.as_deref())?;
    let failed = if args.window_logits {
        window_logits(&model, &args.files)?
    } else {
        predict_all(&model, args)?
    };
    if failed > 0 {
        eprintln!("{failed} of {} file(s) failed", args.files.len());
        return Ok(ExitCode::FAILURE);
    }
    Ok(ExitCode::SUCCESS)
}

/// Output in input order: results wait here until every earlier file is printed.
struct Ordered<W> {
    out: W,
    next: usize,
    waiting: BTreeMap<usize, (String, Result<Analysis>)>,
    failed: usize,
    /// The first write error; output stops there.
    error: Option<io::Error>,
}

/// Classifies every file (in parallel) and prints the results in input order; returns how
/// many files failed.
fn predict_all(model: &Model<'_>, args: &PredictArgs) -> Result<usize> {
    let bar = if args.json || !io::stderr().is_terminal() {
        ProgressBar::hidden()
    } else {
        let bar = ProgressBar::new(args.files.len() as u64).with_style(
            ProgressStyle::with_template("{bar:30} {pos}/{len} files [{elapsed}<{eta}]")
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        bar.enable_steady_tick(Duration::from_millis(250));
        bar
    };
    let printer = Mutex::new(Ordered {
        out: io::BufWriter::new(io::stdout()),
        next: 0,
        waiting: BTreeMap::new(),
        failed: 0,
        error: None,
    });
    let stop = AtomicBool::new(false);
    // `par_bridge` hands the files out in order, so results arrive nearly in order and few
    // wait to be printed.
    args.files
        .iter()
        .enumerate()
        .par_bridge()
        .for_each(|(index, path)| {
            if stop.load(Ordering::Relaxed) {
                return;
            }
            let result = analyse(model, path, args.timeline);
            let mut guard = printer.lock().unwrap_or_else(|e| e.into_inner());
            let p = &mut *guard;
            p.waiting
                .insert(index, (path.display().to_string(), result));
            while let Some((name, result)) = p.waiting.remove(&p.next) {
                p.next += 1;
                p.failed += usize::from(result.is_err());
                if p.error.is_none() {
                    let written = bar.suspend(|| print(&mut p.out, model, args, &name, &result));
                    if let Err(e) = written {
                        stop.store(true, Ordering::Relaxed);
                        p.error = Some(e);
                    }
                }
            }
            bar.inc(1);
        });
    bar.finish_and_clear();
    let p = printer.into_inner().unwrap_or_else(|e| e.into_inner());
    let Ordered {
        mut out,
        failed,
        error,
        ..
    } = p;
    match error.map_or_else(|| out.flush(), Err) {
        Err(e) if !broken_pipe(&e) => Err(e.into()),
        _ => Ok(failed),
    }
}

/// Prints one file's result (errors in plain mode go to stderr).
fn print(
    out: &mut impl Write,
    model: &Model<'_>,
    args: &PredictArgs,
    name: &str,
    result: &Result<Analysis>,
) -> io::Result<()> {
    match (result, args.json) {
        (Ok(a), true) => {
            serde_json::to_writer(&mut *out, &FileJson::new(model, name, a, args.timeline))?;
            writeln!(out)?;
        }
        (Err(e), true) => {
            let v = serde_json::json!({"file": name, "error": format!("{e:#}")});
            writeln!(out, "{v}")?;
        }
        (Ok(a), false) => print_text(out, model, name, a, args.timeline)?,
        (Err(e), false) => {
            // stdout first, so that stderr and stdout on one terminal keep the order.
            out.flush()?;
            eprintln!("error: {e:#}");
        }
    }
    // Each file's lines leave as soon as they are complete.
    out.flush()
}

/// `label p%, label p%, label p%`.
fn top3_text(model: &Model<'_>, d: &Decision) -> String {
    let list: Vec<String> = d
        .top(3)
        .iter()
        .map(|&(g, p)| format!("{} {:.1}%", model.label(g), 100.0 * p))
        .collect();
    list.join(", ")
}

fn print_text(
    out: &mut impl Write,
    model: &Model<'_>,
    name: &str,
    a: &Analysis,
    timeline: bool,
) -> io::Result<()> {
    writeln!(out, "{name}: {}", top3_text(model, &a.decision))?;
    if !timeline {
        return Ok(());
    }
    for s in &a.segments {
        let start = s.first_window as f64 * WINDOW_SECONDS;
        let end = (s.first_window + s.windows) as f64 * WINDOW_SECONDS;
        let mut genre = format!(
            "{} {:.1}%",
            model.label(s.decision.genre),
            100.0 * s.decision.confidence()
        );
        if s.windows < RUNNING_WINDOWS as u64 {
            genre += &format!(" ({} windows)", s.windows);
        }
        let span = format!("{}-{}", clock(start), clock(end));
        writeln!(
            out,
            "  {span:<13} {genre:<30} running: {}",
            running_text(model, &s.running)
        )?;
    }
    writeln!(
        out,
        "  running decision at the end: {}",
        running_text(model, &a.running)
    )?;
    writeln!(
        out,
        "  whole file ({}, {} windows, mean log-probability): {}",
        clock(a.seconds),
        a.windows,
        top3_text(model, &a.decision)
    )
}

/// A genre and its probability, in JSON.
#[derive(Serialize)]
struct GenreJson<'a> {
    genre: &'a str,
    confidence: f32,
}

/// The running decision, in JSON.
#[derive(Serialize)]
struct RunningJson<'a> {
    genre: &'a str,
    confidence: f32,
    /// Windows combined (1..=10); below 10 the device is still listening.
    windows: u8,
}

impl<'a> RunningJson<'a> {
    fn new(model: &Model<'a>, r: &Running) -> Self {
        let d = Decision::running(r);
        Self {
            genre: model.label(d.genre),
            confidence: d.confidence(),
            windows: r.windows,
        }
    }
}

#[derive(Serialize)]
struct SegmentJson<'a> {
    start_s: f64,
    end_s: f64,
    windows: u64,
    #[serde(flatten)]
    decision: GenreJson<'a>,
    running: RunningJson<'a>,
}

#[derive(Serialize)]
struct FileJson<'a> {
    file: &'a str,
    genre: &'a str,
    top3: Vec<(&'a str, f32)>,
    seconds: f64,
    windows: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    running: Option<RunningJson<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    timeline: Option<Vec<SegmentJson<'a>>>,
}

impl<'a> FileJson<'a> {
    fn new(model: &Model<'a>, file: &'a str, a: &Analysis, timeline: bool) -> Self {
        let segments = a.segments.iter().map(|s| SegmentJson {
            start_s: s.first_window as f64 * WINDOW_SECONDS,
            end_s: (s.first_window + s.windows) as f64 * WINDOW_SECONDS,
            windows: s.windows,
            decision: GenreJson {
                genre: model.label(s.decision.genre),
                confidence: s.decision.confidence(),
            },
            running: RunningJson::new(model, &s.running),
        });
        Self {
            file,
            genre: model.label(a.decision.genre),
            top3: a
                .decision
                .top(3)
                .into_iter()
                .map(|(g, p)| (model.label(g), p))
                .collect(),
            seconds: a.seconds,
            windows: a.windows,
            running: timeline.then(|| RunningJson::new(model, &a.running)),
            timeline: timeline.then(|| segments.collect()),
        }
    }
}

/// `--window-logits`: the device's report lines for each file, one file after the other,
/// streamed; returns how many files failed.
fn window_logits(model: &Model<'_>, files: &[std::path::PathBuf]) -> Result<usize> {
    let mut out = io::BufWriter::new(io::stdout().lock());
    let mut failed = 0;
    for path in files {
        let mut written = Ok(());
        let mut on_window = |window: &Window, running: &Running| {
            if written.is_ok() {
                written = writeln!(out, "{}\n{}", window.line(model), running.line(model));
            }
        };
        let streamed = (|| -> Result<()> {
            let mut audio = Pcm16kStream::open(path)?;
            let mut stream = Box::new(Stream::new());
            while let Some(block) = audio.next_block()? {
                stream.push(model, block, &(), &mut on_window);
            }
            Ok(())
        })();
        match written.and_then(|()| out.flush()) {
            Err(e) if broken_pipe(&e) => return Ok(failed),
            Err(e) => return Err(e.into()),
            Ok(()) => {}
        }
        if let Err(e) = streamed {
            failed += 1;
            eprintln!("error: {e:#}");
        }
    }
    Ok(failed)
}
