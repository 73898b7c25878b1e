//! Decoding real files: WAVs of every sample format written with hound (or
//! by hand where hound cannot) in a temp dir, the FLAC / Ogg Vorbis / MP3
//! fixtures made by `tests/fixtures/make_fixtures.sh`, and damaged input,
//! which must give an error naming the file, never a panic.

use std::f32::consts::PI;
use std::path::{Path, PathBuf};

use cochlea_features::Error;
use cochlea_features::decode::{decode_bytes, decode_file};
use proptest::prelude::*;

fn tone(sr: u32, hz: f32, amp: f32, n: usize) -> Vec<f32> {
    (0..n)
        .map(|i| amp * (2.0 * PI * hz * i as f32 / sr as f32).sin())
        .collect()
}

fn write_int(path: &Path, sr: u32, bits: u16, channels: u16, samples: &[i32]) {
    let spec = hound::WavSpec {
        channels,
        sample_rate: sr,
        bits_per_sample: bits,
        sample_format: hound::SampleFormat::Int,
    };
    let mut w = hound::WavWriter::create(path, spec).unwrap();
    for &s in samples {
        match bits {
            8 => w.write_sample(s as i8).unwrap(),
            16 => w.write_sample(s as i16).unwrap(),
            _ => w.write_sample(s).unwrap(),
        }
    }
    w.finalize().unwrap();
}

fn write_f32(path: &Path, sr: u32, channels: u16, samples: &[f32]) {
    let spec = hound::WavSpec {
        channels,
        sample_rate: sr,
        bits_per_sample: 32,
        sample_format: hound::SampleFormat::Float,
    };
    let mut w = hound::WavWriter::create(path, spec).unwrap();
    for &s in samples {
        w.write_sample(s).unwrap();
    }
    w.finalize().unwrap();
}

/// A 64-bit float WAV (format tag 3), which hound cannot write.
fn f64_wav(sr: u32, samples: &[f64]) -> Vec<u8> {
    let data_len = (samples.len() * 8) as u32;
    let mut b = Vec::new();
    b.extend_from_slice(b"RIFF");
    b.extend_from_slice(&(36 + data_len).to_le_bytes());
    b.extend_from_slice(b"WAVEfmt ");
    b.extend_from_slice(&16u32.to_le_bytes());
    b.extend_from_slice(&3u16.to_le_bytes()); // IEEE float
    b.extend_from_slice(&1u16.to_le_bytes()); // mono
    b.extend_from_slice(&sr.to_le_bytes());
    b.extend_from_slice(&(sr * 8).to_le_bytes());
    b.extend_from_slice(&8u16.to_le_bytes());
    b.extend_from_slice(&64u16.to_le_bytes());
    b.extend_from_slice(b"data");
    b.extend_from_slice(&data_len.to_le_bytes());
    for s in samples {
        b.extend_from_slice(&s.to_le_bytes());
    }
    b
}

fn assert_close(got: &[f32], want: &[f32], tol: f32) {
    assert_eq!(got.len(), want.len());
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        assert!((g - w).abs() <= tol, "sample {i}: {g} vs {w}");
    }
}

/// Frequency (Hz, 10 Hz steps) with the most energy, by a naive DFT.
fn dominant_hz(x: &[f32], sr: u32) -> f32 {
    let mut best = (0.0f32, 0.0f64);
    for f in (10..sr / 2).step_by(10) {
        let (mut re, mut im) = (0.0f64, 0.0f64);
        for (n, &v) in x.iter().enumerate() {
            let ang = 2.0 * std::f64::consts::PI * f64::from(f) * n as f64 / f64::from(sr);
            re += f64::from(v) * ang.cos();
            im -= f64::from(v) * ang.sin();
        }
        let e = re * re + im * im;
        if e > best.1 {
            best = (f as f32, e);
        }
    }
    best.0
}

