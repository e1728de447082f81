//! Small file helpers shared by the writers.

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::{Error, Result};

/// Writes `bytes` to `path` atomically: a temporary file in the same directory, flushed and
/// synced, then renamed over the target. A crash or a full disk leaves either the old file or
/// the complete new one, never a half-written file; on an error the temporary file is removed.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    write_atomic_with(path, |file| file.write_all(bytes))
}

/// Like [`write_atomic`], with the content written by `write` into the temporary file (the
/// seam the tests use to fail a write halfway, as a full disk does).
pub fn write_atomic_with(path: &Path, write: impl FnOnce(&mut File) -> std::io::Result<()>) -> Result<()> {
    let mut file = AtomicFile::create(path)?;
    write(file.file()).map_err(|e| Error::io(path, e))?;
    file.commit()
}

/// A file written in several steps (a stream too large to hold in memory) that appears at its
/// path only when [`AtomicFile::commit`] succeeds: until then it is a temporary file next to the
/// target, removed if the writer is dropped without committing (an error on the way).
pub struct AtomicFile {
    path: PathBuf,
    tmp: PathBuf,
    file: Option<File>,
}

impl AtomicFile {
    /// Creates the temporary file for `path`.
    pub fn create(path: &Path) -> Result<AtomicFile> {
        let tmp = temporary_path(path)?;
        remove_abandoned_temporaries(&tmp);
        let file = File::create(&tmp).map_err(|e| Error::io(path, e))?;
        Ok(AtomicFile { path: path.to_path_buf(), tmp, file: Some(file) })
    }

    /// The temporary file, to write (and seek) in.
    pub fn file(&mut self) -> &mut File {
        self.file.as_mut().expect("an uncommitted atomic file is open")
    }

    /// The target path (for error messages).
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Syncs the temporary file and renames it over the target.
    pub fn commit(mut self) -> Result<()> {
        let file = self.file.take().expect("an uncommitted atomic file is open");
        let result = file.sync_all().and_then(|()| {
            drop(file);
            std::fs::rename(&self.tmp, &self.path)
        });
        if let Err(e) = result {
            let _ = std::fs::remove_file(&self.tmp);
            return Err(Error::io(&self.path, e));
        }
        Ok(())
    }
}

impl Write for AtomicFile {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.file().write(buf)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.file().flush()
    }
}

impl Drop for AtomicFile {
    fn drop(&mut self) {
        if self.file.take().is_some() {
            let _ = std::fs::remove_file(&self.tmp);
        }
    }
}

/// `.NAME.tmp-PID` next to `path` (a file, or a folder written whole): same file system (so the
/// rename is atomic), hidden, and distinct per process so that two writers never share one.
pub(crate) fn temporary_path(path: &Path) -> Result<PathBuf> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let name = path.file_name().ok_or_else(|| Error::config(format!("{}: not a file or folder path", path.display())))?;
    Ok(dir.join(format!(".{}.tmp-{}", name.to_string_lossy(), std::process::id())))
}

/// Removes the temporary files a killed writer of the same output left behind: those of
/// processes that no longer exist. Only where the system lists live processes (`/proc`), so a
/// temporary file is never taken from a writer that is still running.
fn remove_abandoned_temporaries(tmp: &Path) {
    let (Some(dir), Some(name)) = (tmp.parent(), tmp.file_name().and_then(|n| n.to_str())) else { return };
    let Some(prefix) = name.strip_suffix(&std::process::id().to_string()) else { return };
    if !Path::new("/proc/self").is_dir() {
        return;
    }
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let file_name = entry.file_name();
        let Some(pid) = file_name.to_str().and_then(|n| n.strip_prefix(prefix)) else { continue };
        if pid.parse::<u32>().is_ok() && !Path::new("/proc").join(pid).exists() {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entries(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> =
            std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
        names.sort();
        names
    }

    #[test]
    fn replaces_whole_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.json");
        write_atomic(&path, b"old").unwrap();
        write_atomic(&path, b"new content").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"new content");
        assert_eq!(entries(dir.path()), ["out.json"], "no temporary file left");
    }

    #[test]
    fn unwritable_directory_names_the_path() {
        let err = write_atomic(Path::new("/nonexistent-dir/x.json"), b"x").unwrap_err();
        assert!(err.to_string().contains("/nonexistent-dir/x.json"), "{err}");
    }

    /// A disk that fills up halfway through the write: the error names the target, the old
    /// file is untouched, and the partial temporary file is gone.
    #[test]
    fn full_disk_keeps_the_old_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("tok.json");
        std::fs::write(&path, b"old tokenizer").unwrap();
        let err = write_atomic_with(&path, |file| {
            file.write_all(b"{\"half\": ")?;
            Err(std::io::Error::from_raw_os_error(28)) // ENOSPC
        })
        .unwrap_err();
        let message = err.to_string();
        assert!(message.contains("tok.json") && message.contains("No space left on device"), "{message}");
        assert!(matches!(err, Error::Io { .. }));
        assert_eq!(std::fs::read(&path).unwrap(), b"old tokenizer");
        assert_eq!(entries(dir.path()), ["tok.json"]);
    }

    /// At every moment of a write the target holds the old bytes, so a process killed at any
    /// point leaves the old file or the new one.
    #[test]
    fn temporaries_of_killed_writers_are_removed() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("tok.json");
        // Above the largest pid Linux hands out (2^22), so never a live process.
        let dead = dir.path().join(".tok.json.tmp-4200000");
        let live = dir.path().join(".tok.json.tmp-1");
        let other = dir.path().join(".other.json.tmp-4200000");
        for leftover in [&dead, &live, &other] {
            std::fs::write(leftover, b"half").unwrap();
        }
        write_atomic(&path, b"new").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"new");
        let expected: &[&str] = if Path::new("/proc/self").is_dir() {
            &[".other.json.tmp-4200000", ".tok.json.tmp-1", "tok.json"]
        } else {
            &[".other.json.tmp-4200000", ".tok.json.tmp-1", ".tok.json.tmp-4200000", "tok.json"]
        };
        assert_eq!(entries(dir.path()), expected);
    }

    #[test]
    fn target_is_old_until_the_rename() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("tok.json");
        std::fs::write(&path, b"old").unwrap();
        write_atomic_with(&path, |file| {
            for chunk in [&b"new "[..], b"and ", b"complete"] {
                file.write_all(chunk)?;
                file.flush()?;
                assert_eq!(std::fs::read(&path).unwrap(), b"old", "target changed before the rename");
            }
            Ok(())
        })
        .unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"new and complete");
    }

    #[test]
    fn a_directory_in_the_way_is_an_error_without_leftovers() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out");
        std::fs::create_dir(&path).unwrap();
        std::fs::write(path.join("keep"), b"x").unwrap();
        let err = write_atomic(&path, b"data").unwrap_err();
        assert!(err.to_string().contains("out"), "{err}");
        assert_eq!(entries(dir.path()), ["out"]);
        assert_eq!(entries(&path), ["keep"]);
    }
}
