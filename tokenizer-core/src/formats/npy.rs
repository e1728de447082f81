//! NumPy `.npy` files of one flat array of unsigned integers, written as a stream.
//!
//! Token shards hold billions of ids, so the writer does not know the length when it starts: it
//! writes a header of fixed size (128 bytes, room for any `u64` length), streams the values, and
//! rewrites the header with the final length before the file is committed atomically. The
//! result is a version 1.0 `.npy` file that `numpy.load` (also with `mmap_mode="r"`) reads.

use std::io::{BufWriter, Seek, SeekFrom, Write};
use std::path::Path;

use crate::io::AtomicFile;
use crate::{Error, Result};

/// Bytes of the magic string, version, header length and header dict: a multiple of 64, as the
/// format asks, and enough for the longest shape.
const HEADER_BYTES: usize = 128;

/// Element type of an array.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dtype {
    U16,
    U32,
    U64,
}

impl Dtype {
    /// NumPy's name of the little-endian type (`<u2`, …).
    pub fn descr(self) -> &'static str {
        match self {
            Dtype::U16 => "<u2",
            Dtype::U32 => "<u4",
            Dtype::U64 => "<u8",
        }
    }

    /// Bytes per element.
    pub fn size(self) -> usize {
        match self {
            Dtype::U16 => 2,
            Dtype::U32 => 4,
            Dtype::U64 => 8,
        }
    }

    /// The largest value an element holds.
    pub fn max(self) -> u64 {
        match self {
            Dtype::U16 => u16::MAX as u64,
            Dtype::U32 => u32::MAX as u64,
            Dtype::U64 => u64::MAX,
        }
    }
}

/// The 128-byte header of a one-dimensional array of `len` elements.
fn header(dtype: Dtype, len: u64) -> [u8; HEADER_BYTES] {
    let dict = format!("{{'descr': '{}', 'fortran_order': False, 'shape': ({len},), }}", dtype.descr());
    let mut out = [b' '; HEADER_BYTES];
    out[..6].copy_from_slice(b"\x93NUMPY");
    out[6] = 1;
    out[7] = 0;
    out[8..10].copy_from_slice(&((HEADER_BYTES - 10) as u16).to_le_bytes());
    out[10..10 + dict.len()].copy_from_slice(dict.as_bytes());
    out[HEADER_BYTES - 1] = b'\n';
    out
}

/// Writes one flat `.npy` array element by element; nothing appears at the path until
/// [`NpyWriter::finish`].
pub struct NpyWriter {
    out: BufWriter<AtomicFile>,
    dtype: Dtype,
    len: u64,
}

impl NpyWriter {
    /// Starts the file at `path` (a temporary file until `finish`).
    pub fn create(path: &Path, dtype: Dtype) -> Result<NpyWriter> {
        let mut file = AtomicFile::create(path)?;
        file.write_all(&header(dtype, 0)).map_err(|e| Error::io(path, e))?;
        Ok(NpyWriter { out: BufWriter::with_capacity(1 << 20, file), dtype, len: 0 })
    }

    /// Elements written so far.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// True before the first element.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Appends `values`; a value too large for the element type is an error (the caller chose
    /// the type from the largest value it can write, so this is a broken promise, not input).
    pub fn extend<T: Copy + Into<u64>>(&mut self, values: &[T]) -> Result<()> {
        let dtype = self.dtype;
        if let Some(v) = values.iter().map(|&v| v.into()).find(|&v| v > dtype.max()) {
            return Err(Error::format(self.out.get_ref().path(), format!("value {v} does not fit the array's type {}", dtype.descr())));
        }
        let mut buf = Vec::with_capacity(values.len() * dtype.size());
        let wide = values.iter().map(|&v| v.into());
        match dtype {
            Dtype::U16 => buf.extend(wide.flat_map(|v| (v as u16).to_le_bytes())),
            Dtype::U32 => buf.extend(wide.flat_map(|v| (v as u32).to_le_bytes())),
            Dtype::U64 => buf.extend(wide.flat_map(u64::to_le_bytes)),
        }
        self.out.write_all(&buf).map_err(|e| Error::io(self.out.get_ref().path(), e))?;
        self.len += values.len() as u64;
        Ok(())
    }

    /// Writes the final header and moves the file to its path.
    pub fn finish(self) -> Result<()> {
        let (dtype, len) = (self.dtype, self.len);
        let path = self.out.get_ref().path().to_path_buf();
        let mut file = self.out.into_inner().map_err(|e| Error::io(&path, e.into_error()))?;
        let rewrite = |file: &mut AtomicFile| -> std::io::Result<()> {
            file.file().seek(SeekFrom::Start(0))?;
            file.write_all(&header(dtype, len))
        };
        rewrite(&mut file).map_err(|e| Error::io(&path, e))?;
        file.commit()
    }
}

