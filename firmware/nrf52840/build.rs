//! Picks the memory layout (`memory.x`) and adds the linker scripts of cortex-m-rt and defmt.
//! Default: the whole nRF52840 (1 MiB flash, 256 KiB RAM), flashed over SWD. Feature `uf2`:
//! the application area left by the Adafruit nRF52 UF2 bootloader with SoftDevice S140 7.x
//! (flash 0x27000..0xF4000; the MBR keeps the first 8 bytes of RAM), as on the XIAO.
use std::path::PathBuf;
use std::{env, fs};

const WHOLE_CHIP: &str = "MEMORY
{
  FLASH : ORIGIN = 0x00000000, LENGTH = 1024K
  RAM   : ORIGIN = 0x20000000, LENGTH = 256K
}
";

const UF2_BOOTLOADER: &str = "MEMORY
{
  FLASH : ORIGIN = 0x00027000, LENGTH = 0xF4000 - 0x27000
  RAM   : ORIGIN = 0x20000008, LENGTH = 256K - 8
}
";

fn main() {
    let uf2 = env::var_os("CARGO_FEATURE_UF2").is_some();
    let out = PathBuf::from(env::var_os("OUT_DIR").expect("set by cargo"));
    let layout = if uf2 { UF2_BOOTLOADER } else { WHOLE_CHIP };
    fs::write(out.join("memory.x"), layout).expect("OUT_DIR is writable");
    println!("cargo:rustc-link-search={}", out.display());
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rustc-link-arg-bins=-Tlink.x");
    println!("cargo:rustc-link-arg-bins=-Tdefmt.x");
}
