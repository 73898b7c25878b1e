//! What the end-to-end tests of the `pipeline` binary share: where the
//! project is, how the binary is called, and the check that it succeeded.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

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
