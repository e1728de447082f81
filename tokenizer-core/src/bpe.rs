//! The BPE model: token bytes by id, the ranked merge list, and merging one piece.

use ahash::AHashMap;

use crate::piece_cache::{PieceKey, PieceTable};
use crate::table::WordMap;
use crate::{bytelevel, Error, Result};

/// A token id.
pub type TokenId = u32;

/// One merge rule: `left` followed by `right` becomes `result`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Merge {
    pub left: TokenId,
    pub right: TokenId,
    pub result: TokenId,
}

/// Byte-level BPE vocabulary and merges.
///
/// Ids need not be contiguous (imported files may leave holes, and special tokens live in the
/// same id space); a hole has no bytes.
#[derive(Clone, Debug)]
pub struct BpeModel {
    /// The bytes of each id; `None` for ids the model does not define.
    tokens: Vec<Option<Box<[u8]>>>,
    /// Bytes → id, for the defined ids.
    ids: AHashMap<Box<[u8]>, TokenId>,
    /// The id of each single byte (`TokenId::MAX` where the vocabulary lacks it).
    byte_ids: [TokenId; 256],
    /// Bytes without a token; they are dropped when encoding, as HF does.
    missing_bytes: Vec<u8>,
    /// Merges in priority order (index = rank).
    merges: Vec<Merge>,
    /// [`pair_key`]`(left, right)` → (rank, result), for encoding.
    ranks: WordMap<u64, (u32, TokenId)>,
    /// HF `ignore_merges`: a piece that is itself a token is emitted whole.
    ignore_merges: bool,
    /// Tokens of 1..=23 bytes that encode to themselves (all of them under `ignore_merges`):
    /// a piece the encoder's cache does not hold yet is looked up here before it is merged.
    /// Most pieces of ordinary text are such tokens.
    whole: PieceTable<TokenId>,
    /// What a piece's first symbols are.
    symbols: Symbols,
}

/// How a piece becomes the symbols that merging starts from.
#[derive(Clone, Debug)]
enum Symbols {
    /// One per byte (byte-level BPE).
    Bytes,
    /// One per character (SentencePiece-style BPE, as HF runs it with `byte_fallback`).
    Chars(Box<CharSymbols>),
}

/// The character-level extras: byte fallback, the unknown token, and what tokens decode to.
#[derive(Clone, Debug)]
struct CharSymbols {
    /// The `<0xNN>` token of each byte (`TokenId::MAX` where missing), used for characters that
    /// have no token of their own.
    byte_tokens: Option<Box<[TokenId; 256]>>,
    /// The unknown token, for characters neither a token nor byte-fallback covers.
    unk: Option<TokenId>,
    /// Consecutive unknown characters become one unknown token.
    fuse_unk: bool,
    /// The bytes each token decodes to: `<0xNN>` is byte NN, the metaspace character a space.
    display: Vec<Option<Box<[u8]>>>,
}

/// Options of a character-level (SentencePiece-style) model.
#[derive(Clone, Debug, Default)]
pub struct CharLevel {
    /// Characters without a token become their `<0xNN>` tokens.
    pub byte_fallback: bool,
    /// The unknown token's id.
    pub unk: Option<TokenId>,
    /// Consecutive unknown characters make one unknown token.
    pub fuse_unk: bool,
    /// The character that stands for a space in tokens (`▁`), decoded as a space.
    pub space: Option<char>,
}

impl BpeModel {
    /// Builds a model from token bytes by id and merges given as id pairs.
    ///
    /// Every byte must have a token, ids must be unique, and each merge's concatenation must be
    /// a token (its id becomes the merge result).
    pub fn new(tokens: Vec<Option<Box<[u8]>>>, merge_pairs: &[(TokenId, TokenId)], ignore_merges: bool) -> Result<Self> {
        let ids = token_index(&tokens, bytelevel::encode_bytes)?;
        // Some vocabularies lack byte tokens (GPT-NeoX lacks the bytes UTF-8 never uses; Falcon
        // also lacks some control characters). HF's BPE, with no unk token, silently drops such
        // bytes; so do we, to give the same ids. Every vocabulary polybpe trains has all 256.
        let mut byte_ids = [TokenId::MAX; 256];
        let mut missing_bytes = Vec::new();
        for b in 0..=255u8 {
            match ids.get(&[b][..]) {
                Some(&id) => byte_ids[b as usize] = id,
                None => missing_bytes.push(b),
            }
        }
        if missing_bytes.len() == 256 {
            return Err(Error::config("the vocabulary has no single-byte tokens: not a byte-level vocabulary"));
        }
        Self::assemble(tokens, ids, byte_ids, missing_bytes, merge_pairs, ignore_merges, Symbols::Bytes)
    }

