//! End-to-end tests of the `host-train` binary on real GTZAN clips (env `GTZAN_DIR`, default
//! `../shared/gtzan` next to the workspace; under `CI=true` its absence fails the tests).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use genre_core::config::{FINGERPRINT, GENRES, N_FEATURES, N_GENRES, WINDOW_FRAMES};

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The GTZAN folder, or `None` (test skipped) when it is absent outside CI.
fn gtzan() -> Option<PathBuf> {
    let dir = std::env::var_os("GTZAN_DIR")
        .map_or_else(|| workspace().join("../shared/gtzan"), PathBuf::from);
    if dir.join("genres").is_dir() {
        return Some(dir);
    }
    assert!(
        std::env::var("CI").as_deref() != Ok("true"),
        "GTZAN_DIR ({}) is missing under CI=true",
        dir.display()
    );
    eprintln!("skipped: no GTZAN at {}", dir.display());
    None
}

fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_host-train"))
        .args(args)
        .output()
        .expect("the binary runs")
}

/// A feature cache shared by the tests of this run (features of a clip are reused).
/// A one-epoch `train` or `eval` on the first `clips_per_genre` clips of each genre.
fn run_tiny(
    command: &str,
    data: &Path,
    out: &Path,
    clips_per_genre: usize,
    augment_copies: usize,
) -> Output {
    run(&[
        command,
        "--data",
        &data.display().to_string(),
        "--out",
        &out.display().to_string(),
        "--cache",
        &cache(),
        "--epochs",
        "1",
        "--clips-per-genre",
        &clips_per_genre.to_string(),
        "--augment-copies",
        &augment_copies.to_string(),
    ])
}

fn cache() -> String {
    Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("features-cache")
        .display()
        .to_string()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn check_confusion(m: &serde_json::Value, clips: u64) {
    let rows = m.as_array().expect("confusion rows");
    assert_eq!(rows.len(), N_GENRES);
    let total: u64 = rows
        .iter()
        .flat_map(|r| r.as_array().expect("row").iter())
        .map(|v| v.as_u64().expect("count"))
        .sum();
    assert_eq!(
        total, clips,
        "every test clip appears once in the confusion matrix"
    );
}

#[test]
fn train_tiny_writes_blob_card_and_plots() {
    let Some(data) = gtzan() else { return };
    let out = tempfile::tempdir().expect("temp dir");
    let o = run_tiny("train", &data, out.path(), 4, 1);
    assert!(o.status.success(), "{}", text(&o.stderr));

    let blob = std::fs::read(out.path().join("tinygenre.tgm")).expect("blob written");
    let model = genre_core::format::Model::parse(&blob).expect("the blob parses");
    assert_eq!(model.n_genres(), N_GENRES);
    for (g, name) in GENRES.iter().enumerate() {
        assert_eq!(model.label(g), *name);
    }

    let card: serde_json::Value = serde_json::from_slice(
        &std::fs::read(out.path().join("model-card.json")).expect("card written"),
    )
    .expect("card is JSON");
    assert_eq!(
        card["configuration"]["fingerprint"],
        format!("0x{FINGERPRINT:08x}")
    );
    assert_eq!(card["data"]["clips"], 40);
    assert_eq!(card["blob_bytes"], blob.len());
    assert!(matches!(
        card["training"]["device"].as_str(),
        Some("cpu" | "cuda")
    ));
    assert_eq!(
        card["training"]["final_history"].as_array().map(Vec::len),
        Some(1)
    );
    // With 4 clips per genre, folds.csv puts them in folds 0 and 1: 40 test decisions.
    let cv = &card["cross_validation"];
    assert_eq!(cv["clips"], 40);
    assert_eq!(cv["folds"].as_array().map(Vec::len), Some(2));
    check_confusion(&cv["confusion_float"], 40);
    check_confusion(&cv["confusion_int"], 40);

    for png in ["confusion.png", "learning-curves.png"] {
        let bytes = std::fs::read(out.path().join(png)).expect("plot written");
        assert!(bytes.starts_with(b"\x89PNG\r\n\x1a\n"), "{png} is a PNG");
    }
    // Nothing but the outputs is left behind (temporary files are renamed into place).
    let mut names: Vec<String> = std::fs::read_dir(out.path())
        .expect("out dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "confusion.png",
            "learning-curves.png",
            "model-card.json",
            "tinygenre.tgm"
        ]
    );
}

