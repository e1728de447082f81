//! The full encoding pipeline: special-token scan → normalize → split → BPE, and decoding.

use std::borrow::Cow;
use std::ops::Range;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::bpe::{BpeModel, TokenId};
use crate::encode_batch::FailedText;
use crate::normalize::Normalization;
use crate::piece_cache::{pad_text, short_hash, short_key, with_scratch, Buffers, PieceCache, PieceKey, KEY_PADDING, MAX_CACHED, MAX_SHORT};
use crate::normalize::NormalizerStep;
use crate::pretokenize::PreTokenizer;
use crate::special::SpecialScanner;
use crate::{Error, Result};

/// Pieces whose cache slots the encoder starts loading before it looks any of them up. With
/// one table for every piece, prefetching a run of slots as soon as their hashes are known
/// pays where prefetching a few pieces ahead in the lookup loop did not; `encode_lines`
/// (cl100k, warm passes, best of 3 or 4 interleaved runs), lines as documents: 4 pieces ahead
/// 140–147 MB/s, 8 ahead 152–159, 16 ahead 149–161, every piece of a line before its lookups
/// 165–169; runs of 16, 32, 64 and 128 pieces 156, 165, 171 and 169. Whole files as documents
/// (where prefetching a whole text would load slots long before their use): 4 ahead 166 MB/s,
/// runs of 64 or 128 pieces 194.
const PREFETCH_CHUNK: usize = 64;

/// Bytes of a long text split before their pieces are encoded, so that the pieces' ranges stay
/// in the core's cache between the two steps, and a long text needs no list of all its pieces.
const SPLIT_WINDOW: usize = 1 << 14;

/// Bytes per thread of a long text split and encoded in parallel at once (see
/// [`Tokenizer::encode_pieces_in_parallel`]): the memory of a text's pieces (16 bytes each,
/// about 5 per 16 bytes of prose) stays bounded by a section's.
const SECTION_BYTES: usize = 1 << 20;

/// Segments of text (between added tokens) of at least this many bytes are encoded on every
/// thread of the current rayon pool (see [`Tokenizer::encode_pieces_in_parallel`]); shorter
/// texts never use the pool.
pub const PARALLEL_ABOVE: usize = 1 << 16;
thread_local! {
    /// Set while this thread encodes texts that must not use the pool (see [`on_this_thread`]).
    static ON_THIS_THREAD: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Runs `f` with every text it encodes on the current thread alone, however long: for a caller
/// that already keeps every thread busy with whole texts (a batch of many long documents).
pub(crate) fn on_this_thread<R>(f: impl FnOnce() -> R) -> R {
    /// Restores the flag's previous value, also when `f` unwinds.
    struct Restore(bool);
    impl Drop for Restore {
        fn drop(&mut self) {
            ON_THIS_THREAD.with(|flag| flag.set(self.0));
        }
    }
    let _restore = Restore(ON_THIS_THREAD.with(|flag| flag.replace(true)));
    f()
}

/// The longest text encoded with its neighbours (see [`Tokenizer::encode_plain_texts`]); a
/// longer one is split a window at a time by itself.
const PLAIN_TEXT_MAX: usize = SPLIT_WINDOW;

/// Bytes of texts laid end to end at most, for [`Tokenizer::encode_plain_texts`].
const PLAIN_GROUP_BYTES: usize = 1 << 16;

/// What the lookup loop of [`Tokenizer::encode_pieces_of_texts`] tells after each piece.
trait PieceCounter {
    /// A piece's ids have been appended to `ids`.
    fn piece_encoded(&mut self, ids: &mut Vec<TokenId>);
}

/// One text: nothing to tell.
impl PieceCounter for () {
    #[inline(always)]
    fn piece_encoded(&mut self, _: &mut Vec<TokenId>) {}
}

/// Texts whose pieces are looked up in one loop: after each text's last piece, appends the
/// end-of-text id (if any) and where the text's ids end.
struct TextEnds<'a> {
    /// Pieces of the current text still to come.
    left: usize,
    /// Where the pieces of each text after the current one end.
    next: std::slice::Iter<'a, usize>,
    /// Where the current text's pieces end.
    current_end: usize,
    end_of_text: Option<TokenId>,
    ends: &'a mut Vec<usize>,
}

impl<'a> TextEnds<'a> {
    /// The ends of texts whose pieces end at `piece_ends`; texts without pieces at the start
    /// are ended at once.
    fn new(piece_ends: &'a [usize], end_of_text: Option<TokenId>, ends: &'a mut Vec<usize>, ids: &mut Vec<TokenId>) -> Self {
        let mut text_ends = TextEnds { left: 0, next: piece_ends.iter(), current_end: 0, end_of_text, ends };
        text_ends.start_next(ids);
        text_ends
    }

