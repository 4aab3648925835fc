//! `tinygenre listen`: live audio through the device's stream, one line per window.

use std::io::{self, IsTerminal, Read, Write};
use std::process::ExitCode;

use anyhow::{bail, Context, Result};
use genre_core::config::SAMPLE_RATE_HZ;
use genre_core::decision::Running;
use genre_core::format::Model;
use genre_core::stream::{Heard, Stream, Window};

use crate::args::ListenArgs;
use crate::decide::{clock, running_text, WINDOW_SECONDS};
use crate::{broken_pipe, weights};

/// Bytes read from standard input per step (256 ms of audio).
const READ_BYTES: usize = 8192;

/// The stream and its printed report.
pub struct Reporter<'m, W: Write> {
    model: &'m Model<'m>,
    stream: Box<Stream>,
    out: W,
    samples: u64,
    windows: u64,
}

impl<'m, W: Write> Reporter<'m, W> {
    fn new(model: &'m Model<'m>, out: W) -> Self {
        Self {
            model,
            stream: Box::new(Stream::new()),
            out,
            samples: 0,
            windows: 0,
        }
    }

    /// Feeds 16 kHz mono PCM; prints a line per finished window, at once.
    ///
    /// # Errors
    /// Writing to the output fails.
    pub fn push(&mut self, pcm: &[i16]) -> io::Result<()> {
        let Self {
            model,
            stream,
            out,
            samples,
            windows,
        } = self;
        *samples += pcm.len() as u64;
        let before = *windows;
        let mut written = Ok(());
        stream.push(model, pcm, &(), |window: &Window, running: &Running| {
            *windows += 1;
            if written.is_ok() {
                written = writeln!(out, "{}", window_text(model, window, running));
            }
        });
        written?;
        if *windows > before {
            out.flush()?;
        }
        Ok(())
    }

    /// Says on stderr how much was heard.
    fn summary(&self) {
        let seconds = self.samples as f64 / f64::from(SAMPLE_RATE_HZ);
        if self.windows == 0 {
            eprintln!(
                "end of input after {seconds:.2} s: shorter than one window ({WINDOW_SECONDS} s), \
                 nothing classified"
            );
        } else {
            eprintln!(
                "end of input after {seconds:.2} s: {} window(s)",
                self.windows
            );
        }
    }
}

/// `0:06 window 1: rock 62.1% | running: rock 58.0%, still listening (2/10)`, or `0:09 window
/// 2: no music (silence) | running: no music` (`no music` alone when it is not silence): the
/// time is the window's end.
fn window_text(model: &Model<'_>, window: &Window, running: &Running) -> String {
    let heard = if window.heard.is_music() {
        let probs = genre_core::quant::probabilities(&window.logits);
        format!(
            "{} {:.1}%",
            model.label(window.top1),
            100.0 * probs[window.top1]
        )
    } else if window.heard == Heard::Silence {
        "no music (silence)".to_owned()
    } else {
        "no music".to_owned()
    };
    format!(
        "{} window {}: {heard} | running: {}",
        clock(f64::from(window.index + 1) * WINDOW_SECONDS),
        window.index,
        running_text(model, running)
    )
}

/// `tinygenre listen`.
///
/// # Errors
/// The weights cannot be loaded, the input cannot be read (or ends inside a sample), there
/// is no microphone, or stdout fails (a closed pipe ends quietly).
pub fn run(args: &ListenArgs) -> Result<ExitCode> {
    let blob = weights::load(args.weights.as_deref())?;
    let model = weights::parse(&blob, args.weights.as_deref())?;
    let mut reporter = Reporter::new(&model, io::stdout().lock());
    let result = if args.stdin {
        from_stdin(&mut reporter)
    } else {
        microphone(&mut reporter)
    };
    match result {
        Err(e) if e.downcast_ref().is_some_and(broken_pipe) => Ok(ExitCode::SUCCESS),
        other => other.map(|()| ExitCode::SUCCESS),
    }
}

/// Raw 16 kHz mono s16le PCM from standard input, until its end.
fn from_stdin<W: Write>(reporter: &mut Reporter<'_, W>) -> Result<()> {
    let stdin = io::stdin();
    if stdin.is_terminal() {
        bail!(
            "--stdin reads raw 16 kHz mono s16le PCM from a pipe, e.g. \
             `arecord -q -r 16000 -f S16_LE -c 1 | tinygenre listen --stdin`; standard input \
             is a terminal"
        );
    }
    let mut input = stdin.lock();
    let mut bytes = vec![0u8; READ_BYTES];
    let mut pcm = Vec::with_capacity(READ_BYTES / 2 + 1);
    // The first byte of a sample split between two reads.
    let mut carry: Option<u8> = None;
    loop {
        let n = match input.read(&mut bytes) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e).context("reading standard input"),
        };
        let mut data = &bytes[..n];
        pcm.clear();
        if let (Some(low), Some((&high, rest))) = (carry, data.split_first()) {
            pcm.push(i16::from_le_bytes([low, high]));
            data = rest;
        }
        let samples = data.chunks_exact(2);
        carry = samples.remainder().first().copied();
        pcm.extend(samples.map(|b| i16::from_le_bytes([b[0], b[1]])));
        reporter.push(&pcm)?;
    }
    reporter.summary();
    if carry.is_some() {
        bail!("standard input ended inside a sample (an odd number of bytes): not s16le PCM");
    }
    Ok(())
}

#[cfg(feature = "mic")]
fn microphone<W: Write>(reporter: &mut Reporter<'_, W>) -> Result<()> {
    crate::mic::listen(reporter)
}

#[cfg(not(feature = "mic"))]
fn microphone<W: Write>(_reporter: &mut Reporter<'_, W>) -> Result<()> {
    bail!(
        "this build has no microphone input: pipe PCM in with --stdin (e.g. `arecord -q -r \
         16000 -f S16_LE -c 1 | tinygenre listen --stdin`), or rebuild with the `mic` feature: \
         cargo install --path cli --features mic (needs the ALSA headers, libasound2-dev)"
    )
}
