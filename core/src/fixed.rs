//! Fixed-point primitives of the integer engine ([`crate::quant`]): requantisation by an
//! integer multiplier and shift, rounding shifts, and sigmoid/tanh from one interpolated table.
//! All of it is integer-only, so it runs unchanged on a Cortex-M0+.
//!
//! | item | format |
//! |---|---|
//! | [`Requant`] | real factor `mult · 2^-shift`, `mult` in `[2^30, 2^31)` (or 0), `shift` in `1..=62` |
//! | [`tanh_q15`] / [`sigmoid_q15`] input | `i32` with a caller-given number of fraction bits |
//! | their output | Q15 (`i16`, value · 2^15), tanh in `[-32767, 32767]`, sigmoid in `[0, 32767]` |
//! | [`TANH_TABLE`] | Q15 `round(tanh(k / 64) · 2^15)` for `k = 0..=512` (x in `[0, 8]`), capped at 32767 |
//!
//! Rounding is round-half-up everywhere (`(x + 2^(n-1)) >> n`, an arithmetic shift), so a
//! tie goes towards +∞; results saturate to the target type instead of wrapping.
//!
//! Accuracy (checked exhaustively by `tests/tests/engine_fixed.rs` against an f64 reference):
//! [`tanh_q15`] is within 2 LSB of `tanh` (table rounding ½, interpolation error ≤ ¾ for a
//! 2^-6 grid since |tanh''| ≤ 0.77, interpolation rounding ½, the cap at 8 ¼) and
//! [`sigmoid_q15`] within 2 LSB of the logistic function.

/// Fraction bits of the engine's activations (gates, hidden state): Q15.
pub const ACT_FRAC_BITS: u32 = 15;
/// The table samples tanh every `2^-TANH_STEP_BITS`.
pub const TANH_STEP_BITS: u32 = 6;
/// Table intervals: the table covers `[0, TANH_INTERVALS · 2^-TANH_STEP_BITS]` = `[0, 8]`.
pub const TANH_INTERVALS: usize = 512;
/// Largest fraction-bit count [`tanh_q15`] accepts (keeps the interpolation product in `u32`).
pub const MAX_FRAC_BITS: u32 = 26;

/// `tanh` on `[0, 8]` in Q15 at steps of 1/64, computed at compile time by the const fn `tanh_table`.
pub const TANH_TABLE: [i16; TANH_INTERVALS + 1] = tanh_table();
// `tanh_q15` returns 32767 for every |x| ≥ 8 without reading the last entry.
const _: () = assert!(TANH_TABLE[TANH_INTERVALS] == i16::MAX);

/// `exp(-y)` for `y` in `[0, 16]`, in f64 at compile time: Taylor series of `exp(-y/32)`
/// (|y/32| ≤ ½, 24 terms, error below f64 rounding) squared five times (relative error
/// ≈ 32 ULP, far below the ½-LSB-of-Q15 rounding it feeds).
const fn exp_neg(y: f64) -> f64 {
    let t = -y / 32.0;
    let mut term = 1.0;
    let mut sum = 1.0;
    let mut k = 1;
    while k < 24 {
        term = term * t / (k as f64);
        sum += term;
        k += 1;
    }
    let mut i = 0;
    while i < 5 {
        sum *= sum;
        i += 1;
    }
    sum
}

/// Builds [`TANH_TABLE`]: `round(tanh(k/64) · 2^15)`, capped at 32767, with
/// `tanh(x) = (1 - e^{-2x}) / (1 + e^{-2x})`.
const fn tanh_table() -> [i16; TANH_INTERVALS + 1] {
    let mut table = [0i16; TANH_INTERVALS + 1];
    let mut k = 0;
    while k <= TANH_INTERVALS {
        let x = k as f64 / (1u32 << TANH_STEP_BITS) as f64;
        let e = exp_neg(2.0 * x);
        let t = (1.0 - e) / (1.0 + e);
        // Non-negative, so truncating `v + 0.5` rounds half up.
        let v = (t * 32768.0 + 0.5) as i32;
        table[k] = if v > i16::MAX as i32 {
            i16::MAX
        } else {
            v as i16
        };
        k += 1;
    }
    table
}

