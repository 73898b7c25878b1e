//! A corpus of bad, odd and awkward audio files, written at test time.
//!
//! WAV files are assembled byte by byte (so every header field can be made
//! wrong on purpose); FLAC, MP3 and Ogg Vorbis come from the fixtures of the
//! feature crate (`crates/cochlea-features/tests/fixtures`, made by the
//! `make_fixtures.sh` beside them) and from cut copies of them. Each case
//! states what the tool must do with it.

use std::f64::consts::PI;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

/// What the tool must do with a corpus entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Expect {
    /// Decoded (resampled, downmixed) into finite features.
    Handled,
    /// Refused, reported by path with a one-line reason.
    Reported,
    /// Either of the above (damaged compressed streams, where a decoder may
    /// legitimately recover part of the audio); never a crash or a hang.
    Either,
    /// Not an audio file at all (a folder, a folder loop): no output row.
    Ignored,
}

/// One corpus entry: a path relative to the corpus folder.
#[derive(Clone, Debug)]
pub struct Case {
    /// Path relative to the corpus folder (may hold non-UTF-8 bytes).
    pub rel: PathBuf,
    /// The expected outcome.
    pub expect: Expect,
}

/// WAV format tags.
const PCM: u16 = 1;
const FLOAT: u16 = 3;
const EXTENSIBLE: u16 = 0xFFFE;

/// A RIFF/WAVE file: `fmt ` chunk from the fields given, then a `data`
/// chunk declaring `declared` bytes (normally `data.len()`) and holding `data`.
fn wav_bytes(
    tag: u16,
    channels: u16,
    rate: u32,
    bits: u16,
    data: &[u8],
    declared: Option<u32>,
) -> Vec<u8> {
    let block_align = channels.wrapping_mul(bits.div_ceil(8));
    let mut fmt = Vec::new();
    fmt.extend_from_slice(&tag.to_le_bytes());
    fmt.extend_from_slice(&channels.to_le_bytes());
    fmt.extend_from_slice(&rate.to_le_bytes());
    fmt.extend_from_slice(&rate.wrapping_mul(u32::from(block_align)).to_le_bytes());
    fmt.extend_from_slice(&block_align.to_le_bytes());
    fmt.extend_from_slice(&bits.to_le_bytes());
    if tag == EXTENSIBLE {
        // cbSize, valid bits, channel mask, then the PCM sub-format GUID
        // (KSDATAFORMAT_SUBTYPE_PCM).
        fmt.extend_from_slice(&22u16.to_le_bytes());
        fmt.extend_from_slice(&bits.to_le_bytes());
        let mask: u32 = if channels >= 32 {
            u32::MAX
        } else {
            (1u32 << channels) - 1
        };
        fmt.extend_from_slice(&mask.to_le_bytes());
        fmt.extend_from_slice(&[
            0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xAA, 0x00, 0x38,
            0x9B, 0x71,
        ]);
    }
    let declared = declared.unwrap_or(data.len() as u32);
    let mut b = Vec::new();
    b.extend_from_slice(b"RIFF");
    let riff_len = (4 + 8 + fmt.len() + 8) as u32 + declared;
    b.extend_from_slice(&riff_len.to_le_bytes());
    b.extend_from_slice(b"WAVEfmt ");
    b.extend_from_slice(&(fmt.len() as u32).to_le_bytes());
    b.extend_from_slice(&fmt);
    b.extend_from_slice(b"data");
    b.extend_from_slice(&declared.to_le_bytes());
    b.extend_from_slice(data);
    if data.len() % 2 == 1 {
        b.push(0); // RIFF chunks are padded to even sizes.
    }
    b
}

/// `n` frames of a 440 Hz tone (with a little 1.1 kHz) at `amp`, the same on
/// every channel but scaled per channel so a downmix is visible.
fn tone(rate: u32, channels: u16, n: usize, amp: f64) -> Vec<f64> {
    let mut v = Vec::with_capacity(n * usize::from(channels));
    for i in 0..n {
        let t = i as f64 / f64::from(rate);
        let x = amp * (0.8 * (2.0 * PI * 440.0 * t).sin() + 0.2 * (2.0 * PI * 1100.0 * t).sin());
        for c in 0..channels {
            v.push(x * (1.0 - 0.1 * f64::from(c)));
        }
    }
    v
}

fn pcm16(x: &[f64]) -> Vec<u8> {
    x.iter()
        .flat_map(|&v| ((v * 32767.0).round().clamp(-32768.0, 32767.0) as i16).to_le_bytes())
        .collect()
}

