//! Streaming behaviour of the frontend: chunking does not change a bit, `reset` restarts the
//! stream, and no input makes a feature non-finite.

use genre_core::config::{FeatureFrame, HOP, N_FFT};
use genre_core::Frontend;
use tinygenre_tests::frontend_golden::{repo_root, run_frontend, Golden};

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
    for (name, pcm) in signals {
        let frames = run_frontend(&pcm);
        assert_eq!(frames.len(), (n - N_FFT / 2) / HOP + 1, "{name}");
        for (t, frame) in frames.iter().enumerate() {
            assert!(
                frame.iter().all(|x| x.is_finite()),
                "{name}: frame {t} {frame:?}"
            );
        }
    }
}
