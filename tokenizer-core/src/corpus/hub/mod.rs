//! Corpora and files on the Hugging Face Hub: `hf://datasets/OWNER/NAME[@REVISION][/GLOB]`.
//!
//! A Hub corpus is the dataset's Parquet files (those matching `GLOB`, every `.parquet` file
//! without one), listed with the Hub's tree API
//! (`GET {endpoint}/api/datasets/{repo}/tree/{revision}?recursive=true`, the call
//! `huggingface_hub.list_repo_tree` makes) and read like local Parquet files, in the listing's
//! byte-wise path order (the order of a local directory walk). Files are not downloaded whole:
//! [`remote`] fetches the footer, then one row group's text and language column chunks at a
//! time with HTTP `Range` requests on the `resolve` URLs, so a byte budget per language
//! (`max_bytes_per_lang`) stops the reading, and the fetching, once every requested language
//! is full. A server that ignores `Range` sends the whole file, which is then kept whole.
//!
//! Everything fetched is cached ([`cache`]) under [`cache_dir`]: the listing, and each file's
//! ranges under the file's content hash (its LFS sha256 or git blob id, from the listing), so a
//! second run reads no data from the network, and a file that changes on the Hub gets a new
//! hash. Each range is checked against the listed size, and written atomically: a dropped
//! connection, an error status or a short body leaves nothing in the cache.
//!
//! The environment is read as `huggingface_hub` reads it: `HF_ENDPOINT` (default
//! `https://huggingface.co`), `HF_TOKEN` (sent as `Authorization: Bearer`), `HF_HUB_OFFLINE=1`
//! (no network: the cache only, with an error naming what is missing).
//!
//! Model repositories serve single files the same way: `hf://OWNER/NAME` as a tokenizer is
//! the repository's `tokenizer.json` ([`fetch_file`]).

mod cache;
mod client;
pub(super) mod remote;

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
pub use cache::cache_dir;
pub use client::{HubClient, RemoteFile};

/// The scheme of Hub paths.
pub const SCHEME: &str = "hf://";
/// The Hub used when `HF_ENDPOINT` is not set.
pub const DEFAULT_ENDPOINT: &str = "https://huggingface.co";
/// The branch read when a path names no revision.
pub const DEFAULT_REVISION: &str = "main";

/// Whether a path given as a corpus or tokenizer is a Hub path (`hf://…`).
pub fn is_hub_path(path: &Path) -> bool {
    path.to_str().is_some_and(|s| s.starts_with(SCHEME))
}

/// Dataset or model repository.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RepoType {
    Dataset,
    Model,
}

impl RepoType {
    /// The plural the Hub's URLs and the cache use (`datasets`, `models`).
    fn plural(self) -> &'static str {
        match self {
            RepoType::Dataset => "datasets",
            RepoType::Model => "models",
        }
    }
}

/// A parsed `hf://` path.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HubPath {
    pub repo_type: RepoType,
    /// `OWNER/NAME`, or `NAME` for the Hub's few unprefixed models (`gpt2`).
    pub repo: String,
    /// Branch, tag or commit (`main` when none is given).
    pub revision: String,
    /// Glob of the files within the repository (`*` stays within a folder, `**` crosses
    /// folders), or a file path; `None`: every file.
    pub glob: Option<String>,
}

impl HubPath {
    /// Parses `hf://datasets/OWNER/NAME[@REVISION][/GLOB]` or, for models,
    /// `hf://[OWNER/]NAME[@REVISION][/PATH]`. A revision with a `/` (`refs/convert/parquet`) is
    /// written with `%2F`, as in the Hub's URLs.
    pub fn parse(spec: &str) -> Result<HubPath> {
        let bad = |why: &str| {
            Error::config(format!(
                "{spec:?}: {why}; expected hf://datasets/OWNER/NAME[@REVISION][/GLOB] or hf://[OWNER/]MODEL[@REVISION]"
            ))
        };
        let rest = spec.strip_prefix(SCHEME).ok_or_else(|| bad("not an hf:// path"))?;
        let (repo_type, rest) = match rest.strip_prefix("datasets/") {
            Some(rest) => (RepoType::Dataset, rest),
            None => (RepoType::Model, rest.strip_prefix("models/").unwrap_or(rest)),
        };
        let parts: Vec<&str> = rest.split('/').collect();
        // A dataset always has an owner; a model may not (`hf://gpt2`).
        let owner_parts = if repo_type == RepoType::Dataset || (parts.len() > 1 && !parts[0].contains('@')) { 2 } else { 1 };
        if parts.len() < owner_parts || parts[..owner_parts].iter().any(|p| p.is_empty()) {
            return Err(bad("no repository"));
        }
        let mut name = parts[owner_parts - 1].to_string();
        let mut revision = DEFAULT_REVISION.to_string();
        if let Some((repo_name, rev)) = name.clone().split_once('@') {
            if repo_name.is_empty() || rev.is_empty() {
                return Err(bad("empty repository name or revision"));
            }
            name = repo_name.to_string();
            revision = rev.replace("%2F", "/").replace("%2f", "/");
        }
        let repo = if owner_parts == 2 { format!("{}/{name}", parts[0]) } else { name };
        let glob = parts[owner_parts..].join("/");
        let glob = (!glob.is_empty()).then_some(glob);
        Ok(HubPath { repo_type, repo, revision, glob })
    }

