//! Audio from a pipe (`pipeline detect -`): a WAV stream or raw PCM read as
//! it arrives, into mono `f32` samples.
//!
//! A WAV header written before the length was known, as `arecord` and
//! `sox` write to a pipe, declares a data size of 0 or `0xFFFFFFFF` (RF64
//! streams too): the data then runs to the end of the stream. A declared
//! size is read up to, or up to the end of the stream if that comes first
//! (a recorder stopped early never fixes the header of a pipe).
//!
//! Samples are converted as the file decoder (symphonia) converts them
//! (`i16 / 32768`, `i24 / 8388608`, `i32 / 2^31` through `f64`, `u8 / 128 -
//! 1`, floats as they are, NaN and infinities to 0), and channels averaged
//! the same way (summed in channel order, times `1 / channels`), so a
//! file and the same bytes piped give the same samples.

use std::io::Read;

use crate::error::Error;

/// The sample encoding of raw PCM (`--raw-format`), little-endian.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum RawFormat {
    /// Unsigned 8-bit.
    U8,
    /// Signed 16-bit.
    S16le,
    /// Signed 24-bit in 3 bytes.
    S24le,
    /// Signed 32-bit.
    S32le,
    /// 32-bit float.
    F32le,
    /// 64-bit float.
    F64le,
}

impl RawFormat {
    fn bytes(self) -> usize {
        match self {
            RawFormat::U8 => 1,
            RawFormat::S16le => 2,
            RawFormat::S24le => 3,
            RawFormat::S32le | RawFormat::F32le => 4,
            RawFormat::F64le => 8,
        }
    }

    fn sample(self, b: &[u8]) -> f32 {
        let v = match self {
            RawFormat::U8 => (f32::from(b[0]) / 128.0) - 1.0,
            RawFormat::S16le => f32::from(i16::from_le_bytes([b[0], b[1]])) / 32_768.0,
            RawFormat::S24le => {
                (i32::from_le_bytes([0, b[0], b[1], b[2]]) >> 8) as f32 / 8_388_608.0
            }
            RawFormat::S32le => {
                (f64::from(i32::from_le_bytes([b[0], b[1], b[2], b[3]])) / 2_147_483_648.0) as f32
            }
            RawFormat::F32le => f32::from_le_bytes([b[0], b[1], b[2], b[3]]),
            RawFormat::F64le => f64::from_le_bytes(b[..8].try_into().unwrap_or([0; 8])) as f32,
        };
        if v.is_finite() { v } else { 0.0 }
    }
}

/// A stream of interleaved PCM frames.
pub struct PcmStream<R: Read> {
    r: R,
    /// Sample rate, Hz.
    pub rate: u32,
    /// Channels per frame.
    pub channels: u16,
    format: RawFormat,
    /// Bytes of data still to read (`u64::MAX`: to the end of the stream).
    left: u64,
    /// Bytes read that do not make a whole frame yet.
    carry: Vec<u8>,
    buf: Vec<u8>,
}

fn bad(name: &str, what: impl std::fmt::Display) -> Error {
    Error::Data(format!("{name}: {what}"))
}

impl<R: Read> PcmStream<R> {
    /// Raw PCM with the given layout.
    pub fn raw(r: R, rate: u32, channels: u16, format: RawFormat) -> PcmStream<R> {
        PcmStream {
            r,
            rate,
            channels: channels.max(1),
            format,
            left: u64::MAX,
            carry: Vec::new(),
            buf: vec![0; 1 << 16],
        }
    }

    /// A WAV stream: the header is read now; `name` is used in errors.
    pub fn wav(mut r: R, name: &str) -> Result<PcmStream<R>, Error> {
        let read = |r: &mut R, n: usize, what: &str| -> Result<Vec<u8>, Error> {
            let mut b = vec![0; n];
            r.read_exact(&mut b).map_err(|e| {
                bad(
                    name,
                    format!("{what}: {e} (not a WAV stream? raw PCM needs --raw-rate)"),
                )
            })?;
            Ok(b)
        };
        let riff = read(&mut r, 12, "reading the RIFF header")?;
        if !(riff[0..4] == *b"RIFF" || riff[0..4] == *b"RF64") || riff[8..12] != *b"WAVE" {
            return Err(bad(
                name,
                "not a WAV stream (no RIFF/WAVE header); for raw PCM give --raw-rate",
            ));
        }
        let mut fmt: Option<(RawFormat, u16, u32)> = None;
        loop {
            let h = read(&mut r, 8, "reading a chunk header")?;
            let size = u32::from_le_bytes([h[4], h[5], h[6], h[7]]);
            match &h[0..4] {
                b"fmt " => {
                    let f = read(
                        &mut r,
                        size as usize + (size as usize & 1),
                        "reading the fmt chunk",
                    )?;
                    if f.len() < 16 {
                        return Err(bad(name, "fmt chunk shorter than 16 bytes"));
                    }
                    let mut tag = u16::from_le_bytes([f[0], f[1]]);
                    let channels = u16::from_le_bytes([f[2], f[3]]);
                    let rate = u32::from_le_bytes([f[4], f[5], f[6], f[7]]);
                    let bits = u16::from_le_bytes([f[14], f[15]]);
                    if tag == 0xFFFE && f.len() >= 26 {
                        tag = u16::from_le_bytes([f[24], f[25]]);
                    }
                    let format = match (tag, bits) {
                        (1, 8) => RawFormat::U8,
                        (1, 16) => RawFormat::S16le,
                        (1, 24) => RawFormat::S24le,
                        (1, 32) => RawFormat::S32le,
                        (3, 32) => RawFormat::F32le,
                        (3, 64) => RawFormat::F64le,
                        _ => {
                            return Err(bad(
                                name,
                                format!(
                                    "WAV format tag {tag} with {bits} bits is not supported in a stream (PCM 8/16/24/32-bit, float 32/64-bit)"
                                ),
                            ));
                        }
                    };
                    if channels == 0 || !cochlea_features::decode::SOURCE_RATES.contains(&rate) {
                        return Err(bad(name, format!("{channels} channels at {rate} Hz")));
                    }
                    fmt = Some((format, channels, rate));
                }
                b"data" => {
                    let Some((format, channels, rate)) = fmt else {
                        return Err(bad(name, "data chunk before the fmt chunk"));
                    };
                    let left = if size == 0 || size == u32::MAX {
                        u64::MAX
                    } else {
                        u64::from(size)
                    };
                    let mut s = PcmStream::raw(r, rate, channels, format);
                    s.left = left;
                    return Ok(s);
                }
                _ => {
                    // LIST, fact, ds64, ...: skipped.
                    let n = u64::from(size) + u64::from(size & 1);
                    std::io::copy(&mut (&mut r).take(n), &mut std::io::sink())
                        .map_err(|e| bad(name, e))?;
                }
            }
        }
    }