#[test]
fn eval_tiny_reports_counts_per_fold() {
    let Some(data) = gtzan() else { return };
    let out = tempfile::tempdir().expect("temp dir");
    let o = run_tiny("eval", &data, out.path(), 2, 0);
    // 2 clips per genre all sit in fold 0: nothing to train on for that fold.
    assert!(!o.status.success());
    assert!(
        text(&o.stderr).contains("nothing to train on"),
        "{}",
        text(&o.stderr)
    );

    let o = run_tiny("eval", &data, out.path(), 6, 0);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let report: serde_json::Value = serde_json::from_slice(
        &std::fs::read(out.path().join("cv-report.json")).expect("report written"),
    )
    .expect("report is JSON");
    assert_eq!(report["clips"], 60);
    let folds = report["folds"].as_array().expect("folds");
    assert_eq!(folds.len(), 3);
    let mut float = 0;
    for f in folds {
        assert_eq!(f["test_clips"], 20);
        assert!(f["float_correct"].as_u64() <= Some(20));
        assert!(f["int_correct"].as_u64() <= Some(20));
        float += f["float_correct"].as_u64().expect("count");
    }
    assert_eq!(report["float_correct"].as_u64(), Some(float));
    check_confusion(&report["confusion_float"], 60);
    check_confusion(&report["confusion_int"], 60);
    assert!(out.path().join("confusion.png").is_file());
}

#[test]
fn eval_reports_missing_dataset_with_instructions() {
    let empty = tempfile::tempdir().expect("temp dir");
    let o = run(&["eval", "--data", &empty.path().display().to_string()]);
    assert!(!o.status.success());
    let err = text(&o.stderr);
    assert!(err.contains("no GTZAN dataset"), "{err}");
    assert!(err.contains("GTZAN_DIR"), "{err}");
}

/// Every file of `formats/` and `au/`, plus one WAV of `genres/`.
fn real_clips(data: &Path) -> Vec<String> {
    let mut files: Vec<String> = ["formats", "au"]
        .iter()
        .flat_map(|d| std::fs::read_dir(data.join(d)).expect("folder exists"))
        .map(|e| e.expect("entry").path().display().to_string())
        .collect();
    files.sort();
    files.push(
        data.join("genres/jazz/jazz.00004.wav")
            .display()
            .to_string(),
    );
    files
}

#[test]
fn predict_json_on_every_format() {
    let Some(data) = gtzan() else { return };
    let files = real_clips(&data);
    assert!(files.len() >= 15, "5 formats + 10 AU + 1 WAV");
    let mut args = vec!["predict", "--json"];
    args.extend(files.iter().map(String::as_str));
    let o = run(&args);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let out = text(&o.stdout);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), files.len(), "one line per file");
    for (line, file) in lines.iter().zip(&files) {
        let v: serde_json::Value = serde_json::from_str(line).expect("a JSON object per line");
        assert_eq!(v["file"], file.as_str());
        let genre = v["genre"].as_str().expect("genre");
        assert!(GENRES.contains(&genre), "{genre}");
        let top3 = v["top3"].as_array().expect("top3");
        assert_eq!(top3.len(), 3);
        assert_eq!(top3[0][0], genre, "the genre is the top-1 label");
        let probs: Vec<f64> = top3.iter().map(|p| p[1].as_f64().expect("prob")).collect();
        assert!(probs.windows(2).all(|w| w[0] >= w[1]), "sorted: {probs:?}");
        // Three of ten softmax outputs: in [0, 1], summing to at most 1 (+ f32 rounding).
        assert!(probs.iter().all(|p| (0.0..=1.0).contains(p)));
        assert!(probs.iter().sum::<f64>() <= 1.0 + 1e-5);
    }
}

