//! Streaming behaviour of the frontend: chunking does not change a bit, `reset` restarts the
//! stream, no input makes a feature non-finite, and the model's spectral floor keeps a quiet
//! copy's features close to the loud one's.

use genre_core::config::{
    FeatureFrame, CENTROID_OFFSET, CONTRAST_OFFSET, HOP, N_FEATURES, N_FFT, N_MFCC,
};
use genre_core::Frontend;
use tinygenre_tests::frontend_golden::{repo_root, run_frontend, run_model_frontend, Golden};

fn bits(frames: &[FeatureFrame]) -> Vec<[u32; 33]> {
    frames.iter().map(|f| f.map(f32::to_bits)).collect()
}

/// Pushes `pcm` in chunks of the given sizes (cycled) into `frontend`.
fn push_chunked(frontend: &mut Frontend, pcm: &[i16], sizes: &[usize]) -> Vec<FeatureFrame> {
    let mut frames = Vec::new();
    let mut rest = pcm;
    for &size in sizes.iter().cycle() {
        if rest.is_empty() {
            break;
        }
        let (now, later) = rest.split_at(size.min(rest.len()));
        frontend.push(now, |f| frames.push(*f));
        rest = later;
    }
    frames
}

#[test]
fn chunk_sizes_do_not_change_a_bit() {
    let pcm = Golden::read(&repo_root().join("tests/golden/frontend/chirp.tgfe")).pcm;
    let whole = bits(&run_frontend(&pcm));
    assert_eq!(whole.len(), (pcm.len() - N_FFT / 2) / HOP + 1);
    for sizes in [
        &[1][..],
        &[7],
        &[512],
        &[3000],
        &[1, 7, 512, 3000, 0, 511, 513, 1024, 2],
        &[pcm.len()],
    ] {
        let mut frontend = Frontend::new();
        assert_eq!(
            bits(&push_chunked(&mut frontend, &pcm, sizes)),
            whole,
            "chunks {sizes:?}"
        );
    }
}

#[test]
fn reset_restarts_the_stream() {
    let pcm = Golden::read(&repo_root().join("tests/golden/frontend/chord.tgfe")).pcm;
    let mut frontend = Frontend::new();
    // Leave it mid-frame with unrelated audio, then reset.
    frontend.push(&pcm[1000..1777], |_| {});
    frontend.reset();
    let mut frames = Vec::new();
    frontend.push(&pcm, |f| frames.push(*f));
    assert_eq!(bits(&frames), bits(&run_frontend(&pcm)));
}

#[test]
fn frontend_is_usable_in_a_static() {
    static FRONTEND: std::sync::Mutex<Frontend> = std::sync::Mutex::new(Frontend::new());
    let mut count = 0;
    FRONTEND.lock().unwrap().push(&[0; N_FFT], |_| count += 1);
    // N_FFT/2 zeros are already in: N_FFT samples complete frames 0 and 1.
    assert_eq!(count, 2);
}

#[test]
fn extreme_inputs_give_finite_features() {
    let n = 8 * N_FFT;
    let signals: Vec<(&str, Vec<i16>)> = vec![
        ("zeros", vec![0; n]),
        ("min", vec![i16::MIN; n]),
        ("max", vec![i16::MAX; n]),
        (
            "alternating",
            (0..n)
                .map(|i| if i % 2 == 0 { i16::MIN } else { i16::MAX })
                .collect(),
        ),
        (
            "pairs",
            (0..n)
                .map(|i| if i / 2 % 2 == 0 { i16::MIN } else { i16::MAX })
                .collect(),
        ),
        (
            "single sample",
            (0..n)
                .map(|i| if i == 3000 { i16::MIN } else { 0 })
                .collect(),
        ),
        (
            "one lsb",
            (0..n).map(|i| if i % 97 == 0 { 1 } else { 0 }).collect(),
        ),
        (
            "bursts",
            (0..n)
                .map(|i| if (i / 300) % 2 == 0 { i16::MAX } else { 0 })
                .collect(),
        ),
    ];
    // librosa's features and the model's (with the spectral floor).
    for (name, pcm) in signals {
        for frames in [run_frontend(&pcm), run_model_frontend(&pcm)] {
            assert_eq!(frames.len(), (n - N_FFT / 2) / HOP + 1, "{name}");
            for (t, frame) in frames.iter().enumerate() {
                assert!(
                    frame.iter().all(|x| x.is_finite()),
                    "{name}: frame {t} {frame:?}"
                );
            }
        }
    }
}

#[test]
fn the_model_frontend_restarts_its_level_on_reset() {
    let pcm = Golden::read(&repo_root().join("tests/golden/frontend/chord.tgfe")).pcm;
    let mut frontend = Frontend::for_model();
    // A loud, unrelated start moves the running level; reset must forget it.
    frontend.push(&[i16::MAX; 4 * N_FFT], |_| {});
    frontend.reset();
    let mut frames = Vec::new();
    frontend.push(&pcm, |f| frames.push(*f));
    assert_eq!(bits(&frames), bits(&run_model_frontend(&pcm)));
}

/// Mean over frames and over the features `range` of |a − b| (dB for MFCC and contrast).
fn mean_change(a: &[FeatureFrame], b: &[FeatureFrame], range: std::ops::Range<usize>) -> f64 {
    let pairs = a.iter().zip(b);
    let total: f64 = pairs
        .map(|(x, y)| {
            range
                .clone()
                .map(|i| f64::from(x[i] - y[i]).abs())
                .sum::<f64>()
        })
        .sum();
    total / (a.len() * range.len()) as f64
}

#[test]
fn the_spectral_floor_keeps_a_quiet_copy_close() {
    // A chord and a chirp at full scale and at -40 dB, rounded to i16 as a quiet capture is:
    // the 16-bit floor fills the spectral valleys of the quiet copy. librosa's features see
    // that (MFCC c1-c12 move by ~16 dB on average); the model's, whose floor follows the
    // level, see little of it (measured: MFCC ≤ 0.15 dB, contrast ≤ 1.05 dB against librosa's
    // 3.3-3.9 dB, centroid 47-71 Hz against 63-88 Hz).
    for name in ["chord", "chirp"] {
        let path = repo_root().join(format!("tests/golden/frontend/{name}.tgfe"));
        let loud = Golden::read(&path).pcm;
        let quiet: Vec<i16> = loud
            .iter()
            .map(|&x| (f32::from(x) / 100.0).round() as i16)
            .collect();
        let (librosa_loud, librosa_quiet) = (run_frontend(&loud), run_frontend(&quiet));
        let (model_loud, model_quiet) = (run_model_frontend(&loud), run_model_frontend(&quiet));
        let change = |range: std::ops::Range<usize>| {
            (
                mean_change(&librosa_loud, &librosa_quiet, range.clone()),
                mean_change(&model_loud, &model_quiet, range),
            )
        };
        let (librosa, model) = change(1..N_MFCC);
        assert!(
            librosa > 5.0 && model < 0.5,
            "{name} MFCC c1-c12: {librosa} dB, {model} dB"
        );
        let (librosa, model) = change(CONTRAST_OFFSET..N_FEATURES);
        assert!(
            model < librosa / 2.5,
            "{name} contrast: {librosa} dB, {model} dB"
        );
        let (librosa, model) = change(CENTROID_OFFSET..CENTROID_OFFSET + 1);
        assert!(model < librosa, "{name} centroid: {librosa} Hz, {model} Hz");
    }
}
