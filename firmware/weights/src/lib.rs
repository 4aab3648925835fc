//! The on-device data path shared by the firmware images.
//!
//! Blocks of 16 kHz mono PCM (any size, e.g. one DMA buffer) go through the streaming
//! [`Frontend`] (one 33-value feature frame per 512-sample hop), are quantized with the model's
//! input scales, and step the integer LSTM ([`QuantEngine`]). Every [`WINDOW_FRAMES`] frames the
//! window's logits are reported and the engine is reset, exactly as `host-train predict
//! --window-logits` does on the host: windows are consecutive and non-overlapping from the
//! start of the stream, and a trailing partial window is never reported.
//!
//! A [`Stopwatch`] measures the frontend and the LSTM separately for the cost report; images
//! that do not measure pass `&()`.
#![no_std]
#![forbid(unsafe_code)]

use core::fmt;

use genre_core::config::{FeatureFrame, N_GENRES, WINDOW_FRAMES};
use genre_core::format::Model;
use genre_core::frontend::Frontend;
use genre_core::quant::QuantEngine;

/// The weights blob embedded at build time (see `build.rs`: env `TINYGENRE_WEIGHTS`, default
/// the repository's `weights/tinygenre.tgm`). Parse it once with [`Model::parse`].
pub static WEIGHTS: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/weights.tgm"));

/// One finished classification window.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Window {
    /// Position of the window in the stream, counting from 0.
    pub index: u32,
    /// The integer engine's window readout (pooled over the window's second half), Q16, in
    /// genre order.
    pub logits: [i32; N_GENRES],
    /// Genre with the largest logit (the first one on a tie).
    pub top1: usize,
}

impl Window {
    /// The report line `window <index> <top1-label> <l0> … <l9>`, identical to the host's
    /// `host-train predict --window-logits`.
    #[must_use]
    pub fn line<'a>(&'a self, model: &'a Model<'a>) -> WindowLine<'a> {
        WindowLine {
            window: self,
            model,
        }
    }
}

/// Formats a [`Window`] as its report line (without the newline).
pub struct WindowLine<'a> {
    window: &'a Window,
    model: &'a Model<'a>,
}

impl fmt::Display for WindowLine<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let w = self.window;
        write!(f, "window {} {}", w.index, self.model.label(w.top1))?;
        for logit in w.logits {
            write!(f, " {logit}")?;
        }
        Ok(())
    }
}

/// A free-running counter the pipeline reads around each stage (SysTick, DWT cycles, …).
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

/// What the pipeline has measured so far.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Costs {
    /// `Frontend::push` per input block, without the LSTM work done for the frames it emits.
    pub frontend_block: Cost,
    /// Frames (hops) the frontend has emitted.
    pub frames: u32,
    /// Quantizing one feature frame and stepping the integer LSTM with it, per frame.
    pub lstm_frame: Cost,
    /// Reading the logits at the end of a window, per window.
    pub window_end: Cost,
}

impl Costs {
    /// Mean frontend cost per hop: all frontend work divided by the frames it produced.
    #[must_use]
    pub fn frontend_per_hop(&self) -> u64 {
        self.frontend_block.total / u64::from(self.frames.max(1))
    }

    /// Mean LSTM cost (quantize + step) per hop.
    #[must_use]
    pub fn lstm_per_hop(&self) -> u64 {
        self.lstm_frame.total / u64::from(self.lstm_frame.count.max(1))
    }
}

/// The streaming classifier: frontend, integer LSTM, window bookkeeping and cost counters.
///
/// About 9 KiB of state (mostly the frontend's sample and FFT buffers); `new` is `const` so
/// images can keep it in a `static`.
pub struct Pipeline {
    frontend: Frontend,
    engine: QuantEngine,
    frames_in_window: usize,
    next_window: u32,
    costs: Costs,
}

impl Default for Pipeline {
    fn default() -> Self {
        Self::new()
    }
}

impl Pipeline {
    /// A pipeline at the start of a stream.
    #[must_use]
    pub const fn new() -> Self {
        Self {
            frontend: Frontend::new(),
            engine: QuantEngine::new(),
            frames_in_window: 0,
            next_window: 0,
            costs: Costs {
                frontend_block: Cost::new(),
                frames: 0,
                lstm_frame: Cost::new(),
                window_end: Cost::new(),
            },
        }
    }

    /// Forgets the stream (frontend history, LSTM state, window count, costs).
    pub fn reset(&mut self) {
        *self = Self::new();
    }

