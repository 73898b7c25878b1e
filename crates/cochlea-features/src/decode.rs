//! Decoding: any WAV (8-bit unsigned, 16/24/32-bit integer, 32/64-bit float,
//! WAVE_FORMAT_EXTENSIBLE), AIFF, FLAC, MP3 or Ogg Vorbis file to one mono `f32`
//! clip at a requested sample rate, with a few facts about the source.
//!
//! symphonia demuxes and decodes; channels are averaged (`librosa.to_mono`);
//! NaN and infinite samples become 0.0 and are counted; a clip at another
//! rate goes through the band-limited resampler in [`crate::resample`].
//! Each packet is downmixed, measured and resampled as it is decoded, and a
//! file above [`STREAM_ABOVE`] bytes is read as decoding goes, so a long
//! recording costs its output samples in memory, not its file or its
//! samples at the source rate.
//! Damaged files are errors, never panics: a WAV or FLAC file cut short of the
//! length its header declares is reported as truncated rather than silently
//! shortened, a packet that fails to decode fails the file (a training
//! set is better without a clip than with a garbled one), and so does a float
//! file whose samples reach [`MAX_PEAK`]. Sample rates outside
//! [`SOURCE_RATES`] are refused.

use std::borrow::Cow;
use std::fs;
use std::io::{Cursor, Read, Seek};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use symphonia::core::audio::sample::Sample;
use symphonia::core::audio::{Audio, AudioBuffer, GenericAudioBufferRef};
use symphonia::core::codecs::audio::AudioDecoderOptions;
use symphonia::core::errors::Error as SymphoniaError;
use symphonia::core::formats::probe::Hint;
use symphonia::core::formats::{FormatOptions, TrackType};
use symphonia::core::io::{MediaSourceStream, MediaSourceStreamOptions};
use symphonia::core::meta::MetadataOptions;

use crate::{Error, resample};

/// A decoded clip: mono samples at `sample_rate`.
#[derive(Clone, Debug)]
pub struct Clip {
    /// Mono samples, nominally in -1..1.
    pub samples: Vec<f32>,
    /// Sample rate of `samples` in Hz (the rate that was asked for).
    pub sample_rate: u32,
    /// Facts about the source file.
    pub info: ClipInfo,
}

/// Facts about a decoded file, for reports and data checks.
///
/// Level statistics describe the mono signal at the file's own rate, before
/// resampling; `samples_hash` describes the samples handed to feature
/// extraction.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct ClipInfo {
    /// The file.
    pub path: PathBuf,
    /// The file's sample rate in Hz.
    pub source_sample_rate: u32,
    /// Channels in the file (averaged into one).
    pub channels: u16,
    /// Frames (samples per channel) in the file, before resampling.
    pub source_frames: u64,
    /// Duration in seconds, `source_frames / source_sample_rate`.
    pub duration_s: f64,
    /// Largest `|x|` after the downmix.
    pub peak: f32,
    /// Root-mean-square level after the downmix.
    pub rms: f32,
    /// Fraction of samples with `|x| >= 0.999` (clipping).
    pub clipped_fraction: f32,
    /// Fraction of 25 ms blocks whose RMS is below -60 dBFS.
    pub silent_fraction: f32,
    /// Hash of the bits of the output samples: equal audio at the same rate
    /// has equal hashes (duplicate detection). Stable across platforms.
    pub samples_hash: u64,
    /// NaN or infinite samples replaced by 0.0.
    pub non_finite_replaced: u64,
}

/// The file at `path`, opened, and its length: one open and one fstat, as
/// `fs::read` does, for either way of reading.
fn open(path: &Path) -> Result<(fs::File, u64), Error> {
    let io = |source| Error::Io {
        path: path.to_path_buf(),
        source,
    };
    let file = fs::File::open(path).map_err(io)?;
    let len = file.metadata().map_err(io)?.len();
    Ok((file, len))
}

/// Decode the file at `path` to mono at `target_sr` Hz.
pub fn decode_file(path: &Path, target_sr: u32) -> Result<Clip, Error> {
    let (mut file, len) = open(path)?;
    let ext = path.extension().and_then(|e| e.to_str());
    if len > STREAM_ABOVE {
        // Read from the file as decoding goes: the bytes of a long recording
        // are never held. Its WAV headers are settled on the bytes symphonia's
        // probe can reach; a header that needs a change goes the other way.
        if streamable(&mut file, path)? {
            let mss = MediaSourceStream::new(Box::new(file), MediaSourceStreamOptions::default());
            return decode_stream(mss, len, ext, target_sr, path);
        }
    }
    // Whole-file reads: clips are small, and one read beats many buffered ones.
    let mut bytes = Vec::with_capacity(usize::try_from(len).unwrap_or(0).saturating_add(1));
    file.read_to_end(&mut bytes).map_err(|source| Error::Io {
        path: path.to_path_buf(),
        source,
    })?;
    decode_source(Cow::Owned(bytes), ext, target_sr, path)
}

