//! The weights blob the firmware images embed (see `build.rs`: env `TINYGENRE_WEIGHTS`,
//! default the repository's `weights/tinygenre.tgm`). Everything else on the data path is
//! `genre_core::stream`, the same code the host runs.
#![no_std]
#![forbid(unsafe_code)]

/// The embedded blob; parse it once with `genre_core::format::Model::parse`.
pub static WEIGHTS: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/weights.tgm"));
