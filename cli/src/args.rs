//! Command-line arguments and their help texts.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// Music-genre classifier: the integer LSTM a microcontroller runs, on the host.
///
/// Audio (WAV, AU, MP3, FLAC, OGG/Vorbis, any length, any rate) is decoded and resampled to
/// 16 kHz mono as a stream, cut into windows of 94 frames (3.008 s) that do not overlap, and
/// each window is classified into one of 10 GTZAN genres, bit for bit as the firmware does.
/// The shipped weights are built in; --weights takes another blob written by
/// `host-train train`.
#[derive(Debug, Parser)]
#[command(name = "tinygenre", version, about, long_about)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Predict the genre of audio files: the top 3 genres per file.
    #[command(long_about = PREDICT_ABOUT)]
    Predict(PredictArgs),
    /// Classify live audio, window by window, with the running decision over the last 30 s.
    #[command(long_about = LISTEN_ABOUT)]
    Listen(ListenArgs),
    /// Print the 33 features per 32 ms frame (librosa's definitions) that the model is fed.
    #[command(long_about = FEATURES_ABOUT)]
    Features(FeaturesArgs),
}

const PREDICT_ABOUT: &str = "\
Predict the genre of audio files: the top 3 genres per file, with their probabilities.

The file's decision is the mean log-probability over its music windows: the consecutive,
non-overlapping 94-frame windows (3.008 s each) that the device classifies, counted from the
start; a trailing partial window is left out, so a file needs at least 3.008 s of audio.
Each window is music, silence (the level stays below about -76 dBFS) or no music (the
model's every logit is below 0: noise, hum, fans, tones, ...). A file with music in fewer
than a quarter of its windows gets no genre: \"no music\" and why (exit status 0). The
probabilities are calibrated on held-out folds.
Files of any length are read as a stream in constant memory. Several files are classified in
parallel and printed in the order given; a file that fails is reported (stderr, or an
\"error\" object with --json) and the exit status is then 1.";

const LISTEN_ABOUT: &str = "\
Classify live audio through the same stream as the device: after every 3.008 s window, print
its genre and confidence and the running decision (the mean over the last 10 music windows,
30 s, with hysteresis; \"still listening (n/10)\" until 10 have been heard). A window of
silence or other sound without music prints \"no music\" and is left out of the running
decision; after 3 in a row (9 s) the running decision forgets and says \"no music\".

--stdin reads raw 16 kHz mono signed 16-bit little-endian PCM until end of input, e.g.
    arecord -q -r 16000 -f S16_LE -c 1 | tinygenre listen --stdin
Without --stdin, the default microphone is used (resampled to 16 kHz); that needs a build
with the `mic` feature: cargo install --path cli --features mic (ALSA headers on Linux:
libasound2-dev). Stop with Ctrl-C.";

const FEATURES_ABOUT: &str = "\
Print the 33 features per frame, one frame per line: 13 MFCC, spectral centroid (Hz), 12
chroma, 7 spectral contrast (dB), librosa's definitions at 16 kHz with n_fft 1024 and hop 512
(32 ms). The model is fed these with MFCC c0 made relative to its running mean (level
invariance). Streams: any length, constant memory.";

/// Options of `predict`.
#[derive(Debug, Args)]
pub struct PredictArgs {
    /// Audio files (WAV, AU, MP3, FLAC, OGG/Vorbis).
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// Weights blob written by `host-train train` [default: the built-in weights/tinygenre.tgm].
    #[arg(long, value_name = "BLOB")]
    pub weights: Option<PathBuf>,
    /// One JSON object per line and file: {"file", "genre", "confidence", "music_windows",
    /// "top3": [[label, probability], …], "seconds", "windows"} (with --timeline also
    /// "timeline" and "running"), or {"file", "error"}. Without music: "genre" and
    /// "confidence" null, "reason" ("silence" or "no music"), "top3" empty.
    #[arg(long, conflicts_with = "window_logits")]
    pub json: bool,
    /// Also the genre and confidence of every 30 s segment (10 windows, mean log-probability)
    /// with the running decision at its end, the running decision at the end of the file and
    /// the whole-file decision.
    #[arg(long, conflicts_with = "window_logits")]
    pub timeline: bool,
    /// Print exactly what the firmware prints, one file after the other: for each window
    /// `window <index> <top1> <l0> … <l9>` (the integer engine's Q16 logits of the mean
    /// top-layer state over frames 47..93; `silence` or `no-music` in place of top1 for a
    /// window without music), then `running <index> <genre> <n>/10 <m0> … <m9>` (the running
    /// decision's mean Q16 logits; `no-music` for no genre). A file shorter than one window
    /// prints nothing.
    #[arg(long)]
    pub window_logits: bool,
}

/// Options of `listen`.
#[derive(Debug, Args)]
pub struct ListenArgs {
    /// Read raw 16 kHz mono s16le PCM from standard input instead of the microphone.
    #[arg(long)]
    pub stdin: bool,
    /// Weights blob written by `host-train train` [default: the built-in weights/tinygenre.tgm].
    #[arg(long, value_name = "BLOB")]
    pub weights: Option<PathBuf>,
}

/// Options of `features`.
#[derive(Debug, Args)]
pub struct FeaturesArgs {
    /// Audio file (WAV, AU, MP3, FLAC, OGG/Vorbis).
    pub file: PathBuf,
    /// Comma-separated, with a header row naming the 33 features (default: space-separated,
    /// no header).
    #[arg(long)]
    pub csv: bool,
}