/// Files larger than this are decoded from the file as it is read rather
/// than from a copy in memory (16 MiB: 17 minutes of 8 kHz 16-bit mono,
/// 95 s of 44.1 kHz 16-bit stereo).
pub const STREAM_ABOVE: u64 = 16 << 20;

/// Bytes from the start of a file within which symphonia's probe looks for
/// a container's first header (its 1 MB search depth), plus room for that
/// header's chunks.
const PROBE_REACH: u64 = (1 << 20) + (64 << 10);

/// Decode audio held in memory, as if read from `name` (used in errors and
/// [`ClipInfo::path`]). `hint_ext` is a file extension that helps pick the
/// container reader ("wav", "flac", ...); content is probed either way.
/// The bytes are read in place, and copied only when a WAV channel mask must
/// be settled before symphonia reads it.
pub fn decode_bytes(
    bytes: &[u8],
    hint_ext: Option<&str>,
    target_sr: u32,
    name: &Path,
) -> Result<Clip, Error> {
    decode_source(Cow::Borrowed(bytes), hint_ext, target_sr, name)
}

fn decode_source(
    mut bytes: Cow<'_, [u8]>,
    ext: Option<&str>,
    target_sr: u32,
    path: &Path,
) -> Result<Clip, Error> {
    if bytes.is_empty() {
        return Err(Error::Malformed {
            path: path.to_path_buf(),
            reason: "the file is empty (0 bytes)".into(),
        });
    }
    let masks = wave_masks_to_clear(&bytes, path)?;
    if !masks.is_empty() {
        let b = bytes.to_mut();
        for at in masks {
            b[at..at + 4].fill(0);
        }
    }
    let byte_len = bytes.len() as u64;
    let mss = MediaSourceStream::new(
        Box::new(Cursor::new(bytes)),
        MediaSourceStreamOptions::default(),
    );
    decode_stream(mss, byte_len, ext, target_sr, path)
}

/// Decodes `mss` (`byte_len` bytes) packet by packet: each packet is mixed
/// to mono, measured and resampled at once, so only the output is ever held
/// whole.
fn decode_stream(
    mss: MediaSourceStream<'_>,
    byte_len: u64,
    ext: Option<&str>,
    target_sr: u32,
    path: &Path,
) -> Result<Clip, Error> {
    let Decoded {
        samples,
        source_rate,
        source_frames,
        channels,
        non_finite,
        stats,
    } = decode_checked(mss, byte_len, ext, target_sr, path, None)?;

    let info = ClipInfo {
        path: path.to_path_buf(),
        source_sample_rate: source_rate,
        channels,
        source_frames,
        duration_s: source_frames as f64 / f64::from(source_rate),
        peak: stats.peak,
        rms: stats.rms,
        clipped_fraction: stats.clipped_fraction,
        silent_fraction: stats.silent_fraction,
        samples_hash: samples_hash(&samples),
        non_finite_replaced: non_finite,
    };
    Ok(Clip {
        samples,
        sample_rate: target_sr,
        info,
    })
}

/// [`decode_mono`] with the checks every decoded file passes: a target
/// rate above 0, at least one frame, a peak within [`MAX_PEAK`].
fn decode_checked(
    mss: MediaSourceStream<'_>,
    byte_len: u64,
    ext: Option<&str>,
    target_sr: u32,
    path: &Path,
    sink: Option<&mut Sink<'_>>,
) -> Result<Decoded, Error> {
    if target_sr == 0 {
        return Err(resample_error(
            path,
            0,
            0,
            "the requested sample rate is 0 Hz".into(),
        ));
    }
    let d = decode_mono(mss, byte_len, ext, target_sr, path, sink)?;
    if d.source_frames == 0 {
        return Err(Error::Empty {
            path: path.to_path_buf(),
        });
    }
    if d.stats.peak > MAX_PEAK {
        return Err(too_loud(path, d.stats.peak));
    }
    Ok(d)
}

/// Reads the start of `file` (as far as symphonia's probe reaches) and
/// rewinds it: whether its WAV headers can be read as they are, so the
/// file can be decoded as it is read, rather than settled in a copy.
fn streamable(file: &mut fs::File, path: &Path) -> Result<bool, Error> {
    let io = |source| Error::Io {
        path: path.to_path_buf(),
        source,
    };
    let mut head = Vec::new();
    (&mut *file)
        .take(PROBE_REACH)
        .read_to_end(&mut head)
        .map_err(io)?;
    let settled = wave_masks_to_clear(&head, path)?;
    file.rewind().map_err(io)?;
    Ok(settled.is_empty())
}

/// What [`decode_file_each`] learnt about a file.
#[derive(Clone, Debug, PartialEq)]
pub struct StreamInfo {
    /// The file's sample rate in Hz.
    pub source_sample_rate: u32,
    /// Channels in the file (averaged into one).
    pub channels: u16,
    /// Frames (samples per channel) in the file, before resampling.
    pub source_frames: u64,
    /// Duration in seconds, `source_frames / source_sample_rate`.
    pub duration_s: f64,
}

