//! Float → fixed conversion, once, on the host (feature `std`): input scales from the
//! calibration, per-row `i8` weights and requantisation factors, Q16 biases, cell formats, and
//! the blob.
use super::{Calibration, CELL_HEADROOM, LOGIT_FRAC_BITS, PRE_FRAC_BITS};
use crate::config::{HIDDEN, N_FEATURES, N_GENRES};
use crate::fixed::{Requant, ACT_FRAC_BITS};
use crate::format::{
    write, FormatError, QuantHead, QuantLayer, QuantParams, MAX_CELL_FRAC_BITS, MIN_CELL_FRAC_BITS,
};
use crate::lstm::{FloatLayer, FloatModel, GATES};
use std::boxed::Box;
use std::string::ToString;
use std::vec::Vec;

// The head's rows are quantised to the gate pre-activation format, Q16.
const _: () = assert!(LOGIT_FRAC_BITS == PRE_FRAC_BITS);

/// Why [`quantize`] / [`prepare`] failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum PrepareError {
    /// The calibration observed no step.
    NotCalibrated,
    /// Not exactly one label per genre.
    LabelCount {
        /// Labels given.
        actual: usize,
    },
    /// A scale that [`Requant`] cannot express (weights or biases far out of range).
    Scale {
        /// Section ("layer0.x", "head", ...).
        section: &'static str,
        /// Row.
        row: usize,
    },
    /// The blob writer rejected the result (e.g. a label over 16 bytes).
    Format(FormatError),
}

