//! The weights blob (`*.tgm`): a little-endian byte layout read zero-copy by [`Model::parse`]
//! from any `&[u8]`, and written on the host by `write` (feature `std`).
//!
//! Version 2 is laid out for the Cortex-M4F kernels ([`crate::arch`]): every section starts at
//! a multiple of 4 bytes, layer 0's rows are padded to whole 4-byte groups, the weight rows of
//! each block of four are interleaved word by word (one `ldm` loads a word of each), and the
//! gate epilogue's per-row numbers are one 12-byte record. On the Cortex-M4F build (the
//! `arm_dsp` kernels load words with `ldm`) the blob must start at a multiple of 4 bytes
//! ([`FormatError::Misaligned`]; the firmware embeds it so); elsewhere any `&[u8]` parses, so
//! `include_bytes!` works on the host. Version 1 blobs (unpadded, row-major) are refused with
//! [`FormatError::UnsupportedVersion`]: re-export them (`tests/generators/convert_v1_to_v2.py`
//! converts one without retraining).
//!
//! Byte layout (`F` = [`N_FEATURES`], `H` = [`HIDDEN`], `G` = [`N_GENRES`], `R` = 4·H gate rows):
//!
//! | bytes | type | field |
//! |---|---|---|
//! | 4 | `[u8; 4]` | magic [`MAGIC`] `"TGNR"` |
//! | 2 | `u16` | format version [`VERSION`] (2) |
//! | 2 + 2 | `u16`, `u16` | `F`, `H` |
//! | 1 + 1 | `u8`, `u8` | layers (2), `G` |
//! | 4 | `u32` | [`FINGERPRINT`] of the configuration the model was trained for |
//! | G · 17 | `u8` + `[u8; 16]` | labels: byte length 1..=16, UTF-8, zero padding |
//! | 2 | | zero (alignment; not read) |
//! | F · 4 | `f32` | input mean |
//! | F · 4 | `f32` | input multiplier: `x_q = round((x - mean) · mul)` (normalisation and input scale folded) |
//! | per layer: 1 + 3 | `u8` | cell-state fraction bits, 6..=15; three zero bytes (not read) |
//! | R · IN' | `i8` | `w_ih` in [blocks](#weight-blocks); IN' = IN rounded up to a multiple of 4 (36 for layer 0's F = 33, H for layer 1), the pad columns zero (they meet a zero input) |
//! | R · H | `i8` | `w_hh` in [blocks](#weight-blocks) |
//! | R · 12 | `i32` × 3 | per row: input-path mult, recurrent-path mult, gate bias `b_ih + b_hh` (Q16) |
//! | R · 2 | `u8` × 2 | per row: input-path shift, recurrent-path shift |
//! | G · H | `i8` | head weights, row-major |
//! | G · 4, G | `i32`, `u8` | head requantisation: mult, shift per row |
//! | G · 4 | `i32` | head bias, Q16 |
//! | 4 | `u32` | CRC-32 (ISO-HDLC, as zlib/PNG) of every byte before it |
//!
//! # Weight blocks
//!
//! A layer's `R` rows (gates i, f, g, o, [`HIDDEN`] rows each) of width `W` (a multiple of 4)
//! are stored as `R / 4` blocks of [`BLOCK_ROWS`] rows; block `b` holds rows `4b..4b + 4` as
//! `W / 4` groups of 16 bytes, group `g` being bytes `4g..4g + 4` of row `4b`, then of rows
//! `4b + 1`, `4b + 2`, `4b + 3`. So the byte of row `r`, column `k` is at
//! `(r / 4) · 4W + (k / 4) · 16 + (r % 4) · 4 + k % 4`.
//!
//! The total size is [`BLOB_LEN`]. Requantisation pairs are [`Requant`]s (`mult` ≥ 0, `shift` in
//! 1..=62). What the numbers mean is in [`crate::quant`].

