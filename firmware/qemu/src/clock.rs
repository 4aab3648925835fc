//! Instruction counting with SysTick.
//!
//! Under QEMU's `-icount shift=0` every executed instruction advances the virtual clock by
//! exactly 1 ns, and the mps2-an386 clocks SysTick (processor clock source) at its 25 MHz
//! SYSCLK, so the counter decrements once per 40 instructions. [`SysTickWatch::calibrate`]
//! checks that relation at run time with a loop of known length instead of assuming it.
use cortex_m::peripheral::{syst::SystClkSource, SYST};
use genre_core::stream::Stopwatch;

/// SysTick's counter is 24 bits wide; it runs free from this reload value.
const RELOAD: u32 = 0x00FF_FFFF;

/// Reads the free-running SysTick counter.
pub struct SysTickWatch(());

impl SysTickWatch {
    /// Starts SysTick free-running from the processor clock, without interrupts.
    pub fn start(syst: &mut SYST) -> Self {
        syst.set_clock_source(SystClkSource::Core);
        syst.set_reload(RELOAD);
        syst.clear_current();
        syst.disable_interrupt();
        syst.enable_counter();
        Self(())
    }

    /// Instructions per SysTick tick, measured on a loop of `2 × ITERATIONS` instructions.
    pub fn calibrate(&self) -> Calibration {
        const ITERATIONS: u32 = 1_000_000;
        let start = self.mark();
        spin(ITERATIONS);
        let ticks = self.elapsed(start).max(1);
        Calibration {
            instructions: 2 * ITERATIONS,
            ticks,
        }
    }
}

/// A calibration run: `instructions` executed while SysTick advanced `ticks`.
pub struct Calibration {
    /// Instructions in the calibration loop.
    pub instructions: u32,
    /// SysTick ticks it took.
    pub ticks: u32,
}

impl Calibration {
    /// Instructions per tick, rounded to the nearest integer.
    pub fn per_tick(&self) -> u32 {
        (self.instructions + self.ticks / 2) / self.ticks
    }
}

impl Stopwatch for SysTickWatch {
    type Mark = u32;

    fn mark(&self) -> u32 {
        SYST::get_current()
    }

    /// Ticks since `since`; intervals must be shorter than one 2^24-tick wrap (≈ 671 M
    /// instructions).
    fn elapsed(&self, since: u32) -> u32 {
        since.wrapping_sub(SYST::get_current()) & RELOAD
    }
}

/// Executes exactly `2 × iterations` instructions (`subs` + `bne` per iteration).
fn spin(iterations: u32) {
    // SAFETY: the loop only decrements its own register and sets the flags (declared
    // clobbered by default); it touches no memory and no stack.
    unsafe {
        core::arch::asm!(
            "2:",
            "subs {n}, {n}, #1",
            "bne 2b",
            n = inout(reg) iterations => _,
            options(nomem, nostack),
        );
    }
}
