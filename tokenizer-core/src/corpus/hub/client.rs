//! The Hub's HTTP API as `huggingface_hub` calls it, behind the cache.
//!
//! - listing: `GET {endpoint}/api/{datasets|models}/{repo}/tree/{revision}[/{folder}]?recursive=true`
//!   (the folder: the glob's leading components without wildcards, so a large dataset is not
//!   listed whole for one subset),
//!   a JSON array of `{type, path, size, oid, lfs: {oid, size}}`, continued on the page the
//!   `Link: <…>; rel="next"` header names;
//! - file data: `GET {endpoint}/[datasets/]{repo}/resolve/{revision}/{path}`, with
//!   `Range: bytes=START-END` for part of it (the Hub redirects to its CDN; redirects are
//!   followed, and the token is not sent to another host).
//!
//! Revisions and paths are percent-encoded in URLs as `huggingface_hub` does (`quote(revision,
//! safe="")`: `refs/convert/parquet` → `refs%2Fconvert%2Fparquet`).

use std::io::Read;
use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::cache::{blob_path, listing_path, read_entry, write_entry};
use super::{HubConfig, HubPath, RepoType};
use crate::error::{Error, Result};

/// One file of a repository, as listed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RemoteFile {
    /// The repository and revision it belongs to.
    #[serde(skip)]
    pub repo: Option<HubPath>,
    /// Path within the repository.
    pub path: String,
    /// Size in bytes.
    pub size: u64,
    /// Content hash: the LFS sha256, or the git blob id of a file not in LFS.
    pub hash: String,
}

impl RemoteFile {
    /// The file's `hf://` path, for messages and as the corpus input's name.
    pub fn hub_path(&self) -> String {
        self.repo.as_ref().map(|r| r.file(&self.path).display()).unwrap_or_else(|| self.path.clone())
    }
}

/// A listing entry as the Hub sends it.
#[derive(Deserialize)]
struct TreeEntry {
    #[serde(rename = "type")]
    kind: String,
    path: String,
    #[serde(default)]
    size: u64,
    #[serde(default)]
    oid: String,
    lfs: Option<LfsInfo>,
}

#[derive(Deserialize)]
struct LfsInfo {
    oid: String,
    size: u64,
}

/// Fetches listings and file data, through the cache.
pub struct HubClient {
    config: HubConfig,
    agent: ureq::Agent,
}

/// Time allowed to connect, and to wait for each response.
const TIMEOUT: Duration = Duration::from_secs(60);

impl HubClient {
    pub fn new(config: HubConfig) -> HubClient {
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_connect(Some(TIMEOUT))
            .timeout_recv_response(Some(TIMEOUT))
            .timeout_recv_body(Some(TIMEOUT * 10))
            .user_agent(concat!("polybpe/", env!("CARGO_PKG_VERSION")))
            .build()
            .into();
        HubClient { config, agent }
    }

    pub fn config(&self) -> &HubConfig {
        &self.config
    }

    /// Every file of the repository at the path's revision, from the Hub (and cached), or from
    /// the cache when offline. A revision that is a commit id never changes, so its cached
    /// listing is used online too.
    pub fn list(&self, repo: &HubPath) -> Result<Vec<RemoteFile>> {
        let folder = repo.listed_folder();
        let cached = listing_path(&self.config.cache, repo, &folder);
        let immutable = repo.revision.len() == 40 && repo.revision.bytes().all(|b| b.is_ascii_hexdigit());
        if self.config.offline || immutable {
            if let Some(bytes) = read_entry(&cached, None)? {
                let files: Vec<RemoteFile> = serde_json::from_slice(&bytes)
                    .map_err(|e| Error::format(&cached, format!("damaged cached listing ({e}); delete it")))?;
                return Ok(files.into_iter().map(|f| RemoteFile { repo: Some(repo.clone()), ..f }).collect());
            }
            if self.config.offline {
                return Err(self.offline_error(&repo.display(), "its file listing"));
            }
        }
        let folder_part = if folder.is_empty() { String::new() } else { format!("/{}", quote(&folder)) };
        let mut url = format!(
            "{}/api/{}/{}/tree/{}{folder_part}?recursive=true",
            self.config.endpoint,
            repo.repo_type.plural(),
            repo.repo,
            quote(&repo.revision)
        );
        let mut files = Vec::new();
        loop {
            let mut response = self.get(&url, None)?;
            let next = next_page(&response);
            let body = read_body(&url, &mut response, None)?;
            let entries: Vec<TreeEntry> = serde_json::from_slice(&body)
                .map_err(|e| hub_error(&url, format!("not a file listing ({e})")))?;
            for entry in entries.into_iter().filter(|e| e.kind == "file") {
                let (hash, size) = match entry.lfs {
                    Some(lfs) => (lfs.oid, lfs.size),
                    None => (entry.oid, entry.size),
                };
                if hash.is_empty() {
                    return Err(hub_error(&url, format!("the listing gives no content hash for {:?}", entry.path)));
                }
                files.push(RemoteFile { repo: Some(repo.clone()), path: entry.path, size, hash });
            }
            match next {
                Some(next) => url = next,
                None => break,
            }
        }
        let json = serde_json::to_vec(&files).map_err(|e| Error::config(e.to_string()))?;
        write_entry(&cached, &json)?;
        Ok(files)
    }