    /// A SentencePiece-style model: tokens are strings (given as their UTF-8 bytes) and a
    /// piece starts as its characters, as HF's BPE runs files with `byte_fallback`.
    pub fn new_char_level(
        tokens: Vec<Option<Box<[u8]>>>,
        merge_pairs: &[(TokenId, TokenId)],
        ignore_merges: bool,
        options: CharLevel,
    ) -> Result<Self> {
        let ids = token_index(&tokens, |bytes| String::from_utf8_lossy(bytes).into_owned())?;
        if ids.is_empty() {
            return Err(Error::config("the vocabulary is empty"));
        }
        let byte_token = |bytes: &[u8]| -> Option<u8> {
            let text = std::str::from_utf8(bytes).ok()?;
            let hex = text.strip_prefix("<0x")?.strip_suffix('>')?;
            (hex.len() == 2).then(|| u8::from_str_radix(hex, 16).ok()).flatten()
        };
        let byte_tokens = options.byte_fallback.then(|| {
            let mut table = Box::new([TokenId::MAX; 256]);
            for b in 0..=255u8 {
                if let Some(&id) = ids.get(format!("<0x{b:02X}>").as_bytes()) {
                    table[b as usize] = id;
                }
            }
            table
        });
        let display = tokens
            .iter()
            .map(|t| {
                t.as_ref().map(|bytes| match byte_token(bytes).filter(|_| options.byte_fallback) {
                    Some(b) => vec![b].into_boxed_slice(),
                    None => match (options.space, std::str::from_utf8(bytes)) {
                        (Some(space), Ok(text)) => text.replace(space, " ").into_bytes().into_boxed_slice(),
                        _ => bytes.clone(),
                    },
                })
            })
            .collect();
        let symbols = Symbols::Chars(Box::new(CharSymbols { byte_tokens, unk: options.unk, fuse_unk: options.fuse_unk, display }));
        Self::assemble(tokens, ids, [TokenId::MAX; 256], Vec::new(), merge_pairs, ignore_merges, symbols)
    }

    fn assemble(
        tokens: Vec<Option<Box<[u8]>>>,
        ids: AHashMap<Box<[u8]>, TokenId>,
        byte_ids: [TokenId; 256],
        missing_bytes: Vec<u8>,
        merge_pairs: &[(TokenId, TokenId)],
        ignore_merges: bool,
        symbols: Symbols,
    ) -> Result<Self> {
        let mut model = BpeModel {
            tokens,
            ids,
            byte_ids,
            missing_bytes,
            merges: Vec::new(),
            ranks: WordMap::default(),
            ignore_merges,
            whole: PieceTable::with_capacity(0),
            symbols,
        };
        for &(left, right) in merge_pairs {
            model.push_merge(left, right)?;
        }
        model.whole = model.whole_tokens();
        Ok(model)
    }

    /// The tokens that merging their own bytes gives back whole.
    fn whole_tokens(&self) -> PieceTable<TokenId> {
        use rayon::prelude::*;
        let candidates: Vec<(PieceKey, TokenId)> = self
            .tokens()
            .filter_map(|(id, bytes)| PieceKey::new(bytes).map(|key| (key, id)))
            .collect();
        let whole: Vec<(PieceKey, TokenId)> = if self.ignore_merges {
            candidates
        } else {
            candidates
                .into_par_iter()
                .filter(|&(_, id)| {
                    let mut out = Vec::new();
                    self.merge_bytes(self.token_bytes(id).unwrap_or_default(), &mut out);
                    out == [id]
                })
                .collect()
        };
        // A quarter full at most: most lookups are of pieces that are not there, and those
        // probe until an empty slot. (Half full, 8 MB instead of 16 MB for cl100k, measured no
        // faster: 1,109 / 1,128 ms of task clock against 1,117 / 1,048 ms, `encode_lines`.)
        let mut table = PieceTable::with_capacity(whole.len() * 4);
        for (key, id) in whole {
            table.insert(key, key.hash64(), id);
        }
        table
    }

