//! Word counting: documents → distinct pre-tokenized pieces with per-language counts.
//!
//! Counting is the part of training that grows with the corpus. It runs in parallel over
//! document batches: each worker counts its documents into its own table, then the running counts
//! absorb the workers' tables shard by shard, on all cores ([`table`]). The result is sorted by
//! word bytes, so it does not depend on thread count or hash order. Counts are `u64`: the
//! space-space pair of a code corpus passes `i32::MAX` (HF issue #2058).
//!
//! Workers' tables borrow their words from the batch's text, and the running counts keep theirs
//! in one arena per shard, so counting allocates per word only for text normalization changed.

mod table;

use std::borrow::Cow;
use std::sync::Arc;

use ahash::AHashMap;
use rayon::prelude::*;

use self::table::{BatchTable, CountShard, SHARDS};
use crate::corpus::Documents;
use crate::piece_cache::{pad_text, PieceKey, TAGGED_MAX};
use crate::table::SlotKey;
use crate::normalize::{NfkcFolds, Normalization};
use crate::pretokenize::PreTokenizer;
use crate::special::{Segment, SpecialScanner};
use crate::Result;

/// Index of a language in [`WordCounts::languages`].
pub type LangId = u16;

/// A distinct word and its non-zero counts by language (sorted by language).
pub type WordEntry = (Box<[u8]>, Vec<(LangId, u64)>);

/// Distinct words with their number of occurrences in each language.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct WordCounts {
    /// Language codes, in order of first appearance in the corpus.
    pub languages: Vec<String>,
    /// Words sorted by bytes, each with its non-zero counts by language (sorted by language).
    pub words: Vec<WordEntry>,
    /// Per language: documents, bytes of text (before normalization), word occurrences.
    pub per_language: Vec<LanguageTotals>,
}

/// Totals for one language.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LanguageTotals {
    pub documents: u64,
    pub bytes: u64,
    pub words: u64,
    /// Special-token strings cut out of this language's documents.
    pub specials_removed: u64,
}

/// Counts words of documents as they stream in.
pub struct WordCounter {
    normalization: Normalization,
    pre_tokenizer: PreTokenizer,
    specials: SpecialScanner,
    languages: Vec<Arc<str>>,
    lang_ids: AHashMap<Arc<str>, LangId>,
    /// Distinct words and their non-zero counts by language id, in [`SHARDS`] shards by hash.
    shards: Vec<CountShard>,
    totals: Vec<LanguageTotals>,
    /// Filled when normalization is NFKC: what it folds.
    nfkc_folds: Option<NfkcFolds>,
    /// Cap on distinct words (see [`WordCounter::with_max_words`]).
    max_words: Option<usize>,
    /// Word occurrences dropped by the cap.
    pruned_occurrences: u64,
}

/// A worker's partial counts for one batch.
#[derive(Default)]
struct Partial<'a> {
    words: BatchTable<'a>,
    totals: Vec<LanguageTotals>,
    folds: NfkcFolds,
    /// The pieces of the text being counted (kept to reuse its allocation).
    ranges: Vec<std::ops::Range<usize>>,
    /// The text being counted, padded for its keys (see `piece_cache::pad_text`).
    padded: Vec<u8>,
    /// The keys and hashes of a run of short words (the empty key for a longer word).
    keys: Vec<(PieceKey, u64)>,
}

/// Words whose table slots are prefetched before any of them is counted (as in the encoder).
const COUNT_RUN: usize = 64;

impl WordCounter {
    /// A counter with the tokenizer's normalizer and split, cutting out `special_tokens`.
    pub fn new<S: AsRef<str>>(normalization: Normalization, pre_tokenizer: PreTokenizer, special_tokens: &[S]) -> Self {
        WordCounter {
            normalization,
            pre_tokenizer,
            specials: SpecialScanner::new(special_tokens),
            languages: Vec::new(),
            lang_ids: AHashMap::new(),
            shards: (0..SHARDS).map(|_| CountShard::default()).collect(),
            totals: Vec::new(),
            nfkc_folds: (normalization == Normalization::Nfkc).then(NfkcFolds::default),
            max_words: None,
            pruned_occurrences: 0,
        }
    }

