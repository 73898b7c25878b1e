//! NumPy `.npy` files of little-endian float32 in C order, the format
//! `np.load` reads and the golden files use. Writes are atomic (temporary
//! file in the same directory, then rename), so a reader never sees half a
//! file.

use std::fs;
use std::path::Path;

use crate::Error;

const MAGIC: &[u8] = b"\x93NUMPY";

/// Write `data` with `shape` (C order) to `path` as a version 1.0 `.npy`.
pub fn write_npy_f32(path: &Path, shape: &[usize], data: &[f32]) -> Result<(), Error> {
    let npy_err = |reason: String| Error::Npy {
        path: path.to_path_buf(),
        reason,
    };
    let count: usize = shape.iter().product();
    if count != data.len() {
        return Err(npy_err(format!(
            "shape {shape:?} holds {count} values, given {}",
            data.len()
        )));
    }
    let dims = match shape {
        [n] => format!("({n},)"),
        _ => format!(
            "({})",
            shape
                .iter()
                .map(|d| d.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    let mut header = format!("{{'descr': '<f4', 'fortran_order': False, 'shape': {dims}, }}");
    // numpy pads the header with spaces so the data starts on a 64-byte
    // boundary, and ends it with a newline.
    let unpadded = MAGIC.len() + 2 + 2 + header.len() + 1;
    header.push_str(&" ".repeat((64 - unpadded % 64) % 64));
    header.push('\n');
    let header_len = u16::try_from(header.len()).map_err(|_| npy_err("header too long".into()))?;

    // Streamed through a buffer: an hour of features is tens of megabytes,
    // which need not be held twice.
    cochlea_io::write_with(path, cochlea_io::Durability::Durable, |out| {
        out.write_all(MAGIC)?;
        out.write_all(&[1, 0])?;
        out.write_all(&header_len.to_le_bytes())?;
        out.write_all(header.as_bytes())?;
        for v in data {
            out.write_all(&v.to_le_bytes())?;
        }
        Ok(())
    })?;
    Ok(())
}

/// Read a `.npy` of little-endian float32 in C order: its shape and values.
/// Any other dtype, byte order or Fortran order is rejected with the reason.
pub fn read_npy_f32(path: &Path) -> Result<(Vec<usize>, Vec<f32>), Error> {
    let bytes = fs::read(path).map_err(|source| Error::Io {
        path: path.to_path_buf(),
        source,
    })?;
    parse(&bytes).map_err(|reason| Error::Npy {
        path: path.to_path_buf(),
        reason,
    })
}

fn parse(bytes: &[u8]) -> Result<(Vec<usize>, Vec<f32>), String> {
    if bytes.len() < 10 || &bytes[..6] != MAGIC {
        return Err("missing the \\x93NUMPY magic".into());
    }
    let (header_len, start) = match bytes[6] {
        1 => (usize::from(u16::from_le_bytes([bytes[8], bytes[9]])), 10),
        2 | 3 if bytes.len() >= 12 => (
            u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]) as usize,
            12,
        ),
        v => return Err(format!("unsupported format version {v}")),
    };
    let header = bytes
        .get(start..start + header_len)
        .ok_or("header runs past the end of the file")?;
    let header = std::str::from_utf8(header).map_err(|_| "header is not text")?;
    let descr = dict_value(header, "descr").ok_or("header has no 'descr'")?;
    let descr = descr.trim_matches(|c| c == '\'' || c == '"');
    if descr != "<f4" {
        return Err(format!(
            "dtype '{descr}' is not supported; expected '<f4' (little-endian float32)"
        ));
    }
    let fortran = dict_value(header, "fortran_order").ok_or("header has no 'fortran_order'")?;
    if fortran != "False" {
        return Err("Fortran-order arrays are not supported; save with C order".into());
    }
    let shape_text = dict_value(header, "shape").ok_or("header has no 'shape'")?;
    let inner = shape_text
        .strip_prefix('(')
        .and_then(|s| s.strip_suffix(')'))
        .ok_or_else(|| format!("malformed shape {shape_text}"))?;
    let shape = inner
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| {
            s.parse::<usize>()
                .map_err(|_| format!("malformed shape {shape_text}"))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let count = shape
        .iter()
        .try_fold(1usize, |acc, &d| acc.checked_mul(d))
        .ok_or_else(|| format!("shape {shape:?} is too large"))?;
    let data = &bytes[start + header_len..];
    if data.len() != count.saturating_mul(4) {
        return Err(format!(
            "shape {shape:?} needs {} data bytes, the file has {}",
            count * 4,
            data.len()
        ));
    }
    let values = data
        .chunks_exact(4)
        .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect();
    Ok((shape, values))
}

/// The text of `key`'s value in a Python dict literal such as numpy writes.
fn dict_value<'a>(header: &'a str, key: &str) -> Option<&'a str> {
    let at = header
        .find(&format!("'{key}'"))
        .or_else(|| header.find(&format!("\"{key}\"")))?;
    let rest = header[at + key.len() + 2..]
        .trim_start()
        .strip_prefix(':')?
        .trim_start();
    let end = if rest.starts_with('(') {
        rest.find(')')? + 1
    } else {
        rest.find([',', '}'])?
    };
    Some(rest[..end].trim())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_header_alignment() {
        let dir = tempfile::tempdir().unwrap();
        for shape in [vec![2, 3], vec![5], vec![0, 4], vec![1, 2, 2]] {
            let n: usize = shape.iter().product();
            let data: Vec<f32> = (0..n).map(|i| i as f32 * 0.5 - 1.0).collect();
            let path = dir.path().join("a.npy");
            write_npy_f32(&path, &shape, &data).unwrap();
            let bytes = fs::read(&path).unwrap();
            let header_len = u16::from_le_bytes([bytes[8], bytes[9]]) as usize;
            assert_eq!((10 + header_len) % 64, 0);
            assert_eq!(read_npy_f32(&path).unwrap(), (shape, data));
        }
        assert!(write_npy_f32(&dir.path().join("b.npy"), &[2, 2], &[1.0]).is_err());
    }

    #[test]
    fn rejects_other_dtypes_clearly() {
        let f8 = b"\x93NUMPY\x01\x00\x46\x00{'descr': '<f8', 'fortran_order': False, 'shape': (1,), }          \n\0\0\0\0\0\0\0\0";
        let err = parse(f8).unwrap_err();
        assert!(err.contains("'<f8'"), "{err}");
        assert!(parse(b"garbage").unwrap_err().contains("magic"));
        let fortran = b"\x93NUMPY\x01\x00\x46\x00{'descr': '<f4', 'fortran_order': True, 'shape': (1,), }           \n\0\0\0\0";
        assert!(parse(fortran).unwrap_err().contains("Fortran"));
    }
}
