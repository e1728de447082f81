//! Where Hub data is kept between runs, and how it is laid out.
//!
//! ```text
//! {cache_dir}/hub/{datasets|models}/{OWNER}/{NAME}/
//!     listing/{REVISION}/{FOLDER}.json  the files under a folder (path, size, content hash;
//!                                       `_root` for the whole repository)
//!     blobs/{HASH}/{START}-{LENGTH}  byte ranges of a file (Parquet footer, column chunks)
//!     blobs/{HASH}/file              a whole file (servers without ranges, single files)
//! ```
//!
//! `HASH` is the file's LFS sha256 or git blob id from the listing: a file changed on the Hub
//! has a new hash, so an old range is never read for it. Every entry is written atomically
//! ([`crate::io::write_atomic`]) after its length was checked, so an entry that exists is
//! complete; its length is checked again when it is read.

use std::path::{Path, PathBuf};

use super::{HubPath, RepoType};
use crate::error::{Error, Result};

/// The polybpe cache directory: `$POLYBPE_CACHE`, else `$XDG_CACHE_HOME/polybpe`, else
/// `~/.cache/polybpe`. Hub data lives in its `hub/` folder.
pub fn cache_dir() -> PathBuf {
    let var = |name: &str| std::env::var_os(name).filter(|v| !v.is_empty()).map(PathBuf::from);
    if let Some(dir) = var("POLYBPE_CACHE") {
        return dir;
    }
    if let Some(dir) = var("XDG_CACHE_HOME") {
        return dir.join("polybpe");
    }
    match var("HOME") {
        Some(home) => home.join(".cache").join("polybpe"),
        None => std::env::temp_dir().join("polybpe-cache"),
    }
}

/// The cache folder of one repository.
pub(super) fn repo_dir(root: &Path, repo: &HubPath) -> PathBuf {
    let kind = match repo.repo_type {
        RepoType::Dataset => "datasets",
        RepoType::Model => "models",
    };
    let mut dir = root.join("hub").join(kind);
    for part in repo.repo.split('/') {
        dir.push(safe_name(part));
    }
    dir
}

/// The cached listing of a folder (`""`: the whole repository) at a revision.
pub(super) fn listing_path(root: &Path, repo: &HubPath, folder: &str) -> PathBuf {
    let name = if folder.is_empty() { "_root".to_string() } else { safe_name(folder) };
    repo_dir(root, repo).join("listing").join(safe_name(&repo.revision)).join(format!("{name}.json"))
}

/// A byte range of a file (`None`: the whole file).
pub(super) fn blob_path(root: &Path, repo: &HubPath, hash: &str, range: Option<(u64, u64)>) -> PathBuf {
    let dir = repo_dir(root, repo).join("blobs").join(safe_name(hash));
    match range {
        Some((start, length)) => dir.join(format!("{start}-{length}")),
        None => dir.join("file"),
    }
}

/// A cached entry of the expected length, or `None` when absent. An entry of another length
/// (a cache written by something else, or damaged) is an error naming it.
pub(super) fn read_entry(path: &Path, expected_len: Option<u64>) -> Result<Option<Vec<u8>>> {
    match std::fs::read(path) {
        Ok(bytes) => match expected_len {
            Some(len) if bytes.len() as u64 != len => Err(Error::format(
                path,
                format!("cached entry holds {} bytes, expected {len}; delete it to fetch it again", bytes.len()),
            )),
            _ => Ok(Some(bytes)),
        },
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(Error::io(path, e)),
    }
}

/// Writes a complete entry atomically, creating its folder.
pub(super) fn write_entry(path: &Path, bytes: &[u8]) -> Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    }
    crate::io::write_atomic(path, bytes)
}

/// A name usable as one path component: `/`, `\` and leading dots replaced, so no repository
/// or revision name can leave the cache folder.
fn safe_name(name: &str) -> String {
    let cleaned: String = name.chars().map(|c| if matches!(c, '/' | '\\' | '\0' | ':') { '_' } else { c }).collect();
    match cleaned.strip_prefix('.') {
        Some(rest) => format!("_{rest}"),
        None => cleaned,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout_stays_inside_the_cache() {
        let root = Path::new("/c");
        let repo = HubPath::parse("hf://datasets/o/n@refs%2Fconvert%2Fparquet").unwrap();
        assert_eq!(listing_path(root, &repo, ""), Path::new("/c/hub/datasets/o/n/listing/refs_convert_parquet/_root.json"));
        assert_eq!(listing_path(root, &repo, "a/b"), Path::new("/c/hub/datasets/o/n/listing/refs_convert_parquet/a_b.json"));
        assert_eq!(blob_path(root, &repo, "abc", Some((10, 5))), Path::new("/c/hub/datasets/o/n/blobs/abc/10-5"));
        assert_eq!(blob_path(root, &repo, "../x", None), Path::new("/c/hub/datasets/o/n/blobs/_._x/file"));
        let model = HubPath::parse("hf://gpt2@..").unwrap();
        assert_eq!(listing_path(root, &model, ""), Path::new("/c/hub/models/gpt2/listing/_./_root.json"));
    }

    #[test]
    fn entries_are_checked_by_length() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a/b/0-3");
        assert_eq!(read_entry(&path, Some(3)).unwrap(), None);
        write_entry(&path, b"abc").unwrap();
        assert_eq!(read_entry(&path, Some(3)).unwrap().unwrap(), b"abc");
        let err = read_entry(&path, Some(4)).unwrap_err().to_string();
        assert!(err.contains("0-3") && err.contains("holds 3 bytes, expected 4"), "{err}");
        // Nothing but the entry is left in its folder.
        let names: Vec<_> = std::fs::read_dir(path.parent().unwrap()).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(names, ["0-3"]);
    }

    #[test]
    fn cache_dir_follows_the_environment() {
        // One test sets the variables, so parallel tests never see them half-set.
        let saved: Vec<_> = ["POLYBPE_CACHE", "XDG_CACHE_HOME", "HOME"].iter().map(|v| (*v, std::env::var_os(v))).collect();
        std::env::set_var("POLYBPE_CACHE", "/p");
        std::env::set_var("XDG_CACHE_HOME", "/x");
        std::env::set_var("HOME", "/h");
        assert_eq!(cache_dir(), Path::new("/p"));
        std::env::remove_var("POLYBPE_CACHE");
        assert_eq!(cache_dir(), Path::new("/x/polybpe"));
        std::env::set_var("XDG_CACHE_HOME", "");
        assert_eq!(cache_dir(), Path::new("/h/.cache/polybpe"));
        for (name, value) in saved {
            match value {
                Some(v) => std::env::set_var(name, v),
                None => std::env::remove_var(name),
            }
        }
    }
}