    /// `length` bytes of `file` from `start`: from the cache, else fetched with a `Range`
    /// request and cached. A server that answers with the whole file instead has it kept
    /// whole, and the range cut from it.
    pub fn fetch_range(&self, file: &RemoteFile, start: u64, length: u64) -> Result<Vec<u8>> {
        self.fetch_range_checked(file, start, length, &|_| Ok(()))
    }

    /// [`HubClient::fetch_range`], with the fetched bytes passed to `check` before they are
    /// cached: bytes it refuses are not kept.
    pub fn fetch_range_checked(
        &self,
        file: &RemoteFile,
        start: u64,
        length: u64,
        check: &dyn Fn(&[u8]) -> Result<()>,
    ) -> Result<Vec<u8>> {
        let repo = self.repo_of(file)?;
        let end = start.checked_add(length).filter(|&end| end <= file.size).ok_or_else(|| {
            hub_error(&file.hub_path(), format!("bytes {start}..{} are past the end of the file ({} bytes)", start.saturating_add(length), file.size))
        })?;
        let part = blob_path(&self.config.cache, repo, &file.hash, Some((start, length)));
        if let Some(bytes) = read_entry(&part, Some(length))? {
            return Ok(bytes);
        }
        let whole = blob_path(&self.config.cache, repo, &file.hash, None);
        if let Some(bytes) = read_entry(&whole, Some(file.size))? {
            return Ok(bytes[start as usize..end as usize].to_vec());
        }
        if self.config.offline {
            return Err(self.offline_error(&file.hub_path(), &format!("bytes {start}..{end}")));
        }
        if length == 0 {
            return Ok(Vec::new());
        }
        let url = self.resolve_url(repo, &file.path);
        let mut response = self.get(&url, Some((start, end - 1)))?;
        match response.status().as_u16() {
            206 => {
                check_content_range(&url, &response, start, end - 1, file.size)?;
                let bytes = read_body(&url, &mut response, Some(length))?;
                check(&bytes)?;
                write_entry(&part, &bytes)?;
                Ok(bytes)
            }
            _ => {
                let bytes = read_body(&url, &mut response, Some(file.size))?;
                let range = bytes[start as usize..end as usize].to_vec();
                check(&range)?;
                write_entry(&whole, &bytes)?;
                Ok(range)
            }
        }
    }

    /// The whole file in the cache (fetched if absent); returns its path.
    pub fn fetch_whole(&self, file: &RemoteFile) -> Result<PathBuf> {
        let repo = self.repo_of(file)?;
        let whole = blob_path(&self.config.cache, repo, &file.hash, None);
        if read_entry(&whole, Some(file.size))?.is_some() {
            return Ok(whole);
        }
        if self.config.offline {
            return Err(self.offline_error(&file.hub_path(), "the file"));
        }
        let url = self.resolve_url(repo, &file.path);
        let mut response = self.get(&url, None)?;
        let bytes = read_body(&url, &mut response, Some(file.size))?;
        write_entry(&whole, &bytes)?;
        Ok(whole)
    }

