//! Puts `memory.x` (the mps2-an386 map) where cortex-m-rt's `link.x` finds it.
use std::path::PathBuf;
use std::{env, fs};

fn main() {
    let out = PathBuf::from(env::var_os("OUT_DIR").expect("set by cargo"));
    fs::write(out.join("memory.x"), include_bytes!("memory.x")).expect("OUT_DIR is writable");
    // cortex-m-rt's `device` feature includes `device.x` for interrupt-handler aliases; the
    // images bind no interrupt, so it is empty (src/lib.rs has the table).
    fs::write(out.join("device.x"), b"").expect("OUT_DIR is writable");
    println!("cargo:rustc-link-search={}", out.display());
    println!("cargo:rerun-if-changed=memory.x");
    println!("cargo:rustc-link-arg-bins=-Tlink.x");
}