    /// The id of a piece of 1..=23 bytes (given as its cache key and hash) when it is one
    /// token by itself (see `whole`).
    #[inline]
    pub(crate) fn whole_token(&self, key: &PieceKey, hash: u64) -> Option<TokenId> {
        self.whole.get(key, hash).copied()
    }

    /// Appends a merge; its result must already be a token.
    fn push_merge(&mut self, left: TokenId, right: TokenId) -> Result<()> {
        let (Some(a), Some(b)) = (self.token_bytes(left), self.token_bytes(right)) else {
            return Err(Error::config(format!("merge {left} {right} uses an unknown id")));
        };
        let joined: Vec<u8> = [a, b].concat();
        let result = *self.ids.get(joined.as_slice()).ok_or_else(|| {
            Error::config(format!(
                "merge {:?} + {:?} makes {:?}, which is not in the vocabulary",
                bytelevel::encode_bytes(a),
                bytelevel::encode_bytes(b),
                bytelevel::encode_bytes(&joined)
            ))
        })?;
        let rank = self.merges.len() as u32;
        // The first rule for a pair wins, as in HF (later duplicates are unreachable).
        self.ranks.entry(pair_key(left, right)).or_insert((rank, result));
        self.merges.push(Merge { left, right, result });
        Ok(())
    }

    /// One past the largest id.
    pub fn id_bound(&self) -> usize {
        self.tokens.len()
    }

    /// The number of defined tokens.
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    /// Whether the model has no tokens (never true for a valid byte-level model).
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    /// Whether pieces start as characters (a SentencePiece-style model) rather than bytes.
    pub fn is_char_level(&self) -> bool {
        matches!(self.symbols, Symbols::Chars(_))
    }

    /// The bytes a token stands for in decoded text (its bytes, except in character-level
    /// models, where `<0xNN>` is byte NN and the metaspace character a space).
    pub fn display_bytes(&self, id: TokenId) -> Option<&[u8]> {
        match &self.symbols {
            Symbols::Bytes => self.token_bytes(id),
            Symbols::Chars(chars) => chars.display.get(id as usize).and_then(|t| t.as_deref()),
        }
    }

    /// The bytes of a token.
    pub fn token_bytes(&self, id: TokenId) -> Option<&[u8]> {
        self.tokens.get(id as usize).and_then(|t| t.as_deref())
    }

    /// The id of a byte string, if it is a token.
    pub fn token_id(&self, bytes: &[u8]) -> Option<TokenId> {
        self.ids.get(bytes).copied()
    }

    /// The id of a single byte (`None` if the vocabulary lacks it).
    pub fn byte_id(&self, byte: u8) -> Option<TokenId> {
        Some(self.byte_ids[byte as usize]).filter(|&id| id != TokenId::MAX)
    }

    /// Bytes the vocabulary has no token for (encoding drops them, as HF does; never the case
    /// for vocabularies polybpe trains).
    pub fn missing_bytes(&self) -> &[u8] {
        &self.missing_bytes
    }

    /// Merges in priority order.
    pub fn merges(&self) -> &[Merge] {
        &self.merges
    }

    /// Whether whole pieces found in the vocabulary skip merging.
    pub fn ignore_merges(&self) -> bool {
        self.ignore_merges
    }

    /// All (id, bytes) pairs in id order.
    pub fn tokens(&self) -> impl Iterator<Item = (TokenId, &[u8])> {
        self.tokens.iter().enumerate().filter_map(|(id, t)| t.as_deref().map(|b| (id as TokenId, b)))
    }

