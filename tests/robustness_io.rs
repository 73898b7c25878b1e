//! Output that cannot be written: a folder under a file, a read-only or full
//! filesystem, `/dev/full`. Every command must report the path and stop (or,
//! for the optional feature cache, warn and carry on), never panic.
//!
//! Read-only and full filesystems are small tmpfs mounts, which need root
//! (as root, permission bits do not stop writes); without root those cases
//! are skipped with a message.

#[path = "robustness/common.rs"]
mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use common::{Ran, config, copy_digits, only_run_dir, pipeline};

/// A tmpfs mounted for one test, unmounted on drop.
struct Mount {
    dir: tempfile::TempDir,
}

impl Mount {
    /// Mounts a tmpfs of `size` (e.g. "64k") with extra `options` ("ro"),
    /// or `None` when this process may not mount.
    fn tmpfs(size: &str, options: &str) -> Option<Mount> {
        let dir = tempfile::tempdir().unwrap();
        let mut opts = format!("size={size}");
        if !options.is_empty() {
            opts = format!("{opts},{options}");
        }
        let ok = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &opts, "tmpfs"])
            .arg(dir.path())
            .output()
            .is_ok_and(|o| o.status.success());
        if !ok {
            eprintln!("skipped: cannot mount a tmpfs here (needs root)");
            return None;
        }
        Some(Mount { dir })
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Fills the filesystem until a write fails, so the next one does too.
    fn fill(&self) {
        let mut f = std::fs::File::create(self.path().join("filler")).unwrap();
        let block = vec![0u8; 4096];
        while std::io::Write::write_all(&mut f, &block).is_ok() {}
        let _ = f.sync_all();
    }
}

impl Drop for Mount {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(self.dir.path()).status();
    }
}

/// A small dataset and a model trained on it once (for classify).
struct World {
    _tmp: tempfile::TempDir,
    dir: PathBuf,
    data: PathBuf,
    run_dir: PathBuf,
}

fn world() -> &'static World {
    static W: OnceLock<World> = OnceLock::new();
    W.get_or_init(|| {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().to_path_buf();
        let data = dir.join("data");
        copy_digits(&data, &["0", "1"]);
        let cfg = config(&dir, &data, 1, "");
        let r = pipeline(&["run".as_ref(), cfg.as_os_str(), "--quiet".as_ref()]);
        assert_eq!(r.code(), Some(0), "{}", r.dump());
        let run_dir = only_run_dir(&dir.join("runs"));
        World {
            _tmp: tmp,
            dir,
            data,
            run_dir,
        }
    })
}

/// A config over the world's data with `[report] dir` and `[cache] dir`
/// replaced as given, written into a fresh folder.
fn config_with(report: &Path, cache: &Path) -> (tempfile::TempDir, PathBuf) {
    let w = world();
    let tmp = tempfile::tempdir_in(&w.dir).unwrap();
    let path = config(tmp.path(), &w.data, 1, "");
    let text = std::fs::read_to_string(&path).unwrap();
    let text = text
        .replace(
            &format!("dir = \"{}\"", tmp.path().join("runs").display()),
            &format!("dir = \"{}\"", report.display()),
        )
        .replace(
            &format!("dir = \"{}\"", tmp.path().join("cache").display()),
            &format!("dir = \"{}\"", cache.display()),
        );
    std::fs::write(&path, text).unwrap();
    (tmp, path)
}

/// The command failed cleanly: exit 2, one error naming `path` (or a folder
/// above it, for the file that stands in its way).
fn fails_naming(r: &Ran, what: &str, path: &Path) {
    r.no_panic(what);
    assert_eq!(r.code(), Some(2), "{what}: {}", r.dump());
    let first = r
        .stderr
        .lines()
        .find(|l| l.starts_with("error: "))
        .unwrap_or_else(|| panic!("{what}: no error line\n{}", r.dump()));
    // Each cause once: "x: No space left on device", not twice.
    for reason in [
        "No space left",
        "Read-only",
        "File exists",
        "Not a directory",
    ] {
        assert!(first.matches(reason).count() <= 1, "{what}: {first}");
    }
    assert!(
        first.contains(&*path.to_string_lossy()),
        "{what}: the error does not name {}: {first}",
        path.display()
    );
}

/// A file, and a path that needs it to be a folder.
fn under_a_file(dir: &Path) -> PathBuf {
    std::fs::create_dir_all(dir).unwrap();
    let file = dir.join("a-file");
    std::fs::write(&file, "not a folder").unwrap();
    file.join("out")
}

#[test]
fn run_reports_a_report_folder_it_cannot_create() {
    let w = world();
    let bad = under_a_file(&w.dir.join("run-report"));
    let (_t, cfg) = config_with(&bad, &w.dir.join("cache"));
    let r = pipeline(&["run".as_ref(), cfg.as_os_str(), "--quiet".as_ref()]);
    fails_naming(&r, "run, report under a file", bad.parent().unwrap());
}