use crate::config::{FINGERPRINT, HIDDEN, MAX_LABEL_LEN, N_FEATURES, N_GENRES, N_LAYERS};
use crate::fixed::Requant;
use crate::lstm::GATES;

/// First four bytes of every blob.
pub const MAGIC: [u8; 4] = *b"TGNR";
/// The one format version this parser reads (see the layout table above).
pub const VERSION: u16 = 2;
/// Bytes of the fixed header (magic to fingerprint).
pub const HEADER_LEN: usize = 16;
/// Bytes per label record: length byte and [`MAX_LABEL_LEN`] bytes.
pub const LABEL_RECORD: usize = 1 + MAX_LABEL_LEN;
/// Smallest cell-state fraction-bit count (keeps `tanh_q15`'s interpolation shift ≥ 0).
pub const MIN_CELL_FRAC_BITS: u8 = 6;
/// Largest cell-state fraction-bit count (Q15: |c| < 1).
pub const MAX_CELL_FRAC_BITS: u8 = 15;
/// Weight rows per interleaved block (see [Weight blocks](self#weight-blocks)).
pub const BLOCK_ROWS: usize = 4;
/// Layer 0's stored row width: [`N_FEATURES`] rounded up to whole 4-byte groups.
pub const PADDED_FEATURES: usize = N_FEATURES.next_multiple_of(4);
/// Bytes of a gate row's epilogue record: input-path mult, recurrent-path mult, bias.
pub const ROW_RECORD: usize = 12;

/// Bytes after the labels that bring the input parameters to a multiple of 4.
const LABEL_PAD: usize = (HEADER_LEN + N_GENRES * LABEL_RECORD).next_multiple_of(4)
    - (HEADER_LEN + N_GENRES * LABEL_RECORD);
/// Bytes of one layer's section for a stored row width of `width`.
const fn layer_len(width: usize) -> usize {
    4 + GATES * width + GATES * HIDDEN + GATES * (ROW_RECORD + 2)
}
/// Bytes of the head section.
const HEAD_LEN: usize = N_GENRES * HIDDEN + N_GENRES * (4 + 1 + 4);
/// Exact size of a blob for this configuration.
pub const BLOB_LEN: usize = HEADER_LEN
    + N_GENRES * LABEL_RECORD
    + LABEL_PAD
    + N_FEATURES * 8
    + layer_len(PADDED_FEATURES)
    + layer_len(HIDDEN)
    + HEAD_LEN
    + 4;
// Every section of both layers starts at a multiple of 4 (for the kernels' word loads).
const _: () = assert!((HEADER_LEN + N_GENRES * LABEL_RECORD + LABEL_PAD).is_multiple_of(4));
const _: () = assert!(layer_len(PADDED_FEATURES).is_multiple_of(4) && HIDDEN.is_multiple_of(4));
const _: () = assert!(GATES.is_multiple_of(BLOCK_ROWS));

const CRC32: crc::Crc<u32> = crc::Crc::<u32>::new(&crc::CRC_32_ISO_HDLC);

/// CRC-32 (ISO-HDLC, the zlib/PNG one) of `bytes`, as stored in the blob's last 4 bytes.
#[must_use]
pub fn crc32(bytes: &[u8]) -> u32 {
    CRC32.checksum(bytes)
}

