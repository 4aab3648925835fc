//! The frame/feature configuration: the single source of truth for the frontend, the model,
//! the firmware, and the Python golden generators (which parse the `pub const` lines of this
//! file, so keep each on one line as `pub const NAME: type = literal;`).

/// Audio sample rate the frontend expects, in Hz.
pub const SAMPLE_RATE_HZ: u32 = 16_000;
/// FFT length and analysis window length, in samples (64 ms).
pub const N_FFT: usize = 1024;
/// Hop between frames, in samples (32 ms): one feature frame per hop.
pub const HOP: usize = 512;
/// Number of one-sided spectrum bins.
pub const N_BINS: usize = N_FFT / 2 + 1;
/// Slaney-style mel bands (area-normalised), spanning 0 Hz to Nyquist.
pub const N_MELS: usize = 40;
/// MFCC coefficients kept (DCT-II, orthonormal).
pub const N_MFCC: usize = 13;
/// Chroma bins (one per pitch class), tuning fixed at 0.
pub const N_CHROMA: usize = 12;
/// Lower edge of the first spectral-contrast octave band, in Hz.
pub const CONTRAST_FMIN_HZ: f32 = 200.0;
/// Spectral-contrast octave bands; the features add one for the band above the last edge.
pub const N_CONTRAST_BANDS: usize = 6;
/// Fraction of a band's bins averaged for its peak and its valley.
pub const CONTRAST_QUANTILE: f32 = 0.02;
/// Floor for power before `10·log10`, as librosa's `amin`.
pub const AMIN: f32 = 1e-10;

/// Values per feature frame: 13 MFCC, centroid, 12 chroma, 7 contrast.
pub const N_FEATURES: usize = N_MFCC + 1 + N_CHROMA + N_CONTRAST_BANDS + 1;
/// Where each feature group starts in a frame.
pub const MFCC_OFFSET: usize = 0;
/// Index of the spectral centroid (Hz) in a frame.
pub const CENTROID_OFFSET: usize = N_MFCC;
/// Where the chroma group starts in a frame.
pub const CHROMA_OFFSET: usize = CENTROID_OFFSET + 1;
/// Where the spectral-contrast group starts in a frame.
pub const CONTRAST_OFFSET: usize = CHROMA_OFFSET + N_CHROMA;

/// One frame of features, laid out as the offsets above.
pub type FeatureFrame = [f32; N_FEATURES];

/// The model reads MFCC c0 relative to its running mean, an exponential moving average with
/// factor 2^-LEVEL_MEAN_SHIFT per frame (≈ 1 s): see [`crate::level`].
pub const LEVEL_MEAN_SHIFT: u32 = 5;
/// The model reads MFCC c1…c12 relative to their running means (cepstral mean subtraction: a
/// stationary loudspeaker or microphone response is a constant offset there), averages over
/// the frames so far up to 2^CEPSTRAL_MEAN_SHIFT frames (≈ 8 s), then an exponential moving
/// average with factor 2^-CEPSTRAL_MEAN_SHIFT per frame: see [`crate::level::RelativeChannel`].
pub const CEPSTRAL_MEAN_SHIFT: u32 = 8;

/// The model's spectral floor over the running level of the stream (power per bin), −35 dB:
/// see [`crate::level::SpectralFloor`].
pub const FLOOR_RATIO: f32 = 3.162_277_7e-4;

