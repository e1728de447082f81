//! Streaming readers of training documents (plain text, JSONL, Parquet), each with a language tag.
//!
//! Training needs every document once, in a fixed order, without holding the corpus in memory:
//! [`Corpus::for_each_batch`] reads the input files one after the other and hands documents to
//! the caller in batches of about `batch_bytes` of text, so counting can run in parallel on a
//! batch while memory stays bounded by the batch size.
//!
//! Input formats, chosen by file extension:
//! - plain text (`.txt`, `.text`, and any explicitly named file with another extension): one
//!   document per line (terminator `\n` or `\r\n` removed, a leading UTF-8 BOM removed, empty lines
//!   skipped), or one document per file with [`CorpusOptions::doc_per_file`];
//! - JSONL (`.jsonl`, `.ndjson`): one JSON object per line with a text field and an optional
//!   language field;
//! - Parquet (`.parquet`): a string text column and an optional string language column, read
//!   1024 rows at a time with only those two columns decoded.
//!
//! A document without a language of its own takes the language of its file
//! ([`language_for_file`]): an entry of [`CorpusOptions::lang_map`], else the file stem
//! (`fr.txt` → `fr`).
//!
//! Bad input never panics: every error names the file and the line, row or field at fault.

use std::collections::{BTreeMap, HashSet};
use std::fmt;
use std::fs::File;
use std::io::{BufRead, BufReader};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow_array::cast::AsArray;
use arrow_array::{
    AnyDictionaryArray, Array, LargeStringArray, RecordBatch, StringArray, StringViewArray,
};
use arrow_schema::{DataType, Schema};
use parquet::arrow::arrow_reader::{ParquetRecordBatchReader, ParquetRecordBatchReaderBuilder};
use parquet::arrow::ProjectionMask;
use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, Visitor};
use serde_json::Value;

use crate::error::{Error, Result};

/// Field / column holding the text when [`CorpusOptions::text_field`] is empty.
pub const DEFAULT_TEXT_FIELD: &str = "text";
/// Field / column holding the language when [`CorpusOptions::lang_field`] is empty.
pub const DEFAULT_LANG_FIELD: &str = "language";

/// Rows decoded per Parquet read: large enough to amortize decoding, small enough that a batch of
/// ~6 KB documents stays around 6 MB.
const PARQUET_BATCH_ROWS: usize = 1024;
/// Read buffer of the line readers; larger than the 8 KiB default to cut system calls.
const READ_BUFFER_BYTES: usize = 256 * 1024;
/// The UTF-8 byte order mark, removed from the start of text and JSONL files.
const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";
/// Extensions (lower case) of the files taken when walking a directory.
const DIRECTORY_EXTENSIONS: &[&str] = &["txt", "text", "jsonl", "ndjson", "parquet"];

/// One training document and its language tag.
///
/// The tag is shared (`Arc<str>`) because a corpus has few languages and millions of documents.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Document {
    /// Language code, e.g. `fr`, used by per-language counting and balancing.
    pub lang: Arc<str>,
    /// The document's text, never empty.
    pub text: String,
}

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
    /// Empty lines, blank JSONL lines, and null or empty texts dropped.
    pub skipped_empty: u64,
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
}

