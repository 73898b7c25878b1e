//! Files users keep are never left half-written: every crate of Cochlea
//! writes through this one module.
//!
//! A file is written to a temporary sibling and renamed over its target
//! (atomic on POSIX), so a reader sees the old file or the new one, never
//! half of one. A directory (a model bundle, a checkpoint) is filled as a
//! temporary sibling and renamed into place the same way.
//!
//! Durability is explicit ([`Durability`]): [`Durability::Durable`] flushes
//! the file (every file of a directory) to disk before the rename and the
//! parent directory after it, so the new content survives a power cut;
//! [`Durability::Unsynced`] skips both, for data that checks itself and is
//! cheap to recompute (the feature cache).
//!
//! This crate depends on nothing of audio or libtorch.

use std::fmt;
use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// Whether a write waits for the disk.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Durability {
    /// `fsync` the data before the rename and the parent directory after:
    /// reports, bundles, checkpoints, dumps.
    Durable,
    /// Atomic but not flushed: content that carries its own checksum.
    Unsynced,
}

/// An I/O failure and the path it concerns.
#[derive(Debug)]
pub struct Error {
    /// The file or folder that failed.
    pub path: PathBuf,
    /// What the OS said.
    pub source: std::io::Error,
}

impl Error {
    fn new(path: &Path, source: std::io::Error) -> Self {
        Self {
            path: path.to_path_buf(),
            source,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path.display(), self.source)
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.source)
    }
}

/// Writes `bytes` to `path` atomically.
///
/// A device, pipe or socket (`--out /dev/stdout`) is written directly: it
/// cannot be replaced atomically, and must not be, since renaming over it
/// would swap a device node for a plain file.
pub fn write(path: &Path, bytes: &[u8], durability: Durability) -> Result<(), Error> {
    write_with(path, durability, |w| w.write_all(bytes))
}