#[test]
fn every_integer_and_float_wav_format_decodes_to_the_same_scale() {
    let dir = tempfile::tempdir().unwrap();
    let x = tone(8000, 440.0, 0.5, 800);
    for bits in [8u16, 16, 24, 32] {
        let full = (1i64 << (bits - 1)) as f32;
        let ints: Vec<i32> = x.iter().map(|v| (v * full).round() as i32).collect();
        let path = dir.path().join(format!("int{bits}.wav"));
        write_int(&path, 8000, bits, 1, &ints);
        let clip = decode_file(&path, 8000).unwrap();
        // One quantisation step of the format.
        assert_close(&clip.samples, &x, 1.0 / full + 1e-6);
        assert_eq!(clip.info.source_frames, 800);
        assert_eq!(clip.info.channels, 1);
        assert_eq!(clip.info.source_sample_rate, 8000);
    }
    let path = dir.path().join("f32.wav");
    write_f32(&path, 8000, 1, &x);
    assert_eq!(decode_file(&path, 8000).unwrap().samples, x);

    let path = dir.path().join("f64.wav");
    let x64: Vec<f64> = x.iter().map(|&v| f64::from(v)).collect();
    std::fs::write(&path, f64_wav(8000, &x64)).unwrap();
    assert_eq!(decode_file(&path, 8000).unwrap().samples, x);
}

#[test]
fn stereo_is_averaged_and_info_describes_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let n = 4000;
    let left = tone(8000, 300.0, 0.8, n);
    let mut inter = Vec::with_capacity(2 * n);
    for &l in &left {
        inter.extend_from_slice(&[l, 0.2]);
    }
    let path = dir.path().join("stereo.wav");
    write_f32(&path, 8000, 2, &inter);
    let clip = decode_file(&path, 8000).unwrap();
    let want: Vec<f32> = left.iter().map(|l| (l + 0.2) * 0.5).collect();
    assert_close(&clip.samples, &want, 1e-7);
    let info = &clip.info;
    assert_eq!((info.channels, info.source_frames), (2, n as u64));
    assert!((info.duration_s - 0.5).abs() < 1e-12);
    assert!((info.peak - 0.5).abs() < 1e-3, "{}", info.peak);
    assert_eq!(info.clipped_fraction, 0.0);
    assert_eq!(info.silent_fraction, 0.0);
    assert_eq!(info.non_finite_replaced, 0);

    // 16-bit stereo takes the plane-by-plane path: same average.
    let ints: Vec<i32> = (0..200)
        .flat_map(|i| [i * 100 - 10_000, 7_000 - i * 30])
        .collect();
    let path = dir.path().join("stereo16.wav");
    write_int(&path, 8000, 16, 2, &ints);
    let clip = decode_file(&path, 8000).unwrap();
    let want: Vec<f32> = ints
        .chunks(2)
        .map(|f| (f[0] as f32 / 32768.0 + f[1] as f32 / 32768.0) * 0.5)
        .collect();
    assert_eq!(clip.samples, want);
    // And 24-bit stereo the interleaved one.
    let path = dir.path().join("stereo24.wav");
    let ints24: Vec<i32> = ints.iter().map(|v| v * 256).collect();
    write_int(&path, 8000, 24, 2, &ints24);
    assert_eq!(decode_file(&path, 8000).unwrap().samples, want);

    // Half silence, a few clipped samples, two NaNs.
    let mut y = vec![0.0f32; 8000];
    y[4000..].copy_from_slice(&tone(8000, 200.0, 0.5, 4000));
    y[5000] = 1.0;
    y[5001] = -1.0;
    y[6000] = f32::NAN;
    y[6001] = f32::INFINITY;
    let path = dir.path().join("mixed.wav");
    write_f32(&path, 8000, 1, &y);
    let clip = decode_file(&path, 8000).unwrap();
    assert_eq!(clip.info.non_finite_replaced, 2);
    assert_eq!(clip.samples[6000], 0.0);
    assert!(clip.samples.iter().all(|v| v.is_finite()));
    assert_eq!(clip.info.clipped_fraction, 2.0 / 8000.0);
    assert!(
        (clip.info.silent_fraction - 0.5).abs() < 0.03,
        "{}",
        clip.info.silent_fraction
    );
    assert_eq!(clip.info.peak, 1.0);
}