/// Why a blob was rejected. Each is a distinct, checkable kind; none is a panic.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum FormatError {
    /// Shorter than the header.
    Truncated {
        /// Bytes needed.
        needed: usize,
        /// Bytes given.
        actual: usize,
    },
    /// Does not start with [`MAGIC`].
    BadMagic,
    /// A format version this build cannot read.
    UnsupportedVersion {
        /// Version in the blob.
        found: u16,
    },
    /// On the Cortex-M4F build, whose kernels load the weights as words: the blob does not
    /// start at a multiple of 4 bytes (embed or copy it aligned).
    Misaligned,
    /// Trained for another feature/model configuration.
    ConfigMismatch {
        /// This build's [`FINGERPRINT`].
        expected: u32,
        /// The blob's.
        found: u32,
    },
    /// Header dimensions differ from this build's although the fingerprint matches.
    Dimensions,
    /// Total size differs from [`BLOB_LEN`].
    Length {
        /// Bytes expected.
        expected: usize,
        /// Bytes given.
        actual: usize,
    },
    /// The stored CRC-32 does not match the content.
    Crc {
        /// CRC stored in the blob.
        stored: u32,
        /// CRC computed over the content.
        computed: u32,
    },
    /// A label is empty or longer than [`MAX_LABEL_LEN`].
    LabelLength {
        /// Genre index.
        genre: usize,
    },
    /// A label is not UTF-8.
    LabelUtf8 {
        /// Genre index.
        genre: usize,
    },
    /// Bytes after a label are not zero.
    LabelPadding {
        /// Genre index.
        genre: usize,
    },
    /// An input mean or multiplier is NaN or infinite.
    NonFinite {
        /// Feature index.
        feature: usize,
    },
    /// A cell-state fraction-bit count outside 6..=15.
    CellFormat {
        /// Layer index.
        layer: usize,
        /// Value in the blob.
        frac_bits: u8,
    },
    /// A requantisation shift outside 1..=62.
    Shift {
        /// Section ("layer0.x", "layer1.h", "head", ...).
        section: &'static str,
        /// Row index.
        row: usize,
        /// Value in the blob.
        shift: u8,
    },
    /// A negative requantisation multiplier.
    Multiplier {
        /// Section, as for [`FormatError::Shift`].
        section: &'static str,
        /// Row index.
        row: usize,
    },
}

impl core::fmt::Display for FormatError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match *self {
            Self::Truncated { needed, actual } => {
                write!(
                    f,
                    "weights blob truncated: {actual} bytes, header needs {needed}"
                )
            }
            Self::BadMagic => write!(f, "not a tinygenre weights blob (bad magic)"),
            Self::UnsupportedVersion { found } if found < VERSION => write!(
                f,
                "weights blob has format version {found}, which predates the version {VERSION} \
                 layout this build reads: re-export it (host-train, or \
                 tests/generators/convert_v1_to_v2.py for a version 1 blob)"
            ),
            Self::UnsupportedVersion { found } => write!(
                f,
                "weights format version {found} is newer than this build's {VERSION}"
            ),
            Self::Misaligned => write!(
                f,
                "weights blob does not start at a multiple of 4 bytes (the DSP kernels need it)"
            ),
            Self::ConfigMismatch { expected, found } => write!(
                f,
                "weights are for configuration {found:#010x}, this build is {expected:#010x}"
            ),
            Self::Dimensions => write!(f, "weights header dimensions differ from this build"),
            Self::Length { expected, actual } => {
                write!(f, "weights blob is {actual} bytes, expected {expected}")
            }
            Self::Crc { stored, computed } => write!(
                f,
                "weights CRC mismatch: stored {stored:#010x}, computed {computed:#010x}"
            ),
            Self::LabelLength { genre } => write!(f, "label {genre}: length not in 1..=16"),
            Self::LabelUtf8 { genre } => write!(f, "label {genre}: not UTF-8"),
            Self::LabelPadding { genre } => write!(f, "label {genre}: non-zero padding"),
            Self::NonFinite { feature } => {
                write!(f, "input parameters of feature {feature} are not finite")
            }
            Self::CellFormat { layer, frac_bits } => {
                write!(
                    f,
                    "layer {layer}: cell fraction bits {frac_bits} not in 6..=15"
                )
            }
            Self::Shift {
                section,
                row,
                shift,
            } => write!(f, "{section} row {row}: shift {shift} not in 1..=62"),
            Self::Multiplier { section, row } => {
                write!(f, "{section} row {row}: negative multiplier")
            }
        }
    }
}

