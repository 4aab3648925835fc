//! tinygenre on QEMU's mps2-an386 (Cortex-M4F).
//!
//! `tinygenre-qemu FILE.raw [--bench]` (arguments via semihosting's command line): streams the
//! 16 kHz mono little-endian i16 PCM file from the host in DMA-sized blocks through
//! `genre_core::stream` (the same code the host runs) and prints, per window, the line
//! `window <index> <label> <l0> … <l9>` and the running decision's line
//! `running <index> <label> <n>/10 <m0> … <m9>` on semihosting stdout. `--bench` adds the measured costs (SysTick under `-icount shift=0`, see [`clock`])
//! and the peak stack. Exit status: 0 on success, 1 on bad arguments or I/O errors, 2 when
//! the embedded weights do not parse.
#![no_std]
#![no_main]

use core::ffi::CStr;

use cortex_m_rt::entry;
use genre_core::format::Model;
use genre_core::stream::Stream;
use heapless::String;
use semihosting::{fs::File, io::Read, process};
use static_cell::StaticCell;
use tinygenre_qemu::{clock, print_line, stack};
use tinygenre_weights::WEIGHTS;

/// Samples per block, as one half of a double-buffered DMA capture would deliver them.
const BLOCK: usize = 256;
/// Longest PCM path accepted on the command line, in bytes.
const MAX_PATH: usize = 512;

/// The stream's state lives in `.bss` (zeroed at reset, written in place at start), not on
/// the stack, and costs no flash for an initial image as a `.data` static would.
static STREAM: StaticCell<Stream> = StaticCell::new();

#[entry]
fn main() -> ! {
    let painted = stack::paint();
    let Some(mut core) = cortex_m::Peripherals::take() else {
        fail(1, "error: the core peripherals were taken twice")
    };
    let watch = clock::SysTickWatch::start(&mut core.SYST);

    let mut path = [0u8; MAX_PATH + 1];
    let (path, bench) = match parse_args(&mut path) {
        Ok(args) => args,
        Err(message) => fail(1, message),
    };
    let Ok(model) = Model::parse(WEIGHTS) else {
        // The reason (a `FormatError`) is printed by the host: `tinygenre predict --weights`.
        fail(2, "error: the embedded weights do not parse")
    };
    let Ok(mut file) = File::open(path) else {
        fail(1, "error: cannot open the PCM file")
    };

    let stream = STREAM.init_with(Stream::new);
    let mut bytes = [0u8; 2 * BLOCK];
    let mut pcm = [0i16; BLOCK];
    loop {
        let n = match read_block(&mut file, &mut bytes) {
            Ok(n) => n,
            Err(_) => fail(1, "error: reading the PCM file failed"),
        };
        let samples = n / 2;
        for (sample, le) in pcm.iter_mut().zip(bytes[..2 * samples].chunks_exact(2)) {
            *sample = i16::from_le_bytes([le[0], le[1]]);
        }
        stream.push(&model, &pcm[..samples], &watch, |window, running| {
            print_line(&window.line(&model), false);
            print_line(&running.line(&model), false);
        });
        if n < bytes.len() {
            break;
        }
    }

    if bench {
        report(stream, &watch, &painted);
    }
    process::exit(0)
}

/// Reads the PCM path and the `--bench` flag; the path is copied NUL-terminated into `buf`.
fn parse_args(buf: &mut [u8; MAX_PATH + 1]) -> Result<(&CStr, bool), &'static str> {
    const USAGE: &str = "usage: tinygenre-qemu FILE.raw [--bench]";
    let Ok(args) = semihosting::experimental::env::args::<1024>() else {
        return Err("error: no semihosting command line (QEMU -semihosting-config arg=...)");
    };
    let mut path = None;
    let mut bench = false;
    for arg in (&args).skip(1) {
        match arg {
            Ok("--bench") => bench = true,
            Ok(p) if path.is_none() && !p.is_empty() && p.len() <= MAX_PATH => path = Some(p),
            _ => return Err(USAGE),
        }
    }
    let path = path.ok_or(USAGE)?;
    buf[..path.len()].copy_from_slice(path.as_bytes());
    buf[path.len()] = 0;
    CStr::from_bytes_until_nul(&buf[..])
        .map(|p| (p, bench))
        .map_err(|_| USAGE)
}

/// Fills `buf` from the file; fewer bytes than its length only at the end of the file.
fn read_block(file: &mut File, buf: &mut [u8]) -> semihosting::io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match file.read(&mut buf[filled..])? {
            0 => break,
            n => filled += n,
        }
    }
    Ok(filled)
}

/// One line of the cost report: `bench <name>: ` and then `parts`, numbers in decimal.
fn bench_line(name: &str, parts: &[Part<'_>]) {
    let mut line = String::<128>::new();
    // The longest report line is 90 bytes.
    for text in ["bench ", name, ": "] {
        line.push_str(text).ok();
    }
    for part in parts {
        match *part {
            Part::Text(text) => line.push_str(text).ok(),
            Part::Int(n) => line.push_str(itoa::Buffer::new().format(n)).ok(),
        };
    }
    print_line(&line, false);
}

/// A piece of a [`bench_line`].
enum Part<'a> {
    Text(&'a str),
    Int(u32),
}

/// Prints the cost report: instructions per hop for the frontend and the LSTM, per window
/// end, and the peak stack.
fn report(stream: &Stream, watch: &clock::SysTickWatch, painted: &stack::Painted) {
    use Part::{Int, Text};
    let calibration = watch.calibrate();
    let per_tick = calibration.per_tick();
    let costs = stream.costs();
    let insns = |ticks: u32| Int(ticks.saturating_mul(per_tick));
    bench_line(
        "systick",
        &[
            Int(calibration.instructions),
            Text(" instructions in "),
            Int(calibration.ticks),
            Text(" ticks = "),
            Int(per_tick),
            Text(" instructions per tick"),
        ],
    );
    bench_line("hops", &[Int(costs.frames)]);
    bench_line(
        "frontend",
        &[
            insns(costs.frontend_per_hop()),
            Text(" instructions per hop (mean), "),
            insns(costs.frontend_block.max),
            Text(" per 256-sample block (max)"),
        ],
    );
    bench_line(
        "lstm",
        &[
            insns(costs.lstm_per_hop()),
            Text(" instructions per hop (mean), "),
            insns(costs.lstm_frame.max),
            Text(" (max)"),
        ],
    );
    bench_line(
        "window-end",
        &[
            insns(costs.window_end.max),
            Text(" instructions per window (max)"),
        ],
    );
    bench_line("stack", &[Int(painted.peak() as u32), Text(" bytes peak")]);
}

/// Prints `message` on semihosting stderr and exits with `status`.
fn fail(status: i32, message: &str) -> ! {
    print_line(message, true);
    process::exit(status)
}
