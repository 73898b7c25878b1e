//! Files users keep are never left half-written: write a sibling temp file,
//! flush it to disk, then rename it over the target (atomic on POSIX).

use std::io::Write;
use std::path::Path;

use crate::error::Error;

/// Writes `bytes` to `path` atomically and durably (flushed to disk before
/// the rename), for what users keep: reports, bundles, dumps.
///
/// A device, pipe or socket (`--out /dev/stdout`) is written directly: it
/// cannot be replaced atomically, and must not be, since renaming over it
/// would swap a device node for a plain file.
pub fn write(path: &Path, bytes: &[u8]) -> Result<(), Error> {
    write_inner(path, bytes, true)
}

/// Writes `bytes` to `path` atomically but without waiting for the disk:
/// for cache entries, which carry their own checksum, so an entry lost or
/// torn by a power cut is detected and recomputed. One `fsync` per cached
/// clip would cost more than computing its features.
pub fn write_unsynced(path: &Path, bytes: &[u8]) -> Result<(), Error> {
    write_inner(path, bytes, false)
}

fn write_inner(path: &Path, bytes: &[u8], durable: bool) -> Result<(), Error> {
    if let Ok(meta) = std::fs::metadata(path)
        && !meta.is_file()
        && !meta.is_dir()
    {
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .open(path)
            .map_err(|e| Error::io(path, e))?;
        f.write_all(bytes).map_err(|e| Error::io(path, e))?;
        return f.flush().map_err(|e| Error::io(path, e));
    }
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    create_dir_all(dir)?;
    let mut tmp = tempfile::Builder::new()
        .prefix(".tmp-")
        .tempfile_in(dir)
        .map_err(|e| Error::io(dir, e))?;
    tmp.write_all(bytes).map_err(|e| Error::io(path, e))?;
    if durable {
        tmp.as_file().sync_all().map_err(|e| Error::io(path, e))?;
    }
    tmp.persist(path).map_err(|e| Error::io(path, e.error))?;
    Ok(())
}

/// Writes a value as pretty JSON, atomically.
pub fn write_json<T: serde::Serialize>(path: &Path, value: &T) -> Result<(), Error> {
    let text =
        serde_json::to_vec_pretty(value).map_err(|e| Error::io(path, std::io::Error::other(e)))?;
    write(path, &text)
}

/// `std::fs::create_dir_all`, but when a file stands where a folder must be,
/// the error names that file (the OS only says "File exists" or "Not a
/// directory").
pub fn create_dir_all(dir: &Path) -> Result<(), Error> {
    std::fs::create_dir_all(dir).map_err(|e| match dir.ancestors().find(|a| a.is_file()) {
        Some(file) => Error::io(
            file,
            std::io::Error::other(format!("is a file, so {} cannot be created", dir.display())),
        ),
        None => Error::io(dir, e),
    })
}
