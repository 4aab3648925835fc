//! Headers that declare gigabytes: decoding must not allocate by them.
//!
//! This binary counts allocations with a wrapping global allocator and checks the largest
//! single request while decoding each file (one test, so nothing else allocates meanwhile).

mod common;

use common::{au_bytes, wav_bytes, write};
use genre_audio::{decode, AudioError};
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

/// The system allocator, recording the largest request.
struct Tracking;

static LARGEST: AtomicUsize = AtomicUsize::new(0);

// SAFETY: forwards every call unchanged to `System`; only reads the requested size.
unsafe impl GlobalAlloc for Tracking {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LARGEST.fetch_max(layout.size(), Ordering::Relaxed);
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        LARGEST.fetch_max(new_size, Ordering::Relaxed);
        // SAFETY: same contract as the caller's.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Tracking = Tracking;

/// Bound on any single allocation while decoding a 10-byte payload: symphonia's read buffers
/// are tens of KiB and its bounded first read of a declared chunk 4 MiB; a header-sized
/// allocation would be about 4 GiB.
const LIMIT: usize = 16 << 20;

#[test]
fn absurd_declared_lengths_do_not_allocate() {
    let dir = tempfile::tempdir().expect("tempdir");
    let ten = [1u8, 0, 2, 0, 3, 0, 4, 0, 5, 0];
    // RIFF and data chunk sizes near 4 GiB (a streaming WAV) with 10 bytes behind them.
    let mut streaming = wav_bytes(1, 1, 8_000, 16, &ten, Some(0xFFFF_FFF0));
    streaming[4..8].copy_from_slice(&u32::MAX.to_le_bytes());
    // Data chunk size near 4 GiB inside a RIFF that says it is small.
    let inconsistent = wav_bytes(1, 1, 8_000, 16, &ten, Some(0xFFFF_FFF0));
    // A LIST/INFO chunk declaring 4 GiB before any audio.
    let mut list = b"RIFF\xff\xff\xff\xffWAVELIST\xf0\xff\xff\xffINFOINAM\xf0\xff\xff\xff".to_vec();
    list.extend_from_slice(&ten);
    // AU declaring 4 GiB of data, and a 4 GiB annotation.
    let au_data = au_bytes(3, 8_000, 1, &[], &ten, Some(0xFFFF_FFF0));
    let mut au_offset = au_bytes(3, 8_000, 1, &[], &ten, None);
    au_offset[4..8].copy_from_slice(&0xFFFF_FFF0u32.to_be_bytes());

    for (name, bytes) in [
        ("streaming.wav", streaming),
        ("inconsistent.wav", inconsistent),
        ("list.wav", list),
        ("data.au", au_data),
        ("offset.au", au_offset),
    ] {
        let path = write(dir.path(), name, &bytes);
        LARGEST.store(0, Ordering::Relaxed);
        let result = decode(&path);
        let largest = LARGEST.load(Ordering::Relaxed);
        println!("{name}: largest allocation {largest} B, {result:?}");
        assert!(largest < LIMIT, "{name}: allocated {largest} bytes at once");
        match result {
            // What is there: the 5 samples.
            Ok(d) => assert_eq!(d.samples.len(), 5, "{name}"),
            Err(e) => {
                assert!(e.to_string().contains(name), "{e}");
                assert!(matches!(e, AudioError::Malformed { .. }), "{name}: {e:?}");
            }
        }
    }
}
