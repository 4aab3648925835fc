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
///
/// On x86_64 and aarch64 the same sums run across the 12 classes at once (`DENSE`); the
/// device keeps the sparse loop.
#[inline(never)] // one call per hop; out of line it measured faster on the M4F
pub fn chroma(power: &[f32; N_BINS], floor: f32, chroma: &mut [f32; N_CHROMA]) {
    #[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
    classes_dense(power, floor, chroma);
    #[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
    classes_sparse(power, floor, chroma);
    let max = chroma
        .iter()
        .fold(0.0f32, |m, &c| if c > m { c } else { m });
    if max >= f32::MIN_POSITIVE {
        for c in chroma.iter_mut() {
            *c /= max;
        }
    }
}

/// The class sums of [`chroma`] (before normalisation), class by class over the sparse
/// filterbank: what the device runs (private there, inlined into its one caller as before).
#[inline]
fn classes_sparse(power: &[f32; N_BINS], floor: f32, chroma: &mut [f32; N_CHROMA]) {
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
}

/// The chroma filterbank as a dense `N_BINS × N_CHROMA` table: `DENSE[k][c]` is class `c`'s
/// weight of bin `k`, 0 where the class has none.
///
/// [`classes_dense`] walks the bins in ascending order and adds `DENSE[k][c] · power[k]` to
/// every class's accumulator at once (independent lanes, which the compiler vectorises). Class
/// `c` thus adds exactly its sparse terms in the sparse loop's order (its runs ascend, and
/// ascend from run to run), with `+0` (a zero weight times a finite power) in between;
/// adding `+0` to an accumulator that is not `-0` leaves it unchanged, and no accumulator is
/// `-0`: it starts at `floor · sum ≥ +0` (`floor` is `+0` or positive, the weights are not
/// negative) and only non-negative products are added. So every class gets the bits of the
/// sparse loop; `tests/golden` and the pipeline goldens pin them.
#[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
static DENSE: [[f32; N_CHROMA]; N_BINS] = {
    let mut out = [[0.0; N_CHROMA]; N_BINS];
    let (mut c, mut r, mut w) = (0, 0, 0);
    while c < N_CHROMA {
        let end = r + CHROMA_CLASS_RUNS[c] as usize;
        // Where the class's previous run ended: its runs ascend.
        let mut next = 0;
        while r < end {
            let start = CHROMA_RUN_START[r] as usize;
            assert!(start >= next);
            next = start + CHROMA_RUN_LEN[r] as usize;
            let mut k = 0;
            while k < CHROMA_RUN_LEN[r] as usize {
                // Each bin at most once per class (the runs of a class do not overlap), and
                // no negative weight (see above).
                assert!(out[start + k][c] == 0.0 && CHROMA_WEIGHTS[w + k] >= 0.0);
                out[start + k][c] = CHROMA_WEIGHTS[w + k];
                k += 1;
            }
            w += CHROMA_RUN_LEN[r] as usize;
            r += 1;
        }
        c += 1;
    }
    out
};

/// [`classes_sparse`], for the host test that compares it with [`classes_dense`].
#[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
#[doc(hidden)]
pub fn classes_sparse_host(power: &[f32; N_BINS], floor: f32, chroma: &mut [f32; N_CHROMA]) {
    classes_sparse(power, floor, chroma);
}

/// The class sums of [`chroma`] (before normalisation) over [`DENSE`]: the bits of
/// [`classes_sparse`].
#[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
#[doc(hidden)]
#[inline]
pub fn classes_dense(power: &[f32; N_BINS], floor: f32, chroma: &mut [f32; N_CHROMA]) {
    let mut acc: [f32; N_CHROMA] = core::array::from_fn(|c| floor * CHROMA_WEIGHT_SUM[c]);
    for (row, &p) in DENSE.iter().zip(power) {
        for (a, &w) in acc.iter_mut().zip(row) {
            *a += w * p;
        }
    }
    *chroma = acc;
}
