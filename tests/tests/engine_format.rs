//! The weights blob: round trip through the writer and parser, and one malformed blob per
//! `FormatError` kind.

mod engine_support;

use engine_support::{calibrated_blob, golden_inputs, golden_model, LABELS};
use genre_core::config::{FINGERPRINT, HIDDEN, N_FEATURES, N_GENRES};
use genre_core::fixed::Requant;
use genre_core::format::{
    crc32, write, FormatError, Model, BLOB_LEN, HEADER_LEN, LABEL_RECORD, MAGIC, PADDED_FEATURES,
    ROW_RECORD, VERSION,
};
use genre_core::lstm::GATES;

fn blob() -> Vec<u8> {
    let m = golden_model();
    calibrated_blob(&m, &golden_inputs()[..1])
}

/// Offsets from the layout table in `format`'s docs.
const LABELS_AT: usize = HEADER_LEN;
/// After the labels and two bytes of alignment padding.
const INPUT_AT: usize = LABELS_AT + N_GENRES * LABEL_RECORD + 2;
const LAYER0_AT: usize = INPUT_AT + N_FEATURES * 8;
/// Layer 0's row records (mult_x, mult_h, bias), then its shift pairs.
const L0_RECORDS_AT: usize = LAYER0_AT + 4 + GATES * PADDED_FEATURES + GATES * HIDDEN;
const L0_SHIFTS_AT: usize = L0_RECORDS_AT + GATES * ROW_RECORD;
const HEAD_SHIFT_AT: usize = BLOB_LEN - 4 - N_GENRES * 4 - N_GENRES;

/// Recomputes the trailing CRC so that a content check, not the CRC, must catch an edit.
fn refresh_crc(b: &mut [u8]) {
    let n = b.len() - 4;
    let crc = crc32(&b[..n]);
    b[n..].copy_from_slice(&crc.to_le_bytes());
}

fn parse_err(b: &[u8]) -> FormatError {
    Model::parse(b).expect_err("malformed blob must be rejected")
}

#[test]
fn round_trip() {
    let b = blob();
    assert_eq!(b.len(), BLOB_LEN);
    assert_eq!(&b[..4], &MAGIC);
    assert_eq!(b[12..16], FINGERPRINT.to_le_bytes());
    let m = Model::parse(&b).expect("valid blob");
    assert_eq!(m.n_genres(), N_GENRES);
    for (g, l) in LABELS.iter().enumerate() {
        assert_eq!(m.label(g), *l);
    }
    assert_eq!(m.label(N_GENRES), "");
    let p = m.to_params();
    assert_eq!(
        write(&p).expect("rewrite"),
        b,
        "write(parse(b)) must give b back"
    );
    // Unaligned copies parse the same (no alignment assumption).
    let mut shifted = vec![0u8; 1];
    shifted.extend_from_slice(&b);
    assert_eq!(
        Model::parse(&shifted[1..]).expect("unaligned").to_params(),
        p
    );
    // `ENGINE_FUZZ_SEEDS=$PWD/core/fuzz/seeds` refreshes the fuzz seed corpus from this blob
    // (an absolute path: the test runs in tests/).
    if let Some(dir) = std::env::var_os("ENGINE_FUZZ_SEEDS") {
        let dir = std::path::PathBuf::from(dir);
        std::fs::write(dir.join("valid.tgm"), &b).expect("seed");
        let mut with_frames = b[..BLOB_LEN - 4].to_vec();
        for k in 0..4 * N_FEATURES {
            with_frames.extend_from_slice(&((k as f32 - 60.0) * 0.37).to_le_bytes());
        }
        std::fs::write(dir.join("valid_with_frames.bin"), with_frames).expect("seed");
    }
}

#[test]
fn writer_rejects_bad_labels() {
    let mut p = Model::parse(&blob()).expect("valid").to_params();
    p.labels[3] = "a-label-longer-than-16".into();
    assert_eq!(write(&p), Err(FormatError::LabelLength { genre: 3 }));
    p.labels[3] = String::new();
    assert_eq!(write(&p), Err(FormatError::LabelLength { genre: 3 }));
    p.labels[3] = "hip-hop ♫".into();
    assert!(
        write(&p).is_ok(),
        "multi-byte UTF-8 within 16 bytes is fine"
    );
    p.layer1.requant_h[5] = Requant {
        mult: 1 << 30,
        shift: 0,
    };
    assert!(matches!(write(&p), Err(FormatError::Shift { row: 5, .. })));
}