#[test]
fn same_audio_same_hash_different_audio_different_hash() {
    let dir = tempfile::tempdir().unwrap();
    let x = tone(8000, 440.0, 0.5, 3000);
    let (a, b, c) = (
        dir.path().join("a.wav"),
        dir.path().join("b.wav"),
        dir.path().join("c.wav"),
    );
    write_f32(&a, 8000, 1, &x);
    write_f32(&b, 8000, 1, &x);
    let mut y = x.clone();
    y[1234] += 1e-3;
    write_f32(&c, 8000, 1, &y);
    let h = |p: &PathBuf| decode_file(p, 8000).unwrap().info.samples_hash;
    assert_eq!(h(&a), h(&b));
    assert_ne!(h(&a), h(&c));
}

#[test]
fn resampling_44100_to_8000_keeps_a_tone_where_it_was() {
    let dir = tempfile::tempdir().unwrap();
    let x = tone(44100, 1000.0, 0.5, 44100);
    let path = dir.path().join("hi.wav");
    let ints: Vec<i32> = x.iter().map(|v| (v * 32767.0).round() as i32).collect();
    write_int(&path, 44100, 16, 1, &ints);
    let clip = decode_file(&path, 8000).unwrap();
    assert_eq!(clip.sample_rate, 8000);
    assert_eq!(clip.samples.len(), 8000);
    assert_eq!(clip.info.source_sample_rate, 44100);
    assert_eq!(clip.info.source_frames, 44100);
    assert_eq!(dominant_hz(&clip.samples[1000..7000], 8000), 1000.0);
    // Amplitude survives (RMS of a 0.5 sine is 0.354), away from the edges.
    let mid = &clip.samples[1000..7000];
    let rms = (mid.iter().map(|v| v * v).sum::<f32>() / mid.len() as f32).sqrt();
    assert!((rms - 0.5 / 2f32.sqrt()).abs() < 0.01, "{rms}");
    // A tone above the new Nyquist is filtered out, not folded back.
    let high = tone(44100, 6000.0, 0.5, 44100);
    let path = dir.path().join("alias.wav");
    write_f32(&path, 44100, 1, &high);
    let clip = decode_file(&path, 8000).unwrap();
    let mid = &clip.samples[1000..7000];
    let rms = (mid.iter().map(|v| v * v).sum::<f32>() / mid.len() as f32).sqrt();
    assert!(rms < 0.01, "6 kHz leaked into 8 kHz output at rms {rms}");
}

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

#[test]
fn flac_ogg_and_mp3_fixtures_decode() {
    // Lossless: samples equal a 16-bit quantised 440 Hz tone at amplitude 0.5.
    let flac = decode_file(&fixture("tone440_8k.flac"), 8000).unwrap();
    assert_eq!(flac.info.source_frames, 4000);
    assert_eq!(dominant_hz(&flac.samples, 8000), 440.0);
    assert!((flac.info.peak - 0.5).abs() < 1e-3, "{}", flac.info.peak);

    let ogg = decode_file(&fixture("tone440_16k_stereo.ogg"), 8000).unwrap();
    assert_eq!((ogg.info.channels, ogg.info.source_sample_rate), (2, 16000));
    assert!(
        (ogg.info.duration_s - 0.5).abs() < 0.02,
        "{}",
        ogg.info.duration_s
    );
    assert_eq!(dominant_hz(&ogg.samples, 8000), 440.0);

    let mp3 = decode_file(&fixture("tone440_22050.mp3"), 8000).unwrap();
    assert_eq!((mp3.info.channels, mp3.info.source_sample_rate), (1, 22050));
    assert_eq!(
        mp3.info.source_frames, 11025,
        "gapless: LAME delay and padding trimmed"
    );
    assert_eq!(dominant_hz(&mp3.samples, 8000), 440.0);
    assert!((mp3.info.peak - 0.5).abs() < 0.1, "{}", mp3.info.peak);
}