impl core::error::Error for FormatError {}

/// Little-endian `i32` from a 4-byte chunk (callers pass `chunks_exact(4)` items).
#[inline]
pub(crate) fn le_i32(b: &[u8]) -> i32 {
    let mut a = [0u8; 4];
    a.copy_from_slice(b);
    i32::from_le_bytes(a)
}

/// Little-endian `f32` from a 4-byte chunk.
#[inline]
fn le_f32(b: &[u8]) -> f32 {
    f32::from_bits(le_i32(b) as u32)
}

/// Splits the blob into sections; lengths were checked before, so `take` cannot run short.
struct Cursor<'a> {
    rest: &'a [u8],
}

impl<'a> Cursor<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], FormatError> {
        if n > self.rest.len() {
            return Err(FormatError::Truncated {
                needed: n,
                actual: self.rest.len(),
            });
        }
        let (head, rest) = self.rest.split_at(n);
        self.rest = rest;
        Ok(head)
    }
}

/// Requantisation rows of the head: multipliers (`i32` LE), then shifts.
#[derive(Clone, Copy, Debug)]
pub(crate) struct RequantRows<'a> {
    mult: &'a [u8],
    shift: &'a [u8],
}

/// Checks one requantisation factor of row `row` of `section`.
fn check_requant(q: Requant, section: &'static str, row: usize) -> Result<(), FormatError> {
    if q.mult < 0 {
        return Err(FormatError::Multiplier { section, row });
    }
    if !q.is_valid() {
        return Err(FormatError::Shift {
            section,
            row,
            shift: q.shift,
        });
    }
    Ok(())
}

impl<'a> RequantRows<'a> {
    fn read(c: &mut Cursor<'a>, rows: usize, section: &'static str) -> Result<Self, FormatError> {
        let r = Self {
            mult: c.take(rows * 4)?,
            shift: c.take(rows)?,
        };
        for row in 0..rows {
            check_requant(r.get(row), section, row)?;
        }
        Ok(r)
    }

    /// Row `row`'s factor.
    ///
    /// # Panics
    /// If `row` is out of range (internal callers iterate over the parsed row count).
    #[inline]
    pub(crate) fn get(&self, row: usize) -> Requant {
        Requant {
            mult: le_i32(&self.mult[4 * row..4 * row + 4]),
            shift: self.shift[row],
        }
    }
}

/// One layer's parsed section (the version 2 layout of the table above).
#[derive(Clone, Copy, Debug)]
pub(crate) struct LayerView<'a> {
    pub(crate) cell_frac_bits: u32,
    /// `w_ih` in blocks, `GATES` rows of the stored width.
    pub(crate) w_ih: &'a [u8],
    /// `w_hh` in blocks.
    pub(crate) w_hh: &'a [u8],
    /// Per row: input-path mult, recurrent-path mult, bias ([`ROW_RECORD`] bytes).
    pub(crate) records: &'a [u8],
    /// Per row: input-path shift, recurrent-path shift.
    pub(crate) shifts: &'a [u8],
}

impl<'a> LayerView<'a> {
    fn read(c: &mut Cursor<'a>, layer: usize, width: usize) -> Result<Self, FormatError> {
        let frac_bits = c.take(4)?[0];
        if !(MIN_CELL_FRAC_BITS..=MAX_CELL_FRAC_BITS).contains(&frac_bits) {
            return Err(FormatError::CellFormat { layer, frac_bits });
        }
        let v = Self {
            cell_frac_bits: u32::from(frac_bits),
            w_ih: c.take(GATES * width)?,
            w_hh: c.take(GATES * HIDDEN)?,
            records: c.take(GATES * ROW_RECORD)?,
            shifts: c.take(GATES * 2)?,
        };
        let sections = if layer == 0 {
            ["layer0.x", "layer0.h"]
        } else {
            ["layer1.x", "layer1.h"]
        };
        for (path, section) in sections.into_iter().enumerate() {
            for row in 0..GATES {
                check_requant(v.requant(row, path), section, row)?;
            }
        }
        Ok(v)
    }