    /// The path written back (`hf://datasets/OWNER/NAME@REV/GLOB`), for messages.
    pub fn display(&self) -> String {
        let kind = match self.repo_type {
            RepoType::Dataset => "datasets/",
            RepoType::Model => "",
        };
        let rev = if self.revision == DEFAULT_REVISION { String::new() } else { format!("@{}", self.revision.replace('/', "%2F")) };
        let glob = self.glob.as_deref().map(|g| format!("/{g}")).unwrap_or_default();
        format!("{SCHEME}{kind}{}{rev}{glob}", self.repo)
    }

    /// The `hf://` path of one file of this repository at this revision.
    pub fn file(&self, path: &str) -> HubPath {
        HubPath { glob: Some(path.to_string()), ..self.clone() }
    }

    /// The folder to list for the glob: its leading components without wildcards (`""`: the
    /// whole repository). A glob that names one file lists the folder holding it.
    fn listed_folder(&self) -> String {
        let Some(glob) = &self.glob else { return String::new() };
        let parts: Vec<&str> = glob.trim_end_matches('/').split('/').collect();
        let literal = parts.iter().take_while(|p| !p.contains(['*', '?', '[', '{'])).count();
        // All literal: a folder or a file; list its parent so a file is found too.
        let keep = if literal == parts.len() { literal.saturating_sub(1) } else { literal };
        parts[..keep].join("/")
    }

    /// Which repository files are selected: those the glob matches or that lie under the
    /// folder it names (as a local directory selects the files under it); all without a glob.
    fn selector(&self) -> Result<impl Fn(&str) -> bool> {
        let matcher = match &self.glob {
            Some(glob) => Some((
                globset::GlobBuilder::new(glob)
                    .literal_separator(true)
                    .build()
                    .map_err(|e| Error::config(format!("{}: bad file pattern {glob:?}: {e}", self.display())))?
                    .compile_matcher(),
                format!("{}/", glob.trim_end_matches('/')),
            )),
            None => None,
        };
        Ok(move |path: &str| matcher.as_ref().is_none_or(|(glob, folder)| glob.is_match(path) || path.starts_with(folder.as_str())))
    }
}

/// How to reach the Hub: read from the environment as `huggingface_hub` reads it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HubConfig {
    /// `HF_ENDPOINT`, without a trailing `/`.
    pub endpoint: String,
    /// `HF_TOKEN`, sent as `Authorization: Bearer` to the endpoint.
    pub token: Option<String>,
    /// `HF_HUB_OFFLINE` set to `1`, `true`, `yes` or `on`: the cache only.
    pub offline: bool,
    /// Where fetched listings and files are kept ([`cache_dir`]).
    pub cache: PathBuf,
}

impl HubConfig {
    /// The configuration the environment gives.
    pub fn from_env() -> HubConfig {
        let var = |name: &str| std::env::var(name).ok().map(|v| v.trim().to_string()).filter(|v| !v.is_empty());
        HubConfig {
            endpoint: var("HF_ENDPOINT").unwrap_or_else(|| DEFAULT_ENDPOINT.to_string()).trim_end_matches('/').to_string(),
            token: var("HF_TOKEN"),
            offline: var("HF_HUB_OFFLINE").is_some_and(|v| matches!(v.to_ascii_lowercase().as_str(), "1" | "true" | "yes" | "on")),
            cache: cache_dir(),
        }
    }
}

/// The Parquet files of a Hub corpus path, in reading order (byte-wise by path).
pub fn list_parquet(path: &HubPath) -> Result<Vec<RemoteFile>> {
    let client = HubClient::new(HubConfig::from_env());
    let selects = path.selector()?;
    let mut files: Vec<RemoteFile> = client
        .list(path)?
        .into_iter()
        .filter(|file| file.path.to_ascii_lowercase().ends_with(".parquet") && selects(&file.path))
        .collect();
    files.sort_by(|a, b| a.path.as_bytes().cmp(b.path.as_bytes()));
    if files.is_empty() {
        return Err(Error::EmptyCorpus(format!("no Parquet files in {}", path.display())));
    }
    Ok(files)
}

/// A single file of a Hub repository, fetched into the cache (or found there); returns its
/// local path. `hf://OWNER/NAME` without a file path names the repository's `tokenizer.json`.
pub fn fetch_file(spec: &str) -> Result<PathBuf> {
    let mut path = HubPath::parse(spec)?;
    let wanted = path.glob.take().unwrap_or_else(|| "tokenizer.json".to_string());
    let client = HubClient::new(HubConfig::from_env());
    let file = client
        .list(&path)?
        .into_iter()
        .find(|f| f.path == wanted)
        .ok_or_else(|| Error::config(format!("{}: no file {wanted:?} in the repository", path.display())))?;
    client.fetch_whole(&file)
}

