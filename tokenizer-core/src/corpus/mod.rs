//! Streaming readers of training documents (plain text, JSONL, Parquet), each with a language tag.
//!
//! Training needs every document once, in a fixed order, without holding the corpus in memory:
//! [`Corpus::for_each_batch`] reads the input files one after the other and hands documents to
//! the caller in batches of about `batch_bytes` of text, so counting can run in parallel on a
//! batch while memory stays bounded by the batch size.
//!
//! Input formats, chosen by file extension, one module each:
//! - plain text ([`text`]: `.txt`, `.text`, and any explicitly named file with another
//!   extension): one document per line (terminator `\n` or `\r\n` removed, a leading UTF-8 BOM
//!   removed, empty lines skipped), or one document per file with [`CorpusOptions::doc_per_file`];
//! - JSONL (`jsonl`: `.jsonl`, `.ndjson`): one JSON object per line with a text field and an
//!   optional language field;
//! - Parquet (`parquet`: `.parquet`): a string text column and an optional string language
//!   column, read 1024 rows at a time with only those two columns decoded. Behind the `parquet`
//!   cargo feature (on by default), so that a user who only encodes does not build Arrow; without
//!   it a Parquet input is an error naming the file and the feature;
//! - Hub corpora ([`hub`]: `hf://datasets/OWNER/NAME[@REVISION][/GLOB]`): a dataset's Parquet
//!   files on the Hugging Face Hub, read row group by row group over HTTP and cached. Behind
//!   the `hub` cargo feature (on by default).
//!
//! Two reading settings cut the corpus down, whatever its format: `keep_languages` keeps only
//! documents whose language label is listed, under the tag it is listed with, and
//! `max_bytes_per_lang` stops taking a language's documents at the first one that would take
//! it past the budget (so every language stays within it, and the result does not depend on
//! how the corpus is split into files). Once every kept language is full, reading stops,
//! which for a Hub corpus also stops the fetching.
//!
//! [`text::LineReader`] is the one reader of text lines: training text, JSONL, the line-aligned
//! dev and parallel sets ([`parallel`]) and the CLI's encode and decode input all split lines,
//! drop the BOM and report invalid UTF-8 the same way. `paths` resolves the inputs and their
//! languages; `batch` groups documents and reports progress.
//!
//! A document without a language of its own takes the language of its file
//! ([`language_for_file`]): an entry of [`CorpusOptions::lang_map`], else the file stem
//! (`fr.txt` → `fr`).
//!
//! Bad input never panics: every error names the file and the line, row or field at fault.

mod batch;
#[cfg(feature = "hub")]
pub mod hub;
mod jsonl;
pub mod parallel;
#[cfg(feature = "parquet")]
mod parquet;
mod paths;
pub mod text;
#[cfg(test)]
mod test_support;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::error::{Error, Result};
use batch::Sink;
pub use batch::{Document, DocumentIter, Documents};
pub use paths::language_for_file;
use paths::{check_lang_map, collect_path, no_files_message};

/// Field / column holding the text when [`CorpusOptions::text_field`] is empty.
pub const DEFAULT_TEXT_FIELD: &str = "text";
/// Field / column holding the language when [`CorpusOptions::lang_field`] is empty.
pub const DEFAULT_LANG_FIELD: &str = "language";

/// How inputs are read.
#[derive(Clone, Debug, Default)]
pub struct CorpusOptions {
    /// Treat each plain-text file as one document instead of one document per line (for corpora
    /// of whole source files or articles where line breaks are part of the text).
    pub doc_per_file: bool,
    /// Skip (and count) lines / records / files with invalid UTF-8 instead of failing, for large
    /// scraped corpora where a few broken lines should not stop training.
    pub skip_invalid: bool,
    /// Explicit language for files: keys are file stems (`fr`), file names (`fr.txt`) or full
    /// paths as given; values are language codes. Consulted when a record has no language field.
    pub lang_map: BTreeMap<String, String>,
    /// JSONL field / Parquet column holding the text; `text` when empty.
    pub text_field: String,
    /// JSONL field / Parquet column holding the language; `language` when empty.
    pub lang_field: String,
    /// Languages to keep: tag → the labels (record language values or file languages) that
    /// become it, compared without case. Empty: keep every document under its own label.
    pub keep_languages: BTreeMap<String, Vec<String>>,
    /// Text bytes taken per language (after `keep_languages`): a language's documents are
    /// taken in reading order until the next one would pass the budget. `None`: no limit.
    pub max_bytes_per_lang: Option<u64>,
}