impl Corpus {
    /// Resolves `paths`: a file is taken as is (kind by extension, see [`InputKind::from_path`]);
    /// a directory is walked recursively, taking only `.txt`/`.text`/`.jsonl`/`.ndjson`/`.parquet`
    /// files and skipping hidden entries (name starting with `.`), its files sorted byte-wise by
    /// path (the order of `find DIR | LC_ALL=C sort`). Paths are kept in the order given.
    ///
    /// A missing path is [`Error::Io`] naming it; no files at all is [`Error::EmptyCorpus`].
    pub fn open(paths: &[PathBuf], options: CorpusOptions) -> Result<Corpus> {
        let mut files = Vec::new();
        for path in paths {
            collect_path(path, &mut files)?;
        }
        if files.is_empty() {
            return Err(Error::EmptyCorpus(no_files_message(paths)));
        }
        check_lang_map(&files, &options)?;
        let total_bytes = files.iter().map(|f| f.size).sum();
        Ok(Corpus {
            files,
            options,
            total_bytes,
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
        on_batch: &mut dyn FnMut(Vec<Document>) -> Result<()>,
    ) -> Result<CorpusStats> {
        let mut sink = Sink::new(batch_bytes, self.total_bytes, on_progress, on_batch);
        for file in &self.files {
            sink.start_file(file.size);
            self.read_file(file, &mut sink)?;
            sink.finish_file();
        }
        sink.finish()
    }

    fn read_file(&self, file: &InputFile, sink: &mut Sink<'_>) -> Result<()> {
        let lang: Arc<str> = sink.intern_lang(&language_for_file(&file.path, &self.options));
        let path = file.path.as_path();
        match file.kind {
            InputKind::Text if self.options.doc_per_file => {
                read_text_file(path, lang, self.options.skip_invalid, sink)
            }
            InputKind::Text => read_text_lines(path, lang, self.options.skip_invalid, sink),
            InputKind::Jsonl => read_jsonl(path, lang, &self.options, sink),
            InputKind::Parquet => read_parquet(path, lang, &self.options, sink),
        }
    }
}

/// Language of a file whose records carry none: `lang_map` by the path as given, then by file
/// name, then by stem, then by the directories that hold it (innermost first, as given: a
/// recipe input that is a directory labels every file under it); else the stem itself
/// (`fr.txt` → `fr`, `de_part1.jsonl` → `de_part1`).
pub fn language_for_file(path: &Path, options: &CorpusOptions) -> String {
    let by_file = own_names(path).find_map(|name| options.lang_map.get(name.as_ref()));
    let by_dir = || {
        path.ancestors()
            .skip(1)
            .find_map(|dir| options.lang_map.iter().find(|(key, _)| names_dir(key, dir)).map(|(_, lang)| lang))
    };
    by_file
        .or_else(by_dir)
        .cloned()
        .unwrap_or_else(|| path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default())
}

/// The names a file goes by as a `lang_map` key, in order: its path as given, file name, stem.
fn own_names(path: &Path) -> impl Iterator<Item = std::borrow::Cow<'_, str>> {
    [Some(path.as_os_str()), path.file_name(), path.file_stem()].into_iter().flatten().map(|name| name.to_string_lossy())
}

/// Whether a `lang_map` key names the directory `dir`. Directories compare as paths, so
/// `hist/` and `hist` are the same key.
fn names_dir(key: &str, dir: &Path) -> bool {
    !dir.as_os_str().is_empty() && Path::new(key) == dir
}

/// Whether a `lang_map` key names `path`: its path as given, file name, stem or a directory
/// that holds it.
fn names_file(key: &str, path: &Path) -> bool {
    own_names(path).any(|name| name == key) || path.ancestors().skip(1).any(|dir| names_dir(key, dir))
}

/// Every `lang_map` entry must name an input: a misspelt file name would otherwise leave its
/// file labelled by its stem without a word.
fn check_lang_map(files: &[InputFile], options: &CorpusOptions) -> Result<()> {
    for (key, lang) in &options.lang_map {
        if !files.iter().any(|f| names_file(key, &f.path)) {
            return Err(Error::config(format!(
                "language {lang:?} is given for {key:?}, which names no input file (by path, file name, stem or directory)"
            )));
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Resolving paths

fn collect_path(path: &Path, out: &mut Vec<InputFile>) -> Result<()> {
    let meta = std::fs::metadata(path).map_err(|e| Error::io(path, e))?;
    if !meta.is_dir() {
        out.push(InputFile {
            path: path.to_path_buf(),
            kind: InputKind::from_path(path),
            size: meta.len(),
        });
        return Ok(());
    }
    let mut found = Vec::new();
    walk_dir(path, &mut HashSet::new(), &mut found)?;
    found.sort_by(|a, b| {
        a.path
            .as_os_str()
            .as_encoded_bytes()
            .cmp(b.path.as_os_str().as_encoded_bytes())
    });
    out.extend(found);
    Ok(())
}

/// Collects the corpus files under `dir`; `visited` holds canonical directories so that a
/// symbolic link back to a parent cannot loop forever.
fn walk_dir(dir: &Path, visited: &mut HashSet<PathBuf>, out: &mut Vec<InputFile>) -> Result<()> {
    let canonical = std::fs::canonicalize(dir).map_err(|e| Error::io(dir, e))?;
    if !visited.insert(canonical) {
        return Ok(());
    }
    for entry in std::fs::read_dir(dir).map_err(|e| Error::io(dir, e))? {
        let entry = entry.map_err(|e| Error::io(dir, e))?;
        if entry.file_name().as_encoded_bytes().starts_with(b".") {
            continue;
        }
        let path = entry.path();
        let meta = std::fs::metadata(&path).map_err(|e| Error::io(&path, e))?;
        if meta.is_dir() {
            walk_dir(&path, visited, out)?;
        } else if meta.is_file() && is_corpus_extension(&path) {
            out.push(InputFile {
                kind: InputKind::from_path(&path),
                size: meta.len(),
                path,
            });
        }
    }
    Ok(())
}

fn is_corpus_extension(path: &Path) -> bool {
    lower_extension(path).is_some_and(|ext| DIRECTORY_EXTENSIONS.contains(&ext.as_str()))
}

fn no_files_message(paths: &[PathBuf]) -> String {
    if paths.is_empty() {
        return "no input paths given".to_owned();
    }
    let names: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
    format!(
        "no input files (.txt, .text, .jsonl, .ndjson, .parquet) found in {}",
        names.join(", ")
    )
}

// ---------------------------------------------------------------------------------------------
// Batching, statistics and progress

/// Collects documents into batches and keeps the counters of one `for_each_batch` call.
struct Sink<'a> {
    batch_bytes: usize,
    batch: Vec<Document>,
    batch_text: usize,
    stats: CorpusStats,
    bytes_total: u64,
    finished_files_bytes: u64,
    file_size: u64,
    file_pos: u64,
    last_reported: Option<u64>,
    langs: HashSet<Arc<str>>,
    on_progress: &'a mut dyn FnMut(ReadProgress),
    on_batch: &'a mut dyn FnMut(Vec<Document>) -> Result<()>,
}

impl<'a> Sink<'a> {
    fn new(
        batch_bytes: usize,
        bytes_total: u64,
        on_progress: &'a mut dyn FnMut(ReadProgress),
        on_batch: &'a mut dyn FnMut(Vec<Document>) -> Result<()>,
    ) -> Self {
        Sink {
            batch_bytes,
            batch: Vec::new(),
            batch_text: 0,
            stats: CorpusStats::default(),
            bytes_total,
            finished_files_bytes: 0,
            file_size: 0,
            file_pos: 0,
            last_reported: None,
            langs: HashSet::new(),
            on_progress,
            on_batch,
        }
    }

    fn start_file(&mut self, size: u64) {
        self.stats.files += 1;
        self.file_size = size;
        self.file_pos = 0;
    }

    fn finish_file(&mut self) {
        self.finished_files_bytes += self.file_size;
        self.file_size = 0;
        self.file_pos = 0;
    }

    /// Records how far into the current file the next document ends.
    fn set_position(&mut self, pos: u64) {
        self.file_pos = pos.min(self.file_size);
    }

    /// One shared tag per distinct language, so documents do not each allocate one.
    fn intern_lang(&mut self, lang: &str) -> Arc<str> {
        if let Some(tag) = self.langs.get(lang) {
            return tag.clone();
        }
        let tag: Arc<str> = Arc::from(lang);
        self.langs.insert(tag.clone());
        tag
    }

    fn skip_empty(&mut self) {
        self.stats.skipped_empty += 1;
    }

    fn skip_invalid(&mut self) {
        self.stats.skipped_invalid += 1;
    }

    /// Adds a document (an empty text is counted as skipped) and emits the batch once full.
    fn push(&mut self, lang: Arc<str>, text: String) -> Result<()> {
        if text.is_empty() {
            self.skip_empty();
            return Ok(());
        }
        self.stats.documents += 1;
        self.stats.bytes += text.len() as u64;
        self.batch_text += text.len();
        self.batch.push(Document { lang, text });
        if self.batch_text >= self.batch_bytes {
            self.flush()?;
        }
        Ok(())
    }

    fn flush(&mut self) -> Result<()> {
        if self.batch.is_empty() {
            return Ok(());
        }
        let capacity = self.batch.len();
        let batch = std::mem::replace(&mut self.batch, Vec::with_capacity(capacity));
        self.batch_text = 0;
        (self.on_batch)(batch)?;
        self.report();
        Ok(())
    }

    fn report(&mut self) {
        let progress = ReadProgress {
            bytes_done: (self.finished_files_bytes + self.file_pos).min(self.bytes_total),
            bytes_total: self.bytes_total,
            documents: self.stats.documents,
        };
        self.last_reported = Some(progress.bytes_done);
        (self.on_progress)(progress);
    }

    fn finish(mut self) -> Result<CorpusStats> {
        self.flush()?;
        if self.last_reported != Some(self.bytes_total) {
            self.report();
        }
        Ok(self.stats)
    }
}

// ---------------------------------------------------------------------------------------------
// Plain text and JSONL: lines

/// One line of a file, terminator removed.
struct Line<'a> {
    /// 1-based line number.
    number: u64,
    /// Absolute offset in the file of `bytes[0]`.
    start: u64,
    /// Absolute offset just past the line terminator.
    end: u64,
    bytes: &'a [u8],
}

/// Reads a file line by line through a reused buffer, never the whole file at once.
struct LineReader {
    reader: BufReader<File>,
    buf: Vec<u8>,
    offset: u64,
    number: u64,
}

impl LineReader {
    fn open(path: &Path) -> Result<Self> {
        let file = File::open(path).map_err(|e| Error::io(path, e))?;
        let reader = BufReader::with_capacity(READ_BUFFER_BYTES, file);
        Ok(LineReader {
            reader,
            buf: Vec::new(),
            offset: 0,
            number: 0,
        })
    }

    /// The next line, without its `\n` or `\r\n` (and without the BOM on line 1); `None` at EOF.
    fn next_line(&mut self, path: &Path) -> Result<Option<Line<'_>>> {
        self.buf.clear();
        let read = self
            .reader
            .read_until(b'\n', &mut self.buf)
            .map_err(|e| Error::io(path, e))?;
        if read == 0 {
            return Ok(None);
        }
        self.number += 1;
        let mut start = self.offset;
        self.offset += read as u64;
        let mut bytes = strip_terminator(&self.buf);
        if self.number == 1 {
            if let Some(rest) = bytes.strip_prefix(UTF8_BOM) {
                bytes = rest;
                start += UTF8_BOM.len() as u64;
            }
        }
        Ok(Some(Line {
            number: self.number,
            start,
            end: self.offset,
            bytes,
        }))
    }
}

fn strip_terminator(line: &[u8]) -> &[u8] {
    match line.strip_suffix(b"\n") {
        Some(rest) => rest.strip_suffix(b"\r").unwrap_or(rest),
        None => line,
    }
}

/// The line as text; `None` (counted) when it is empty, or invalid with `skip_invalid`.
fn decode_line<'l>(
    path: &Path,
    line: &Line<'l>,
    skip_invalid: bool,
    sink: &mut Sink<'_>,
) -> Result<Option<&'l str>> {
    match std::str::from_utf8(line.bytes) {
        Ok("") => {
            sink.skip_empty();
            Ok(None)
        }
        Ok(text) => Ok(Some(text)),
        Err(_) if skip_invalid => {
            sink.skip_invalid();
            Ok(None)
        }
        Err(e) => Err(Error::InvalidUtf8 {
            path: path.to_path_buf(),
            offset: line.start + e.valid_up_to() as u64,
            line: line.number,
        }),
    }
}

