//! The host's SIMD dot-product kernels (`arch::x86`'s AVX2, chosen at run time; `arch::neon`
//! on aarch64) against the portable ones, as `firmware/qemu`'s `kernel-check` compares the
//! Arm DSP kernels on the device: random weight blocks and inputs, plus the extremes (every
//! weight +127, −127 or −128; every input at +127, −127, −128 for the features and +32767,
//! −32767, −32768 for a hidden state; mixed signs). Integer sums are exact, so they must
//! agree bit for bit. On a CPU without AVX2 the run-time choice is the portable kernel and the
//! comparison is trivially equal; the test prints which kernel ran.

use genre_core::arch::{self, portable, GateBlocks, GateOperand};
use genre_core::config::{HIDDEN, N_FEATURES};
use genre_core::format::PADDED_FEATURES;

const X_GROUPS: usize = PADDED_FEATURES / 4;
const H_GROUPS: usize = HIDDEN / 4;
const TRIALS: u32 = 2000;

/// A 32-bit xorshift generator: reproducible cases without a dependency.
struct XorShift(u32);
impl XorShift {
    fn next(&mut self) -> u32 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 17;
        self.0 ^= self.0 << 5;
        self.0
    }
}

/// Cases 0..EXTREMES are the extremes, then random ones.
const EXTREMES: u32 = 9;

/// A weight byte for `case`: the extremes pair each weight rail with each input rail.
fn weight(rng: &mut XorShift, case: u32) -> u8 {
    match case % EXTREMES {
        _ if case >= EXTREMES => rng.next() as u8,
        0..=2 => 127,
        3..=5 => (-127i8) as u8,
        _ => (-128i8) as u8,
    }
}

/// Index of the input rail for `case` (0: max, 1: −max, 2: min), or None for random input.
fn input_rail(case: u32) -> Option<u32> {
    (case < EXTREMES).then_some(case % 3)
}

fn blocks<const G: usize>(rng: &mut XorShift, case: u32) -> Box<GateBlocks<G>> {
    let mut rows: Box<GateBlocks<G>> = Box::new([[[0; 16]; G]; HIDDEN / 4]);
    for b in rows.iter_mut().flatten().flatten() {
        *b = weight(rng, case);
    }
    rows
}

#[test]
fn simd_dot_products_equal_the_portable_ones() {
    let kernel = arch::dot_kernel();
    eprintln!("dot-product kernel: {kernel}");
    #[cfg(target_arch = "x86_64")]
    if std::is_x86_feature_detected!("avx2") {
        assert_eq!(kernel, "avx2", "AVX2 present but not chosen");
    }
    let mut rng = XorShift(0x2026_0623);
    let mut largest = 0i32;
    for case in 0..EXTREMES + TRIALS {
        // Layer 0: the quantised features.
        let rows = blocks::<X_GROUPS>(&mut rng, case);
        let x: [i8; N_FEATURES] = core::array::from_fn(|_| match input_rail(case) {
            Some(0) => 127,
            Some(1) => -127,
            Some(_) => -128,
            None => rng.next() as i8,
        });
        let (mut simd, mut reference) = ([0i32; HIDDEN], [0i32; HIDDEN]);
        arch::FeatureOperand::new(&x).dot_gate(&rows, &mut simd);
        portable::FeatureOperand::new(&x).dot_gate(&rows, &mut reference);
        assert_eq!(simd, reference, "features, case {case}");
        largest = largest.max(reference.iter().map(|v| v.abs()).max().unwrap_or(0));

        // Layer 1 and the recurrences: a packed Q15 hidden state.
        let rows = blocks::<H_GROUPS>(&mut rng, case);
        let mut q15 = || -> i16 {
            match input_rail(case) {
                Some(0) => 32767,
                Some(1) => -32767,
                Some(_) => -32768,
                None => rng.next() as i16,
            }
        };
        let h: [u32; HIDDEN / 2] = core::array::from_fn(|_| {
            let (lo, hi) = (q15(), q15());
            u32::from(lo as u16) | (u32::from(hi as u16) << 16)
        });
        arch::HiddenOperand::new(&h).dot_gate(&rows, &mut simd);
        portable::HiddenOperand::new(&h).dot_gate(&rows, &mut reference);
        assert_eq!(simd, reference, "hidden state, case {case}");
        largest = largest.max(reference.iter().map(|v| v.abs()).max().unwrap_or(0));
    }
    // The extremes reached the bound of the docs' exactness argument: 64 · 128 · 32768.
    assert_eq!(largest, 64 * 128 * 32768);
}

/// A non-negative finite `f32` of any magnitude: a random exponent (subnormals and zero one
/// time in sixteen each), a random mantissa.
fn non_negative(rng: &mut XorShift) -> f32 {
    let bits = rng.next();
    match bits & 0xf {
        0 => 0.0,
        1 => f32::from_bits(bits >> 9), // subnormal (exponent field 0)
        _ => f32::from_bits((bits & 0x007f_ffff) | ((1 + rng.next() % 253) << 23)),
    }
}

