//! The running decision: what the board shows and the host prints beside each window.
//!
//! One window (3 s) is a noisy vote: the LED would change genre every few seconds. The running
//! decision combines the last [`RUNNING_WINDOWS`] window readouts (30 s) by their mean logit
//! per genre, and switches the shown genre only when another genre's mean leads the shown
//! one's by more than [`SWITCH_MARGIN_Q16`] (hysteresis). Until `RUNNING_WINDOWS` windows have
//! passed it combines those it has and says it is still listening.
//!
//! Integer-only (`i32` sums, comparisons of sums), so it runs unchanged on the Cortex-M0+
//! and gives the same bits on host and device. The float model's readouts go through the same
//! code after rounding to Q16 ([`crate::quant::LOGIT_FRAC_BITS`]).
//!
//! Windows without music ([`crate::stream::Heard`]) never enter the ring: they leave the
//! decision as it was, and after [`NO_MUSIC_RESET_WINDOWS`] of them in a row (9 s) the
//! decision forgets everything and shows no genre ("no music") until music comes back, when it
//! starts listening anew.
//!
//! Exact rule, after each music window with Q16 logits `l`:
//! 1. `l`, each value clamped to ±[`LOGIT_LIMIT_Q16`] (±1024: far beyond any trained model's
//!    logits, and it keeps every sum inside `i32`), enters a ring of the last
//!    `n ≤ RUNNING_WINDOWS` readouts; `sum[g]` is their sum;
//! 2. `best` = the first genre with the largest `sum`;
//! 3. with nothing shown yet, `best` is shown; otherwise `best` replaces the shown genre `s`
//!    when `sum[best] - sum[s] > SWITCH_MARGIN_Q16 · n`;
//! 4. the mean logits are `sum / n`, rounded half away from zero.
//!
//! After a window without music: the count of such windows in a row goes up; when it reaches
//! `NO_MUSIC_RESET_WINDOWS`, the ring empties and nothing is shown; the means are those of
//! the ring (zeros when empty). A music window sets the count back to 0.

use crate::config::{
    FILE_MUSIC_ONE_IN, NO_MUSIC_RESET_WINDOWS, N_GENRES, RUNNING_WINDOWS, SWITCH_MARGIN_Q16,
};
use crate::format::Model;
use crate::report::{Line, LineBuilder};

/// Largest magnitude of a readout value the running decision takes in, Q16 (1024.0).
pub const LOGIT_LIMIT_Q16: i32 = 1 << 26;
// The sums of RUNNING_WINDOWS clamped readouts, and margin · n, fit in i32.
const _: () = assert!((RUNNING_WINDOWS as i64) * (LOGIT_LIMIT_Q16 as i64) * 2 < i32::MAX as i64);
const _: () = assert!((RUNNING_WINDOWS as i64) * (SWITCH_MARGIN_Q16 as i64) < i32::MAX as i64);

/// The state of the running decision after a window.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Running {
    /// Index of the window this decision follows.
    pub index: u32,
    /// The genre shown; `None`: no music (none heard yet, or none for
    /// [`NO_MUSIC_RESET_WINDOWS`] windows in a row).
    pub genre: Option<usize>,
    /// Mean Q16 logits over the combined windows (for a confidence: `quant::probabilities`);
    /// zeros when none are combined.
    pub mean_logits: [i32; N_GENRES],
    /// Music windows combined, `0..=RUNNING_WINDOWS`; fewer than `RUNNING_WINDOWS`: still
    /// listening.
    pub windows: u8,
}

impl Running {
    /// Whether the decision combines a full [`RUNNING_WINDOWS`] windows (30 s).
    #[must_use]
    pub const fn is_settled(&self) -> bool {
        self.windows as usize == RUNNING_WINDOWS
    }

    /// The report line `running <index> <label> <windows>/<RUNNING_WINDOWS> <m0> … <m9>`
    /// (without the newline; the label is `no-music` when no genre is shown), printed after
    /// each window's line by the QEMU firmware and by `predict --window-logits`.
    #[must_use]
    pub fn line(&self, model: &Model<'_>) -> Line {
        LineBuilder::new()
            .text("running ")
            .int(self.index)
            .text(" ")
            .text(self.genre.map_or(NO_MUSIC_LABEL, |g| model.label(g)))
            .text(" ")
            .int(self.windows)
            .text("/")
            .int(RUNNING_WINDOWS as u8)
            .values(&self.mean_logits)
            .finish()
    }
}

/// What the report lines show instead of a genre label when there is no music.
pub const NO_MUSIC_LABEL: &str = "no-music";

