//! `tinygenre features`: the frontend's 33 features per frame, streamed.

use std::io::{self, Write};
use std::process::ExitCode;

use anyhow::Result;
use genre_audio::Pcm16kStream;
use genre_core::config::{FeatureFrame, N_CHROMA, N_CONTRAST_BANDS, N_MFCC};
use genre_core::Frontend;

use crate::args::FeaturesArgs;
use crate::broken_pipe;

/// Names of the 33 features, in frame order.
pub fn names() -> Vec<String> {
    const PITCH: [&str; 12] = [
        "C", "Cs", "D", "Ds", "E", "F", "Fs", "G", "Gs", "A", "As", "B",
    ];
    let mut names: Vec<String> = (0..N_MFCC).map(|i| format!("mfcc{i}")).collect();
    names.push("centroid_hz".into());
    names.extend(PITCH.iter().take(N_CHROMA).map(|p| format!("chroma_{p}")));
    names.extend((0..=N_CONTRAST_BANDS).map(|i| format!("contrast{i}")));
    names
}

/// `tinygenre features`.
///
/// # Errors
/// The file cannot be decoded (the frames before a bad packet are printed first) or stdout
/// fails; a closed pipe (`| head`) ends the output quietly.
pub fn run(args: &FeaturesArgs) -> Result<ExitCode> {
    let mut audio = Pcm16kStream::open(&args.file)?;
    let mut out = io::BufWriter::new(io::stdout().lock());
    let sep = if args.csv { "," } else { " " };
    let mut written = if args.csv {
        writeln!(out, "{}", names().join(","))
    } else {
        Ok(())
    };
    let mut frontend = Box::new(Frontend::new());
    let mut row = String::new();
    let mut decoded = Ok(());
    while written.is_ok() {
        let block = match audio.next_block() {
            Ok(Some(block)) => block,
            Ok(None) => break,
            Err(e) => {
                decoded = Err(e);
                break;
            }
        };
        frontend.push(block, |frame: &FeatureFrame| {
            if written.is_ok() {
                row.clear();
                for (i, v) in frame.iter().enumerate() {
                    if i > 0 {
                        row.push_str(sep);
                    }
                    row.push_str(&v.to_string());
                }
                written = writeln!(out, "{row}");
            }
        });
    }
    match written.and_then(|()| out.flush()) {
        Err(e) if broken_pipe(&e) => return Ok(ExitCode::SUCCESS),
        Err(e) => return Err(e.into()),
        Ok(()) => {}
    }
    decoded?;
    Ok(ExitCode::SUCCESS)
}
