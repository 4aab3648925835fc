//! `kernel-check`: on the emulated Cortex-M4F, the Arm DSP kernels (`genre_core::arch::arm_dsp`)
//! against the portable ones (`genre_core::arch::portable`): the dot products on random weight
//! blocks and inputs plus the extremes (every weight ±127, every input at full scale), and the
//! gate epilogue (both activations) on random accumulators and factors plus the extremes (the
//! accumulators' and multipliers' limits, shifts 1, 32, 33 and 62, biases at the `i32` rails).
//! The cell update on random gates and cells plus the rails (every gate and cell at ±32767
//! and -32768, `i`, `f`, `o` at 0 or 32767 with `g` and `c` at the rails), for every cell
//! fraction-bit count the format allows. The `f32` dot product on random lengths (every
//! remainder of its blocks of eight) and values of every magnitude, subnormals included,
//! compared bit for bit: both round each product, then each sum, in index order. And
//! `Model::parse` must refuse a blob that is not word-aligned (the kernels' `ldm` needs it).
//! Integer sums are exact and the epilogue follows the same formulas, so the two must agree
//! bit for bit. Prints `kernel-check: N passed, M failed` and exits 0 only when nothing failed.
#![no_std]
#![no_main]

use cortex_m_rt::entry;
use genre_core::arch::{arm_dsp, portable, Activation, GateBlocks, GateOperand};
use genre_core::config::{HIDDEN, N_FEATURES};
use genre_core::format::{
    FormatError, Model, HEADER_LEN, MAGIC, MAX_CELL_FRAC_BITS, MIN_CELL_FRAC_BITS, PADDED_FEATURES,
    ROW_RECORD, VERSION,
};
use genre_core::lstm::GATES;
use semihosting::{println, process};
// The shared panic handler.
use tinygenre_qemu as _;

/// Random trials per kernel (the extremes come on top).
const TRIALS: u32 = 300;
/// Groups of four values per row: layer 0's padded features, a hidden state.
const X_GROUPS: usize = PADDED_FEATURES / 4;
const H_GROUPS: usize = HIDDEN / 4;

/// A 32-bit xorshift generator: reproducible cases without a dependency.
struct XorShift(u32);

impl XorShift {
    fn next(&mut self) -> u32 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 17;
        self.0 ^= self.0 << 5;
        self.0
    }

    /// An `i8` weight byte; case 0 all +127, case 1 all -127 (as `u8`), else random.
    fn weight(&mut self, case: u32) -> u8 {
        match case {
            0 => 127,
            1 => (-127i8) as u8,
            _ => self.next() as u8,
        }
    }

    /// A Q15 value in ±32767, at the rails for cases 0 and 1.
    fn q15(&mut self, case: u32) -> i16 {
        match case {
            0 => 32767,
            1 => -32767,
            _ => ((self.next() % 65535) as i32 - 32767) as i16,
        }
    }

    /// One of `values`, chosen at random.
    /// A finite `f32` of either sign with a random exponent between 2^-100 and 2^60 (products
    /// and sums stay finite), or a subnormal or zero one time in sixteen.
    fn float(&mut self) -> f32 {
        let bits = self.next();
        let exponent = if bits & 0xf == 0 {
            0
        } else {
            27 + self.next() % 160
        };
        f32::from_bits((bits & 0x807f_fff0) | (exponent << 23))
    }

    fn pick<T: Copy>(&mut self, values: &[T]) -> T {
        values[self.next() as usize % values.len()]
    }
}

/// Weight blocks and records, word-aligned like a parsed blob's sections.
#[repr(C, align(4))]
struct Buffers {
    rows_x: [u8; size_of::<GateBlocks<X_GROUPS>>()],
    rows_h: [u8; size_of::<GateBlocks<H_GROUPS>>()],
    records: [u8; HIDDEN * ROW_RECORD],
    /// A blob header one byte off a word boundary.
    header: [u8; 4 + HEADER_LEN],
}