/// A real, non-negative scale factor as `mult · 2^-shift` (the usual integer requantisation).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Requant {
    /// Mantissa, in `[2^30, 2^31)`, or 0 for a zero factor.
    pub mult: i32,
    /// Right shift applied to the 64-bit product, in [`Requant::MIN_SHIFT`]`..=`[`Requant::MAX_SHIFT`].
    pub shift: u8,
}

impl Requant {
    /// Smallest shift a valid [`Requant`] has.
    pub const MIN_SHIFT: u8 = 1;
    /// Largest shift a valid [`Requant`] has.
    pub const MAX_SHIFT: u8 = 62;

    /// Whether `mult` and `shift` are in range, i.e. [`requantize`] is defined for them.
    #[must_use]
    pub const fn is_valid(self) -> bool {
        self.mult >= 0 && self.shift >= Self::MIN_SHIFT && self.shift <= Self::MAX_SHIFT
    }

    /// The nearest representable factor to `real` (host-side, at export).
    ///
    /// Returns `None` when `real` is negative, not finite, or outside what `mult` and
    /// `shift` can express (about `2^-32 .. 2^30`). Zero maps to `mult = 0`.
    #[cfg(feature = "std")]
    #[must_use]
    pub fn from_real(real: f64) -> Option<Self> {
        if !real.is_finite() || real < 0.0 {
            return None;
        }
        if real == 0.0 {
            return Some(Self { mult: 0, shift: 31 });
        }
        // real = f · 2^e with f in [0.5, 1).
        let e = real.log2().floor() as i32 + 1;
        let mut f = real / 2f64.powi(e);
        let mut e = e;
        if f >= 1.0 {
            f /= 2.0;
            e += 1;
        }
        if f < 0.5 {
            f *= 2.0;
            e -= 1;
        }
        let mut mult = (f * 2f64.powi(31)).round() as i64;
        let mut shift = 31 - e;
        if mult == 1 << 31 {
            mult >>= 1;
            shift -= 1;
        }
        let r = Self {
            mult: i32::try_from(mult).ok()?,
            shift: u8::try_from(shift).ok()?,
        };
        r.is_valid().then_some(r)
    }

    /// The factor as a float (host-side diagnostics and tests).
    #[cfg(feature = "std")]
    #[must_use]
    pub fn to_real(self) -> f64 {
        f64::from(self.mult) * 2f64.powi(-i32::from(self.shift))
    }
}

/// `round(acc · mult · 2^-shift)`, rounding half up, saturated to `i32`.
///
/// # Panics
/// Never for a [`Requant::is_valid`] factor (the weights parser rejects every other one);
/// a shift of 0 or ≥ 64 would overflow the shift in debug builds.
#[inline]
#[must_use]
pub fn requantize(acc: i32, r: Requant) -> i32 {
    let shift = u32::from(r.shift);
    // `prod = acc · mult`: |prod| ≤ 2^62 and the rounding term ≤ 2^61, no i64 overflow. It is
    // formed in each branch, so that the second one is a single multiply-accumulate.
    if shift > 32 {
        // The usual case (weight scales are far below 1). With `hi = floor(prod / 2^32)`,
        // `t = shift - 32`: `floor((prod + 2^(shift-1)) / 2^shift)
        // = floor((hi + 2^(t-1) + lo / 2^32) / 2^t) = (hi + 2^(t-1)) >> t`, as `lo / 2^32`
        // is a fraction below 1 added to an integer; and with `hi = a · 2^(t-1) + b`,
        // `0 ≤ b < 2^(t-1)`, that is `floor((a + 1) / 2 + b / 2^t) = (a + 1) >> 1` (b / 2^t
        // is below ½). |hi| ≤ 2^30, so nothing overflows and the result needs no
        // saturation: on a Cortex-M4 one multiply, two shifts and an add instead of 64-bit
        // shifts and compares.
        let hi = ((i64::from(acc) * i64::from(r.mult)) >> 32) as i32;
        ((hi >> (shift - 33)) + 1) >> 1
    } else {
        // Factors from 2^-32 up (layer 0's input side): 32-bit halves instead of a 64-bit
        // shift. `p >> shift` is `top · 2^32 + low` (low as u32); it fits `i32` exactly when
        // `top` is the sign extension of `low`, else it saturates towards the sign of `p`.
        // One multiply-accumulate (`smlal` on Arm) with the rounding term.
        let p = i64::from(1u32 << (shift - 1)) + i64::from(acc) * i64::from(r.mult);
        let hi = (p >> 32) as i32;
        if shift == 32 {
            return hi;
        }
        let low = ((p as u32) >> shift) | ((hi as u32) << (32 - shift));
        let top = hi >> shift;
        if top == (low as i32) >> 31 {
            low as i32
        } else if p < 0 {
            i32::MIN
        } else {
            i32::MAX
        }
    }
}

