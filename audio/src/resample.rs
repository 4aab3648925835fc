//! Band-limited resampling to [`SAMPLE_RATE_HZ`], whole ([`resample_to_16k`]) or streaming
//! ([`Resampler16k`]); both run the same code.
//!
//! One filter, two ways of applying it (issue #23 measured both on the GTZAN clips; the
//! README's "Speed on the host"): a [`SINC_LEN`]-tap windowed sinc (Blackman-Harris², the
//! cutoff rubato chooses for that length) in input samples,
//! - **by FFT** ([`FftPath`]: overlap-add of blocks of input, the filter's spectrum
//!   multiplied in, the spectrum cut at 8 kHz and transformed back at 16 kHz) when going down
//!   to 16 kHz from a rate whose ratio in lowest terms has an input side of at most
//!   [`FFT_MAX_DOWN`] (22.05, 44.1, 48, 32, 24 kHz ...): about 6× faster on a 22.05 kHz clip;
//! - **by rubato's polyphase sinc** ([`Sinc`]) for every other rate (up-sampling, and ratios
//!   such as 44 101 : 16 000).
//!
//! The FFT path keeps the sinc path's response below 8 kHz and removes what the sinc lets
//! through between 8 and 8.5 kHz (which the sinc path aliases at -33 dB and below).

use std::sync::Arc;

use realfft::num_complex::Complex;
use realfft::{ComplexToReal, RealFftPlanner, RealToComplex};
use rubato::audioadapter_buffers::direct::InterleavedSlice;
use rubato::{
    Async, FixedAsync, Indexing, Resampler, SincInterpolationParameters, SincInterpolationType,
    WindowFunction,
};

use crate::{check_rate, AudioError, SAMPLE_RATE_HZ};

/// Taps of the windowed-sinc anti-aliasing/interpolation filter, in input samples (a multiple
/// of 8, which rubato would round up to).
pub const SINC_LEN: usize = 256;
/// Most filter phases tabulated for an exact polyphase filter (`16000 / gcd(16000, from_hz)`
/// phases: 320 for 22.05 kHz, 160 for 44.1 kHz, 1 for 48 kHz); 256 KiB per 256 phases.
pub const MAX_PHASES: u64 = 1024;
/// Phases tabulated for rates needing more than [`MAX_PHASES`] (e.g. 44 101 Hz); positions in
/// between are cubically interpolated.
pub const SINC_OVERSAMPLING: usize = 256;
/// Largest input side `down` of the rate ratio `16000 : from_hz` in lowest terms that the FFT
/// path takes (its block is a multiple of `down`).
pub const FFT_MAX_DOWN: u64 = 2048;
/// The FFT path's shortest block of input samples (a throughput knob: the output does not
/// depend on it).
const FFT_MIN_BLOCK: u64 = 2048;
/// Input frames per resampler call (a throughput knob only; the output does not depend on it,
/// nor on how the input is split into [`Resampler16k::push`] calls).
const CHUNK_FRAMES: usize = 4096;

/// Resamples mono `samples` at `from_hz` to [`SAMPLE_RATE_HZ`] (16 kHz).
///
/// Filter: [`SINC_LEN`]-tap sinc, Blackman-Harris² window, cutoff chosen by rubato for that
/// length and window; applied by FFT when going down from a rate whose ratio to 16 kHz has an
/// input side of at most [`FFT_MAX_DOWN`] (22.05, 44.1, 48 kHz ...; see the module docs),
/// otherwise by rubato's sinc resampler, evaluated exactly at every output instant (polyphase)
/// for common rates, else cubically interpolated between [`SINC_OVERSAMPLING`] phases (see
/// [`MAX_PHASES`]). The two agree to about 100 dB (22.05 kHz GTZAN clips).
/// Measured response when going to 16 kHz: -0.1 dB at 7 kHz, -4 dB at 7.5 kHz, -33 dB at
/// 8.1 kHz, below -80 dB from 8.5 kHz. The filter delay is removed exactly: output sample `k`
/// lies at `k / 16000` s, like input sample `k * from_hz / 16000`. The output has
/// `ceil(len * 16000 / from_hz)` samples. 16 kHz input is returned unchanged.
///
/// # Errors
/// [`AudioError::InvalidSampleRate`] when `from_hz` is outside
/// [`MIN_SAMPLE_RATE_HZ`](crate::MIN_SAMPLE_RATE_HZ)..=[`MAX_SAMPLE_RATE_HZ`](crate::MAX_SAMPLE_RATE_HZ);
/// [`AudioError::Resample`] if rubato fails (not expected for accepted rates).
pub fn resample_to_16k(samples: &[f32], from_hz: u32) -> Result<Vec<f32>, AudioError> {
    let mut resampler = Resampler16k::new(from_hz)?;
    let mut output = Vec::with_capacity(
        usize::try_from(
            (samples.len() as u64 * u64::from(SAMPLE_RATE_HZ)).div_ceil(u64::from(from_hz)),
        )
        .unwrap_or(0),
    );
    resampler.push(samples, &mut output)?;
    resampler.finish(&mut output)?;
    Ok(output)
}

