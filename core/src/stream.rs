//! The streaming classifier, shared by the firmware images and every host command that
//! classifies: 16 kHz mono PCM in blocks of any size → [`Frontend::for_model`] (one feature
//! frame per 512-sample hop, with the spectral floor) → [`RelativeLevel`] (c0 relative to its
//! running mean) → [`RelativeChannel`] (c1…c12 relative to theirs) →
//! [`Model::quantize_input`] → [`QuantEngine`] → one [`Window`] per [`WINDOW_FRAMES`] frames →
//! the [`RunningDecision`] over the last 30 s → their report lines.
//!
//! The window rule ([`WindowRule`]): windows are consecutive and do not overlap, counted from
//! the start of the stream; each starts from the zero state; its readout is the head on the
//! top layer's `h` pooled over the window's second half ([`QuantEngine::window_logits`]); its
//! genre is the largest logit, the first one on a tie. A trailing partial window is never
//! reported.
//!
//! What a window heard ([`Heard`]): silence when the stream's level (the running mean of c0,
//! [`RelativeLevel::mean`]) stays below [`SILENCE_C0`] through the window; otherwise no music
//! when its largest logit is below [`NO_MUSIC_BELOW_Q16`]; otherwise music. Only music windows
//! enter the running decision ([`RunningDecision::pass`] takes the others).
//!
//! A [`Stopwatch`] measures the frontend and the engine separately for the device's cost
//! report; callers that do not measure pass `&()`.

use crate::config::{FeatureFrame, NO_MUSIC_BELOW_Q16, N_GENRES, SILENCE_C0, WINDOW_FRAMES};
use crate::decision::{Running, RunningDecision, NO_MUSIC_LABEL};
use crate::format::Model;
use crate::frontend::Frontend;
use crate::level::{RelativeChannel, RelativeLevel};
use crate::quant::QuantEngine;
use crate::report::{Line, LineBuilder};

/// What a window heard (see the module docs for the rule).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Heard {
    /// Music: the window enters the running decision.
    Music,
    /// The stream's level stayed below [`SILENCE_C0`].
    Silence,
    /// Sound, but the model's largest logit is below [`NO_MUSIC_BELOW_Q16`].
    NoMusic,
}

impl Heard {
    /// Whether the window heard music.
    #[must_use]
    pub const fn is_music(self) -> bool {
        matches!(self, Self::Music)
    }

    /// What a window heard, from the stream's highest level during it and its logits.
    #[must_use]
    pub fn judge(loudest_level: f32, logits: &[i32; N_GENRES]) -> Self {
        if loudest_level < SILENCE_C0 {
            Self::Silence
        } else if logits[argmax(logits)] < NO_MUSIC_BELOW_Q16 {
            Self::NoMusic
        } else {
            Self::Music
        }
    }

    /// Its name in report lines and JSON: `music`, `silence` or `no-music`.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Self::Music => "music",
            Self::Silence => "silence",
            Self::NoMusic => "no-music",
        }
    }
}

/// One finished classification window.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Window {
    /// Position of the window in the stream, counting from 0.
    pub index: u32,
    /// The integer engine's window readout, Q16 ([`crate::quant::LOGIT_FRAC_BITS`]), in genre
    /// order.
    pub logits: [i32; N_GENRES],
    /// Genre with the largest logit (the first one on a tie).
    pub top1: usize,
    /// Music, silence, or no music.
    pub heard: Heard,
}

impl Window {
    /// The report line `window <index> <top1-label> <l0> … <l9>` (without the newline), with
    /// `silence` or `no-music` in place of the label for a window without music: what the
    /// QEMU firmware prints and `predict --window-logits` prints on the host.
    #[must_use]
    pub fn line(&self, model: &Model<'_>) -> Line {
        LineBuilder::new()
            .text("window ")
            .int(self.index)
            .text(" ")
            .text(match self.heard {
                Heard::Music => model.label(self.top1),
                Heard::Silence => Heard::Silence.name(),
                Heard::NoMusic => NO_MUSIC_LABEL,
            })
            .values(&self.logits)
            .finish()
    }
}