/// Writes `path` atomically with what `fill` writes into a buffered writer.
pub fn write_with(
    path: &Path,
    durability: Durability,
    fill: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> Result<(), Error> {
    if let Ok(meta) = std::fs::metadata(path)
        && !meta.is_file()
        && !meta.is_dir()
    {
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .open(path)
            .map_err(|e| Error::new(path, e))?;
        fill(&mut f).map_err(|e| Error::new(path, e))?;
        return f.flush().map_err(|e| Error::new(path, e));
    }
    let dir = parent_of(path);
    create_dir_all(dir)?;
    let mut tmp = tempfile::Builder::new()
        .prefix(".tmp-")
        .tempfile_in(dir)
        .map_err(|e| Error::new(dir, e))?;
    {
        let mut out = std::io::BufWriter::new(tmp.as_file_mut());
        fill(&mut out).map_err(|e| Error::new(path, e))?;
        out.flush().map_err(|e| Error::new(path, e))?;
    }
    if durability == Durability::Durable {
        tmp.as_file().sync_all().map_err(|e| Error::new(path, e))?;
    }
    tmp.persist(path).map_err(|e| Error::new(path, e.error))?;
    if durability == Durability::Durable {
        sync_dir(dir)?;
    }
    Ok(())
}

/// Fills a temporary sibling of `dir` with `fill`, then renames it to `dir`.
/// An existing `dir` is moved aside first and removed after the rename, so
/// at every moment either the old or the new folder is complete under one of
/// the two names. With [`Durability::Durable`] every file written by `fill`
/// and the folder itself are flushed before the rename, and the parent after.
pub fn replace_dir<E: From<Error>>(
    dir: &Path,
    durability: Durability,
    fill: impl FnOnce(&Path) -> Result<(), E>,
) -> Result<(), E> {
    let parent = parent_of(dir);
    create_dir_all(parent)?;
    let tmp = sibling(dir, "tmp")?;
    std::fs::create_dir(&tmp).map_err(|e| Error::new(&tmp, e))?;
    let filled = fill(&tmp).and_then(|()| {
        if durability == Durability::Durable {
            sync_tree(&tmp)?;
        }
        Ok(())
    });
    if let Err(e) = filled {
        let _ = std::fs::remove_dir_all(&tmp);
        return Err(e);
    }
    let old = if dir.exists() {
        let old = sibling(dir, "old")?;
        std::fs::rename(dir, &old).map_err(|e| Error::new(dir, e))?;
        Some(old)
    } else {
        None
    };
    std::fs::rename(&tmp, dir).map_err(|e| Error::new(dir, e))?;
    if durability == Durability::Durable {
        sync_dir(parent)?;
    }
    if let Some(old) = old {
        std::fs::remove_dir_all(&old).map_err(|e| Error::new(&old, e))?;
    }
    Ok(())
}

/// `std::fs::create_dir_all`, but when a file stands where a folder must be,
/// the error names that file (the OS only says "File exists" or "Not a
/// directory").
pub fn create_dir_all(dir: &Path) -> Result<(), Error> {
    std::fs::create_dir_all(dir).map_err(|e| match dir.ancestors().find(|a| a.is_file()) {
        Some(file) => Error::new(
            file,
            std::io::Error::other(format!("is a file, so {} cannot be created", dir.display())),
        ),
        None => Error::new(dir, e),
    })
}

/// Flushes a folder's entries (a rename in it, a new file) to disk.
pub fn sync_dir(dir: &Path) -> Result<(), Error> {
    File::open(dir)
        .and_then(|f| f.sync_all())
        .map_err(|e| Error::new(dir, e))
}

/// Flushes every file below `dir`, and every folder, to disk.
fn sync_tree(dir: &Path) -> Result<(), Error> {
    for entry in std::fs::read_dir(dir).map_err(|e| Error::new(dir, e))? {
        let entry = entry.map_err(|e| Error::new(dir, e))?;
        let path = entry.path();
        let kind = entry.file_type().map_err(|e| Error::new(&path, e))?;
        if kind.is_dir() {
            sync_tree(&path)?;
        } else if kind.is_file() {
            File::open(&path)
                .and_then(|f| f.sync_all())
                .map_err(|e| Error::new(&path, e))?;
        }
    }
    sync_dir(dir)
}

fn parent_of(path: &Path) -> &Path {
    path.parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
}

static TMP_COUNTER: AtomicU64 = AtomicU64::new(0);

/// A hidden sibling name no other writer uses: `.<name>.<tag>-<pid>-<n>`.
fn sibling(path: &Path, tag: &str) -> Result<PathBuf, Error> {
    let name = path
        .file_name()
        .ok_or_else(|| {
            Error::new(
                path,
                std::io::Error::new(
                    std::io::ErrorKind::InvalidInput,
                    "not a file or folder name",
                ),
            )
        })?
        .to_string_lossy();
    let n = TMP_COUNTER.fetch_add(1, Ordering::Relaxed);
    Ok(path.with_file_name(format!(".{name}.{tag}-{}-{n}", std::process::id())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn write_replaces_whole_file_and_leaves_no_temporary() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("a/b/out.txt");
        write(&p, b"first version", Durability::Durable).unwrap();
        write(&p, b"second", Durability::Unsynced).unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"second");
        let names: Vec<_> = std::fs::read_dir(p.parent().unwrap())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from("out.txt")]);
    }

    #[test]
    fn failed_fill_keeps_old_file() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("out.txt");
        write(&p, b"old", Durability::Durable).unwrap();
        let err = write_with(&p, Durability::Durable, |w| {
            w.write_all(b"half")?;
            Err(std::io::Error::other("disk full"))
        })
        .unwrap_err();
        assert_eq!(err.path, p);
        assert_eq!(std::fs::read(&p).unwrap(), b"old");
        assert_eq!(std::fs::read_dir(d.path()).unwrap().count(), 1);
    }

    #[test]
    fn replace_dir_swaps_whole_folders() {
        let d = tempfile::tempdir().unwrap();
        let dir = d.path().join("bundle");
        for (version, files) in [(1, &["a", "b"][..]), (2, &["c"][..])] {
            replace_dir::<Error>(&dir, Durability::Durable, |tmp| {
                for f in files {
                    write(
                        &tmp.join(f),
                        format!("{version}").as_bytes(),
                        Durability::Unsynced,
                    )?;
                }
                Ok(())
            })
            .unwrap();
        }
        let mut names: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        names.sort();
        assert_eq!(names, ["c"]);
        assert_eq!(std::fs::read_dir(d.path()).unwrap().count(), 1);
        // A failing fill leaves the previous folder and no temporary.
        let r = replace_dir::<Error>(&dir, Durability::Durable, |_| {
            Err(Error::new(&dir, std::io::Error::other("boom")))
        });
        assert!(r.is_err());
        assert!(dir.join("c").is_file());
        assert_eq!(std::fs::read_dir(d.path()).unwrap().count(), 1);
    }

    #[test]
    fn create_dir_all_names_the_file_in_the_way() {
        let d = tempfile::tempdir().unwrap();
        let f = d.path().join("file");
        std::fs::write(&f, b"x").unwrap();
        let err = create_dir_all(&f.join("sub/dir")).unwrap_err();
        assert_eq!(err.path, f);
        assert!(err.to_string().contains("is a file"));
    }
}
