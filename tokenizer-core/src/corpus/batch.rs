//! Grouping documents into batches, with the counters and progress of one read.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use super::{CorpusOptions, CorpusStats, ReadProgress};
use crate::error::Result;

/// One document of a batch and its language tag.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Document<'a> {
    /// Language code, e.g. `fr`, used by per-language counting and balancing.
    pub lang: &'a Arc<str>,
    /// The document's text (never empty when read from a corpus).
    pub text: &'a str,
}

/// A batch of documents: their texts one after the other in one buffer, with where each ends
/// and its language.
///
/// One buffer, not a `String` per document, so reading allocates nothing per line (and a
/// batch handed back is refilled in place): with a `String` and a shared tag per line,
/// allocating and freeing them was a tenth of `encode_files`'s work on 11 MB of lines, and
/// all of it before the first batch could be encoded.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Documents {
    text: String,
    /// End of each document in `text`.
    ends: Vec<usize>,
    /// Language of each document, an index into `tags`.
    langs: Vec<u32>,
    /// The distinct languages of the batch (a corpus has few).
    tags: Vec<Arc<str>>,
}

impl Documents {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a document at the end.
    pub fn push(&mut self, lang: &Arc<str>, text: &str) {
        let tag = match self.langs.last() {
            Some(&last) if Arc::ptr_eq(&self.tags[last as usize], lang) => last,
            _ => self.tag(lang, || lang.clone()),
        };
        self.push_tagged(tag, text);
    }

    /// The index in `tags` of language `lang`, added (as `new()`) if the batch has none yet.
    fn tag(&mut self, lang: &str, new: impl FnOnce() -> Arc<str>) -> u32 {
        let i = self.tags.iter().position(|tag| **tag == *lang).unwrap_or_else(|| {
            self.tags.push(new());
            self.tags.len() - 1
        });
        i as u32
    }

    fn push_tagged(&mut self, tag: u32, text: &str) {
        self.text.push_str(text);
        self.ends.push(self.text.len());
        self.langs.push(tag);
    }

    /// The number of documents.
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// Bytes of text, all documents together.
    pub fn text_bytes(&self) -> usize {
        self.text.len()
    }

    /// Document `i` (panics past the end, as slice indexing does).
    pub fn get(&self, i: usize) -> Document<'_> {
        let start = if i == 0 { 0 } else { self.ends[i - 1] };
        Document { lang: &self.tags[self.langs[i] as usize], text: &self.text[start..self.ends[i]] }
    }

    /// The documents in order.
    pub fn iter(&self) -> DocumentIter<'_> {
        self.into_iter()
    }

    /// The texts in order.
    pub fn texts(&self) -> impl ExactSizeIterator<Item = &str> + Clone + '_ {
        self.iter().map(|doc| doc.text)
    }

    /// Makes room for `bytes` more bytes of text.
    pub fn reserve(&mut self, bytes: usize) {
        self.text.reserve(bytes);
    }

    /// Removes every document, keeping the memory for the next batch.
    pub fn clear(&mut self) {
        self.text.clear();
        self.ends.clear();
        self.langs.clear();
        self.tags.clear();
    }
}

impl<'a> IntoIterator for &'a Documents {
    type Item = Document<'a>;
    type IntoIter = DocumentIter<'a>;

    fn into_iter(self) -> DocumentIter<'a> {
        DocumentIter { docs: self, range: 0..self.len() }
    }
}

/// The documents of a batch in order ([`Documents::iter`]).
#[derive(Clone, Debug)]
pub struct DocumentIter<'a> {
    docs: &'a Documents,
    range: std::ops::Range<usize>,
}

impl<'a> Iterator for DocumentIter<'a> {
    type Item = Document<'a>;

    fn next(&mut self) -> Option<Document<'a>> {
        self.range.next().map(|i| self.docs.get(i))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.range.size_hint()
    }
}

impl ExactSizeIterator for DocumentIter<'_> {}