    /// Bounds memory by keeping at most `max_words` distinct words: whenever a batch leaves
    /// more than twice that many, and once more at the end, only the `max_words` most frequent
    /// (total count over languages; ties keep the smaller bytes) are kept. Batches are fixed by
    /// the input, not by threads, so the result is still deterministic; it is an approximation
    /// only for words near the cut (a word pruned early loses the counts it had so far).
    pub fn with_max_words(mut self, max_words: Option<usize>) -> Self {
        self.max_words = max_words.map(|m| m.max(1));
        self
    }

    /// The distinct-word cap, if any.
    pub fn max_words(&self) -> Option<usize> {
        self.max_words
    }

    /// Word occurrences dropped by the distinct-word cap so far.
    pub fn pruned_occurrences(&self) -> u64 {
        self.pruned_occurrences
    }

    /// Keeps the `keep` most frequent words (total count; ties keep the smaller bytes).
    fn prune(&mut self, keep: usize) {
        if self.distinct_words() <= keep {
            return;
        }
        // (total, word) orders distinct words strictly: the words ranked up to the `keep`-th
        // are exactly those at or above it.
        let last_kept: (u64, Box<[u8]>) = {
            let totals: Vec<Vec<(&[u8], u64)>> = self.shards.par_iter().map(CountShard::word_totals).collect();
            let mut ranked: Vec<(u64, &[u8])> = totals.iter().flatten().map(|&(word, total)| (total, word)).collect();
            ranked.par_sort_unstable_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.cmp(b.1)));
            let (total, word) = ranked[keep.max(1) - 1];
            (total, Box::from(word))
        };
        let (last_total, last_word) = (last_kept.0, &*last_kept.1);
        self.pruned_occurrences += self
            .shards
            .par_iter_mut()
            .map(|shard| shard.retain_words(|word, total| total > last_total || (total == last_total && word <= last_word)))
            .sum::<u64>();
    }

    fn lang_id(&mut self, lang: &Arc<str>) -> Result<LangId> {
        if let Some(&id) = self.lang_ids.get(lang) {
            return Ok(id);
        }
        let id = LangId::try_from(self.languages.len())
            .map_err(|_| crate::Error::config("more than 65,535 distinct languages in the corpus"))?;
        self.languages.push(lang.clone());
        self.lang_ids.insert(lang.clone(), id);
        self.totals.push(LanguageTotals::default());
        Ok(id)
    }

    /// Counts a batch of documents in parallel (on the current rayon pool).
    pub fn add_batch(&mut self, docs: &Documents) -> Result<()> {
        let mut tagged = Vec::with_capacity(docs.len());
        let mut last: Option<(&Arc<str>, LangId)> = None;
        for doc in docs {
            let lang = match last {
                Some((tag, id)) if Arc::ptr_eq(tag, doc.lang) => id,
                _ => self.lang_id(doc.lang)?,
            };
            last = Some((doc.lang, lang));
            tagged.push((lang, doc.text));
        }
        let n_langs = self.languages.len();
        let track_folds = self.nfkc_folds.is_some();
        let partials: Vec<Partial> = split_by_bytes(&tagged, TASKS_PER_THREAD * rayon::current_num_threads())
            .into_par_iter()
            .map(|run| {
                let mut partial = Partial::default();
                for &(lang, text) in run {
                    self.count_document(lang, text, n_langs, track_folds, &mut partial)?;
                }
                partial.words.seal();
                Ok(partial)
            })
            .collect::<Result<_>>()?;
        self.absorb(partials);
        Ok(())
    }

    /// Counts one document (a helper for small inputs and tests).
    pub fn add_document(&mut self, lang: &str, text: &str) -> Result<()> {
        self.add_batch(&Documents::from_iter([(lang, text)]))
    }

    fn count_document<'a>(&self, lang: LangId, text: &'a str, n_langs: usize, track_folds: bool, partial: &mut Partial<'a>) -> Result<()> {
        let l = lang as usize;
        if partial.totals.len() < n_langs {
            partial.totals.resize(n_langs, LanguageTotals::default());
        }
        partial.totals[l].documents += 1;
        partial.totals[l].bytes += text.len() as u64;
        let Partial { words, totals, folds, ranges, padded, keys } = partial;
        let mut failure = None;
        let mut specials_removed = 0;
        self.specials.segments(text, |segment| {
            let Segment::Text(segment) = segment else {
                specials_removed += 1;
                return;
            };
            if failure.is_some() {
                return;
            }
            if track_folds {
                folds.scan(segment);
            }
            let normalized = self.normalization.apply(segment);
            let prepared = self.pre_tokenizer.prepare(&normalized);
            ranges.clear();
            if let Err(e) = self.pre_tokenizer.split_ranges(&prepared, ranges) {
                failure = Some(e);
                return;
            }
            // Unchanged text (`prepare` borrows only when it returns its input) lends its words.
            let unchanged: Option<&'a str> = match (&normalized, &prepared) {
                (Cow::Borrowed(text), Cow::Borrowed(_)) => Some(text),
                _ => None,
            };
            cut_long_pieces(&prepared, ranges);
            totals[l].words += ranges.len() as u64;
            let bytes = prepared.as_bytes();
            pad_text(bytes, padded);
            for run in ranges.chunks(COUNT_RUN) {
                keys.clear();
                keys.extend(run.iter().map(|r| match r.len() {
                    len @ 1..=TAGGED_MAX => {
                        let key = PieceKey::in_padded(padded, r.start, len).tagged(lang);
                        let hash = key.hash64();
                        words.prefetch_short(hash);
                        (key, hash)
                    }
                    _ => (PieceKey::EMPTY, 0),
                }));
                for (range, &(key, hash)) in run.iter().zip(keys.iter()) {
                    if key != PieceKey::EMPTY {
                        words.add_short(key, hash);
                        continue;
                    }
                    let word = &bytes[range.clone()];
                    words.add(lang, word, || unchanged.map_or_else(|| Cow::Owned(word.to_vec()), |text| Cow::Borrowed(&text.as_bytes()[range.clone()])));
                }
            }
        });
        totals[l].specials_removed += specials_removed;
        failure.map_or(Ok(()), Err)
    }

    /// Adds the workers' counts of a batch: the shards in parallel, each taking its words from
    /// every worker.
    fn absorb(&mut self, partials: Vec<Partial>) {
        self.shards.par_iter_mut().enumerate().for_each(|(s, shard)| {
            for partial in &partials {
                partial.words.shard(s).for_each(|word| shard.absorb(word));
            }
        });
        for partial in partials {
            for (total, add) in self.totals.iter_mut().zip(&partial.totals) {
                add_totals(total, add);
            }
            if let Some(folds) = &mut self.nfkc_folds {
                folds.merge(partial.folds);
            }
        }
        if let Some(max) = self.max_words {
            if self.distinct_words() > max.saturating_mul(2) {
                self.prune(max);
            }
        }
    }

    /// Characters NFKC folded, when the normalizer is NFKC.
    pub fn nfkc_folds(&self) -> Option<&NfkcFolds> {
        self.nfkc_folds.as_ref()
    }

    /// Distinct words so far.
    pub fn distinct_words(&self) -> usize {
        self.shards.iter().map(CountShard::distinct_words).sum()
    }

    /// The final, sorted counts.
    pub fn finish(mut self) -> WordCounts {
        if let Some(max) = self.max_words {
            self.prune(max);
        }
        // Sorted by word, then language, on a copy of each word's first bytes beside it, so
        // most comparisons read no word: with the words' own order, their scattered loads made
        // this sort a fifth of counting's wall time. The languages of a word are then adjacent.
        let mut counts = Vec::with_capacity(self.shards.iter().map(CountShard::len).sum());
        let arenas: Vec<Vec<u8>> = self.shards.into_iter().zip(0..).map(|(shard, s)| shard.take_counts(s, &mut counts)).collect();
        let arenas = &arenas[..];
        counts.par_sort_unstable_by(|a, b| a.head.cmp(&b.head).then_with(|| a.word(arenas).cmp(b.word(arenas))).then(a.lang.cmp(&b.lang)));
        let words: Vec<WordEntry> = counts
            .par_chunk_by(|a, b| a.head == b.head && a.word(arenas) == b.word(arenas))
            .map(|languages| (Box::from(languages[0].word(arenas)), languages.iter().map(|c| (c.lang, c.count)).collect()))
            .collect();
        WordCounts {
            languages: self.languages.iter().map(|l| l.to_string()).collect(),
            words,
            per_language: self.totals,
        }
    }
}