    /// Encodes one pre-tokenized piece, appending ids to `out`.
    ///
    /// Applies the lowest-ranked applicable merge first, the leftmost one among equals, until
    /// none applies: the rule HF's `Word::merge_all` and tiktoken implement.
    pub fn encode_piece(&self, piece: &[u8], out: &mut Vec<TokenId>) {
        if piece.is_empty() {
            return;
        }
        if self.ignore_merges {
            if let Some(id) = self.token_id(piece) {
                out.push(id);
                return;
            }
        }
        self.merge_bytes(piece, out);
    }

    /// Byte ids of `piece`, merged by rank (no whole-piece lookup).
    pub(crate) fn merge_bytes(&self, piece: &[u8], out: &mut Vec<TokenId>) {
        let start = out.len();
        match &self.symbols {
            Symbols::Bytes => {
                if self.missing_bytes.is_empty() {
                    out.extend(piece.iter().map(|&b| self.byte_ids[b as usize]));
                } else {
                    out.extend(piece.iter().map(|&b| self.byte_ids[b as usize]).filter(|&id| id != TokenId::MAX));
                }
            }
            Symbols::Chars(chars) => chars.symbols(&self.ids, piece, out),
        }
        if out.len() - start > LONG_PIECE {
            self.merge_long(out, start);
        } else {
            self.merge_short(out, start);
        }
    }

    /// The (rank, result) of merging `left` and `right`, if a rule exists.
    #[inline]
    fn pair(&self, left: TokenId, right: TokenId) -> Option<(u32, TokenId)> {
        self.ranks.get(&pair_key(left, right)).copied()
    }

    /// Quadratic but cache-friendly, for the short pieces that make up almost all text: the
    /// rank of each adjacent pair is kept in an array, only the two pairs next to a merge are
    /// looked up again, and the next merge is found by a linear scan of the array (tiktoken
    /// makes the same choice below 100 bytes).
    ///
    /// Measured and not kept: filling the first round from a 65,536-entry table of byte pairs
    /// (512 KB, in L2) instead of probing `ranks` gave no gain on new text (cl100k, 11.4 MB of
    /// lines, one pass: 555 / 554 ms with it, 541 / 553 ms without).
    fn merge_short(&self, symbols: &mut Vec<TokenId>, start: usize) {
        const NO_MERGE: (u32, TokenId) = (u32::MAX, 0);
        let n = symbols.len() - start;
        if n < 2 {
            return;
        }
        let mut pairs = [NO_MERGE; LONG_PIECE];
        let syms = &mut symbols[start..];
        for i in 0..n - 1 {
            pairs[i] = self.pair(syms[i], syms[i + 1]).unwrap_or(NO_MERGE);
        }
        let mut len = n;
        loop {
            // The lowest rank, leftmost among equals.
            let mut best = 0;
            for i in 1..len - 1 {
                if pairs[i].0 < pairs[best].0 {
                    best = i;
                }
            }
            let (rank, result) = pairs[best];
            if rank == u32::MAX {
                break;
            }
            syms[best] = result;
            syms.copy_within(best + 2..len, best + 1);
            pairs.copy_within(best + 1..len - 1, best);
            len -= 1;
            if best + 1 < len {
                pairs[best] = self.pair(syms[best], syms[best + 1]).unwrap_or(NO_MERGE);
            } else {
                pairs[best] = NO_MERGE;
            }
            if best > 0 {
                pairs[best - 1] = self.pair(syms[best - 1], syms[best]).unwrap_or(NO_MERGE);
            }
            if len < 2 {
                break;
            }
        }
        symbols.truncate(start + len);
    }

    /// O(n log n) for long pieces (a megabyte without spaces must not take minutes, nor a
    /// hundred megabytes gigabytes of memory beyond the ids): symbols in a linked list over
    /// `out` itself, candidate merges in one queue per rank ([`RankQueues`]), stale entries
    /// skipped when popped. Same result as [`Self::merge_short`]: lowest rank first, leftmost
    /// among equal ranks.
    fn merge_long(&self, out: &mut Vec<TokenId>, start: usize) {
        if out.len() - start < u32::MAX as usize {
            self.merge_linked::<u32>(out, start);
        } else {
            self.merge_linked::<usize>(out, start);
        }
    }

