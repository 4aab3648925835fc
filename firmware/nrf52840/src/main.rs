//! tinygenre on an nRF52840 board: the PDM microphone at 16 kHz, double-buffered, feeds the
//! shared `genre_core::stream`; every 3-second window logs its genre (or `silence` /
//! `no-music`) and the running decision over the last 30 s of music, or "no music", over
//! defmt-rtt, and the RGB LED shows the running decision's genre, dark for no music. (The
//! confidences left the log to keep the image within issue #12's flash target: the softmax's
//! `expf` cost 524 bytes; the QEMU image's lines carry the logits.)
//!
//! Boards: Arduino Nano 33 BLE Sense (default) or Seeed XIAO nRF52840 Sense (`--features
//! xiao`); see `board.rs` for the pins and `README.md` for flashing.
#![no_std]
#![no_main]

mod board;
mod led;

use defmt::info;
use embassy_executor::Spawner;
use embassy_nrf::config::HfclkSource;
use embassy_nrf::gpio::{Level, Output, OutputDrive};
use embassy_nrf::pdm::{self, Frequency, Pdm, Ratio, SamplerState};
use embassy_nrf::{bind_interrupts, peripherals};
use embassy_time::Timer;
use genre_core::format::Model;
use genre_core::stream::Stream;
use static_cell::{ConstStaticCell, StaticCell};
use tinygenre_weights::WEIGHTS;
use {defmt_rtt as _, panic_probe as _};

bind_interrupts!(struct Irqs {
    PDM => pdm::InterruptHandler<peripherals::PDM>;
});

/// Samples per DMA buffer: 16 ms at 16 kHz. The stream must finish a block (at most one
/// hop's frontend and LSTM step) before the other buffer fills.
const BLOCK: usize = 256;

/// The stream's state and the two capture buffers live in `.bss`, not on the stack (the
/// stream is written in place at start, so it needs no initial image in flash).
static STREAM: StaticCell<Stream> = StaticCell::new();
static BUFFERS: ConstStaticCell<[[i16; BLOCK]; 2]> = ConstStaticCell::new([[0; BLOCK]; 2]);

#[embassy_executor::main]
async fn main(_spawner: Spawner) {
    // The PDM clock derives from HFCLK: run it from the 32 MHz crystal both boards carry, not
    // the less accurate internal oscillator, so the sample rate is 16 kHz within crystal ppm.
    let mut config = embassy_nrf::config::Config::default();
    config.hfclk_source = HfclkSource::ExternalXtal;
    let p = embassy_nrf::init(config);
    let board = board::Board::new(p);

    let model = match Model::parse(WEIGHTS) {
        Ok(model) => model,
        Err(e) => defmt::panic!("the embedded weights do not parse: {}", e),
    };

    let mut led = led::RgbLed::new(board.pwm, board.led_red, board.led_green, board.led_blue);
    let _mic_power = Output::new(board.mic_power, Level::High, OutputDrive::HighDrive);
    // The MP34DT05/MSM261 microphones need a few ms after power-up before data is valid.
    Timer::after_millis(10).await;

    // PDM clock 32 MHz / 25 = 1.280 MHz, decimated by 80: exactly 16 kHz (the default clock,
    // 1.032 MHz, would give 12.9 kHz).
    let config = pdm::Config {
        frequency: Frequency::_1280k,
        ratio: Ratio::Ratio80,
        ..Default::default()
    };
    let mut mic = Pdm::new(board.pdm, Irqs, board.pdm_clk, board.pdm_din, config);

    info!(
        "tinygenre: listening at 16 kHz, {} samples per buffer",
        BLOCK
    );
    let stream = STREAM.init_with(Stream::new);
    let result = mic
        .run_task_sampler(BUFFERS.take(), |block| {
            stream.push(&model, block, &(), |window, running| {
                let heard = if window.heard.is_music() {
                    model.label(window.top1)
                } else {
                    window.heard.name()
                };
                match running.genre {
                    Some(genre) => info!(
                        "window {}: {} | last {} of 10 windows: {}",
                        window.index,
                        heard,
                        running.windows,
                        model.label(genre)
                    ),
                    None => info!("window {}: {} | no music", window.index, heard),
                }
                // The LED shows the running decision, which changes only with a clear lead, and
                // goes dark when there is no music.
                led.show(running.genre);
            });
            SamplerState::Sampled
        })
        .await;
    if let Err(e) = result {
        defmt::panic!("PDM capture failed: {}", e);
    }
}