fn read_text_lines(
    path: &Path,
    lang: Arc<str>,
    skip_invalid: bool,
    sink: &mut Sink<'_>,
) -> Result<()> {
    let mut lines = LineReader::open(path)?;
    while let Some(line) = lines.next_line(path)? {
        sink.set_position(line.end);
        if let Some(text) = decode_line(path, &line, skip_invalid, sink)? {
            sink.push(lang.clone(), text.to_owned())?;
        }
    }
    Ok(())
}

/// The whole file as one document (BOM removed, everything else kept, newlines included).
fn read_text_file(
    path: &Path,
    lang: Arc<str>,
    skip_invalid: bool,
    sink: &mut Sink<'_>,
) -> Result<()> {
    let mut bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    sink.set_position(bytes.len() as u64);
    let bom = if bytes.starts_with(UTF8_BOM) {
        UTF8_BOM.len()
    } else {
        0
    };
    bytes.drain(..bom);
    match String::from_utf8(bytes) {
        Ok(text) => sink.push(lang, text),
        Err(_) if skip_invalid => {
            sink.skip_invalid();
            Ok(())
        }
        Err(e) => {
            let valid = e.utf8_error().valid_up_to();
            let newlines = e.as_bytes()[..valid]
                .iter()
                .filter(|&&b| b == b'\n')
                .count();
            Err(Error::InvalidUtf8 {
                path: path.to_path_buf(),
                offset: (bom + valid) as u64,
                line: newlines as u64 + 1,
            })
        }
    }
}

fn read_jsonl(
    path: &Path,
    fallback: Arc<str>,
    options: &CorpusOptions,
    sink: &mut Sink<'_>,
) -> Result<()> {
    let fields = Fields {
        text: options.text_field_name(),
        lang: options.lang_field_name(),
    };
    let mut lines = LineReader::open(path)?;
    while let Some(line) = lines.next_line(path)? {
        sink.set_position(line.end);
        let Some(raw) = decode_line(path, &line, options.skip_invalid, sink)? else {
            continue;
        };
        if raw.trim_matches(is_json_whitespace).is_empty() {
            sink.skip_empty();
            continue;
        }
        let record = parse_record(raw, &fields).map_err(|message| Error::Record {
            path: path.to_path_buf(),
            location: format!("line {}", line.number),
            message,
        })?;
        let lang = match record.lang {
            Some(lang) => sink.intern_lang(&lang),
            None => fallback.clone(),
        };
        match record.text {
            Some(text) => sink.push(lang, text)?,
            None => sink.skip_empty(),
        }
    }
    Ok(())
}

fn is_json_whitespace(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\r' | '\n')
}

// ---------------------------------------------------------------------------------------------
// JSONL: records

/// Names of the two fields a JSONL reader keeps.
struct Fields<'a> {
    text: &'a str,
    lang: &'a str,
}

/// A JSONL record reduced to what training needs.
#[derive(Debug, PartialEq)]
struct JsonRecord {
    /// `None` when the text is `null` (the record is skipped like an empty one).
    text: Option<String>,
    /// `None` when missing, `null` or blank: the file's language applies.
    lang: Option<String>,
}

/// Parses one JSONL line; the error is a message for [`Error::Record`].
fn parse_record(raw: &str, fields: &Fields<'_>) -> std::result::Result<JsonRecord, String> {
    let mut de = serde_json::Deserializer::from_str(raw);
    let record = RecordSeed(fields)
        .deserialize(&mut de)
        .map_err(json_message)?;
    de.end().map_err(json_message)?;
    let text = match record.text {
        None => return Err(format!("missing field `{}`", fields.text)),
        Some(Value::Null) => None,
        Some(Value::String(text)) => Some(text),
        Some(other) => {
            return Err(format!(
                "field `{}` must be a string (found {})",
                fields.text,
                JsonType(&other)
            ))
        }
    };
    let lang = match record.lang {
        None | Some(Value::Null) => None,
        Some(Value::String(lang)) => Some(lang.trim().to_owned()).filter(|l| !l.is_empty()),
        Some(other) => {
            return Err(format!(
                "field `{}` must be a string or null (found {})",
                fields.lang,
                JsonType(&other)
            ))
        }
    };
    Ok(JsonRecord { text, lang })
}

/// serde_json's message with its "line 1" position (always line 1 here) replaced by the column.
fn json_message(e: serde_json::Error) -> String {
    let full = e.to_string();
    let position = format!(" at line {} column {}", e.line(), e.column());
    let base = full.strip_suffix(&position).unwrap_or(&full);
    // Type errors at the start of a value report column 0: no useful position to show.
    let column = if e.column() == 0 {
        String::new()
    } else {
        format!(" (column {})", e.column())
    };
    match e.classify() {
        serde_json::error::Category::Syntax | serde_json::error::Category::Eof => {
            format!("invalid JSON: {base}{column}")
        }
        _ => format!("{base}{column}"),
    }
}

/// Names a JSON value's type for error messages.
struct JsonType<'a>(&'a Value);

impl fmt::Display for JsonType<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self.0 {
            Value::Null => "null",
            Value::Bool(_) => "a boolean",
            Value::Number(_) => "a number",
            Value::String(_) => "a string",
            Value::Array(_) => "an array",
            Value::Object(_) => "an object",
        })
    }
}

/// The text and language fields exactly as found (`None` when absent).
#[derive(Default)]
struct RawRecord {
    text: Option<Value>,
    lang: Option<Value>,
}

/// Deserializes a JSON object keeping only the two wanted fields; other fields are skipped
/// without being built, which matters for records carrying large metadata.
struct RecordSeed<'f>(&'f Fields<'f>);