impl CorpusOptions {
    /// The text field name in effect (the default applied), for readers and error messages.
    pub fn text_field_name(&self) -> &str {
        non_empty_or(&self.text_field, DEFAULT_TEXT_FIELD)
    }

    /// The language field name in effect (the default applied), for readers and error messages.
    pub fn lang_field_name(&self) -> &str {
        non_empty_or(&self.lang_field, DEFAULT_LANG_FIELD)
    }
}

fn non_empty_or<'a>(value: &'a str, default: &'a str) -> &'a str {
    if value.is_empty() {
        default
    } else {
        value
    }
}

/// Counters reported at the end of reading, so callers can tell users what was used and dropped.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct CorpusStats {
    /// Input files read.
    pub files: u64,
    /// Documents handed to the caller.
    pub documents: u64,
    /// UTF-8 bytes of text in those documents.
    pub bytes: u64,
    /// Lines, records or files dropped because of invalid UTF-8 (only with `skip_invalid`).
    pub skipped_invalid: u64,
    /// Empty lines, blank JSONL lines, and empty texts dropped.
    pub skipped_empty: u64,
    /// JSONL records and Parquet rows whose text is null, dropped.
    pub skipped_null: u64,
    /// Documents of languages not in `keep_languages`, dropped.
    pub skipped_language: u64,
    /// Documents past their language's `max_bytes_per_lang`, dropped.
    pub skipped_budget: u64,
}

/// Progress of a read, for progress bars.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReadProgress {
    /// Bytes of input consumed: finished files plus the position in the current one (for
    /// Parquet, the share of rows read times the file size).
    pub bytes_done: u64,
    /// Sum of the input file sizes when the corpus was opened.
    pub bytes_total: u64,
    /// Documents handed to the caller so far.
    pub documents: u64,
}

/// Input format of a file, decided by its extension.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum InputKind {
    /// Plain UTF-8 text: one document per line, or per file with `doc_per_file`.
    Text,
    /// One JSON object per line (`.jsonl`, `.ndjson`).
    Jsonl,
    /// Apache Parquet (`.parquet`).
    Parquet,
    /// A Parquet file of a Hub dataset, read over HTTP (`hf://…`).
    HubParquet,
}

impl InputKind {
    /// Kind of a file by extension (case-insensitive): `.jsonl`/`.ndjson` → Jsonl, `.parquet` →
    /// Parquet, anything else → Text, so that a file named explicitly is always readable.
    pub fn from_path(path: &Path) -> InputKind {
        match lower_extension(path).as_deref() {
            Some("jsonl" | "ndjson") => InputKind::Jsonl,
            Some("parquet") => InputKind::Parquet,
            _ => InputKind::Text,
        }
    }
}

fn lower_extension(path: &Path) -> Option<String> {
    path.extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase())
}

/// One resolved input file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InputFile {
    /// Path as given, or joined under the directory that was given.
    pub path: PathBuf,
    /// Format used to read it.
    pub kind: InputKind,
    /// Size in bytes when the corpus was opened (the unit of progress).
    pub size: u64,
}

/// The list of input files, resolved and sorted, with the options to read them.
///
/// Opening resolves every path up front so that a missing file fails before hours of training,
/// and so that progress has a known total.
#[derive(Clone, Debug)]
pub struct Corpus {
    files: Vec<InputFile>,
    options: CorpusOptions,
    total_bytes: u64,
    /// The listed Hub files among `files`, by their `hf://` path.
    #[cfg(feature = "hub")]
    remote: std::collections::HashMap<PathBuf, hub::RemoteFile>,
}