/// [`decode_file`] for recordings of any length: the mono samples at
/// `target_sr` go to `sink` piece by piece as they are decoded and
/// resampled, and are never held whole (memory: one packet and the
/// resampler's chunk). The concatenated pieces are the samples
/// [`decode_file`] returns; a file that fails to decode half-way has fed
/// the sink its first part before the error.
pub fn decode_file_each(
    path: &Path,
    target_sr: u32,
    sink: &mut dyn FnMut(&[f32]),
) -> Result<StreamInfo, Error> {
    let (mut file, len) = open(path)?;
    let ext = path.extension().and_then(|e| e.to_str());
    if len == 0 {
        return Err(Error::Malformed {
            path: path.to_path_buf(),
            reason: "the file is empty (0 bytes)".into(),
        });
    }
    if !streamable(&mut file, path)? {
        // A WAV header that must be settled in a copy: decoded whole (such
        // files are rare and short).
        let clip = decode_file(path, target_sr)?;
        sink(&clip.samples);
        return Ok(StreamInfo {
            source_sample_rate: clip.info.source_sample_rate,
            channels: clip.info.channels,
            source_frames: clip.info.source_frames,
            duration_s: clip.info.duration_s,
        });
    }
    let mss = MediaSourceStream::new(Box::new(file), MediaSourceStreamOptions::default());
    let d = decode_checked(mss, len, ext, target_sr, path, Some(sink))?;
    Ok(StreamInfo {
        source_sample_rate: d.source_rate,
        channels: d.channels,
        source_frames: d.source_frames,
        duration_s: d.source_frames as f64 / f64::from(d.source_rate),
    })
}

/// The name of a codec this build cannot decode, for the error message.
fn codec_name(id: symphonia::core::codecs::audio::AudioCodecId) -> Option<&'static str> {
    use symphonia::core::codecs::audio::well_known as c;
    let names = [
        (c::CODEC_ID_OPUS, "Opus"),
        (c::CODEC_ID_SPEEX, "Speex"),
        (c::CODEC_ID_AAC, "AAC"),
        (c::CODEC_ID_ALAC, "ALAC"),
        (c::CODEC_ID_AC3, "AC-3"),
        (c::CODEC_ID_EAC3, "E-AC-3"),
        (c::CODEC_ID_WMA, "WMA"),
        (c::CODEC_ID_MUSEPACK, "Musepack"),
        (c::CODEC_ID_WAVPACK, "WavPack"),
        (c::CODEC_ID_MONKEYS_AUDIO, "Monkey's Audio"),
        (c::CODEC_ID_TTA, "TTA"),
        (c::CODEC_ID_MP1, "MPEG Layer 1"),
        (c::CODEC_ID_MP2, "MPEG Layer 2"),
    ];
    names.iter().find(|(k, _)| *k == id).map(|(_, n)| *n)
}

/// Map a symphonia error to ours, naming the file.
fn symphonia_error(path: &Path, stage: &str, err: SymphoniaError) -> Error {
    let path = path.to_path_buf();
    match err {
        SymphoniaError::IoError(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
            Error::Malformed {
                path,
                reason: format!("truncated: unexpected end of file while {stage}"),
            }
        }
        SymphoniaError::IoError(source) => Error::Io { path, source },
        SymphoniaError::Unsupported(what) => Error::Unsupported {
            path,
            reason: format!("{what} (while {stage})"),
        },
        SymphoniaError::DecodeError(what) => Error::Malformed {
            path,
            reason: format!("{what} (while {stage})"),
        },
        SymphoniaError::LimitError(what) => Error::Malformed {
            path,
            reason: format!("limit exceeded: {what} (while {stage})"),
        },
        other => Error::Malformed {
            path,
            reason: format!("{other} (while {stage})"),
        },
    }
}

/// Largest sample magnitude accepted. Integer formats stay within 1.0, and
/// float files a little above it when mastered hot; values a million times
/// full scale are garbage (and from about 1e12 on, the f32 power spectrum and
/// mel sums of feature extraction overflow to infinity).
pub const MAX_PEAK: f32 = 1e6;

/// Sample rates a file may have, in Hz. Real recorders write 4 kHz to
/// 768 kHz (bat detectors up to about 1 MHz); a header outside this range is
/// damaged, and resampling from it could not be done in bounded memory: the
/// resampler's FFT spans `rate / gcd(rate, target)` samples, four billion for
/// a prime rate near `u32::MAX`.
pub const SOURCE_RATES: std::ops::RangeInclusive<u32> = 100..=1_000_000;

struct Decoded {
    /// Mono at the requested rate.
    samples: Vec<f32>,
    source_rate: u32,
    /// Mono frames at the source rate.
    source_frames: u64,
    channels: u16,
    non_finite: u64,
    stats: Levels,
}

/// Where [`decode_file_each`] hands out samples.
type Sink<'a> = dyn FnMut(&[f32]) + 'a;

