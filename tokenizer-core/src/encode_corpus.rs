//! Encoding a whole corpus into token shards: one flat array of ids and one of document offsets.
//!
//! This is what training frameworks read: the ids of every document, concatenated in corpus
//! order, as a `.npy` array of `uint16` when every id fits (vocabularies up to 65,536 tokens)
//! and `uint32` otherwise, plus a `uint64` array of `documents + 1` offsets, so document `i` is
//! `ids[offsets[i]..offsets[i + 1]]`. An end-of-document token, if asked for, ends every
//! document (and is counted inside its offsets).
//!
//! The corpus is read by [`Corpus::for_each_batch`] (text lines or files, JSONL, Parquet) on a
//! thread of its own, one batch ahead, and each batch is encoded in parallel on the current
//! rayon pool in runs of documents ([`crate::encode_batch::encode_runs_with`], short ones
//! together: [`Tokenizer::encode_texts_into`]), each copied once
//! into the shard; the output is in corpus order whatever the number of threads, so it is
//! byte-identical at any thread count. Files are streamed (memory stays bounded by a batch)
//! and appear only when complete.

use std::path::{Path, PathBuf};

use rayon::prelude::*;

use crate::corpus::{Corpus, CorpusStats, Documents, ReadProgress};
use crate::encode_batch::{encode_runs_with, EncodedRun, FailedText};
use crate::formats::npy::{self, Dtype, NpyWriter};
use crate::{AllowedSpecial, Disallowed, Error, Result, TokenId, Tokenizer};

/// Text read before a batch is encoded: enough to keep every core busy, small enough that a
/// batch's ids stay in memory briefly.
pub const DEFAULT_BATCH_BYTES: usize = 16 << 20;

/// How a corpus is encoded.
#[derive(Clone, Copy, Debug)]
pub struct EncodeOptions {
    /// Appended to every document (e.g. `<|endoftext|>`), if any.
    pub end_of_document: Option<TokenId>,
    /// Whether special-token text in documents becomes special ids (default: it is text).
    pub allowed: AllowedSpecial,
    /// Text per batch, see [`DEFAULT_BATCH_BYTES`].
    pub batch_bytes: usize,
}

impl Default for EncodeOptions {
    fn default() -> Self {
        EncodeOptions { end_of_document: None, allowed: AllowedSpecial::None, batch_bytes: DEFAULT_BATCH_BYTES }
    }
}

/// The element type of the ids array: `uint16` when every id of the tokenizer fits.
pub fn ids_dtype(tokenizer: &Tokenizer) -> Dtype {
    if tokenizer.vocab_size() <= 1 << 16 {
        Dtype::U16
    } else {
        Dtype::U32
    }
}

/// The two files of a shard written under `prefix`: `PREFIX.ids.npy` and `PREFIX.offsets.npy`.
pub fn shard_paths(prefix: &Path) -> (PathBuf, PathBuf) {
    let with = |suffix: &str| {
        let mut name = prefix.as_os_str().to_owned();
        name.push(suffix);
        PathBuf::from(name)
    };
    (with(".ids.npy"), with(".offsets.npy"))
}

/// What an encoding run produced.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct EncodeStats {
    /// Documents encoded (one offset each, after the leading 0).
    pub documents: u64,
    /// Ids written, end-of-document tokens included.
    pub tokens: u64,
    /// What the corpus reader read and skipped.
    pub corpus: CorpusStats,
}

/// A corpus encoded in memory: ids (in the element type of [`ids_dtype`], as in the files)
/// and offsets.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EncodedCorpus {
    pub ids: Ids,
    /// `documents + 1` offsets into `ids`, from 0.
    pub offsets: Vec<u64>,
}

impl EncodedCorpus {
    /// No documents yet, with ids of `dtype` (`uint16` or `uint32`).
    pub fn empty(dtype: Dtype) -> Self {
        let ids = if dtype == Dtype::U16 { Ids::U16(Vec::new()) } else { Ids::U32(Vec::new()) };
        EncodedCorpus { ids, offsets: vec![0] }
    }
}