fn pcm8(x: &[f64]) -> Vec<u8> {
    // 8-bit WAV is unsigned, silence at 128.
    x.iter()
        .map(|&v| ((v * 127.0).round() + 128.0).clamp(0.0, 255.0) as u8)
        .collect()
}

fn pcm24(x: &[f64]) -> Vec<u8> {
    x.iter()
        .flat_map(|&v| {
            let s = (v * 8_388_607.0).round() as i32;
            let b = s.to_le_bytes();
            [b[0], b[1], b[2]]
        })
        .collect()
}

fn pcm32(x: &[f64]) -> Vec<u8> {
    x.iter()
        .flat_map(|&v| ((v * 2_147_483_647.0).round() as i32).to_le_bytes())
        .collect()
}

fn f32le(x: &[f64]) -> Vec<u8> {
    x.iter().flat_map(|&v| (v as f32).to_le_bytes()).collect()
}

fn f64le(x: &[f64]) -> Vec<u8> {
    x.iter().flat_map(|&v| v.to_le_bytes()).collect()
}

/// Deterministic pseudo-random bytes (xorshift64*).
fn noise_bytes(n: usize, mut seed: u64) -> Vec<u8> {
    (0..n)
        .map(|_| {
            seed ^= seed >> 12;
            seed ^= seed << 25;
            seed ^= seed >> 27;
            (seed.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 56) as u8
        })
        .collect()
}

/// The compressed fixtures of the feature crate.
pub fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../cochlea-features/tests/fixtures")
}