impl Corpus {
    /// Resolves `paths`: a file is taken as is (kind by extension, see [`InputKind::from_path`]);
    /// a directory is walked recursively, taking only `.txt`/`.text`/`.jsonl`/`.ndjson`/`.parquet`
    /// files and skipping hidden entries (name starting with `.`), its files sorted byte-wise by
    /// path (the order of `find DIR | LC_ALL=C sort`). Paths are kept in the order given.
    ///
    /// A Hub path (`hf://datasets/…`) is listed (see [`hub`]): its Parquet files, sorted by
    /// path, each of its listed size.
    ///
    /// A missing path is [`Error::Io`] naming it; no files at all is [`Error::EmptyCorpus`]; a
    /// Parquet file in a build without the `parquet` feature is [`Error::Parquet`] naming it.
    pub fn open(paths: &[PathBuf], options: CorpusOptions) -> Result<Corpus> {
        let mut files = Vec::new();
        #[cfg(feature = "hub")]
        let mut remote = std::collections::HashMap::new();
        for path in paths {
            #[cfg(feature = "hub")]
            if hub::is_hub_path(path) {
                let source = hub::HubPath::parse(&path.to_string_lossy())?;
                for file in hub::list_parquet(&source)? {
                    let name = PathBuf::from(file.hub_path());
                    files.push(InputFile { path: name.clone(), kind: InputKind::HubParquet, size: file.size });
                    remote.insert(name, file);
                }
                continue;
            }
            #[cfg(not(feature = "hub"))]
            if path.to_str().is_some_and(|p| p.starts_with("hf://")) {
                return Err(Error::config(format!(
                    "{}: polybpe was built without its `hub` cargo feature (on by default)",
                    path.display()
                )));
            }
            collect_path(path, &mut files)?;
        }
        if files.is_empty() {
            return Err(Error::EmptyCorpus(no_files_message(paths)));
        }
        check_lang_map(&files, &options)?;
        #[cfg(not(feature = "parquet"))]
        if let Some(file) = files.iter().find(|f| f.kind == InputKind::Parquet) {
            return Err(parquet_unsupported(&file.path));
        }
        let total_bytes = files.iter().map(|f| f.size).sum();
        Ok(Corpus {
            files,
            options,
            total_bytes,
            #[cfg(feature = "hub")]
            remote,
        })
    }