/// Streaming form of [`resample_to_16k`]: the same filter and timing, the same output sample
/// for sample, whatever the sizes of the pushed blocks. State: the filter table (up to 1 MiB)
/// and one chunk of input and output.
pub struct Resampler16k {
    /// `None` for 16 kHz input, which passes through unchanged.
    sinc: Option<Path>,
}

/// How the filter is applied (see the module docs).
enum Path {
    Fft(FftPath),
    Sinc(Sinc),
}

/// The rubato resampler with the bookkeeping that aligns its output.
struct Sinc {
    rubato: Async<f32>,
    /// Input not yet resampled (the leading zero padding first), shorter than one chunk.
    pending: Vec<f32>,
    /// rubato's output of one call.
    chunk: Vec<f32>,
    /// Output samples still to drop from the front (the filter delay).
    delay: usize,
    /// The rate ratio `up / down` in lowest terms.
    up: u64,
    down: u64,
    /// Input samples pushed (without the padding).
    input: u64,
    /// Output samples handed out.
    output: u64,
}

impl Resampler16k {
    /// A resampler from `from_hz` to 16 kHz.
    ///
    /// # Errors
    /// As [`resample_to_16k`].
    pub fn new(from_hz: u32) -> Result<Self, AudioError> {
        check_rate(None, from_hz)?;
        if from_hz == SAMPLE_RATE_HZ {
            return Ok(Self { sinc: None });
        }
        let g = gcd(SAMPLE_RATE_HZ, from_hz);
        let (up, down) = (u64::from(SAMPLE_RATE_HZ / g), u64::from(from_hz / g));
        let path = if up < down && down <= FFT_MAX_DOWN {
            Path::Fft(FftPath::new(from_hz, up, down)?)
        } else {
            Path::Sinc(Sinc::new(from_hz)?)
        };
        Ok(Self { sinc: Some(path) })
    }

    /// Resamples the next `input` samples and appends the output that is complete to `out`.
    ///
    /// # Errors
    /// [`AudioError::Resample`] if rubato fails (not expected).
    pub fn push(&mut self, input: &[f32], out: &mut Vec<f32>) -> Result<(), AudioError> {
        match &mut self.sinc {
            None => {
                out.extend_from_slice(input);
                Ok(())
            }
            Some(Path::Sinc(sinc)) => sinc.push(input, out),
            Some(Path::Fft(fft)) => {
                fft.push(input, out);
                Ok(())
            }
        }
    }

    /// Ends the stream: appends the rest of the output, for `ceil(len * 16000 / from_hz)`
    /// output samples in all.
    ///
    /// # Errors
    /// [`AudioError::Resample`] if rubato fails (not expected).
    pub fn finish(self, out: &mut Vec<f32>) -> Result<(), AudioError> {
        match self.sinc {
            None => Ok(()),
            Some(Path::Sinc(sinc)) => sinc.finish(out),
            Some(Path::Fft(fft)) => {
                fft.finish(out);
                Ok(())
            }
        }
    }
}

