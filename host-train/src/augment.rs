//! Audio-domain augmentation for microphone robustness, applied to 16 kHz PCM before the
//! frontend, so the features of an augmented copy are exactly what the device would compute
//! from such a recording (feature-domain tricks cannot model band-limiting or noise through
//! the log-mel/chroma/contrast non-linearities faithfully). The stages are
//! [`capture`](crate::capture)'s, the ones `eval` scores under.
//!
//! Each copy draws, in this order (uniform unless said):
//! - a speed of 0.925…1.075 in steps of 1.25 % (tempo and pitch together, up to ±1.3
//!   semitones), so that a genre is not learnt from one artist's tempo and key;
//! - a time shift: 0..1 hop dropped at the start, so frames fall at other sample offsets;
//! - a loudspeaker from one of two families (½ each): a 2nd-order Butterworth high-pass at
//!   60–300 Hz with, half the time, a 2nd-order low-pass at 4–7.5 kHz (a hi-fi speaker and a
//!   microphone's roll-off), or a small speaker's 4th-order band of 100–400 Hz to 4–8 kHz;
//! - one or two peaking EQs of ±6 dB, quality 1, at 150 Hz–5 kHz (log-uniform): resonances;
//! - with probability 0.25, an overdriven amplifier: +3…+12 dB into the `i16` limits, then the
//!   same gain back down (clipping);
//! - with probability 0.6, a room: RT60 0.2–1.2 s, direct-to-reverberant ratio −6…+6 dB;
//! - with probability 0.8, noise at 10–40 dB SNR: white, pink or brown (⅓ each);
//! - a level of −40…+12 dB, saturating like an ADC, then rounding to `i16` (so quiet copies
//!   meet the 16-bit floor a real capture does).

use genre_core::config::{HOP, SAMPLE_RATE_HZ};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::capture::{self, Colour, Condition};

/// Bumped whenever the recipe changes, so cached augmented features are recomputed.
pub const RECIPE_VERSION: u32 = 4;

/// Speed grid: 200 Hz keeps the resampler an exact polyphase filter of at most 80 phases.
const SPEED_STEP_HZ: u32 = 200;
/// Steps either side of the original speed (6 × 1.25 % = 7.5 %).
const SPEED_STEPS: u32 = 6;
/// The slowest speed, as the rate the 16 kHz signal is taken to be sampled at.
const SLOWEST_HZ: u32 = SAMPLE_RATE_HZ - SPEED_STEP_HZ * SPEED_STEPS;

/// Returns augmented copy number `copy` of `pcm`, drawn from `seed` (deterministic).
pub fn augment(pcm: &[i16], seed: u64, copy: usize) -> Vec<i16> {
    let mut rng =
        ChaCha8Rng::seed_from_u64(seed ^ (copy as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15));
    capture::apply(pcm, &recipe(&mut rng), rng.random())
}

