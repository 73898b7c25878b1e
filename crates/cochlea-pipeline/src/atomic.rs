//! What the pipeline writes goes through `cochlea_io`: atomically always,
//! and durably (file and parent folder flushed) for everything users keep.

use std::path::Path;

use cochlea_io::Durability;

use crate::error::Error;

/// Writes `bytes` to `path` atomically and durably, for what users keep:
/// reports, metrics, run state, dumps. A device or pipe is written directly.
pub fn write(path: &Path, bytes: &[u8]) -> Result<(), Error> {
    Ok(cochlea_io::write(path, bytes, Durability::Durable)?)
}

/// Writes `bytes` to `path` atomically but without waiting for the disk:
/// for cache entries, which carry their own checksum, so an entry lost or
/// torn by a power cut is detected and recomputed. One `fsync` per cached
/// clip would cost more than computing its features.
pub fn write_unsynced(path: &Path, bytes: &[u8]) -> Result<(), Error> {
    Ok(cochlea_io::write(path, bytes, Durability::Unsynced)?)
}

/// Writes a value as pretty JSON, atomically and durably.
pub fn write_json<T: serde::Serialize>(path: &Path, value: &T) -> Result<(), Error> {
    let text =
        serde_json::to_vec_pretty(value).map_err(|e| Error::io(path, std::io::Error::other(e)))?;
    write(path, &text)
}

/// `std::fs::create_dir_all`, naming the file that stands where a folder must be.
pub fn create_dir_all(dir: &Path) -> Result<(), Error> {
    Ok(cochlea_io::create_dir_all(dir)?)
}