/// A rubato error as [`AudioError::Resample`].
fn failed(e: &dyn std::fmt::Display) -> AudioError {
    AudioError::Resample {
        path: None,
        detail: e.to_string(),
    }
}

impl Sinc {
    fn new(from_hz: u32) -> Result<Self, AudioError> {
        // ratio = up / down in lowest terms.
        let g = gcd(SAMPLE_RATE_HZ, from_hz);
        let (up, down) = (u64::from(SAMPLE_RATE_HZ / g), u64::from(from_hz / g));
        // Output instants fall on multiples of 1 / up input samples: with `up` tabulated phases
        // the nearest phase is the exact one (a polyphase filter, one dot product per output).
        let (oversampling_factor, interpolation) = if up <= MAX_PHASES {
            (up as usize, SincInterpolationType::Nearest)
        } else {
            (SINC_OVERSAMPLING, SincInterpolationType::Cubic)
        };
        let params = SincInterpolationParameters {
            sinc_len: SINC_LEN,
            f_cutoff: None,
            oversampling_factor,
            interpolation,
            window: WindowFunction::BlackmanHarris2,
        };
        let ratio = f64::from(SAMPLE_RATE_HZ) / f64::from(from_hz);
        // Timing (in input samples, input sample 0 at time 0): rubato's output `k` is the
        // filter centred on `(k + 1) / ratio - SINC_LEN / 2 + 1 / F`, with F the phases
        // tabulated (its state starts `SINC_LEN - 1` samples back and steps before computing,
        // and phase `s` of its table is centred `1 - (s + 1) / F` samples early). With `pad`
        // leading zeros, output `k + delay` lands on `k / ratio` for
        //   delay = (up * (half + pad) - up / F) / down - 1,   half = SINC_LEN / 2.
        // Pick `pad` < `down` with up * (half + pad) = r (mod down), r = round(up / F):
        // `delay` is then whole and the timing error (r - up / F) / down output samples, zero
        // for the polyphase case (F = up, r = 1). (rubato's own `output_delay()` ignores both
        // terms.)
        let half = (SINC_LEN / 2) as u64;
        let r = (up as f64 / oversampling_factor as f64).round() as u64;
        let pad = ((r % down) * mod_inverse(up % down, down) % down + down - half % down) % down;
        let delay = usize::try_from((up * (half + pad) - r) / down - 1).map_err(|e| failed(&e))?;
        let rubato =
            Async::<f32>::new_sinc(ratio, 1.0, &params, CHUNK_FRAMES, 1, FixedAsync::Input)
                .map_err(|e| failed(&e))?;
        let chunk = vec![0.0; rubato.output_frames_max()];
        let mut pending = Vec::with_capacity(CHUNK_FRAMES);
        // `pad` < `down` <= 384 000 / gcd: at most a few chunks, resampled by the first push.
        pending.resize(pad as usize, 0.0);
        Ok(Self {
            rubato,
            pending,
            chunk,
            delay,
            up,
            down,
            input: 0,
            output: 0,
        })
    }

    fn push(&mut self, mut input: &[f32], out: &mut Vec<f32>) -> Result<(), AudioError> {
        self.input += input.len() as u64;
        loop {
            let need = self.rubato.input_frames_next();
            if self.pending.len() >= need {
                self.process(None, out)?;
                continue;
            }
            if input.is_empty() {
                return Ok(());
            }
            let take = input.len().min(need - self.pending.len());
            self.pending.extend_from_slice(&input[..take]);
            input = &input[take..];
        }
    }

    fn finish(mut self, out: &mut Vec<f32>) -> Result<(), AudioError> {
        // ceil(len * up / down): output instants strictly inside the input. Every output
        // appended by `push` came from whole chunks and lies at least half the filter before
        // the last input sample, so within this count.
        let wanted = (self.input * self.up).div_ceil(self.down);
        let start = out.len();
        while self.output < wanted {
            // The rest of the input (shorter than a chunk), then silence: rubato fills a
            // partial chunk with zeros.
            self.process(Some(self.pending.len()), out)?;
        }
        let excess = usize::try_from(self.output - wanted).map_err(|e| failed(&e))?;
        out.truncate(out.len().saturating_sub(excess).max(start));
        Ok(())
    }

