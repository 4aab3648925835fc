//! Pins of the supported boards.
//!
//! Arduino Nano 33 BLE Sense (Arduino `variants/ARDUINO_NANO33BLE/variant.cpp`): PDM CLK P0.26,
//! DIN P0.25, microphone power P0.17 (high = on); RGB LED red P0.24, green P0.16, blue P0.06,
//! active low.
//!
//! Seeed XIAO nRF52840 Sense (feature `xiao`; Seeed's Adafruit-core variant): PDM CLK P1.00,
//! DIN P0.16, microphone power P1.10 (high = on); RGB LED red P0.26, green P0.30, blue P0.06,
//! active low.
use embassy_nrf::gpio::AnyPin;
use embassy_nrf::peripherals::{PDM, PWM0};
use embassy_nrf::{Peri, Peripherals};

/// The peripherals and pins the application uses.
pub struct Board {
    /// PDM interface of the microphone.
    pub pdm: Peri<'static, PDM>,
    /// PDM clock output.
    pub pdm_clk: Peri<'static, AnyPin>,
    /// PDM data input.
    pub pdm_din: Peri<'static, AnyPin>,
    /// Microphone supply switch (drive high).
    pub mic_power: Peri<'static, AnyPin>,
    /// PWM generator for the LED.
    pub pwm: Peri<'static, PWM0>,
    /// Red LED cathode (active low).
    pub led_red: Peri<'static, AnyPin>,
    /// Green LED cathode (active low).
    pub led_green: Peri<'static, AnyPin>,
    /// Blue LED cathode (active low).
    pub led_blue: Peri<'static, AnyPin>,
}

impl Board {
    /// Takes the board's peripherals out of `p`.
    #[cfg(not(feature = "xiao"))]
    pub fn new(p: Peripherals) -> Self {
        Self {
            pdm: p.PDM,
            pdm_clk: p.P0_26.into(),
            pdm_din: p.P0_25.into(),
            mic_power: p.P0_17.into(),
            pwm: p.PWM0,
            led_red: p.P0_24.into(),
            led_green: p.P0_16.into(),
            led_blue: p.P0_06.into(),
        }
    }

    /// Takes the board's peripherals out of `p`.
    #[cfg(feature = "xiao")]
    pub fn new(p: Peripherals) -> Self {
        Self {
            pdm: p.PDM,
            pdm_clk: p.P1_00.into(),
            pdm_din: p.P0_16.into(),
            mic_power: p.P1_10.into(),
            pwm: p.PWM0,
            led_red: p.P0_26.into(),
            led_green: p.P0_30.into(),
            led_blue: p.P0_06.into(),
        }
    }
}