    /// Ends texts until one with pieces to come (or none) is current.
    #[cold]
    fn start_next(&mut self, ids: &mut Vec<TokenId>) {
        while let Some(&end) = self.next.next() {
            self.left = end - self.current_end;
            self.current_end = end;
            if self.left > 0 {
                return;
            }
            self.end_text(ids);
        }
        self.left = usize::MAX;
    }

    fn end_text(&mut self, ids: &mut Vec<TokenId>) {
        ids.extend(self.end_of_text);
        self.ends.push(ids.len());
    }
}

impl PieceCounter for TextEnds<'_> {
    #[inline(always)]
    fn piece_encoded(&mut self, ids: &mut Vec<TokenId>) {
        self.left -= 1;
        if self.left == 0 {
            self.end_text(ids);
            self.start_next(ids);
        }
    }
}

/// Pieces per unit in which a long text's pieces are shared out among threads (see
/// [`Tokenizer::encode_pieces_in_parallel`]).
const PIECES_PER_TASK: usize = 4096;

/// A fresh identity for each constructed tokenizer (clones share it: same model, same cache).
fn next_uid() -> u64 {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

/// A token outside the BPE model: special (control) tokens and HF's other added tokens.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AddedToken {
    pub id: TokenId,
    pub content: String,
    /// Special tokens are recognized in text only where the caller allows it; non-special added
    /// tokens (rare, from imported files) are always recognized, as HF does.
    pub special: bool,
}

/// Which special tokens may be recognized in the text being encoded.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum AllowedSpecial {
    /// Special-token text is encoded as ordinary text (safe for document content).
    #[default]
    None,
    /// Every special token's text becomes its id (what HF `tokenizers` does).
    All,
}

/// What encoding does with special-token text the caller did not allow.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Disallowed {
    /// Encode it as ordinary text (safe for document content).
    #[default]
    AsText,
    /// Refuse the text with [`Error::DisallowedSpecial`].
    Reject,
}

/// A byte-level BPE tokenizer: normalizer, pre-tokenizer, model and added tokens.
#[derive(Clone, Debug)]
pub struct Tokenizer {
    normalization: Normalization,
    pre_tokenizer: PreTokenizer,
    model: BpeModel,
    added: Vec<AddedToken>,
    /// Finds every added token's text.
    all_scanner: SpecialScanner,
    /// Identity for the per-thread piece cache.
    uid: u64,
    /// Extra normalizer steps of imported files, after `normalization`.
    normalizer_steps: Vec<NormalizerStep>,
    /// How imported SentencePiece-style files turn token bytes back into text.
    decoding: Decoding,
}

/// What decoding does after joining token bytes (HF decoders of imported files).
#[derive(Clone, Debug, Default)]
pub struct Decoding {
    /// Drop one leading space when the first id is a model token (HF `Metaspace` decoder, or
    /// `Strip` of one space at the start).
    pub strip_leading_space: bool,
    /// String replacements applied in order to the decoded text (HF `Replace` decoders).
    pub replacements: Vec<(String, String)>,
}

impl Tokenizer {
    /// Assembles a tokenizer; added-token ids must not collide with different model tokens,
    /// nor with each other.
    pub fn new(normalization: Normalization, pre_tokenizer: PreTokenizer, model: BpeModel, added: Vec<AddedToken>) -> Result<Self> {
        // An id decodes to one text: with two added tokens on one id, one of them would encode
        // to an id that decodes to the other (a file listing both is refused, not guessed at).
        let mut by_id: std::collections::HashMap<TokenId, &str> = std::collections::HashMap::with_capacity(added.len());
        for token in &added {
            if let Some(other) = by_id.insert(token.id, &token.content).filter(|&other| other != token.content) {
                return Err(Error::config(format!(
                    "added tokens {other:?} and {:?} have the same id {}",
                    token.content, token.id
                )));
            }
        }
        for token in &added {
            if let Some(bytes) = model.token_bytes(token.id) {
                if bytes != token.content.as_bytes() {
                    return Err(Error::config(format!(
                        "added token {:?} has id {}, which the model uses for another token",
                        token.content, token.id
                    )));
                }
            }
        }
        let all_scanner = SpecialScanner::new(&added.iter().map(|t| t.content.as_str()).collect::<Vec<_>>());
        Ok(Tokenizer {
            normalization,
            pre_tokenizer,
            model,
            added,
            all_scanner,
            uid: next_uid(),
            normalizer_steps: Vec::new(),
            decoding: Decoding::default(),
        })
    }

    /// The same tokenizer with another model (all other settings kept); used to extend a
    /// vocabulary. Added tokens must still fit the model.
    pub fn with_model(&self, model: BpeModel) -> Result<Self> {
        let fresh = Tokenizer::new(self.normalization, self.pre_tokenizer.clone(), model, self.added.clone())?;
        Ok(fresh.with_normalizer_steps(self.normalizer_steps.clone()).with_decoding(self.decoding.clone()))
    }

