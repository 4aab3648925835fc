//! What the board shows, measured: the device's non-overlapping windows and the running
//! decision over them (`genre_core::decision`), on held-out clips, for either engine.
//!
//! - per-window accuracy: each window's own top-1 against the clip's genre;
//! - the running decision after `k` windows of a clip heard from its start (k = 3, 6, 9 are
//!   the decisions shown 10, 20 and 30 s in);
//! - a medley: the fold's held-out clips back to back, ordered so that neighbours differ in
//!   genre (round robin over genres), streamed as one: flips of the shown genre per minute,
//!   and after each genre change the delay until the shown genre is the new clip's (or a
//!   miss, when it never is before the clip ends).
//!
//! Cached features are per clip, so the medley joins feature frames, not audio: the frames at
//! a join differ slightly from those of joined audio.

use genre_core::config::WINDOW_SECONDS;
use genre_core::config::{FeatureFrame, HOP, N_GENRES, SAMPLE_RATE_HZ, WINDOW_FRAMES};
use genre_core::decision::RunningDecision;
use genre_core::stream::argmax;
use serde::Serialize;

use crate::classify::WindowClassifier;

/// The running decision is scored after this many windows of each clip (10, 20, 30 s).
pub const CHECKPOINTS_S: [f64; 3] = [10.0, 20.0, 30.0];

/// Windows completed `seconds` into a stream.
pub fn windows_by(seconds: f64) -> usize {
    (seconds / WINDOW_SECONDS + 1e-9).floor() as usize
}

/// Counts of what one engine showed.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Shown {
    /// Windows scored, and those whose own top-1 was the clip's genre.
    pub windows: usize,
    pub windows_correct: usize,
    /// Per checkpoint of [`CHECKPOINTS_S`]: clips long enough, and those whose running
    /// decision then showed their genre.
    pub running_clips: [usize; 3],
    pub running_correct: [usize; 3],
    /// Medley: minutes streamed, flips of the shown genre, genre changes, and the delays (s)
    /// after the changes that the decision followed before the clip ended.
    pub medley_minutes: f64,
    pub medley_flips: usize,
    pub medley_changes: usize,
    pub switch_delays_s: Vec<f64>,
}

impl Shown {
    /// Adds another fold's counts.
    pub fn merge(&mut self, other: &Shown) {
        self.windows += other.windows;
        self.windows_correct += other.windows_correct;
        for i in 0..CHECKPOINTS_S.len() {
            self.running_clips[i] += other.running_clips[i];
            self.running_correct[i] += other.running_correct[i];
        }
        self.medley_minutes += other.medley_minutes;
        self.medley_flips += other.medley_flips;
        self.medley_changes += other.medley_changes;
        self.switch_delays_s.extend(&other.switch_delays_s);
    }

    /// Flips of the shown genre per minute of medley.
    pub fn flips_per_minute(&self) -> f64 {
        self.medley_flips as f64 / self.medley_minutes.max(f64::MIN_POSITIVE)
    }

    /// Median delay (s) of the followed changes, if any.
    pub fn median_delay_s(&self) -> Option<f64> {
        let mut d = self.switch_delays_s.clone();
        d.sort_by(f64::total_cmp);
        (!d.is_empty()).then(|| d[d.len() / 2])
    }
}

/// The running decision's genre after each non-overlapping window of `frames`, and each
/// window's own top-1. Every window enters the decision (held-out music; what no-music
/// windows cost is measured apart, in `nomusic`).
fn stream(c: &mut dyn WindowClassifier, frames: &[FeatureFrame]) -> Vec<(usize, usize)> {
    let mut running = RunningDecision::new();
    let (windows, _) = frames.as_chunks::<WINDOW_FRAMES>();
    windows
        .iter()
        .enumerate()
        .map(|(i, window)| {
            let q16 = c.window_q16(window);
            let index = u32::try_from(i).unwrap_or(u32::MAX);
            let top = argmax(&q16);
            // `push` always shows a genre.
            (top, running.push(index, &q16).genre.unwrap_or(top))
        })
        .collect()
}