    /// Reads what the source has now (blocking until some bytes come) and
    /// appends its whole frames to `mono`. `Ok(false)` at the end of the
    /// data.
    pub fn read_into(&mut self, mono: &mut Vec<f32>) -> std::io::Result<bool> {
        if self.left == 0 {
            return Ok(false);
        }
        let want = (self.buf.len() as u64).min(self.left) as usize;
        let n = loop {
            match self.r.read(&mut self.buf[..want]) {
                Ok(n) => break n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
        };
        if n == 0 {
            self.left = 0;
            return Ok(false);
        }
        if self.left != u64::MAX {
            self.left -= n as u64;
        }
        self.carry.extend_from_slice(&self.buf[..n]);
        let (bps, ch) = (self.format.bytes(), usize::from(self.channels));
        let frame = bps * ch;
        let whole = self.carry.len() / frame * frame;
        let scale = 1.0 / ch as f32;
        for f in self.carry[..whole].chunks_exact(frame) {
            if ch == 1 {
                mono.push(self.format.sample(f));
            } else {
                let mut s = self.format.sample(&f[..bps]);
                for c in 1..ch {
                    s += self.format.sample(&f[c * bps..(c + 1) * bps]);
                }
                mono.push(s * scale);
            }
        }
        self.carry.drain(..whole);
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(data_size: u32, channels: u16, bits: u16) -> Vec<u8> {
        let mut h = Vec::new();
        h.extend_from_slice(b"RIFF");
        h.extend_from_slice(&u32::MAX.to_le_bytes());
        h.extend_from_slice(b"WAVE");
        h.extend_from_slice(b"LIST\x04\x00\x00\x00abcd");
        h.extend_from_slice(b"fmt \x10\x00\x00\x00");
        h.extend_from_slice(&1u16.to_le_bytes());
        h.extend_from_slice(&channels.to_le_bytes());
        h.extend_from_slice(&16_000u32.to_le_bytes());
        h.extend_from_slice(&(16_000u32 * u32::from(channels * bits / 8)).to_le_bytes());
        h.extend_from_slice(&(channels * bits / 8).to_le_bytes());
        h.extend_from_slice(&bits.to_le_bytes());
        h.extend_from_slice(b"data");
        h.extend_from_slice(&data_size.to_le_bytes());
        h
    }

    fn all(mut s: PcmStream<&[u8]>) -> Vec<f32> {
        let mut out = Vec::new();
        while s.read_into(&mut out).unwrap() {}
        out
    }

    #[test]
    fn streaming_headers_read_to_the_end_and_declared_sizes_stop() {
        let pcm: Vec<u8> = [1000i16, -2000, 3000, 32767]
            .iter()
            .flat_map(|v| v.to_le_bytes())
            .collect();
        for size in [0, u32::MAX] {
            let mut b = header(size, 1, 16);
            b.extend_from_slice(&pcm);
            let s = PcmStream::wav(&b[..], "stdin").unwrap();
            assert_eq!((s.rate, s.channels), (16_000, 1));
            assert_eq!(
                all(s),
                vec![
                    1000.0 / 32768.0,
                    -2000.0 / 32768.0,
                    3000.0 / 32768.0,
                    32767.0 / 32768.0
                ]
            );
        }
        let mut b = header(4, 1, 16);
        b.extend_from_slice(&pcm);
        assert_eq!(all(PcmStream::wav(&b[..], "stdin").unwrap()).len(), 2);
        // Stereo is averaged.
        let mut b = header(0, 2, 16);
        b.extend_from_slice(&pcm);
        let m = all(PcmStream::wav(&b[..], "stdin").unwrap());
        assert_eq!(
            m,
            vec![
                (1000.0 / 32768.0 + -2000.0 / 32768.0) * 0.5,
                (3000.0 / 32768.0 + 32767.0 / 32768.0) * 0.5
            ]
        );
        // Raw.
        let m = all(PcmStream::raw(&pcm[..], 8000, 1, RawFormat::S16le));
        assert_eq!(m.len(), 4);
        // Not WAV.
        let e = PcmStream::wav(&b"hello world, not audio"[..], "stdin")
            .err()
            .unwrap()
            .to_string();
        assert!(e.contains("stdin") && e.contains("--raw-rate"), "{e}");
    }
}