    /// Adds normalizer steps after the Unicode normalization (for imported files).
    pub fn with_normalizer_steps(mut self, steps: Vec<NormalizerStep>) -> Self {
        self.normalizer_steps = steps;
        self
    }

    /// Sets how decoded text is finished (for imported files).
    pub fn with_decoding(mut self, decoding: Decoding) -> Self {
        self.decoding = decoding;
        self
    }

    /// The extra normalizer steps.
    pub fn normalizer_steps(&self) -> &[NormalizerStep] {
        &self.normalizer_steps
    }

    /// The normalizer.
    pub fn normalization(&self) -> Normalization {
        self.normalization
    }

    /// The pre-tokenizer.
    pub fn pre_tokenizer(&self) -> &PreTokenizer {
        &self.pre_tokenizer
    }

    /// The BPE model.
    pub fn model(&self) -> &BpeModel {
        &self.model
    }

    /// Added (special and other) tokens.
    pub fn added_tokens(&self) -> &[AddedToken] {
        &self.added
    }

    /// The special tokens only.
    pub fn special_tokens(&self) -> impl Iterator<Item = &AddedToken> {
        self.added.iter().filter(|t| t.special)
    }

    /// Vocabulary size: one past the largest id in use (what models size their embeddings by).
    pub fn vocab_size(&self) -> usize {
        let added_max = self.added.iter().map(|t| t.id as usize + 1).max().unwrap_or(0);
        self.model.id_bound().max(added_max)
    }

    /// The id of a token given as text (added tokens first, then model tokens by their bytes).
    pub fn token_to_id(&self, token: &str) -> Option<TokenId> {
        self.added
            .iter()
            .find(|t| t.content == token)
            .map(|t| t.id)
            .or_else(|| self.model.token_id(token.as_bytes()))
    }

    /// The bytes a token id stands for.
    pub fn id_to_bytes(&self, id: TokenId) -> Option<&[u8]> {
        self.added
            .iter()
            .find(|t| t.id == id)
            .map(|t| t.content.as_bytes())
            .or_else(|| self.model.display_bytes(id))
    }

    /// Encodes `text`, recognizing special tokens as `allowed` says.
    pub fn encode(&self, text: &str, allowed: AllowedSpecial) -> Result<Vec<TokenId>> {
        match allowed {
            AllowedSpecial::All => self.encode_allowing(text, |_| true),
            AllowedSpecial::None => self.encode_allowing(text, |_| false),
        }
    }

    /// Encodes `text`, recognizing the special tokens for which `is_allowed(id)` holds (and
    /// always the non-special added tokens). Special-token text that is not allowed stays part
    /// of the surrounding text, so it is split and merged exactly like any other text.
    pub fn encode_allowing(&self, text: &str, is_allowed: impl Fn(TokenId) -> bool) -> Result<Vec<TokenId>> {
        self.encode_with(text, is_allowed, Disallowed::AsText)
    }

    /// Encodes `text` like [`Self::encode_allowing`], but with `Disallowed::Reject` a special
    /// token that is not allowed is an [`Error::DisallowedSpecial`] (tiktoken's
    /// `disallowed_special`). The text is scanned for added tokens once.
    pub fn encode_with(&self, text: &str, is_allowed: impl Fn(TokenId) -> bool, disallowed: Disallowed) -> Result<Vec<TokenId>> {
        let mut ids = Vec::with_capacity(text.len() / 3 + 1);
        self.encode_into(text, is_allowed, disallowed, &mut ids)?;
        Ok(ids)
    }

    /// Like [`Self::encode_with`], appending the ids to `ids`: batch encoders fill one buffer
    /// for many texts instead of allocating a vector per text. On an error, `ids` may hold part
    /// of the text's ids.
    pub fn encode_into(&self, text: &str, is_allowed: impl Fn(TokenId) -> bool, disallowed: Disallowed, ids: &mut Vec<TokenId>) -> Result<()> {
        if self.added.is_empty() || !self.all_scanner.contains(text) {
            return self.encode_text(text, ids);
        }
        // Where the text not yet encoded starts.
        let mut last = 0;
        let mut failure = None;
        self.all_scanner.matches(text, |index, start, end| {
            let token = &self.added[index];
            if token.special && !is_allowed(token.id) {
                if disallowed == Disallowed::Reject {
                    failure = Some(Error::DisallowedSpecial { token: token.content.clone() });
                    return false;
                }
                return true;
            }
            if start > last {
                if let Err(e) = self.encode_segment(&text[last..start], last == 0, ids) {
                    failure = Some(e);
                    return false;
                }
            }
            ids.push(token.id);
            last = end;
            true
        });
        if let Some(e) = failure {
            return Err(e);
        }
        if last < text.len() {
            self.encode_segment(&text[last..], last == 0, ids)?;
        }
        Ok(())
    }

