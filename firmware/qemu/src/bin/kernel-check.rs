//! `kernel-check`: on the emulated Cortex-M4F, the Arm DSP dot-product kernels
//! (`genre_core::arch::arm_dsp`) against the portable ones (`genre_core::arch::portable`), on
//! random weight rows and inputs plus the extremes (every weight ±127, every input at full
//! scale). Integer sums are exact, so the two must agree bit for bit. Prints
//! `kernel-check: N passed, M failed` and exits 0 only when nothing failed.
#![no_std]
#![no_main]

use cortex_m_rt::entry;
use genre_core::arch::{arm_dsp, portable, GateOperand};
use genre_core::config::{HIDDEN, N_FEATURES};
use semihosting::{println, process};
// The shared panic handler.
use tinygenre_qemu as _;

/// Random trials per operand kind (the extremes come on top).
const TRIALS: u32 = 300;

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
}

static mut ROWS_X: [[u8; N_FEATURES]; HIDDEN] = [[0; N_FEATURES]; HIDDEN];
static mut ROWS_H: [[u8; HIDDEN]; HIDDEN] = [[0; HIDDEN]; HIDDEN];

#[entry]
fn main() -> ! {
    // Safety: the only references to these statics, taken once in a single-threaded program
    // without interrupt handlers that touch them (kept off the 8 KiB-deep stack).
    let (rows_x, rows_h) = unsafe {
        (
            &mut *core::ptr::addr_of_mut!(ROWS_X),
            &mut *core::ptr::addr_of_mut!(ROWS_H),
        )
    };
    let mut rng = XorShift(0x2026_1128);
    let (mut passed, mut failed) = (0u32, 0u32);
    for case in 0..TRIALS + 2 {
        // Layer 0: features against its weight rows.
        for row in rows_x.iter_mut() {
            row.iter_mut().for_each(|w| *w = rng.weight(case));
        }
        let x: [i8; N_FEATURES] = core::array::from_fn(|_| match case {
            0 => 127,
            1 => 127,
            _ => (rng.next() % 255) as i8 as i16 as i8,
        });
        let (mut dsp, mut reference) = ([0i32; HIDDEN], [0i32; HIDDEN]);
        arm_dsp::FeatureOperand::new(&x).dot_gate(rows_x, &mut dsp);
        portable::FeatureOperand::new(&x).dot_gate(rows_x, &mut reference);
        count(dsp == reference, case, "features", &mut passed, &mut failed);

        // Layer 1 and the recurrences: a packed hidden state.
        for row in rows_h.iter_mut() {
            row.iter_mut().for_each(|w| *w = rng.weight(case));
        }
        let h: [u32; HIDDEN / 2] = core::array::from_fn(|_| {
            let (lo, hi) = (rng.q15(case), rng.q15(case));
            u32::from(lo as u16) | (u32::from(hi as u16) << 16)
        });
        arm_dsp::HiddenOperand::new(&h).dot_gate(rows_h, &mut dsp);
        portable::HiddenOperand::new(&h).dot_gate(rows_h, &mut reference);
        count(dsp == reference, case, "hidden", &mut passed, &mut failed);
    }
    println!("kernel-check: {passed} passed, {failed} failed");
    process::exit(if failed == 0 && passed > 0 { 0 } else { 1 })
}

fn count(ok: bool, case: u32, kind: &str, passed: &mut u32, failed: &mut u32) {
    if ok {
        *passed += 1;
    } else {
        *failed += 1;
        println!("FAIL case {case} ({kind}): DSP and portable dot products differ");
    }
}
