//! `tinygenre-test-blob OUT.tgm [CALIBRATION.raw ...]`: writes a weights blob with random
//! weights (fixed seed, PyTorch's default LSTM/Linear init range), a normalisation and a
//! quantisation calibrated on the features of the given 16 kHz mono i16 LE PCM files (or of a
//! built-in synthetic signal when none is given). For firmware development and tests only.
use std::process::ExitCode;
use std::{env, fs};

use genre_core::config::{FeatureFrame, HIDDEN, N_FEATURES, N_GENRES};
use genre_core::frontend::Frontend;
use genre_core::lstm::{FloatEngine, FloatModel, TorchParams, GATES};
use genre_core::quant::{prepare, Calibration};

/// GTZAN's genres, the labels the blob carries.
use genre_core::config::GENRES as LABELS;

/// A 64-bit xorshift generator: reproducible weights without a dependency.
struct XorShift(u64);

impl XorShift {
    /// Uniform in `[-bound, bound)`.
    fn uniform(&mut self, bound: f32) -> f32 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        let unit = (self.0 >> 40) as f32 / (1u64 << 24) as f32;
        (2.0 * unit - 1.0) * bound
    }

    fn vec(&mut self, len: usize, bound: f32) -> Vec<f32> {
        (0..len).map(|_| self.uniform(bound)).collect()
    }
}

/// 20 s of three tones (one drifting) plus noise, when no calibration audio is given. Only
/// the blob depends on it, so std's `sin` (not bit-identical across platforms) is fine.
fn synthetic_pcm() -> Vec<i16> {
    let mut rng = XorShift(0x5EED);
    (0..20 * 16_000)
        .map(|n| {
            let t = n as f32 / 16_000.0;
            let tones = [(220.0, 0.3), (554.0 + 40.0 * t, 0.2), (1760.0, 0.1)]
                .iter()
                .map(|&(f, a)| a * (2.0 * std::f32::consts::PI * f * t).sin())
                .sum::<f32>();
            ((tones + rng.uniform(0.05)) * 16_000.0) as i16
        })
        .collect()
}

fn read_pcm(path: &str) -> Result<Vec<i16>, String> {
    let bytes = fs::read(path).map_err(|e| format!("{path}: {e}"))?;
    Ok(bytes
        .chunks_exact(2)
        .map(|b| i16::from_le_bytes([b[0], b[1]]))
        .collect())
}

fn features(pcm: &[i16], out: &mut Vec<FeatureFrame>) {
    let mut frontend = Frontend::for_model();
    frontend.push(pcm, |frame| out.push(*frame));
}

fn run(args: &[String]) -> Result<(), String> {
    let [out_path, calibration @ ..] = args else {
        return Err("usage: tinygenre-test-blob OUT.tgm [CALIBRATION.raw ...]".into());
    };
    let mut frames = Vec::new();
    if calibration.is_empty() {
        features(&synthetic_pcm(), &mut frames);
    }
    for path in calibration {
        features(&read_pcm(path)?, &mut frames);
    }
    if frames.is_empty() {
        return Err("the calibration audio is shorter than one frame".into());
    }

    // Per-feature mean and standard deviation, as training would compute them.
    let n = frames.len() as f64;
    let mean: Vec<f32> = (0..N_FEATURES)
        .map(|j| (frames.iter().map(|f| f64::from(f[j])).sum::<f64>() / n) as f32)
        .collect();
    let std: Vec<f32> = (0..N_FEATURES)
        .map(|j| {
            let var = frames
                .iter()
                .map(|f| (f64::from(f[j]) - f64::from(mean[j])).powi(2))
                .sum::<f64>()
                / n;
            (var.sqrt() as f32).max(1e-3)
        })
        .collect();

    let mut rng = XorShift(0x7157_6E4E);
    let k = 1.0 / (HIDDEN as f32).sqrt();
    let (w_ih0, w_ih1) = (rng.vec(GATES * N_FEATURES, k), rng.vec(GATES * HIDDEN, k));
    let (w_hh0, w_hh1) = (rng.vec(GATES * HIDDEN, k), rng.vec(GATES * HIDDEN, k));
    let (b_ih0, b_ih1) = (rng.vec(GATES, k), rng.vec(GATES, k));
    let (b_hh0, b_hh1) = (rng.vec(GATES, k), rng.vec(GATES, k));
    let (head_w, head_b) = (rng.vec(N_GENRES * HIDDEN, k), rng.vec(N_GENRES, k));
    let float = FloatModel::from_pytorch(&TorchParams {
        norm_mean: &mean,
        norm_std: &std,
        w_ih: [&w_ih0, &w_ih1],
        w_hh: [&w_hh0, &w_hh1],
        b_ih: [&b_ih0, &b_ih1],
        b_hh: [&b_hh0, &b_hh1],
        head_w: &head_w,
        head_b: &head_b,
    })
    .map_err(|e| format!("random model rejected: {e:?}"))?;

    let mut engine = Box::new(FloatEngine::new());
    let mut calib = Calibration::new();
    for window in frames.chunks(genre_core::config::WINDOW_FRAMES) {
        engine.reset();
        for frame in window {
            engine.step(&float, frame);
            calib.observe(&engine);
        }
    }
    let blob = prepare(&float, &calib, &LABELS).map_err(|e| format!("quantisation: {e}"))?;
    fs::write(out_path, &blob).map_err(|e| format!("{out_path}: {e}"))?;
    eprintln!(
        "wrote {out_path}: {} bytes, calibrated on {} frames",
        blob.len(),
        frames.len()
    );
    Ok(())
}

fn main() -> ExitCode {
    let args: Vec<String> = env::args().skip(1).collect();
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