impl<'de> DeserializeSeed<'de> for RecordSeed<'_> {
    type Value = RawRecord;

    fn deserialize<D: de::Deserializer<'de>>(
        self,
        deserializer: D,
    ) -> std::result::Result<RawRecord, D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for RecordSeed<'_> {
    type Value = RawRecord;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> std::result::Result<RawRecord, A::Error> {
        let mut record = RawRecord::default();
        while let Some(key) = map.next_key_seed(KeySeed(self.0))? {
            match key {
                Key::Text => record.text = Some(map.next_value()?),
                Key::Lang => record.lang = Some(map.next_value()?),
                Key::Other => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(record)
    }
}

/// Which of the wanted fields a key is.
enum Key {
    Text,
    Lang,
    Other,
}

/// Classifies a key without allocating it.
struct KeySeed<'f>(&'f Fields<'f>);

impl<'de> DeserializeSeed<'de> for KeySeed<'_> {
    type Value = Key;

    fn deserialize<D: de::Deserializer<'de>>(
        self,
        deserializer: D,
    ) -> std::result::Result<Key, D::Error> {
        deserializer.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for KeySeed<'_> {
    type Value = Key;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a field name")
    }

    fn visit_str<E: de::Error>(self, key: &str) -> std::result::Result<Key, E> {
        Ok(if key == self.0.text {
            Key::Text
        } else if key == self.0.lang {
            Key::Lang
        } else {
            Key::Other
        })
    }
}

// ---------------------------------------------------------------------------------------------
// Parquet

fn read_parquet(
    path: &Path,
    fallback: Arc<str>,
    options: &CorpusOptions,
    sink: &mut Sink<'_>,
) -> Result<()> {
    let (mut reader, total_rows) = open_parquet(path, options)?;
    let mut rows_done = 0u64;
    let names = (options.text_field_name(), options.lang_field_name());
    while let Some(batch) = next_parquet_batch(path, &mut reader, rows_done)? {
        let rows = ParquetRows {
            path,
            batch: &batch,
            names,
            first_row: rows_done,
            total_rows,
        };
        rows.emit(&fallback, sink)?;
        rows_done += batch.num_rows() as u64;
    }
    Ok(())
}

/// A reader of the text and language columns only, and the file's row count (for progress).
fn open_parquet(path: &Path, options: &CorpusOptions) -> Result<(ParquetRecordBatchReader, u64)> {
    let file = File::open(path).map_err(|e| Error::io(path, e))?;
    guard_parquet(path, move || {
        let builder =
            ParquetRecordBatchReaderBuilder::try_new(file).map_err(|e| parquet_error(path, e))?;
        let columns = projected_columns(path, builder.schema(), options)?;
        let total_rows = u64::try_from(builder.metadata().file_metadata().num_rows()).unwrap_or(0);
        let mask = ProjectionMask::roots(builder.parquet_schema(), columns);
        let reader = builder
            .with_projection(mask)
            .with_batch_size(PARQUET_BATCH_ROWS)
            .build()
            .map_err(|e| parquet_error(path, e))?;
        Ok((reader, total_rows))
    })
}

fn next_parquet_batch(
    path: &Path,
    reader: &mut ParquetRecordBatchReader,
    rows_done: u64,
) -> Result<Option<RecordBatch>> {
    guard_parquet(path, || match reader.next() {
        None => Ok(None),
        Some(Ok(batch)) => Ok(Some(batch)),
        Some(Err(e)) => Err(parquet_error(
            path,
            format!("reading rows from {rows_done}: {e}"),
        )),
    })
}

/// Runs a Parquet decoding step, turning a panic of the decoder on a corrupt file into an error:
/// a damaged input must not abort a training run without naming the file.
fn guard_parquet<T>(path: &Path, step: impl FnOnce() -> Result<T>) -> Result<T> {
    catch_unwind(AssertUnwindSafe(step)).unwrap_or_else(|panic| {
        let detail = panic
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| panic.downcast_ref::<&str>().copied())
            .unwrap_or("unknown cause");
        Err(parquet_error(
            path,
            format!("corrupt file (decoder failed: {detail})"),
        ))
    })
}

fn parquet_error(path: &Path, message: impl ToString) -> Error {
    Error::Parquet {
        path: path.to_path_buf(),
        message: message.to_string(),
    }
}

/// Root indices of the text column and, if present, the language column; both must be strings.
fn projected_columns(path: &Path, schema: &Schema, options: &CorpusOptions) -> Result<Vec<usize>> {
    let text_name = options.text_field_name();
    let Some(text) = schema.fields().iter().position(|f| f.name() == text_name) else {
        let names: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
        let message = format!("no column `{text_name}` (columns: {})", names.join(", "));
        return Err(parquet_error(path, message));
    };
    let mut columns = vec![text];
    let lang_name = options.lang_field_name();
    if let Some(lang) = schema.fields().iter().position(|f| f.name() == lang_name) {
        columns.push(lang);
    }
    for &index in &columns {
        let field = &schema.fields()[index];
        if !is_string_type(field.data_type()) {
            let message = format!(
                "column `{}` has type {}; expected a string column (Utf8, LargeUtf8, Utf8View or a dictionary of them)",
                field.name(),
                field.data_type()
            );
            return Err(parquet_error(path, message));
        }
    }
    Ok(columns)
}

fn is_string_type(data_type: &DataType) -> bool {
    match data_type {
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => true,
        DataType::Dictionary(_, values) => is_string_type(values),
        _ => false,
    }
}

/// One decoded Parquet batch and where it sits in its file.
struct ParquetRows<'a> {
    path: &'a Path,
    batch: &'a RecordBatch,
    names: (&'a str, &'a str),
    first_row: u64,
    total_rows: u64,
}

impl ParquetRows<'_> {
    fn emit(&self, fallback: &Arc<str>, sink: &mut Sink<'_>) -> Result<()> {
        let text = self
            .column(self.names.0)?
            .ok_or_else(|| self.missing(self.names.0))?;
        let lang = self.column(self.names.1)?;
        for row in 0..self.batch.num_rows() {
            sink.set_position(self.position(row, sink.file_size));
            let Some(value) = text.get(row) else {
                sink.skip_empty();
                continue;
            };
            let tag = match lang.as_ref().and_then(|c| c.get(row)).map(str::trim) {
                Some(l) if !l.is_empty() => sink.intern_lang(l),
                _ => fallback.clone(),
            };
            sink.push(tag, value.to_owned())?;
        }
        Ok(())
    }

    /// The named column as strings; `None` when the batch lacks it.
    fn column(&self, name: &str) -> Result<Option<StrColumn<'_>>> {
        let Some(array) = self.batch.column_by_name(name) else {
            return Ok(None);
        };
        match StrColumn::new(array.as_ref()) {
            Some(column) => Ok(Some(column)),
            None => Err(parquet_error(
                self.path,
                format!(
                    "column `{name}` has type {}; expected a string column",
                    array.data_type()
                ),
            )),
        }
    }

    fn missing(&self, name: &str) -> Error {
        parquet_error(
            self.path,
            format!("rows from {}: no column `{name}`", self.first_row),
        )
    }

    /// Byte position for progress: the share of rows read times the file size.
    fn position(&self, row: usize, file_size: u64) -> u64 {
        if self.total_rows == 0 {
            return 0;
        }
        let rows_read = u128::from(self.first_row) + row as u128 + 1;
        let pos = u128::from(file_size) * rows_read / u128::from(self.total_rows);
        u64::try_from(pos).unwrap_or(file_size)
    }
}

