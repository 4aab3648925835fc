//! What the benchmark binaries (`bench-frontend`, `bench-predict`) share: the GTZAN clips
//! they time and the reading of the Python timer's `key=value` report.

use std::path::{Path, PathBuf};

/// Every `.wav` in the genre folders under `genres`, sorted.
///
/// # Errors
/// A folder cannot be read.
pub fn clips(genres: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for dir in std::fs::read_dir(genres)? {
        let dir = dir?.path();
        if dir.is_dir() {
            for f in std::fs::read_dir(&dir)? {
                let f = f?.path();
                if f.extension().is_some_and(|x| x == "wav") {
                    out.push(f);
                }
            }
        }
    }
    out.sort();
    Ok(out)
}

/// The number after `key=` in a line of `key=value` pairs separated by whitespace.
pub fn field(line: &str, key: &str) -> Option<f64> {
    line.split_whitespace()
        .find_map(|kv| kv.strip_prefix(key)?.strip_prefix('=')?.parse().ok())
}
