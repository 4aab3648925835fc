//! Synthetic files of every supported sample layout decode to the exact expected samples.

mod common;

use common::{au_bytes, au_i16, wav_bytes, wav_i16, write};
use genre_audio::{decode, load_pcm16k, to_i16, Decoded};

/// A short ramp of distinct 16-bit values covering both signs and the extremes.
const I16_VALUES: [i16; 8] = [0, 1, -1, 12_345, -12_345, i16::MAX, i16::MIN, 256];

#[test]
fn wav_16_bit_mono() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = write(dir.path(), "a.wav", &wav_i16(1, 22_050, &I16_VALUES));
    let expected: Vec<f32> = I16_VALUES
        .iter()
        .map(|&s| f32::from(s) / 32_768.0)
        .collect();
    let d = decode(&path).expect("decode");
    assert_eq!(
        d,
        Decoded {
            sample_rate: 22_050,
            channels: 1,
            samples: expected
        }
    );
}

#[test]
fn wav_24_bit() {
    let values: [i32; 5] = [0, 1, -1, 8_388_607, -8_388_608];
    let data: Vec<u8> = values
        .iter()
        .flat_map(|v| v.to_le_bytes()[..3].to_vec())
        .collect();
    let dir = tempfile::tempdir().expect("tempdir");
    let path = write(
        dir.path(),
        "a.wav",
        &wav_bytes(1, 1, 44_100, 24, &data, None),
    );
    // 24-bit values are exact in f32; the scale is 2^23.
    let expected: Vec<f32> = values.iter().map(|&v| v as f32 / 8_388_608.0).collect();
    assert_eq!(decode(&path).expect("decode").samples, expected);
}

#[test]
fn wav_32_bit_integer() {
    let values: [i32; 5] = [0, 1 << 16, -(1 << 20), i32::MAX, i32::MIN];
    let data: Vec<u8> = values.iter().flat_map(|v| v.to_le_bytes()).collect();
    let dir = tempfile::tempdir().expect("tempdir");
    let path = write(
        dir.path(),
        "a.wav",
        &wav_bytes(1, 1, 48_000, 32, &data, None),
    );
    // The scale is 2^31; the f64 quotient rounded to f32 is the nearest f32.
    let expected: Vec<f32> = values
        .iter()
        .map(|&v| (f64::from(v) / 2_147_483_648.0) as f32)
        .collect();
    assert_eq!(decode(&path).expect("decode").samples, expected);
}

#[test]
fn wav_32_bit_float() {
    let values: [f32; 5] = [0.0, 0.5, -0.25, 0.999, -1.0];
    let data: Vec<u8> = values.iter().flat_map(|v| v.to_le_bytes()).collect();
    let dir = tempfile::tempdir().expect("tempdir");
    let path = write(
        dir.path(),
        "a.wav",
        &wav_bytes(3, 1, 44_100, 32, &data, None),
    );
    assert_eq!(decode(&path).expect("decode").samples, values);
}

#[test]
fn stereo_is_averaged_to_mono() {
    // Frames (L, R): the mean of each pair.
    let interleaved: [i16; 6] = [1000, 3000, -2000, 2000, i16::MAX, i16::MAX];
    let dir = tempfile::tempdir().expect("tempdir");
    for (name, bytes) in [
        ("s.wav", wav_i16(2, 32_000, &interleaved)),
        ("s.au", au_i16(2, 32_000, &interleaved)),
    ] {
        let d = decode(&write(dir.path(), name, &bytes)).expect("decode");
        assert_eq!((d.sample_rate, d.channels), (32_000, 2), "{name}");
        let expected = [2000.0 / 32_768.0, 0.0, 32_767.0 / 32_768.0];
        assert_eq!(d.samples, expected, "{name}");
    }
}

#[test]
fn au_matches_wav_sample_for_sample() {
    let dir = tempfile::tempdir().expect("tempdir");
    let wav = decode(&write(dir.path(), "a.wav", &wav_i16(1, 8_000, &I16_VALUES))).expect("wav");
    let au = decode(&write(dir.path(), "a.au", &au_i16(1, 8_000, &I16_VALUES))).expect("au");
    assert_eq!(au, wav);
}

#[test]
fn au_with_unknown_data_size_reads_to_end_of_file() {
    let data: Vec<u8> = I16_VALUES.iter().flat_map(|s| s.to_be_bytes()).collect();
    let bytes = au_bytes(3, 11_025, 1, &[], &data, Some(u32::MAX));
    let dir = tempfile::tempdir().expect("tempdir");
    let d = decode(&write(dir.path(), "u.au", &bytes)).expect("decode");
    assert_eq!(d.samples.len(), I16_VALUES.len());
}

#[test]
fn format_is_found_from_content_not_name() {
    let dir = tempfile::tempdir().expect("tempdir");
    let a = decode(&write(
        dir.path(),
        "wav.au",
        &wav_i16(1, 8_000, &I16_VALUES),
    ))
    .expect("wav");
    let b = decode(&write(dir.path(), "au.wav", &au_i16(1, 8_000, &I16_VALUES))).expect("au");
    assert_eq!(a, b);
}

#[test]
fn to_i16_rounds_and_saturates() {
    let x = [
        0.0,
        1.0 / 32_768.0,
        0.49 / 32_768.0,
        0.5 / 32_768.0,  // half away from zero -> 1
        -0.5 / 32_768.0, // -> -1
        -1.5 / 32_768.0, // -> -2
        32_767.4 / 32_768.0,
        1.0, // 32768 saturates
        -1.0,
        -2.0,
        f32::INFINITY,
        f32::NAN,
    ];
    assert_eq!(
        to_i16(&x),
        [0, 1, 0, 1, -1, -2, 32_767, 32_767, -32_768, -32_768, 32_767, 0]
    );
}

#[test]
fn load_pcm16k_of_16k_input_is_the_input() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = write(dir.path(), "a.wav", &wav_i16(1, 16_000, &I16_VALUES));
    assert_eq!(load_pcm16k(&path).expect("load"), I16_VALUES);
}

#[test]
fn pcm16k_bin_writes_little_endian_pcm_and_fails_clearly() {
    let dir = tempfile::tempdir().expect("tempdir");
    let input = write(
        dir.path(),
        "in.wav",
        &wav_i16(2, 16_000, &[100, 300, -5, -7]),
    );
    let output = dir.path().join("out.raw");
    let bin = env!("CARGO_BIN_EXE_pcm16k");
    let run = std::process::Command::new(bin)
        .arg(&input)
        .arg(&output)
        .output()
        .expect("run");
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    // Means 200 and -6, little-endian.
    assert_eq!(std::fs::read(&output).expect("out"), [200u8, 0, 0xFA, 0xFF]);
    // Only the output file was created: the temporary one was renamed onto it.
    assert_eq!(std::fs::read_dir(dir.path()).expect("ls").count(), 2);

    let bad = write(dir.path(), "bad.wav", b"not audio at all");
    let target = dir.path().join("bad.raw");
    let run = std::process::Command::new(bin)
        .arg(&bad)
        .arg(&target)
        .output()
        .expect("run");
    assert_eq!(run.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(stderr.contains("bad.wav"), "{stderr}");
    assert!(!target.exists(), "no output on failure");

    let run = std::process::Command::new(bin)
        .arg(&input)
        .output()
        .expect("run");
    assert_eq!(run.status.code(), Some(1), "missing argument");
    assert!(String::from_utf8_lossy(&run.stderr).contains("usage"));
}
