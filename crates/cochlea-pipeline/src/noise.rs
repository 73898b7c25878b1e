//! Background-noise recordings mixed into the audio of training clips
//! (`augment.background_noise_dir`), as speech-command and sound-event
//! training does it: TensorFlow's `speech_commands` mixes a random stretch
//! of a `_background_noise_` recording into each training clip, and
//! audiomentations' `AddBackgroundNoise` scales the noise to a signal-to-noise
//! ratio drawn uniformly in dB. Here each training clip gets
//! `background_noise_copies` noisy copies beside its clean original, made
//! once before training and featurised with the clip's own extractor.
//!
//! A copy belongs to its item: `prepare::fold_inputs` adds the copies of a
//! fold's training items to its training set only; validation, test and the
//! normalizer's fit never see one.
//!
//! Per copy: a recording, an offset in it and an SNR are drawn from a seed
//! derived from (`split.seed`, `train.seed`, the item's path and span, the
//! copy index), so a run, its resume and a search make the same copies. The
//! noise is read from the offset on, wrapping to the start of the recording
//! when the clip is longer than what is left (a recording shorter than the
//! clip is tiled), and scaled so that the clip's mean square over the
//! noise's mean square over the clip's length is the drawn SNR. A silent
//! clip (mean square 0) has no SNR and stays as it is, as audiomentations
//! leaves it.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use cochlea_features::{Extractor, FeatureMatrix, decode};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;

use crate::config::Config;
use crate::dataset::Item;
use crate::error::Error;
use crate::progress;
use crate::results::NoiseSummary;

/// The noise recordings of a folder, decoded once at the data's sample
/// rate (mono), held in memory for every copy.
#[derive(Clone, Debug, Default)]
pub struct NoiseBank {
    /// The recordings, sorted by path.
    pub recordings: Vec<(PathBuf, Vec<f32>)>,
}

impl NoiseBank {
    /// Decodes every audio file (by `extensions`) under `dir` at
    /// `sample_rate`. A file that does not decode, or is silent, is skipped
    /// with a warning naming it; a file that is also one of `items` is an
    /// error (its audio would reach training as noise and be tested as a
    /// clip).
    pub fn load(
        dir: &Path,
        extensions: &[String],
        sample_rate: u32,
        items: &[Item],
        quiet: bool,
    ) -> Result<NoiseBank, Error> {
        let (mut files, problems) = crate::source::find_audio(dir, extensions)?;
        for (p, why) in problems {
            progress::warn(format!(
                "augment.background_noise_dir: skipped {}: {why}",
                p.display()
            ));
        }
        files.sort();
        let canon = |p: &Path| p.canonicalize().unwrap_or_else(|_| p.to_path_buf());
        let data: BTreeSet<PathBuf> = items.iter().map(|i| canon(&i.path)).collect();
        if let Some(f) = files.iter().find(|f| data.contains(&canon(f))) {
            return Err(Error::Data(format!(
                "augment.background_noise_dir: {} is also a clip of the data set; \
                 noise recordings must be kept apart from the data (or excluded \
                 with data.exclude), or test audio would be mixed into training",
                f.display()
            )));
        }
        let pb = progress::bar(files.len() as u64, "noise", quiet);
        let decoded: Vec<Result<Vec<f32>, String>> = files
            .par_iter()
            .map(|f| {
                let r = decode::decode_file(f, sample_rate)
                    .map_err(|e| e.to_string())
                    .and_then(|c| {
                        if mean_square(&c.samples) > 0.0 && c.samples.iter().all(|v| v.is_finite())
                        {
                            Ok(c.samples)
                        } else {
                            Err(format!("{}: silent or not finite", f.display()))
                        }
                    });
                pb.inc(1);
                r
            })
            .collect();
        pb.finish_and_clear();
        let mut recordings = Vec::new();
        for (f, r) in files.into_iter().zip(decoded) {
            match r {
                Ok(s) => recordings.push((f, s)),
                // The reason names the file.
                Err(why) => progress::warn(format!(
                    "augment.background_noise_dir: skipped a noise recording: {why}"
                )),
            }
        }
        if recordings.is_empty() {
            return Err(Error::Data(format!(
                "augment.background_noise_dir: no noise recording in {} decodes \
                 (extensions {extensions:?})",
                dir.display()
            )));
        }
        Ok(NoiseBank { recordings })
    }
}

/// Mean of the squares, in `f64`.
pub fn mean_square(x: &[f32]) -> f64 {
    if x.is_empty() {
        return 0.0;
    }
    x.iter().map(|&v| f64::from(v) * f64::from(v)).sum::<f64>() / x.len() as f64
}

