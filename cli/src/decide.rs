//! What the commands make of the stream's windows: window probabilities, the mean
//! log-probability decision over several windows, and times.

pub use genre_core::config::WINDOW_SECONDS;
use genre_core::config::{N_GENRES, RUNNING_WINDOWS};
use genre_core::decision::{file_has_music, Running};
use genre_core::format::Model;
use genre_core::lstm::{log_softmax, softmax};
use genre_core::quant::{dequantize_logits, probabilities};
use genre_core::stream::Heard;

/// A genre decision with the probabilities behind it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Decision {
    /// The genre decided on.
    pub genre: usize,
    /// Probability of every genre (sums to 1).
    pub probs: [f32; N_GENRES],
}

impl Decision {
    /// The decided genre's probability.
    pub fn confidence(&self) -> f32 {
        self.probs[self.genre]
    }

    /// The `k` most probable genres, most probable first (earlier genre first on ties).
    pub fn top(&self, k: usize) -> Vec<(usize, f32)> {
        let mut order: Vec<usize> = (0..N_GENRES).collect();
        order.sort_by(|&a, &b| self.probs[b].total_cmp(&self.probs[a]));
        order
            .into_iter()
            .take(k)
            .map(|g| (g, self.probs[g]))
            .collect()
    }

    /// The running decision after a window: its genre, and the softmax of its mean logits;
    /// `None` when it shows no music.
    pub fn running(running: &Running) -> Option<Self> {
        running.genre.map(|genre| Self {
            genre,
            probs: probabilities(&running.mean_logits),
        })
    }
}

/// Mean log-probability per genre over a number of windows (f64 sums: exact enough for
/// 10^9 windows).
#[derive(Debug, Clone, Default)]
pub struct MeanLogProb {
    sum: [f64; N_GENRES],
    windows: u64,
}

impl MeanLogProb {
    /// Adds one window's Q16 logits.
    pub fn add(&mut self, logits: &[i32; N_GENRES]) {
        let logp = log_softmax(&dequantize_logits(logits));
        for (acc, v) in self.sum.iter_mut().zip(logp) {
            *acc += f64::from(v);
        }
        self.windows += 1;
    }

    /// The genre with the largest mean log-probability (the first on ties) and the softmax
    /// of the means; `None` before the first window.
    pub fn decision(&self) -> Option<Decision> {
        let n = self.windows as f64;
        let mean: [f32; N_GENRES] = core::array::from_fn(|g| (self.sum[g] / n.max(1.0)) as f32);
        let genre = (0..N_GENRES).fold(0, |b, g| if mean[g] > mean[b] { g } else { b });
        (self.windows > 0).then(|| Decision {
            genre,
            probs: softmax(&mean),
        })
    }
}

/// Windows of a file or segment by what they heard.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct HeardCounts {
    pub music: u64,
    pub silence: u64,
    pub no_music: u64,
}

impl HeardCounts {
    /// Counts one window.
    pub fn add(&mut self, heard: Heard) {
        match heard {
            Heard::Music => self.music += 1,
            Heard::Silence => self.silence += 1,
            Heard::NoMusic => self.no_music += 1,
        }
    }

    /// All windows counted.
    pub fn windows(&self) -> u64 {
        self.music + self.silence + self.no_music
    }

    /// Why there is no genre, when too few windows heard music ([`file_has_music`]):
    /// `silence` when silent windows are the most common kind without music, else `no music`.
    pub fn no_genre_reason(&self) -> Option<&'static str> {
        (!file_has_music(self.music, self.windows())).then_some(if self.silence >= self.no_music {
            "silence"
        } else {
            "no music"
        })
    }
}

/// The running decision as `label p%`, followed by `, still listening (n/10)` until it
/// combines [`RUNNING_WINDOWS`] windows; `no music` when it shows no genre.
pub fn running_text(model: &Model<'_>, r: &Running) -> String {
    let Some(d) = Decision::running(r) else {
        return "no music".to_owned();
    };
    let mut s = format!("{} {:.1}%", model.label(d.genre), 100.0 * d.confidence());
    if !r.is_settled() {
        s += &format!(", still listening ({}/{RUNNING_WINDOWS})", r.windows);
    }
    s
}

/// `seconds` as `m:ss`, or `h:mm:ss` from one hour, rounded down to the second.
pub fn clock(seconds: f64) -> String {
    let s = seconds.max(0.0) as u64;
    let (h, m, s) = (s / 3600, s / 60 % 60, s % 60);
    if h > 0 {
        format!("{h}:{m:02}:{s:02}")
    } else {
        format!("{m}:{s:02}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mean_log_prob_decides_by_the_mean_not_by_votes() {
        let q16 = |v: f32| (v * 65_536.0) as i32;
        // Two windows mildly for genre 1, one strongly for genre 2.
        let mut m = MeanLogProb::default();
        assert_eq!(m.decision(), None);
        let mild = core::array::from_fn(|g| if g == 1 { q16(1.0) } else { 0 });
        let strong = core::array::from_fn(|g| if g == 2 { q16(8.0) } else { 0 });
        m.add(&mild);
        m.add(&mild);
        m.add(&strong);
        let d = m.decision().expect("three windows");
        assert_eq!((d.genre, m.windows), (2, 3));
        assert!((d.probs.iter().sum::<f32>() - 1.0).abs() < 1e-6);
        let top = d.top(3);
        assert_eq!((top[0].0, top[1].0), (2, 1));
        assert!(top[0].1 > top[1].1 && top[1].1 > top[2].1);
        assert_eq!(d.confidence(), top[0].1);
    }

    #[test]
    fn clock_formats_minutes_and_hours() {
        assert_eq!(clock(0.0), "0:00");
        assert_eq!(clock(30.08), "0:30");
        assert_eq!(clock(3599.9), "59:59");
        assert_eq!(clock(3600.0 + 62.5), "1:01:02");
        assert_eq!(WINDOW_SECONDS, 3.008);
    }
}
