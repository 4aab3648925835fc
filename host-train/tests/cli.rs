//! End-to-end tests of the `host-train` binary (`train`, `eval`; predicting is `tinygenre`'s,
//! tested in `cli/tests/`) on real GTZAN clips (env `GTZAN_DIR`, default
//! `../shared/gtzan` next to the workspace; under `CI=true` its absence fails the tests).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use genre_core::config::{FINGERPRINT, GENRES, N_GENRES};

/// The GTZAN folder, or `None` (test skipped) when it is absent outside CI.
fn gtzan() -> Option<PathBuf> {
    tinygenre_tests::frontend_golden::gtzan_or_skip()
}

fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_host-train"))
        .args(args)
        .output()
        .expect("the binary runs")
}

/// A feature cache shared by the tests of this run (features of a clip are reused).
/// A one-epoch `train` or `eval` on the first `clips_per_genre` GTZAN clips of each genre,
/// over `folds.csv`, without more-clips and the teacher (which CI does not install).
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
        "--folds",
        "gtzan",
        "--no-more-clips",
        "--no-teacher",
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
    // The data folder's name, not this machine's path to it.
    let source = card["data"]["source"].as_str().expect("data.source");
    let absolute = data.canonicalize().expect("data folder");
    let name = absolute.file_name().expect("a name").to_string_lossy();
    assert!(source.contains(&format!("folder {name} ")), "{source}");
    assert!(
        !source.contains(&*absolute.display().to_string()),
        "{source}"
    );
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

    // Sounds without music scored per kind, held-out music counted, a temperature fitted.
    let no_music = &cv["no_music"];
    assert_eq!(no_music["kinds"].as_array().map(Vec::len), Some(11));
    assert!(no_music["music_windows"].as_u64().is_some_and(|n| n > 0));
    let calibration = &cv["calibration"];
    assert!(calibration["temperature"].as_f64().is_some_and(|t| t > 0.0));
    assert_eq!(
        calibration["bins_before"].as_array().map(Vec::len),
        Some(10)
    );
    for png in [
        "confusion.png",
        "device-and-capture.png",
        "learning-curves.png",
        "reliability.png",
    ] {
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
            "device-and-capture.png",
            "learning-curves.png",
            "model-card.json",
            "reliability.png",
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
    // The unseen capture family's table: every clip under every condition, clean first (the
    // capture table's clean row).
    let rob = &report["robustness"];
    let unseen = rob["unseen"].as_array().expect("unseen table");
    assert!(unseen.len() > 1);
    assert_eq!(unseen[0], rob["conditions"][0]);
    assert_eq!(unseen[0]["condition"], "clean");
    for row in unseen {
        assert_eq!(row["clips"], 60, "{row}");
    }
    check_confusion(&report["confusion_float"], 60);
    check_confusion(&report["confusion_int"], 60);
    assert!(out.path().join("confusion.png").is_file());
}

