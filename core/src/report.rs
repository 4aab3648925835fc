//! The report lines the QEMU firmware prints and `predict --window-logits` prints on the host,
//! built into a fixed-capacity string without `core::fmt`: integers go through `itoa`, so a
//! device image that prints them links none of `core::fmt`'s machinery (about 5 KiB of flash).
//!
//! | line | built by |
//! |---|---|
//! | `window <index> <label> <l0> … <l9>` | [`crate::stream::Window::line`] |
//! | `running <index> <label> <n>/<RUNNING_WINDOWS> <m0> … <m9>` | [`crate::decision::Running::line`] |

use crate::config::{MAX_LABEL_LEN, N_GENRES};

/// Longest `u32` in decimal, in bytes.
const U32_DIGITS: usize = 10;
/// Longest `i32` in decimal (sign included), in bytes.
const I32_DIGITS: usize = 11;
/// Longest report line: `"running "`, index, label, `"255/255"`, and ten signed values, each
/// after a space.
pub const LINE_CAPACITY: usize =
    "running ".len() + U32_DIGITS + 1 + MAX_LABEL_LEN + 1 + 7 + N_GENRES * (1 + I32_DIGITS);

/// One report line, without the newline.
pub type Line = heapless::String<LINE_CAPACITY>;

/// Builds a [`Line`] piece by piece. Every line this crate builds fits [`LINE_CAPACITY`]
/// (the constant is their longest form), so appending never truncates.
pub(crate) struct LineBuilder(Line);

impl LineBuilder {
    /// An empty line.
    pub(crate) const fn new() -> Self {
        Self(Line::new())
    }

    /// Appends `text`.
    pub(crate) fn text(mut self, text: &str) -> Self {
        // Within LINE_CAPACITY by construction (module doc); nothing to report.
        self.0.push_str(text).ok();
        self
    }

    /// Appends `value` in decimal.
    pub(crate) fn int(self, value: impl itoa::Integer) -> Self {
        let mut digits = itoa::Buffer::new();
        let digits = digits.format(value);
        self.text(digits)
    }

    /// Appends ` v0 v1 … v9`.
    #[inline(never)] // one copy for both line kinds
    pub(crate) fn values(mut self, values: &[i32; N_GENRES]) -> Self {
        for &v in values {
            self = self.text(" ").int(v);
        }
        self
    }

    /// The finished line.
    pub(crate) fn finish(self) -> Line {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_longest_line_fits() {
        let label = [b'x'; MAX_LABEL_LEN];
        let label = core::str::from_utf8(&label).unwrap();
        let line = LineBuilder::new()
            .text("running ")
            .int(u32::MAX)
            .text(" ")
            .text(label)
            .text(" ")
            .int(255u8)
            .text("/")
            .int(255u8)
            .values(&[i32::MIN; N_GENRES])
            .finish();
        assert_eq!(line.len(), LINE_CAPACITY);
        assert!(line.ends_with(" -2147483648"));
    }
}
