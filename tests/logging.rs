//! What `pipeline run` prints on stderr when stderr is not a terminal (a
//! pipe here, as under nohup, Slurm or CI), at each verbosity level.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

mod util;
use util::project;

const EPOCHS: usize = 3;

/// `pipeline ARGS` with stderr piped and `COCHLEA_LOG` set to `log` (or
/// removed).
fn pipeline(args: &[&str], log: Option<&str>) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_pipeline"));
    cmd.args(args);
    match log {
        Some(v) => cmd.env("COCHLEA_LOG", v),
        None => cmd.env_remove("COCHLEA_LOG"),
    };
    cmd.output().expect("pipeline starts")
}

fn stderr_of(out: &Output) -> String {
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(
        out.status.success(),
        "exit {:?}\nstderr:\n{err}",
        out.status.code()
    );
    err
}

/// The smallest demo run: three digits of the demo data, a small network,
/// `EPOCHS` epochs, one split.
fn small_config(dir: &Path) -> PathBuf {
    let root = dir.join("digits");
    for d in ["0", "1", "2"] {
        let from = project().join("audio-samples/digits").join(d);
        let to = root.join(d);
        std::fs::create_dir_all(&to).unwrap();
        for e in std::fs::read_dir(&from).unwrap() {
            let e = e.unwrap();
            std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
        }
    }
    let text = format!(
        r#"name = "logging"
[data]
root = "{root}"
label = "folder"
group = {{ regex = '^\d_([a-z0-9]+)_' }}
sample_rate = 8000
clip_frames = 80
[split]
strategy = "group"
test_fraction = 0.2
val_fraction = 0.1
seed = 0
[features]
kinds = ["mfcc"]
n_fft = 256
hop_length = 80
n_mels = 40
n_mfcc = 13
[model]
blocks = [ {{ filters = 16, kernel = 5, pool = 2 }} ]
[train]
batch_size = 32
epochs = {EPOCHS}
seed = 0
[cache]
dir = "{cache}"
[report]
dir = "{runs}"
"#,
        root = root.display(),
        cache = dir.join("cache").display(),
        runs = dir.join("runs").display(),
    );
    let path = dir.join("logging.toml");
    std::fs::write(&path, text).unwrap();
    path
}

/// Whether `line` starts with a `[hh:mm:ss] ` stamp.
fn stamped(line: &str) -> bool {
    let b = line.as_bytes();
    b.len() > 11
        && b[0] == b'['
        && b[9] == b']'
        && b[10] == b' '
        && [1, 2, 4, 5, 7, 8].iter().all(|&i| b[i].is_ascii_digit())
        && b[3] == b':'
        && b[6] == b':'
}

/// The stamped lines of `err`, without their stamps.
fn progress_lines(err: &str) -> Vec<&str> {
    err.lines()
        .filter(|l| stamped(l))
        .map(|l| &l[11..])
        .collect()
}

#[test]
fn piped_stderr_gets_a_line_per_stage_and_per_epoch() {
    let tmp = tempfile::tempdir().unwrap();
    let cfg = small_config(tmp.path());
    let cfg = cfg.to_str().unwrap();
    let n_files = std::fs::read_dir(tmp.path().join("digits"))
        .unwrap()
        .map(|d| std::fs::read_dir(d.unwrap().path()).unwrap().count())
        .sum::<usize>();

    let err = stderr_of(&pipeline(&["run", cfg], None));
    let lines = progress_lines(&err);
    let epochs: Vec<&str> = lines
        .iter()
        .copied()
        .filter(|l| l.starts_with("train ") && l.contains(" loss "))
        .collect();
    assert_eq!(epochs.len(), EPOCHS, "one line per epoch:\n{err}");
    for (i, l) in epochs.iter().enumerate() {
        let head = format!("train {}/{EPOCHS} loss ", i + 1);
        assert!(
            l.starts_with(&head) && l.contains(" acc ") && l.contains(" val "),
            "{l}"
        );
    }
    assert!(
        lines.contains(&format!("train 0/{EPOCHS} started").as_str()),
        "{err}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with(&format!("train {EPOCHS}/{EPOCHS} finished in "))),
        "{err}"
    );
    // Features: a start and an end, and between them a line per tenth at
    // most, never one per file.
    let features: Vec<&str> = lines
        .iter()
        .copied()
        .filter(|l| l.starts_with("features "))
        .collect();
    assert_eq!(
        features[0],
        format!("features 0/{n_files} started"),
        "{err}"
    );
    assert!(
        features
            .last()
            .unwrap()
            .starts_with(&format!("features {n_files}/{n_files} finished in ")),
        "{err}"
    );
    assert!(
        features.len() <= 2 + 9 && features.len() < n_files,
        "{} feature lines for {n_files} files:\n{err}",
        features.len()
    );
    // Nothing else is stamped at the default level.
    assert_eq!(
        lines.len(),
        features.len() + epochs.len() + 2,
        "unexpected lines:\n{err}"
    );

    // -v adds the settings in effect.
    let err = stderr_of(&pipeline(&["run", cfg, "-v"], None));
    assert!(
        progress_lines(&err)
            .iter()
            .any(|l| l.contains("log level debug (COCHLEA_LOG=unset, -v x1, -q x0)")),
        "{err}"
    );

    // -q, or COCHLEA_LOG=warn, hides progress; the result lines stay.
    for (args, log) in [
        (vec!["run", cfg, "-q"], None),
        (vec!["run", cfg], Some("warn")),
    ] {
        let err = stderr_of(&pipeline(&args, log));
        assert_eq!(
            progress_lines(&err),
            Vec::<&str>::new(),
            "{args:?} {log:?}:\n{err}"
        );
        assert!(err.contains("run directory: "), "{err}");
    }
}

#[test]
fn an_unknown_log_level_is_refused_before_any_work() {
    let tmp = tempfile::tempdir().unwrap();
    let out = pipeline(
        &["init", tmp.path().to_str().unwrap(), "--out", "-"],
        Some("loud"),
    );
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        err.trim(),
        "error: COCHLEA_LOG=loud: expected one of error, warn, info, debug"
    );
    assert!(out.stdout.is_empty());
}
