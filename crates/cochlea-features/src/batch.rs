//! Many files at once: decode and extract in parallel with rayon, one file
//! per task, results in input order. Each file's result depends only on that
//! file, so output is bit-identical whatever the number of threads.

use std::path::{Path, PathBuf};

use rayon::prelude::*;

use crate::decode::{ClipInfo, decode_file};
use crate::{Error, Extractor, FeatureMatrix};

/// Decode every file at `ex.sample_rate()` and compute its features, on the
/// current rayon pool. `on_done` is called (from any thread) after each file,
/// failed or not, e.g. to advance a progress bar. A bad file yields its own
/// error and the others carry on.
pub fn extract_files(
    paths: &[PathBuf],
    ex: &Extractor,
    on_done: &(dyn Fn(&Path) + Sync),
) -> Vec<Result<(ClipInfo, FeatureMatrix), Error>> {
    paths
        .par_iter()
        .map(|path| {
            let result = decode_file(path, ex.sample_rate()).map(|clip| {
                let features = ex.compute(&clip.samples);
                (clip.info, features)
            });
            on_done(path);
            result
        })
        .collect()
}

/// Compute the features of clips already in memory, in parallel, in order.
pub fn extract_samples(clips: &[Vec<f32>], ex: &Extractor) -> Vec<FeatureMatrix> {
    clips
        .par_iter()
        .map(|samples| ex.compute(samples))
        .collect()
}
