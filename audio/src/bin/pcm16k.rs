//! `pcm16k IN OUT.raw`: writes the 16 kHz mono `i16` little-endian PCM of any supported audio
//! file of any length, streamed in constant memory, atomically (a temporary file in OUT's
//! directory, renamed over OUT when complete).
//! Exit code 0 on success, 1 with a message on stderr on any error.

use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<PathBuf> = std::env::args_os().skip(1).map(PathBuf::from).collect();
    let [input, output] = args.as_slice() else {
        eprintln!("usage: pcm16k IN OUT.raw  (writes 16 kHz mono i16 little-endian PCM)");
        return ExitCode::FAILURE;
    };
    match run(input, output) {
        Ok(samples) => {
            eprintln!("pcm16k: wrote {samples} samples to {}", output.display());
            ExitCode::SUCCESS
        }
        Err(message) => {
            eprintln!("pcm16k: error: {message}");
            ExitCode::FAILURE
        }
    }
}

/// Converts `input` and writes it to `output`; returns the sample count.
fn run(input: &Path, output: &Path) -> Result<usize, String> {
    let mut stream = genre_audio::Pcm16kStream::open(input).map_err(|e| e.to_string())?;
    let dir = match output.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    let write_err = |e: std::io::Error| format!("{}: cannot write: {e}", output.display());
    let tmp = tempfile::NamedTempFile::new_in(dir).map_err(write_err)?;
    let mut writer = BufWriter::new(tmp);
    let mut samples = 0;
    while let Some(block) = stream.next_block().map_err(|e| e.to_string())? {
        for s in block {
            writer.write_all(&s.to_le_bytes()).map_err(write_err)?;
        }
        samples += block.len();
    }
    let tmp = writer.into_inner().map_err(|e| write_err(e.into_error()))?;
    tmp.as_file().sync_all().map_err(write_err)?;
    tmp.persist(output).map_err(|e| write_err(e.error))?;
    Ok(samples)
}
