//! Peak stack use: paint the free stack with a pattern at start, find the deepest word that
//! no longer holds it at the end.
use core::ptr;

/// The painted value; a stack word equal to it is taken as never written.
const PATTERN: u32 = 0x57AC_C0DE;
/// Bytes painted below the stack pointer at [`paint`]; a report of this much means "at least".
const PAINT_BYTES: usize = 64 * 1024;
/// Bytes right below the stack pointer left alone for `paint`'s own frame.
const MARGIN: usize = 256;

extern "C" {
    /// Initial stack pointer (top of RAM), from cortex-m-rt's `link.x`.
    static _stack_start: u32;
}

/// The painted range of the stack.
pub struct Painted {
    /// Initial stack pointer.
    top: usize,
    /// Lowest painted address.
    bottom: usize,
}

/// Paints `PAINT_BYTES` of stack below the current stack pointer. Call first thing in main.
pub fn paint() -> Painted {
    let top = ptr::addr_of!(_stack_start) as usize;
    let end = cortex_m::register::msp::read() as usize - MARGIN;
    let bottom = end - PAINT_BYTES;
    for addr in (bottom..end).step_by(4) {
        // SAFETY: [bottom, end) lies below every live frame (the stack grows down and `end`
        // is below this function's frame) and above the statics (4 MiB RAM, a few KiB used),
        // so nothing live is overwritten; the address is word aligned.
        unsafe { ptr::write_volatile(addr as *mut u32, PATTERN) };
    }
    Painted { top, bottom }
}

impl Painted {
    /// Deepest stack use so far, in bytes from the initial stack pointer.
    pub fn peak(&self) -> usize {
        let mut addr = self.bottom;
        // SAFETY: reads word-aligned RAM inside the painted range.
        while addr < self.top && unsafe { ptr::read_volatile(addr as *const u32) } == PATTERN {
            addr += 4;
        }
        self.top - addr
    }
}