/// Counting tasks per thread in a batch, each with a table of its own that lives until the batch
/// is absorbed. With rayon's own splitting a batch made 16 to 40 tables on 2 threads, which
/// raised peak memory by about 50 MB against a few runs of equal text per thread, for the same
/// time (2, 4 and 8 runs measured alike). A second run per thread evens out a thread slowed by
/// other work.
const TASKS_PER_THREAD: usize = 2;

/// `docs` cut into at most `parts` runs of about equal text (at least one document each).
fn split_by_bytes<'d, 'a>(docs: &'d [(LangId, &'a str)], parts: usize) -> Vec<&'d [(LangId, &'a str)]> {
    let total: usize = docs.iter().map(|(_, text)| text.len()).sum();
    let target = total.div_ceil(parts.max(1)).max(1);
    let mut runs = Vec::with_capacity(parts + 1);
    let (mut start, mut bytes) = (0, 0);
    for (i, (_, text)) in docs.iter().enumerate() {
        bytes += text.len();
        if bytes >= target {
            runs.push(&docs[start..=i]);
            (start, bytes) = (i + 1, 0);
        }
    }
    if start < docs.len() {
        runs.push(&docs[start..]);
    }
    runs
}

/// Pieces longer than this many bytes are counted as consecutive chunks of at most this
/// length (cut at character boundaries).
///
/// Such a piece is data, not language (a base64 blob, a line of OCR output without spaces):
/// counted whole, every merge would rescan all of it, and a 100 MB piece of random letters
/// would take minutes to train. Chunks keep its statistics but one pair per cut, and make the
/// merge loop's cost follow the occurrences of each pair. Encoding is not affected: it always
/// encodes whole pieces.
pub const MAX_PIECE_BYTES: usize = 256;

