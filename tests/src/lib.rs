//! Shared helpers for the cross-crate golden tests.

pub mod bench;
pub mod frontend_golden;