    /// The first special token whose text occurs in `text` and is not allowed, as
    /// (id, content): what tiktoken's `disallowed_special` check reports.
    pub fn find_disallowed(&self, text: &str, is_allowed: impl Fn(TokenId) -> bool) -> Option<(TokenId, &str)> {
        let mut found = None;
        self.all_scanner.matches(text, |index, _, _| {
            let token = &self.added[index];
            if token.special && !is_allowed(token.id) {
                found = Some((token.id, token.content.as_str()));
                return false;
            }
            true
        });
        found
    }

    /// Encodes text that contains no added tokens to recognize: normalize, split, BPE.
    pub fn encode_text(&self, text: &str, ids: &mut Vec<TokenId>) -> Result<()> {
        self.encode_segment(text, true, ids)
    }

    /// Encodes a segment of the input between added tokens; `at_start` when it begins the
    /// input (HF's Metaspace `prepend_scheme: first` prepends only there).
    fn encode_segment(&self, text: &str, at_start: bool, ids: &mut Vec<TokenId>) -> Result<()> {
        if text.is_empty() {
            return Ok(());
        }
        let mut normalized = self.normalization.apply(text);
        for step in &self.normalizer_steps {
            normalized = Cow::Owned(step.apply(&normalized)?);
        }
        let prepared = self.pre_tokenizer.prepare_segment(&normalized, at_start);
        // The length as given, not normalized: a caller that keeps texts below the bound
        // knows that the pool is not used.
        if text.len() >= PARALLEL_ABOVE && rayon::current_num_threads() > 1 && !ON_THIS_THREAD.with(|flag| flag.get()) {
            return self.encode_pieces_in_parallel(&prepared, ids);
        }
        let bytes = prepared.as_bytes();
        with_scratch(self.uid, |cache, Buffers { ranges, keys, padded, .. }| {
            ranges.clear();
            if bytes.len() <= SPLIT_WINDOW {
                // A line or a paragraph: one copy with its padding, and one pass (reading the
                // keys in place, with the tail apart, was 3–5% slower on lines).
                self.pre_tokenizer.split_ranges(&prepared, ranges)?;
                pad_text(bytes, padded);
                self.encode_pieces(cache, keys, bytes, (padded, 0), ranges, ids);
                return Ok(());
            }
            let mut at = 0;
            while at < bytes.len() {
                ranges.clear();
                at = self.pre_tokenizer.split_ranges_from(&prepared, at, SPLIT_WINDOW, ranges)?;
                self.encode_in_place(cache, keys, bytes, ranges, ids);
            }
            Ok(())
        })
    }

    /// Encodes consecutive `texts`, each as [`Self::encode_into`] does, appending `end_of_text`
    /// (if any) after the ids of each and where each text's ids end in `ids` to `ends`. On an
    /// error, returns the index of the text that failed.
    ///
    /// Short texts that need nothing but the split and their pieces' ids are encoded in
    /// groups ([`Self::encode_plain_texts`]): one search for added tokens' text and one use of
    /// the thread's cache for many texts, and one lookup loop over all their pieces, so that
    /// the slots of a text's first pieces load while the text before is looked up. Measured
    /// against a call of `encode_into` per text (OLMo-2, lines of the first megabyte of each
    /// `../shared/corpus/train` file as documents, one thread, best of 8, interleaved, 3 runs):
    /// the corpus encoder (`encode_files`) 193–205 → 205–217 MB/s; Python's `encode_files`
    /// 194–195 → 189–216. The search for added tokens' text, a `memchr2` per line for OLMo-2's
    /// `<` and `|`, had been 7% of `encode_lines`' samples.
    pub fn encode_texts_into<T: AsRef<str>>(
        &self,
        texts: &[T],
        is_allowed: impl Fn(TokenId) -> bool,
        disallowed: Disallowed,
        end_of_text: Option<TokenId>,
        ids: &mut Vec<TokenId>,
        ends: &mut Vec<usize>,
    ) -> std::result::Result<(), FailedText<Error>> {
        let mut next = 0;
        while next < texts.len() {
            next += self.encode_plain_texts(&texts[next..], end_of_text, ids, ends);
            let Some(text) = texts.get(next) else { break };
            self.encode_into(text.as_ref(), &is_allowed, disallowed, ids).map_err(|error| FailedText { index: next, error })?;
            ids.extend(end_of_text);
            ends.push(ids.len());
            next += 1;
        }
        Ok(())
    }

    /// Whether `text` is encoded by its split and its pieces' ids alone, with its neighbours
    /// (see [`Self::encode_plain_texts`]): short, left as it is by the normalizer and the
    /// pre-tokenizer's preparation. Whether it holds added tokens' text is asked of a group.
    fn is_plain(&self, text: &str) -> bool {
        text.len() <= PLAIN_TEXT_MAX
            && self.normalizer_steps.is_empty()
            && self.normalization.is_quickly_normal(text)
            && self.pre_tokenizer.prepares_as_is(text)
    }