#[test]
fn run_reports_a_read_only_or_full_report_folder() {
    let w = world();
    if let Some(ro) = Mount::tmpfs("64k", "ro") {
        let (_t, cfg) = config_with(&ro.path().join("runs"), &w.dir.join("cache"));
        let r = pipeline(&["run".as_ref(), cfg.as_os_str(), "--quiet".as_ref()]);
        fails_naming(&r, "run, read-only report folder", &ro.path().join("runs"));
    }
    if let Some(full) = Mount::tmpfs("64k", "") {
        full.fill();
        let (_t, cfg) = config_with(&full.path().join("runs"), &w.dir.join("cache"));
        let r = pipeline(&["run".as_ref(), cfg.as_os_str(), "--quiet".as_ref()]);
        // Which file hits the full disk first varies; it is under the mount.
        fails_naming(&r, "run, full report folder", full.path());
        assert!(r.stderr.contains("No space left on device"), "{}", r.stderr);
    }
}

#[test]
fn an_unwritable_cache_warns_once_and_the_run_goes_on() {
    let w = world();
    let mut caches = vec![(under_a_file(&w.dir.join("cache-file")), None)];
    let full = Mount::tmpfs("64k", "");
    if let Some(m) = &full {
        m.fill();
        caches.push((m.path().join("cache"), Some("No space left on device")));
    }
    let ro = Mount::tmpfs("64k", "ro");
    if let Some(m) = &ro {
        caches.push((m.path().join("cache"), Some("Read-only file system")));
    }
    for (cache, reason) in caches {
        let tmp = tempfile::tempdir_in(&w.dir).unwrap();
        let (_t, cfg) = config_with(&tmp.path().join("runs"), &cache);
        let r = pipeline(&["run".as_ref(), cfg.as_os_str(), "--quiet".as_ref()]);
        r.no_panic("run, unwritable cache");
        assert_eq!(r.code(), Some(0), "{}", r.dump());
        let warnings: Vec<&str> = r
            .stderr
            .lines()
            .filter(|l| l.contains("feature cache"))
            .collect();
        assert_eq!(warnings.len(), 1, "{}", r.stderr);
        assert!(
            warnings[0].contains(&*cache.to_string_lossy()),
            "{}",
            warnings[0]
        );
        if let Some(reason) = reason {
            assert!(warnings[0].contains(reason), "{}", warnings[0]);
        }
    }
}

#[test]
fn features_report_an_output_folder_they_cannot_write() {
    let w = world();
    let cfg = w.run_dir.join("config.toml");
    let file = w.data.join("0").join("0_carf1_01.wav");
    let bad = under_a_file(&w.dir.join("features-file"));
    let args = |out: &Path| {
        vec![
            "features".into(),
            "--quiet".into(),
            "--config".into(),
            cfg.clone().into_os_string(),
            file.clone().into_os_string(),
            "--out".into(),
            out.to_path_buf().into_os_string(),
        ]
    };
    let r = pipeline(&args(&bad));
    fails_naming(&r, "features, out under a file", bad.parent().unwrap());
    assert!(r.stderr.contains("is a file"), "{}", r.stderr);
    if let Some(full) = Mount::tmpfs("64k", "") {
        full.fill();
        let out = full.path().join("features");
        std::fs::create_dir(&out).unwrap_or(());
        let r = pipeline::<std::ffi::OsString>(&args(&out));
        r.no_panic("features, full disk");
        assert_ne!(r.code(), Some(0), "{}", r.dump());
        assert!(
            r.stderr.contains(&*full.path().to_string_lossy())
                && r.stderr.contains("No space left on device"),
            "{}",
            r.stderr
        );
    }
}

#[test]
fn classify_reports_an_output_it_cannot_write() {
    let w = world();
    let files = w.data.join("1");
    let args = |out: &Path| {
        vec![
            "classify".into(),
            "--quiet".into(),
            "--model".into(),
            w.run_dir.clone().into_os_string(),
            "--out".into(),
            out.to_path_buf().into_os_string(),
            files.clone().into_os_string(),
        ]
    };
    let bad = under_a_file(&w.dir.join("classify-file"));
    let r = pipeline::<std::ffi::OsString>(&args(&bad));
    fails_naming(&r, "classify, out under a file", bad.parent().unwrap());
    assert!(r.stderr.contains("is a file"), "{}", r.stderr);
    // A device is written in place, never replaced by a renamed temp file.
    let dev_full = Path::new("/dev/full");
    if dev_full.exists() {
        let r = pipeline::<std::ffi::OsString>(&args(dev_full));
        fails_naming(&r, "classify, /dev/full", dev_full);
        assert!(r.stderr.contains("No space left on device"), "{}", r.stderr);
        use std::os::unix::fs::FileTypeExt;
        assert!(
            std::fs::metadata(dev_full)
                .unwrap()
                .file_type()
                .is_char_device(),
            "/dev/full is no longer a device"
        );
    }
    if let Some(full) = Mount::tmpfs("64k", "") {
        full.fill();
        let out = full.path().join("out.csv");
        let r = pipeline::<std::ffi::OsString>(&args(&out));
        fails_naming(&r, "classify, full disk", &out);
        assert!(!out.exists(), "a partial output was left behind");
    }
}

#[test]
fn init_reports_a_config_it_cannot_write() {
    let w = world();
    let bad = under_a_file(&w.dir.join("init-file")).join("c.toml");
    let r = pipeline(&[
        "init".as_ref(),
        w.data.as_os_str(),
        "--out".as_ref(),
        bad.as_os_str(),
    ]);
    fails_naming(
        &r,
        "init, out under a file",
        &w.dir.join("init-file/a-file"),
    );
}
