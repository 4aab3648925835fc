//! The RGB LED shows the latest window's genre as a colour (PWM, one channel per colour).
use embassy_nrf::gpio::{AnyPin, Level};
use embassy_nrf::peripherals::PWM0;
use embassy_nrf::pwm::{DutyCycle, SimpleConfig, SimplePwm};
use embassy_nrf::Peri;
use genre_core::config::N_GENRES;

/// Full brightness, in PWM counts.
const MAX_DUTY: u16 = 255;

/// Colour per genre index (red, green, blue; 0..=255), ten clearly different hues.
const COLOURS: [[u8; 3]; N_GENRES] = [
    [0, 0, 255],     // blue
    [255, 96, 0],    // orange
    [0, 255, 0],     // green
    [255, 0, 255],   // magenta
    [255, 255, 255], // white
    [255, 0, 0],     // red
    [255, 255, 0],   // yellow
    [0, 255, 255],   // cyan
    [128, 0, 255],   // violet
    [255, 64, 128],  // pink
];

/// The board's common-anode RGB LED.
pub struct RgbLed {
    pwm: SimplePwm<'static>,
}

impl RgbLed {
    /// Drives the three cathodes from `pwm`, LED off.
    pub fn new(
        pwm: Peri<'static, PWM0>,
        red: Peri<'static, AnyPin>,
        green: Peri<'static, AnyPin>,
        blue: Peri<'static, AnyPin>,
    ) -> Self {
        let mut config = SimpleConfig::default();
        config.max_duty = MAX_DUTY;
        // Active low: an idle (disabled) channel stays high, i.e. dark.
        config.ch0_idle_level = Level::High;
        config.ch1_idle_level = Level::High;
        config.ch2_idle_level = Level::High;
        let mut led = Self {
            pwm: SimplePwm::new_3ch(pwm, red, green, blue, &config),
        };
        led.set([0, 0, 0]);
        led
    }

    /// Shows the colour of genre `genre` (indices past the table wrap around), or goes dark
    /// for `None` (no music).
    pub fn show(&mut self, genre: Option<usize>) {
        self.set(genre.map_or([0, 0, 0], |g| COLOURS[g % N_GENRES]));
    }

    /// Lights each colour for `value / 255` of the PWM period. With normal polarity the pin is
    /// low (LED on) while the counter is below the duty value.
    fn set(&mut self, [r, g, b]: [u8; 3]) {
        let duty = |v: u8| DutyCycle::normal(u16::from(v));
        self.pwm
            .set_all_duties([duty(r), duty(g), duty(b), duty(0)]);
    }
}