/// Replaces every range of `ranges` longer than [`MAX_PIECE_BYTES`] by its chunks.
fn cut_long_pieces(text: &str, ranges: &mut Vec<std::ops::Range<usize>>) {
    if ranges.iter().all(|r| r.len() <= MAX_PIECE_BYTES) {
        return;
    }
    let whole = std::mem::take(ranges);
    for range in whole {
        let mut start = range.start;
        while range.end - start > MAX_PIECE_BYTES {
            let mut end = start + MAX_PIECE_BYTES;
            while !text.is_char_boundary(end) {
                end -= 1;
            }
            ranges.push(start..end);
            start = end;
        }
        ranges.push(start..range.end);
    }
}

fn add_totals(total: &mut LanguageTotals, add: &LanguageTotals) {
    total.documents += add.documents;
    total.bytes += add.bytes;
    total.words += add.words;
    total.specials_removed += add.specials_removed;
}

impl WordCounts {
    /// Total occurrences of each word across languages (the weight plain BPE uses).
    pub fn total(counts: &[(LangId, u64)]) -> u64 {
        counts.iter().map(|&(_, c)| c).sum()
    }

    /// Word occurrences in the whole corpus.
    pub fn word_occurrences(&self) -> u64 {
        self.per_language.iter().map(|t| t.words).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pretokenize::Pattern;

    fn counter(specials: &[&str]) -> WordCounter {
        WordCounter::new(Normalization::Nfc, PreTokenizer::from_pattern(Pattern::Default).unwrap(), specials)
    }

    proptest::proptest! {
        #[test]
        fn word_heads_order_as_the_words_do(a in proptest::collection::vec(0u8..3, 0..12), b in proptest::collection::vec(0u8..3, 0..12)) {
            let by_prefix = table::head_of(&a).cmp(&table::head_of(&b)).then_with(|| a.cmp(&b));
            proptest::prop_assert_eq!(by_prefix, a.cmp(&b));
        }
    }

    #[test]
    fn long_pieces_are_counted_in_chunks_at_character_boundaries() {
        let mut c = counter(&[]);
        // 300 two-byte characters and 100 one-byte ones: a 700-byte piece without spaces.
        let piece = format!("{}{}", "ſ".repeat(300), "s".repeat(100));
        c.add_document("la", &format!("{piece} {piece}")).unwrap();
        let counts = c.finish();
        let chunks: Vec<&[u8]> = counts.words.iter().map(|(w, _)| &w[..]).collect();
        assert!(chunks.iter().all(|w| w.len() <= MAX_PIECE_BYTES && std::str::from_utf8(w).is_ok()), "{chunks:?}");
        // Every byte is counted once, in three chunks per piece: 128 ſ (three times), then the
        // rest of the first piece; the second piece starts with its space (1 + 127 ſ).
        let total: usize = counts.words.iter().map(|(w, n)| w.len() * WordCounts::total(n) as usize).sum();
        assert_eq!(total, 2 * piece.len() + 1);
        assert_eq!(counts.per_language[0].words, 6);
        let full = "ſ".repeat(128);
        let full_count = counts.words.iter().find(|(w, _)| &w[..] == full.as_bytes()).map(|(_, n)| WordCounts::total(n));
        assert_eq!(full_count, Some(3));
        assert_eq!(counts.words.len(), 4);
    }

    #[test]
    fn counts_per_language_sorted() {
        let mut c = counter(&[]);
        c.add_document("fr", "le chat le chien").unwrap();
        c.add_document("en", "the chat").unwrap();
        let counts = c.finish();
        assert_eq!(counts.languages, ["fr", "en"]);
        type Row<'a> = (&'a [u8], Vec<(LangId, u64)>);
        let words: Vec<Row> = counts.words.iter().map(|(w, c)| (&w[..], c.clone())).collect();
        assert_eq!(
            words,
            vec![
                (&b" chat"[..], vec![(0, 1), (1, 1)]),
                (b" chien", vec![(0, 1)]),
                (b" le", vec![(0, 1)]),
                (b"le", vec![(0, 1)]),
                (b"the", vec![(1, 1)]),
            ]
        );
        assert_eq!(counts.per_language[0].words, 4);
        assert_eq!(counts.per_language[1].documents, 1);
    }

