//! Shared helpers for the cross-crate golden tests.
