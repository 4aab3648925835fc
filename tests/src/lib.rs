//! Shared helpers for the cross-crate golden tests.

pub mod frontend_golden;