#[test]
fn host_square_roots_equal_libm() {
    let mut rng = XorShift(0x5157_2026);
    for len in 0..40 {
        let x: Vec<f32> = (0..len)
            .map(|_| non_negative(&mut rng))
            .chain([f32::MAX, f32::MIN_POSITIVE, 0.0, 1.0])
            .collect();
        let (mut host, mut reference) = (x.clone(), x.clone());
        arch::sqrt_in_place(&mut host);
        portable::sqrt_in_place(&mut reference);
        let bits = |v: &[f32]| v.iter().map(|f| f.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(&host), bits(&reference), "length {}", x.len());
    }
}

#[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
#[test]
fn dense_chroma_sums_equal_the_sparse_ones() {
    use genre_core::chroma::{classes_dense, classes_sparse_host as classes_sparse};
    use genre_core::config::{N_BINS, N_CHROMA};
    let mut rng = XorShift(0xc470_2026);
    for case in 0..500 {
        // Powers of every magnitude; in some cases of a music-like range (products and sums
        // that round at every step), and a silent spectrum.
        let power: [f32; N_BINS] = core::array::from_fn(|_| match case % 3 {
            0 => non_negative(&mut rng) * 1e-30,
            1 => (rng.next() % 1_000_000) as f32 * 1e-3,
            _ if case == 2 => 0.0,
            _ => non_negative(&mut rng),
        });
        let floor = if case % 2 == 0 {
            0.0
        } else {
            (rng.next() % 1000) as f32 * 1e-4
        };
        let (mut dense, mut sparse) = ([0.0f32; N_CHROMA], [0.0f32; N_CHROMA]);
        classes_dense(&power, floor, &mut dense);
        classes_sparse(&power, floor, &mut sparse);
        assert_eq!(
            dense.map(f32::to_bits),
            sparse.map(f32::to_bits),
            "case {case}"
        );
    }
}

#[test]
fn host_gate_epilogue_equals_the_portable_one() {
    use genre_core::arch::Activation;
    use genre_core::format::ROW_RECORD;
    let mut rng = XorShift(0x6a7e_2026);
    let pick = |rng: &mut XorShift, values: &[i32]| values[rng.next() as usize % values.len()];
    let acc_limit = 127 * 32768 * HIDDEN as i32;
    for case in 0..3000u32 {
        let acc: [[i32; HIDDEN]; 2] = match case {
            0 => [[acc_limit; HIDDEN]; 2],
            1 => [[-acc_limit; HIDDEN]; 2],
            // Small accumulators: pre-activations near 0, where the tables interpolate.
            _ if case % 4 == 2 => {
                core::array::from_fn(|_| core::array::from_fn(|_| (rng.next() as i32) % 4096))
            }
            _ => {
                core::array::from_fn(|_| core::array::from_fn(|_| (rng.next() as i32) % acc_limit))
            }
        };
        let mut records = [[0u8; ROW_RECORD]; HIDDEN];
        let mut shifts = [[0u8; 2]; HIDDEN];
        for (rec, sh) in records.iter_mut().zip(&mut shifts) {
            for (k, field) in rec.as_chunks_mut::<4>().0.iter_mut().enumerate() {
                let v = match (case, k) {
                    (0, 2) => i32::MAX,
                    (1, 2) => i32::MIN,
                    (0 | 1, _) => i32::MAX,
                    (_, 2) => {
                        let random = rng.next() as i32 >> 12;
                        pick(&mut rng, &[i32::MAX, i32::MIN, random, random, random])
                    }
                    _ => {
                        let random = (rng.next() >> 1) as i32;
                        let normal = (1 << 30) | (rng.next() as i32 & 0x3fff_ffff);
                        pick(&mut rng, &[0, 1 << 30, i32::MAX, random, normal, normal])
                    }
                };
                *field = v.to_le_bytes();
            }
            for s in sh.iter_mut() {
                *s = match case {
                    0 => 33,
                    1 => 62,
                    // Mostly above 32 (the AVX2 path's blocks), one case in five anything.
                    _ if case % 5 == 0 => {
                        let random = 1 + (rng.next() % 62) as u8;
                        [1, 32, 33, 62, random][rng.next() as usize % 5]
                    }
                    _ => 33 + (rng.next() % 30) as u8,
                };
            }
        }
        for act in [Activation::Sigmoid, Activation::Tanh] {
            let (mut host, mut reference) = ([0i16; HIDDEN], [0i16; HIDDEN]);
            arch::gate_outputs(act, &acc, &records, &shifts, &mut host);
            portable::gate_outputs(act, &acc, &records, &shifts, &mut reference);
            assert_eq!(host, reference, "case {case}, {act:?}");
        }
    }
}

