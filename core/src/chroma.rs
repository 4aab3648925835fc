//! Chroma from the power spectrum (`librosa.feature.chroma_stft(tuning=0.0, norm=inf)`).

use crate::config::{N_BINS, N_CHROMA};
use crate::tables::{CHROMA_COUNT, CHROMA_FIRST, CHROMA_WEIGHTS};

/// Projects `power` onto the 12 pitch classes (sparse librosa chroma filterbank) and divides
/// by the frame's largest class. As librosa's `util.normalize`, a frame whose largest class
/// is below the smallest normal f32 is left as it is.
pub fn chroma(power: &[f32; N_BINS], chroma: &mut [f32; N_CHROMA]) {
    *chroma = [0.0; N_CHROMA];
    let mut w = 0;
    for ((&p, &first), &count) in power
        .iter()
        .zip(CHROMA_FIRST.iter())
        .zip(CHROMA_COUNT.iter())
    {
        let mut class = usize::from(first);
        for &weight in &CHROMA_WEIGHTS[w..w + usize::from(count)] {
            chroma[class] += weight * p;
            class = if class + 1 == N_CHROMA { 0 } else { class + 1 };
        }
        w += usize::from(count);
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