/// Writes the corpus into `dir` (which must exist) and returns its cases.
pub fn write(dir: &Path) -> Vec<Case> {
    let mut cases = Vec::new();
    let mut file = |name: &[u8], bytes: &[u8], expect: Expect| {
        let rel = PathBuf::from(std::ffi::OsStr::from_bytes(name));
        std::fs::write(dir.join(&rel), bytes).unwrap();
        cases.push(Case { rel, expect });
    };
    use Expect::{Either, Handled, Reported};
    let sr = 8000;
    let half = tone(sr, 1, 4000, 0.5);
    let good = wav_bytes(PCM, 1, sr, 16, &pcm16(&half), None);

    // Not audio, or not enough of it.
    file(b"empty.wav", b"", Reported);
    file(b"random_bytes.wav", &noise_bytes(4096, 7), Either);
    file(b"truncated_header.wav", &good[..30], Reported);
    file(
        b"claims_more_data.wav",
        &wav_bytes(PCM, 1, sr, 16, &pcm16(&half[..400]), Some(8000)),
        Reported,
    );
    file(
        b"zero_samples.wav",
        &wav_bytes(PCM, 1, sr, 16, &[], None),
        Reported,
    );
    file(
        b"zero_channels.wav",
        &wav_bytes(PCM, 0, sr, 16, &pcm16(&half), None),
        Reported,
    );
    file(
        b"zero_rate.wav",
        &wav_bytes(PCM, 1, 0, 16, &pcm16(&half), None),
        Reported,
    );
    // Rates no recorder writes; a prime one would make the resampler's FFT
    // four billion samples long.
    for (name, rate) in [
        ("rate_4ghz.wav", 4_000_000_000u32),
        ("rate_prime_near_u32_max.wav", 4_294_967_291),
        ("rate_1hz.wav", 1),
    ] {
        file(
            name.as_bytes(),
            &wav_bytes(PCM, 1, rate, 16, &pcm16(&half), None),
            Reported,
        );
    }
    file(
        b"text.wav",
        b"This is a text file that was given an audio extension.\n",
        Reported,
    );
    file(b"text.mp3", b"ID3? no: just words in a file.\n", Reported);
    file(b"text.flac", b"fLaC is how a real one starts\n", Reported);

    // Edge cases of real audio.
    file(
        b"one_sample.wav",
        &wav_bytes(PCM, 1, sr, 16, &pcm16(&[0.25]), None),
        Handled,
    );
    file(
        b"silence.wav",
        &wav_bytes(PCM, 1, sr, 16, &vec![0u8; 8000], None),
        Handled,
    );
    let square: Vec<f64> = (0..4000)
        .map(|i| if (i / 20) % 2 == 0 { 1.0 } else { -1.0 })
        .collect();
    file(
        b"clipping.wav",
        &wav_bytes(PCM, 1, sr, 16, &pcm16(&square), None),
        Handled,
    );
    let mut nan_inf = f32le(&half);
    for (i, v) in [f32::NAN, f32::INFINITY, f32::NEG_INFINITY]
        .iter()
        .cycle()
        .take(300)
        .enumerate()
    {
        let at = 4 * (i * 13 + 5);
        nan_inf[at..at + 4].copy_from_slice(&v.to_le_bytes());
    }
    file(
        b"float_nan_inf.wav",
        &wav_bytes(FLOAT, 1, sr, 32, &nan_inf, None),
        Handled,
    );
    // Float audio mastered above full scale is audio; values of 1e30 are not
    // (they would overflow the f32 spectra).
    let hot: Vec<f64> = half.iter().map(|v| v * 8.0).collect();
    file(
        b"float_over_full_scale.wav",
        &wav_bytes(FLOAT, 1, sr, 32, &f32le(&hot), None),
        Handled,
    );
    let huge: Vec<f64> = half.iter().map(|v| v * 1e30).collect();
    file(
        b"float_huge_values.wav",
        &wav_bytes(FLOAT, 1, sr, 32, &f32le(&huge), None),
        Reported,
    );
    file(
        b"u8.wav",
        &wav_bytes(PCM, 1, sr, 8, &pcm8(&half), None),
        Handled,
    );
    file(
        b"s24.wav",
        &wav_bytes(PCM, 1, sr, 24, &pcm24(&half), None),
        Handled,
    );
    file(
        b"s32.wav",
        &wav_bytes(PCM, 1, sr, 32, &pcm32(&half), None),
        Handled,
    );
    file(
        b"f64.wav",
        &wav_bytes(FLOAT, 1, sr, 64, &f64le(&half), None),
        Handled,
    );
    file(
        b"extensible.wav",
        &wav_bytes(EXTENSIBLE, 2, sr, 16, &pcm16(&tone(sr, 2, 4000, 0.5)), None),
        Handled,
    );
    // A stereo mask of SPEAKER_ALL (0x80000000) and 40 channels: masks that
    // do not match the channel count.
    let mut speaker_all = wav_bytes(EXTENSIBLE, 2, sr, 16, &pcm16(&tone(sr, 2, 4000, 0.5)), None);
    speaker_all[40..44].copy_from_slice(&0x8000_0000u32.to_le_bytes());
    file(b"extensible_speaker_all.wav", &speaker_all, Handled);
    file(
        b"extensible_40_channels.wav",
        &wav_bytes(
            EXTENSIBLE,
            40,
            sr,
            16,
            &pcm16(&tone(sr, 40, 400, 0.5)),
            None,
        ),
        Reported,
    );
    file(
        b"stereo.wav",
        &wav_bytes(PCM, 2, sr, 16, &pcm16(&tone(sr, 2, 4000, 0.5)), None),
        Handled,
    );
    file(
        b"six_channels.wav",
        &wav_bytes(PCM, 6, sr, 16, &pcm16(&tone(sr, 6, 4000, 0.5)), None),
        Handled,
    );
    for rate in [
        4000u32, 11_025, 16_000, 22_050, 44_100, 48_000, 96_000, 192_000,
    ] {
        let n = rate as usize / 2;
        file(
            format!("rate_{rate}.wav").as_bytes(),
            &wav_bytes(PCM, 1, rate, 16, &pcm16(&tone(rate, 1, n, 0.5)), None),
            Handled,
        );
    }

    // Compressed formats, whole and cut short.
    for (src, name, cut_expect) in [
        ("tone440_8k.flac", "tone.flac", Reported),
        ("tone440_22050.mp3", "tone.mp3", Either),
        ("tone440_16k_stereo.ogg", "tone_stereo.ogg", Either),
    ] {
        let bytes = std::fs::read(fixtures().join(src)).unwrap();
        file(name.as_bytes(), &bytes, Handled);
        file(
            format!("cut_{name}").as_bytes(),
            &bytes[..bytes.len() * 2 / 3],
            cut_expect,
        );
    }

    // Awkward names.
    file("name with spaces ü 数字 ñ.wav".as_bytes(), &good, Handled);
    file(b"latin1_caf\xe9.wav", &good, Handled);
    file(b"UPPER.WAV", &good, Handled);

    // Things that are not files.
    std::fs::create_dir(dir.join("folder.wav")).unwrap();
    cases.push(Case {
        rel: "folder.wav".into(),
        expect: Expect::Ignored,
    });
    std::os::unix::fs::symlink("loop_b.wav", dir.join("loop_a.wav")).unwrap();
    std::os::unix::fs::symlink("loop_a.wav", dir.join("loop_b.wav")).unwrap();
    for n in ["loop_a.wav", "loop_b.wav"] {
        cases.push(Case {
            rel: n.into(),
            expect: Reported,
        });
    }
    std::os::unix::fs::symlink(".", dir.join("self_loop")).unwrap();
    cases.push(Case {
        rel: "self_loop".into(),
        expect: Expect::Ignored,
    });
    cases
}