/// Index of the largest logit, the first one on a tie.
#[must_use]
pub fn argmax(logits: &[i32; N_GENRES]) -> usize {
    let mut best = 0;
    for (i, &v) in logits.iter().enumerate() {
        if v > logits[best] {
            best = i;
        }
    }
    best
}

/// Feature frames → windows: the integer engine, reset at every window start, and the window
/// count. 1.6 kB of state.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WindowRule {
    engine: QuantEngine,
    frames_in_window: usize,
    next_window: u32,
}

impl Default for WindowRule {
    fn default() -> Self {
        Self::new()
    }
}

impl WindowRule {
    /// At the start of a stream.
    #[must_use]
    pub const fn new() -> Self {
        Self {
            engine: QuantEngine::new(),
            frames_in_window: 0,
            next_window: 0,
        }
    }

    /// Steps the engine with the next frame; returns the window it completes, if any, judged
    /// by its logits alone (the level is the stream's: [`Stream`] judges silence).
    /// Integer-only apart from [`Model::quantize_input`].
    pub fn push_frame(&mut self, model: &Model<'_>, frame: &FeatureFrame) -> Option<Window> {
        self.step(model, frame)
            .then(|| self.close(model, f32::INFINITY))
    }

    /// Steps the engine; `true` when the frame completes a window. Out of line, so that the
    /// per-hop work is compiled as genre-core's code (at its opt-level), not inlined into a
    /// caller's generic closure.
    #[inline(never)]
    fn step(&mut self, model: &Model<'_>, frame: &FeatureFrame) -> bool {
        self.engine.step(model, &model.quantize_input(frame));
        self.frames_in_window += 1;
        self.frames_in_window == WINDOW_FRAMES
    }

    /// Reads out the completed window, judged with the stream's highest level during it, and
    /// starts the next one.
    fn close(&mut self, model: &Model<'_>, loudest_level: f32) -> Window {
        let logits = self.engine.window_logits(model);
        self.engine.reset();
        self.frames_in_window = 0;
        let window = Window {
            index: self.next_window,
            logits,
            top1: argmax(&logits),
            heard: Heard::judge(loudest_level, &logits),
        };
        // Wraps after 2^32 windows (13 years of audio) instead of stopping the device.
        self.next_window = self.next_window.wrapping_add(1);
        window
    }
}

/// A free-running counter the stream reads around each stage (SysTick, DWT cycles, …).
pub trait Stopwatch {
    /// A reading of the counter.
    type Mark: Copy;
    /// Reads the counter now.
    fn mark(&self) -> Self::Mark;
    /// Counter units elapsed since `since`.
    fn elapsed(&self, since: Self::Mark) -> u32;
}

/// No measurement: every stage costs 0.
impl Stopwatch for () {
    type Mark = ();
    fn mark(&self) {}
    fn elapsed(&self, _since: ()) -> u32 {
        0
    }
}

/// Count, sum and maximum of one stage's cost, in [`Stopwatch`] units.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Cost {
    /// Measurements taken.
    pub count: u32,
    /// Sum of all measurements.
    pub total: u64,
    /// Largest single measurement.
    pub max: u32,
}

impl Cost {
    const fn new() -> Self {
        Self {
            count: 0,
            total: 0,
            max: 0,
        }
    }

    /// Counters wrap (after years of audio) instead of stopping a device that runs forever.
    fn add(&mut self, units: u32) {
        self.count = self.count.wrapping_add(1);
        self.total = self.total.wrapping_add(u64::from(units));
        self.max = self.max.max(units);
    }
}

/// What a [`Stream`] has measured so far.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Costs {
    /// `Frontend::push` per input block, without the engine work done for the frames it emits.
    pub frontend_block: Cost,
    /// Frames (hops) the frontend has emitted.
    pub frames: u32,
    /// Quantising one feature frame and stepping the engine with it, per frame.
    pub lstm_frame: Cost,
    /// Reading out a window, resetting the engine and updating the running decision, per
    /// window.
    pub window_end: Cost,
}