/// With a `sink`, the output goes to it as it is made and `samples` comes
/// back empty.
fn decode_mono(
    mss: MediaSourceStream<'_>,
    byte_len: u64,
    ext: Option<&str>,
    target_sr: u32,
    path: &Path,
    mut sink: Option<&mut Sink<'_>>,
) -> Result<Decoded, Error> {
    let malformed = |reason: String| Error::Malformed {
        path: path.to_path_buf(),
        reason,
    };
    let mut hint = Hint::new();
    if let Some(ext) = ext {
        hint.with_extension(ext);
    }
    let mut format = symphonia::default::get_probe()
        .probe(
            &hint,
            mss,
            FormatOptions::default(),
            MetadataOptions::default(),
        )
        .map_err(|e| match e {
            SymphoniaError::Unsupported(_) => Error::Unsupported {
                path: path.to_path_buf(),
                reason: "not a recognised audio container (WAV, AIFF, FLAC, MP3, Ogg)".into(),
            },
            other => symphonia_error(path, "reading the header", other),
        })?;
    let track = format
        .default_track(TrackType::Audio)
        .ok_or_else(|| Error::Unsupported {
            path: path.to_path_buf(),
            reason: "no audio track".into(),
        })?;
    let track_id = track.id;
    // WAV and FLAC headers state the exact length; MP3 and Ogg lengths are
    // estimates that gapless trimming may undercut.
    let exact_length = matches!(format.format_info().short_name, "wave" | "aiff" | "flac");
    let declared_frames = track.num_frames;
    let params = track
        .codec_params
        .as_ref()
        .and_then(|p| p.audio())
        .cloned()
        .ok_or_else(|| Error::Unsupported {
            path: path.to_path_buf(),
            reason: "no audio codec parameters".into(),
        })?;
    let mut decoder = symphonia::default::get_codecs()
        .make_audio_decoder(&params, &AudioDecoderOptions::default())
        .map_err(|e| match (e, codec_name(params.codec)) {
            (SymphoniaError::Unsupported(_), Some(name)) => Error::Unsupported {
                path: path.to_path_buf(),
                reason: format!(
                    "the {name} codec is not supported (supported: PCM, FLAC, MP3, Vorbis, AAC); \
                     convert the file, e.g. to FLAC or WAV"
                ),
            },
            (e, _) => symphonia_error(path, "opening the decoder", e),
        })?;

    // Reserve what the header declares, but no more than the file could
    // hold (a damaged header may claim billions of frames).
    let plausible = (4 * byte_len).min(1 << 26);
    let reserve = declared_frames.unwrap_or(0).min(plausible) as usize;
    let mut piece: Vec<f32> = Vec::new();
    let mut interleaved: Vec<f32> = Vec::new();
    let mut channels: Option<usize> = params.channels.as_ref().map(|c| c.count());
    let mut rate: Option<u32> = params.sample_rate.filter(|&r| r > 0);
    // Resampler, level statistics and source rate, from the first packet.
    let mut state: Option<(resample::Stream, LevelsAcc, u32)> = None;
    let mut source_frames = 0u64;
    let mut non_finite = 0u64;
    loop {
        let packet = match format.next_packet() {
            Ok(Some(packet)) => packet,
            Ok(None) => break,
            // A chained Ogg stream starts over with new parameters: the first
            // stream is the clip.
            Err(SymphoniaError::ResetRequired) => break,
            Err(e) => return Err(symphonia_error(path, "reading packets", e)),
        };
        if packet.track_id != track_id {
            continue;
        }
        let buf = decoder
            .decode(&packet)
            .map_err(|e| symphonia_error(path, "decoding", e))?;
        let spec = buf.spec();
        let n_ch = spec.channels().count();
        if n_ch == 0 {
            return Err(malformed("a packet has no channels".into()));
        }
        match channels {
            Some(c) if c != n_ch && source_frames > 0 => {
                return Err(malformed(format!(
                    "channel count changes from {c} to {n_ch}"
                )));
            }
            _ => channels = Some(n_ch),
        }
        if rate.is_none() {
            rate = Some(spec.rate()).filter(|&r| r > 0);
        }
        let (stream, levels, from) = match &mut state {
            Some(st) => st,
            None => {
                // The first packet: the rate is known now or never.
                let from = check_rate(rate, path)?;
                let mut s = resample::Stream::new(from, target_sr)
                    .map_err(|reason| resample_error(path, from, target_sr, reason))?;
                s.reserve_for_input(reserve);
                state.insert((s, LevelsAcc::new(from), from))
            }
        };
        if let Some(out) = stream.passthrough_buffer() {
            // Same rate: the packet goes straight into the output, which is
            // measured whole at the end.
            let start = out.len();
            append_mono(&buf, n_ch, out, &mut interleaved, &mut non_finite);
            source_frames += (out.len() - start) as u64;
            if let Some(s) = sink.as_mut() {
                levels.push(&out[start..]);
                s(&out[start..]);
                out.clear();
            }
            continue;
        }
        piece.clear();
        append_mono(&buf, n_ch, &mut piece, &mut interleaved, &mut non_finite);
        source_frames += piece.len() as u64;
        // Refused before it reaches the resampler, whose FFTs overflow on
        // it; without resampling, after decoding (`decode_stream`).
        let peak = peak_of(&piece);
        if peak > MAX_PEAK {
            return Err(too_loud(path, peak));
        }
        levels.push(&piece);
        stream
            .push(&piece)
            .map_err(|reason| resample_error(path, *from, target_sr, reason))?;
        if let Some(s) = sink.as_mut() {
            stream.drain(|x| s(x));
        }
    }
    let source_rate = check_rate(rate, path)?;
    let channels = channels.unwrap_or(1);
    if let Some(declared) = declared_frames
        && exact_length
        && source_frames < declared
    {
        return Err(malformed(format!(
            "truncated: the header declares {declared} frames, the file holds {source_frames}"
        )));
    }
    let (samples, stats) = match state {
        Some((stream, mut levels, _)) => {
            let mut samples = stream
                .finish()
                .map_err(|reason| resample_error(path, source_rate, target_sr, reason))?;
            if source_rate == target_sr {
                levels.push(&samples);
            }
            if let Some(s) = sink.as_mut() {
                s(&samples);
                samples = Vec::new();
            }
            (samples, levels.finish())
        }
        None => (Vec::new(), LevelsAcc::new(source_rate).finish()),
    };
    Ok(Decoded {
        samples,
        source_rate,
        source_frames,
        channels: u16::try_from(channels).unwrap_or(u16::MAX),
        non_finite,
        stats,
    })
}

