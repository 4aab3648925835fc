//! A Cortex-M0+ image whose only model work is [`QuantEngine::step`] and the running
//! decision ([`RunningDecision::push`]). The blob comes through
//! `black_box` (empty here: the image is linked and inspected, never run), so parsing and
//! stepping are compiled in as for any blob.
//! `scripts/firmware-m0` links it for thumbv6m-none-eabi (no FPU) and checks that the code
//! reachable from `step_once` calls no soft-float routine (`__aeabi_f*`, `__aeabi_d*`): the
//! integer engine must stay integer-only on parts without an FPU.
#![no_std]
#![no_main]

use core::hint::black_box;
use core::panic::PanicInfo;

use cortex_m_rt::entry;
use genre_core::config::{N_FEATURES, N_GENRES};
use genre_core::decision::RunningDecision;
use genre_core::format::Model;
use genre_core::quant::QuantEngine;

#[entry]
fn main() -> ! {
    let Ok(model) = Model::parse(black_box(&[])) else {
        panic!("weights")
    };
    let mut engine = QuantEngine::new();
    step_once(&mut engine, &model, &black_box([0; N_FEATURES]));
    black_box(&engine);
    let mut running = RunningDecision::new();
    decide_once(&mut running, &black_box([0; N_GENRES]));
    black_box(&running);
    loop {
        cortex_m::asm::wfi();
    }
}

/// The function whose call graph the check inspects.
#[inline(never)]
#[no_mangle]
fn step_once(engine: &mut QuantEngine, model: &Model<'_>, input: &[i8; N_FEATURES]) {
    engine.step(model, input);
}

/// The running decision after a window: integer-only too.
#[inline(never)]
#[no_mangle]
fn decide_once(running: &mut RunningDecision, logits: &[i32; N_GENRES]) {
    black_box(running.push(0, logits));
}

#[panic_handler]
fn panic(_: &PanicInfo) -> ! {
    cortex_m::asm::udf()
}
