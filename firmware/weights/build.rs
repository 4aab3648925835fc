//! Embeds the weights blob: `TINYGENRE_WEIGHTS` (absolute, or relative to `firmware/`),
//! default `../weights/tinygenre.tgm`, i.e. the repository's shipped weights.
use std::path::PathBuf;
use std::{env, fs};

fn main() {
    println!("cargo:rerun-if-env-changed=TINYGENRE_WEIGHTS");
    let manifest = PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").expect("set by cargo"));
    let firmware = manifest.parent().expect("weights/ lives in firmware/");
    let configured = env::var_os("TINYGENRE_WEIGHTS")
        .map_or_else(|| PathBuf::from("../weights/tinygenre.tgm"), PathBuf::from);
    let path = firmware.join(configured);
    println!("cargo:rerun-if-changed={}", path.display());
    let blob = fs::read(&path).unwrap_or_else(|e| {
        panic!(
            "cannot read the weights blob {} ({e}); set TINYGENRE_WEIGHTS to a .tgm file",
            path.display()
        )
    });
    let out = PathBuf::from(env::var_os("OUT_DIR").expect("set by cargo"));
    fs::write(out.join("weights.tgm"), blob).expect("OUT_DIR is writable");
}
