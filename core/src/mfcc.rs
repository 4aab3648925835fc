//! MFCC: orthonormal DCT-II of the mel spectrum in dB, first `N_MFCC` coefficients
//! (`librosa.feature.mfcc(S=power_to_db(mel, top_db=None))`).

use crate::arch::dot_f32;
use crate::config::{N_MELS, N_MFCC};
use crate::mel::power_to_db;
use crate::tables::DCT_HALF;

/// Columns of [`DCT_HALF`]: the DCT-II's rows are symmetric (even rows) or antisymmetric (odd
/// rows) about their middle.
const HALF: usize = N_MELS / 2;
const _: () = assert!(N_MELS.is_multiple_of(2) && DCT_HALF.len() == N_MFCC * HALF);

/// Writes the MFCCs of the mel-band powers `mel` into `mfcc`; `mel` is overwritten with
/// its values in dB.
///
/// Row `j` of the DCT has `D[j][N_MELS-1-i] = (-1)^j · D[j][i]`, so coefficient `j` is the
/// half row times the folded input `dB[i] ± dB[N_MELS-1-i]`: half the table and half the
/// products of the full dot product.
#[inline(never)] // one call per hop; out of line it measured faster on the M4F
pub fn mfcc(mel: &mut [f32; N_MELS], mfcc: &mut [f32; N_MFCC]) {
    for m in mel.iter_mut() {
        *m = power_to_db(*m);
    }
    let mut sum = [0.0f32; HALF];
    let mut difference = [0.0f32; HALF];
    let (low, high) = mel.split_at(HALF);
    for ((s, d), (&a, &b)) in sum
        .iter_mut()
        .zip(difference.iter_mut())
        .zip(low.iter().zip(high.iter().rev()))
    {
        *s = a + b;
        *d = a - b;
    }
    for (j, (out, row)) in mfcc.iter_mut().zip(DCT_HALF.chunks_exact(HALF)).enumerate() {
        let folded = if j % 2 == 0 { &sum } else { &difference };
        *out = dot_f32(0.0, row, folded);
    }
}