    /// Encodes texts from the first of `texts` on, up to the first that is not plain (see
    /// [`Self::is_plain`]) or holds an added token's text, and returns how many it encoded
    /// (with `end_of_text` and `ends` as in [`Self::encode_texts_into`]).
    ///
    /// Texts are laid end to end in groups of up to [`PLAIN_GROUP_BYTES`], padded once, and
    /// searched for added tokens' text in one scan; each is split as a text alone would be, and
    /// the pieces of all are looked up in one loop ([`Self::encode_pieces_of_texts`]).
    fn encode_plain_texts<T: AsRef<str>>(&self, texts: &[T], end_of_text: Option<TokenId>, ids: &mut Vec<TokenId>, ends: &mut Vec<usize>) -> usize {
        with_scratch(self.uid, |cache, Buffers { ranges, keys, padded, text_ends, piece_ends }| {
            let mut taken = 0;
            loop {
                padded.clear();
                text_ends.clear();
                // Whether the group ends for want of room (the next text is plain).
                let mut group_full = false;
                for text in texts[taken..].iter().map(AsRef::as_ref) {
                    if !self.is_plain(text) {
                        break;
                    }
                    if padded.len() + text.len() > PLAIN_GROUP_BYTES {
                        group_full = true;
                        break;
                    }
                    padded.extend_from_slice(text.as_bytes());
                    text_ends.push(padded.len());
                }
                let gathered = text_ends.len();
                if let Some(k) = self.all_scanner.first_containing(padded, text_ends) {
                    text_ends.truncate(k);
                }
                ranges.clear();
                piece_ends.clear();
                let mut start = 0;
                for (k, &end) in text_ends.iter().enumerate() {
                    if self.pre_tokenizer.split_ranges_at(texts[taken + k].as_ref(), start, ranges).is_err() {
                        // Left to `encode_into`, which reports the error.
                        ranges.truncate(piece_ends.last().copied().unwrap_or(0));
                        break;
                    }
                    piece_ends.push(ranges.len());
                    start = end;
                }
                let group = piece_ends.len();
                if group == 0 {
                    return taken;
                }
                let bytes_end = text_ends[group - 1];
                padded.truncate(bytes_end);
                padded.resize(bytes_end + KEY_PADDING, 0);
                let mut texts_ends = TextEnds::new(piece_ends, end_of_text, ends, ids);
                self.encode_pieces_of_texts(cache, keys, &padded[..bytes_end], (padded, 0), ranges, ids, &mut texts_ends);
                taken += group;
                if group < gathered || !group_full {
                    return taken;
                }
            }
        })
    }

    /// Encodes a long text on every thread of the current rayon pool, a section of
    /// [`SECTION_BYTES`] per thread at a time: the section is split in parallel parts (with the
    /// pieces of one scan), then each thread looks up and merges one share of its pieces, with
    /// its own cache. Pieces are encoded independently of each other, so the ids are those of
    /// one thread; the pieces in memory are a section's.
    ///
    /// Thread k always takes the k-th share, so a text met again (or texts alike in their
    /// parts) finds its pieces in the cache that merged them. Shares taken by whichever thread
    /// was free left each cache a random half of the pieces: passes 2 and 3 over the first
    /// megabyte of each `../shared/corpus/train` file (GPT-2) still merged 55,000 and 36,000 pieces
    /// (of 256,000 on the first pass; fixed shares: none), and warm passes ran at 411–463 MB/s
    /// against 504–545 (`encode_lines --whole`, OLMo-2, 2 threads, best of 8 passes, 3 runs).
    #[inline(never)]
    fn encode_pieces_in_parallel(&self, text: &str, ids: &mut Vec<TokenId>) -> Result<()> {
        self.encode_in_sections(text, SECTION_BYTES * rayon::current_num_threads(), ids)
    }

    /// [`Self::encode_pieces_in_parallel`] with sections of `section` bytes.
    fn encode_in_sections(&self, text: &str, section: usize, ids: &mut Vec<TokenId>) -> Result<()> {
        let bytes = text.as_bytes();
        let mut at = 0;
        while at < bytes.len() {
            let (pieces, end) = self.pre_tokenizer.split_in_parallel(text, at, section)?;
            let tasks: Vec<&[Range<usize>]> = pieces.runs().flat_map(|run| run.chunks(PIECES_PER_TASK)).collect();
            let encode_share = |runs: &[&[Range<usize>]]| {
                with_scratch(self.uid, |cache, buffers| {
                    let mut run_ids = Vec::with_capacity(runs.iter().map(|r| r.len()).sum::<usize>() * 3 / 2);
                    for run in runs {
                        self.encode_in_place(cache, &mut buffers.keys, bytes, run, &mut run_ids);
                    }
                    run_ids
                })
            };
            let shares: Vec<Vec<TokenId>> = rayon::broadcast(|thread| {
                let (k, n) = (thread.index(), thread.num_threads());
                encode_share(&tasks[tasks.len() * k / n..tasks.len() * (k + 1) / n])
            });
            ids.reserve(shares.iter().map(Vec::len).sum());
            for share in &shares {
                ids.extend_from_slice(share);
            }
            at = end;
        }
        Ok(())
    }