/// Largest `|x|`, in eight lanes so that it vectorises.
fn peak_of(x: &[f32]) -> f32 {
    let mut p = [0.0f32; 8];
    let lanes = x.chunks_exact(8);
    let tail = lanes.remainder().iter().fold(0.0f32, |m, v| m.max(v.abs()));
    for v in lanes {
        for i in 0..8 {
            p[i] = p[i].max(v[i].abs());
        }
    }
    p.iter().fold(tail, |m, &v| m.max(v))
}

fn too_loud(path: &Path, peak: f32) -> Error {
    Error::Malformed {
        path: path.to_path_buf(),
        reason: format!(
            "samples reach {peak:.3e}, far beyond full scale (1.0): damaged float data"
        ),
    }
}

fn resample_error(path: &Path, from: u32, to: u32, reason: String) -> Error {
    Error::Resample {
        path: path.to_path_buf(),
        from,
        to,
        reason,
    }
}

/// The source rate, if there is one and it is in [`SOURCE_RATES`].
fn check_rate(rate: Option<u32>, path: &Path) -> Result<u32, Error> {
    let rate = rate.ok_or_else(|| Error::Malformed {
        path: path.to_path_buf(),
        reason: "no sample rate in the header".into(),
    })?;
    if !SOURCE_RATES.contains(&rate) {
        return Err(Error::Unsupported {
            path: path.to_path_buf(),
            reason: format!(
                "a sample rate of {rate} Hz (supported: {} Hz to {} Hz)",
                SOURCE_RATES.start(),
                SOURCE_RATES.end()
            ),
        });
    }
    Ok(rate)
}

/// Channels a WAVE_FORMAT_EXTENSIBLE mask can position (symphonia's limit).
const MAX_POSITIONED_CHANNELS: u16 = 18;

/// Channels symphonia maps for a plain PCM or float WAV.
const MAX_WAVE_CHANNELS: u16 = 26;

/// [`wave_mask_to_clear`] for every RIFF/WAVE header in the buffer:
/// symphonia's probe finds one after junk or metadata too, not only at the
/// first byte. Returns the offsets of the masks to set to 0.
fn wave_masks_to_clear(bytes: &[u8], path: &Path) -> Result<Vec<usize>, Error> {
    let unsupported = |reason| Error::Unsupported {
        path: path.to_path_buf(),
        reason,
    };
    let mut masks = Vec::new();
    let mut from = 0;
    while let Some(i) = bytes[from..]
        .windows(12)
        .position(|w| w[0..4] == *b"RIFF" && w[8..12] == *b"WAVE")
    {
        masks.extend(
            wave_mask_to_clear(&bytes[from + i..])
                .map_err(unsupported)?
                .map(|at| from + i + at),
        );
        from += i + 4;
    }
    Ok(masks)
}

