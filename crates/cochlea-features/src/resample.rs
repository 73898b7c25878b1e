//! Sample-rate conversion with rubato's synchronous FFT resampler: a
//! band-limited (anti-aliased) conversion between fixed integer rates, the
//! whole clip in one call, its start-up delay trimmed so the output lines up
//! with the input and has `ceil(n * to / from)` samples (the length
//! `librosa.resample` gives).

use rubato::audioadapter_buffers::direct::InterleavedSlice;
use rubato::{Fft, FixedSync, Indexing, Resampler};

/// Input frames per FFT chunk; large enough to amortise the FFT, small
/// enough for short clips.
const CHUNK: usize = 1024;

/// Resample mono `samples` from `from` Hz to `to` Hz.
pub fn resample(samples: &[f32], from: u32, to: u32) -> Result<Vec<f32>, String> {
    let mut stream = Stream::new(from, to)?;
    stream.push(samples)?;
    stream.finish()
}

/// [`resample`] fed piece by piece: the input is never held whole, only the
/// output and one chunk. The output is the same, sample for sample, as one
/// call on the concatenated input (rubato's `process_all`: full chunks while
/// more than one chunk is left, the rest as a zero-padded partial chunk,
/// then silence until the start-up delay is flushed; the delay's frames are
/// dropped from the front and the output cut to `ceil(n * to / from)`).
pub struct Stream {
    /// `None` when the rates are equal: samples pass through.
    fft: Option<Fft<f32>>,
    /// Input not yet processed: at most one chunk after each `push`.
    pending: Vec<f32>,
    /// One chunk of input for rubato, zero-padded for the last one.
    chunk_in: Vec<f32>,
    /// One chunk of rubato's output.
    chunk_out: Vec<f32>,
    out: Vec<f32>,
    /// Start-up delay frames still to drop from the front of the output.
    to_trim: usize,
    /// Output frames rubato produced, delay included.
    produced: usize,
    input_len: usize,
    /// Output frames handed out by [`Stream::drain`].
    drained: usize,
}

impl Stream {
    /// A resampler from `from` Hz to `to` Hz.
    pub fn new(from: u32, to: u32) -> Result<Stream, String> {
        if from == 0 || to == 0 {
            return Err("sample rates must be positive".into());
        }
        let fft = (from != to)
            .then(|| Fft::<f32>::new(from as usize, to as usize, CHUNK, 1, FixedSync::Input))
            .transpose()
            .map_err(|e| e.to_string())?;
        let (to_trim, out_max) = fft
            .as_ref()
            .map_or((0, 0), |f| (f.output_delay(), f.output_frames_max()));
        Ok(Stream {
            fft,
            pending: Vec::new(),
            chunk_in: Vec::new(),
            chunk_out: vec![0.0; out_max],
            out: Vec::new(),
            to_trim,
            produced: 0,
            input_len: 0,
            drained: 0,
        })
    }

    /// Output frames for `n` input frames: `ceil(n * to / from)`.
    fn output_len_for(&self, n: usize) -> usize {
        match &self.fft {
            None => n,
            Some(f) => (f.resample_ratio() * n as f64).ceil() as usize,
        }
    }

    /// Reserve room for the output of `n` more input frames.
    pub fn reserve_for_input(&mut self, n: usize) {
        let m = self.output_len_for(n);
        self.out.reserve(m);
    }

    /// The output itself when the rates are equal, so that a caller can
    /// write samples into it without a copy; `None` when resampling.
    pub fn passthrough_buffer(&mut self) -> Option<&mut Vec<f32>> {
        self.fft.is_none().then_some(&mut self.out)
    }

    /// Feed the next input samples.
    pub fn push(&mut self, samples: &[f32]) -> Result<(), String> {
        if self.fft.is_none() {
            self.out.extend_from_slice(samples);
            return Ok(());
        }
        self.input_len += samples.len();
        self.pending.extend_from_slice(samples);
        let mut start = 0;
        while self.pending.len() - start > CHUNK {
            self.chunk_in.clear();
            self.chunk_in
                .extend_from_slice(&self.pending[start..start + CHUNK]);
            self.process(None)?;
            start += CHUNK;
        }
        self.pending.drain(..start);
        Ok(())
    }

    /// Hands the output made so far to `f` and forgets it, so that a long
    /// stream holds one chunk of output at most; [`Stream::finish`] then
    /// returns the rest.
    pub fn drain(&mut self, mut f: impl FnMut(&[f32])) {
        if !self.out.is_empty() {
            f(&self.out);
            self.drained += self.out.len();
            self.out.clear();
        }
    }