    /// The factor of row `row` on `path` (0: input, 1: recurrent).
    ///
    /// # Panics
    /// If `row >= GATES` or `path > 1`.
    #[inline]
    pub(crate) fn requant(&self, row: usize, path: usize) -> Requant {
        let at = ROW_RECORD * row + 4 * path;
        Requant {
            mult: le_i32(&self.records[at..at + 4]),
            shift: self.shifts[2 * row + path],
        }
    }
}

/// The head's parsed section.
#[derive(Clone, Copy, Debug)]
pub(crate) struct HeadView<'a> {
    pub(crate) w: &'a [u8],
    pub(crate) requant: RequantRows<'a>,
    pub(crate) bias: &'a [u8],
}

/// A validated, zero-copy view of a weights blob.
#[derive(Clone, Copy, Debug)]
pub struct Model<'a> {
    labels: &'a [u8],
    input_mean: &'a [u8],
    input_mul: &'a [u8],
    pub(crate) layers: [LayerView<'a>; N_LAYERS],
    pub(crate) head: HeadView<'a>,
}

impl<'a> Model<'a> {
    /// Checks `bytes` completely and returns a view borrowing it. Runs once at start-up
    /// (~60 kB CRC plus ~1 k row checks); afterwards no step can fail.
    ///
    /// # Errors
    /// Every malformed blob gives one [`FormatError`]: header problems first (truncated,
    /// magic, version, alignment on the Cortex-M4F, fingerprint, dimensions), then the size,
    /// the CRC, and the contents.
    pub fn parse(bytes: &'a [u8]) -> Result<Self, FormatError> {
        if bytes.len() < HEADER_LEN {
            return Err(FormatError::Truncated {
                needed: HEADER_LEN,
                actual: bytes.len(),
            });
        }
        if bytes[0..4] != MAGIC {
            return Err(FormatError::BadMagic);
        }
        let version = u16::from_le_bytes([bytes[4], bytes[5]]);
        if version != VERSION {
            return Err(FormatError::UnsupportedVersion { found: version });
        }
        #[cfg(arm_dsp)]
        if !(bytes.as_ptr() as usize).is_multiple_of(4) {
            return Err(FormatError::Misaligned);
        }
        let found = le_i32(&bytes[12..16]) as u32;
        if found != FINGERPRINT {
            return Err(FormatError::ConfigMismatch {
                expected: FINGERPRINT,
                found,
            });
        }
        let dims_ok = usize::from(u16::from_le_bytes([bytes[6], bytes[7]])) == N_FEATURES
            && usize::from(u16::from_le_bytes([bytes[8], bytes[9]])) == HIDDEN
            && usize::from(bytes[10]) == N_LAYERS
            && usize::from(bytes[11]) == N_GENRES;
        if !dims_ok {
            return Err(FormatError::Dimensions);
        }
        if bytes.len() != BLOB_LEN {
            return Err(FormatError::Length {
                expected: BLOB_LEN,
                actual: bytes.len(),
            });
        }
        let (content, stored) = bytes.split_at(BLOB_LEN - 4);
        let stored = le_i32(stored) as u32;
        let computed = crc32(content);
        if stored != computed {
            return Err(FormatError::Crc { stored, computed });
        }

        let mut c = Cursor {
            rest: &content[HEADER_LEN..],
        };
        let labels = c.take(N_GENRES * LABEL_RECORD)?;
        for (genre, rec) in labels.chunks_exact(LABEL_RECORD).enumerate() {
            let len = usize::from(rec[0]);
            if len == 0 || len > MAX_LABEL_LEN {
                return Err(FormatError::LabelLength { genre });
            }
            let (text, pad) = rec[1..].split_at(len);
            if core::str::from_utf8(text).is_err() {
                return Err(FormatError::LabelUtf8 { genre });
            }
            if pad.iter().any(|&b| b != 0) {
                return Err(FormatError::LabelPadding { genre });
            }
        }
        c.take(LABEL_PAD)?;
        let input_mean = c.take(N_FEATURES * 4)?;
        let input_mul = c.take(N_FEATURES * 4)?;
        for (feature, (m, k)) in input_mean
            .chunks_exact(4)
            .zip(input_mul.chunks_exact(4))
            .enumerate()
        {
            if !le_f32(m).is_finite() || !le_f32(k).is_finite() {
                return Err(FormatError::NonFinite { feature });
            }
        }
        let layer0 = LayerView::read(&mut c, 0, PADDED_FEATURES)?;
        let layer1 = LayerView::read(&mut c, 1, HIDDEN)?;
        let head = HeadView {
            w: c.take(N_GENRES * HIDDEN)?,
            requant: RequantRows::read(&mut c, N_GENRES, "head")?,
            bias: c.take(N_GENRES * 4)?,
        };
        Ok(Self {
            labels,
            input_mean,
            input_mul,
            layers: [layer0, layer1],
            head,
        })
    }