/// `clip` plus `noise` read from `offset` (wrapping around, so a short
/// recording is tiled), scaled so that `mean_square(clip) /
/// mean_square(scaled noise) = 10^(snr_db / 10)`. A silent clip, or an
/// empty or silent noise, leaves the clip as it is.
pub fn mix(clip: &[f32], noise: &[f32], offset: usize, snr_db: f64) -> Vec<f32> {
    let ps = mean_square(clip);
    if ps == 0.0 || noise.is_empty() {
        return clip.to_vec();
    }
    // Read by index: skipping along a cycled iterator would step through
    // the recording up to the offset for every copy.
    let start = offset % noise.len();
    let seg: Vec<f32> = (0..clip.len())
        .map(|k| noise[(start + k) % noise.len()])
        .collect();
    let pn = mean_square(&seg);
    if pn == 0.0 {
        return clip.to_vec();
    }
    let scale = (ps / (pn * 10f64.powf(snr_db / 10.0))).sqrt();
    clip.iter()
        .zip(&seg)
        .map(|(&s, &n)| (f64::from(s) + scale * f64::from(n)) as f32)
        .collect()
}

/// What one copy mixes in: a recording, an offset in it, an SNR.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Draw {
    /// Index into [`NoiseBank::recordings`].
    pub recording: usize,
    /// First noise sample.
    pub offset: usize,
    /// Signal-to-noise ratio in dB.
    pub snr_db: f64,
}

/// The seed of copy `copy` of `item`: BLAKE3 over the run's seeds, the
/// item's path and span and the copy index.
pub fn copy_seed(seed: u64, item: &Item, copy: usize) -> u64 {
    let mut h = blake3::Hasher::new();
    h.update(b"cochlea background noise\n");
    h.update(&seed.to_le_bytes());
    h.update(item.path.as_os_str().as_encoded_bytes());
    if let Some((a, b)) = item.span {
        h.update(&a.to_le_bytes());
        h.update(&b.to_le_bytes());
    }
    h.update(&(copy as u64).to_le_bytes());
    let mut out = [0u8; 8];
    out.copy_from_slice(&h.finalize().as_bytes()[..8]);
    u64::from_le_bytes(out)
}

/// The draw of copy `copy` of `item` from `bank`, SNR uniform in `snr`.
pub fn draw(seed: u64, item: &Item, copy: usize, bank: &NoiseBank, snr: [f64; 2]) -> Draw {
    let mut rng = ChaCha8Rng::seed_from_u64(copy_seed(seed, item, copy));
    let recording = rng.random_range(0..bank.recordings.len().max(1));
    let len = bank
        .recordings
        .get(recording)
        .map_or(1, |(_, s)| s.len().max(1));
    let offset = rng.random_range(0..len);
    let snr_db = if snr[1] > snr[0] {
        rng.random_range(snr[0]..=snr[1])
    } else {
        snr[0]
    };
    Draw {
        recording,
        offset,
        snr_db,
    }
}

/// The seed of every copy of a run: `split.seed` and `train.seed` both.
pub fn run_seed(cfg: &Config) -> u64 {
    cfg.split.seed.rotate_left(32) ^ cfg.train.seed
}

/// The noisy copies' features of every item (`out[i]` holds item `i`'s,
/// empty when mixing is off), in parallel over files with progress. A
/// segment's copies mix its span of the file only. An item whose file no
/// longer decodes gets no copies and a warning naming it.
pub fn noisy_copies(
    cfg: &Config,
    items: &[Item],
    extractor: &Extractor,
    quiet: bool,
) -> Result<(Vec<Vec<FeatureMatrix>>, Option<NoiseSummary>), Error> {
    let aug = &cfg.augment;
    let copies = aug.noise_copies();
    let Some(dir) = aug.background_noise_dir.as_deref().filter(|_| copies > 0) else {
        return Ok((vec![Vec::new(); items.len()], None));
    };
    let sr = cfg.data.sample_rate;
    let bank = NoiseBank::load(dir, &cfg.data.extensions, sr, items, quiet)?;
    let seed = run_seed(cfg);
    let mut by_path: BTreeMap<&Path, Vec<usize>> = BTreeMap::new();
    for (i, it) in items.iter().enumerate() {
        by_path.entry(it.path.as_path()).or_default().push(i);
    }
    let groups: Vec<(&Path, Vec<usize>)> = by_path.into_iter().collect();
    let pb = progress::bar(items.len() as u64, "noisy copies", quiet);
    let made: Vec<Vec<(usize, Vec<FeatureMatrix>)>> = groups
        .par_iter()
        .map(|(path, idx)| {
            let out = match decode::decode_file(path, sr) {
                Ok(clip) => idx
                    .iter()
                    .map(|&i| {
                        let it = &items[i];
                        let audio = span_of(&clip.samples, it.span, sr);
                        let feats = (0..copies)
                            .map(|c| {
                                let d = draw(seed, it, c, &bank, aug.background_noise_snr_db);
                                let noise = &bank.recordings[d.recording].1;
                                extractor.compute(&mix(audio, noise, d.offset, d.snr_db))
                            })
                            .collect();
                        (i, feats)
                    })
                    .collect(),
                Err(e) => {
                    progress::warn(format!("no noisy copies of {}: {e}", path.display()));
                    idx.iter().map(|&i| (i, Vec::new())).collect()
                }
            };
            pb.inc(idx.len() as u64);
            out
        })
        .collect();
    pb.finish_and_clear();
    let mut out = vec![Vec::new(); items.len()];
    for (i, f) in made.into_iter().flatten() {
        out[i] = f;
    }
    let summary = NoiseSummary {
        dir: dir.to_path_buf(),
        recordings: bank.recordings.len(),
        copies_per_clip: copies,
        copies: out.iter().map(Vec::len).sum(),
        snr_db: aug.background_noise_snr_db,
    };
    Ok((out, Some(summary)))
}

