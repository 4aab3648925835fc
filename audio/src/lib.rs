//! Audio file input for the host: decode, down-mix to mono, resample to 16 kHz.
