//! Sample-rate conversion with rubato's synchronous FFT resampler: a
//! band-limited (anti-aliased) conversion between fixed integer rates, the
//! whole clip in one call, its start-up delay trimmed so the output lines up
//! with the input and has `ceil(n * to / from)` samples (the length
//! `librosa.resample` gives).

use rubato::audioadapter_buffers::direct::InterleavedSlice;
use rubato::{Fft, FixedSync, Resampler};

/// Input frames per FFT chunk; large enough to amortise the FFT, small
/// enough for short clips.
const CHUNK: usize = 1024;

/// Resample mono `samples` from `from` Hz to `to` Hz.
pub fn resample(samples: &[f32], from: u32, to: u32) -> Result<Vec<f32>, String> {
    if from == 0 || to == 0 {
        return Err("sample rates must be positive".into());
    }
    if from == to || samples.is_empty() {
        return Ok(samples.to_vec());
    }
    let mut resampler = Fft::<f32>::new(from as usize, to as usize, CHUNK, 1, FixedSync::Input)
        .map_err(|e| e.to_string())?;
    let input = InterleavedSlice::new(samples, 1, samples.len()).map_err(|e| e.to_string())?;
    let out = resampler
        .process_all(&input, samples.len(), None)
        .map_err(|e| e.to_string())?;
    Ok(out.take_data())
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
}
