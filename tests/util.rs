//! What the end-to-end tests of the `pipeline` binary share: where the
//! project is, how the binary is called, the check that it succeeded, and
//! how a test writes its audio. Each test file uses some of them.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output};

/// The project folder (the workspace root).
pub fn project() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

/// Runs the `pipeline` binary with `args` and waits for it.
pub fn pipeline(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_pipeline"))
        .args(args)
        .output()
        .expect("pipeline starts")
}

/// Fails the test, with both output streams, unless the command succeeded.
pub fn ok(out: &Output) {
    assert!(
        out.status.success(),
        "exit {:?}\nstdout:\n{}\nstderr:\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Ctrl-C for a running `pipeline`: sends SIGINT, waits, and checks that it
/// stopped at a safe point (exit code 130) and said how to `--resume`.
pub fn interrupt(child: Child) -> Output {
    let status = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(130), "{err}");
    assert!(err.contains("--resume"), "{err}");
    out
}

/// `[data]` lines of the demo digits (`audio-samples/digits`): a folder per
/// digit, the voice as the group, 80 frames of 10 ms at 8 kHz.
pub const DEMO_DATA: &str = r#"label = "folder"
group = { regex = '^\d_([a-z0-9]+)_' }
sample_rate = 8000
clip_frames = 80"#;

/// What differs between the small test configs: everything else (13 MFCCs
/// with deltas, a two-block network, lr 0.003, seed 0, a private cache and
/// runs folder in the test's folder) is [`small_config`]'s.
pub struct Small<'a> {
    /// The config's `name` and file name (`<name>.toml`).
    pub name: &'a str,
    /// `data.root`.
    pub root: &'a Path,
    /// Lines of `[data]` after `root`.
    pub data: &'a str,
    /// Lines of `[split]` before `seed = 0`.
    pub split: &'a str,
    /// Lines of `[normalize]`; no section when empty.
    pub normalize: &'a str,
    /// Lines of `[train]` between `lr` and `seed = 0` (batch size, epochs).
    pub train: &'a str,
    /// Lines of `[train]` after `seed = 0`.
    pub train_after: &'a str,
}

impl Default for Small<'_> {
    fn default() -> Self {
        Small {
            name: "test",
            root: Path::new(""),
            data: "",
            split: "",
            normalize: "",
            train: "",
            train_after: "",
        }
    }
}

/// Writes the small config `c` into `dir` and returns its path.
pub fn small_config(dir: &Path, c: &Small<'_>) -> PathBuf {
    let line = |s: &str| {
        if s.is_empty() {
            String::new()
        } else {
            format!("{}\n", s.trim_end())
        }
    };
    let normalize = if c.normalize.is_empty() {
        String::new()
    } else {
        format!("[normalize]\n{}", line(c.normalize))
    };
    let text = format!(
        r#"name = "{name}"
[data]
root = "{root}"
{data}[split]
{split}seed = 0
[features]
kinds = ["mfcc"]
n_fft = 256
hop_length = 80
n_mels = 40
n_mfcc = 13
deltas = 1
{normalize}[model]
blocks = [ {{ filters = 32, kernel = 5, pool = 2 }}, {{ filters = 64, kernel = 3, pool = 2 }} ]
[train]
lr = 0.003
{train}seed = 0
{train_after}[cache]
dir = "{cache}"
[report]
dir = "{runs}"
"#,
        name = c.name,
        root = c.root.display(),
        data = line(c.data),
        split = line(c.split),
        train = line(c.train),
        train_after = line(c.train_after),
        cache = dir.join("cache").display(),
        runs = dir.join("runs").display(),
    );
    let path = dir.join(format!("{}.toml", c.name));
    std::fs::write(&path, text).unwrap();
    path
}

/// A 16-bit mono WAV of `samples` at `rate`, its folder made first.
pub fn write_pcm16(path: &Path, rate: u32, samples: impl IntoIterator<Item = i16>) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: rate,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut w = hound::WavWriter::create(path, spec).unwrap();
    for s in samples {
        w.write_sample(s).unwrap();
    }
    w.finalize().unwrap();
}

/// [`write_pcm16`] of samples in [-1, 1] (clipped, rounded to 16 bits).
pub fn write_wav(path: &Path, rate: u32, samples: &[f32]) {
    write_pcm16(
        path,
        rate,
        samples
            .iter()
            .map(|s| (s.clamp(-1.0, 1.0) * 32767.0).round() as i16),
    );
}
