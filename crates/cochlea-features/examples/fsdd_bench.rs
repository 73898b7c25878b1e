//! Whole-dataset timing of this crate, for `bench/features.sh`:
//!
//! ```sh
//! cargo run --release -p cochlea-features --example fsdd_bench -- \
//!     --data ../shared/datasets/fsdd/recordings --mode full --threads 2
//! ```
//!
//! Modes (13 MFCCs, n_fft 256, hop 80, 40 mels at the files' 8 kHz, the
//! settings of `bench/features_ref.py`):
//! - `full`: decode and extract every file (`batch::extract_files`);
//! - `features`: extract from samples decoded beforehand (outside the clock);
//! - `decode`: decode only.
//!
//! `--kinds f0,voiced,voiced_prob` times other kinds (comma-separated
//! `[features]` kinds, other settings the project's defaults) instead of
//! the MFCCs.
//!
//! One untimed pass warms the page cache and the thread pool, then `--repeat`
//! timed passes run; prints one JSON line with the median and the fastest:
//! `{"tool": ..., "files": N, "seconds": MEDIAN, "min_seconds": MIN}`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use cochlea_features::batch::{extract_files, extract_samples};
use cochlea_features::decode::decode_file;
use cochlea_features::{Extractor, FeatureConfig};
use rayon::prelude::*;

const SAMPLE_RATE: u32 = 8000;

struct Args {
    data: PathBuf,
    mode: String,
    threads: usize,
    repeat: usize,
    limit: Option<usize>,
    kinds: Option<String>,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        data: PathBuf::new(),
        mode: "full".into(),
        threads: 2,
        repeat: 5,
        limit: None,
        kinds: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().ok_or(format!("{flag} needs a value"));
        match flag.as_str() {
            "--data" => args.data = PathBuf::from(value()?),
            "--mode" => args.mode = value()?,
            "--threads" => {
                args.threads = value()?.parse().map_err(|e| format!("--threads: {e}"))?
            }
            "--repeat" => args.repeat = value()?.parse().map_err(|e| format!("--repeat: {e}"))?,
            "--kinds" => args.kinds = Some(value()?),
            "--limit" => args.limit = Some(value()?.parse().map_err(|e| format!("--limit: {e}"))?),
            other => return Err(format!("unknown argument {other}")),
        }
    }
    if args.data.as_os_str().is_empty() {
        return Err("--data DIR is required".into());
    }
    if !matches!(args.mode.as_str(), "full" | "features" | "decode") {
        return Err(format!(
            "--mode {}: expected full, features or decode",
            args.mode
        ));
    }
    if args.threads == 0 || args.repeat == 0 {
        return Err("--threads and --repeat must be at least 1".into());
    }
    Ok(args)
}

fn wav_files(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            wav_files(&path, out)?;
        } else if path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("wav"))
        {
            out.push(path);
        }
    }
    Ok(())
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("fsdd_bench: {e}");
            return ExitCode::from(2);
        }
    };
    let mut files = Vec::new();
    if let Err(e) = wav_files(&args.data, &mut files) {
        eprintln!("fsdd_bench: {}: {e}", args.data.display());
        return ExitCode::FAILURE;
    }
    files.sort();
    if let Some(n) = args.limit {
        files.truncate(n);
    }
    if files.is_empty() {
        eprintln!("fsdd_bench: no .wav files under {}", args.data.display());
        return ExitCode::FAILURE;
    }
    let cfg = match &args.kinds {
        None => FeatureConfig::default(),
        Some(list) => {
            let quoted: Vec<String> = list
                .split(',')
                .map(|k| format!("\"{}\"", k.trim()))
                .collect();
            match toml::from_str::<FeatureConfig>(&format!("kinds = [{}]", quoted.join(", "))) {
                Ok(cfg) => cfg,
                Err(e) => {
                    eprintln!("fsdd_bench: --kinds {list}: {e}");
                    return ExitCode::from(2);
                }
            }
        }
    };
    let ex = match Extractor::new(&cfg, SAMPLE_RATE) {
        Ok(ex) => ex,
        Err(e) => {
            eprintln!("fsdd_bench: {e}");
            return ExitCode::FAILURE;
        }
    };
    let pool = match rayon::ThreadPoolBuilder::new()
        .num_threads(args.threads)
        .build()
    {
        Ok(p) => p,
        Err(e) => {
            eprintln!("fsdd_bench: {e}");
            return ExitCode::FAILURE;
        }
    };
    let clips: Vec<Vec<f32>> = if args.mode == "features" {
        let decoded: Result<Vec<_>, _> = pool.install(|| {
            files
                .par_iter()
                .map(|p| decode_file(p, SAMPLE_RATE))
                .collect()
        });
        match decoded {
            Ok(clips) => clips.into_iter().map(|c| c.samples).collect(),
            Err(e) => {
                eprintln!("fsdd_bench: {e}");
                return ExitCode::FAILURE;
            }
        }
    } else {
        Vec::new()
    };

    let pass = || -> Result<usize, String> {
        pool.install(|| match args.mode.as_str() {
            "full" => {
                let results = extract_files(&files, &ex, &|_| {});
                let frames: usize = results
                    .iter()
                    .map(|r| {
                        r.as_ref()
                            .map(|(_, m)| m.n_frames)
                            .map_err(|e| e.to_string())
                    })
                    .sum::<Result<usize, String>>()?;
                Ok(frames)
            }
            "features" => Ok(extract_samples(&clips, &ex)
                .iter()
                .map(|m| m.n_frames)
                .sum()),
            _ => files
                .par_iter()
                .map(|p| {
                    decode_file(p, SAMPLE_RATE)
                        .map(|c| c.samples.len())
                        .map_err(|e| e.to_string())
                })
                .sum(),
        })
    };
    if let Err(e) = pass() {
        eprintln!("fsdd_bench: {e}");
        return ExitCode::FAILURE;
    }
    let mut times = Vec::with_capacity(args.repeat);
    for _ in 0..args.repeat {
        let start = Instant::now();
        if let Err(e) = pass() {
            eprintln!("fsdd_bench: {e}");
            return ExitCode::FAILURE;
        }
        times.push(start.elapsed().as_secs_f64());
    }
    times.sort_by(f64::total_cmp);
    let median = times[times.len() / 2];
    let what = match &args.kinds {
        Some(list) => format!("features [{list}]"),
        None => "features".into(),
    };
    let tool = match args.mode.as_str() {
        "full" if args.kinds.is_some() => {
            format!(
                "cochlea library, decode + {what}, {} thread(s)",
                args.threads
            )
        }
        "features" if args.kinds.is_some() => {
            format!("cochlea library, {what} only, {} thread(s)", args.threads)
        }
        "full" => format!("cochlea, decode + features, {} thread(s)", args.threads),
        "features" => format!("cochlea, features only, {} thread(s)", args.threads),
        _ => format!("cochlea, decode only, {} thread(s)", args.threads),
    };
    println!(
        "{{\"tool\": \"{tool}\", \"files\": {}, \"seconds\": {median:.4}, \"min_seconds\": {:.4}}}",
        files.len(),
        times[0]
    );
    ExitCode::SUCCESS
}
