//! `host-train`: train, evaluate, quantise, export and run tinygenre models.
//!
//! Thin binary: arguments → validated configuration → the command's `run`. Modules, one per
//! concern:
//! - [`cli`]: arguments and their validation;
//! - [`commands`]: the `train` and `eval` commands; [`predict`]: the `predict` and `features`
//!   commands;
//! - [`dataset`]: GTZAN layout and the 5-fold split; [`augment`]: audio-domain augmentation;
//!   [`features`]: frontend features and their cache;
//! - [`device`]: libtorch device; [`train`]: the tch model and training loop;
//! - [`export`]: trained weights → genre-core f32 model, calibration and integer blob;
//! - [`classify`]: window classifiers over both engines and the clip decision;
//! - [`eval`]: cross-validation; [`report`]: model card and plots;
//! - [`atomic`]: atomic file writes (every output goes through it).

mod atomic;
mod augment;
mod classify;
mod cli;
mod commands;
mod dataset;
mod device;
mod eval;
mod export;
mod features;
mod predict;
mod report;
mod train;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    let result = match cli.command {
        cli::Command::Train(args) => args.validate().and_then(|c| commands::train(&c)),
        cli::Command::Eval(args) => args.validate().and_then(|c| commands::eval(&c)),
        cli::Command::Predict(args) => predict::run(&args),
        cli::Command::Features(args) => predict::features(&args),
    };
    match result {
        Ok(code) => code,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}
