//! The weights blob the firmware images embed (see `build.rs`: env `TINYGENRE_WEIGHTS`,
//! default the repository's `weights/tinygenre.tgm`). Everything else on the data path is
//! `genre_core::stream`, the same code the host runs.
#![no_std]
#![forbid(unsafe_code)]

/// Bytes at a multiple of 4: the blob's sections are word-aligned within it, and the Cortex-M4F
/// kernels load them with `ldm` (an unaligned blob would take the slow portable path).
#[repr(C, align(4))]
struct Aligned<T: ?Sized>(T);

static ALIGNED: &Aligned<[u8]> =
    &Aligned(*include_bytes!(concat!(env!("OUT_DIR"), "/weights.tgm")));

/// The embedded blob, starting at a multiple of 4; parse it once with
/// `genre_core::format::Model::parse`.
pub static WEIGHTS: &[u8] = &ALIGNED.0;
