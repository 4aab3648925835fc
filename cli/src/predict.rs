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
use crate::decide::{clock, running_text, Decision, HeardCounts, MeanLogProb, WINDOW_SECONDS};
use crate::{broken_pipe, weights};

/// One file's result.
struct Analysis {
    /// Audio length in seconds (16 kHz samples / 16000).
    seconds: f64,
    /// Its windows by what they heard.
    heard: HeardCounts,
    /// The whole-file decision over the music windows; `None` when too few windows heard
    /// music ([`genre_core::decision::file_has_music`]).
    decision: Option<Decision>,
    /// The running decision after the last window.
    running: Running,
    /// The 30 s segments, with `--timeline`.
    segments: Vec<Segment>,
}

/// One 30 s segment of the timeline: [`RUNNING_WINDOWS`] windows (fewer at the end).
struct Segment {
    first_window: u64,
    heard: HeardCounts,
    /// `None` when too few of its windows heard music.
    decision: Option<Decision>,
    /// The running decision after the segment's last window.
    running: Running,
}

/// Runs `path` through the stream and decides.
fn analyse(model: &Model<'_>, path: &Path, timeline: bool) -> Result<Analysis> {
    let mut audio = Pcm16kStream::open(path)?;
    let mut stream = Box::new(Stream::new());
    let mut whole = Tally::default();
    let mut segment = Tally::default();
    let mut segments = Vec::new();
    let mut last: Option<Running> = None;
    let mut samples = 0u64;
    let mut on_window = |window: &Window, running: &Running| {
        whole.add(window);
        last = Some(*running);
        if timeline {
            segment.add(window);
            if segment.heard.windows() == RUNNING_WINDOWS as u64 {
                close_segment(&mut segment, *running, whole.heard.windows(), &mut segments);
            }
        }
    };
    while let Some(block) = audio.next_block()? {
        samples += block.len() as u64;
        stream.push(model, block, &(), &mut on_window);
    }
    let seconds = samples as f64 / f64::from(SAMPLE_RATE_HZ);
    let Some(running) = last else {
        bail!(
            "{}: too short: {seconds:.2} s of audio; a decision needs one whole window of \
             {WINDOW_SECONDS} s",
            path.display()
        );
    };
    if timeline && segment.heard.windows() > 0 {
        close_segment(&mut segment, running, whole.heard.windows(), &mut segments);
    }
    Ok(Analysis {
        seconds,
        heard: whole.heard,
        decision: whole.decision(),
        running,
        segments,
    })
}

/// The windows of a file or segment: what they heard, and the mean log-probability of those
/// that heard music.
#[derive(Default)]
struct Tally {
    heard: HeardCounts,
    music: MeanLogProb,
}

impl Tally {
    fn add(&mut self, window: &Window) {
        self.heard.add(window.heard);
        if window.heard.is_music() {
            self.music.add(&window.logits);
        }
    }

    /// The decision over the music windows, unless too few windows heard music.
    fn decision(&self) -> Option<Decision> {
        self.heard
            .no_genre_reason()
            .is_none()
            .then(|| self.music.decision())
            .flatten()
    }
}

/// Ends the segment whose last window is window `windows_so_far - 1`.
fn close_segment(
    segment: &mut Tally,
    running: Running,
    windows_so_far: u64,
    segments: &mut Vec<Segment>,
) {
    segments.push(Segment {
        first_window: windows_so_far - segment.heard.windows(),
        heard: segment.heard,
        decision: segment.decision(),
        running,
    });
    *segment = Tally::default();
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

/// `label p%, label p%, label p%`, or why there is no genre: `no music (silence in 6 of 7
/// windows)`.
fn top3_text(model: &Model<'_>, d: Option<&Decision>, heard: &HeardCounts) -> String {
    let Some(d) = d else {
        let reason = heard.no_genre_reason().unwrap_or("no music");
        let count = if reason == "silence" {
            heard.silence
        } else {
            heard.no_music
        };
        return format!(
            "no music ({reason} in {count} of {} windows)",
            heard.windows()
        );
    };
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
    writeln!(
        out,
        "{name}: {}",
        top3_text(model, a.decision.as_ref(), &a.heard)
    )?;
    if !timeline {
        return Ok(());
    }
    for s in &a.segments {
        let start = s.first_window as f64 * WINDOW_SECONDS;
        let end = (s.first_window + s.heard.windows()) as f64 * WINDOW_SECONDS;
        let mut genre = s.decision.map_or_else(
            || "no music".to_owned(),
            |d| format!("{} {:.1}%", model.label(d.genre), 100.0 * d.confidence()),
        );
        if s.heard.windows() < RUNNING_WINDOWS as u64 {
            genre += &format!(" ({} windows)", s.heard.windows());
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
        a.heard.windows(),
        top3_text(model, a.decision.as_ref(), &a.heard)
    )
}

/// A genre and its probability, in JSON; `genre` and `confidence` are null, and `reason` says
/// why, when too few windows heard music.
#[derive(Serialize)]
struct GenreJson<'a> {
    genre: Option<&'a str>,
    confidence: Option<f32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<&'static str>,
    /// Windows that heard music (the decision is theirs).
    music_windows: u64,
}

impl<'a> GenreJson<'a> {
    fn new(model: &Model<'a>, d: Option<&Decision>, heard: &HeardCounts) -> Self {
        Self {
            genre: d.map(|d| model.label(d.genre)),
            confidence: d.map(Decision::confidence),
            reason: heard.no_genre_reason(),
            music_windows: heard.music,
        }
    }
}

/// The running decision, in JSON (`genre` and `confidence` null: no music).
#[derive(Serialize)]
struct RunningJson<'a> {
    genre: Option<&'a str>,
    confidence: Option<f32>,
    /// Music windows combined (0..=10); below 10 the device is still listening.
    windows: u8,
}

impl<'a> RunningJson<'a> {
    fn new(model: &Model<'a>, r: &Running) -> Self {
        let d = Decision::running(r);
        Self {
            genre: d.map(|d| model.label(d.genre)),
            confidence: d.map(|d| d.confidence()),
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
    #[serde(flatten)]
    decision: GenreJson<'a>,
    /// Empty when there is no genre.
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
            end_s: (s.first_window + s.heard.windows()) as f64 * WINDOW_SECONDS,
            windows: s.heard.windows(),
            decision: GenreJson::new(model, s.decision.as_ref(), &s.heard),
            running: RunningJson::new(model, &s.running),
        });
        Self {
            file,
            decision: GenreJson::new(model, a.decision.as_ref(), &a.heard),
            top3: a.decision.as_ref().map_or_else(Vec::new, |d| {
                d.top(3)
                    .into_iter()
                    .map(|(g, p)| (model.label(g), p))
                    .collect()
            }),
            seconds: a.seconds,
            windows: a.heard.windows(),
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