/// Token ids stored as `u16` when the vocabulary fits (see [`ids_dtype`]), else `u32`.
///
/// Kept narrow as the batches arrive: encoding to `u32` and narrowing the whole array
/// afterwards was a serial pass over every id, and twice the memory, after the parallel work.
/// Measured with Python's `encode_files` on 11 files of 1 MB (GPT-2, 2 threads, 3 interleaved
/// runs of 20 calls): 50–60 → 47–52 ms per call, CPU (user and system) 79–90 → 70–78 ms.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Ids {
    U16(Vec<u16>),
    U32(Vec<u32>),
}

impl Ids {
    pub fn len(&self) -> usize {
        match self {
            Ids::U16(ids) => ids.len(),
            Ids::U32(ids) => ids.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The ids as `u32`.
    pub fn to_vec(&self) -> Vec<TokenId> {
        match self {
            Ids::U16(ids) => ids.iter().map(|&id| TokenId::from(id)).collect(),
            Ids::U32(ids) => ids.clone(),
        }
    }

    /// Appends ids, which fit this type (the tokenizer chose it, see [`ids_dtype`]).
    pub fn extend_from(&mut self, ids: &[TokenId]) {
        match self {
            Ids::U16(out) => out.extend(ids.iter().map(|&id| narrow(id))),
            Ids::U32(out) => out.extend_from_slice(ids),
        }
    }

    /// Appends the ids of `runs` in order, as [`Self::extend_from`] does, copying them on
    /// every thread of the current pool: nothing else runs beside the copy of the last batch
    /// of the corpus encoder (all of a small corpus), which took 2% of its samples on one
    /// thread (OLMo-2, lines of 11 MB) and a larger part of its time on two. `encode_files`
    /// example, 2 threads, best of 10, 3 and 6 interleaved runs: lines 263–298 → 263–360 MB/s,
    /// whole files 311–409 → 348–418 (this machine's noise is of that size).
    fn extend_from_runs(&mut self, runs: &[EncodedRun]) {
        match self {
            Ids::U16(out) => copy_runs(out, runs, narrow),
            Ids::U32(out) => copy_runs(out, runs, |id| id),
        }
    }
}

/// An id of a `uint16` shard (every id fits: the tokenizer chose the type, see [`ids_dtype`]).
fn narrow(id: TokenId) -> u16 {
    debug_assert!(id <= u16::MAX.into(), "id {id} in a uint16 shard");
    id as u16
}

/// Where the ids of each encoded batch go (from a thread of the pool, beside the encoding of
/// the next batch).
trait ShardSink: Send {
    /// Appends encoded runs of documents, in order.
    fn append_runs(&mut self, runs: &[EncodedRun]) -> Result<()>;
}

impl ShardSink for EncodedCorpus {
    fn append_runs(&mut self, runs: &[EncodedRun]) -> Result<()> {
        self.ids.extend_from_runs(runs);
        self.offsets.reserve(runs.iter().map(|run| run.ends.len()).sum());
        let mut base = *self.offsets.last().expect("offsets start with 0");
        for run in runs {
            self.offsets.extend(run.ends.iter().map(|&end| base + end as u64));
            base += run.ids.len() as u64;
        }
        Ok(())
    }
}

/// Appends the ids of `runs` to `out`, each converted by `convert`, one run per task of the
/// current rayon pool.
fn copy_runs<T: Send>(out: &mut Vec<T>, runs: &[EncodedRun], convert: impl Fn(TokenId) -> T + Sync) {
    let total = runs.iter().map(|run| run.ids.len()).sum();
    out.reserve(total);
    let mut rest = &mut out.spare_capacity_mut()[..total];
    let mut parts = Vec::with_capacity(runs.len());
    for run in runs {
        let (part, after) = rest.split_at_mut(run.ids.len());
        parts.push(part);
        rest = after;
    }
    parts.into_par_iter().zip(runs).for_each(|(part, run)| {
        for (slot, &id) in part.iter_mut().zip(&run.ids) {
            slot.write(convert(id));
        }
    });
    let len = out.len() + total;
    // SAFETY: the `total` slots after the length were each written above (the parts cover
    // them exactly), within the capacity reserved.
    unsafe { out.set_len(len) };
}

/// Streams both arrays to their files.
struct NpyShard {
    ids: NpyWriter,
    offsets: NpyWriter,
}

impl ShardSink for NpyShard {
    fn append_runs(&mut self, runs: &[EncodedRun]) -> Result<()> {
        for run in runs {
            let base = self.ids.len();
            self.ids.extend(&run.ids)?;
            let offsets: Vec<u64> = run.ends.iter().map(|&end| base + end as u64).collect();
            self.offsets.extend(&offsets)?;
        }
        Ok(())
    }
}

/// Checks that the end-of-document token is a token of `tokenizer`.
fn check_options(tokenizer: &Tokenizer, options: &EncodeOptions) -> Result<()> {
    if let Some(id) = options.end_of_document {
        if tokenizer.id_to_bytes(id).is_none() {
            return Err(Error::config(format!(
                "end-of-document id {id} is not a token of this tokenizer (vocabulary size {})",
                tokenizer.vocab_size()
            )));
        }
    }
    Ok(())
}

/// Encodes every document of `corpus` into memory.
pub fn encode_corpus(
    tokenizer: &Tokenizer,
    corpus: &Corpus,
    options: &EncodeOptions,
    on_progress: &mut dyn FnMut(ReadProgress),
) -> Result<(EncodedCorpus, EncodeStats)> {
    check_options(tokenizer, options)?;
    let mut out = EncodedCorpus::empty(ids_dtype(tokenizer));
    let stats = run(tokenizer, corpus, options, on_progress, &mut out)?;
    Ok((out, stats))
}

/// Encodes every document of `corpus` into the shard files under `prefix` (see [`shard_paths`]),
/// each written atomically: on an error neither file is created or changed.
pub fn encode_corpus_to_files(
    tokenizer: &Tokenizer,
    corpus: &Corpus,
    options: &EncodeOptions,
    prefix: &Path,
    on_progress: &mut dyn FnMut(ReadProgress),
) -> Result<EncodeStats> {
    check_options(tokenizer, options)?;
    let (ids_path, offsets_path) = shard_paths(prefix);
    let mut shard = NpyShard {
        ids: NpyWriter::create(&ids_path, ids_dtype(tokenizer))?,
        offsets: NpyWriter::create(&offsets_path, Dtype::U64)?,
    };
    shard.offsets.extend(&[0u64])?;
    let stats = run(tokenizer, corpus, options, on_progress, &mut shard)?;
    shard.ids.finish()?;
    shard.offsets.finish()?;
    Ok(stats)
}

/// Reads the corpus on a thread of its own, ahead of the current rayon pool encoding the batch
/// before ([`Corpus::for_each_batch_read_ahead`]); hands each encoded batch to `sink` in corpus
/// order.
fn run(
    tokenizer: &Tokenizer,
    corpus: &Corpus,
    options: &EncodeOptions,
    on_progress: &mut dyn FnMut(ReadProgress),
    sink: &mut dyn ShardSink,
) -> Result<EncodeStats> {
    let mut encoder = BatchEncoder { tokenizer, options, documents: 0, tokens: 0, encoded: Vec::new() };
    let read = corpus.for_each_batch_read_ahead(options.batch_bytes, on_progress, &mut |batch| encoder.encode(batch, sink))?;
    sink.append_runs(&std::mem::take(&mut encoder.encoded))?;
    Ok(EncodeStats { documents: encoder.documents, tokens: encoder.tokens, corpus: read })
}

/// Encodes batches in parallel and keeps the running counts.
struct BatchEncoder<'a> {
    tokenizer: &'a Tokenizer,
    options: &'a EncodeOptions,
    documents: u64,
    tokens: u64,
    /// The last batch encoded, not yet handed to the sink.
    encoded: Vec<EncodedRun>,
}

impl BatchEncoder<'_> {
    /// Encodes `batch` while the batch before goes to `sink`, so the pool is not idle during
    /// that serial copy (writing the shard files, or narrowing the ids into memory).
    fn encode(&mut self, batch: &Documents, sink: &mut dyn ShardSink) -> Result<()> {
        let (tokenizer, options) = (self.tokenizer, self.options);
        let allowed = options.allowed == AllowedSpecial::All;
        let texts: Vec<&str> = batch.texts().collect();
        let before = std::mem::take(&mut self.encoded);
        let (runs, appended) = rayon::join(
            || {
                encode_runs_with(&texts, |run: &[&str], ids: &mut Vec<TokenId>, ends: &mut Vec<usize>| {
                    tokenizer.encode_texts_into(run, |_| allowed, Disallowed::AsText, options.end_of_document, ids, ends)
                })
            },
            || sink.append_runs(&before),
        );
        appended?;
        let runs = runs.map_err(|failed: FailedText<Error>| {
            Error::config(format!("document {}: {}", self.documents + failed.index as u64 + 1, failed.error))
        })?;
        self.documents += texts.len() as u64;
        self.tokens += runs.iter().map(|run| run.ids.len() as u64).sum::<u64>();
        self.encoded = runs;
        Ok(())
    }
}