static mut BUFFERS: Buffers = Buffers {
    rows_x: [0; size_of::<GateBlocks<X_GROUPS>>()],
    rows_h: [0; size_of::<GateBlocks<H_GROUPS>>()],
    records: [0; HIDDEN * ROW_RECORD],
    header: [0; 4 + HEADER_LEN],
};

#[entry]
fn main() -> ! {
    // Safety: the only reference to this static, taken once in a single-threaded program
    // without interrupt handlers that touch it (kept off the 8 KiB-deep stack).
    let buffers = unsafe { &mut *core::ptr::addr_of_mut!(BUFFERS) };
    let mut rng = XorShift(0x2026_1128);
    let (mut passed, mut failed) = (0u32, 0u32);
    let header = &mut buffers.header[1..];
    header[..4].copy_from_slice(&MAGIC);
    header[4..6].copy_from_slice(&VERSION.to_le_bytes());
    let refused = matches!(Model::parse(header), Err(FormatError::Misaligned));
    count(
        refused,
        0,
        "Model::parse accepted a blob one byte off a word boundary",
        &mut passed,
        &mut failed,
    );
    for case in 0..TRIALS + 2 {
        // Layer 0: features against its weight blocks.
        buffers
            .rows_x
            .iter_mut()
            .for_each(|w| *w = rng.weight(case));
        let (rows_x, _) = buffers.rows_x.as_chunks::<16>();
        let rows_x: &GateBlocks<X_GROUPS> = rows_x
            .as_chunks::<X_GROUPS>()
            .0
            .try_into()
            .expect("one gate");
        let x: [i8; N_FEATURES] = core::array::from_fn(|_| match case {
            0 | 1 => 127,
            _ => (rng.next() % 255) as i8 as i16 as i8,
        });
        let (mut dsp, mut reference) = ([0i32; HIDDEN], [0i32; HIDDEN]);
        arm_dsp::FeatureOperand::new(&x).dot_gate(rows_x, &mut dsp);
        portable::FeatureOperand::new(&x).dot_gate(rows_x, &mut reference);
        count(
            dsp == reference,
            case,
            "features: DSP and portable dot products differ",
            &mut passed,
            &mut failed,
        );

        // Layer 1 and the recurrences: a packed hidden state.
        buffers
            .rows_h
            .iter_mut()
            .for_each(|w| *w = rng.weight(case));
        let (rows_h, _) = buffers.rows_h.as_chunks::<16>();
        let rows_h: &GateBlocks<H_GROUPS> = rows_h
            .as_chunks::<H_GROUPS>()
            .0
            .try_into()
            .expect("one gate");
        let h: [u32; HIDDEN / 2] = core::array::from_fn(|_| {
            let (lo, hi) = (rng.q15(case), rng.q15(case));
            u32::from(lo as u16) | (u32::from(hi as u16) << 16)
        });
        arm_dsp::HiddenOperand::new(&h).dot_gate(rows_h, &mut dsp);
        portable::HiddenOperand::new(&h).dot_gate(rows_h, &mut reference);
        count(
            dsp == reference,
            case,
            "hidden: DSP and portable dot products differ",
            &mut passed,
            &mut failed,
        );

        // The gate epilogue: the accumulators just computed, or the limits.
        let acc_limit = 127 * 32767 * HIDDEN as i32;
        let acc: [[i32; HIDDEN]; 2] = match case {
            0 => [[acc_limit; HIDDEN]; 2],
            1 => [[-acc_limit; HIDDEN]; 2],
            _ => [
                reference,
                core::array::from_fn(|_| rng.next() as i32 % acc_limit),
            ],
        };
        let records = &mut buffers.records;
        let mut shifts = [[0u8; 2]; HIDDEN];
        for (rec, sh) in records
            .as_chunks_mut::<ROW_RECORD>()
            .0
            .iter_mut()
            .zip(&mut shifts)
        {
            for (k, field) in rec.as_chunks_mut::<4>().0.iter_mut().enumerate() {
                let v: i32 = match (case, k) {
                    (0, 2) => i32::MAX,
                    (1, 2) => i32::MIN,
                    (0 | 1, _) => i32::MAX,
                    (_, 2) => {
                        let random = rng.next() as i32 >> 12;
                        rng.pick(&[i32::MAX, i32::MIN, random])
                    }
                    _ => {
                        let random = (rng.next() >> 1) as i32;
                        rng.pick(&[0, 1 << 30, i32::MAX, random])
                    }
                };
                *field = v.to_le_bytes();
            }
            for s in sh.iter_mut() {
                *s = match case {
                    0 => 1,
                    1 => 62,
                    _ => {
                        let random = 1 + (rng.next() % 62) as u8;
                        rng.pick(&[1, 32, 33, 62, random])
                    }
                };
            }
        }
        let records: &[[u8; ROW_RECORD]; HIDDEN] = records
            .as_chunks::<ROW_RECORD>()
            .0
            .try_into()
            .expect("one gate");
        for act in [Activation::Sigmoid, Activation::Tanh] {
            let (mut dsp, mut reference) = ([0i16; HIDDEN], [0i16; HIDDEN]);
            arm_dsp::gate_outputs(act, &acc, records, &shifts, &mut dsp);
            portable::gate_outputs(act, &acc, records, &shifts, &mut reference);
            count(
                dsp == reference,
                case,
                "DSP and portable gate epilogues differ",
                &mut passed,
                &mut failed,
            );
        }
    }
    // The cell update: cases 0-3 at the rails, then random.
    for case in 0..TRIALS / 4 + 4 {
        let (gates, c): ([i16; GATES], [i16; HIDDEN]) = match case {
            0 => ([i16::MAX; GATES], [i16::MAX; HIDDEN]),
            1 => ([-i16::MAX; GATES], [-i16::MAX; HIDDEN]),
            2 => ([i16::MIN; GATES], [i16::MIN; HIDDEN]),
            3 => (
                // Gates as the engine makes them: i, f, o at 0 or 32767, g and c at ±32767.
                core::array::from_fn(|k| match k / HIDDEN {
                    2 => rng.pick(&[i16::MAX, -i16::MAX]),
                    _ => rng.pick(&[0, i16::MAX]),
                }),
                core::array::from_fn(|_| rng.pick(&[i16::MAX, -i16::MAX, 0])),
            ),
            _ => (
                core::array::from_fn(|_| rng.next() as i16),
                core::array::from_fn(|_| rng.next() as i16),
            ),
        };
        for n in MIN_CELL_FRAC_BITS..=MAX_CELL_FRAC_BITS {
            let (mut c_dsp, mut c_ref) = (c, c);
            let (mut h_dsp, mut h_ref) = ([0u32; HIDDEN / 2], [0u32; HIDDEN / 2]);
            arm_dsp::cell_update(&gates, &mut c_dsp, &mut h_dsp, u32::from(n));
            portable::cell_update(&gates, &mut c_ref, &mut h_ref, u32::from(n));
            count(
                c_dsp == c_ref && h_dsp == h_ref,
                case,
                "DSP and portable cell updates differ",
                &mut passed,
                &mut failed,
            );
        }
    }
    // The f32 dot product of the filterbanks and the DCT.
    const FLOATS: usize = 260;
    for case in 0..TRIALS {
        let len = rng.next() as usize % (FLOATS + 1);
        let a: [f32; FLOATS] = core::array::from_fn(|_| rng.float());
        let b: [f32; FLOATS] = core::array::from_fn(|_| rng.float());
        let acc = rng.float();
        let (dsp, reference) = (
            arm_dsp::dot_f32(acc, &a[..len], &b),
            portable::dot_f32(acc, &a[..len], &b),
        );
        count(
            dsp.to_bits() == reference.to_bits(),
            case,
            "DSP and portable f32 dot products differ",
            &mut passed,
            &mut failed,
        );
    }
    println!("kernel-check: {passed} passed, {failed} failed");
    process::exit(if failed == 0 && passed > 0 { 0 } else { 1 })
}

fn count(ok: bool, case: u32, what: &str, passed: &mut u32, failed: &mut u32) {
    if ok {
        *passed += 1;
    } else {
        *failed += 1;
        println!("FAIL case {case}: {what}");
    }
}