    /// Number of genres (logits) the model gives.
    #[must_use]
    pub const fn n_genres(&self) -> usize {
        N_GENRES
    }

    /// Name of genre `genre`, or `""` for an index ≥ [`Model::n_genres`].
    #[must_use]
    pub fn label(&self, genre: usize) -> &'a str {
        let Some(rec) = self.labels.chunks_exact(LABEL_RECORD).nth(genre) else {
            return "";
        };
        let len = usize::from(rec[0]).min(MAX_LABEL_LEN);
        // Parse checked the UTF-8; the fallback is unreachable.
        core::str::from_utf8(&rec[1..=len]).unwrap_or("")
    }

    /// Input mean of `feature` (pre-normalisation units).
    ///
    /// # Panics
    /// If `feature >= N_FEATURES`.
    #[must_use]
    pub fn input_mean(&self, feature: usize) -> f32 {
        le_f32(&self.input_mean[4 * feature..4 * feature + 4])
    }

    /// Input multiplier of `feature`: `1 / (std · input_scale)`.
    ///
    /// # Panics
    /// If `feature >= N_FEATURES`.
    #[must_use]
    pub fn input_mul(&self, feature: usize) -> f32 {
        le_f32(&self.input_mul[4 * feature..4 * feature + 4])
    }

    /// Cell-state fraction bits of `layer` (the cell is Q(15-n).n in an `i16`).
    ///
    /// # Panics
    /// If `layer >= N_LAYERS`.
    #[must_use]
    pub fn cell_frac_bits(&self, layer: usize) -> u32 {
        self.layers[layer].cell_frac_bits
    }
}

#[cfg(feature = "std")]
pub use host::{write, QuantHead, QuantLayer, QuantParams};

/// The host side: owned parameters, the writer, and reading a blob back into them.
#[cfg(feature = "std")]
mod host {
    use super::{
        crc32, le_i32, FormatError, Model, BLOB_LEN, BLOCK_ROWS, LABEL_PAD, LABEL_RECORD, MAGIC,
        PADDED_FEATURES, ROW_RECORD, VERSION,
    };
    use crate::config::{FINGERPRINT, HIDDEN, MAX_LABEL_LEN, N_FEATURES, N_GENRES, N_LAYERS};
    use crate::fixed::Requant;
    use crate::lstm::GATES;
    use std::string::{String, ToString};
    use std::vec::Vec;