/// Writes `values` as a flat `.npy` array, atomically.
pub fn write<T: Copy + Into<u64>>(path: &Path, dtype: Dtype, values: &[T]) -> Result<()> {
    let mut writer = NpyWriter::create(path, dtype)?;
    writer.extend(values)?;
    writer.finish()
}

/// Reads a flat array of unsigned integers written by [`NpyWriter`] (or by NumPy, little-endian,
/// C order), widened to `u64`; every malformed header is an error naming the file.
pub fn read(path: &Path) -> Result<(Dtype, Vec<u64>)> {
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    let bad = |message: &str| Error::format(path, format!("not a flat .npy array of unsigned integers: {message}"));
    if bytes.len() < 10 || &bytes[..6] != b"\x93NUMPY" || bytes[6] != 1 {
        return Err(bad("no version 1 .npy header"));
    }
    let header_len = u16::from_le_bytes([bytes[8], bytes[9]]) as usize;
    let dict = bytes.get(10..10 + header_len).and_then(|h| std::str::from_utf8(h).ok()).ok_or_else(|| bad("header cut short"))?;
    let dtype = [Dtype::U16, Dtype::U32, Dtype::U64]
        .into_iter()
        .find(|d| dict.contains(&format!("'descr': '{}'", d.descr())))
        .ok_or_else(|| bad("element type is not <u2, <u4 or <u8"))?;
    if !dict.contains("'fortran_order': False") {
        return Err(bad("not in C order"));
    }
    let shape = dict.split("'shape': (").nth(1).and_then(|s| s.split(',').next()).ok_or_else(|| bad("no shape"))?;
    let len: usize = shape.trim().parse().map_err(|_| bad("shape is not one dimension"))?;
    let data = &bytes[10 + header_len..];
    if data.len() != len * dtype.size() {
        return Err(bad(&format!("{} data bytes for {len} elements of {}", data.len(), dtype.descr())));
    }
    let values = data
        .chunks_exact(dtype.size())
        .map(|c| match dtype {
            Dtype::U16 => u16::from_le_bytes([c[0], c[1]]) as u64,
            Dtype::U32 => u32::from_le_bytes(c.try_into().unwrap()) as u64,
            Dtype::U64 => u64::from_le_bytes(c.try_into().unwrap()),
        })
        .collect();
    Ok((dtype, values))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_is_128_bytes_and_names_the_length() {
        let h = header(Dtype::U64, u64::MAX);
        assert_eq!(h.len(), 128);
        let text = std::str::from_utf8(&h[10..]).unwrap();
        assert!(text.starts_with("{'descr': '<u8', 'fortran_order': False, 'shape': (18446744073709551615,), }"), "{text}");
        assert!(text.ends_with(" \n"));
    }

    #[test]
    fn streamed_arrays_read_back() {
        let dir = tempfile::tempdir().unwrap();
        for dtype in [Dtype::U16, Dtype::U32, Dtype::U64] {
            let path = dir.path().join(format!("a{}.npy", dtype.size()));
            let mut w = NpyWriter::create(&path, dtype).unwrap();
            assert!(!path.exists(), "nothing at the path before finish");
            w.extend(&[1u32, 2, 65535]).unwrap();
            w.extend::<u32>(&[]).unwrap();
            w.extend(&[7u16]).unwrap();
            w.finish().unwrap();
            assert_eq!(read(&path).unwrap(), (dtype, vec![1, 2, 65535, 7]));
        }
        let empty = dir.path().join("empty.npy");
        write::<u32>(&empty, Dtype::U32, &[]).unwrap();
        assert_eq!(read(&empty).unwrap(), (Dtype::U32, vec![]));
    }

    #[test]
    fn too_large_values_and_dropped_writers_leave_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ids.npy");
        let mut w = NpyWriter::create(&path, Dtype::U16).unwrap();
        let err = w.extend(&[70_000u32]).unwrap_err();
        assert!(err.to_string().contains("70000") && err.to_string().contains("ids.npy"), "{err}");
        drop(w);
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0, "temporary file removed");
    }

    #[test]
    fn malformed_files_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.npy");
        std::fs::write(&path, b"not numpy").unwrap();
        assert!(read(&path).unwrap_err().to_string().contains("x.npy"));
    }
}