/// A string column of any of the Arrow string layouts Parquet readers produce.
enum StrColumn<'a> {
    Utf8(&'a StringArray),
    LargeUtf8(&'a LargeStringArray),
    View(&'a StringViewArray),
    Dictionary {
        array: &'a dyn AnyDictionaryArray,
        keys: Vec<usize>,
        values: Box<StrColumn<'a>>,
    },
}

impl<'a> StrColumn<'a> {
    fn new(array: &'a dyn Array) -> Option<Self> {
        if let Some(a) = array.as_string_opt::<i32>() {
            return Some(StrColumn::Utf8(a));
        }
        if let Some(a) = array.as_string_opt::<i64>() {
            return Some(StrColumn::LargeUtf8(a));
        }
        if let Some(a) = array.as_string_view_opt() {
            return Some(StrColumn::View(a));
        }
        let dict = array.as_any_dictionary_opt()?;
        let values = Box::new(StrColumn::new(dict.values().as_ref())?);
        // `normalized_keys` needs at least one value; with none, every key is null.
        let keys = if dict.values().is_empty() {
            Vec::new()
        } else {
            dict.normalized_keys()
        };
        Some(StrColumn::Dictionary {
            array: dict,
            keys,
            values,
        })
    }

    /// The value at `row`, `None` when null.
    fn get(&self, row: usize) -> Option<&'a str> {
        match self {
            StrColumn::Utf8(a) => (!a.is_null(row)).then(|| a.value(row)),
            StrColumn::LargeUtf8(a) => (!a.is_null(row)).then(|| a.value(row)),
            StrColumn::View(a) => (!a.is_null(row)).then(|| a.value(row)),
            StrColumn::Dictionary {
                array,
                keys,
                values,
            } => {
                if array.is_null(row) {
                    return None;
                }
                values.get(*keys.get(row)?)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    use arrow_array::types::Int32Type;
    use arrow_array::{ArrayRef, DictionaryArray, Int64Array};
    use arrow_schema::Field;
    use parquet::arrow::ArrowWriter;
    use parquet::file::properties::WriterProperties;

    // -- helpers ------------------------------------------------------------------------------

    fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
        let path = dir.join(name);
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent).unwrap();
        }
        fs::write(&path, bytes).unwrap();
        path
    }

    /// Everything one `for_each_batch` call produced.
    struct Run {
        batches: Vec<Vec<Document>>,
        progress: Vec<ReadProgress>,
        stats: CorpusStats,
    }

    impl Run {
        /// (language, text) of every document, in order.
        fn docs(&self) -> Vec<(String, String)> {
            self.batches
                .iter()
                .flatten()
                .map(|d| (d.lang.to_string(), d.text.clone()))
                .collect()
        }
    }

    fn run(paths: &[PathBuf], options: CorpusOptions, batch_bytes: usize) -> Result<Run> {
        let corpus = Corpus::open(paths, options)?;
        let mut batches = Vec::new();
        let mut progress = Vec::new();
        let stats = corpus.for_each_batch(batch_bytes, &mut |p| progress.push(p), &mut |b| {
            batches.push(b);
            Ok(())
        })?;
        Ok(Run {
            batches,
            progress,
            stats,
        })
    }

    fn read(path: &Path, options: CorpusOptions) -> Result<Run> {
        run(&[path.to_path_buf()], options, 1 << 20)
    }

    fn pairs(items: &[(&str, &str)]) -> Vec<(String, String)> {
        items
            .iter()
            .map(|(l, t)| (l.to_string(), t.to_string()))
            .collect()
    }

    fn skipping_invalid() -> CorpusOptions {
        CorpusOptions {
            skip_invalid: true,
            ..Default::default()
        }
    }

    fn whole_files() -> CorpusOptions {
        CorpusOptions {
            doc_per_file: true,
            ..Default::default()
        }
    }

    fn write_parquet(path: &Path, columns: Vec<(&str, ArrayRef)>, row_group_rows: usize) {
        let fields: Vec<Field> = columns
            .iter()
            .map(|(name, a)| Field::new(*name, a.data_type().clone(), true))
            .collect();
        let schema = Arc::new(Schema::new(fields));
        let arrays = columns.into_iter().map(|(_, a)| a).collect();
        let batch = RecordBatch::try_new(schema.clone(), arrays).unwrap();
        let props = WriterProperties::builder()
            .set_max_row_group_size(row_group_rows)
            .build();
        let mut writer =
            ArrowWriter::try_new(File::create(path).unwrap(), schema, Some(props)).unwrap();
        writer.write(&batch).unwrap();
        writer.close().unwrap();
    }

    fn strings(values: &[Option<&str>]) -> ArrayRef {
        Arc::new(StringArray::from(values.to_vec()))
    }

    fn expect_invalid_utf8(result: Result<Run>) -> (PathBuf, u64, u64) {
        match result {
            Err(Error::InvalidUtf8 { path, offset, line }) => (path, offset, line),
            Err(other) => panic!("expected InvalidUtf8, got {other}"),
            Ok(_) => panic!("expected InvalidUtf8, got Ok"),
        }
    }

    fn expect_record(result: Result<Run>) -> (String, String) {
        match result {
            Err(Error::Record {
                location, message, ..
            }) => (location, message),
            Err(other) => panic!("expected Record, got {other}"),
            Ok(_) => panic!("expected Record, got Ok"),
        }
    }

    fn expect_parquet(result: Result<Run>) -> String {
        match result {
            Err(Error::Parquet { message, .. }) => message,
            Err(other) => panic!("expected Parquet error, got {other}"),
            Ok(_) => panic!("expected Parquet error, got Ok"),
        }
    }

    // -- plain text ---------------------------------------------------------------------------

    #[test]
    fn text_lines_strip_terminators_bom_and_empty_lines() {
        let dir = tempfile::tempdir().unwrap();
        let path = write(
            dir.path(),
            "fr.txt",
            b"\xEF\xBB\xBFfirst\r\nsecond\n\nmid\rdle\r\n\r\n  \nlast",
        );
        let run = read(&path, CorpusOptions::default()).unwrap();
        let expected = pairs(&[
            ("fr", "first"),
            ("fr", "second"),
            ("fr", "mid\rdle"),
            ("fr", "  "),
            ("fr", "last"),
        ]);
        assert_eq!(run.docs(), expected);
        let bytes = expected.iter().map(|(_, t)| t.len() as u64).sum();
        let stats = CorpusStats {
            files: 1,
            documents: 5,
            bytes,
            skipped_invalid: 0,
            skipped_empty: 2,
        };
        assert_eq!(run.stats, stats);
    }

    #[test]
    fn bom_is_only_stripped_at_file_start() {
        let dir = tempfile::tempdir().unwrap();
        let path = write(dir.path(), "en.txt", b"a\n\xEF\xBB\xBFb\n");
        assert_eq!(
            read(&path, CorpusOptions::default()).unwrap().docs(),
            pairs(&[("en", "a"), ("en", "\u{FEFF}b")])
        );
    }

    #[test]
    fn invalid_utf8_names_file_offset_and_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = write(dir.path(), "en.txt", b"ok\nbad \xff here\n");
        let err = read(&path, CorpusOptions::default()).err().unwrap();
        let expected = format!(
            "{}: invalid UTF-8 at byte offset 7 (line 2); pass --skip-invalid to skip such lines",
            path.display()
        );
        assert_eq!(err.to_string(), expected);
        assert_eq!(expect_invalid_utf8(Err(err)), (path, 7, 2));
    }

    #[test]
    fn invalid_utf8_offsets_count_bom_and_crlf() {
        let dir = tempfile::tempdir().unwrap();
        let bom = write(dir.path(), "bom.txt", b"\xEF\xBB\xBFab\xC3(\n");
        assert_eq!(
            expect_invalid_utf8(read(&bom, CorpusOptions::default())),
            (bom, 5, 1)
        );
        let crlf = write(dir.path(), "crlf.txt", b"a\r\nb\r\n\xe9t\xe9\r\n");
        assert_eq!(
            expect_invalid_utf8(read(&crlf, CorpusOptions::default())),
            (crlf, 6, 3)
        );
        let truncated = write(dir.path(), "cut.txt", b"x\n\xe2\x82");
        assert_eq!(
            expect_invalid_utf8(read(&truncated, CorpusOptions::default())),
            (truncated, 2, 2)
        );
    }

    #[test]
    fn skip_invalid_counts_lines() {
        let dir = tempfile::tempdir().unwrap();
        let path = write(dir.path(), "de.txt", b"one\n\xff\xfe\ntwo\nbad\xc3\n");
        let run = read(&path, skipping_invalid()).unwrap();
        assert_eq!(run.docs(), pairs(&[("de", "one"), ("de", "two")]));
        assert_eq!((run.stats.documents, run.stats.skipped_invalid), (2, 2));
    }

    #[test]
    fn doc_per_file_keeps_the_whole_text() {
        let dir = tempfile::tempdir().unwrap();
        let a = write(dir.path(), "a.txt", b"\xEF\xBB\xBFline one\r\nline two\n\n");
        let empty = write(dir.path(), "b.txt", b"");
        let run = run(&[a, empty], whole_files(), 1).unwrap();
        assert_eq!(run.docs(), pairs(&[("a", "line one\r\nline two\n\n")]));
        assert_eq!((run.stats.files, run.stats.skipped_empty), (2, 1));
    }

    #[test]
    fn doc_per_file_invalid_utf8() {
        let dir = tempfile::tempdir().unwrap();
        let bad = write(dir.path(), "bad.txt", b"\xEF\xBB\xBFx\ny\nz\xff");
        assert_eq!(
            expect_invalid_utf8(read(&bad, whole_files())),
            (bad.clone(), 8, 3)
        );
        let good = write(dir.path(), "good.txt", b"fine");
        let options = CorpusOptions {
            skip_invalid: true,
            ..whole_files()
        };
        let run = run(&[bad, good], options, 1).unwrap();
        assert_eq!(run.docs(), pairs(&[("good", "fine")]));
        assert_eq!(run.stats.skipped_invalid, 1);
    }

    // -- resolving paths ----------------------------------------------------------------------

    #[test]
    fn directory_walk_is_sorted_bytewise_and_skips_hidden() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("data");
        for name in [
            "b.txt",
            "a/b.txt",
            "a-c.txt",
            "a/deep/z.jsonl",
            "x.ndjson",
            "y.text",
            "d.PARQUET",
            ".hidden.txt",
            ".git/x.txt",
            "notes.md",
            "a/.cache/c.txt",
        ] {
            write(&root, name, b"x\n");
        }
        let corpus = Corpus::open(std::slice::from_ref(&root), CorpusOptions::default()).unwrap();
        let found: Vec<(PathBuf, InputKind)> =
            corpus.files().map(|(p, k)| (p.to_path_buf(), k)).collect();
        let expected: Vec<(PathBuf, InputKind)> = [
            ("a-c.txt", InputKind::Text),
            ("a/b.txt", InputKind::Text),
            ("a/deep/z.jsonl", InputKind::Jsonl),
            ("b.txt", InputKind::Text),
            ("d.PARQUET", InputKind::Parquet),
            ("x.ndjson", InputKind::Jsonl),
            ("y.text", InputKind::Text),
        ]
        .iter()
        .map(|(name, kind)| (root.join(name), *kind))
        .collect();
        assert_eq!(found, expected);
        assert_eq!(corpus.total_bytes(), 14);
        assert_eq!(corpus.inputs().len(), 7);
    }

    #[test]
    fn explicit_files_keep_their_order_and_any_extension() {
        let dir = tempfile::tempdir().unwrap();
        let b = write(dir.path(), "b.md", b"x\n");
        let a = write(dir.path(), "a.jsonl", b"{\"text\":\"y\"}\n");
        let corpus = Corpus::open(&[b.clone(), a.clone()], CorpusOptions::default()).unwrap();
        let found: Vec<(&Path, InputKind)> = corpus.files().collect();
        assert_eq!(
            found,
            vec![
                (b.as_path(), InputKind::Text),
                (a.as_path(), InputKind::Jsonl)
            ]
        );
    }

    #[test]
    fn missing_path_and_empty_directory() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("nope.txt");
        match Corpus::open(std::slice::from_ref(&missing), CorpusOptions::default()) {
            Err(Error::Io { path, .. }) => assert_eq!(path, missing),
            other => panic!("expected Io, got {:?}", other.map(|c| c.total_bytes())),
        }
        write(dir.path(), "only/.hidden.txt", b"x\n");
        write(dir.path(), "only/readme.md", b"x\n");
        let only = dir.path().join("only");
        match Corpus::open(std::slice::from_ref(&only), CorpusOptions::default()) {
            Err(Error::EmptyCorpus(message)) => {
                assert!(message.contains(&only.display().to_string()), "{message}")
            }
            other => panic!(
                "expected EmptyCorpus, got {:?}",
                other.map(|c| c.total_bytes())
            ),
        }
        assert!(matches!(
            Corpus::open(&[], CorpusOptions::default()),
            Err(Error::EmptyCorpus(_))
        ));
    }

    // -- languages ----------------------------------------------------------------------------

    #[test]
    fn language_from_stem_and_lang_map() {
        let mut options = CorpusOptions::default();
        assert_eq!(
            language_for_file(Path::new("corpus/fr.txt"), &options),
            "fr"
        );
        assert_eq!(
            language_for_file(Path::new("de_part1.jsonl"), &options),
            "de_part1"
        );
        options.lang_map.insert("de_part1".into(), "de".into());
        options.lang_map.insert("x.txt".into(), "by-name".into());
        options.lang_map.insert("x".into(), "by-stem".into());
        options.lang_map.insert("a/x.txt".into(), "by-path".into());
        assert_eq!(
            language_for_file(Path::new("de_part1.jsonl"), &options),
            "de"
        );
        assert_eq!(language_for_file(Path::new("b/x.txt"), &options), "by-name");
        assert_eq!(language_for_file(Path::new("a/x.txt"), &options), "by-path");
        assert_eq!(language_for_file(Path::new("x.md"), &options), "by-stem");
    }

    #[test]
    fn lang_map_by_directory_and_unknown_keys() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("hist");
        write(&root, "a/x.txt", "Ich ſage\n".as_bytes());
        write(&root, "y.txt", "je ſuis\n".as_bytes());
        let mut options = CorpusOptions::default();
        options.lang_map.insert(format!("{}/", root.display()), "historical".into());
        options.lang_map.insert("y".into(), "fr-old".into());
        let run = read(&root, options).unwrap();
        assert_eq!(
            run.docs(),
            pairs(&[("historical", "Ich ſage"), ("fr-old", "je ſuis")])
        );

        let mut typo = CorpusOptions::default();
        typo.lang_map.insert("yy.txt".into(), "frr".into());
        let err = Corpus::open(std::slice::from_ref(&root), typo).err().unwrap().to_string();
        assert!(err.contains("\"yy.txt\"") && err.contains("\"frr\"") && err.contains("no input file"), "{err}");
    }

    #[test]
    fn lang_map_applies_when_reading() {
        let dir = tempfile::tempdir().unwrap();
        let path = write(dir.path(), "part-0001.txt", b"Dzien dobry\n");
        let mut options = CorpusOptions::default();
        options.lang_map.insert("part-0001".into(), "pl".into());
        assert_eq!(
            read(&path, options).unwrap().docs(),
            pairs(&[("pl", "Dzien dobry")])
        );
    }

    // -- JSONL --------------------------------------------------------------------------------

    #[test]
    fn jsonl_language_field_and_fallbacks() {
        let dir = tempfile::tempdir().unwrap();
        let lines = [
            r#"{"text": "Bonjour", "language": "fr"}"#,
            "",
            r#"{"language": " de ", "extra": {"nested": [1, {"text": 2}]}, "text": "Hallo"}"#,
            r#"{"text": "no lang"}"#,
            r#"{"text": "null lang", "language": null}"#,
            r#"{"text": "blank lang", "language": "  "}"#,
            r#"{"text": null}"#,
            " \t ",
            r#"{"text": ""}"#,
            "{\"text\": \"crlf \\u00e9\\n\"}\r",
        ];
        let path = write(dir.path(), "en.jsonl", lines.join("\n").as_bytes());
        let run = read(&path, CorpusOptions::default()).unwrap();
        let expected = [
            ("fr", "Bonjour"),
            ("de", "Hallo"),
            ("en", "no lang"),
            ("en", "null lang"),
            ("en", "blank lang"),
            ("en", "crlf é\n"),
        ];
        assert_eq!(run.docs(), pairs(&expected));
        assert_eq!((run.stats.documents, run.stats.skipped_empty), (6, 4));
    }

    #[test]
    fn jsonl_custom_field_names() {
        let dir = tempfile::tempdir().unwrap();
        let path = write(
            dir.path(),
            "x.ndjson",
            br#"{"content": "tekst", "lang": "pl", "text": 5, "language": 1}"#,
        );
        let options = CorpusOptions {
            text_field: "content".into(),
            lang_field: "lang".into(),
            ..Default::default()
        };
        assert_eq!(
            read(&path, options).unwrap().docs(),
            pairs(&[("pl", "tekst")])
        );
    }

    #[test]
    fn jsonl_bad_records_name_the_line_and_field() {
        let cases = [
            (
                r#"{"text": "b""#,
                "invalid JSON: EOF while parsing an object (column 12)",
            ),
            (r#"{"body": "x"}"#, "missing field `text`"),
            (
                r#"{"text": 5}"#,
                "field `text` must be a string (found a number)",
            ),
            (
                r#"{"text": ["a"]}"#,
                "field `text` must be a string (found an array)",
            ),
            (
                r#"{"text": "a", "language": 3}"#,
                "field `language` must be a string or null (found a number)",
            ),
            (r#"["a"]"#, "invalid type: sequence, expected a JSON object"),
            (
                r#"{"text": "a"} x"#,
                "invalid JSON: trailing characters (column 15)",
            ),
            ("hello", "invalid JSON: expected value (column 1)"),
        ];
        let dir = tempfile::tempdir().unwrap();
        for (bad, message) in cases {
            let content = format!("{{\"text\": \"fine\"}}\n\n{bad}\n");
            let path = write(dir.path(), "fr.jsonl", content.as_bytes());
            let result = read(&path, CorpusOptions::default());
            let err_text = result
                .as_ref()
                .err()
                .map(|e| e.to_string())
                .unwrap_or_default();
            assert_eq!(err_text, format!("{}: line 3: {message}", path.display()));
            assert_eq!(
                expect_record(result),
                ("line 3".to_owned(), message.to_owned())
            );
        }
    }

    #[test]
    fn jsonl_invalid_utf8_fails_or_is_skipped() {
        let dir = tempfile::tempdir().unwrap();
        let path = write(
            dir.path(),
            "it.jsonl",
            b"{\"text\": \"ok\"}\n{\"text\": \"\xff\"}\n{\"text\": \"ciao\"}\n",
        );
        assert_eq!(
            expect_invalid_utf8(read(&path, CorpusOptions::default())),
            (path.clone(), 25, 2)
        );
        let run = read(&path, skipping_invalid()).unwrap();
        assert_eq!(run.docs(), pairs(&[("it", "ok"), ("it", "ciao")]));
        assert_eq!(run.stats.skipped_invalid, 1);
    }

    // -- Parquet ------------------------------------------------------------------------------

    #[test]
    fn parquet_text_and_language_columns() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("mixed.parquet");
        let text = strings(&[
            Some("Bonjour"),
            None,
            Some("Hello"),
            Some("Hola"),
            Some(""),
            Some("Ciao"),
        ]);
        let lang = strings(&[
            Some("fr"),
            Some("fr"),
            None,
            Some(" "),
            Some("es"),
            Some(" it "),
        ]);
        let ids: ArrayRef = Arc::new(Int64Array::from(vec![1, 2, 3, 4, 5, 6]));
        write_parquet(
            &path,
            vec![("id", ids), ("text", text), ("language", lang)],
            1024,
        );
        let run = read(&path, CorpusOptions::default()).unwrap();
        let expected = [
            ("fr", "Bonjour"),
            ("mixed", "Hello"),
            ("mixed", "Hola"),
            ("it", "Ciao"),
        ];
        assert_eq!(run.docs(), pairs(&expected));
        assert_eq!((run.stats.documents, run.stats.skipped_empty), (4, 2));
    }

    #[test]
    fn parquet_large_and_dictionary_strings_over_many_batches() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("many.parquet");
        let texts: Vec<String> = (0..2500).map(|i| format!("document {i}")).collect();
        let text: ArrayRef = Arc::new(LargeStringArray::from(
            texts.iter().map(String::as_str).collect::<Vec<_>>(),
        ));
        let langs: DictionaryArray<Int32Type> =
            (0..2500).map(|i| ["fr", "de", "pl"][i % 3]).collect();
        write_parquet(
            &path,
            vec![("text", text), ("language", Arc::new(langs))],
            1000,
        );
        let run = run(std::slice::from_ref(&path), CorpusOptions::default(), 4096).unwrap();
        let docs = run.docs();
        assert_eq!(docs.len(), 2500);
        assert_eq!(docs[1], ("de".to_owned(), "document 1".to_owned()));
        assert_eq!(docs[2499], ("fr".to_owned(), "document 2499".to_owned()));
        assert_progress_is_monotonic(&run, fs::metadata(&path).unwrap().len());
        assert!(run.progress.len() > 3, "{:?}", run.progress);
    }

    #[test]
    fn parquet_string_view_column() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("nl.parquet");
        let text: ArrayRef = Arc::new(StringViewArray::from(vec![
            Some("een heel lang document van meer dan twaalf"),
            None,
            Some("kort"),
        ]));
        write_parquet(&path, vec![("text", text)], 1024);
        let run = read(&path, CorpusOptions::default()).unwrap();
        assert_eq!(
            run.docs(),
            pairs(&[
                ("nl", "een heel lang document van meer dan twaalf"),
                ("nl", "kort")
            ])
        );
    }

    #[test]
    fn parquet_without_text_column_or_with_wrong_type() {
        let dir = tempfile::tempdir().unwrap();
        let no_text = dir.path().join("no_text.parquet");
        let ids: ArrayRef = Arc::new(Int64Array::from(vec![1]));
        write_parquet(
            &no_text,
            vec![("id", ids.clone()), ("body", strings(&[Some("x")]))],
            1024,
        );
        let result = read(&no_text, CorpusOptions::default());
        let display = result
            .as_ref()
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert_eq!(
            display,
            format!(
                "{}: cannot read Parquet: no column `text` (columns: id, body)",
                no_text.display()
            )
        );
        assert_eq!(
            expect_parquet(result),
            "no column `text` (columns: id, body)"
        );

        let numeric = dir.path().join("numeric.parquet");
        write_parquet(&numeric, vec![("text", ids)], 1024);
        let message = expect_parquet(read(&numeric, CorpusOptions::default()));
        assert!(
            message.starts_with("column `text` has type Int64; expected a string column"),
            "{message}"
        );
    }

    #[test]
    fn parquet_garbage_and_truncated_files_are_errors() {
        let dir = tempfile::tempdir().unwrap();
        let garbage = write(
            dir.path(),
            "garbage.parquet",
            b"this is not a parquet file at all, only words",
        );
        assert!(!expect_parquet(read(&garbage, CorpusOptions::default())).is_empty());
        let empty = write(dir.path(), "empty.parquet", b"");
        assert!(!expect_parquet(read(&empty, CorpusOptions::default())).is_empty());

        let good = dir.path().join("good.parquet");
        write_parquet(
            &good,
            vec![("text", strings(&[Some("alpha"), Some("beta")]))],
            1024,
        );
        let bytes = fs::read(&good).unwrap();
        let truncated = write(dir.path(), "cut.parquet", &bytes[..bytes.len() / 2]);
        assert!(!expect_parquet(read(&truncated, CorpusOptions::default())).is_empty());
    }

    #[test]
    fn parquet_corrupted_pages_never_panic() {
        let dir = tempfile::tempdir().unwrap();
        let good = dir.path().join("good.parquet");
        let texts: Vec<String> = (0..300)
            .map(|i| format!("text number {i} with some words"))
            .collect();
        let text: ArrayRef = Arc::new(StringArray::from(
            texts.iter().map(String::as_str).collect::<Vec<_>>(),
        ));
        write_parquet(&good, vec![("text", text)], 100);
        let bytes = fs::read(&good).unwrap();
        for at in (4..bytes.len() - 8).step_by(97) {
            let mut damaged = bytes.clone();
            damaged[at] ^= 0x5a;
            let path = write(dir.path(), "damaged.parquet", &damaged);
            // Any outcome but a panic is acceptable: flipped text bytes may still decode.
            if let Err(e) = read(&path, CorpusOptions::default()) {
                assert!(matches!(e, Error::Parquet { .. }), "{e}");
            }
        }
    }

    // -- batching and progress ----------------------------------------------------------------

    fn assert_progress_is_monotonic(run: &Run, total: u64) {
        let done: Vec<u64> = run.progress.iter().map(|p| p.bytes_done).collect();
        assert!(done.windows(2).all(|w| w[0] <= w[1]), "{done:?}");
        let last = run.progress.last().copied().unwrap();
        assert_eq!(
            (last.bytes_done, last.bytes_total, last.documents),
            (total, total, run.stats.documents)
        );
    }

    #[test]
    fn batches_keep_order_and_size() {
        let dir = tempfile::tempdir().unwrap();
        let a = write(dir.path(), "a.txt", b"aaa1\naaa2\naaa3\naaa4\naaa5\n");
        let b = write(dir.path(), "b.txt", b"bbb1\nbbb2\n");
        let paths = [a, b];
        let sizes = |run: &Run| run.batches.iter().map(Vec::len).collect::<Vec<_>>();

        let ten = run(&paths, CorpusOptions::default(), 10).unwrap();
        assert_eq!(sizes(&ten), vec![3, 3, 1]);
        let texts: Vec<String> = ten.docs().into_iter().map(|(_, t)| t).collect();
        assert_eq!(
            texts,
            ["aaa1", "aaa2", "aaa3", "aaa4", "aaa5", "bbb1", "bbb2"]
        );
        assert_eq!(ten.progress.len(), 3);
        assert_eq!(ten.progress[0].bytes_done, 15);
        assert_eq!(ten.progress[1].bytes_done, 25 + 5);
        assert_progress_is_monotonic(&ten, 35);

        assert_eq!(
            sizes(&run(&paths, CorpusOptions::default(), 0).unwrap()),
            vec![1; 7]
        );
        assert_eq!(
            sizes(&run(&paths, CorpusOptions::default(), usize::MAX).unwrap()),
            vec![7]
        );
    }

    #[test]
    fn batch_error_stops_reading() {
        let dir = tempfile::tempdir().unwrap();
        let path = write(dir.path(), "a.txt", b"one\ntwo\nthree\n");
        let corpus = Corpus::open(&[path], CorpusOptions::default()).unwrap();
        let mut calls = 0;
        let result = corpus.for_each_batch(1, &mut |_| {}, &mut |_| {
            calls += 1;
            Err(Error::config("stop here"))
        });
        assert!(matches!(result, Err(Error::Config(ref m)) if m == "stop here"));
        assert_eq!(calls, 1);
    }

    #[test]
    fn input_without_documents_still_reports_progress() {
        let dir = tempfile::tempdir().unwrap();
        let path = write(dir.path(), "a.txt", b"\n\r\n\n");
        let run = read(&path, CorpusOptions::default()).unwrap();
        assert!(run.batches.is_empty());
        assert_eq!(run.stats.skipped_empty, 3);
        assert_progress_is_monotonic(&run, 4);
    }

    // -- the shared sample corpus -------------------------------------------------------------

    fn shared_dir() -> PathBuf {
        match std::env::var_os("POLYBPE_SHARED") {
            Some(dir) => PathBuf::from(dir),
            None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared"),
        }
    }

    #[test]
    fn shared_sample_jsonl_and_parquet_agree() {
        let corpus_dir = shared_dir().join("corpus");
        let jsonl = corpus_dir.join("sample.jsonl");
        let parquet = corpus_dir.join("sample.parquet");
        if !jsonl.is_file() || !parquet.is_file() {
            eprintln!(
                "skipping: {} or {} is absent",
                jsonl.display(),
                parquet.display()
            );
            return;
        }
        let from_jsonl = run(&[jsonl], CorpusOptions::default(), 1 << 20).unwrap();
        let from_parquet = run(&[parquet], CorpusOptions::default(), 1 << 20).unwrap();
        assert_eq!(from_jsonl.stats.documents, 503);
        assert_eq!(from_parquet.stats.documents, 503);
        assert_eq!(from_jsonl.stats.bytes, from_parquet.stats.bytes);
        let (a, b) = (from_jsonl.docs(), from_parquet.docs());
        for (i, (x, y)) in a.iter().zip(&b).enumerate() {
            assert!(x == y, "record {i} differs: {:?} vs {:?}", x.0, y.0);
        }
        assert!(
            a.iter().all(|(lang, _)| lang != "sample"),
            "every record carries a language"
        );
    }
}
