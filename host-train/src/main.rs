//! `host-train`: train, evaluate, quantise and export tinygenre models (inference on the host
//! is the `tinygenre` binary of `cli/`, which needs no libtorch).
//!
//! Thin binary: arguments → validated configuration → the command's `run`. Modules, one per
//! concern:
//! - [`cli`]: arguments and their validation;
//! - [`commands`]: the `train` and `eval` commands;
//! - [`dataset`]: GTZAN layout and the 5-fold split; [`augment`]: audio-domain augmentation;
//!   [`features`]: frontend features and their cache;
//! - [`device`]: libtorch device; [`train`]: the tch model and training loop;
//! - [`export`]: trained weights → genre-core f32 model, calibration and integer blob;
//! - [`classify`]: window classifiers over both engines and the clip decision;
//! - [`eval`]: cross-validation; [`report`]: model card and plots;
//! - [`atomic`]: atomic file writes (every output goes through it).

mod atomic;
mod augment;
mod calibration;
mod capture;
mod classify;
mod cli;
mod commands;
mod dataset;
mod device;
mod eval;
mod export;
mod features;
mod nomusic;
mod report;
mod robustness;
mod shown;
mod teacher;
mod train;
mod unseen;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    let result = match cli.command {
        cli::Command::Train(args) => {
            let run = cli::run_folder(args.seed);
            args.validate(&run).and_then(|c| commands::train(&c))
        }
        cli::Command::Eval(args) => args
            .validate("target/eval")
            .and_then(|c| commands::eval(&c)),
    };
    match result {
        Ok(code) => code,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}