#[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
#[test]
fn two_way_contrast_extremes_equal_the_one_way_ones() {
    use genre_core::contrast::{extremes_one_way as extremes, extremes_two_way};
    let mut rng = XorShift(0xc0de_2026);
    for case in 0..3000u32 {
        let len = 1 + rng.next() as usize % 260;
        let q = 1 + rng.next() as usize % 4;
        let q = q.min(len);
        // Random magnitudes, falling or rising runs, and many ties (a few distinct values).
        let band: Vec<f32> = match case % 4 {
            0 => (0..len).map(|_| non_negative(&mut rng)).collect(),
            1 => (0..len)
                .map(|i| (len - i) as f32 * 0.37 + (rng.next() % 3) as f32)
                .collect(),
            2 => (0..len).map(|i| i as f32 * 0.11).collect(),
            _ => (0..len).map(|_| (rng.next() % 3) as f32 * 0.5).collect(),
        };
        let (a, b) = (extremes(&band, q), extremes_two_way(&band, q));
        assert_eq!(
            (a.0.to_bits(), a.1.to_bits()),
            (b.0.to_bits(), b.1.to_bits()),
            "case {case}"
        );
    }
}

#[test]
fn host_cell_update_equals_the_portable_one() {
    use genre_core::format::{MAX_CELL_FRAC_BITS, MIN_CELL_FRAC_BITS};
    use genre_core::lstm::GATES;
    let mut rng = XorShift(0xce11_2026);
    for n in u32::from(MIN_CELL_FRAC_BITS)..=u32::from(MAX_CELL_FRAC_BITS) {
        for case in 0..600u32 {
            // The rails (every gate and cell at ±32767 or -32768; i, f, o at 0 or 32767 with g
            // and c at the rails), then random values.
            let rail = [32767i16, -32767, -32768][case as usize % 3];
            let gate_value = |rng: &mut XorShift, k: usize| -> i16 {
                match case {
                    0..=2 => rail,
                    3..=8 if k / HIDDEN != 2 => [0, 32767][case as usize % 2],
                    3..=8 => rail,
                    _ => rng.next() as i16,
                }
            };
            let gates: [i16; GATES] = core::array::from_fn(|k| gate_value(&mut rng, k));
            let cell: [i16; HIDDEN] =
                core::array::from_fn(|_| if case < 9 { rail } else { rng.next() as i16 });
            let (mut c_host, mut c_ref) = (cell, cell);
            let (mut h_host, mut h_ref) = ([0u32; HIDDEN / 2], [0u32; HIDDEN / 2]);
            arch::cell_update(&gates, &mut c_host, &mut h_host, n);
            portable::cell_update(&gates, &mut c_ref, &mut h_ref, n);
            assert_eq!((c_host, h_host), (c_ref, h_ref), "n {n}, case {case}");
        }
    }
}

#[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
#[test]
fn host_input_rounding_equals_roundf() {
    use genre_core::quant::engine::round_to_i8;
    let reference = |v: f32| libm::roundf(v).clamp(-127.0, 127.0) as i8;
    let mut values = vec![
        0.0,
        -0.0,
        0.5,
        -0.5,
        1.5,
        -1.5,
        126.5,
        -126.5,
        127.0,
        127.5,
        -127.5,
        128.0,
        -128.0,
        128.5,
        -129.0,
        1e30,
        -1e30,
        f32::INFINITY,
        f32::NEG_INFINITY,
        f32::NAN,
        1e-40,
    ];
    values.extend([0.5f32, 1.5, 126.5].map(|h| f32::from_bits(h.to_bits() - 1)));
    values.extend([0.5f32, 1.5, 126.5].map(|h| -f32::from_bits(h.to_bits() - 1)));
    let mut rng = XorShift(0x0123_2026);
    for _ in 0..300_000 {
        let v = f32::from_bits(rng.next());
        values.push(v);
        values.push((rng.next() % 600_000) as f32 / 2048.0 - 146.0);
    }
    for v in values {
        assert_eq!(round_to_i8(v), reference(v), "{v:e} ({:#x})", v.to_bits());
    }
}