/// Documents from (language, text) pairs, for small inputs and tests.
impl<L: AsRef<str>, T: AsRef<str>> FromIterator<(L, T)> for Documents {
    fn from_iter<I: IntoIterator<Item = (L, T)>>(pairs: I) -> Self {
        let mut docs = Documents::new();
        for (lang, text) in pairs {
            let tag = docs.tag(lang.as_ref(), || Arc::from(lang.as_ref()));
            docs.push_tagged(tag, text.as_ref());
        }
        docs
    }
}

/// Which documents are taken: `keep_languages` and `max_bytes_per_lang` of the options.
struct Selection {
    /// Lower-case label → tag; empty: every label is its own tag.
    keep: HashMap<String, Arc<str>>,
    budget: Option<u64>,
    /// Bytes taken per tag.
    taken: HashMap<Arc<str>, u64>,
    /// Tags whose budget is spent (the next document did not fit).
    full: HashSet<Arc<str>>,
    /// Distinct tags of `keep`: once all are full, nothing more can be taken.
    kept_tags: usize,
}

impl Selection {
    fn new(options: &CorpusOptions) -> Selection {
        let mut keep = HashMap::new();
        for (tag, labels) in &options.keep_languages {
            let tag: Arc<str> = Arc::from(tag.as_str());
            for label in labels {
                keep.insert(label.trim().to_lowercase(), tag.clone());
            }
        }
        Selection {
            keep,
            budget: options.max_bytes_per_lang,
            taken: HashMap::new(),
            full: HashSet::new(),
            kept_tags: options.keep_languages.len(),
        }
    }

    /// The tag a document of `label` and `len` bytes is taken under (`None`: the label
    /// itself), or why it is dropped.
    fn admit(&mut self, label: &Arc<str>, len: u64) -> Result<Option<Arc<str>>, Dropped> {
        let renamed = if self.keep.is_empty() {
            None
        } else {
            Some(self.keep.get(&label.to_lowercase()).cloned().ok_or(Dropped::Language)?)
        };
        let Some(budget) = self.budget else { return Ok(renamed) };
        let tag = renamed.as_ref().unwrap_or(label);
        if self.full.contains(tag) {
            return Err(Dropped::Budget);
        }
        let taken = self.taken.entry(tag.clone()).or_default();
        if *taken + len > budget {
            self.full.insert(tag.clone());
            return Err(Dropped::Budget);
        }
        *taken += len;
        Ok(renamed)
    }

    /// Whether a document labelled `label` could still be taken.
    #[cfg(feature = "hub")]
    fn wants_label(&self, label: &str) -> bool {
        let tag = if self.keep.is_empty() { Some(label.to_string()) } else { self.keep.get(&label.to_lowercase()).map(|t| t.to_string()) };
        tag.is_some_and(|tag| !self.full.contains(tag.as_str()))
    }

    /// False once every kept language is full (only known when `keep_languages` is set).
    fn wants_more(&self) -> bool {
        self.budget.is_none() || self.kept_tags == 0 || self.full.len() < self.kept_tags
    }
}

enum Dropped {
    Language,
    Budget,
}

/// Room past `batch_bytes` reserved for the document that fills a batch.
const BATCH_SLACK: usize = 64 << 10;
/// The most text reserved for a batch before it is read (a hint: a batch may grow past it).
const MAX_BATCH_RESERVE: usize = 256 << 20;

/// Collects documents into batches and keeps the counters of one `for_each_batch` call.
pub(super) struct Sink<'a> {
    batch_bytes: usize,
    /// Text reserved for each batch up front, so a batch's buffer is not copied as it grows.
    batch_reserve: usize,
    batch: Documents,
    stats: CorpusStats,
    bytes_total: u64,
    finished_files_bytes: u64,
    file_size: u64,
    file_pos: u64,
    last_reported: Option<u64>,
    langs: HashSet<Arc<str>>,
    selection: Selection,
    on_progress: &'a mut dyn FnMut(ReadProgress),
    on_batch: &'a mut dyn FnMut(&mut Documents) -> Result<()>,
}