    fn merge_linked<P: Position>(&self, out: &mut Vec<TokenId>, start: usize) {
        /// Marks a symbol merged into its left neighbour (no token has this id).
        const DEAD: TokenId = TokenId::MAX;
        let ids = &mut out[start..];
        let n = ids.len();
        let none = P::NONE;
        let mut prev: Vec<P> = (0..n).map(|i| if i == 0 { none } else { P::at(i - 1) }).collect();
        let mut next: Vec<P> = (0..n).map(|i| if i + 1 == n { none } else { P::at(i + 1) }).collect();
        let mut queues = RankQueues::<P>::default();
        for i in 0..n.saturating_sub(1) {
            if let Some((rank, _)) = self.pair(ids[i], ids[i + 1]) {
                queues.push(rank, P::at(i));
            }
        }
        while let Some((rank, pos)) = queues.pop() {
            let i = pos.index();
            let merge = self.merges[rank as usize];
            // Stale: the left symbol was merged away or changed, or its neighbour changed.
            let j = next[i];
            if j == none || ids[i] != merge.left || ids[j.index()] != merge.right {
                continue;
            }
            let j = j.index();
            ids[i] = merge.result;
            ids[j] = DEAD;
            next[i] = next[j];
            if next[j] != none {
                prev[next[j].index()] = pos;
            }
            if prev[i] != none {
                let p = prev[i].index();
                if let Some((rank, _)) = self.pair(ids[p], ids[i]) {
                    queues.push(rank, prev[i]);
                }
            }
            if next[i] != none {
                if let Some((rank, _)) = self.pair(ids[i], ids[next[i].index()]) {
                    queues.push(rank, pos);
                }
            }
        }
        drop((prev, next, queues));
        let mut kept = start;
        for i in start..out.len() {
            if out[i] != DEAD {
                out[kept] = out[i];
                kept += 1;
            }
        }
        out.truncate(kept);
    }
}

/// A symbol index in [`BpeModel::merge_linked`]: `u32` halves the memory of the links and
/// queues for every piece under 4 GiB.
trait Position: Copy + Eq {
    const NONE: Self;
    fn at(index: usize) -> Self;
    fn index(self) -> usize;
}

impl Position for u32 {
    const NONE: Self = u32::MAX;
    #[inline]
    fn at(index: usize) -> Self {
        index as u32
    }
    #[inline]
    fn index(self) -> usize {
        self as usize
    }
}

impl Position for usize {
    const NONE: Self = usize::MAX;
    #[inline]
    fn at(index: usize) -> Self {
        index
    }
    #[inline]
    fn index(self) -> usize {
        self
    }
}

/// Candidate merges of a long piece, popped in (rank, position) order.
///
/// One queue per rank instead of one heap of (rank, position): the rank is implicit (4 bytes
/// an entry instead of 24), and positions mostly arrive in increasing order (the first scan,
/// and the pairs a left-to-right sweep of one rank creates), so they are appended to a sorted
/// run and read back in order, without the cache misses of a heap the size of the piece.
struct RankQueues<P> {
    queues: AHashMap<u32, RankQueue<P>>,
    /// The ranks whose queue is not empty, each once.
    ranks: std::collections::BinaryHeap<std::cmp::Reverse<u32>>,
}

impl<P> Default for RankQueues<P> {
    fn default() -> Self {
        RankQueues { queues: AHashMap::new(), ranks: std::collections::BinaryHeap::new() }
    }
}

/// The positions of one rank: a sorted run read from `cursor` on, and a heap for the
/// positions that arrived out of order.
struct RankQueue<P> {
    sorted: Vec<P>,
    cursor: usize,
    rest: std::collections::BinaryHeap<std::cmp::Reverse<usize>>,
}

impl<P: Position> RankQueue<P> {
    fn is_empty(&self) -> bool {
        self.cursor == self.sorted.len() && self.rest.is_empty()
    }
}