#[cfg(target_arch = "x86_64")]
#[test]
fn host_fft_stages_equal_the_portable_ones() {
    use genre_core::config::{N_BINS, N_FFT};
    use genre_core::fft::{power_spectrum, power_spectrum_portable};
    let mut rng = XorShift(0x0ff7_2026);
    // A Hann-like window of normal numbers (the frontend's has its PCM scale folded in).
    let hann: [f32; N_BINS] = core::array::from_fn(|n| {
        let x = core::f32::consts::PI * n as f32 / N_FFT as f32;
        (x.sin() * x.sin()).max(1e-6) * 1e-5
    });
    // And one of random values (mixed signs and magnitudes: a misplaced window value shows).
    let random: [f32; N_BINS] = core::array::from_fn(|_| fft_value(&mut rng) * 1e-12);
    // The extremes: silence, full scale (constant, alternating, random rails), impulses at
    // the rails, and full-scale sines (on bins and between them); then random frames.
    let full_scale = [i16::MAX, -i16::MAX, i16::MIN];
    let sine = |cycles: f32, amplitude: f32, phase: f32| -> [i16; N_FFT] {
        core::array::from_fn(|n| {
            let t = 2.0 * core::f32::consts::PI * cycles * n as f32 / N_FFT as f32 + phase;
            (amplitude * t.sin()).round().clamp(-32768.0, 32767.0) as i16
        })
    };
    let mut extremes: Vec<[i16; N_FFT]> = vec![[0; N_FFT]];
    for v in full_scale {
        extremes.push([v; N_FFT]);
        let opposite = if v < 0 { i16::MAX } else { i16::MIN };
        extremes.push(core::array::from_fn(
            |n| if n % 2 == 0 { v } else { opposite },
        ));
        for at in [0, 1, 2, 7, 255, 256, 511, 512, 513, 700, N_FFT - 1] {
            let mut impulse = [0; N_FFT];
            impulse[at] = v;
            extremes.push(impulse);
        }
    }
    for cycles in [
        1.0, 2.0, 3.5, 17.0, 64.0, 100.25, 128.0, 255.5, 256.0, 384.0, 511.0, 512.0,
    ] {
        for (amplitude, phase) in [(32767.0, 0.0), (32768.0, 0.3), (1.0, 1.0), (20000.0, 2.0)] {
            extremes.push(sine(cycles, amplitude, phase));
        }
    }
    let randoms = 1000u32;
    let frames = extremes.len() as u32 + randoms;
    for case in 0..frames {
        let frame: [i16; N_FFT] = match extremes.get(case as usize) {
            Some(frame) => *frame,
            None => core::array::from_fn(|_| match case % 4 {
                0 => rng.next() as i16,
                1 => (rng.next() % 64) as i16 - 32,
                2 => full_scale[rng.next() as usize % 3],
                _ => (rng.next() % 3) as i16 - 1,
            }),
        };
        let (halves, []) = frame.as_chunks::<{ N_FFT / 2 }>() else {
            unreachable!("N_FFT is even")
        };
        let halves = [&halves[0], &halves[1]];
        for (name, window) in [("Hann", &hann), ("random", &random)] {
            let (mut work, mut host, mut reference) =
                ([0.0f32; N_FFT], [0.0f32; N_BINS], [0.0f32; N_BINS]);
            power_spectrum(halves, window, &mut work, &mut host);
            power_spectrum_portable(halves, window, &mut work, &mut reference);
            assert_eq!(
                host.map(f32::to_bits),
                reference.map(f32::to_bits),
                "case {case}, {name} window"
            );
        }
    }
}

/// A finite `f32` of either sign whose square, times the FFT's gains, stays finite: zero (of
/// either sign) and subnormals one time in sixteen each, else a random exponent in
/// 2^-126..2^50 and a random mantissa.
fn fft_value(rng: &mut XorShift) -> f32 {
    let bits = rng.next();
    let sign = bits & 0x8000_0000;
    f32::from_bits(match bits & 0xf {
        0 => sign,
        1 => sign | (bits >> 9),
        _ => sign | (bits & 0x007f_ffff) | ((1 + rng.next() % 177) << 23),
    })
}

#[cfg(target_arch = "x86_64")]
#[test]
fn host_fft_last_stage_equals_the_portable_one() {
    use genre_core::config::{N_BINS, N_FFT};
    use genre_core::fft::{last_stage_host, last_stage_portable};
    let mut rng = XorShift(0x1a57_2026);
    for case in 0..3000u32 {
        // Any FFT buffer: random values of every magnitude, of one magnitude, small integers
        // (many exact sums and ties), and an all-zero one.
        let scale = fft_value(&mut rng).abs();
        let z: [f32; N_FFT] = core::array::from_fn(|_| match case % 4 {
            _ if case == 0 => 0.0,
            0 => fft_value(&mut rng),
            1 => (rng.next() as i32 >> 8) as f32 * (scale.min(1e15) / 8_388_608.0),
            2 => (rng.next() % 5) as f32 - 2.0,
            _ => fft_value(&mut rng) * 1e-20,
        });
        let (mut host, mut reference) = ([0.0f32; N_BINS], [0.0f32; N_BINS]);
        last_stage_host(&z, &mut host);
        last_stage_portable(&z, &mut reference);
        assert_eq!(
            host.map(f32::to_bits),
            reference.map(f32::to_bits),
            "case {case}"
        );
    }
}
