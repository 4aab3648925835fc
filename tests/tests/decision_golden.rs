//! The running decision (`genre_core::decision`), exact: four sequences of window readouts
//! (genre changes, noise, ties, values at the `i32` rails; runs of windows without music in
//! two of them) against
//! `tests/golden/quant/decision.json`, computed by the independent Python reference
//! (`tests/generators/quant_reference.py`).

use std::path::PathBuf;

use genre_core::config::{NO_MUSIC_RESET_WINDOWS, RUNNING_WINDOWS, SWITCH_MARGIN_Q16};
use genre_core::decision::RunningDecision;
use serde::Deserialize;

#[derive(Deserialize)]
struct Golden {
    running_windows: usize,
    switch_margin_q16: i32,
    no_music_reset_windows: u8,
    sequences: Vec<Sequence>,
}

#[derive(Deserialize)]
struct Sequence {
    logits: Vec<Vec<i32>>,
    music: Vec<bool>,
    running: Vec<Expected>,
}

#[derive(Deserialize)]
struct Expected {
    genre: Option<usize>,
    windows: u8,
    mean_logits: Vec<i32>,
}

fn golden() -> Golden {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("golden/quant/decision.json");
    let text = std::fs::read_to_string(&path).expect("decision.json");
    let golden: Golden = serde_json::from_str(&text).expect("decision.json parses");
    assert_eq!(
        (
            golden.running_windows,
            golden.switch_margin_q16,
            golden.no_music_reset_windows
        ),
        (RUNNING_WINDOWS, SWITCH_MARGIN_Q16, NO_MUSIC_RESET_WINDOWS),
        "config changed: rerun tests/generators/gen_quant_goldens.py"
    );
    golden
}

#[test]
fn running_decision_is_exact() {
    let g = golden();
    assert_eq!(g.sequences.len(), 4);
    for (s, seq) in g.sequences.iter().enumerate() {
        let mut decision = RunningDecision::new();
        let mut switches = 0;
        let (mut last, mut forgotten) = (None, 0);
        assert_eq!(seq.music.len(), seq.logits.len());
        for (i, ((logits, want), &music)) in seq
            .logits
            .iter()
            .zip(&seq.running)
            .zip(&seq.music)
            .enumerate()
        {
            let index = u32::try_from(i).expect("few windows");
            let got = if music {
                decision.push(index, &logits[..].try_into().expect("10 logits"))
            } else {
                decision.pass(index)
            };
            forgotten += usize::from(got.genre.is_none());
            assert_eq!(got.index, index);
            assert_eq!(got.genre, want.genre, "sequence {s} window {i}: genre");
            assert_eq!(
                got.windows, want.windows,
                "sequence {s} window {i}: windows"
            );
            assert_eq!(
                &got.mean_logits[..],
                &want.mean_logits[..],
                "sequence {s} window {i}"
            );
            assert_eq!(
                got.is_settled(),
                usize::from(want.windows) == RUNNING_WINDOWS
            );
            switches += usize::from(last.is_some_and(|g| g != got.genre));
            last = Some(got.genre);
        }
        // The sequences change genre: a decision that never switches would pass nothing.
        if s < 3 {
            assert!(switches > 0, "sequence {s} never switches");
        }
        // Sequences 1 and 2 hold runs without music long enough to forget the genre.
        assert_eq!(forgotten > 0, s == 1 || s == 2, "sequence {s}: {forgotten}");
    }
}