#[test]
fn aiff_decodes_like_the_same_tone_in_flac() {
    let aiff = decode_file(&fixture("tone440_8k.aiff"), 8000).unwrap();
    let flac = decode_file(&fixture("tone440_8k.flac"), 8000).unwrap();
    assert_eq!(aiff.info.source_frames, 4000);
    assert_eq!(aiff.info.source_sample_rate, 8000);
    // sox dithers each file on its own: a few 16-bit steps apart.
    assert_close(&aiff.samples, &flac.samples, 2e-4);
    assert!((aiff.info.peak - 0.5).abs() < 1e-3, "{}", aiff.info.peak);
}

#[test]
fn aac_in_m4a_decodes_to_the_tone() {
    let m4a = decode_file(&fixture("tone440_16k.m4a"), 8000).unwrap();
    assert_eq!((m4a.info.channels, m4a.info.source_sample_rate), (1, 16000));
    // AAC frames are 1024 samples; the encoder's priming and padding may or
    // may not be trimmed by the container's edit list: within two frames.
    let frames = m4a.info.source_frames as i64;
    assert!((frames - 8000).abs() <= 2048, "{frames} frames");
    assert_eq!(dominant_hz(&m4a.samples, 8000), 440.0);
    assert!((m4a.info.peak - 0.5).abs() < 0.1, "{}", m4a.info.peak);
}

#[test]
fn an_unsupported_codec_is_named() {
    let err = decode_file(&fixture("silence_48k.opus"), 8000).unwrap_err();
    let text = message(&err);
    assert!(
        text.contains("Opus") && text.contains("not supported"),
        "{text}"
    );
    assert!(text.contains("silence_48k.opus"), "{text}");
}

fn message(err: &Error) -> String {
    err.to_string()
}

#[test]
fn damaged_files_give_clear_errors_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("good.wav");
    write_int(&good, 8000, 16, 1, &vec![1000; 4000]);
    let bytes = std::fs::read(&good).unwrap();

    let missing = dir.path().join("missing.wav");
    let err = decode_file(&missing, 8000).unwrap_err();
    assert!(matches!(err, Error::Io { .. }), "{err:?}");
    assert!(message(&err).contains("missing.wav"));

    let empty = dir.path().join("empty.wav");
    std::fs::write(&empty, b"").unwrap();
    let err = decode_file(&empty, 8000).unwrap_err();
    assert!(
        message(&err).contains("empty.wav") && message(&err).contains("empty"),
        "{err}"
    );

    let garbage = dir.path().join("garbage.wav");
    std::fs::write(&garbage, b"this is not audio at all, just some text").unwrap();
    let err = decode_file(&garbage, 8000).unwrap_err();
    assert!(message(&err).contains("garbage.wav"), "{err}");
    assert!(
        matches!(err, Error::Unsupported { .. } | Error::Malformed { .. }),
        "{err:?}"
    );

    let truncated = dir.path().join("truncated.wav");
    std::fs::write(&truncated, &bytes[..bytes.len() / 2]).unwrap();
    let err = decode_file(&truncated, 8000).unwrap_err();
    assert!(
        message(&err).contains("truncated.wav") && message(&err).contains("truncated"),
        "{err}"
    );

    let header_only = dir.path().join("header_only.wav");
    write_int(&header_only, 8000, 16, 1, &[]);
    let err = decode_file(&header_only, 8000).unwrap_err();
    assert!(matches!(err, Error::Empty { .. }), "{err:?}");
    assert!(message(&err).contains("header_only.wav"), "{err}");

    // Compressed files cut short: an error naming the file, never a panic.
    for name in [
        "tone440_8k.flac",
        "tone440_16k_stereo.ogg",
        "tone440_22050.mp3",
    ] {
        let full = std::fs::read(fixture(name)).unwrap();
        let cut = dir.path().join(format!("cut_{name}"));
        std::fs::write(&cut, &full[..full.len() / 2]).unwrap();
        match decode_file(&cut, 8000) {
            Err(err) => assert!(message(&err).contains(&format!("cut_{name}")), "{err}"),
            // Ogg and MP3 state no exact length: half a stream is half a clip.
            Ok(clip) => {
                assert!(!name.ends_with(".flac"), "a cut FLAC file decoded");
                assert!(
                    clip.info.duration_s < 0.4,
                    "{name}: {}",
                    clip.info.duration_s
                );
            }
        }
    }

    // Every prefix of a valid file: an error or a clip, never a panic.
    for cut in (0..200).chain((200..bytes.len()).step_by(97)) {
        let _ = decode_bytes(&bytes[..cut], Some("wav"), 8000, Path::new("cut.wav"));
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    /// Arbitrary bytes, with or without a RIFF/WAVE header in front: never a panic.
    #[test]
    fn arbitrary_bytes_never_panic(
        body in proptest::collection::vec(any::<u8>(), 0..600),
        riff in any::<bool>(),
    ) {
        let mut bytes = Vec::new();
        if riff {
            bytes.extend_from_slice(b"RIFF\x24\x08\x00\x00WAVEfmt \x10\x00\x00\x00\x01\x00\x01\x00\x40\x1f\x00\x00\x80\x3e\x00\x00\x02\x00\x10\x00data");
        }
        bytes.extend_from_slice(&body);
        if let Ok(clip) = decode_bytes(&bytes, Some("wav"), 8000, Path::new("fuzz.wav")) {
            prop_assert!(clip.samples.iter().all(|v| v.is_finite()));
        }
    }
}