impl<P: Position> RankQueues<P> {
    fn push(&mut self, rank: u32, pos: P) {
        let queue = self
            .queues
            .entry(rank)
            .or_insert_with(|| RankQueue { sorted: Vec::new(), cursor: 0, rest: Default::default() });
        if queue.is_empty() {
            self.ranks.push(std::cmp::Reverse(rank));
            queue.sorted.clear();
            queue.cursor = 0;
        }
        if queue.sorted.last().is_none_or(|last| last.index() <= pos.index()) {
            queue.sorted.push(pos);
        } else {
            queue.rest.push(std::cmp::Reverse(pos.index()));
        }
    }

    /// The lowest rank's leftmost position.
    fn pop(&mut self) -> Option<(u32, P)> {
        let std::cmp::Reverse(rank) = *self.ranks.peek()?;
        let queue = self.queues.get_mut(&rank)?;
        let from_sorted = queue.sorted.get(queue.cursor).copied();
        let from_rest = queue.rest.peek().map(|r| r.0);
        let pos = match (from_sorted, from_rest) {
            (Some(s), Some(r)) if r < s.index() => {
                queue.rest.pop();
                P::at(r)
            }
            (Some(s), _) => {
                queue.cursor += 1;
                // Consumed entries are dropped once they are half the run.
                if queue.cursor > 4096 && queue.cursor * 2 > queue.sorted.len() {
                    queue.sorted.drain(..queue.cursor);
                    queue.cursor = 0;
                }
                s
            }
            (None, Some(r)) => {
                queue.rest.pop();
                P::at(r)
            }
            (None, None) => return None,
        };
        if queue.is_empty() {
            self.ranks.pop();
        }
        Some((rank, pos))
    }
}

impl CharSymbols {
    /// Appends the first symbols of `piece`: each character's token, or its byte tokens, or
    /// the unknown token (HF's `BPE::merge_word`).
    fn symbols(&self, ids: &AHashMap<Box<[u8]>, TokenId>, piece: &[u8], out: &mut Vec<TokenId>) {
        let text = String::from_utf8_lossy(piece);
        let mut last_was_unk = false;
        let mut buf = [0u8; 4];
        for c in text.chars() {
            let bytes = c.encode_utf8(&mut buf).as_bytes();
            if let Some(&id) = ids.get(bytes) {
                out.push(id);
                last_was_unk = false;
                continue;
            }
            if let Some(table) = &self.byte_tokens {
                if bytes.iter().all(|&b| table[b as usize] != TokenId::MAX) {
                    out.extend(bytes.iter().map(|&b| table[b as usize]));
                    last_was_unk = false;
                    continue;
                }
            }
            if let Some(unk) = self.unk {
                if !(self.fuse_unk && last_was_unk) {
                    out.push(unk);
                }
                last_was_unk = true;
            }
        }
    }
}

/// Bytes → id for the defined ids; a token given twice is an error showing it with `show`.
fn token_index(tokens: &[Option<Box<[u8]>>], show: impl Fn(&[u8]) -> String) -> Result<AHashMap<Box<[u8]>, TokenId>> {
    let mut ids = AHashMap::with_capacity(tokens.len());
    for (id, bytes) in tokens.iter().enumerate() {
        if let Some(bytes) = bytes {
            if ids.insert(bytes.clone(), id as TokenId).is_some() {
                return Err(Error::config(format!("token {:?} appears twice in the vocabulary", show(bytes))));
            }
        }
    }
    Ok(ids)
}

/// Pieces longer than this (in bytes) use the heap-based merge.
const LONG_PIECE: usize = 128;

