//! What both QEMU images (`tinygenre-qemu`, `kernel-check`) share: instruction counting
//! ([`clock`]), peak-stack measurement ([`stack`]), line output on semihosting
//! ([`print_line`]) and a panic handler, none of which links `core::fmt`.
#![no_std]

pub mod clock;
pub mod stack;

use core::panic::PanicInfo;

use semihosting::io::Write;
use semihosting::process;

extern "C" {
    /// cortex-m-rt's handler for unexpected exceptions and interrupts.
    fn DefaultHandler();
}

/// The device-specific part of the vector table: the QEMU images enable no interrupt, so one
/// entry (cortex-m-rt's `device` feature needs at least one) instead of the 240 that
/// cortex-m-rt supplies without it: 956 bytes less flash.
// Safety: cortex-m-rt's `link.x` places the section `.vector_table.interrupts` (and this
// symbol, which it names) right after the 16 exception vectors; the entry is the default
// handler, as in cortex-m-rt's own table, and no code ever enables interrupt 0.
#[allow(unsafe_code)]
#[link_section = ".vector_table.interrupts"]
#[no_mangle]
pub static __INTERRUPTS: [unsafe extern "C" fn(); 1] = [DefaultHandler];

/// Prints `line` and a newline on semihosting stdout (stderr when `to_stderr`). Output that
/// cannot be written has nowhere to be reported, so failures are ignored.
pub fn print_line(line: &str, to_stderr: bool) {
    let write = |out: &mut dyn Write| {
        out.write_all(line.as_bytes()).ok();
        out.write_all(b"\n").ok();
    };
    if to_stderr {
        if let Ok(mut err) = semihosting::io::stderr() {
            write(&mut err);
        }
    } else if let Ok(mut out) = semihosting::io::stdout() {
        write(&mut out);
    }
}

/// Exit status after a panic (as Rust's test harness uses).
const PANIC_STATUS: i32 = 101;

/// Says that the image panicked and exits with [`PANIC_STATUS`]. Neither the message nor the
/// location is printed: reading either keeps the panic sites' formatting arguments alive and
/// links `core::fmt`, 2.9 KiB of flash. The same input on the host (`tinygenre`) or QEMU's
/// gdb stub (`-s -S`) finds the place.
#[panic_handler]
fn panic(_: &PanicInfo<'_>) -> ! {
    print_line(
        "panicked (location not printed: see tinygenre_qemu's panic handler)",
        true,
    );
    process::exit(PANIC_STATUS)
}