/// What `c` shows on held-out `clips` (frames, genre), one fold.
pub fn measure(c: &mut dyn WindowClassifier, clips: &[(&[FeatureFrame], usize)]) -> Shown {
    let mut out = Shown::default();
    for &(frames, genre) in clips {
        let shown = stream(c, frames);
        out.windows += shown.len();
        out.windows_correct += shown.iter().filter(|(top1, _)| *top1 == genre).count();
        for (i, &t) in CHECKPOINTS_S.iter().enumerate() {
            if let Some(&(_, running)) = shown.get(windows_by(t).wrapping_sub(1)) {
                out.running_clips[i] += 1;
                out.running_correct[i] += usize::from(running == genre);
            }
        }
    }

    // The medley: round robin over the genres present.
    let mut by_genre: Vec<Vec<(&[FeatureFrame], usize)>> = vec![Vec::new(); N_GENRES];
    for &(frames, genre) in clips {
        by_genre[genre].push((frames, genre));
    }
    let mut order = Vec::new();
    for round in 0.. {
        let before = order.len();
        order.extend(by_genre.iter().filter_map(|g| g.get(round).copied()));
        if order.len() == before {
            break;
        }
    }
    let mut frames = Vec::new();
    let mut starts = Vec::new();
    for &(f, genre) in &order {
        starts.push((frames.len(), genre));
        frames.extend_from_slice(f);
    }
    let shown = stream(c, &frames);
    out.medley_minutes = shown.len() as f64 * WINDOW_SECONDS / 60.0;
    out.medley_flips = shown.windows(2).filter(|w| w[0].1 != w[1].1).count();
    for (k, &(start, genre)) in starts.iter().enumerate().skip(1) {
        if genre == starts[k - 1].1 {
            continue;
        }
        out.medley_changes += 1;
        let end = starts.get(k + 1).map_or(frames.len(), |s| s.0);
        // Window w is shown from frame (w + 1) · WINDOW_FRAMES on.
        let followed = shown.iter().enumerate().find_map(|(w, &(_, running))| {
            let at = (w + 1) * WINDOW_FRAMES;
            (at > start && at <= end && running == genre).then_some(at - start)
        });
        if let Some(frames_later) = followed {
            out.switch_delays_s
                .push(frames_later as f64 * HOP as f64 / f64::from(SAMPLE_RATE_HZ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A classifier that reads the genre off the first feature of the window's first frame.
    struct Oracle;

    impl WindowClassifier for Oracle {
        fn window_log_probs(&mut self, w: &[FeatureFrame; WINDOW_FRAMES]) -> [f32; N_GENRES] {
            let g = w[0][0] as usize;
            core::array::from_fn(|i| if i == g { 0.0 } else { -10.0 })
        }
    }

    fn clip(genre: usize, windows: usize) -> Vec<FeatureFrame> {
        vec![[genre as f32; genre_core::config::N_FEATURES]; windows * WINDOW_FRAMES]
    }

    #[test]
    fn checkpoints_are_whole_windows() {
        assert_eq!(
            CHECKPOINTS_S.map(windows_by),
            [3, 6, 9],
            "10, 20, 30 s = 3, 6, 9 windows of 3.008 s"
        );
    }

    #[test]
    fn a_perfect_classifier_is_always_right_and_follows_changes() {
        let (a, b, c) = (clip(1, 10), clip(4, 10), clip(1, 10));
        let clips = [(&a[..], 1), (&b[..], 4), (&c[..], 1)];
        let shown = measure(&mut Oracle, &clips);
        assert_eq!(shown.windows, 30);
        assert_eq!(shown.windows_correct, 30);
        assert_eq!(shown.running_correct, [3, 3, 3]);
        // Round robin: genre 1, genre 4, genre 1: two changes, both followed.
        assert_eq!(shown.medley_changes, 2);
        assert_eq!(shown.switch_delays_s.len(), 2);
        assert_eq!(shown.medley_flips, 2);
        // Hysteresis over a 30 s memory: the new genre must lead the old one's sum.
        let delay = shown.median_delay_s().expect("followed");
        assert!(
            delay > WINDOW_SECONDS && delay <= 10.0 * WINDOW_SECONDS,
            "{delay}"
        );
    }
}