    /// Appends the ids of the pieces at `ranges` of `bytes` (see [`Self::encode_pieces`]),
    /// reading their keys in place: only the pieces that start within [`KEY_PADDING`] bytes of
    /// the end are read from a padded copy of that tail, so no text is copied whole.
    #[inline(always)]
    fn encode_in_place(&self, cache: &mut PieceCache, keys: &mut Vec<(u128, u64)>, bytes: &[u8], ranges: &[Range<usize>], ids: &mut Vec<TokenId>) {
        let body = ranges.partition_point(|r| r.start + KEY_PADDING <= bytes.len());
        self.encode_pieces(cache, keys, bytes, (bytes, 0), &ranges[..body], ids);
        if let Some(first) = ranges.get(body) {
            let mut tail = [0u8; 2 * KEY_PADDING];
            tail[..bytes.len() - first.start].copy_from_slice(&bytes[first.start..]);
            self.encode_pieces(cache, keys, bytes, (&tail, first.start), &ranges[body..], ids);
        }
    }

    /// Appends the ids of the pieces at `ranges` of `bytes`, looking each up in `cache` first
    /// and remembering the ones merged. The keys are read from `padded.0`, which holds the bytes
    /// from `padded.1` on with at least [`KEY_PADDING`] bytes after each piece's start.
    #[inline(always)]
    fn encode_pieces(
        &self,
        cache: &mut PieceCache,
        keys: &mut Vec<(u128, u64)>,
        bytes: &[u8],
        padded: (&[u8], usize),
        ranges: &[Range<usize>],
        ids: &mut Vec<TokenId>,
    ) {
        self.encode_pieces_of_texts(cache, keys, bytes, padded, ranges, ids, &mut ());
    }