    /// Resamples one chunk from the front of `pending` (`partial`: only that many frames are
    /// input, the rest of the chunk is silence) and appends its output past the delay.
    fn process(&mut self, partial: Option<usize>, out: &mut Vec<f32>) -> Result<(), AudioError> {
        let len = self.pending.len();
        let input = InterleavedSlice::new(&self.pending, 1, len).map_err(|e| failed(&e))?;
        let indexing = Indexing {
            partial_len: partial,
            ..Indexing::default()
        };
        let capacity = self.chunk.len();
        let mut output =
            InterleavedSlice::new_mut(&mut self.chunk, 1, capacity).map_err(|e| failed(&e))?;
        let (read, written) = self
            .rubato
            .process_into_buffer(&input, &mut output, Some(&indexing))
            .map_err(|e| failed(&e))?;
        self.pending.drain(..read.min(len));
        let skip = written.min(self.delay);
        self.delay -= skip;
        out.extend_from_slice(&self.chunk[skip..written]);
        self.output += (written - skip) as u64;
        Ok(())
    }
}

/// The [`SINC_LEN`]-tap filter applied by FFT, for down-sampling by `up / down` (lowest terms,
/// `up < down`). With `D` the filter's delay in input samples (the smallest multiple of
/// `down` not below `SINC_LEN / 2`, so that `D · up / down` output samples is whole), the
/// filter is `h[n] = w(n - D) · sinc(2 fc (n - D))`, `|n - D| ≤ SINC_LEN / 2`, `w` the
/// Blackman-Harris² window over those `SINC_LEN` samples, `fc` rubato's cutoff for that length
/// and window (as the sinc path: 0.947 of 8 kHz in input cycles), normalised to a DC gain of 1.
///
/// Blocks of `B` input samples (a multiple of `down`) with `P` samples of padding (`P ≥ D +
/// SINC_LEN / 2`, so the convolution of a block with `h` fits the FFT's `N = B + P` samples
/// without wrapping; `B ≥ 3P`) are filtered in the frequency domain and evaluated on a 32 kHz
/// grid: the block's spectrum times `h`'s, its bins up to the lower of the input's Nyquist
/// frequency and 16 kHz (where `h` has long reached its stopband) placed in a spectrum of
/// `2N · up / down` points, would transform back to the band-limited interpolation of the
/// filtered block at 32 kHz. Every other sample of that is the filtered block at 16 kHz, which
/// one inverse transform of half the length gives from the spectrum folded at 8 kHz: aliasing
/// what `h` lets through above 8 kHz exactly as the sinc path does
/// (cutting the spectrum at 8 kHz instead would cut each block's leakage there, which does not
/// cancel between blocks: a 10 kHz tone from 48 kHz came out at -71 dB). The blocks
/// overlap-add (each one's last `P · up / down` output samples onto the next one's first), `B`
/// input samples giving `B · up / down` output samples; the first `D · up / down`
/// output samples (the delay) are dropped, so output sample `j` is the filtered input at
/// `j · down / up`, as the sinc path.
struct FftPath {
    fft: Arc<dyn RealToComplex<f32>>,
    ifft: Arc<dyn ComplexToReal<f32>>,
    /// The filter's spectrum (`N / 2 + 1` bins) with the transforms' scale `1 / N` folded in.
    filter: Vec<Complex<f32>>,
    /// A block (then zeros) in, the filtered block out at 16 kHz.
    time_in: Vec<f32>,
    time_out: Vec<f32>,
    spectrum: Vec<Complex<f32>>,
    /// The filtered spectrum on the 32 kHz grid, then folded to 16 kHz.
    spectrum_32k: Vec<Complex<f32>>,
    spectrum_out: Vec<Complex<f32>>,
    scratch: Vec<Complex<f32>>,
    /// The last block's tail (the output of its padding), added to the next block's start.
    overlap: Vec<f32>,
    /// Input not yet transformed, shorter than a block.
    pending: Vec<f32>,
    /// Input samples per block, output samples per block.
    block_in: usize,
    block_out: usize,
    /// Bins of the input spectrum kept (below the input's Nyquist frequency and below 16 kHz).
    bins: usize,
    /// Output samples still to drop from the front (the filter delay).
    delay: usize,
    up: u64,
    down: u64,
    /// Input samples pushed; output samples handed out.
    input: u64,
    output: u64,
}