    /// One quantised layer, as stored in the blob.
    #[derive(Clone, Debug, PartialEq)]
    pub struct QuantLayer<const IN: usize> {
        /// Cell-state fraction bits (6..=15).
        pub cell_frac_bits: u8,
        /// Input weights, per-row scaled.
        pub w_ih: [[i8; IN]; GATES],
        /// Recurrent weights, per-row scaled.
        pub w_hh: [[i8; HIDDEN]; GATES],
        /// Input-path accumulator → Q16 gate pre-activation.
        pub requant_x: [Requant; GATES],
        /// Recurrent-path accumulator → Q16 gate pre-activation.
        pub requant_h: [Requant; GATES],
        /// `b_ih + b_hh` in Q16.
        pub bias: [i32; GATES],
    }

    /// The quantised head.
    #[derive(Clone, Debug, PartialEq)]
    pub struct QuantHead {
        /// Weights, per-row scaled.
        pub w: [[i8; HIDDEN]; N_GENRES],
        /// Accumulator → Q16 logit.
        pub requant: [Requant; N_GENRES],
        /// Bias in Q16.
        pub bias: [i32; N_GENRES],
    }

    /// Everything a blob holds, owned (what [`crate::quant::quantize`] produces).
    #[derive(Clone, Debug, PartialEq)]
    pub struct QuantParams {
        /// Genre names, 1..=16 bytes of UTF-8 each.
        pub labels: [String; N_GENRES],
        /// Input mean per feature.
        pub input_mean: [f32; N_FEATURES],
        /// Input multiplier per feature (`1 / (std · scale)`).
        pub input_mul: [f32; N_FEATURES],
        /// Layer 0.
        pub layer0: QuantLayer<N_FEATURES>,
        /// Layer 1.
        pub layer1: QuantLayer<HIDDEN>,
        /// Head.
        pub head: QuantHead,
    }

    /// Offset of row `r`, column `k` in a block-interleaved section of stored row width
    /// `width` (see [Weight blocks](super#weight-blocks)).
    const fn block_offset(width: usize, r: usize, k: usize) -> usize {
        (r / BLOCK_ROWS) * BLOCK_ROWS * width + (k / 4) * 16 + (r % BLOCK_ROWS) * 4 + k % 4
    }

    /// Appends `rows` in blocks, each row zero-padded to `width` bytes.
    fn put_blocks<const W: usize>(out: &mut Vec<u8>, rows: &[[i8; W]; GATES], width: usize) {
        let start = out.len();
        out.resize(start + GATES * width, 0);
        for (r, row) in rows.iter().enumerate() {
            for (k, &v) in row.iter().enumerate() {
                out[start + block_offset(width, r, k)] = v as u8;
            }
        }
    }

    fn put_requant(out: &mut Vec<u8>, rows: &[Requant]) {
        for r in rows {
            out.extend_from_slice(&r.mult.to_le_bytes());
        }
        out.extend(rows.iter().map(|r| r.shift));
    }

    fn put_i32(out: &mut Vec<u8>, v: &[i32]) {
        for x in v {
            out.extend_from_slice(&x.to_le_bytes());
        }
    }

    fn put_layer<const IN: usize>(out: &mut Vec<u8>, l: &QuantLayer<IN>, width: usize) {
        out.extend_from_slice(&[l.cell_frac_bits, 0, 0, 0]);
        put_blocks(out, &l.w_ih, width);
        put_blocks(out, &l.w_hh, HIDDEN);
        for r in 0..GATES {
            put_i32(out, &[l.requant_x[r].mult, l.requant_h[r].mult, l.bias[r]]);
        }
        for r in 0..GATES {
            out.extend_from_slice(&[l.requant_x[r].shift, l.requant_h[r].shift]);
        }
    }

