//! Frontend throughput on the GTZAN clips: ours against librosa 0.11, same configuration,
//! same 16 kHz audio, measured in the same run.
//!
//! `cargo run --release -p tinygenre-tests --bin bench-frontend`
//! (GTZAN_DIR, default ../shared/gtzan; TINYGENRE_PYTHON, default the project venv).
//!
//! Every clip is decoded and resampled to 16 kHz i16 once with `genre_audio::load_pcm16k`;
//! the frontend's time is the streaming feature extraction alone (one `push` per clip). The
//! same PCM is written to a temporary folder and `tests/generators/bench_librosa.py` times
//! librosa's features on it (one STFT per clip shared by all features).

use std::process::{Command, ExitCode};
use std::time::Instant;

use genre_core::Frontend;
use tinygenre_tests::bench::{clips, field};
use tinygenre_tests::frontend_golden::{gtzan_dir, python, repo_root};

fn main() -> ExitCode {
    let genres = gtzan_dir().join("genres");
    let paths = match clips(&genres) {
        Ok(p) if !p.is_empty() => p,
        _ => {
            eprintln!("no GTZAN clips under {} (set GTZAN_DIR)", genres.display());
            return ExitCode::FAILURE;
        }
    };
    let tmp = std::env::temp_dir().join(format!("tinygenre-bench-frontend-{}", std::process::id()));
    std::fs::create_dir_all(&tmp).expect("creating the temporary folder");

    let (mut load_s, mut ours_s, mut frames) = (0.0f64, 0.0f64, 0usize);
    for (i, path) in paths.iter().enumerate() {
        let t = Instant::now();
        let pcm = match genre_audio::load_pcm16k(path) {
            Ok(pcm) => pcm,
            Err(e) => {
                eprintln!("{}: {e}", path.display());
                return ExitCode::FAILURE;
            }
        };
        load_s += t.elapsed().as_secs_f64();

        let mut frontend = Frontend::new();
        let mut last = [0.0f32; genre_core::config::N_FEATURES];
        let t = Instant::now();
        frontend.push(&pcm, |f| {
            frames += 1;
            last = *f;
        });
        ours_s += t.elapsed().as_secs_f64();
        std::hint::black_box(last);

        let bytes: Vec<u8> = pcm.iter().flat_map(|s| s.to_le_bytes()).collect();
        std::fs::write(tmp.join(format!("{i:04}.pcm")), bytes).expect("writing PCM");
    }

    let out = Command::new(python())
        .arg(repo_root().join("tests/generators/bench_librosa.py"))
        .arg(&tmp)
        .output();
    std::fs::remove_dir_all(&tmp).ok();
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
    let (Some(librosa_s), Some(librosa_frames)) =
        (field(line, "features_s"), field(line, "frames"))
    else {
        eprintln!("unexpected bench_librosa.py output: {out}");
        return ExitCode::FAILURE;
    };

    let n = paths.len() as f64;
    println!(
        "clips: {}  frames (ours): {frames}  frames (librosa, incl. end-padded): {librosa_frames}",
        paths.len()
    );
    println!(
        "decode + resample to 16 kHz (genre-audio): {:.4} s/clip",
        load_s / n
    );
    println!(
        "features, ours    : {:.6} s/clip  ({:.2} µs/frame)",
        ours_s / n,
        1e6 * ours_s / frames as f64
    );
    println!(
        "features, librosa : {:.6} s/clip  ({:.2} µs/frame)",
        librosa_s / n,
        1e6 * librosa_s / librosa_frames
    );
    println!(
        "ratio ours / librosa: {:.3}  (librosa / ours: {:.1}x)",
        ours_s / librosa_s,
        librosa_s / ours_s
    );
    ExitCode::SUCCESS
}