    /// The input files in reading order, with their kinds.
    pub fn files(&self) -> impl Iterator<Item = (&Path, InputKind)> + '_ {
        self.files.iter().map(|f| (f.path.as_path(), f.kind))
    }

    /// The input files in reading order, with kinds and sizes.
    pub fn inputs(&self) -> &[InputFile] {
        &self.files
    }

    /// The options the corpus was opened with.
    pub fn options(&self) -> &CorpusOptions {
        &self.options
    }

    /// Sum of the input file sizes, the total of [`ReadProgress::bytes_total`].
    pub fn total_bytes(&self) -> u64 {
        self.total_bytes
    }

    /// Streams documents in batches of roughly `batch_bytes` of text (at least one document per
    /// batch), in a deterministic order: files in order, records in order.
    ///
    /// A batch is handed to `on_batch` as soon as its text reaches `batch_bytes`, and the rest at
    /// the end. `on_progress` is called after each batch, and once more at the end if the last
    /// report did not cover the whole input. Reading stops at the first error, from the input or
    /// returned by `on_batch`. An input without any document is not an error here: the caller
    /// sees `documents == 0` in the returned stats.
    pub fn for_each_batch(
        &self,
        batch_bytes: usize,
        on_progress: &mut dyn FnMut(ReadProgress),
        on_batch: &mut dyn FnMut(&mut Documents) -> Result<()>,
    ) -> Result<CorpusStats> {
        let mut sink = Sink::new(batch_bytes, self.total_bytes, &self.options, on_progress, on_batch);
        #[cfg(feature = "hub")]
        let client = (!self.remote.is_empty()).then(|| hub::HubClient::new(hub::HubConfig::from_env()));
        for file in &self.files {
            if !sink.wants_more() {
                break;
            }
            sink.start_file(file.size);
            #[cfg(feature = "hub")]
            if let (Some(client), Some(remote)) = (&client, self.remote.get(&file.path)) {
                let lang = sink.intern_lang(&language_for_file(&file.path, &self.options));
                hub::remote::read_remote_parquet(client, remote, lang, &self.options, &mut sink)?;
                sink.finish_file();
                continue;
            }
            self.read_file(file, &mut sink)?;
            sink.finish_file();
        }
        sink.finish()
    }

    /// [`Corpus::for_each_batch`] with the reading on a thread of its own, one batch ahead:
    /// files are read and decoded while `on_batch` works on the batch before. Both
    /// callbacks still run on the calling thread, in the order `for_each_batch` calls them.
    ///
    /// Reading is a serial tenth of counting's work; run in line, it left every other core idle
    /// for its share (benches/RESULTS.md, "Counting"). Batches go back to the reading thread
    /// to be refilled: freed by the caller, between two batches, a batch of 8 MB of lines took
    /// 2–4 ms in which the caller's pool had nothing to do (45 ms in all when counting
    /// `../shared/corpus/train`).
    pub fn for_each_batch_read_ahead(
        &self,
        batch_bytes: usize,
        on_progress: &mut dyn FnMut(ReadProgress),
        on_batch: &mut dyn FnMut(&Documents) -> Result<()>,
    ) -> Result<CorpusStats> {
        enum Read {
            Batch(Documents),
            Progress(ReadProgress),
        }
        let (send, receive) = std::sync::mpsc::sync_channel::<Read>(1);
        let (give_back, given_back) = std::sync::mpsc::channel::<Documents>();
        std::thread::scope(|scope| {
            let reader = scope.spawn(move || {
                // A failed send means the caller stopped at an error of its own, which it returns.
                let stopped = || Error::config("reading stopped");
                self.for_each_batch(batch_bytes, &mut |p| drop(send.send(Read::Progress(p))), &mut |docs| {
                    let full = std::mem::replace(docs, given_back.try_recv().unwrap_or_default());
                    send.send(Read::Batch(full)).map_err(|_| stopped())
                })
            });
            let mut failure = None;
            for read in receive.iter() {
                match read {
                    Read::Progress(progress) => on_progress(progress),
                    Read::Batch(docs) => {
                        let result = on_batch(&docs);
                        // Back to be refilled (the reader's `Sink` clears it). The reader is
                        // gone only after an error, which this loop then returns.
                        drop(give_back.send(docs));
                        if let Err(e) = result {
                            failure = Some(e);
                            break;
                        }
                    }
                }
            }
            drop(give_back);
            drop(receive);
            let stats = reader.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic));
            failure.map_or(stats, Err)
        })
    }

    fn read_file(&self, file: &InputFile, sink: &mut Sink<'_>) -> Result<()> {
        let lang: Arc<str> = sink.intern_lang(&language_for_file(&file.path, &self.options));
        let path = file.path.as_path();
        match file.kind {
            InputKind::Text if self.options.doc_per_file => {
                text::read_text_file(path, lang, self.options.skip_invalid, sink)
            }
            InputKind::Text => text::read_text_lines(path, lang, self.options.skip_invalid, sink),
            InputKind::Jsonl => jsonl::read_jsonl(path, lang, &self.options, sink),
            #[cfg(feature = "parquet")]
            InputKind::Parquet => parquet::read_parquet(path, lang, &self.options, sink),
            #[cfg(not(feature = "parquet"))]
            InputKind::Parquet => Err(parquet_unsupported(path)),
            // Read by `for_each_batch` with the Hub client; only listed files have this kind.
            InputKind::HubParquet => Err(Error::config(format!("{}: a Hub file that was not listed", path.display()))),
        }
    }
}

/// A Parquet input to a build without the `parquet` feature: refused when the corpus is opened,
/// before anything is read.
#[cfg(not(feature = "parquet"))]
fn parquet_unsupported(path: &Path) -> Error {
    Error::Parquet {
        path: path.to_path_buf(),
        message: "polybpe was built without its `parquet` cargo feature (on by default)".to_owned(),
    }
}

#[cfg(all(test, not(feature = "parquet")))]
mod tests {
    use super::test_support::*;
    use super::*;