impl FftPath {
    fn new(from_hz: u32, up: u64, down: u64) -> Result<Self, AudioError> {
        let to = |v: u64| usize::try_from(v).map_err(|e| failed(&e));
        let half = (SINC_LEN / 2) as u64;
        let delay_in = half.div_ceil(down) * down;
        // Blocks and padding in units of `down` (even, so the transforms have even lengths):
        // the padding holds the filter's tail (`delay_in + half` samples past a block's
        // start), the block is at least three paddings and `FFT_MIN_BLOCK`.
        let unit = if down.is_multiple_of(2) {
            down
        } else {
            2 * down
        };
        let pad = (delay_in + half).div_ceil(unit) * unit;
        let block = (3 * pad).max(FFT_MIN_BLOCK).div_ceil(unit) * unit;
        let (block_in, block_out) = (to(block)?, to(block / down * up)?);
        let tail = to(pad / down * up)?;
        // Transform lengths: the block and its padding in; its output samples (block and tail)
        // out, at 16 kHz (from the 32 kHz grid's spectrum folded, see `block`).
        let n_in = block_in + to(pad)?;
        let n16 = block_out + tail;
        let bins = (n_in / 2).min(n16);

        // The sinc path's cutoff (relative to 8 kHz), in cycles per input sample.
        let cutoff = rubato::calculate_cutoff::<f64>(SINC_LEN, WindowFunction::BlackmanHarris2)
            * f64::from(SAMPLE_RATE_HZ)
            / 2.0
            / f64::from(from_hz);
        let centre = to(delay_in)?;
        let mut h = vec![0.0f64; n_in];
        for (i, tap) in h[centre - SINC_LEN / 2..=centre + SINC_LEN / 2]
            .iter_mut()
            .enumerate()
        {
            // Blackman-Harris over 0..=SINC_LEN (zero at both ends), squared.
            let x = std::f64::consts::TAU * i as f64 / SINC_LEN as f64;
            let w =
                0.35875 - 0.48829 * x.cos() + 0.14128 * (2.0 * x).cos() - 0.01168 * (3.0 * x).cos();
            let t = 2.0 * cutoff * (i as f64 - half as f64);
            let sinc = if t == 0.0 {
                1.0
            } else {
                (std::f64::consts::PI * t).sin() / (std::f64::consts::PI * t)
            };
            *tap = w * w * sinc;
        }
        let sum: f64 = h.iter().sum();
        let mut planner = RealFftPlanner::<f64>::new();
        let mut spectrum = planner.plan_fft_forward(n_in).make_output_vec();
        planner
            .plan_fft_forward(n_in)
            .process(&mut h, &mut spectrum)
            .map_err(|e| failed(&e))?;
        let scale = 1.0 / (sum * n_in as f64);
        let filter = spectrum[..bins]
            .iter()
            .map(|c| Complex::new((c.re * scale) as f32, (c.im * scale) as f32))
            .collect();

        let mut planner = RealFftPlanner::<f32>::new();
        let (fft, ifft) = (
            planner.plan_fft_forward(n_in),
            planner.plan_fft_inverse(n16),
        );
        let scratch = vec![Complex::default(); fft.get_scratch_len().max(ifft.get_scratch_len())];
        Ok(Self {
            time_in: fft.make_input_vec(),
            spectrum: fft.make_output_vec(),
            spectrum_32k: vec![Complex::default(); n16 + 1],
            spectrum_out: ifft.make_input_vec(),
            time_out: ifft.make_output_vec(),
            fft,
            ifft,
            filter,
            scratch,
            overlap: vec![0.0; tail],
            pending: Vec::with_capacity(block_in),
            block_in,
            block_out,
            bins,
            delay: to(delay_in / down * up)?,
            up,
            down,
            input: 0,
            output: 0,
        })
    }

