//! Helpers shared by the robustness tests: running the `pipeline` binary
//! with a hang guard, and a small demo config.

#![allow(dead_code)] // Each test file uses its own subset.

use std::ffi::OsStr;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// A command that has not finished in this long is hung, not slow: every
/// call in these tests finishes in seconds on two cores. This is a hang
/// detector, not a timing check.
pub const HANG: Duration = Duration::from_secs(600);

/// The workspace root.
pub fn project() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

/// What a finished command left.
pub struct Ran {
    /// Exit status.
    pub status: ExitStatus,
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
}

impl Ran {
    /// Exit code (None when killed by a signal).
    pub fn code(&self) -> Option<i32> {
        self.status.code()
    }

    /// Fails the test if the process panicked or died of a signal.
    pub fn no_panic(&self, what: &str) {
        assert!(
            !self.stderr.contains("panicked") && !self.stderr.contains("RUST_BACKTRACE"),
            "{what}: panic\n{}",
            self.stderr
        );
        assert!(
            self.status.code().is_some(),
            "{what}: killed by a signal: {:?}\n{}",
            self.status,
            self.stderr
        );
    }

    /// Both streams, for assertion messages.
    pub fn dump(&self) -> String {
        format!(
            "exit {:?}\n--- stdout\n{}\n--- stderr\n{}",
            self.status.code(),
            self.stdout,
            self.stderr
        )
    }
}

/// The `pipeline` binary as a command.
pub fn command<S: AsRef<OsStr>>(args: &[S]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_pipeline"));
    c.args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    c
}

/// Runs `pipeline ARGS` to the end; a run that outlives [`HANG`] is killed
/// and fails the test.
pub fn pipeline<S: AsRef<OsStr>>(args: &[S]) -> Ran {
    let what: Vec<String> = args
        .iter()
        .take(3)
        .map(|a| a.as_ref().to_string_lossy().into_owned())
        .collect();
    let child = command(args).spawn().expect("pipeline starts");
    finish(child, &what.join(" "))
}

/// Collects the output of `child`, killing it (and failing) after [`HANG`].
pub fn finish(mut child: Child, what: &str) -> Ran {
    let mut out_pipe = child.stdout.take().unwrap();
    let mut err_pipe = child.stderr.take().unwrap();
    // Readers on their own threads so a full pipe never blocks the child.
    let out = std::thread::spawn(move || {
        let mut s = Vec::new();
        let _ = out_pipe.read_to_end(&mut s);
        s
    });
    let err = std::thread::spawn(move || {
        let mut s = Vec::new();
        let _ = err_pipe.read_to_end(&mut s);
        s
    });
    let start = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if start.elapsed() > HANG {
            let _ = child.kill();
            let _ = child.wait();
            let e = String::from_utf8_lossy(&err.join().unwrap()).into_owned();
            panic!("`pipeline {what}` hung (killed after {HANG:?})\n{e}");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    Ran {
        status,
        stdout: String::from_utf8_lossy(&out.join().unwrap()).into_owned(),
        stderr: String::from_utf8_lossy(&err.join().unwrap()).into_owned(),
    }
}

/// Copies the demo clips of `digits` (e.g. `["0", "1"]`) into `data/<digit>/`.
pub fn copy_digits(data: &Path, digits: &[&str]) {
    let src = project().join("audio-samples/digits");
    for d in digits {
        std::fs::create_dir_all(data.join(d)).unwrap();
        for e in std::fs::read_dir(src.join(d)).unwrap() {
            let p = e.unwrap().path();
            std::fs::copy(&p, data.join(d).join(p.file_name().unwrap())).unwrap();
        }
    }
}

/// A small, quick config over `root` (labels from folders, stratified
/// split) with its cache and runs under `dir`. `extra` is appended.
pub fn config(dir: &Path, root: &Path, epochs: usize, extra: &str) -> PathBuf {
    let text = format!(
        r#"name = "robust"
[data]
root = "{root}"
label = "folder"
sample_rate = 8000
clip_frames = 40
[split]
strategy = "stratified"
test_fraction = 0.2
val_fraction = 0.1
seed = 0
[features]
kinds = ["mfcc"]
n_fft = 256
hop_length = 80
n_mels = 40
n_mfcc = 13
deltas = 1
[model]
blocks = [ {{ filters = 16, kernel = 3, pool = 2 }}, {{ filters = 16, kernel = 3, pool = 2 }} ]
[train]
lr = 0.003
batch_size = 32
epochs = {epochs}
seed = 0
[cache]
dir = "{cache}"
[report]
dir = "{runs}"
{extra}"#,
        root = root.display(),
        cache = dir.join("cache").display(),
        runs = dir.join("runs").display(),
    );
    let path = dir.join("robust.toml");
    std::fs::write(&path, text).unwrap();
    path
}

/// The single run directory under `runs`.
pub fn only_run_dir(runs: &Path) -> PathBuf {
    let dirs: Vec<PathBuf> = std::fs::read_dir(runs)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(dirs.len(), 1, "{dirs:?}");
    dirs[0].clone()
}
