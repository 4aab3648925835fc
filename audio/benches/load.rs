//! Decode and resample timing on GTZAN files, next to librosa doing the same work.
//!
//! `cargo bench -p genre-audio --bench load`. Prints, per file, the median over runs of
//! `decode` and `resample_to_16k` (ms), and librosa's `load(path, sr=16000)` (soundfile
//! decode + soxr_hq resample) measured in the same run through `TINYGENRE_PYTHON` (default
//! `~/.cache/tinygenre/venv/bin/python`); the librosa column is skipped if that fails.

use genre_audio::{decode, resample_to_16k, to_i16};
use std::path::{Path, PathBuf};
use std::time::Instant;

const RUNS: usize = 15;

const FILES: [&str; 6] = [
    "genres/blues/blues.00000.wav",
    "au/blues.00000.au",
    "formats/classical.00003.48k-stereo.flac",
    "formats/rock.00003.44k-stereo.mp3",
    "formats/jazz.00004.44k-stereo.ogg",
    "formats/metal.00003.44k-stereo-f32-10s.wav",
];

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// Median seconds of librosa.load(path, sr=16000) per file, or None if Python is unusable.
fn librosa_times(paths: &[PathBuf]) -> Option<Vec<f64>> {
    let python = std::env::var_os("TINYGENRE_PYTHON").map_or_else(
        || {
            let home = std::env::var_os("HOME").unwrap_or_default();
            Path::new(&home).join(".cache/tinygenre/venv/bin/python")
        },
        PathBuf::from,
    );
    let script = format!(
        "import sys, time, statistics, librosa\n\
         for p in sys.argv[1:]:\n\
         \x20   librosa.load(p, sr=16000)\n\
         \x20   t = []\n\
         \x20   for _ in range({RUNS}):\n\
         \x20       s = time.perf_counter(); librosa.load(p, sr=16000); t.append(time.perf_counter() - s)\n\
         \x20   print(statistics.median(t))\n"
    );
    let out = std::process::Command::new(python)
        .arg("-c")
        .arg(script)
        .args(paths)
        .output()
        .ok()?;
    if !out.status.success() {
        eprintln!(
            "librosa reference failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        return None;
    }
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| l.trim().parse().ok())
        .collect()
}

fn main() {
    let dir = std::env::var_os("GTZAN_DIR").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/gtzan"),
        PathBuf::from,
    );
    let paths: Vec<PathBuf> = FILES.iter().map(|f| dir.join(f)).collect();
    if !paths.iter().all(|p| p.is_file()) {
        eprintln!(
            "GTZAN files not found under {} (set GTZAN_DIR)",
            dir.display()
        );
        std::process::exit(1);
    }
    let reference = librosa_times(&paths);
    println!(
        "{:<44} {:>9} {:>9} {:>9} {:>11} {:>7}",
        "file", "decode", "resample", "total", "librosa", "ratio"
    );
    for (i, path) in paths.iter().enumerate() {
        let (mut dec, mut res, mut tot) = (Vec::new(), Vec::new(), Vec::new());
        for _ in 0..=RUNS {
            let t0 = Instant::now();
            let d = decode(path).expect("decode");
            let t1 = Instant::now();
            let pcm = to_i16(&resample_to_16k(&d.samples, d.sample_rate).expect("resample"));
            let t2 = Instant::now();
            std::hint::black_box(pcm);
            dec.push((t1 - t0).as_secs_f64());
            res.push((t2 - t1).as_secs_f64());
            tot.push((t2 - t0).as_secs_f64());
        }
        // The first run warms the page cache and is dropped.
        let (dec, res, tot) = (
            median(dec.split_off(1)),
            median(res.split_off(1)),
            median(tot.split_off(1)),
        );
        let (lib, ratio) = match &reference {
            Some(r) => (
                format!("{:.1} ms", r[i] * 1e3),
                format!("{:.2}x", r[i] / tot),
            ),
            None => ("-".into(), "-".into()),
        };
        println!(
            "{:<44} {:>6.1} ms {:>6.1} ms {:>6.1} ms {lib:>11} {ratio:>7}",
            FILES[i],
            dec * 1e3,
            res * 1e3,
            tot * 1e3
        );
    }
    println!("(medians of {RUNS} runs; ratio = librosa time / ours)");
}
