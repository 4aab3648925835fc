//! # genre-core
//!
//! Everything the device runs, and nothing else: a streaming, heap-free frontend that turns
//! 16 kHz i16 PCM into the 33 librosa features per hop, and an integer-only LSTM that turns
//! windows of those frames into genre logits. The host (`host-train`) and the firmware call the
//! same code, so both compute the same bits.
//!
//! Where to look:
//! - [`config`]: the one definition of the frame/feature configuration.
//! - Frontend: [`stft`] → [`mel`] / [`chroma`] / [`contrast`] / [`centroid`] → [`frontend`].
//! - Model: [`lstm`] (f32 reference), [`quant`] (integer engine), [`format`] (weights blob).
#![no_std]
#![forbid(unsafe_code)]

#[cfg(feature = "std")]
extern crate std;

pub mod config;
pub mod fixed;
pub mod format;
pub mod lstm;
pub mod quant;

pub mod centroid;
pub mod chroma;
pub mod contrast;
pub mod frontend;
pub mod mel;
pub mod mfcc;
pub mod stft;
pub mod tables;

pub use frontend::Frontend;