    #[test]
    fn special_text_is_cut_out() {
        let mut c = counter(&["<|source_end|>"]);
        c.add_document("en", "ab<|source_end|>cd").unwrap();
        let counts = c.finish();
        let words: Vec<&[u8]> = counts.words.iter().map(|(w, _)| &w[..]).collect();
        assert_eq!(words, vec![&b"ab"[..], b"cd"]);
        assert_eq!(counts.per_language[0].specials_removed, 1);
    }

    #[test]
    fn normalizes_before_counting() {
        let mut c = counter(&[]);
        c.add_document("fr", "e\u{301}te\u{301}").unwrap();
        assert_eq!(&*c.finish().words[0].0, "été".as_bytes());
    }

    /// Counts by word and language, kept in word order.
    type Plain = std::collections::BTreeMap<Vec<u8>, std::collections::BTreeMap<LangId, u64>>;

    /// Documents of random pieces, each in one of three languages.
    fn documents() -> impl proptest::strategy::Strategy<Value = Vec<(&'static str, String)>> {
        use proptest::prelude::*;
        let pieces = proptest::sample::select(vec!["a", "b", "ab", "ba", "é", "e\u{301}", " ", "ſ", "1", ".", "\t", "\0", "sixteenletterswo", "long_word_of_letters"]);
        proptest::collection::vec((0usize..3, proptest::collection::vec(pieces, 0..40)), 0..80).prop_map(|docs| {
            docs.into_iter().map(|(lang, parts)| (["fr", "de", "la"][lang], parts.concat())).collect()
        })
    }

    /// What [`WordCounter`] should find, counted with a plain map: the languages in order of
    /// appearance, the counts, and the occurrences a cap on distinct words pruned (after every
    /// batch that leaves more than twice the cap, and at the end, only the cap's most frequent
    /// words stay, ties keeping the smaller bytes, each with all its languages).
    fn plain_counts(docs: &[(&str, String)], batch: usize, cap: Option<usize>) -> (Vec<String>, Plain, u64) {
        fn prune(words: &mut Plain, keep: usize) -> u64 {
            let mut ranked: Vec<(u64, Vec<u8>)> = words.iter().map(|(w, c)| (c.values().sum(), w.clone())).collect();
            ranked.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
            ranked.into_iter().skip(keep).map(|(total, word)| words.remove(&word).map_or(0, |_| total)).sum()
        }
        let pre = PreTokenizer::from_pattern(Pattern::Default).unwrap();
        let (mut languages, mut words, mut pruned) = (Vec::<String>::new(), Plain::new(), 0);
        for chunk in docs.chunks(batch) {
            for (doc_lang, text) in chunk {
                if !languages.iter().any(|l| l == doc_lang) {
                    languages.push(doc_lang.to_string());
                }
                let lang = languages.iter().position(|l| l == doc_lang).unwrap() as LangId;
                for piece in pre.split(&Normalization::Nfc.apply(text)).unwrap() {
                    *words.entry(piece.as_bytes().to_vec()).or_default().entry(lang).or_default() += 1;
                }
            }
            if let Some(cap) = cap.filter(|&cap| words.len() > 2 * cap) {
                pruned += prune(&mut words, cap);
            }
        }
        if let Some(cap) = cap {
            pruned += prune(&mut words, cap);
        }
        (languages, words, pruned)
    }