    fn repo_of<'a>(&self, file: &'a RemoteFile) -> Result<&'a HubPath> {
        file.repo.as_ref().ok_or_else(|| Error::config(format!("{}: a listed file without its repository", file.path)))
    }

    fn resolve_url(&self, repo: &HubPath, path: &str) -> String {
        let prefix = match repo.repo_type {
            RepoType::Dataset => "datasets/",
            RepoType::Model => "",
        };
        let path: Vec<String> = path.split('/').map(quote).collect();
        format!("{}/{prefix}{}/resolve/{}/{}", self.config.endpoint, repo.repo, quote(&repo.revision), path.join("/"))
    }

    /// A GET with the token and, for part of a file, a `Range` (inclusive bounds). An error
    /// status is an error naming the URL and what to do.
    fn get(&self, url: &str, range: Option<(u64, u64)>) -> Result<ureq::http::Response<ureq::Body>> {
        let mut request = self.agent.get(url).header("Accept-Encoding", "identity");
        if let Some(token) = &self.config.token {
            request = request.header("Authorization", format!("Bearer {token}"));
        }
        if let Some((first, last)) = range {
            request = request.header("Range", format!("bytes={first}-{last}"));
        }
        let response = request.call().map_err(|e| {
            hub_error(url, format!("request failed: {e} (without network, HF_HUB_OFFLINE=1 reads what is cached)"))
        })?;
        let status = response.status().as_u16();
        if status >= 400 {
            let hint = match status {
                401 | 403 => "; the repository may be gated or private: accept its terms on the Hub and set HF_TOKEN",
                404 => "; check the repository, revision and file names",
                _ => "",
            };
            return Err(hub_error(url, format!("HTTP {status}{hint}")));
        }
        Ok(response)
    }

    fn offline_error(&self, what: &str, missing: &str) -> Error {
        Error::config(format!(
            "{what}: HF_HUB_OFFLINE is set and {missing} is not in the cache ({}); unset HF_HUB_OFFLINE to fetch it, or use local files",
            self.config.cache.join("hub").display()
        ))
    }
}

/// An error about a URL or Hub path.
fn hub_error(url: &str, message: impl Into<String>) -> Error {
    Error::Format { path: PathBuf::from(url), message: message.into() }
}

/// The body, all of it; with `expected`, exactly that many bytes (a connection dropped
/// mid-file is an error, never a short file).
fn read_body(url: &str, response: &mut ureq::http::Response<ureq::Body>, expected: Option<u64>) -> Result<Vec<u8>> {
    let mut bytes = Vec::with_capacity(expected.unwrap_or(0).min(1 << 26) as usize);
    let limit = expected.map_or(u64::MAX, |n| n + 1);
    response
        .body_mut()
        .with_config()
        .limit(u64::MAX)
        .reader()
        .take(limit)
        .read_to_end(&mut bytes)
        .map_err(|e| hub_error(url, format!("the transfer broke off after {} bytes: {e}", bytes.len())))?;
    match expected {
        Some(n) if bytes.len() as u64 != n => {
            Err(hub_error(url, format!("the server sent {} bytes, expected {n}: the transfer was cut short", bytes.len())))
        }
        _ => Ok(bytes),
    }
}

/// A 206 answer must be the range asked for, of a file of the listed size.
fn check_content_range(url: &str, response: &ureq::http::Response<ureq::Body>, first: u64, last: u64, size: u64) -> Result<()> {
    let header = response.headers().get("content-range").and_then(|v| v.to_str().ok()).unwrap_or("");
    let expected = format!("bytes {first}-{last}/{size}");
    if header.trim() != expected {
        return Err(hub_error(
            url,
            format!("asked for bytes {first}-{last} of a {size}-byte file, got Content-Range {header:?}: the file changed on the Hub since it was listed, run again"),
        ));
    }
    Ok(())
}

/// The next page of a listing: the `Link: <URL>; rel="next"` header.
fn next_page(response: &ureq::http::Response<ureq::Body>) -> Option<String> {
    let link = response.headers().get("link")?.to_str().ok()?;
    link.split(',').find(|part| part.contains("rel=\"next\"")).and_then(|part| {
        let start = part.find('<')? + 1;
        let end = part.find('>')?;
        Some(part[start..end].to_string())
    })
}

/// Percent-encodes a path component as Python's `urllib.parse.quote(s, safe="")` does.
fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_like_python() {
        assert_eq!(quote("refs/convert/parquet"), "refs%2Fconvert%2Fparquet");
        assert_eq!(quote("a b+é.parquet"), "a%20b%2B%C3%A9.parquet");
        assert_eq!(quote("main"), "main");
    }

    #[test]
    fn urls_follow_huggingface_hub() {
        let client = HubClient::new(HubConfig {
            endpoint: "http://hub".into(),
            token: None,
            offline: true,
            cache: PathBuf::from("/nonexistent"),
        });
        let ds = HubPath::parse("hf://datasets/o/n@refs%2Fconvert%2Fparquet").unwrap();
        assert_eq!(client.resolve_url(&ds, "fr/x y.parquet"), "http://hub/datasets/o/n/resolve/refs%2Fconvert%2Fparquet/fr/x%20y.parquet");
        let model = HubPath::parse("hf://gpt2").unwrap();
        assert_eq!(client.resolve_url(&model, "tokenizer.json"), "http://hub/gpt2/resolve/main/tokenizer.json");
        // Offline with an empty cache: the error names the variable and both ways out.
        let err = client.list(&ds).unwrap_err().to_string();
        assert!(err.contains("HF_HUB_OFFLINE") && err.contains("local files") && err.contains("hf://datasets/o/n"), "{err}");
    }
}