    /// The resampled signal (after [`Stream::drain`], what it has not
    /// handed out yet).
    pub fn finish(mut self) -> Result<Vec<f32>, String> {
        if self.fft.is_none() {
            return Ok(self.out);
        }
        let expected = self.output_len_for(self.input_len);
        if self.input_len == 0 {
            return Ok(Vec::new());
        }
        if !self.pending.is_empty() {
            let n = self.pending.len();
            self.chunk_in.clear();
            self.chunk_in.extend_from_slice(&self.pending);
            self.chunk_in.resize(CHUNK, 0.0);
            self.process(Some(n))?;
        }
        let delay = self.fft.as_ref().map_or(0, |f| f.output_delay());
        while self.produced < expected + delay {
            self.chunk_in.clear();
            self.chunk_in.resize(CHUNK, 0.0);
            self.process(Some(0))?;
        }
        self.out.truncate(expected.saturating_sub(self.drained));
        Ok(self.out)
    }

    /// Runs rubato on `chunk_in` (`partial` valid frames, or all) and
    /// appends its output past the start-up delay.
    fn process(&mut self, partial: Option<usize>) -> Result<(), String> {
        let Some(fft) = self.fft.as_mut() else {
            return Ok(());
        };
        let input =
            InterleavedSlice::new(&self.chunk_in[..], 1, CHUNK).map_err(|e| e.to_string())?;
        let frames_out = self.chunk_out.len();
        let mut output = InterleavedSlice::new_mut(&mut self.chunk_out[..], 1, frames_out)
            .map_err(|e| e.to_string())?;
        let indexing = Indexing {
            input_offset: 0,
            output_offset: 0,
            partial_len: partial,
            active_channels_mask: None,
        };
        let (_, n_out) = fft
            .process_into_buffer(&input, &mut output, Some(&indexing))
            .map_err(|e| e.to_string())?;
        self.produced += n_out;
        let skip = self.to_trim.min(n_out);
        self.to_trim -= skip;
        self.out.extend_from_slice(&self.chunk_out[skip..n_out]);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn length_and_identity() {
        let x: Vec<f32> = (0..44100).map(|i| (i as f32 * 0.01).sin()).collect();
        assert_eq!(resample(&x, 44100, 8000).unwrap().len(), 8000);
        assert_eq!(
            resample(&x[..1001], 44100, 8000).unwrap().len(),
            (1001f64 * 8000.0 / 44100.0).ceil() as usize
        );
        assert_eq!(resample(&x, 8000, 8000).unwrap(), x);
        assert!(resample(&x, 0, 8000).is_err());
    }

    /// The stream gives rubato's `process_all` output exactly, however the
    /// input is cut, at chunk boundaries and around them.
    #[test]
    fn stream_matches_process_all_whatever_the_pieces() {
        let whole = |x: &[f32], from: u32, to: u32| {
            let mut r =
                Fft::<f32>::new(from as usize, to as usize, CHUNK, 1, FixedSync::Input).unwrap();
            let input = InterleavedSlice::new(x, 1, x.len()).unwrap();
            r.process_all(&input, x.len(), None).unwrap().take_data()
        };
        let x: Vec<f32> = (0..5000)
            .map(|i| ((i as f32 * 0.37).sin() + (i as f32 * 0.011).cos()) * 0.4)
            .collect();
        for (from, to) in [(44_100, 8000), (8000, 16_000), (48_000, 44_100)] {
            for n in [
                1,
                7,
                CHUNK - 1,
                CHUNK,
                CHUNK + 1,
                2 * CHUNK,
                2 * CHUNK + 3,
                5000,
            ] {
                let want = whole(&x[..n], from, to);
                assert_eq!(
                    resample(&x[..n], from, to).unwrap(),
                    want,
                    "{from}->{to}, {n}"
                );
                for piece in [1, 100, CHUNK, CHUNK + 5] {
                    let mut s = Stream::new(from, to).unwrap();
                    for p in x[..n].chunks(piece) {
                        s.push(p).unwrap();
                    }
                    assert_eq!(s.finish().unwrap(), want, "{from}->{to}, {n} in {piece}s");
                    // Drained as it goes: the same samples, in pieces.
                    let mut s = Stream::new(from, to).unwrap();
                    let mut got = Vec::new();
                    for p in x[..n].chunks(piece) {
                        s.push(p).unwrap();
                        s.drain(|o| got.extend_from_slice(o));
                    }
                    got.extend(s.finish().unwrap());
                    assert_eq!(got, want, "{from}->{to}, {n} in {piece}s, drained");
                }
            }
        }
    }
}
