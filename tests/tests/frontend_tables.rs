//! core/src/tables.rs is what tests/generators/gen_tables.py writes from librosa/scipy for
//! the current core/src/config.rs. (Sizes and the configuration the tables were made for are
//! also checked at compile time in genre_core::frontend.)

use std::process::Command;

use tinygenre_tests::frontend_golden::{missing, python, repo_root};

#[test]
fn tables_are_up_to_date() {
    let py = python();
    if !py.exists() {
        missing(&format!(
            "python with librosa not found at {}",
            py.display()
        ));
        return;
    }
    let out = Command::new(&py)
        .arg(repo_root().join("tests/generators/gen_tables.py"))
        .arg("--check")
        .output()
        .expect("running gen_tables.py");
    assert!(
        out.status.success(),
        "gen_tables.py --check failed:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}