/// Settles, before symphonia reads the WAV header at the start of `bytes`,
/// the header fields that symphonia-format-riff 0.6 mishandles: `Err` is
/// why the file is refused, `Some` the offset of a channel mask to set to 0.
///
/// - Plain PCM: `read_pcm_fmt` multiplies the channel count by the sample
///   size in 16 bits (overflow from 16384 channels: a panic with overflow
///   checks) before refusing more than 26 channels; those are refused here.
/// - WAVE_FORMAT_EXTENSIBLE: `fix_wave_channel_mask` repairs a mask whose
///   bit count differs from the channel count by shifting `1` by the number
///   of missing channels and by the position above the mask's top bit. That
///   overflows (a panic with overflow checks, a wrong mask and a refused file
///   without) for a stereo file whose mask is `SPEAKER_ALL` (0x80000000) or
///   for 32 and more channels. Such a mask is set to 0 in a copy, which
///   symphonia reads as the first N standard positions; positions do not
///   matter here, since every channel is averaged into one.
fn wave_mask_to_clear(bytes: &[u8]) -> Result<Option<usize>, String> {
    // Ambisonic B-format sub-formats ({00000001,00000003}-0721-11d3-8644-
    // c8c1ca000000) take no mask; every other one goes through the repair.
    const AMBISONIC_TAIL: [u8; 12] = [
        0x21, 0x07, 0xd3, 0x11, 0x86, 0x44, 0xc8, 0xc1, 0xca, 0x00, 0x00, 0x00,
    ];
    let u16_at =
        |b: &[u8], at: usize| Some(u16::from_le_bytes(b.get(at..at + 2)?.try_into().ok()?));
    let u32_at =
        |b: &[u8], at: usize| Some(u32::from_le_bytes(b.get(at..at + 4)?.try_into().ok()?));
    if bytes.get(0..4) != Some(b"RIFF") || bytes.get(8..12) != Some(b"WAVE") {
        return Ok(None);
    }
    // Chunks follow "WAVE": id, little-endian size, body padded to even.
    let mut at = 12usize;
    while let Some(size) = u32_at(bytes, at + 4) {
        let body = at + 8;
        let end = body.checked_add(size as usize);
        if bytes.get(at..at + 4) != Some(b"fmt ") {
            match end.and_then(|e| e.checked_add(size as usize % 2)) {
                Some(next) => at = next,
                None => return Ok(None),
            }
            continue;
        }
        // A fmt chunk whose declared size runs past the end of the file is
        // still read field by field by symphonia: settle what is there.
        let Some(fmt) = bytes.get(body..end.unwrap_or(usize::MAX).min(bytes.len())) else {
            return Ok(None);
        };
        let (Some(tag), Some(channels)) = (u16_at(fmt, 0), u16_at(fmt, 2)) else {
            return Ok(None);
        };
        if tag == 1 && channels > MAX_WAVE_CHANNELS {
            return Err(format!(
                "{channels} channels in a WAV file (at most {MAX_WAVE_CHANNELS})"
            ));
        }
        let (Some(mask), Some(guid)) = (u32_at(fmt, 20), fmt.get(28..40)) else {
            return Ok(None);
        };
        if tag != 0xFFFE || guid == AMBISONIC_TAIL || mask.count_ones() == u32::from(channels) {
            return Ok(None);
        }
        if channels > MAX_POSITIONED_CHANNELS {
            return Err(format!(
                "{channels} channels in a WAVE_FORMAT_EXTENSIBLE file (at most \
                 {MAX_POSITIONED_CHANNELS} positioned channels)"
            ));
        }
        return Ok(Some(body + 20));
    }
    Ok(None)
}

/// Level statistics of a mono signal.
struct Levels {
    peak: f32,
    rms: f32,
    clipped_fraction: f32,
    silent_fraction: f32,
}

/// [`Levels`] of a signal fed piece by piece, in 25 ms blocks at the
/// source rate; pieces may cut blocks anywhere.
struct LevelsAcc {
    block: usize,
    /// The start of a block that the last piece left incomplete.
    partial: Vec<f32>,
    n: u64,
    peak: f32,
    energy: f64,
    clipped: u64,
    blocks: u64,
    silent: u64,
}

impl LevelsAcc {
    fn new(sample_rate: u32) -> LevelsAcc {
        LevelsAcc {
            block: ((f64::from(sample_rate) * 0.025).round() as usize).max(1),
            partial: Vec::new(),
            n: 0,
            peak: 0.0,
            energy: 0.0,
            clipped: 0,
            blocks: 0,
            silent: 0,
        }
    }

    fn push(&mut self, mut x: &[f32]) {
        self.n += x.len() as u64;
        if !self.partial.is_empty() {
            let take = (self.block - self.partial.len()).min(x.len());
            self.partial.extend_from_slice(&x[..take]);
            x = &x[take..];
            if self.partial.len() < self.block {
                return;
            }
            let full = std::mem::take(&mut self.partial);
            self.add_block(&full);
            self.partial = full;
            self.partial.clear();
        }
        let blocks = x.chunks_exact(self.block);
        self.partial.extend_from_slice(blocks.remainder());
        for b in blocks {
            self.add_block(b);
        }
    }

    /// One block: eight lanes so the sums vectorise; the clip's energy is
    /// the f64 sum of the block energies.
    fn add_block(&mut self, chunk: &[f32]) {
        // -60 dBFS in amplitude.
        const SILENCE: f64 = 1e-3;
        let (mut e, mut p, mut c) = ([0.0f32; 8], [0.0f32; 8], [0u32; 8]);
        let lanes = chunk.chunks_exact(8);
        let tail = lanes.remainder();
        for v in lanes {
            for i in 0..8 {
                e[i] += v[i] * v[i];
                p[i] = p[i].max(v[i].abs());
                c[i] += u32::from(v[i].abs() >= 0.999);
            }
        }
        for (i, &v) in tail.iter().enumerate() {
            e[i] += v * v;
            p[i] = p[i].max(v.abs());
            c[i] += u32::from(v.abs() >= 0.999);
        }
        let block_energy: f64 = e.iter().map(|&v| f64::from(v)).sum();
        self.energy += block_energy;
        self.peak = p.iter().fold(self.peak, |m, &v| m.max(v));
        self.clipped += c.iter().map(|&v| u64::from(v)).sum::<u64>();
        self.blocks += 1;
        if (block_energy / chunk.len() as f64).sqrt() < SILENCE {
            self.silent += 1;
        }
    }