    fn push(&mut self, mut input: &[f32], out: &mut Vec<f32>) {
        self.input += input.len() as u64;
        while !input.is_empty() {
            let take = input.len().min(self.block_in - self.pending.len());
            self.pending.extend_from_slice(&input[..take]);
            input = &input[take..];
            if self.pending.len() == self.block_in {
                self.block(out);
            }
        }
    }

    fn finish(mut self, out: &mut Vec<f32>) {
        // ceil(len * up / down) output samples in all: the rest of the input, then silence.
        let wanted = (self.input * self.up).div_ceil(self.down);
        let start = out.len();
        while self.output < wanted {
            self.pending.resize(self.block_in, 0.0);
            self.block(out);
        }
        let excess = usize::try_from(self.output - wanted).unwrap_or(usize::MAX);
        out.truncate(out.len().saturating_sub(excess).max(start));
    }

    /// Filters the block in `pending` (full) and appends its output past the delay.
    fn block(&mut self, out: &mut Vec<f32>) {
        let (first, zeros) = self.time_in.split_at_mut(self.block_in);
        first.copy_from_slice(&self.pending);
        zeros.fill(0.0);
        self.pending.clear();
        // The lengths are the plans' own (`make_*_vec`): the transforms cannot fail.
        self.fft
            .process_with_scratch(&mut self.time_in, &mut self.spectrum, &mut self.scratch)
            .expect("FFT buffer lengths");
        // The filtered spectrum on the 32 kHz grid (`n16 + 1` bins, index `n16` at 16 kHz):
        // the kept bins, DC real, nothing above (16 kHz itself is ambiguous at 32 kHz).
        let (kept, above) = self.spectrum_32k.split_at_mut(self.bins);
        for ((o, &x), &h) in kept.iter_mut().zip(&self.spectrum).zip(&self.filter) {
            *o = x * h;
        }
        kept[0].im = 0.0;
        above.fill(Complex::default());
        // Every other sample of its inverse transform (`2 · n16` points) is the inverse
        // transform of `n16` points of the spectrum folded at 8 kHz: `y[2m] = Σ_k Y[k] ·
        // e^{2πikm/n16}` over both halves, `Z[k] = Y[k] + conj(Y[n16 - k])` (the real
        // signal's upper half mirrored); DC and 8 kHz come out real.
        let n16 = self.spectrum_32k.len() - 1;
        for (k, z) in self.spectrum_out.iter_mut().enumerate() {
            *z = self.spectrum_32k[k] + self.spectrum_32k[n16 - k].conj();
        }
        self.ifft
            .process_with_scratch(
                &mut self.spectrum_out,
                &mut self.time_out,
                &mut self.scratch,
            )
            .expect("FFT buffer lengths");
        // The 16 kHz samples: the block's (plus the last block's tail), then its own tail.
        let mut y = self.time_out.iter();
        let start = out.len();
        out.extend(y.by_ref().take(self.block_out));
        for (o, &t) in out[start..].iter_mut().zip(&self.overlap) {
            *o += t;
        }
        for (t, &v) in self.overlap.iter_mut().zip(y) {
            *t = v;
        }
        let skip = self.delay.min(self.block_out);
        self.delay -= skip;
        out.drain(start..start + skip);
        self.output += (self.block_out - skip) as u64;
    }
}

/// The inverse of `a` modulo `m` (`a` and `m` coprime; 0 when `m` is 1), by extended Euclid.
fn mod_inverse(a: u64, m: u64) -> u64 {
    let (mut old_r, mut r) = (a as i64, m as i64);
    let (mut old_s, mut s) = (1i64, 0i64);
    while r != 0 {
        let q = old_r / r;
        (old_r, r) = (r, old_r - q * r);
        (old_s, s) = (s, old_s - q * s);
    }
    old_s.rem_euclid(m as i64) as u64
}

/// Greatest common divisor (Euclid).
fn gcd(mut a: u32, mut b: u32) -> u32 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}