    /// Serialises `p` and checks the result with [`Model::parse`], so a returned blob always
    /// loads.
    ///
    /// # Errors
    /// The [`FormatError`] parse reports, e.g. [`FormatError::LabelLength`] for a label over
    /// 16 bytes or [`FormatError::Shift`] for an invalid [`Requant`].
    pub fn write(p: &QuantParams) -> Result<Vec<u8>, FormatError> {
        let mut out = Vec::with_capacity(BLOB_LEN);
        out.extend_from_slice(&MAGIC);
        out.extend_from_slice(&VERSION.to_le_bytes());
        out.extend_from_slice(&(N_FEATURES as u16).to_le_bytes());
        out.extend_from_slice(&(HIDDEN as u16).to_le_bytes());
        out.push(N_LAYERS as u8);
        out.push(N_GENRES as u8);
        out.extend_from_slice(&FINGERPRINT.to_le_bytes());
        for (genre, label) in p.labels.iter().enumerate() {
            let b = label.as_bytes();
            if b.is_empty() || b.len() > MAX_LABEL_LEN {
                return Err(FormatError::LabelLength { genre });
            }
            let mut rec = [0u8; LABEL_RECORD];
            rec[0] = b.len() as u8;
            rec[1..=b.len()].copy_from_slice(b);
            out.extend_from_slice(&rec);
        }
        out.extend_from_slice(&[0; LABEL_PAD]);
        for v in &p.input_mean {
            out.extend_from_slice(&v.to_le_bytes());
        }
        for v in &p.input_mul {
            out.extend_from_slice(&v.to_le_bytes());
        }
        put_layer(&mut out, &p.layer0, PADDED_FEATURES);
        put_layer(&mut out, &p.layer1, HIDDEN);
        out.extend(p.head.w.iter().flatten().map(|&v| v as u8));
        put_requant(&mut out, &p.head.requant);
        put_i32(&mut out, &p.head.bias);
        let crc = crc32(&out);
        out.extend_from_slice(&crc.to_le_bytes());
        Model::parse(&out)?;
        Ok(out)
    }

    fn i8_rows<const W: usize, const R: usize>(b: &[u8]) -> [[i8; W]; R] {
        core::array::from_fn(|r| core::array::from_fn(|k| b[r * W + k] as i8))
    }

    fn i32s<const R: usize>(b: &[u8]) -> [i32; R] {
        core::array::from_fn(|r| le_i32(&b[4 * r..4 * r + 4]))
    }

    /// Reads `R` rows of `W` values out of a block-interleaved section of stored width `width`.
    fn blocks<const W: usize, const R: usize>(b: &[u8], width: usize) -> [[i8; W]; R] {
        core::array::from_fn(|r| core::array::from_fn(|k| b[block_offset(width, r, k)] as i8))
    }

    fn layer<const IN: usize>(m: &Model<'_>, l: usize, width: usize) -> QuantLayer<IN> {
        let v = &m.layers[l];
        QuantLayer {
            cell_frac_bits: v.cell_frac_bits as u8,
            w_ih: blocks(v.w_ih, width),
            w_hh: blocks(v.w_hh, HIDDEN),
            requant_x: core::array::from_fn(|r| v.requant(r, 0)),
            requant_h: core::array::from_fn(|r| v.requant(r, 1)),
            bias: core::array::from_fn(|r| {
                le_i32(&v.records[ROW_RECORD * r + 8..ROW_RECORD * r + 12])
            }),
        }
    }

    impl Model<'_> {
        /// Copies the blob's contents out (inverse of [`write()`]).
        #[must_use]
        pub fn to_params(&self) -> QuantParams {
            QuantParams {
                labels: core::array::from_fn(|g| self.label(g).to_string()),
                input_mean: core::array::from_fn(|j| self.input_mean(j)),
                input_mul: core::array::from_fn(|j| self.input_mul(j)),
                layer0: layer(self, 0, PADDED_FEATURES),
                layer1: layer(self, 1, HIDDEN),
                head: QuantHead {
                    w: i8_rows(self.head.w),
                    requant: core::array::from_fn(|g| self.head.requant.get(g)),
                    bias: i32s(self.head.bias),
                },
            }
        }
    }
}