    fn finish(mut self) -> Levels {
        if !self.partial.is_empty() {
            let last = std::mem::take(&mut self.partial);
            self.add_block(&last);
        }
        let n = self.n.max(1) as f64;
        Levels {
            peak: self.peak,
            rms: (self.energy / n).sqrt() as f32,
            clipped_fraction: (self.clipped as f64 / n) as f32,
            silent_fraction: if self.blocks == 0 {
                0.0
            } else {
                (self.silent as f64 / self.blocks as f64) as f32
            },
        }
    }
}

/// Append one decoded buffer to `mono`: channels averaged in channel order,
/// NaN and infinities replaced by 0.0 and counted.
///
/// 16-bit integer and 32-bit float buffers (most WAVs) are read plane by
/// plane with the same conversion symphonia applies (`s / 32768`); other
/// formats go through symphonia's interleaved copy.
fn append_mono(
    buf: &GenericAudioBufferRef<'_>,
    n_ch: usize,
    mono: &mut Vec<f32>,
    interleaved: &mut Vec<f32>,
    non_finite: &mut u64,
) {
    match buf {
        GenericAudioBufferRef::S16(b) => mix_planes(b, n_ch, mono, |s| f32::from(s) / 32_768.0),
        GenericAudioBufferRef::F32(b) => mix_planes(b, n_ch, mono, |s: f32| {
            if s.is_finite() {
                s
            } else {
                *non_finite += 1;
                0.0
            }
        }),
        _ => {
            buf.copy_to_vec_interleaved(interleaved);
            for x in interleaved.iter_mut() {
                if !x.is_finite() {
                    *x = 0.0;
                    *non_finite += 1;
                }
            }
            if n_ch == 1 {
                mono.extend_from_slice(interleaved);
            } else {
                let scale = 1.0 / n_ch as f32;
                mono.extend(
                    interleaved
                        .chunks_exact(n_ch)
                        .map(|f| f.iter().sum::<f32>() * scale),
                );
            }
        }
    }
}

/// Sum the planes of `buf` into new samples of `mono` (plane 0 first, as the
/// interleaved path adds them), then scale by `1 / n_ch`.
fn mix_planes<S: Sample>(
    buf: &AudioBuffer<S>,
    n_ch: usize,
    mono: &mut Vec<f32>,
    mut convert: impl FnMut(S) -> f32,
) {
    let start = mono.len();
    let frames = buf.frames();
    match buf.plane(0) {
        Some(p) => mono.extend(p.iter().map(|&s| convert(s))),
        None => mono.resize(start + frames, 0.0),
    }
    for c in 1..n_ch {
        if let Some(p) = buf.plane(c) {
            for (m, &s) in mono[start..].iter_mut().zip(p) {
                *m += convert(s);
            }
        }
    }
    if n_ch > 1 {
        let scale = 1.0 / n_ch as f32;
        for m in &mut mono[start..] {
            *m *= scale;
        }
    }
}