    /// [`Self::encode_pieces`] over the pieces of several texts, telling `texts` after each
    /// piece (see [`PieceCounter`]): one loop for a group of short texts, so that the slots
    /// of a text's first pieces start loading while the text before is looked up.
    #[inline(always)]
    #[allow(clippy::too_many_arguments)]
    fn encode_pieces_of_texts(
        &self,
        cache: &mut PieceCache,
        keys: &mut Vec<(u128, u64)>,
        bytes: &[u8],
        (padded, padded_from): (&[u8], usize),
        ranges: &[Range<usize>],
        ids: &mut Vec<TokenId>,
        texts: &mut impl PieceCounter,
    ) {
        for chunk in ranges.chunks(PREFETCH_CHUNK) {
            // Lookups wait on memory: start loading the slots of a run of pieces, then
            // look them up.
            keys.clear();
            keys.extend(chunk.iter().map(|r| match r.len() {
                len @ 1..=MAX_SHORT => {
                    let key = short_key(padded, r.start - padded_from, len);
                    let hash = short_hash(key);
                    cache.prefetch_short(hash);
                    (key, hash)
                }
                _ => (0, 0),
            }));
            for (range, &(key, hash)) in chunk.iter().zip(keys.iter()) {
                'piece: {
                    if key != 0 {
                        if cache.extend_short(key, hash, ids) {
                            break 'piece;
                        }
                        let start = ids.len();
                        let long_key = PieceKey::in_padded(padded, range.start - padded_from, range.len());
                        self.encode_uncached(&long_key, long_key.hash64(), &bytes[range.clone()], ids);
                        cache.insert_short(key, hash, &ids[start..]);
                        break 'piece;
                    }
                    let len = range.len();
                    if !(1..=MAX_CACHED).contains(&len) {
                        // Rare: too long to cache (or empty).
                        self.model.encode_piece(&bytes[range.clone()], ids);
                        break 'piece;
                    }
                    let key = PieceKey::in_padded(padded, range.start - padded_from, len);
                    let hash = key.hash64();
                    if cache.extend_long(&key, hash, ids) {
                        break 'piece;
                    }
                    let start = ids.len();
                    self.encode_uncached(&key, hash, &bytes[range.clone()], ids);
                    cache.insert_long(key, hash, &ids[start..]);
                }
                texts.piece_encoded(ids);
            }
        }
    }

    /// Appends the ids of a piece of 1..=[`MAX_CACHED`] bytes that the cache does not hold
    /// (`key` and `hash` being its [`PieceKey`] and hash): its id when it is a token by itself,
    /// else its bytes merged.
    #[inline(always)]
    fn encode_uncached(&self, key: &PieceKey, hash: u64, piece: &[u8], ids: &mut Vec<TokenId>) {
        if let Some(id) = self.model.whole_token(key, hash) {
            ids.push(id);
        } else {
            // Not a token by itself (`whole_token` knows every such piece this short).
            self.model.merge_bytes(piece, ids);
        }
    }

    /// The bytes of a sequence of ids; unknown ids are an error naming the id.
    pub fn decode_bytes(&self, ids: &[TokenId]) -> Result<Vec<u8>> {
        let mut out = Vec::with_capacity(ids.len() * 4);
        for &id in ids {
            let bytes = self
                .id_to_bytes(id)
                .ok_or_else(|| Error::config(format!("token id {id} is not in the vocabulary (size {})", self.vocab_size())))?;
            out.extend_from_slice(bytes);
        }
        // HF's Metaspace decoder drops the space it prepended, from the first token only.
        if self.decoding.strip_leading_space
            && out.first() == Some(&b' ')
            && ids.first().is_some_and(|id| !self.added.iter().any(|t| t.id == *id))
        {
            out.remove(0);
        }
        Ok(out)
    }

    /// Decodes ids to text; bytes that are not valid UTF-8 (a sequence cut inside a
    /// character) become U+FFFD, as in HF's ByteLevel decoder.
    pub fn decode(&self, ids: &[TokenId]) -> Result<String> {
        let bytes = self.decode_bytes(ids)?;
        let mut text = match String::from_utf8(bytes) {
            Ok(s) => s,
            Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
        };
        for (from, to) in &self.decoding.replacements {
            text = text.replace(from.as_str(), to);
        }
        Ok(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pretokenize::Pattern;

    #[test]
    fn on_this_thread_restores_the_flag_also_after_a_panic() {
        let flag = || ON_THIS_THREAD.with(|flag| flag.get());
        assert!(!flag());
        on_this_thread(|| {
            on_this_thread(|| assert!(flag()));
            assert!(flag());
        });
        assert!(!flag());
        assert!(std::panic::catch_unwind(|| on_this_thread(|| panic!("in the closure"))).is_err());
        assert!(!flag());
    }

    /// Bytes at ids 2..258 (ids 0 and 1 are specials), one merge `l`+`e`.
    fn tokenizer() -> Tokenizer {
        let mut tokens: Vec<Option<Box<[u8]>>> = vec![None, None];
        tokens.extend((0..=255u8).map(|b| Some(vec![b].into_boxed_slice())));
        tokens.push(Some(b"le".to_vec().into_boxed_slice()));
        let model = BpeModel::new(tokens, &[(b'l' as u32 + 2, b'e' as u32 + 2)], false).unwrap();
        let added = vec![
            AddedToken { id: 0, content: "<|end_of_text|>".into(), special: true },
            AddedToken { id: 1, content: "<|source_end|>".into(), special: true },
        ];
        Tokenizer::new(Normalization::Nfc, PreTokenizer::from_pattern(Pattern::Default).unwrap(), model, added).unwrap()
    }

    /// The same vocabulary behind each kind of pre-tokenizer: the built-in scanner, its regex,
    /// a chain of two stages (some of whose pieces are empty), a prefix space, and Metaspace.
    fn tokenizers() -> Vec<Tokenizer> {
        use crate::pretokenize::{compile, Metaspace, PrependScheme, SplitBehavior, Stage};
        let base = tokenizer();
        let with = |pre: PreTokenizer| Tokenizer::new(Normalization::Nfc, pre, base.model().clone(), base.added_tokens().to_vec()).unwrap();
        let default = || PreTokenizer::from_pattern(Pattern::Default).unwrap();
        let regex = || Stage::Regex { regex: compile(Pattern::Default.regex()).unwrap(), behavior: SplitBehavior::Isolated, invert: false };
        vec![
            with(default()),
            with(PreTokenizer::from_pattern_regex_only(Pattern::Default).unwrap()),
            with(PreTokenizer::from_stages(vec![Stage::Digits { individual: true }, regex()], false)),
            with(PreTokenizer::from_stages(vec![regex()], true)),
            with(default().with_metaspace(Metaspace { replacement: '▁', prepend: PrependScheme::First })),
        ]
    }

    use proptest::prelude::*;

    proptest! {
        /// Texts encoded together give each text's ids, as `encode_into` one at a time does,
        /// with the end-of-text id after each, whatever mix of texts the groups meet: empty
        /// ones, added tokens' text (allowed, as text, or refused: the first such text is
        /// the error's), text that is not NFC (left to `encode_into`), texts too long for a
        /// group and more text than a group holds.
        #[test]
        fn texts_encoded_together_give_each_texts_own_ids(
            texts in proptest::collection::vec(
                proptest::collection::vec(
                    proptest::sample::select(vec!["le", " ", "é", "e\u{301}", "<|end_of_text|>", "<|source", "_end|>", "\n", "1789", "ſ", "l'", "  x"]),
                    0..12,
                ).prop_map(|parts| parts.concat()),
                0..60,
            ),
            long_at in proptest::option::of(0usize..60),
            tokenizer_index in 0usize..5,
            allow_all: bool,
            reject: bool,
            end_of_text in proptest::option::of(0u32..2),
        ) {
            let mut texts = texts;
            if let Some(at) = long_at.filter(|&at| at < texts.len()) {
                // Longer than a group's text, and a group's worth of bytes before the rest.
                texts[at] = "le château ".repeat(PLAIN_GROUP_BYTES / 10);
                texts.insert(at, "la".repeat(PLAIN_TEXT_MAX / 2));
            }
            let tok = &tokenizers()[tokenizer_index];
            let disallowed = if reject { Disallowed::Reject } else { Disallowed::AsText };
            let mut expected = (Vec::new(), Vec::new());
            let mut failed = None;
            for (index, text) in texts.iter().enumerate() {
                if let Err(error) = tok.encode_into(text, |_| allow_all, disallowed, &mut expected.0) {
                    failed = Some((index, error.to_string()));
                    break;
                }
                expected.0.extend(end_of_text);
                expected.1.push(expected.0.len());
            }
            let (mut ids, mut ends) = (Vec::new(), Vec::new());
            let together = tok.encode_texts_into(&texts, |_| allow_all, disallowed, end_of_text, &mut ids, &mut ends);
            match failed {
                None => {
                    prop_assert!(together.is_ok());
                    prop_assert_eq!((ids, ends), expected);
                }
                Some((index, error)) => {
                    let got = together.unwrap_err();
                    prop_assert_eq!((got.index, got.error.to_string()), (index, error));
                    // The texts before the failing one were encoded as they would be.
                    prop_assert_eq!(&ends[..], &expected.1[..]);
                    prop_assert_eq!(&ids[..expected.0.len().min(ids.len())], &expected.0[..expected.0.len().min(ids.len())]);
                }
            }
        }
    }

    #[test]
    fn special_text_is_text_unless_allowed() {
        let tok = tokenizer();
        let text = "le<|source_end|>";
        let allowed = tok.encode(text, AllowedSpecial::All).unwrap();
        assert_eq!(allowed, vec![258, 1]);
        let plain = tok.encode(text, AllowedSpecial::None).unwrap();
        assert!(plain.len() > 2 && !plain.contains(&1));
        assert_eq!(tok.decode(&plain).unwrap(), text);
        assert_eq!(tok.decode(&allowed).unwrap(), text);
    }

    #[test]
    fn a_long_text_in_sections_gives_the_ids_of_one_pass() {
        let tok = tokenizer();
        let mut text = String::new();
        for i in 0..20_000 {
            text.push_str(["le ", "château", "  ", "\n", "1789", " l'été", "ſ", "!!"][i % 8]);
            text.push_str(&"e".repeat(i % 29));
        }
        assert!(text.len() > 4 * crate::pretokenize::PART_BYTES);
        let mut one = Vec::new();
        let single = rayon::ThreadPoolBuilder::new().num_threads(1).build().unwrap();
        single.install(|| tok.encode_text(&text, &mut one)).unwrap();
        assert_eq!(tok.decode(&one).unwrap(), text);
        let pool = rayon::ThreadPoolBuilder::new().num_threads(2).build().unwrap();
        for section in [1, 1000, crate::pretokenize::PART_BYTES + 7, 3 * crate::pretokenize::PART_BYTES, text.len()] {
            let mut ids = Vec::new();
            pool.install(|| tok.encode_in_sections(&text, section, &mut ids)).unwrap();
            assert!(ids == one, "sections of {section} bytes");
        }
    }

    #[test]
    fn decode_errors_and_partial_characters() {
        let tok = tokenizer();
        assert!(tok.decode(&[9999]).unwrap_err().to_string().contains("9999"));
        // The first byte of "é" alone is not UTF-8: decoded as U+FFFD, like HF.
        let first_byte_of_e_acute = 0xC3 + 2;
        assert_eq!(tok.decode(&[first_byte_of_e_acute]).unwrap(), "\u{FFFD}");
        assert_eq!(tok.decode_bytes(&[first_byte_of_e_acute]).unwrap(), vec![0xC3]);
    }

    #[test]
    fn normalizes_before_splitting() {
        let tok = tokenizer();
        assert_eq!(tok.encode("e\u{301}", AllowedSpecial::None).unwrap(), tok.encode("é", AllowedSpecial::None).unwrap());
        assert_eq!(tok.vocab_size(), 259);
        assert_eq!(tok.token_to_id("le"), Some(258));
        assert_eq!(tok.token_to_id("<|source_end|>"), Some(1));
    }

    #[test]
    fn added_token_cannot_shadow_a_model_token() {
        let t = tokenizer();
        let added = vec![AddedToken { id: 258, content: "<x>".into(), special: true }];
        assert!(Tokenizer::new(Normalization::Nfc, t.pre_tokenizer().clone(), t.model().clone(), added).is_err());
    }
}
