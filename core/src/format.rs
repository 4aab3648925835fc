//! The weights blob (`*.tgm`): a little-endian byte layout read zero-copy by [`Model::parse`]
//! from any `&[u8]` (no alignment assumed, so `include_bytes!` works), and written on the host
//! by `write` (feature `std`).
//!
//! Byte layout (`F` = [`N_FEATURES`], `H` = [`HIDDEN`], `G` = [`N_GENRES`], `R` = 4·H gate rows):
//!
//! | bytes | type | field |
//! |---|---|---|
//! | 4 | `[u8; 4]` | magic [`MAGIC`] `"TGNR"` |
//! | 2 | `u16` | format version [`VERSION`] |
//! | 2 + 2 | `u16`, `u16` | `F`, `H` |
//! | 1 + 1 | `u8`, `u8` | layers (2), `G` |
//! | 4 | `u32` | [`FINGERPRINT`] of the configuration the model was trained for |
//! | G · 17 | `u8` + `[u8; 16]` | labels: byte length 1..=16, UTF-8, zero padding |
//! | F · 4 | `f32` | input mean |
//! | F · 4 | `f32` | input multiplier: `x_q = round((x - mean) · mul)` (normalisation and input scale folded) |
//! | per layer: 1 | `u8` | cell-state fraction bits, 6..=15 |
//! | R · IN | `i8` | `w_ih`, row-major (IN = F for layer 0, H for layer 1) |
//! | R · H | `i8` | `w_hh`, row-major |
//! | R · 4, R | `i32`, `u8` | input-path requantisation: mult, shift per row |
//! | R · 4, R | `i32`, `u8` | recurrent-path requantisation: mult, shift per row |
//! | R · 4 | `i32` | gate bias `b_ih + b_hh`, Q16 |
//! | G · H | `i8` | head weights, row-major |
//! | G · 4, G | `i32`, `u8` | head requantisation: mult, shift per row |
//! | G · 4 | `i32` | head bias, Q16 |
//! | 4 | `u32` | CRC-32 (ISO-HDLC, as zlib/PNG) of every byte before it |
//!
//! The total size is [`BLOB_LEN`]. Requantisation pairs are [`Requant`]s (`mult` ≥ 0, `shift` in
//! 1..=62). What the numbers mean is in [`crate::quant`].

use crate::config::{FINGERPRINT, HIDDEN, MAX_LABEL_LEN, N_FEATURES, N_GENRES, N_LAYERS};
use crate::fixed::Requant;
use crate::lstm::GATES;

/// First four bytes of every blob.
pub const MAGIC: [u8; 4] = *b"TGNR";
/// The one format version this parser reads.
pub const VERSION: u16 = 1;
/// Bytes of the fixed header (magic to fingerprint).
pub const HEADER_LEN: usize = 16;
/// Bytes per label record: length byte and [`MAX_LABEL_LEN`] bytes.
pub const LABEL_RECORD: usize = 1 + MAX_LABEL_LEN;
/// Smallest cell-state fraction-bit count (keeps `tanh_q15`'s interpolation shift ≥ 0).
pub const MIN_CELL_FRAC_BITS: u8 = 6;
/// Largest cell-state fraction-bit count (Q15: |c| < 1).
pub const MAX_CELL_FRAC_BITS: u8 = 15;

/// Bytes of one layer's section for an input width of `input`.
const fn layer_len(input: usize) -> usize {
    1 + GATES * input + GATES * HIDDEN + GATES * (4 + 1 + 4 + 1 + 4)
}
/// Bytes of the head section.
const HEAD_LEN: usize = N_GENRES * HIDDEN + N_GENRES * (4 + 1 + 4);
/// Exact size of a blob for this configuration.
pub const BLOB_LEN: usize = HEADER_LEN
    + N_GENRES * LABEL_RECORD
    + N_FEATURES * 8
    + layer_len(N_FEATURES)
    + layer_len(HIDDEN)
    + HEAD_LEN
    + 4;

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
            Self::UnsupportedVersion { found } => {
                write!(
                    f,
                    "weights format version {found}, this build reads {VERSION}"
                )
            }
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

/// Requantisation rows of one path: multipliers (`i32` LE) and shifts.
#[derive(Clone, Copy, Debug)]
pub(crate) struct RequantRows<'a> {
    mult: &'a [u8],
    shift: &'a [u8],
}