impl core::fmt::Display for PrepareError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::NotCalibrated => write!(f, "calibration observed no step"),
            Self::LabelCount { actual } => {
                write!(f, "{actual} labels, expected {N_GENRES}")
            }
            Self::Scale { section, row } => {
                write!(f, "{section} row {row}: scale out of range")
            }
            Self::Format(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for PrepareError {}

impl From<FormatError> for PrepareError {
    fn from(e: FormatError) -> Self {
        Self::Format(e)
    }
}

/// Symmetric per-row quantisation of `row · col_scale` (f64): the `i8` row and the
/// real factor taking `Σ q·x_int` to Q16, given the input's integer step `in_step`.
fn quant_row<const W: usize>(
    row: &[f32; W],
    col_scale: &[f64; W],
    section: &'static str,
    r: usize,
) -> Result<([i8; W], Requant), PrepareError> {
    let w: [f64; W] = core::array::from_fn(|k| f64::from(row[k]) * col_scale[k]);
    let max = w.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    let scale = max / 127.0;
    let q = core::array::from_fn(|k| {
        if scale > 0.0 {
            (w[k] / scale).round().clamp(-127.0, 127.0) as i8
        } else {
            0
        }
    });
    let real = scale * f64::from(1u32 << PRE_FRAC_BITS);
    let rq = Requant::from_real(real).ok_or(PrepareError::Scale { section, row: r })?;
    Ok((q, rq))
}

/// Q16 bias, saturated to `i32`.
fn q16(v: f64) -> i32 {
    (v * f64::from(1u32 << PRE_FRAC_BITS))
        .round()
        .clamp(f64::from(i32::MIN), f64::from(i32::MAX)) as i32
}

/// Cell fraction bits: the most that still hold `CELL_HEADROOM · max|c|`.
fn cell_frac_bits(absmax: f32) -> u8 {
    let need = f64::from(absmax * CELL_HEADROOM);
    let mut n = MAX_CELL_FRAC_BITS;
    while n > MIN_CELL_FRAC_BITS && 2f64.powi(15 - i32::from(n)) < need {
        n -= 1;
    }
    n
}

fn layer<const IN: usize>(
    f: &FloatLayer<IN>,
    in_scale: &[f64; IN],
    cell_absmax: f32,
    names: (&'static str, &'static str),
) -> Result<Box<QuantLayer<IN>>, PrepareError> {
    let h_scale = [2f64.powi(-(ACT_FRAC_BITS as i32)); HIDDEN];
    let mut q = Box::new(QuantLayer {
        cell_frac_bits: cell_frac_bits(cell_absmax),
        w_ih: [[0; IN]; GATES],
        w_hh: [[0; HIDDEN]; GATES],
        requant_x: [Requant { mult: 0, shift: 31 }; GATES],
        requant_h: [Requant { mult: 0, shift: 31 }; GATES],
        bias: [0; GATES],
    });
    for r in 0..GATES {
        (q.w_ih[r], q.requant_x[r]) = quant_row(&f.w_ih[r], in_scale, names.0, r)?;
        (q.w_hh[r], q.requant_h[r]) = quant_row(&f.w_hh[r], &h_scale, names.1, r)?;
        q.bias[r] = q16(f64::from(f.b_ih[r]) + f64::from(f.b_hh[r]));
    }
    Ok(q)
}

/// All float→fixed work: input scales from `calib`, per-row `i8` weights and
/// requantisation factors, Q16 biases, cell formats.
///
/// # Errors
/// [`PrepareError::NotCalibrated`], [`PrepareError::LabelCount`], or
/// [`PrepareError::Scale`] for a row whose factor cannot be represented.
pub fn quantize(
    float: &FloatModel,
    calib: &Calibration,
    labels: &[&str],
) -> Result<Box<QuantParams>, PrepareError> {
    if calib.steps() == 0 {
        return Err(PrepareError::NotCalibrated);
    }
    if labels.len() != N_GENRES {
        return Err(PrepareError::LabelCount {
            actual: labels.len(),
        });
    }
    // Integer step of each quantised input feature, in normalised units.
    let s_in: [f64; N_FEATURES] = core::array::from_fn(|j| {
        let m = f64::from(calib.input_range(j));
        if m > 0.0 {
            m / 127.0
        } else {
            1.0 / 127.0
        }
    });
    let input_mul: [f32; N_FEATURES] =
        core::array::from_fn(|j| (1.0 / (f64::from(float.norm_std[j]) * s_in[j])) as f32);
    // The step the device really applies, after rounding `mul` to f32.
    let in_scale: [f64; N_FEATURES] =
        core::array::from_fn(|j| 1.0 / (f64::from(float.norm_std[j]) * f64::from(input_mul[j])));
    let h_scale = [2f64.powi(-(ACT_FRAC_BITS as i32)); HIDDEN];
    let cells = calib.cell_absmax();
    let layer0 = layer(&float.layer0, &in_scale, cells[0], ("layer0.x", "layer0.h"))?;
    let layer1 = layer(&float.layer1, &h_scale, cells[1], ("layer1.x", "layer1.h"))?;
    let mut head = QuantHead {
        w: [[0; HIDDEN]; N_GENRES],
        requant: [Requant { mult: 0, shift: 31 }; N_GENRES],
        bias: [0; N_GENRES],
    };
    for g in 0..N_GENRES {
        (head.w[g], head.requant[g]) = quant_row(&float.head_w[g], &h_scale, "head", g)?;
        head.bias[g] = q16(f64::from(float.head_b[g]));
    }
    Ok(Box::new(QuantParams {
        labels: core::array::from_fn(|g| labels[g].to_string()),
        input_mean: float.norm_mean,
        input_mul,
        layer0: *layer0,
        layer1: *layer1,
        head,
    }))
}

/// [`quantize`] then [`write()`]: the blob for `weights/*.tgm`.
///
/// # Errors
/// As [`quantize`], plus [`PrepareError::Format`] when a label is not 1..=16 bytes.
pub fn prepare(
    float: &FloatModel,
    calib: &Calibration,
    labels: &[&str],
) -> Result<Vec<u8>, PrepareError> {
    let p = quantize(float, calib, labels)?;
    Ok(write(&p)?)
}