/// A file above `STREAM_ABOVE` is decoded as it is read; the result is the
/// one of decoding its bytes from memory, sample for sample and fact for
/// fact, with the downmix, levels and resampling cut across packets.
#[test]
fn a_long_file_read_as_it_decodes_gives_what_its_bytes_give() {
    use cochlea_features::decode::STREAM_ABOVE;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("long.wav");
    let sr = 44_100;
    let frames = (STREAM_ABOVE / 4) as usize + 12_345;
    let left = tone(sr, 440.0, 0.5, frames);
    let right = tone(sr, 1250.0, 0.25, frames);
    let mut interleaved = Vec::with_capacity(2 * frames);
    for (i, (l, r)) in left.iter().zip(&right).enumerate() {
        // A stretch of silence and a clipped stretch, for the level facts.
        let (l, r) = match i {
            100_000..=200_000 => (0.0, 0.0),
            300_000..=300_500 => (1.0, 1.0),
            _ => (*l, *r),
        };
        interleaved.push((l * 32767.0) as i32);
        interleaved.push((r * 32767.0) as i32);
    }
    write_int(&path, sr, 16, 2, &interleaved);
    assert!(std::fs::metadata(&path).unwrap().len() > STREAM_ABOVE);
    let bytes = std::fs::read(&path).unwrap();
    for target in [8000, 44_100] {
        let streamed = decode_file(&path, target).unwrap();
        let in_memory = decode_bytes(&bytes, Some("wav"), target, &path).unwrap();
        assert_eq!(streamed.info, in_memory.info, "{target} Hz");
        assert!(streamed.samples == in_memory.samples, "{target} Hz");
        assert_eq!(streamed.info.source_frames, frames as u64);
        assert!(streamed.info.silent_fraction > 0.0 && streamed.info.clipped_fraction > 0.0);
        // Handed out piece by piece: the same samples, never held whole.
        let mut pieces = 0;
        let mut each = Vec::new();
        let info = cochlea_features::decode::decode_file_each(&path, target, &mut |x| {
            pieces += 1;
            each.extend_from_slice(x);
        })
        .unwrap();
        assert!(each == in_memory.samples, "{target} Hz, piece by piece");
        assert!(pieces > 100, "{pieces} pieces");
        assert_eq!(info.source_frames, frames as u64);
        assert_eq!(info.channels, 2);
    }
    // Cut short, it is still reported as truncated.
    let cut = dir.path().join("cut.wav");
    std::fs::write(&cut, &bytes[..bytes.len() - 1000]).unwrap();
    let err = decode_file(&cut, 8000).unwrap_err();
    assert!(message(&err).contains("truncated"), "{}", message(&err));
}