impl<'a> Sink<'a> {
    pub(super) fn new(
        batch_bytes: usize,
        bytes_total: u64,
        options: &CorpusOptions,
        on_progress: &'a mut dyn FnMut(ReadProgress),
        on_batch: &'a mut dyn FnMut(&mut Documents) -> Result<()>,
    ) -> Self {
        let batch_reserve = batch_bytes.saturating_add(BATCH_SLACK).min(bytes_total as usize).min(MAX_BATCH_RESERVE);
        let mut batch = Documents::new();
        batch.reserve(batch_reserve);
        Sink {
            batch_bytes,
            batch_reserve,
            batch,
            stats: CorpusStats::default(),
            bytes_total,
            finished_files_bytes: 0,
            file_size: 0,
            file_pos: 0,
            last_reported: None,
            langs: HashSet::new(),
            selection: Selection::new(options),
            on_progress,
            on_batch,
        }
    }

    pub(super) fn start_file(&mut self, size: u64) {
        self.stats.files += 1;
        self.file_size = size;
        self.file_pos = 0;
    }

    pub(super) fn finish_file(&mut self) {
        self.finished_files_bytes += self.file_size;
        self.file_size = 0;
        self.file_pos = 0;
    }

    /// Size of the current file, the scale of its position.
    #[cfg(feature = "parquet")]
    pub(super) fn file_size(&self) -> u64 {
        self.file_size
    }

    /// Records how far into the current file the next document ends.
    pub(super) fn set_position(&mut self, pos: u64) {
        self.file_pos = pos.min(self.file_size);
    }

    /// One shared tag per distinct language, so documents do not each allocate one.
    pub(super) fn intern_lang(&mut self, lang: &str) -> Arc<str> {
        if let Some(tag) = self.langs.get(lang) {
            return tag.clone();
        }
        let tag: Arc<str> = Arc::from(lang);
        self.langs.insert(tag.clone());
        tag
    }

    pub(super) fn skip_empty(&mut self) {
        self.stats.skipped_empty += 1;
    }

    /// A record whose text is null (JSONL `null`, a Parquet null): skipped, and counted apart
    /// so a user can tell an empty column from empty texts.
    pub(super) fn skip_null(&mut self) {
        self.stats.skipped_null += 1;
    }

    pub(super) fn skip_invalid(&mut self) {
        self.stats.skipped_invalid += 1;
    }

    /// Whether more documents can still be taken (see [`CorpusOptions::max_bytes_per_lang`]).
    pub(super) fn wants_more(&self) -> bool {
        self.selection.wants_more()
    }

    /// Whether a document labelled `label` (before `keep_languages`) could still be taken: a
    /// reader may skip what it would only drop.
    #[cfg(feature = "hub")]
    pub(super) fn wants_label(&self, label: &str) -> bool {
        self.selection.wants_label(label)
    }

    /// Adds a copy of a document (an empty text is counted as skipped; one of a language not
    /// kept or past its budget is counted as dropped) and emits the batch once full.
    pub(super) fn push(&mut self, lang: &Arc<str>, text: &str) -> Result<()> {
        if text.is_empty() {
            self.skip_empty();
            return Ok(());
        }
        let renamed = match self.selection.admit(lang, text.len() as u64) {
            Ok(tag) => tag,
            Err(Dropped::Language) => {
                self.stats.skipped_language += 1;
                return Ok(());
            }
            Err(Dropped::Budget) => {
                self.stats.skipped_budget += 1;
                return Ok(());
            }
        };
        self.stats.documents += 1;
        self.stats.bytes += text.len() as u64;
        self.batch.push(renamed.as_ref().unwrap_or(lang), text);
        if self.batch.text_bytes() >= self.batch_bytes {
            self.flush()?;
        }
        Ok(())
    }