/// A 64-bit hash of the samples' bit patterns (little-endian order, length
/// included): four independent multiply-xor lanes, so it runs at memory speed,
/// then folded. Not cryptographic; for finding identical clips.
pub fn samples_hash(samples: &[f32]) -> u64 {
    const K: [u64; 4] = [
        0x9E37_79B9_7F4A_7C15,
        0xC2B2_AE3D_27D4_EB4F,
        0x1656_67B1_9E37_79F9,
        0x85EB_CA77_C2B2_AE63,
    ];
    let mut lanes = K;
    let mut chunks = samples.chunks_exact(8);
    for c in &mut chunks {
        for (i, lane) in lanes.iter_mut().enumerate() {
            let w = u64::from(c[2 * i].to_bits()) | (u64::from(c[2 * i + 1].to_bits()) << 32);
            *lane = (*lane ^ w)
                .wrapping_mul(0x0000_0100_0000_01B3)
                .rotate_left(29);
        }
    }
    let mut h = (samples.len() as u64).wrapping_mul(K[0]);
    for &v in chunks.remainder() {
        h = (h ^ u64::from(v.to_bits()))
            .wrapping_mul(0x0000_0100_0000_01B3)
            .rotate_left(29);
    }
    for lane in lanes {
        h = (h ^ lane).wrapping_mul(K[1]).rotate_left(31);
    }
    h ^ (h >> 33)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A WAVE_FORMAT_EXTENSIBLE 16-bit PCM file with `channels` channels
    /// (the same tone on each) and the given channel mask.
    fn extensible(channels: u16, mask: u32) -> Vec<u8> {
        let frames = 800usize;
        let mut data = Vec::new();
        for i in 0..frames {
            let s = (8000.0 * (i as f32 * 0.2).sin()) as i16;
            for _ in 0..channels {
                data.extend_from_slice(&s.to_le_bytes());
            }
        }
        let mut fmt = Vec::new();
        fmt.extend_from_slice(&0xFFFEu16.to_le_bytes());
        fmt.extend_from_slice(&channels.to_le_bytes());
        fmt.extend_from_slice(&8000u32.to_le_bytes());
        fmt.extend_from_slice(&(8000 * 2 * u32::from(channels)).to_le_bytes());
        fmt.extend_from_slice(&(2 * channels).to_le_bytes());
        fmt.extend_from_slice(&16u16.to_le_bytes());
        fmt.extend_from_slice(&22u16.to_le_bytes());
        fmt.extend_from_slice(&16u16.to_le_bytes());
        fmt.extend_from_slice(&mask.to_le_bytes());
        // KSDATAFORMAT_SUBTYPE_PCM
        fmt.extend_from_slice(&[
            0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xaa, 0x00, 0x38,
            0x9b, 0x71,
        ]);
        let mut b = b"RIFF".to_vec();
        b.extend_from_slice(&((4 + 8 + fmt.len() + 8 + data.len()) as u32).to_le_bytes());
        b.extend_from_slice(b"WAVEfmt ");
        b.extend_from_slice(&(fmt.len() as u32).to_le_bytes());
        b.extend_from_slice(&fmt);
        b.extend_from_slice(b"data");
        b.extend_from_slice(&(data.len() as u32).to_le_bytes());
        b.extend_from_slice(&data);
        b
    }

    /// Level facts do not depend on how the signal was cut into packets.
    #[test]
    fn levels_fed_in_pieces_equal_levels_of_the_whole() {
        let x: Vec<f32> = (0..10_007)
            .map(|i| match i {
                2000..=4000 => 0.0,
                5000..=5100 => 1.0,
                _ => (i as f32 * 0.05).sin() * 0.3,
            })
            .collect();
        let of = |pieces: &mut dyn Iterator<Item = &[f32]>| {
            let mut acc = LevelsAcc::new(8000);
            for p in pieces {
                acc.push(p);
            }
            let l = acc.finish();
            (l.peak, l.rms, l.clipped_fraction, l.silent_fraction)
        };
        let whole = of(&mut std::iter::once(&x[..]));
        assert!(whole.2 > 0.0 && whole.3 > 0.0, "{whole:?}");
        for piece in [1, 7, 199, 200, 201, 1152, 4096] {
            assert_eq!(of(&mut x.chunks(piece)), whole, "pieces of {piece}");
        }
        assert_eq!(of(&mut std::iter::empty()).0, 0.0);
    }

    #[test]
    fn extensible_masks_that_miss_the_channel_count_still_decode() {
        let name = Path::new("x.wav");
        // Stereo with SPEAKER_ALL (0x80000000), with no mask, with too many
        // bits: all are the same two channels averaged.
        for mask in [0x8000_0000, 0, 0b111, 0b11] {
            let clip = decode_bytes(&extensible(2, mask), Some("wav"), 8000, name)
                .unwrap_or_else(|e| panic!("mask {mask:#x}: {e}"));
            assert_eq!(clip.info.channels, 2);
            assert_eq!(clip.samples.len(), 800);
            assert!((clip.samples[10] - (8000.0 * 2.0f32.sin()).trunc() / 32768.0).abs() < 1e-6);
        }
        // More channels than a mask can position is refused by name.
        let err = decode_bytes(&extensible(40, 0), Some("wav"), 8000, name).unwrap_err();
        assert!(
            err.to_string()
                .contains("40 channels in a WAVE_FORMAT_EXTENSIBLE"),
            "{err}"
        );
        // So are more channels than a plain PCM file can have.
        let mut pcm = extensible(2, 0b11);
        pcm[20..22].copy_from_slice(&1u16.to_le_bytes());
        pcm[22..24].copy_from_slice(&40_000u16.to_le_bytes());
        let err = decode_bytes(&pcm, Some("wav"), 8000, name).unwrap_err();
        assert!(
            err.to_string().contains("40000 channels in a WAV file"),
            "{err}"
        );
        // Also after junk, where symphonia's probe finds the header too.
        let mut junk = b"junk before".to_vec();
        junk.extend_from_slice(&pcm);
        let err = decode_bytes(&junk, None, 8000, name).unwrap_err();
        assert!(err.to_string().contains("40000 channels"), "{err}");
        // And when the fmt chunk declares more bytes than the file holds:
        // symphonia still reads the fields that are there (a fuzz input).
        let mut long = extensible(65, 0b1);
        long[16..20].copy_from_slice(&187u32.to_le_bytes());
        long.truncate(70);
        let err = decode_bytes(&long, Some("wav"), 8000, name).unwrap_err();
        assert!(err.to_string().contains("65 channels"), "{err}");
    }
}
