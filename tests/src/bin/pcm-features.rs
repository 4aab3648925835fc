//! `pcm-features IN.pcm OUT.f32`: genre-core's streaming features of 16 kHz mono i16 LE PCM as
//! the model reads them (`Frontend::for_model`: with the spectral floor), written as raw
//! little-endian `f32`, frame-major (33 values per frame). The integer-engine golden generator
//! (`tests/generators/gen_quant_goldens.py`) feeds them to its reference.
use std::process::ExitCode;

use genre_core::Frontend;

fn run(args: &[String]) -> Result<(), String> {
    let [input, output] = args else {
        return Err("usage: pcm-features IN.pcm OUT.f32".into());
    };
    let bytes = std::fs::read(input).map_err(|e| format!("{input}: {e}"))?;
    if bytes.len() % 2 != 0 {
        return Err(format!("{input}: odd byte count, not i16 PCM"));
    }
    let pcm: Vec<i16> = bytes
        .chunks_exact(2)
        .map(|b| i16::from_le_bytes([b[0], b[1]]))
        .collect();
    let mut frontend = Box::new(Frontend::for_model());
    let mut out = Vec::new();
    frontend.push(&pcm, |frame| {
        out.extend(frame.iter().flat_map(|v| v.to_le_bytes()));
    });
    std::fs::write(output, &out).map_err(|e| format!("{output}: {e}"))
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
