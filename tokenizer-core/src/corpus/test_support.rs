//! Helpers of the corpus tests: files in a temporary directory, one read collected whole.

use std::fs;
use std::path::{Path, PathBuf};

use super::{Corpus, CorpusOptions, CorpusStats, Documents, ReadProgress};
use crate::error::{Error, Result};

pub(crate) fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.join(name);
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent).unwrap();
    }
    fs::write(&path, bytes).unwrap();
    path
}

/// Everything one `for_each_batch` call produced.
pub(crate) struct Run {
    pub(crate) batches: Vec<Documents>,
    pub(crate) progress: Vec<ReadProgress>,
    pub(crate) stats: CorpusStats,
}

impl Run {
    /// (language, text) of every document, in order.
    pub(crate) fn docs(&self) -> Vec<(String, String)> {
        self.batches
            .iter()
            .flat_map(Documents::iter)
            .map(|d| (d.lang.to_string(), d.text.to_owned()))
            .collect()
    }
}

pub(crate) fn run(paths: &[PathBuf], options: CorpusOptions, batch_bytes: usize) -> Result<Run> {
    let corpus = Corpus::open(paths, options)?;
    let mut batches = Vec::new();
    let mut progress = Vec::new();
    let stats = corpus.for_each_batch(batch_bytes, &mut |p| progress.push(p), &mut |b| {
        batches.push(std::mem::take(b));
        Ok(())
    })?;
    Ok(Run {
        batches,
        progress,
        stats,
    })
}

pub(crate) fn read(path: &Path, options: CorpusOptions) -> Result<Run> {
    run(&[path.to_path_buf()], options, 1 << 20)
}

pub(crate) fn pairs(items: &[(&str, &str)]) -> Vec<(String, String)> {
    items
        .iter()
        .map(|(l, t)| (l.to_string(), t.to_string()))
        .collect()
}

pub(crate) fn skipping_invalid() -> CorpusOptions {
    CorpusOptions {
        skip_invalid: true,
        ..Default::default()
    }
}

pub(crate) fn whole_files() -> CorpusOptions {
    CorpusOptions {
        doc_per_file: true,
        ..Default::default()
    }
}

pub(crate) fn expect_invalid_utf8(result: Result<Run>) -> (PathBuf, u64, u64) {
    match result {
        Err(Error::InvalidUtf8 { path, offset, line }) => (path, offset, line),
        Err(other) => panic!("expected InvalidUtf8, got {other}"),
        Ok(_) => panic!("expected InvalidUtf8, got Ok"),
    }
}

pub(crate) fn expect_record(result: Result<Run>) -> (String, String) {
    match result {
        Err(Error::Record {
            location, message, ..
        }) => (location, message),
        Err(other) => panic!("expected Record, got {other}"),
        Ok(_) => panic!("expected Record, got Ok"),
    }
}

pub(crate) fn assert_progress_is_monotonic(run: &Run, total: u64) {
    let done: Vec<u64> = run.progress.iter().map(|p| p.bytes_done).collect();
    assert!(done.windows(2).all(|w| w[0] <= w[1]), "{done:?}");
    let last = run.progress.last().copied().unwrap();
    assert_eq!(
        (last.bytes_done, last.bytes_total, last.documents),
        (total, total, run.stats.documents)
    );
}