/// One copy's chain of capture stages.
fn recipe(rng: &mut ChaCha8Rng) -> Condition {
    let mut stages = vec![
        Condition::Speed {
            rate_hz: SLOWEST_HZ + SPEED_STEP_HZ * rng.random_range(0..=2 * SPEED_STEPS),
        },
        Condition::Offset {
            max_samples: HOP - 1,
        },
    ];
    if rng.random_bool(0.5) {
        stages.push(Condition::HighPass {
            hz: rng.random_range(60.0..300.0),
        });
        if rng.random_bool(0.5) {
            stages.push(Condition::LowPass {
                hz: rng.random_range(4000.0..7500.0),
            });
        }
    } else {
        stages.push(capture::speaker_band(
            rng.random_range(100.0..400.0),
            rng.random_range(4000.0..8000.0),
        ));
    }
    for _ in 0..rng.random_range(1..=2) {
        stages.push(Condition::Peak {
            hz: 150.0 * (5000.0f64 / 150.0).powf(rng.random::<f64>()),
            gain_db: rng.random_range(-6.0..6.0),
        });
    }
    if rng.random_bool(0.25) {
        let drive_db = rng.random_range(3.0..12.0);
        stages.push(Condition::level(drive_db));
        stages.push(Condition::level(-drive_db));
    }
    if rng.random_bool(0.6) {
        stages.push(Condition::Room {
            rt60_s: rng.random_range(0.2..1.2),
            drr_db: rng.random_range(-6.0..6.0),
        });
    }
    if rng.random_bool(0.8) {
        stages.push(Condition::Noise {
            colour: [Colour::White, Colour::Pink, Colour::Brown][rng.random_range(0..3)],
            snr_db: rng.random_range(10.0..40.0),
        });
    }
    stages.push(Condition::Level {
        db: rng.random_range(-40.0..12.0),
    });
    Condition::Chain(stages)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The fastest speed the recipe draws.
    const FASTEST_HZ: u32 = SLOWEST_HZ + SPEED_STEP_HZ * 2 * SPEED_STEPS;

    #[test]
    fn deterministic_and_different_per_copy() {
        let pcm: Vec<i16> = (0..16_000)
            .map(|i| ((i * 37) % 2000) as i16 - 1000)
            .collect();
        let a = augment(&pcm, 7, 0);
        assert_eq!(a, augment(&pcm, 7, 0));
        assert_ne!(a, augment(&pcm, 7, 1));
        // The speed scales the length by at most 7.5 %; the shift drops less than one hop.
        let (n, m) = (pcm.len() as f64, a.len() as f64);
        let rate = f64::from(SAMPLE_RATE_HZ);
        assert!(
            m > n * rate / f64::from(FASTEST_HZ) - HOP as f64 - 1.0
                && m < n * rate / f64::from(SLOWEST_HZ) + 1.0,
            "{m} of {n}"
        );
        assert!(augment(&[], 7, 0).is_empty());
    }

    #[test]
    fn copies_cover_the_ranges() {
        fn flatten(c: Condition, out: &mut Vec<Condition>) {
            match c {
                Condition::Chain(stages) => stages.into_iter().for_each(|s| flatten(s, out)),
                other => out.push(other),
            }
        }
        let recipes: Vec<Vec<Condition>> = (0..200)
            .map(|seed| {
                let mut stages = Vec::new();
                flatten(recipe(&mut ChaCha8Rng::seed_from_u64(seed)), &mut stages);
                stages
            })
            .collect();
        let count =
            |f: &dyn Fn(&Condition) -> bool| recipes.iter().filter(|r| r.iter().any(f)).count();
        let rooms = count(&|c| matches!(c, Condition::Room { .. }));
        let noisy = count(&|c| matches!(c, Condition::Noise { .. }));
        let pink = count(&|c| {
            matches!(
                c,
                Condition::Noise {
                    colour: Colour::Pink,
                    ..
                }
            )
        });
        let brown = count(&|c| {
            matches!(
                c,
                Condition::Noise {
                    colour: Colour::Brown,
                    ..
                }
            )
        });
        let long_rooms = count(&|c| matches!(c, Condition::Room { rt60_s, .. } if *rt60_s > 0.9));
        let small_speakers = recipes
            .iter()
            .filter(|r| {
                r.iter()
                    .filter(|c| matches!(c, Condition::HighPass { .. }))
                    .count()
                    == 2
            })
            .count();
        // The overdrive: a gain into the i16 limits and the same gain back.
        let clipped = recipes
            .iter()
            .filter(|r| {
                r.windows(2).any(|w| match (&w[0], &w[1]) {
                    (Condition::Level { db: up }, Condition::Level { db: down }) => {
                        (3.0..12.0).contains(up) && *down == -*up
                    }
                    _ => false,
                })
            })
            .count();
        assert!((35..100).contains(&brown), "{brown}");
        assert!(long_rooms > 20, "{long_rooms}");
        assert!((70..130).contains(&small_speakers), "{small_speakers}");
        assert!(clipped > 20, "{clipped}");
        let quiet = count(&|c| matches!(c, Condition::Level { db } if *db < -30.0));
        let loud = count(&|c| matches!(c, Condition::Level { db } if *db > 6.0));
        assert!((95..145).contains(&rooms), "{rooms}");
        assert!((140..185).contains(&noisy), "{noisy}");
        assert!((35..100).contains(&pink), "{pink}");
        assert!(quiet > 20 && loud > 10, "{quiet} {loud}");
        let slow = count(&|c| matches!(c, Condition::Speed { rate_hz } if *rate_hz == SLOWEST_HZ));
        let fast = count(&|c| matches!(c, Condition::Speed { rate_hz } if *rate_hz == FASTEST_HZ));
        assert!(slow > 5 && fast > 5, "{slow} {fast}");
        assert!(recipes.iter().flatten().all(|c| match c {
            Condition::Speed { rate_hz } => (SLOWEST_HZ..=FASTEST_HZ).contains(rate_hz),
            _ => true,
        }));
    }
}
