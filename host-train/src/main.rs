//! `host-train`: train, evaluate, quantise, export and run tinygenre models.
//!
//! Thin binary: arguments → validated configuration → the command's `run`. Modules, one per
//! concern: [`cli`], [`dataset`], [`features`], [`augment`], [`device`], [`train`],
//! [`quantize`], [`eval`], [`report`], [`predict`], [`pipeline`] (the `train`/`eval` commands).

mod augment;
mod cli;
mod dataset;
mod device;
mod eval;
mod features;
mod pipeline;
mod predict;
mod quantize;
mod report;
mod train;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    let result = match cli.command {
        cli::Command::Train(args) => args.validate().and_then(|c| pipeline::train(&c)),
        cli::Command::Eval(args) => args.validate().and_then(|c| pipeline::eval(&c)),
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