impl Costs {
    /// Mean frontend cost per hop: all frontend work divided by the frames it produced.
    #[must_use]
    pub fn frontend_per_hop(&self) -> u32 {
        mean(self.frontend_block.total, self.frames)
    }

    /// Mean engine cost (quantise + step) per hop.
    #[must_use]
    pub fn lstm_per_hop(&self) -> u32 {
        mean(self.lstm_frame.total, self.lstm_frame.count)
    }
}

/// `total / count` in 32 bits, so that a device reporting it links no 64-bit division: a
/// total past `u32::MAX` units (21 hours of audio at today's cost in SysTick ticks) reads as
/// `u32::MAX`.
fn mean(total: u64, count: u32) -> u32 {
    u32::try_from(total).unwrap_or(u32::MAX) / count.max(1)
}

/// The streaming classifier: frontend, window rule, running decision and cost counters.
///
/// About 9 KiB of state (mostly the frontend's sample and FFT buffers); `new` is `const` so
/// images can keep it in a `static`.
// `repr(C)` keeps the frontend at offset 0: in a `static` the FFT's buffers then sit at the
// start of the object, where the M4F's `vldr`/`vstr` immediate offsets reach them from one
// base register (with the engine first, every access needed an extra `add`: +1.4 k
// instructions per hop).
#[repr(C)]
pub struct Stream {
    frontend: Frontend,
    level: RelativeLevel,
    channel: RelativeChannel,
    /// The highest stream level ([`RelativeLevel::mean`]) in the window so far.
    loudest_level: f32,
    windows: WindowRule,
    running: RunningDecision,
    costs: Costs,
}

impl Default for Stream {
    fn default() -> Self {
        Self::new()
    }
}

impl Stream {
    /// At the start of a stream.
    #[must_use]
    pub const fn new() -> Self {
        Self {
            frontend: Frontend::for_model(),
            level: RelativeLevel::new(),
            channel: RelativeChannel::new(),
            loudest_level: f32::NEG_INFINITY,
            windows: WindowRule::new(),
            running: RunningDecision::new(),
            costs: Costs {
                frontend_block: Cost::new(),
                frames: 0,
                lstm_frame: Cost::new(),
                window_end: Cost::new(),
            },
        }
    }

    /// Forgets the stream (frontend history, engine state, window count, running decision,
    /// costs).
    pub fn reset(&mut self) {
        *self = Self::new();
    }

    /// Feeds the next block of 16 kHz mono PCM and calls `on_window` for every window that
    /// ends inside it, with the running decision after it. `watch` times the stages (pass
    /// `&()` to skip timing).
    pub fn push<W: Stopwatch>(
        &mut self,
        model: &Model<'_>,
        pcm: &[i16],
        watch: &W,
        mut on_window: impl FnMut(&Window, &Running),
    ) {
        let Self {
            frontend,
            level,
            channel,
            loudest_level,
            windows,
            running,
            costs,
        } = self;
        let block_start = watch.mark();
        // Time spent in the per-frame callback, taken out of the frontend's share.
        let mut callback_units: u32 = 0;
        frontend.push(pcm, |frame: &FeatureFrame| {
            let step_start = watch.mark();
            let mut input = *frame;
            level.apply(&mut input);
            channel.apply(&mut input);
            *loudest_level = loudest_level.max(level.mean());
            let window_done = windows.step(model, &input);
            costs.lstm_frame.add(watch.elapsed(step_start));
            costs.frames = costs.frames.wrapping_add(1);
            if window_done {
                let end_start = watch.mark();
                let window = windows.close(model, *loudest_level);
                *loudest_level = f32::NEG_INFINITY;
                let decision = if window.heard.is_music() {
                    running.push(window.index, &window.logits)
                } else {
                    running.pass(window.index)
                };
                costs.window_end.add(watch.elapsed(end_start));
                on_window(&window, &decision);
            }
            callback_units = callback_units.wrapping_add(watch.elapsed(step_start));
        });
        costs
            .frontend_block
            .add(watch.elapsed(block_start).wrapping_sub(callback_units));
    }

    /// Costs measured since the start of the stream.
    #[must_use]
    pub fn costs(&self) -> &Costs {
        &self.costs
    }
}