    #[test]
    fn parquet_input_without_the_feature_names_file_and_feature() {
        let dir = tempfile::tempdir().unwrap();
        let text = write(dir.path(), "fr.txt", b"bonjour\n");
        let shard = write(dir.path(), "shard.parquet", b"PAR1 any bytes: never read");
        let err = Corpus::open(&[text.clone(), shard.clone()], CorpusOptions::default()).err().unwrap();
        assert_eq!(
            err.to_string(),
            format!("{}: cannot read Parquet: polybpe was built without its `parquet` cargo feature (on by default)", shard.display())
        );
        // A directory holding a Parquet file is refused the same way, not read without it.
        assert!(matches!(Corpus::open(&[dir.path().to_path_buf()], CorpusOptions::default()), Err(Error::Parquet { path, .. }) if path == shard));
        assert_eq!(read(&text, CorpusOptions::default()).unwrap().docs(), pairs(&[("fr", "bonjour")]));
    }
}

#[cfg(test)]
mod read_ahead_tests {
    use super::test_support::*;
    use super::*;

    fn corpus(dir: &Path) -> Corpus {
        let a = write(dir, "fr.txt", "un\ndeux\ntrois\nquatre\n".repeat(50).as_bytes());
        let b = write(dir, "de.txt", "eins\nzwei\n".repeat(80).as_bytes());
        Corpus::open(&[a, b], CorpusOptions::default()).unwrap()
    }

    #[test]
    fn reading_ahead_hands_over_the_same_batches_and_progress_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let corpus = corpus(dir.path());
        let collect = |ahead: bool| {
            let (mut events, mut docs) = (Vec::new(), Vec::new());
            let mut on_progress = |p: ReadProgress| events.push(format!("{p:?}"));
            let mut on_batch = |batch: &Documents| {
                docs.push(batch.iter().map(|d| format!("{}:{}", d.lang, d.text)).collect::<Vec<_>>());
                Ok(())
            };
            let stats = if ahead {
                corpus.for_each_batch_read_ahead(64, &mut on_progress, &mut on_batch)
            } else {
                corpus.for_each_batch(64, &mut on_progress, &mut |batch| on_batch(batch))
            };
            (format!("{:?}", stats.unwrap()), events, docs)
        };
        let inline = collect(false);
        assert!(inline.2.len() > 10, "several batches: {}", inline.2.len());
        assert_eq!(collect(true), inline);
    }

    #[test]
    fn an_error_of_the_caller_stops_the_reading_and_is_returned() {
        let dir = tempfile::tempdir().unwrap();
        let corpus = corpus(dir.path());
        let mut batches = 0;
        let result = corpus.for_each_batch_read_ahead(64, &mut |_| {}, &mut |_| {
            batches += 1;
            if batches == 3 {
                return Err(Error::config("counting failed"));
            }
            Ok(())
        });
        assert_eq!(result.err().map(|e| e.to_string()), Some("counting failed".to_owned()));
        assert_eq!(batches, 3, "no batch is handed over after the error");
    }

    #[test]
    fn an_error_of_the_input_is_returned_after_the_batches_before_it() {
        let dir = tempfile::tempdir().unwrap();
        let good = write(dir.path(), "fr.txt", "un\ndeux\n".repeat(100).as_bytes());
        let bad = write(dir.path(), "de.txt", b"eins\n\xff\n");
        let corpus = Corpus::open(&[good, bad.clone()], CorpusOptions::default()).unwrap();
        let (mut inline, mut ahead) = (0, 0);
        let inline_result = corpus.for_each_batch(64, &mut |_| {}, &mut |batch| {
            inline += batch.len();
            Ok(())
        });
        let result = corpus.for_each_batch_read_ahead(64, &mut |_| {}, &mut |batch| {
            ahead += batch.len();
            Ok(())
        });
        assert!(matches!(&result, Err(Error::InvalidUtf8 { path, line: 2, .. }) if *path == bad));
        assert_eq!(result.err().map(|e| e.to_string()), inline_result.err().map(|e| e.to_string()));
        assert!(ahead > 150 && ahead == inline, "the batches before the error were handed over: {ahead} of {inline}");
    }
}