    /// Counts `docs` in batches of `batch` documents on `threads` threads.
    fn counted(docs: &[(&str, String)], batch: usize, cap: Option<usize>, threads: usize) -> (Vec<String>, Plain, u64) {
        let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
        pool.install(|| {
            let mut c = counter(&[]).with_max_words(cap);
            for chunk in docs.chunks(batch) {
                c.add_batch(&chunk.iter().cloned().collect()).unwrap();
            }
            if let Some(cap) = cap {
                c.prune(cap);
            }
            let pruned = c.pruned_occurrences();
            let counts = c.finish();
            let sorted = counts.words.windows(2).all(|w| w[0].0 < w[1].0) && counts.words.iter().all(|(_, c)| c.windows(2).all(|l| l[0].0 < l[1].0));
            assert!(sorted, "words sorted, and languages within each word");
            let words = counts.words.into_iter().map(|(w, c)| (w.into_vec(), c.into_iter().collect())).collect();
            (counts.languages, words, pruned)
        })
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(64))]
        /// The sharded tables count what a plain map of the split pieces counts, whatever the
        /// batches and threads; NFD text takes the path where words are copied, not borrowed.
        #[test]
        fn counts_equal_a_plain_count_of_the_pieces(docs in documents(), batch in 1usize..30, threads in 1usize..4) {
            proptest::prop_assert_eq!(counted(&docs, batch, None, threads), plain_counts(&docs, batch, None));
        }

        /// With a cap on distinct words, the counts are those of a plain map pruned alike.
        #[test]
        fn capped_counts_equal_a_plain_count_pruned_alike(docs in documents(), batch in 1usize..12, cap in 1usize..12, threads in 1usize..4) {
            proptest::prop_assert_eq!(counted(&docs, batch, Some(cap), threads), plain_counts(&docs, batch, Some(cap)));
        }
    }

    #[test]
    fn same_counts_at_any_thread_count() {
        let docs: Vec<(&str, String)> = (0..500).map(|i| (if i % 3 == 0 { "fr" } else { "de" }, format!("mot{} ſ wort {}", i % 17, i % 5))).collect();
        let run = |threads| {
            let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
            pool.install(|| {
                let mut c = counter(&[]);
                for chunk in docs.chunks(64) {
                    c.add_batch(&chunk.iter().cloned().collect()).unwrap();
                }
                c.finish()
            })
        };
        assert_eq!(run(1), run(4));
    }

    #[test]
    fn max_words_keeps_the_most_frequent() {
        // Five distinct words: "a", " a", " b", " c", " d".
        let mut loose = counter(&[]).with_max_words(Some(3));
        loose.add_document("fr", "a a a b b c d d d d").unwrap();
        assert_eq!(loose.distinct_words(), 5, "no pruning below twice the cap");
        assert_eq!(loose.finish().words.len(), 3);
        let mut c = counter(&[]).with_max_words(Some(2));
        c.add_document("fr", "a a a b b c d d d d").unwrap();
        assert_eq!(c.distinct_words(), 2);
        assert_eq!(c.pruned_occurrences(), 4);
        let pruned = {
            let counts = c.finish();
            counts.words.iter().map(|(w, c)| (String::from_utf8(w.to_vec()).unwrap(), c[0].1)).collect::<Vec<_>>()
        };
        assert_eq!(pruned, vec![(" a".to_string(), 2), (" d".to_string(), 4)]);
    }
}