/// The samples of `span` (seconds) of a clip, or all of it.
fn span_of(samples: &[f32], span: Option<(f64, f64)>, sr: u32) -> &[f32] {
    let Some((a, b)) = span else {
        return samples;
    };
    let at = |t: f64| ((t.max(0.0) * f64::from(sr)).round() as usize).min(samples.len());
    let (a, b) = (at(a), at(b));
    &samples[a..b.max(a)]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tone(n: usize, f: f32, amp: f32) -> Vec<f32> {
        (0..n)
            .map(|t| amp * (2.0 * std::f32::consts::PI * f * t as f32 / 8000.0).sin())
            .collect()
    }

    fn noise(n: usize, seed: u64) -> Vec<f32> {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        (0..n).map(|_| rng.random_range(-1.0f32..1.0)).collect()
    }

    fn item(path: &str) -> Item {
        Item {
            path: PathBuf::from(path),
            label: 0,
            group: String::new(),
            split: None,
            span: None,
        }
    }

    /// The mixed signal's measured SNR is the asked one.
    #[test]
    fn measured_snr_is_drawn_snr() {
        let clip = tone(8000, 440.0, 0.3);
        let n = noise(20_000, 1);
        for snr in [-5.0, 0.0, 3.0, 10.0, 30.0] {
            let y = mix(&clip, &n, 1234, snr);
            let added: Vec<f32> = y.iter().zip(&clip).map(|(a, b)| a - b).collect();
            let measured = 10.0 * (mean_square(&clip) / mean_square(&added)).log10();
            assert!(
                (measured - snr).abs() < 1e-3,
                "snr {snr}: measured {measured}"
            );
        }
    }

    /// A noise shorter than the clip is repeated from its start.
    #[test]
    fn short_noise_is_tiled() {
        let clip = vec![0.5f32; 1000];
        let n = noise(300, 2);
        let y = mix(&clip, &n, 100, 0.0);
        let added: Vec<f32> = y.iter().zip(&clip).map(|(a, b)| a - b).collect();
        // added[t] = k * n[(100 + t) % 300] for one k > 0.
        let k = added[0] / n[100];
        assert!(k > 0.0);
        for (t, a) in added.iter().enumerate() {
            let want = k * n[(100 + t) % 300];
            assert!((a - want).abs() < 1e-5, "t {t}: {a} vs {want}");
        }
        // The samples of the second and third pass are the first pass's.
        assert!((added[200] - added[500]).abs() < 1e-6);
        assert!((added[250] - added[850]).abs() < 1e-6);
    }

    /// A silent clip has no SNR: it stays as it is.
    #[test]
    fn silent_clip_unchanged() {
        let clip = vec![0.0f32; 500];
        assert_eq!(mix(&clip, &noise(1000, 3), 7, 0.0), clip);
    }

    /// Same seed, item and copy: same draw; another copy index: other noise.
    #[test]
    fn draws_are_seeded() {
        let bank = NoiseBank {
            recordings: (0..4)
                .map(|r| (PathBuf::from(format!("n{r}.wav")), noise(50_000, r)))
                .collect(),
        };
        let it = item("a/b.wav");
        let a = draw(7, &it, 0, &bank, [3.0, 30.0]);
        assert_eq!(a, draw(7, &it, 0, &bank, [3.0, 30.0]));
        let b = draw(7, &it, 1, &bank, [3.0, 30.0]);
        assert_ne!(a, b);
        assert_ne!(a, draw(8, &it, 0, &bank, [3.0, 30.0]));
        assert_ne!(a, draw(7, &item("a/c.wav"), 0, &bank, [3.0, 30.0]));
        let clip = tone(8000, 300.0, 0.2);
        let mixed = |d: Draw| mix(&clip, &bank.recordings[d.recording].1, d.offset, d.snr_db);
        assert_ne!(mixed(a), mixed(b));
        // Every draw's SNR is in range, and the range is covered.
        let snrs: Vec<f64> = (0..200)
            .map(|c| draw(7, &it, c, &bank, [0.0, 10.0]).snr_db)
            .collect();
        assert!(snrs.iter().all(|s| (0.0..=10.0).contains(s)));
        assert!(snrs.iter().any(|&s| s < 1.0) && snrs.iter().any(|&s| s > 9.0));
    }

    /// A segment's copy mixes its span only.
    #[test]
    fn span_cuts_samples() {
        let s: Vec<f32> = (0..8000).map(|v| v as f32).collect();
        assert_eq!(span_of(&s, Some((0.25, 0.5)), 8000), &s[2000..4000]);
        assert_eq!(span_of(&s, Some((0.9, 2.0)), 8000), &s[7200..]);
        assert_eq!(span_of(&s, None, 8000).len(), 8000);
    }
}
