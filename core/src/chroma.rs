//! Chroma from the power spectrum (`librosa.feature.chroma_stft(tuning=0.0, norm=inf)`).

use crate::arch::dot_f32;
use crate::config::{N_BINS, N_CHROMA};
use crate::level::filter_sums;
use crate::tables::{CHROMA_CLASS_RUNS, CHROMA_RUN_LEN, CHROMA_RUN_START, CHROMA_WEIGHTS};

/// Sum of each class's weights: what a white floor of power 1 per bin adds to the class.
static CHROMA_WEIGHT_SUM: [f32; N_CHROMA] =
    filter_sums(&CHROMA_WEIGHTS, &CHROMA_RUN_LEN, &CHROMA_CLASS_RUNS);

/// Projects `power` onto the 12 pitch classes (sparse librosa chroma filterbank) and divides
/// by the frame's largest class. As librosa's `util.normalize`, a frame whose largest class
/// is below the smallest normal f32 is left as it is.
///
/// Each class is a sum over its runs of consecutive bins, in ascending bin order, kept in one
/// accumulator (the filterbank is stored class by class for that). `floor` is a white floor of
/// power per bin added to the spectrum first ([`crate::level::SpectralFloor`]; 0 for librosa's
/// chroma).
#[inline(never)] // one call per hop; out of line it measured faster on the M4F
pub fn chroma(power: &[f32; N_BINS], floor: f32, chroma: &mut [f32; N_CHROMA]) {
    let (mut r, mut w) = (0, 0);
    for ((out, &runs), &sum) in chroma
        .iter_mut()
        .zip(CHROMA_CLASS_RUNS.iter())
        .zip(CHROMA_WEIGHT_SUM.iter())
    {
        let runs = usize::from(runs);
        let mut acc = floor * sum;
        for (&start, &len) in CHROMA_RUN_START[r..r + runs]
            .iter()
            .zip(&CHROMA_RUN_LEN[r..r + runs])
        {
            let (start, len) = (usize::from(start), usize::from(len));
            acc = dot_f32(acc, &CHROMA_WEIGHTS[w..w + len], &power[start..start + len]);
            w += len;
        }
        r += runs;
        *out = acc;
    }
    let max = chroma
        .iter()
        .fold(0.0f32, |m, &c| if c > m { c } else { m });
    if max >= f32::MIN_POSITIVE {
        for c in chroma.iter_mut() {
            *c /= max;
        }
    }
}
