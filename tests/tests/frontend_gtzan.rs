//! The frontend against librosa 0.11 on real music: the first 10 s of one GTZAN clip per
//! genre. Python (soundfile + librosa soxr_hq) makes the 16 kHz i16 PCM and librosa's features
//! of it (`tests/generators/librosa_features.py`); the frontend runs on the same PCM.
//! Tolerances: the same per-frame float32 error bounds as the synthetic goldens.

use std::path::PathBuf;
use std::process::Command;

use tinygenre_tests::frontend_golden::{
    compare, gtzan_dir, missing, python, repo_root, report, run_frontend, Golden, GroupStats,
};

const SECONDS: &str = "10";

/// The first clip (by name) of each genre folder.
fn one_clip_per_genre(genres: &std::path::Path) -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(genres)
        .expect("reading GTZAN genres/")
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    dirs.iter()
        .filter_map(|d| {
            let mut wavs: Vec<PathBuf> = std::fs::read_dir(d)
                .expect("reading a genre folder")
                .map(|e| e.expect("dir entry").path())
                .filter(|p| p.extension().is_some_and(|x| x == "wav"))
                .collect();
            wavs.sort();
            wavs.into_iter().next()
        })
        .collect()
}

#[test]
fn frontend_matches_librosa_on_gtzan_clips() {
    let genres = gtzan_dir().join("genres");
    if !genres.is_dir() {
        missing(&format!(
            "GTZAN clips not found at {} (set GTZAN_DIR)",
            genres.display()
        ));
        return;
    }
    let py = python();
    if !py.exists() {
        missing(&format!(
            "python with librosa not found at {} (set TINYGENRE_PYTHON)",
            py.display()
        ));
        return;
    }
    let clips = one_clip_per_genre(&genres);
    assert!(
        clips.len() >= 10,
        "expected ≥ 10 genres in {}",
        genres.display()
    );

    let out_dir =
        std::env::temp_dir().join(format!("tinygenre-frontend-gtzan-{}", std::process::id()));
    let status = Command::new(&py)
        .arg(repo_root().join("tests/generators/librosa_features.py"))
        .arg(&out_dir)
        .arg(SECONDS)
        .args(&clips)
        .status()
        .expect("running librosa_features.py");
    assert!(status.success(), "librosa_features.py failed");

    let mut all = [GroupStats::default(); 4];
    let mut failures = Vec::new();
    for clip in &clips {
        let stem = clip
            .file_stem()
            .expect("clip name")
            .to_string_lossy()
            .into_owned();
        let golden = Golden::read(&out_dir.join(format!("{stem}.tgfe")));
        assert!(
            golden.pcm.len() >= 16_000 * 9,
            "{stem}: clip shorter than expected"
        );
        let (stats, violations) = compare(&golden, &run_frontend(&golden.pcm));
        eprint!("{}", report(&stem, &stats));
        for (a, s) in all.iter_mut().zip(stats) {
            a.max_abs = a.max_abs.max(s.max_abs);
            a.max_ratio = a.max_ratio.max(s.max_ratio);
            a.max_tol = a.max_tol.max(s.max_tol);
        }
        failures.extend(violations.into_iter().map(|v| format!("{stem}: {v}")));
    }
    eprint!("{}", report("all clips", &all));
    std::fs::remove_dir_all(&out_dir).ok();
    assert!(
        failures.is_empty(),
        "frontend differs from librosa:\n{}",
        failures.join("\n")
    );
}