#[test]
fn eval_on_artist_disjoint_folds_holds_out_whole_artists() {
    let Some(data) = gtzan() else { return };
    let more = data.join("../more-clips");
    let out = tempfile::tempdir().expect("temp dir");
    let o = run(&[
        "eval",
        "--data",
        &data.display().to_string(),
        "--more-clips",
        &more.display().to_string(),
        "--out",
        &out.path().display().to_string(),
        "--cache",
        &cache(),
        "--epochs",
        "1",
        "--clips-per-genre",
        "4",
        "--augment-copies",
        "0",
        "--no-teacher",
        "--no-capture",
    ]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let report: serde_json::Value = serde_json::from_slice(
        &std::fs::read(out.path().join("cv-report.json")).expect("report written"),
    )
    .expect("report is JSON");
    assert_eq!(report["split"], "artists");
    // Every scored clip was held out by a model that never heard its artist.
    assert_eq!(report["new_artist_share"].as_f64(), Some(1.0));
    let clips = report["clips"].as_u64().expect("clips");
    let by_source = report["by_source"].as_array().expect("by_source");
    let counted: u64 = by_source
        .iter()
        .map(|g| g["clips"].as_u64().unwrap_or(0))
        .sum();
    assert_eq!(counted, clips);
    assert!(
        by_source
            .iter()
            .any(|g| g["group"] == "more-clips whole clips"),
        "{by_source:?}"
    );
    // Excerpts (2-3 s) are never scored: 4 GTZAN clips per genre plus whole more-clips only.
    assert!(clips > 0 && clips <= 80, "{clips}");
    assert_eq!(
        report["per_genre_recall_int"].as_array().map(Vec::len),
        Some(N_GENRES)
    );
    check_confusion(&report["confusion_int"], clips);
}

#[test]
fn train_without_the_teacher_installed_says_how_to_get_it() {
    let Some(data) = gtzan() else { return };
    let out = tempfile::tempdir().expect("temp dir");
    let o = Command::new(env!("CARGO_BIN_EXE_host-train"))
        .args([
            "train",
            "--data",
            &data.display().to_string(),
            "--no-more-clips",
            "--out",
            &out.path().display().to_string(),
            "--cache",
            &out.path().join("cache").display().to_string(),
            "--clips-per-genre",
            "1",
            "--augment-copies",
            "0",
            "--no-eval",
        ])
        .env(
            "TINYGENRE_TEACHER_PYTHON",
            out.path().join("no-such-python"),
        )
        .output()
        .expect("the binary runs");
    assert!(!o.status.success());
    let err = text(&o.stderr);
    assert!(
        err.contains("scripts/setup-teacher") && err.contains("--no-teacher"),
        "{err}"
    );
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

#[test]
fn train_and_eval_refuse_to_write_the_shipped_weights() {
    let weights = Path::new(env!("CARGO_MANIFEST_DIR")).join("../weights");
    for command in ["train", "eval"] {
        let o = run(&[
            command,
            "--no-eval",
            "--out",
            &weights.display().to_string(),
        ]);
        assert!(!o.status.success());
        let err = text(&o.stderr);
        assert!(err.contains("scripts/promote"), "{err}");
        assert!(
            !err.contains("device:"),
            "refused before anything ran: {err}"
        );
    }
}

#[test]
fn train_rejects_mixup_share_above_half() {
    let o = run(&["train", "--mixup", "0.7", "--no-eval"]);
    assert!(!o.status.success());
    let err = text(&o.stderr);
    assert!(err.contains("--mixup must be in [0, 0.5]"), "{err}");
}

#[test]
fn train_rejects_no_music_settings_out_of_range() {
    for (flag, value, says) in [
        ("--no-music-share", "0", "must be in (0, 2]"),
        ("--no-music-share", "3", "must be in (0, 2]"),
        ("--no-music-per-kind", "0", "--no-music-per-kind"),
        ("--no-music-per-kind", "9999", "--no-music-per-kind"),
        ("--no-music-hard", "1.5", "must be in [0, 1]"),
        ("--no-music-focus", "0", "--no-music-focus"),
        ("--no-music-focus", "9", "--no-music-focus"),
        ("--music-margin", "0", "must be in (0, 4]"),
        ("--music-margin", "4.5", "must be in (0, 4]"),
    ] {
        let o = run(&["train", flag, value, "--no-eval"]);
        assert!(!o.status.success(), "{flag} {value}");
        let err = text(&o.stderr);
        assert!(err.contains(says), "{flag} {value}: {err}");
    }
}

#[test]
fn device_choice_is_printed_and_cuda_fails_loudly_without_it() {
    // A data folder that does not exist: the device is chosen (and printed) before the data
    // is read, so these runs stop right after it.
    let missing = tempfile::tempdir().expect("temp dir");
    let data = missing.path().join("no-gtzan").display().to_string();
    let o = run(&["train", "--no-eval", "--device", "cpu", "--data", &data]);
    assert!(!o.status.success());
    let err = text(&o.stderr);
    assert!(err.contains("device: cpu (--device cpu;"), "{err}");

    let o = run(&["train", "--no-eval", "--device", "cuda", "--data", &data]);
    assert!(!o.status.success());
    let err = text(&o.stderr);
    if err.contains("device: cuda") {
        // A machine with a usable GPU: CUDA was taken, and the missing data stopped the run.
        assert!(err.contains("no GTZAN dataset"), "{err}");
    } else {
        // No fallback to the CPU: one error line saying why CUDA is unusable.
        assert!(err.starts_with("error: --device cuda: "), "{err}");
        assert!(err.contains("scripts/setup-python"), "{err}");
        assert!(!err.contains("device: cpu"), "{err}");
    }
}