    fn flush(&mut self) -> Result<()> {
        if self.batch.is_empty() {
            return Ok(());
        }
        let handed = (self.on_batch)(&mut self.batch);
        self.batch.clear();
        self.batch.reserve(self.batch_reserve);
        handed?;
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

    pub(super) fn finish(mut self) -> Result<CorpusStats> {
        self.flush()?;
        if self.last_reported != Some(self.bytes_total) {
            self.report();
        }
        Ok(self.stats)
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::*;
    use super::super::{Corpus, CorpusOptions};
    use super::Documents;
    use crate::error::Error;

    #[test]
    fn documents_keep_texts_and_languages_in_order_and_refill_after_clear() {
        let pairs = [("fr", "un"), ("de", ""), ("fr", "deux ſ"), ("la", "tres"), ("de", "vier")];
        let mut docs: Documents = pairs.iter().copied().collect();
        let seen = |docs: &Documents| docs.iter().map(|d| (d.lang.to_string(), d.text.to_string())).collect::<Vec<_>>();
        assert_eq!(seen(&docs), pairs.map(|(l, t)| (l.to_string(), t.to_string())));
        assert_eq!((docs.len(), docs.text_bytes(), docs.texts().nth(2)), (5, 17, Some("deux ſ")));
        assert!(std::sync::Arc::ptr_eq(docs.get(0).lang, docs.get(2).lang), "one tag per language");
        docs.clear();
        assert!(docs.is_empty() && docs.iter().next().is_none());
        docs.push(&"es".into(), "dos");
        assert_eq!(seen(&docs), vec![("es".to_string(), "dos".to_string())]);
    }

    #[test]
    fn batches_keep_order_and_size() {
        let dir = tempfile::tempdir().unwrap();
        let a = write(dir.path(), "a.txt", b"aaa1\naaa2\naaa3\naaa4\naaa5\n");
        let b = write(dir.path(), "b.txt", b"bbb1\nbbb2\n");
        let paths = [a, b];
        let sizes = |run: &Run| run.batches.iter().map(Documents::len).collect::<Vec<_>>();

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
    fn kept_languages_are_renamed_and_stop_at_their_budget() {
        let dir = tempfile::tempdir().unwrap();
        let fr = write(dir.path(), "French.txt", b"aaaa\nbbbb\ncc\ndddd\n");
        let de = write(dir.path(), "German.txt", b"eeee\n");
        let es = write(dir.path(), "es.txt", b"ffff\n");
        let mut options = CorpusOptions { max_bytes_per_lang: Some(9), ..CorpusOptions::default() };
        options.keep_languages.insert("fr".into(), vec!["FRENCH".into()]);
        options.keep_languages.insert("de".into(), vec!["german".into(), "deu".into()]);
        let run = run(&[fr, de, es], options, 1).unwrap();
        // "cc" would pass the budget and closes French: "dddd" is dropped too.
        assert_eq!(run.docs(), pairs(&[("fr", "aaaa"), ("fr", "bbbb"), ("de", "eeee")]));
        assert_eq!((run.stats.skipped_budget, run.stats.skipped_language), (2, 1));
        // Both kept languages are not full, so the third file is read and its text dropped.
        assert_eq!(run.stats.files, 3);
    }

    #[test]
    fn reading_stops_once_every_kept_language_is_full() {
        let dir = tempfile::tempdir().unwrap();
        let a = write(dir.path(), "fr.txt", b"aaaa\nbbbb\n");
        let b = write(dir.path(), "more_fr.txt", b"cccc\n");
        let mut options = CorpusOptions { max_bytes_per_lang: Some(4), ..CorpusOptions::default() };
        options.keep_languages.insert("fr".into(), vec!["fr".into(), "more_fr".into()]);
        let run = run(&[a, b], options, 1).unwrap();
        assert_eq!(run.docs(), pairs(&[("fr", "aaaa")]));
        assert_eq!(run.stats.files, 1, "the second file is not opened");
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
}