const _: () = assert!(RUNNING_WINDOWS > 0 && RUNNING_WINDOWS <= u8::MAX as usize);
const _: () = assert!(NO_MUSIC_RESET_WINDOWS > 0);
const _: () = assert!(FILE_MUSIC_ONE_IN > 0);

/// Whether a file or a segment of `windows` windows, `music` of which heard music, gets a
/// genre: at least one in [`FILE_MUSIC_ONE_IN`] of its windows heard music (`predict`'s rule;
/// the board has none, its running decision goes on window by window).
#[must_use]
pub const fn file_has_music(music: u64, windows: u64) -> bool {
    music_in_one_of(music, windows, FILE_MUSIC_ONE_IN)
}

/// Whether at least one in `one_in` of `windows` windows heard music, `music` of them did.
#[must_use]
pub const fn music_in_one_of(music: u64, windows: u64, one_in: u32) -> bool {
    music.saturating_mul(one_in as u64) >= windows
}

/// The last [`RUNNING_WINDOWS`] window readouts and the genre shown. 0.5 kB of state.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RunningDecision {
    ring: [[i32; N_GENRES]; RUNNING_WINDOWS],
    sum: [i32; N_GENRES],
    /// Readouts in the ring (`≤ RUNNING_WINDOWS`).
    filled: usize,
    /// Where the next readout goes.
    next: usize,
    shown: Option<usize>,
    /// Windows without music since the last music window (saturating).
    quiet: u8,
}

impl Default for RunningDecision {
    fn default() -> Self {
        Self::new()
    }
}

impl RunningDecision {
    /// Nothing heard yet.
    #[must_use]
    pub const fn new() -> Self {
        Self {
            ring: [[0; N_GENRES]; RUNNING_WINDOWS],
            sum: [0; N_GENRES],
            filled: 0,
            next: 0,
            shown: None,
            quiet: 0,
        }
    }

    /// Takes note of window `index`, which has no music, and returns the decision after it:
    /// unchanged, or forgotten once [`NO_MUSIC_RESET_WINDOWS`] such windows come in a row.
    #[inline(never)]
    pub fn pass(&mut self, index: u32) -> Running {
        self.quiet = self.quiet.saturating_add(1);
        if self.quiet >= NO_MUSIC_RESET_WINDOWS {
            let quiet = self.quiet;
            *self = Self::new();
            self.quiet = quiet;
        }
        Running {
            index,
            genre: self.shown,
            mean_logits: self.means(),
            windows: self.filled as u8,
        }
    }

    /// `sum / n` per genre, rounded half away from zero; zeros for an empty ring.
    fn means(&self) -> [i32; N_GENRES] {
        let n = (self.filled as i32).max(1);
        let mut mean_logits = [0; N_GENRES];
        let means = core::hint::black_box(&mut mean_logits[..]);
        for (mean, &s) in means.iter_mut().zip(&self.sum) {
            let half = if s < 0 { -(n / 2) } else { n / 2 };
            *mean = (s + half) / n;
        }
        mean_logits
    }

    /// Adds music window `index`'s Q16 readout and returns the decision after it.
    // Once per window: out of line, so that it costs flash once.
    #[inline(never)]
    pub fn push(&mut self, index: u32, logits: &[i32; N_GENRES]) -> Running {
        self.quiet = 0;
        // Ten genres, once per window: loops over slices whose length the optimiser cannot
        // see stay loops instead of being unrolled ten times (flash, not time, is scarce).
        let sum = core::hint::black_box(&mut self.sum[..]);
        let slot = &mut self.ring[self.next];
        for ((sum, old), &new) in sum.iter_mut().zip(slot.iter_mut()).zip(logits) {
            let new = new.clamp(-LOGIT_LIMIT_Q16, LOGIT_LIMIT_Q16);
            // The slot's old readout leaves the sum (zeros until the ring is full).
            *sum += new - *old;
            *old = new;
        }
        self.next = (self.next + 1) % RUNNING_WINDOWS;
        self.filled = (self.filled + 1).min(RUNNING_WINDOWS);
        let n = self.filled as i32;

        let (mut best, mut best_sum) = (0, self.sum[0]);
        for (g, &s) in self.sum.iter().enumerate() {
            if s > best_sum {
                (best, best_sum) = (g, s);
            }
        }
        let genre = match self.shown {
            Some(shown) if best_sum - self.sum[shown] <= SWITCH_MARGIN_Q16 * n => shown,
            _ => best,
        };
        self.shown = Some(genre);
        Running {
            index,
            genre: Some(genre),
            mean_logits: self.means(),
            windows: self.filled as u8,
        }
    }
}
