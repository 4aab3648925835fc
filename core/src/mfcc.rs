//! MFCC: orthonormal DCT-II of the mel spectrum in dB, first `N_MFCC` coefficients
//! (`librosa.feature.mfcc(S=power_to_db(mel, top_db=None))`).

use crate::arch::dot_f32;
use crate::config::{N_MELS, N_MFCC};
use crate::mel::power_to_db;
use crate::tables::DCT;

/// Writes the MFCCs of the mel-band powers `mel` into `mfcc`; `mel` is overwritten with
/// its values in dB.
#[inline(never)] // one call per hop; out of line it measured faster on the M4F
pub fn mfcc(mel: &mut [f32; N_MELS], mfcc: &mut [f32; N_MFCC]) {
    for m in mel.iter_mut() {
        *m = power_to_db(*m);
    }
    for (out, row) in mfcc.iter_mut().zip(DCT.chunks_exact(N_MELS)) {
        *out = dot_f32(0.0, row, mel);
    }
}
