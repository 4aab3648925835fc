//! Exact integer tests of the fixed-point primitives against f64 / i128 references.

use genre_core::fixed::{
    requantize, round_shr, sat_i16, sigmoid_q15, tanh_q15, Requant, TANH_INTERVALS, TANH_TABLE,
};

/// Every table entry is exactly `min(round(tanh(k/64) · 2^15), 32767)` with libm's f64 tanh:
/// the const-fn construction may not be off by even one LSB.
#[test]
fn tanh_table_is_exactly_rounded() {
    assert_eq!(TANH_TABLE.len(), TANH_INTERVALS + 1);
    for (k, &t) in TANH_TABLE.iter().enumerate() {
        let exact = (libm::tanh(k as f64 / 64.0) * 32768.0).round().min(32767.0) as i16;
        assert_eq!(t, exact, "entry {k}");
    }
}

/// Largest |error| in LSB of `f(x)` vs `reference(x · 2^-frac)` · 2^15 over every `x` in `xs`.
fn max_err(
    xs: impl Iterator<Item = i32>,
    frac: u32,
    f: fn(i32, u32) -> i16,
    r: fn(f64) -> f64,
) -> f64 {
    let scale = 2f64.powi(-(frac as i32));
    xs.map(|x| (f64::from(f(x, frac)) - r(f64::from(x) * scale) * 32768.0).abs())
        .fold(0.0, f64::max)
}

fn sigmoid(x: f64) -> f64 {
    1.0 / (1.0 + libm::exp(-x))
}

/// tanh within 2 LSB of Q15 (bound derived in `fixed`'s docs: table ½ + interpolation ¾ +
/// rounding ½ + cap ¼), exhaustively over the Q16 pre-activations up to ±20 and over every
/// `i16` cell value in each allowed cell format.
#[test]
fn tanh_within_two_lsb() {
    let e = max_err(-(20 << 16)..=(20 << 16), 16, tanh_q15, libm::tanh);
    println!("tanh_q15 Q16 max error {e:.3} LSB");
    assert!(e <= 2.0, "{e}");
    for frac in 6..=15 {
        let e = max_err(-32767..=32767, frac, tanh_q15, libm::tanh);
        println!("tanh_q15 Q{frac} max error {e:.3} LSB");
        assert!(e <= 2.0, "frac {frac}: {e}");
    }
    // Extremes do not overflow and stay odd.
    for x in [i32::MIN, i32::MIN + 1, i32::MAX] {
        assert_eq!(tanh_q15(x, 16).unsigned_abs(), 32767);
    }
    assert_eq!(tanh_q15(-12345, 16), -tanh_q15(12345, 16));
}

/// sigmoid = (1 + tanh(x/2)) / 2 halves the tanh error and adds ½ for rounding: within 2 LSB,
/// exhaustively over Q16 inputs up to ±20.
#[test]
fn sigmoid_within_two_lsb() {
    let e = max_err(-(20 << 16)..=(20 << 16), 16, sigmoid_q15, sigmoid);
    println!("sigmoid_q15 max error {e:.3} LSB");
    assert!(e <= 2.0, "{e}");
    assert_eq!(sigmoid_q15(0, 16), 16384);
    assert_eq!(sigmoid_q15(i32::MAX, 16), 32767);
    // -∞ gives (32768 - 32767 + 1) >> 1 = 1: one LSB above 0, inside the bound.
    assert_eq!(sigmoid_q15(i32::MIN, 16), 1);
}

/// `requantize` is exactly `floor(acc · mult / 2^shift + ½)` saturated, compared with i128
/// arithmetic over seeded random operands, every shift, and the saturation edges.
#[test]
fn requantize_is_exact_round_half_up() {
    let mut s = 0x1234_5678_9abc_def0u64;
    let mut next = || {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        s
    };
    for shift in Requant::MIN_SHIFT..=Requant::MAX_SHIFT {
        for _ in 0..2000 {
            let acc = next() as i32 >> (next() % 31);
            let mult = ((next() >> 33) as i32 & 0x3fff_ffff) | 0x4000_0000;
            let r = Requant { mult, shift };
            let num = i128::from(acc) * i128::from(mult);
            let exact = (num + (1i128 << (shift - 1))) >> shift;
            let exact = exact.clamp(i128::from(i32::MIN), i128::from(i32::MAX)) as i32;
            assert_eq!(
                requantize(acc, r),
                exact,
                "acc {acc} mult {mult} shift {shift}"
            );
        }
    }
    // Ties go up: ±0.5 → 1 and 0.
    let half = Requant {
        mult: 1 << 30,
        shift: 31,
    };
    assert_eq!(requantize(1, half), 1);
    assert_eq!(requantize(-1, half), 0);
    assert_eq!(requantize(3, half), 2);
    assert_eq!(requantize(-3, half), -1);
    // Saturation instead of wrapping.
    let big = Requant {
        mult: i32::MAX,
        shift: 1,
    };
    assert_eq!(requantize(i32::MAX, big), i32::MAX);
    assert_eq!(requantize(i32::MIN, big), i32::MIN);
    assert_eq!(round_shr(3, 1), 2);
    assert_eq!(round_shr(-3, 1), -1);
    assert_eq!(sat_i16(40_000), 32767);
    assert_eq!(sat_i16(-40_000), -32767);
}

/// `from_real` keeps 31 significant bits: relative error ≤ 2^-31 (half an LSB of a mantissa
/// ≥ 2^30), over 60 orders of magnitude.
#[test]
fn requant_from_real_precision() {
    let mut x = 1e-9f64;
    while x < 1e9 {
        let r = Requant::from_real(x).expect("in range");
        assert!(r.is_valid() && r.mult >= 1 << 30, "{x}: {r:?}");
        let rel = (r.to_real() - x).abs() / x;
        assert!(rel <= 2f64.powi(-31), "{x}: rel {rel}");
        x *= 1.37;
    }
    assert_eq!(Requant::from_real(0.0).map(Requant::to_real), Some(0.0));
    assert_eq!(Requant::from_real(-1.0), None);
    assert_eq!(Requant::from_real(f64::NAN), None);
    assert_eq!(Requant::from_real(1e30), None);
}