/// A merge pair as one word, the key of the rank table.
#[inline]
fn pair_key(left: TokenId, right: TokenId) -> u64 {
    ((left as u64) << 32) | right as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Bytes 0..=255 at ids 0..=255, then `extra` tokens.
    fn model(extra: &[&[u8]], merges: &[(TokenId, TokenId)]) -> BpeModel {
        let mut tokens: Vec<Option<Box<[u8]>>> = (0..=255u8).map(|b| Some(vec![b].into_boxed_slice())).collect();
        tokens.extend(extra.iter().map(|t| Some(t.to_vec().into_boxed_slice())));
        BpeModel::new(tokens, merges, false).unwrap()
    }

    #[test]
    fn merges_by_rank() {
        let (a, b, c) = (b'a' as u32, b'b' as u32, b'c' as u32);
        // rank 0: b c → 256; rank 1: a b → 257; rank 2: a bc → 258
        let m = model(&[b"bc", b"ab", b"abc"], &[(b, c), (a, b), (a, 256)]);
        let mut out = Vec::new();
        m.encode_piece(b"abc", &mut out);
        assert_eq!(out, vec![258]);
        out.clear();
        m.encode_piece(b"abab", &mut out);
        assert_eq!(out, vec![257, 257]);
    }

    /// The textbook rule: rescan every pair after each merge, apply the lowest rank.
    fn naive_merge(m: &BpeModel, symbols: &mut Vec<TokenId>) {
        loop {
            let mut best: Option<(u32, usize, TokenId)> = None;
            for i in 0..symbols.len().saturating_sub(1) {
                if let Some((rank, result)) = m.pair(symbols[i], symbols[i + 1]) {
                    if best.is_none_or(|(r, _, _)| rank < r) {
                        best = Some((rank, i, result));
                    }
                }
            }
            let Some((_, i, result)) = best else { break };
            symbols[i] = result;
            symbols.remove(i + 1);
        }
    }

    #[test]
    fn short_merge_matches_the_textbook_rule() {
        let (a, b, c) = (b'a' as u32, b'b' as u32, b'c' as u32);
        let m = model(&[b"bc", b"ab", b"abc", b"aa", b"aaaa"], &[(b, c), (a, b), (a, 256), (a, a), (259, 259)]);
        let mut state = 12345u64;
        for len in 0..=LONG_PIECE {
            for _ in 0..20 {
                let piece: Vec<u8> = (0..len)
                    .map(|_| {
                        state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                        b"abc"[(state >> 33) as usize % 3]
                    })
                    .collect();
                let mut expected = piece.iter().map(|&b| b as u32).collect::<Vec<_>>();
                naive_merge(&m, &mut expected);
                let mut got = vec![7];
                m.encode_piece(&piece, &mut got);
                assert_eq!(&got[1..], &expected[..], "piece {:?}", String::from_utf8_lossy(&piece));
            }
        }
    }

    #[test]
    fn long_and_short_merges_agree() {
        let (a, b, c) = (b'a' as u32, b'b' as u32, b'c' as u32);
        let m = model(&[b"bc", b"ab", b"abc", b"aa", b"aaaa"], &[(b, c), (a, b), (a, 256), (a, a), (259, 259)]);
        let pieces: Vec<Vec<u8>> = vec![b"abcabcaab".repeat(40), b"a".repeat(301), b"abababcbcbca".repeat(30), b"cab".repeat(50)];
        for piece in pieces {
            let mut short = (0..piece.len()).map(|i| piece[i] as u32).collect::<Vec<_>>();
            naive_merge(&m, &mut short);
            let mut long = Vec::new();
            m.encode_piece(&piece, &mut long);
            assert!(piece.len() > LONG_PIECE);
            assert_eq!(long, short);
        }
    }

    #[test]
    fn leftmost_among_equal_ranks() {
        let a = b'a' as u32;
        let m = model(&[b"aa"], &[(a, a)]);
        let mut out = Vec::new();
        m.encode_piece(b"aaa", &mut out);
        assert_eq!(out, vec![256, a]);
    }

    #[test]
    fn missing_bytes_are_dropped_like_hf() {
        let tokens: Vec<Option<Box<[u8]>>> = (0..=255u8).filter(|&b| b != 3).map(|b| Some(vec![b].into_boxed_slice())).collect();
        let m = BpeModel::new(tokens, &[], false).unwrap();
        assert_eq!(m.missing_bytes(), &[3]);
        let mut out = Vec::new();
        m.encode_piece(b"a\x03b", &mut out);
        assert_eq!(out, vec![b'a' as u32 - 1, b'b' as u32 - 1]);
        assert!(BpeModel::new(vec![None], &[], false).is_err());
    }

    #[test]
    fn merge_result_must_exist() {
        let tokens: Vec<Option<Box<[u8]>>> = (0..=255u8).map(|b| Some(vec![b].into_boxed_slice())).collect();
        assert!(BpeModel::new(tokens, &[(97, 98)], false).is_err());
    }
}
