//! `tinygenre`: predict the genre of audio files or live audio with the integer engine the
//! microcontroller runs; no libtorch.
//!
//! Modules: [`args`] (the command line), [`weights`] (built-in or `--weights` blob),
//! [`decide`] (window probabilities, mean log-probability decisions, times), [`predict`],
//! [`listen`] (stdin, and the microphone in `mic` with the `mic` feature), [`features`].

mod args;
mod decide;
mod features;
mod listen;
#[cfg(feature = "mic")]
mod mic;
mod predict;
mod weights;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = args::Cli::parse();
    let result = match &cli.command {
        args::Command::Predict(a) => predict::run(a),
        args::Command::Listen(a) => listen::run(a),
        args::Command::Features(a) => features::run(a),
    };
    match result {
        Ok(code) => code,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}

/// Whether a write failed because the reader went away (`| head`): not an error.
fn broken_pipe(e: &std::io::Error) -> bool {
    e.kind() == std::io::ErrorKind::BrokenPipe
}