/// Reads a shard written by [`encode_corpus_to_files`] back (for checks and tests): the ids
/// in their file's type, and the offsets; a pair of files that do not fit together, or ids of
/// another type than `uint16` and `uint32`, are an error.
pub fn read_shard(prefix: &Path) -> Result<EncodedCorpus> {
    let (ids_path, offsets_path) = shard_paths(prefix);
    let (ids_type, ids) = npy::read(&ids_path)?;
    let (dtype, offsets) = npy::read(&offsets_path)?;
    if dtype != Dtype::U64 || offsets.first() != Some(&0) || offsets.windows(2).any(|w| w[0] > w[1]) {
        return Err(Error::format(&offsets_path, "not offsets: uint64, from 0, never decreasing"));
    }
    if offsets.last() != Some(&(ids.len() as u64)) {
        return Err(Error::format(&offsets_path, format!("the last offset is not the number of ids ({})", ids.len())));
    }
    let ids = match ids_type {
        Dtype::U16 => Ids::U16(ids.into_iter().map(|id| id as u16).collect()),
        Dtype::U32 => Ids::U32(ids.into_iter().map(|id| id as u32).collect()),
        other => return Err(Error::format(&ids_path, format!("not token ids: {} (expected uint16 or uint32)", other.descr()))),
    };
    Ok(EncodedCorpus { ids, offsets })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::corpus::CorpusOptions;
    use crate::formats::hf;

    fn shared() -> Option<PathBuf> {
        let dir = std::env::var_os("POLYBPE_SHARED")
            .map(PathBuf::from)
            .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared"));
        dir.join("tokenizers").is_dir().then_some(dir)
    }

    fn corpus(dir: &Path, files: &[(&str, &str)], options: CorpusOptions) -> Corpus {
        let paths: Vec<PathBuf> = files
            .iter()
            .map(|(name, text)| {
                let path = dir.join(name);
                std::fs::write(&path, text).unwrap();
                path
            })
            .collect();
        Corpus::open(&paths, options).unwrap()
    }

    fn per_document(tok: &Tokenizer, docs: &[&str], eod: Option<TokenId>) -> EncodedCorpus {
        let mut out = EncodedCorpus::empty(ids_dtype(tok));
        for doc in docs {
            out.ids.extend_from(&tok.encode(doc, AllowedSpecial::None).unwrap());
            out.ids.extend_from(eod.as_slice());
            out.offsets.push(out.ids.len() as u64);
        }
        out
    }

    #[test]
    fn shards_equal_per_document_encoding_at_any_thread_count() {
        let Some(shared) = shared() else { return };
        let tok = hf::load(&shared.join("tokenizers/gpt2/gpt2.json")).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let lines = ["Le château d'Ørsted, 1789 — ſouvent!", "second line", "  indented  <|endoftext|> code();"];
        let text = format!("{}\n\n{}\r\n{}\n", lines[0], lines[1], lines[2]);
        let corpus = corpus(dir.path(), &[("a.txt", &text), ("b.txt", "b\n")], CorpusOptions::default());
        let eod = tok.token_to_id("<|endoftext|>");
        let expected = per_document(&tok, &[lines[0], lines[1], lines[2], "b"], eod);
        let options = EncodeOptions { end_of_document: eod, batch_bytes: 20, ..EncodeOptions::default() };
        let mut written = Vec::new();
        for threads in [1, 2, 3] {
            let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
            let (memory, stats) = pool.install(|| encode_corpus(&tok, &corpus, &options, &mut |_| {})).unwrap();
            assert_eq!(memory, expected);
            assert_eq!((stats.documents, stats.tokens), (4, expected.ids.len() as u64));
            let prefix = dir.path().join(format!("out{threads}"));
            pool.install(|| encode_corpus_to_files(&tok, &corpus, &options, &prefix, &mut |_| {})).unwrap();
            assert_eq!(read_shard(&prefix).unwrap(), expected);
            let (ids, offsets) = shard_paths(&prefix);
            assert_eq!(npy::read(&ids).unwrap().0, Dtype::U16, "GPT-2's 50,257 ids fit uint16");
            written.push((std::fs::read(ids).unwrap(), std::fs::read(offsets).unwrap()));
        }
        assert!(written.windows(2).all(|w| w[0] == w[1]), "byte-identical files at 1, 2 and 3 threads");
    }

    #[test]
    fn large_vocabularies_write_uint32_and_bad_eod_is_refused() {
        let Some(shared) = shared() else { return };
        let tok = hf::load(&shared.join("tokenizers/olmo-dolma2/allenai_dolma2.json")).unwrap();
        assert_eq!(ids_dtype(&tok), Dtype::U32);
        let dir = tempfile::tempdir().unwrap();
        let corpus = corpus(dir.path(), &[("x.jsonl", "{\"text\": \"one\"}\n{\"text\": \"two three\"}\n")], CorpusOptions::default());
        let prefix = dir.path().join("shard");
        encode_corpus_to_files(&tok, &corpus, &EncodeOptions::default(), &prefix, &mut |_| {}).unwrap();
        assert_eq!(read_shard(&prefix).unwrap(), per_document(&tok, &["one", "two three"], None));
        assert_eq!(npy::read(&shard_paths(&prefix).0).unwrap().0, Dtype::U32);

        let bad = EncodeOptions { end_of_document: Some(10_000_000), ..EncodeOptions::default() };
        let err = encode_corpus_to_files(&tok, &corpus, &bad, &dir.path().join("bad"), &mut |_| {}).unwrap_err();
        assert!(err.to_string().contains("10000000"), "{err}");
    }

    #[test]
    fn a_bad_record_leaves_no_files() {
        let Some(shared) = shared() else { return };
        let tok = hf::load(&shared.join("tokenizers/gpt2/gpt2.json")).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let corpus = corpus(dir.path(), &[("x.jsonl", "{\"text\": \"one\"}\n{\"text\": 3}\n")], CorpusOptions::default());
        let prefix = dir.path().join("shard");
        let err = encode_corpus_to_files(&tok, &corpus, &EncodeOptions::default(), &prefix, &mut |_| {}).unwrap_err();
        assert!(err.to_string().contains("x.jsonl") && err.to_string().contains("line 2"), "{err}");
        let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(left, vec![std::ffi::OsString::from("x.jsonl")]);
    }
}