/// Frames per classification window (94 frames ≈ 3.0 s), as the original project's 3 s.
pub const WINDOW_FRAMES: usize = 94;
/// Length of one window in seconds (94 hops of 32 ms: 3.008 s).
pub const WINDOW_SECONDS: f64 = (WINDOW_FRAMES * HOP) as f64 / SAMPLE_RATE_HZ as f64;
/// First step of a window (0-based) whose top-layer hidden state enters the window's
/// readout: the logits are the head applied to the mean of `h` over steps `POOL_FROM..`, so
/// the second half of the window (1.5 s) votes, not only its last frame.
pub const POOL_FROM: usize = 47;
/// LSTM layers.
pub const N_LAYERS: usize = 2;
/// LSTM hidden units per layer.
pub const HIDDEN: usize = 64;
/// Genres (logits) the model distinguishes.
pub const N_GENRES: usize = 10;
/// GTZAN's genre labels, in the order of the model's logits (the trainer's default label set).
pub const GENRES: [&str; N_GENRES] = [
    "blues",
    "classical",
    "country",
    "disco",
    "hiphop",
    "jazz",
    "metal",
    "pop",
    "reggae",
    "rock",
];
/// Windows the running decision combines: 10 × 3 s = the last 30 s
/// ([`crate::decision::RunningDecision`]). Not part of the model: no fingerprint.
pub const RUNNING_WINDOWS: usize = 10;
/// Lead, in Q16 logits (0.5), by which another genre's mean logit must pass the shown genre's
/// before the running decision switches to it: hysteresis against flicker.
pub const SWITCH_MARGIN_Q16: i32 = 32768;
/// A window whose largest logit (Q16) is below this is no music: the model is trained to put
/// every logit of a window without music below 0 and the largest logit of a music window
/// above it ([`crate::stream::Heard`]). Not part of the fingerprint: it changes no shape.
pub const NO_MUSIC_BELOW_Q16: i32 = 0;
/// A window in which the running mean of MFCC c0 (the stream's level, [`crate::level`])
/// stays below this is silence, whatever the model says: white noise at −76 dBFS gives about
/// this (−72 dBFS: −370; ±1 LSB of dither: −497; digital zeros: −632), music at −50 dBFS
/// about −250.
pub const SILENCE_C0: f32 = -400.0;
/// Consecutive windows without music (9 s) after which the running decision forgets what
/// it heard and shows "no music" ([`crate::decision::RunningDecision::pass`]).
pub const NO_MUSIC_RESET_WINDOWS: u8 = 3;
/// A file (`predict`) gets a genre when at least one in this many of its windows heard music
/// ([`crate::decision::file_has_music`]): a sparse loop or a long quiet intro keeps its genre,
/// while a sound without music, whose windows are called music ≤ 1 % of the time, does not.
pub const FILE_MUSIC_ONE_IN: u32 = 4;
/// Longest genre label in the weights blob, in bytes of UTF-8.
pub const MAX_LABEL_LEN: usize = 16;

/// Fingerprint of every value above that changes what a feature means or what shape a model
/// has. A weights blob records the fingerprint it was trained for; loading checks it.
pub const FINGERPRINT: u32 = {
    let words: [u32; 19] = [
        SAMPLE_RATE_HZ,
        N_FFT as u32,
        HOP as u32,
        N_MELS as u32,
        N_MFCC as u32,
        N_CHROMA as u32,
        CONTRAST_FMIN_HZ.to_bits(),
        N_CONTRAST_BANDS as u32,
        CONTRAST_QUANTILE.to_bits(),
        AMIN.to_bits(),
        N_FEATURES as u32,
        LEVEL_MEAN_SHIFT,
        CEPSTRAL_MEAN_SHIFT,
        FLOOR_RATIO.to_bits(),
        WINDOW_FRAMES as u32,
        POOL_FROM as u32,
        N_LAYERS as u32,
        HIDDEN as u32,
        N_GENRES as u32,
    ];
    // FNV-1a over the little-endian bytes of each word.
    let mut hash: u32 = 0x811c_9dc5;
    let mut i = 0;
    while i < words.len() {
        let bytes = words[i].to_le_bytes();
        let mut j = 0;
        while j < 4 {
            hash ^= bytes[j] as u32;
            hash = hash.wrapping_mul(0x0100_0193);
            j += 1;
        }
        i += 1;
    }
    hash
};

const _: () = assert!(
    POOL_FROM < WINDOW_FRAMES,
    "the readout needs at least one pooled step"
);
