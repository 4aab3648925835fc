//! What both QEMU images (`tinygenre-qemu`, `kernel-check`) share: instruction counting
//! ([`clock`]), peak-stack measurement ([`stack`]), line output on semihosting
//! ([`print_line`]) and a panic handler, none of which links `core::fmt`.
#![no_std]

pub mod clock;
pub mod stack;

use core::panic::PanicInfo;

use semihosting::io::Write;
use semihosting::process;

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

/// Prints `panicked at <file>:<line>` on stderr and exits with [`PANIC_STATUS`]. The message
/// is not printed: formatting it would link `core::fmt`, 5 KiB of flash.
#[panic_handler]
fn panic(info: &PanicInfo<'_>) -> ! {
    let mut line = heapless::String::<128>::new();
    line.push_str("panicked at ").ok();
    if let Some(at) = info.location() {
        let file = at.file();
        // The tail of a long path is the informative part.
        let file = file.get(file.len().saturating_sub(96)..).unwrap_or(file);
        line.push_str(file).ok();
        line.push_str(":").ok();
        line.push_str(itoa::Buffer::new().format(at.line())).ok();
    }
    print_line(&line, true);
    process::exit(PANIC_STATUS)
}
