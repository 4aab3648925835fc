//! Whole-file throughput: `tinygenre predict`'s pipeline (decode, resample to 16 kHz, the
//! model's frontend, the integer LSTM, window readouts) per GTZAN clip on one thread, and
//! files per second on all cores; librosa 0.11 loading the same files (`librosa.load(path,
//! sr=16000)`: soundfile + soxr_hq) and computing the same 33 features, measured in the same
//! run.
//!
//! `cargo run --release -p tinygenre-tests --bin bench-predict`
//! (GTZAN_DIR, default ../shared/gtzan; TINYGENRE_PYTHON, default the project venv).
//!
//! Ours per clip is what `predict` does for a file (`Pcm16kStream` blocks into
//! `genre_core::stream::Stream` with the shipped weights), without the printing; a second pass
//! splits it into decode + resample, frontend and LSTM (with an `Instant` stopwatch, which
//! adds its own reads). All cores: one thread per core taking the next file.

use std::path::Path;
use std::process::{Command, ExitCode};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use genre_audio::Pcm16kStream;
use genre_core::format::Model;
use genre_core::stream::{Stopwatch, Stream};
use tinygenre_tests::bench::{clips, field};
use tinygenre_tests::frontend_golden::{gtzan_dir, python, repo_root};

/// The shipped blob, as `tinygenre` builds it in.
const BLOB: &[u8] = include_bytes!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../weights/tinygenre.tgm"
));

/// Nanoseconds between marks (wraps after 4 s, which no stage takes).
struct Nanos;

impl Stopwatch for Nanos {
    type Mark = Instant;
    fn mark(&self) -> Instant {
        Instant::now()
    }
    fn elapsed(&self, since: Instant) -> u32 {
        since.elapsed().as_nanos() as u32
    }
}

/// One file through predict's pipeline; returns the windows (so nothing is optimised away).
fn predict(
    model: &Model<'_>,
    path: &Path,
    watch: &impl Stopwatch,
) -> Result<(u64, Stream), String> {
    let mut audio = Pcm16kStream::open(path).map_err(|e| e.to_string())?;
    let mut stream = Stream::new();
    let mut windows = 0u64;
    let mut checksum = 0i64;
    while let Some(block) = audio.next_block().map_err(|e| e.to_string())? {
        stream.push(model, block, watch, |w, _| {
            windows += 1;
            checksum += i64::from(w.logits[0]);
        });
    }
    std::hint::black_box(checksum);
    Ok((windows, stream))
}

fn main() -> ExitCode {
    let genres = gtzan_dir().join("genres");
    let paths = match clips(&genres) {
        Ok(p) if !p.is_empty() => p,
        _ => {
            eprintln!("no GTZAN clips under {} (set GTZAN_DIR)", genres.display());
            return ExitCode::FAILURE;
        }
    };
    let model = match Model::parse(BLOB) {
        Ok(m) => m,
        Err(e) => {
            eprintln!("shipped weights: {e}");
            return ExitCode::FAILURE;
        }
    };
    let n = paths.len() as f64;
    println!(
        "clips: {} (GTZAN genres/, 30 s each); integer dot-product kernel: {}",
        paths.len(),
        genre_core::arch::dot_kernel()
    );

    // 1. One thread, whole pipeline per clip (a first pass warms the page cache).
    for p in &paths {
        std::hint::black_box(std::fs::read(p).map(|b| b.len()).unwrap_or(0));
    }
    let mut windows = 0;
    let t = Instant::now();
    for p in &paths {
        match predict(&model, p, &()) {
            Ok((w, _)) => windows += w,
            Err(e) => {
                eprintln!("{}: {e}", p.display());
                return ExitCode::FAILURE;
            }
        }
    }
    let ours_s = t.elapsed().as_secs_f64();

    // 2. The split: decode + resample alone, then frontend and LSTM from the stream's costs.
    let t = Instant::now();
    for p in &paths {
        let mut audio = Pcm16kStream::open(p).expect("opened above");
        while let Some(b) = audio.next_block().expect("decoded above") {
            std::hint::black_box(b);
        }
    }
    let load_s = t.elapsed().as_secs_f64();
    let (mut frontend_ns, mut lstm_ns, mut frames) = (0u64, 0u64, 0u64);
    let watch = Nanos;
    for p in &paths {
        let (_, stream) = predict(&model, p, &watch).expect("ran above");
        let c = stream.costs();
        frontend_ns += c.frontend_block.total;
        lstm_ns += c.lstm_frame.total + c.window_end.total;
        frames += u64::from(c.frames);
    }

    // 3. All cores: one thread per core, each taking the next file.
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let next = AtomicUsize::new(0);
    let t = Instant::now();
    std::thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(p) = paths.get(i) else { break };
                std::hint::black_box(predict(&model, p, &()).map(|r| r.0).unwrap_or(0));
            });
        }
    });
    let all_cores_s = t.elapsed().as_secs_f64();

    // 4. librosa on the same files, same run.
    let out = Command::new(python())
        .arg(repo_root().join("tests/generators/bench_librosa.py"))
        .arg("--load")
        .args(&paths)
        .output();
    let out = match out {
        Ok(o) if o.status.success() => String::from_utf8_lossy(&o.stdout).into_owned(),
        Ok(o) => {
            eprintln!(
                "bench_librosa.py failed:\n{}",
                String::from_utf8_lossy(&o.stderr)
            );
            return ExitCode::FAILURE;
        }
        Err(e) => {
            eprintln!("running {}: {e} (set TINYGENRE_PYTHON)", python().display());
            return ExitCode::FAILURE;
        }
    };
    let line = out.lines().last().unwrap_or_default();
    let (Some(lib_load_s), Some(lib_features_s)) =
        (field(line, "load_s"), field(line, "features_s"))
    else {
        eprintln!("unexpected bench_librosa.py output: {out}");
        return ExitCode::FAILURE;
    };

    let ms = |s: f64| 1e3 * s / n;
    println!("windows: {windows}  frames: {frames}");
    println!(
        "predict, ours, one thread      : {:7.2} ms/clip",
        ms(ours_s)
    );
    println!(
        "  of which decode + resample   : {:7.2} ms/clip (separate pass)",
        ms(load_s)
    );
    println!(
        "  of which frontend            : {:7.2} ms/clip (stopwatch pass)",
        frontend_ns as f64 / 1e6 / n
    );
    println!(
        "  of which LSTM + readouts     : {:7.2} ms/clip (stopwatch pass)",
        lstm_ns as f64 / 1e6 / n
    );
    println!(
        "librosa load (sr=16000, soxr_hq): {:7.2} ms/clip",
        ms(lib_load_s)
    );
    println!(
        "librosa features               : {:7.2} ms/clip",
        ms(lib_features_s)
    );
    println!(
        "ratio predict / librosa features       : {:.3}",
        ours_s / lib_features_s
    );
    println!(
        "ratio predict / librosa load + features: {:.3}  (librosa / ours: {:.1}x)",
        ours_s / (lib_load_s + lib_features_s),
        (lib_load_s + lib_features_s) / ours_s
    );
    println!(
        "all {threads} cores: {:.1} files/s ({:.2} s for {} files)",
        n / all_cores_s,
        all_cores_s,
        paths.len()
    );
    ExitCode::SUCCESS
}
