//! Records libtorch's library folder as the binaries' run path (`-rpath`), so that
//! `host-train` and its tests run without `LD_LIBRARY_PATH`. torch-sys finds libtorch through
//! `LIBTORCH` (or `LIBTORCH_LIB` for the libraries): `.cargo/config.toml` sets it to
//! `target/libtorch`, which `scripts/setup-python` links to the venv's torch.

fn main() {
    println!("cargo:rerun-if-env-changed=LIBTORCH");
    println!("cargo:rerun-if-env-changed=LIBTORCH_LIB");
    let root = std::env::var_os("LIBTORCH_LIB").or_else(|| std::env::var_os("LIBTORCH"));
    let unix = std::env::var("CARGO_CFG_TARGET_FAMILY").is_ok_and(|f| f == "unix");
    if let (Some(root), true) = (root, unix) {
        let lib = std::path::Path::new(&root).join("lib");
        println!("cargo:rustc-link-arg=-Wl,-rpath,{}", lib.display());
    }
}