/// `round(x · 2^-n)`, rounding half up, for `n` in `1..=31` and `x + 2^(n-1)` within `i32`.
#[inline]
#[must_use]
pub const fn round_shr(x: i32, n: u32) -> i32 {
    (x + (1 << (n - 1))) >> n
}

/// Saturates an `i32` to the symmetric `i16` range `[-32767, 32767]` (so negation never overflows).
#[inline]
#[must_use]
pub const fn sat_i16(x: i32) -> i16 {
    if x > i16::MAX as i32 {
        i16::MAX
    } else if x < -(i16::MAX as i32) {
        -i16::MAX
    } else {
        x as i16
    }
}

/// `tanh(x · 2^-frac_bits)` in Q15, by linear interpolation in [`TANH_TABLE`]; saturates to
/// ±32767 beyond |x| ≥ 8. Odd-symmetric, so `tanh_q15(-x) == -tanh_q15(x)`.
///
/// `frac_bits` must be in `TANH_STEP_BITS..=MAX_FRAC_BITS` (6..=26); callers pass constants
/// or values the weights parser validated.
///
/// # Panics
/// In debug builds, for `frac_bits` outside that range (shift overflow).
#[inline]
#[must_use]
pub fn tanh_q15(x: i32, frac_bits: u32) -> i16 {
    let a = x.unsigned_abs();
    let s = frac_bits - TANH_STEP_BITS;
    let idx = (a >> s) as usize;
    // From the table's last entry on (|x| ≥ 8) the result is its value, 32767; below it
    // `idx + 1` is in range, so one compare guards both reads.
    let y: i32 = if idx >= TANH_INTERVALS {
        i32::from(i16::MAX)
    } else if s == 0 {
        i32::from(TANH_TABLE[idx])
    } else {
        let (t0, t1) = (TANH_TABLE[idx], TANH_TABLE[idx + 1]);
        let frac = a & ((1u32 << s) - 1);
        // t1 ≥ t0 and t1 - t0 ≤ 512, frac < 2^20: the product fits u32.
        let diff = (i32::from(t1) - i32::from(t0)) as u32;
        i32::from(t0) + ((diff * frac + (1u32 << (s - 1))) >> s) as i32
    };
    let y = y as i16;
    if x < 0 {
        -y
    } else {
        y
    }
}

/// The logistic function `1 / (1 + e^{-x})` of `x · 2^-frac_bits`, in Q15, as
/// `(1 + tanh(x/2)) / 2` so that it shares [`TANH_TABLE`]; the result is in `[0, 32767]`.
///
/// `frac_bits` must be in `TANH_STEP_BITS - 1..MAX_FRAC_BITS` (5..=25).
///
/// # Panics
/// In debug builds, for `frac_bits` outside that range.
#[inline]
#[must_use]
pub fn sigmoid_q15(x: i32, frac_bits: u32) -> i16 {
    // x/2 with one more fraction bit is the same integer.
    let t = i32::from(tanh_q15(x, frac_bits + 1));
    let v = (32768 + t + 1) >> 1;
    if v > i32::from(i16::MAX) {
        i16::MAX
    } else {
        v as i16
    }
}