    /// Feeds the next block of 16 kHz mono PCM and calls `on_window` for every window that
    /// ends inside it. `watch` times the stages (pass `&()` to skip timing).
    pub fn push<W: Stopwatch>(
        &mut self,
        model: &Model<'_>,
        pcm: &[i16],
        watch: &W,
        mut on_window: impl FnMut(&Window),
    ) {
        let Self {
            frontend,
            engine,
            frames_in_window,
            next_window,
            costs,
        } = self;
        let block_start = watch.mark();
        // Time spent in the per-frame callback, taken out of the frontend's share.
        let mut callback_units: u32 = 0;
        frontend.push(pcm, |frame: &FeatureFrame| {
            let step_start = watch.mark();
            let input = model.quantize_input(frame);
            engine.step(model, &input);
            costs.lstm_frame.add(watch.elapsed(step_start));
            costs.frames = costs.frames.wrapping_add(1);
            *frames_in_window += 1;
            if *frames_in_window == WINDOW_FRAMES {
                let end_start = watch.mark();
                let logits = engine.window_logits(model);
                engine.reset();
                let window = Window {
                    index: *next_window,
                    logits,
                    top1: argmax(&logits),
                };
                costs.window_end.add(watch.elapsed(end_start));
                *frames_in_window = 0;
                *next_window = next_window.wrapping_add(1);
                on_window(&window);
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

/// Index of the largest value, the first one on a tie.
fn argmax(logits: &[i32; N_GENRES]) -> usize {
    let mut best = 0;
    for (i, &v) in logits.iter().enumerate() {
        if v > logits[best] {
            best = i;
        }
    }
    best
}

#[cfg(test)]
mod tests {
    extern crate std;

    use std::boxed::Box;
    use std::vec::Vec;

    use super::*;

    /// 7 s of a deterministic test signal (sawtooth plus LCG noise): two whole windows and a
    /// partial one.
    fn signal() -> Vec<i16> {
        let mut state: u32 = 1;
        (0..7 * 16_000)
            .map(|n: i32| {
                state = state.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                let noise = (state >> 20) as i32 - 2048;
                ((n * 37) % 8000 - 4000 + noise) as i16
            })
            .collect()
    }

    fn model() -> Model<'static> {
        Model::parse(WEIGHTS).expect("the embedded weights parse")
    }

    /// The pipeline's windows when the signal arrives in blocks of `block` samples.
    fn windows(block: usize) -> (Vec<Window>, Costs) {
        let model = model();
        let mut pipeline = Box::new(Pipeline::new());
        let mut out = Vec::new();
        for chunk in signal().chunks(block) {
            pipeline.push(&model, chunk, &(), |w| out.push(*w));
        }
        (out, *pipeline.costs())
    }

    /// The same computation spelled out on whole arrays: all frames first, then the engine
    /// over each complete window, reset in between.
    fn reference() -> Vec<Window> {
        let model = model();
        let mut frames = Vec::new();
        let mut frontend = Box::new(Frontend::new());
        frontend.push(&signal(), |f| frames.push(*f));
        let mut engine = Box::new(QuantEngine::new());
        let mut out = Vec::new();
        for (index, window) in frames.chunks_exact(WINDOW_FRAMES).enumerate() {
            engine.reset();
            for frame in window {
                engine.step(&model, &model.quantize_input(frame));
            }
            let logits = engine.window_logits(&model);
            let index = u32::try_from(index).expect("few windows");
            out.push(Window {
                index,
                logits,
                top1: argmax(&logits),
            });
        }
        out
    }

    #[test]
    fn windows_match_the_whole_array_computation_for_any_block_size() {
        let expected = reference();
        assert_eq!(expected.len(), 2, "7 s hold two whole windows");
        for block in [1, 100, 256, 512, 4096, 7 * 16_000] {
            let (got, costs) = windows(block);
            assert_eq!(got, expected, "block of {block} samples");
            assert_eq!(
                costs.frontend_block.count as usize,
                signal().len().div_ceil(block)
            );
            assert_eq!(costs.lstm_frame.count, costs.frames);
            assert_eq!(costs.window_end.count, 2);
        }
    }

    #[test]
    fn reset_starts_a_new_stream() {
        let model = model();
        let mut pipeline = Box::new(Pipeline::new());
        let mut first = Vec::new();
        pipeline.push(&model, &signal(), &(), |w| first.push(*w));
        pipeline.reset();
        let mut second = Vec::new();
        pipeline.push(&model, &signal(), &(), |w| second.push(*w));
        assert_eq!(first, second);
        assert_eq!(pipeline.costs().window_end.count, 2);
    }

    #[test]
    fn top1_is_the_first_largest_logit() {
        assert_eq!(argmax(&[1, 7, 7, -3, 0, 0, 0, 0, 0, 7]), 1);
        assert_eq!(argmax(&[-5, -9, -9, -9, -9, -9, -9, -9, -9, -9]), 0);
        assert_eq!(argmax(&[0, 0, 0, 0, 0, 0, 0, 0, 0, 1]), 9);
    }

    #[test]
    fn report_line_has_index_label_and_ten_logits() {
        let model = model();
        let window = Window {
            index: 3,
            logits: [-1, 2, 3, 4, 5, 6, 7, 8, 9, 10],
            top1: 9,
        };
        let line = std::format!("{}", window.line(&model));
        let expected = std::format!("window 3 {} -1 2 3 4 5 6 7 8 9 10", model.label(9));
        assert_eq!(line, expected);
    }
}