impl<'a> RequantRows<'a> {
    fn read(c: &mut Cursor<'a>, rows: usize, section: &'static str) -> Result<Self, FormatError> {
        let r = Self {
            mult: c.take(rows * 4)?,
            shift: c.take(rows)?,
        };
        for row in 0..rows {
            let q = r.get(row);
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

    /// All rows' factors in order (no per-row bounds check, for the engine's hot loop).
    #[inline]
    pub(crate) fn iter(&self) -> impl Iterator<Item = Requant> + 'a {
        let (mult, shift) = (self.mult, self.shift);
        mult.chunks_exact(4).zip(shift).map(|(m, &shift)| Requant {
            mult: le_i32(m),
            shift,
        })
    }

    /// The rows in groups of `rows` (e.g. one gate's), each a view of its own.
    ///
    /// # Panics
    /// If `rows` is 0.
    #[inline]
    pub(crate) fn groups(&self, rows: usize) -> impl Iterator<Item = RequantRows<'a>> + 'a {
        let (mult, shift) = (self.mult, self.shift);
        mult.chunks_exact(4 * rows)
            .zip(shift.chunks_exact(rows))
            .map(|(mult, shift)| RequantRows { mult, shift })
    }
}

/// One layer's parsed section.
#[derive(Clone, Copy, Debug)]
pub(crate) struct LayerView<'a> {
    pub(crate) cell_frac_bits: u32,
    pub(crate) w_ih: &'a [u8],
    pub(crate) w_hh: &'a [u8],
    pub(crate) requant_x: RequantRows<'a>,
    pub(crate) requant_h: RequantRows<'a>,
    pub(crate) bias: &'a [u8],
}

impl<'a> LayerView<'a> {
    fn read(c: &mut Cursor<'a>, layer: usize, input: usize) -> Result<Self, FormatError> {
        let frac_bits = c.take(1)?[0];
        if !(MIN_CELL_FRAC_BITS..=MAX_CELL_FRAC_BITS).contains(&frac_bits) {
            return Err(FormatError::CellFormat { layer, frac_bits });
        }
        let (sx, sh) = if layer == 0 {
            ("layer0.x", "layer0.h")
        } else {
            ("layer1.x", "layer1.h")
        };
        Ok(Self {
            cell_frac_bits: u32::from(frac_bits),
            w_ih: c.take(GATES * input)?,
            w_hh: c.take(GATES * HIDDEN)?,
            requant_x: RequantRows::read(c, GATES, sx)?,
            requant_h: RequantRows::read(c, GATES, sh)?,
            bias: c.take(GATES * 4)?,
        })
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
    /// magic, version, fingerprint, dimensions), then the size, the CRC, and the contents.
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
        let layer0 = LayerView::read(&mut c, 0, N_FEATURES)?;
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
        crc32, le_i32, FormatError, Model, RequantRows, BLOB_LEN, LABEL_RECORD, MAGIC, VERSION,
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

    fn put_i8_rows<const W: usize>(out: &mut Vec<u8>, rows: &[[i8; W]]) {
        out.extend(rows.iter().flatten().map(|&v| v as u8));
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

    fn put_layer<const IN: usize>(out: &mut Vec<u8>, l: &QuantLayer<IN>) {
        out.push(l.cell_frac_bits);
        put_i8_rows(out, &l.w_ih);
        put_i8_rows(out, &l.w_hh);
        put_requant(out, &l.requant_x);
        put_requant(out, &l.requant_h);
        put_i32(out, &l.bias);
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
        for v in &p.input_mean {
            out.extend_from_slice(&v.to_le_bytes());
        }
        for v in &p.input_mul {
            out.extend_from_slice(&v.to_le_bytes());
        }
        put_layer(&mut out, &p.layer0);
        put_layer(&mut out, &p.layer1);
        put_i8_rows(&mut out, &p.head.w);
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

    fn requants<const R: usize>(rows: &RequantRows<'_>) -> [Requant; R] {
        core::array::from_fn(|r| rows.get(r))
    }

    fn i32s<const R: usize>(b: &[u8]) -> [i32; R] {
        core::array::from_fn(|r| le_i32(&b[4 * r..4 * r + 4]))
    }

    fn layer<const IN: usize>(m: &Model<'_>, l: usize) -> QuantLayer<IN> {
        let v = &m.layers[l];
        QuantLayer {
            cell_frac_bits: v.cell_frac_bits as u8,
            w_ih: i8_rows(v.w_ih),
            w_hh: i8_rows(v.w_hh),
            requant_x: requants(&v.requant_x),
            requant_h: requants(&v.requant_h),
            bias: i32s(v.bias),
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
                layer0: layer(self, 0),
                layer1: layer(self, 1),
                head: QuantHead {
                    w: i8_rows(self.head.w),
                    requant: requants(&self.head.requant),
                    bias: i32s(self.head.bias),
                },
            }
        }
    }
}