#[test]
fn predict_bad_inputs_report_errors_and_fail_at_the_end() {
    let Some(data) = gtzan() else { return };
    let dir = tempfile::tempdir().expect("temp dir");
    let empty = dir.path().join("empty.wav");
    std::fs::write(&empty, b"").expect("write");
    let text_file = dir.path().join("notes.mp3");
    std::fs::write(&text_file, b"this is not audio at all\n".repeat(100)).expect("write");
    let good = data
        .join("genres/rock/rock.00000.wav")
        .display()
        .to_string();
    let missing = dir.path().join("missing.wav").display().to_string();
    let files = [
        missing.clone(),
        good.clone(),
        empty.display().to_string(),
        text_file.display().to_string(),
    ];

    let mut args = vec!["predict", "--json"];
    args.extend(files.iter().map(String::as_str));
    let o = run(&args);
    assert!(
        !o.status.success(),
        "bad files make the exit status non-zero"
    );
    let out = text(&o.stdout);
    let lines: Vec<serde_json::Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON line"))
        .collect();
    assert_eq!(lines.len(), 4);
    for (v, file) in lines.iter().zip(&files) {
        assert_eq!(v["file"], file.as_str());
        if *file == good {
            assert!(v["genre"].is_string() && v.get("error").is_none(), "{v}");
        } else {
            assert!(v["error"].as_str().is_some_and(|e| !e.is_empty()), "{v}");
            assert!(v.get("genre").is_none(), "{v}");
        }
    }

    // Plain mode: the good file is still predicted, errors go to stderr.
    let mut args = vec!["predict"];
    args.extend(files.iter().map(String::as_str));
    let o = run(&args);
    assert!(!o.status.success());
    let out = text(&o.stdout);
    assert_eq!(out.lines().count(), 1, "{out}");
    assert!(out.starts_with(&format!("{good}: ")), "{out}");
    assert_eq!(
        text(&o.stderr).matches("error:").count(),
        3,
        "{}",
        text(&o.stderr)
    );
}

#[test]
fn window_logits_and_features_csv_shapes() {
    let Some(data) = gtzan() else { return };
    let file = data
        .join("formats/disco.00003.16k-mono.wav")
        .display()
        .to_string();

    let o = run(&["features", "--csv", &file]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let csv = text(&o.stdout);
    let mut rows = csv.lines();
    let header: Vec<&str> = rows.next().expect("header").split(',').collect();
    assert_eq!(header.len(), N_FEATURES);
    assert_eq!(header[0], "mfcc0");
    assert_eq!(header[13], "centroid_hz");
    assert_eq!(header[14], "chroma_C");
    assert_eq!(header[32], "contrast6");
    let mut frames = 0;
    for row in rows {
        let values: Vec<f32> = row
            .split(',')
            .map(|v| v.parse().expect("a number"))
            .collect();
        assert_eq!(values.len(), N_FEATURES);
        assert!(values.iter().all(|v| v.is_finite()));
        frames += 1;
    }
    // One frame per 512-sample hop of the 16 kHz mono 16-bit WAV (its 44-byte header and any
    // framing convention at the ends change the count by at most 2).
    let samples = (std::fs::metadata(&file).expect("file").len() as usize - 44) / 2;
    let hops = samples / genre_core::config::HOP;
    assert!(
        frames + 2 >= hops && frames <= hops + 2,
        "{frames} frames for {hops} hops"
    );

    let o = run(&["predict", "--window-logits", &file]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let out = text(&o.stdout);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(
        lines.len(),
        frames / WINDOW_FRAMES,
        "non-overlapping, partial tail dropped"
    );
    for (i, line) in lines.iter().enumerate() {
        let t: Vec<&str> = line.split(' ').collect();
        assert_eq!(t.len(), 3 + N_GENRES, "{line}");
        assert_eq!(t[0], "window");
        assert_eq!(t[1], i.to_string());
        let logits: Vec<i32> = t[3..].iter().map(|v| v.parse().expect("i32")).collect();
        let top = (0..N_GENRES).fold(0, |b, g| if logits[g] > logits[b] { g } else { b });
        assert_eq!(t[2], GENRES[top], "{line}");
    }
}

#[test]
fn train_rejects_mixup_share_above_half() {
    let o = run(&["train", "--mixup", "0.7", "--no-eval"]);
    assert!(!o.status.success());
    let err = text(&o.stderr);
    assert!(err.contains("--mixup must be in [0, 0.5]"), "{err}");
}