#[test]
fn header_errors() {
    let good = blob();
    assert_eq!(
        parse_err(&good[..HEADER_LEN - 1]),
        FormatError::Truncated {
            needed: HEADER_LEN,
            actual: HEADER_LEN - 1
        }
    );
    assert!(matches!(parse_err(&[]), FormatError::Truncated { .. }));

    let mut b = good.clone();
    b[0] = b'X';
    assert_eq!(parse_err(&b), FormatError::BadMagic);

    let mut b = good.clone();
    b[4..6].copy_from_slice(&(VERSION + 1).to_le_bytes());
    assert_eq!(
        parse_err(&b),
        FormatError::UnsupportedVersion { found: VERSION + 1 }
    );

    // A version 1 blob (the layout before the DSP-friendly one) is refused as such, and the
    // message says to re-export it.
    let mut b = good.clone();
    b[4..6].copy_from_slice(&1u16.to_le_bytes());
    assert_eq!(parse_err(&b), FormatError::UnsupportedVersion { found: 1 });
    let shown = parse_err(&b).to_string();
    assert!(
        shown.contains("predates") && shown.contains("re-export"),
        "{shown}"
    );

    let mut b = good.clone();
    b[12] ^= 1;
    assert_eq!(
        parse_err(&b),
        FormatError::ConfigMismatch {
            expected: FINGERPRINT,
            found: FINGERPRINT ^ 1
        }
    );

    let mut b = good.clone();
    b[8] += 1; // hidden size
    assert_eq!(parse_err(&b), FormatError::Dimensions);
}

#[test]
fn size_and_crc_errors() {
    let good = blob();
    assert_eq!(
        parse_err(&good[..BLOB_LEN - 1]),
        FormatError::Length {
            expected: BLOB_LEN,
            actual: BLOB_LEN - 1
        }
    );
    let mut long = good.clone();
    long.push(0);
    assert_eq!(
        parse_err(&long),
        FormatError::Length {
            expected: BLOB_LEN,
            actual: BLOB_LEN + 1
        }
    );

    let mut b = good.clone();
    b[LAYER0_AT + 100] ^= 0x40; // a weight
    assert!(matches!(parse_err(&b), FormatError::Crc { .. }));
    let mut b = good;
    b[BLOB_LEN - 1] ^= 1;
    assert!(matches!(parse_err(&b), FormatError::Crc { .. }));
}

#[test]
fn content_errors() {
    let good = blob();
    let edit = |f: &dyn Fn(&mut Vec<u8>)| {
        let mut b = good.clone();
        f(&mut b);
        refresh_crc(&mut b);
        parse_err(&b)
    };
    let label2 = LABELS_AT + 2 * LABEL_RECORD;
    assert_eq!(
        edit(&|b| b[label2] = 0),
        FormatError::LabelLength { genre: 2 }
    );
    assert_eq!(
        edit(&|b| b[label2] = 17),
        FormatError::LabelLength { genre: 2 }
    );
    assert_eq!(
        edit(&|b| b[label2 + 1] = 0xff),
        FormatError::LabelUtf8 { genre: 2 }
    );
    assert_eq!(
        edit(&|b| b[label2 + 16] = b'x'),
        FormatError::LabelPadding { genre: 2 }
    );
    assert_eq!(
        edit(&|b| b[INPUT_AT + 4 * 7..INPUT_AT + 4 * 8].copy_from_slice(&f32::NAN.to_le_bytes())),
        FormatError::NonFinite { feature: 7 }
    );
    let mul9 = INPUT_AT + 4 * N_FEATURES + 4 * 9;
    assert_eq!(
        edit(&|b| b[mul9..mul9 + 4].copy_from_slice(&f32::INFINITY.to_le_bytes())),
        FormatError::NonFinite { feature: 9 }
    );
    assert_eq!(
        edit(&|b| b[LAYER0_AT] = 5),
        FormatError::CellFormat {
            layer: 0,
            frac_bits: 5
        }
    );
    assert_eq!(
        edit(&|b| b[LAYER0_AT] = 16),
        FormatError::CellFormat {
            layer: 0,
            frac_bits: 16
        }
    );
    assert_eq!(
        edit(&|b| b[L0_SHIFTS_AT + 2 * 3] = 0),
        FormatError::Shift {
            section: "layer0.x",
            row: 3,
            shift: 0
        }
    );
    assert_eq!(
        edit(&|b| b[L0_SHIFTS_AT + 2 * 7 + 1] = 63),
        FormatError::Shift {
            section: "layer0.h",
            row: 7,
            shift: 63
        }
    );
    assert_eq!(
        edit(&|b| b[HEAD_SHIFT_AT + 9] = 63),
        FormatError::Shift {
            section: "head",
            row: 9,
            shift: 63
        }
    );
    assert_eq!(
        edit(&|b| b[L0_RECORDS_AT + ROW_RECORD * 4 + 3] = 0x80),
        FormatError::Multiplier {
            section: "layer0.x",
            row: 4
        }
    );
}

/// Every prefix, and every single-byte corruption of a sample of positions (CRC refreshed so
/// the content checks run), gives an error or a model that steps, never a panic.
#[test]
fn no_panic_on_corruption() {
    let good = blob();
    for n in 0..good.len() {
        assert!(Model::parse(&good[..n]).is_err());
    }
    let frame = [0.5f32; N_FEATURES];
    for pos in (0..BLOB_LEN - 4).step_by(37) {
        for v in [0x00, 0x7f, 0x80, 0xff] {
            let mut b = good.clone();
            b[pos] = v;
            refresh_crc(&mut b);
            if let Ok(m) = Model::parse(&b) {
                let mut e = genre_core::quant::QuantEngine::new();
                e.step(&m, &m.quantize_input(&frame));
                let _ = e.logits(&m);
            }
        }
    }
}