/// A Hub parallel set as a folder of line-aligned `<TAG>.txt` files in the cache, for a dev
/// set: each language's lines are the rows of the Parquet files under its folder
/// (`folders`: tag → folder), in order, with line breaks inside a row made spaces so that
/// lines stay aligned. Languages with different line counts are an error naming both.
pub fn fetch_parallel(source: &Path, folders: &std::collections::BTreeMap<String, String>) -> Result<PathBuf> {
    let spec = source.to_string_lossy();
    let repo = HubPath::parse(&spec)?;
    let config = HubConfig::from_env();
    let dir = cache::repo_dir(&config.cache, &repo).join("parallel").join(repo.revision.replace('/', "_"));
    let mut counts: Vec<(String, usize)> = Vec::new();
    for (tag, folder) in folders {
        let base = repo.glob.as_deref().map(|g| format!("{}/", g.trim_end_matches('/'))).unwrap_or_default();
        let folder_path = PathBuf::from(repo.file(&format!("{base}{folder}")).display());
        let corpus = super::Corpus::open(std::slice::from_ref(&folder_path), super::CorpusOptions::default())?;
        let mut lines = String::new();
        let mut n = 0;
        corpus.for_each_batch(1 << 20, &mut |_| {}, &mut |docs| {
            for doc in docs.iter() {
                lines.push_str(&doc.text.replace(['\r', '\n'], " "));
                lines.push('\n');
                n += 1;
            }
            Ok(())
        })?;
        if let Some((first, count)) = counts.first().filter(|(_, count)| *count != n) {
            return Err(Error::config(format!(
                "{}: {first} has {count} lines but {tag} ({}) has {n}: not a line-aligned parallel set",
                repo.display(),
                folder_path.display()
            )));
        }
        counts.push((tag.clone(), n));
        cache::write_entry(&dir.join(format!("{tag}.txt")), lines.as_bytes())?;
    }
    Ok(dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(spec: &str) -> (RepoType, String, String, Option<String>) {
        let p = HubPath::parse(spec).unwrap();
        assert_eq!(HubPath::parse(&p.display()).unwrap(), p, "{spec} round trip");
        (p.repo_type, p.repo, p.revision, p.glob)
    }

    #[test]
    fn parses_datasets_models_revisions_and_globs() {
        use RepoType::*;
        assert_eq!(parsed("hf://datasets/PleIAs/common_corpus"), (Dataset, "PleIAs/common_corpus".into(), "main".into(), None));
        assert_eq!(
            parsed("hf://datasets/o/n@v1.0/data/*.parquet"),
            (Dataset, "o/n".into(), "v1.0".into(), Some("data/*.parquet".into()))
        );
        assert_eq!(
            parsed("hf://datasets/o/n@refs%2Fconvert%2Fparquet/fra_Latn"),
            (Dataset, "o/n".into(), "refs/convert/parquet".into(), Some("fra_Latn".into()))
        );
        assert_eq!(parsed("hf://gpt2"), (Model, "gpt2".into(), "main".into(), None));
        assert_eq!(parsed("hf://gpt2@abc"), (Model, "gpt2".into(), "abc".into(), None));
        assert_eq!(parsed("hf://openai-community/gpt2"), (Model, "openai-community/gpt2".into(), "main".into(), None));
        assert_eq!(parsed("hf://models/o/m@r/tok.json"), (Model, "o/m".into(), "r".into(), Some("tok.json".into())));
        for bad in ["hf://datasets/", "hf://datasets/only", "hf://datasets//n", "hf://datasets/o/@r", "hf://", "s3://x/y"] {
            let err = HubPath::parse(bad).unwrap_err().to_string();
            assert!(err.contains(bad) && err.contains("hf://datasets/OWNER/NAME"), "{bad}: {err}");
        }
    }

    #[test]
    fn globs_select_files_and_folders() {
        let selector = |spec: &str| HubPath::parse(spec).unwrap().selector().unwrap();
        let p = selector("hf://datasets/o/n/data/*.parquet");
        assert!(p("data/a.parquet") && !p("data/sub/a.parquet") && !p("other/a.parquet"));
        let deep = selector("hf://datasets/o/n/**/fr*.parquet");
        assert!(deep("a/b/fr-0.parquet") && !deep("a/b/de-0.parquet"));
        let folder = selector("hf://datasets/o/n/fra_Latn");
        assert!(folder("fra_Latn/test/0000.parquet") && !folder("fra_Latn2/x.parquet"));
        assert!(selector("hf://datasets/o/n")("any/x.parquet"));
        let folders: Vec<String> = ["a/b/*.parquet", "a/**/x", "a/b", "x.parquet", "*"]
            .iter()
            .map(|g| HubPath::parse(&format!("hf://datasets/o/n/{g}")).unwrap().listed_folder())
            .collect();
        assert_eq!(folders, ["a/b", "a", "a", "", ""]);
        let bad = HubPath::parse("hf://datasets/o/n/[a").unwrap();
        assert!(bad.selector().err().unwrap().to_string().contains("bad file pattern"));
    }

    #[test]
    fn hub_paths_are_recognized() {
        assert!(is_hub_path(Path::new("hf://datasets/o/n")));
        assert!(!is_hub_path(Path::new("data/hf.txt")));
    }
}
