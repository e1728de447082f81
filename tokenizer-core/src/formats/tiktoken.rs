//! tiktoken rank files (`base64(token bytes) rank` per line): load them as tokenizers that give
//! tiktoken's ids, and write them.
//!
//! A rank file holds only the mergeable tokens. The split pattern and the special tokens are not
//! in it: they come with the encoding's name (`r50k`, `p50k`, `cl100k`, `o200k`, `llama3`, `qwen`,
//! `whisper`), as in tiktoken itself, or are given by the caller.
//!
//! # From ranks to merges
//!
//! tiktoken encodes a piece by looking it up whole first, then, starting from single bytes,
//! repeatedly merging the adjacent pair whose *concatenation* has the lowest rank (the leftmost
//! among equals). [`BpeModel`] merges explicit `(left, right)` pairs instead. For every token `t`
//! of two bytes or more we run tiktoken's own merge loop on the bytes of `t`; if it ends in the
//! single part `t`, its last merge `(x, y)` becomes the merge rule for `t`, ranked by `t`'s rank.
//! Otherwise no sequence of merges can build `t` and it gets no rule (it stays in the vocabulary:
//! tiktoken, and the model, still emit it when a whole piece equals it). The model is built with
//! `ignore_merges` (HF's name for the whole-piece lookup).
//!
//! This gives tiktoken's ids for every input, not only in practice:
//! - Inside the span of a part, merges happen in the order tiktoken's loop run on that span
//!   alone would make them: a merge is the global lowest (leftmost) pair, so it is also the
//!   lowest (leftmost) pair of the span, and merges outside the span do not change the pairs
//!   inside it. So when tiktoken merges `x + y` into `t`, the loop run on `t`'s bytes reaches
//!   `[x, y]` and then `[t]`: `(x, y)` is exactly the rule derived for `t`. Every merge tiktoken
//!   makes is a rule of the model.
//! - At each step tiktoken's choice is the lowest and leftmost of all pairs; it is a rule, so it
//!   is also the lowest and leftmost among the pairs that are rules, which is what the model
//!   picks (rule rank order = rank order of the results; one rule per result).
//!
//! HF's `TikTokenConverter` runs the loop restricted to ranks below `t`'s rank. That finds the
//! same rule whenever it finds one, but misses the tokens whose construction passes through a
//! higher-ranked part; the unrestricted loop used here covers them too.

use std::path::Path;

use ahash::AHashMap;

use crate::bpe::{BpeModel, TokenId};
use crate::normalize::Normalization;
use crate::pretokenize::{Pattern, PreTokenizer, CL100K_PATTERN, GPT2_PATTERN, O200K_PATTERN};
use crate::tokenizer::{AddedToken, Tokenizer};
use crate::{Error, Result};

/// Llama 3's split pattern: the same as cl100k's ([`CL100K_PATTERN`]).
pub const LLAMA3_PATTERN: &str = CL100K_PATTERN;

/// Qwen's split pattern (`tokenization_qwen.py`): cl100k's with single digits (`\p{N}`).
pub const QWEN_PATTERN: &str =
    r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";

/// The encoding names [`pattern_by_name`] knows.
pub const NAMES: &[&str] = &["r50k", "p50k", "cl100k", "o200k", "llama3", "qwen", "whisper"];

/// Ranks may leave at most this many ids unused (the model keeps one slot per id).
const MAX_HOLES: usize = 1 << 20;

/// The split pattern of a named encoding (`r50k`, `p50k`, `cl100k`, `o200k`, `llama3`, `qwen`,
/// `whisper`; the tiktoken names `r50k_base`, `p50k_base`, `cl100k_base`, `o200k_base` too).
///
/// The regexes are the HF spellings (greedy instead of tiktoken's possessive quantifiers), which
/// split text the same way.
pub fn pattern_by_name(name: &str) -> Option<&'static str> {
    Some(match name {
        "r50k" | "r50k_base" | "p50k" | "p50k_base" | "gpt2" | "whisper" => GPT2_PATTERN,
        "cl100k" | "cl100k_base" => CL100K_PATTERN,
        "llama3" => LLAMA3_PATTERN,
        "o200k" | "o200k_base" => O200K_PATTERN,
        "qwen" => QWEN_PATTERN,
        _ => return None,
    })
}

/// The special tokens tiktoken defines for a named encoding (empty for names it does not
/// define them for: `llama3`, `qwen`, `whisper` and raw regexes).
pub fn specials_by_name(name: &str) -> &'static [(&'static str, TokenId)] {
    match name {
        "r50k" | "r50k_base" | "p50k" | "p50k_base" | "gpt2" => &[("<|endoftext|>", 50256)],
        "cl100k" | "cl100k_base" => &[
            ("<|endoftext|>", 100257),
            ("<|fim_prefix|>", 100258),
            ("<|fim_middle|>", 100259),
            ("<|fim_suffix|>", 100260),
            ("<|endofprompt|>", 100276),
        ],
        "o200k" | "o200k_base" => &[("<|endoftext|>", 199999), ("<|endofprompt|>", 200018)],
        _ => &[],
    }
}

/// Loads a rank file with a named encoding's pattern and special tokens, or a raw regex (and
/// then no special tokens).
pub fn load(path: &Path, pattern: &str) -> Result<Tokenizer> {
    load_with_specials(path, pattern, &[])
}

/// Like [`load`], adding `extra_specials` (content, id) to the named encoding's special tokens
/// (e.g. Llama 3's `<|begin_of_text|>` = 128000, or Qwen's `<|endoftext|>` = 151643).
pub fn load_with_specials(path: &Path, pattern: &str, extra_specials: &[(String, TokenId)]) -> Result<Tokenizer> {
    let pre_tokenizer = pre_tokenizer(pattern)?;
    let added = specials(pattern, extra_specials)?;
    let ranks = read_ranks(path)?;
    let model = build_model(ranks).map_err(|message| Error::format(path, message))?;
    Tokenizer::new(Normalization::None, pre_tokenizer, model, added).map_err(|e| Error::format(path, e.to_string()))
}

/// Reads a rank file into (token bytes, rank) pairs in file order. Errors name the file and the
/// line.
pub fn read_ranks(path: &Path) -> Result<Vec<(Vec<u8>, TokenId)>> {
    let data = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    parse_ranks(&data).map_err(|message| Error::format(path, message))
}

/// Builds a tokenizer from (token bytes, rank) pairs: ids are the ranks (holes allowed),
/// `pattern` is a name or a regex as in [`load`], and `specials` are exactly the special tokens
/// added (see [`specials_by_name`] for the named sets).
///
/// Every byte should have a rank, as tiktoken requires; bytes without one are dropped when
/// encoding, as HF's BPE drops them.
pub fn from_ranks(ranks: Vec<(Vec<u8>, TokenId)>, pattern: &str, specials: &[(String, TokenId)]) -> Result<Tokenizer> {
    let pre_tokenizer = pre_tokenizer(pattern)?;
    let added = merge_specials(&[], specials)?;
    let model = build_model(ranks).map_err(Error::config)?;
    Tokenizer::new(Normalization::None, pre_tokenizer, model, added)
}

/// The rank file text of a tokenizer's model tokens (`base64 id` lines in id order).
///
/// Special and other added tokens are not written (rank files never hold them), nor is the
/// split pattern: give both again when loading. For tokenizers loaded from rank files, loading
/// the text back gives the same model. For others (HF files, polybpe's own vocabularies),
/// the ids are kept but tiktoken's rule applied to the ranks may split some pieces differently
/// from the original merge list.
pub fn to_tiktoken(tokenizer: &Tokenizer) -> String {
    let mut out = String::with_capacity(tokenizer.model().len() * 16);
    for (id, bytes) in tokenizer.model().tokens() {
        if bytes.is_empty() {
            // Whisper's multilingual file spells its one empty token `=`: a bare rank would not
            // be a valid line.
            out.push('=');
        } else {
            out.push_str(&encode_base64(bytes));
        }
        out.push(' ');
        out.push_str(&id.to_string());
        out.push('\n');
    }
    out
}

/// Writes the rank file of a tokenizer's model tokens atomically (see [`to_tiktoken`]).
pub fn save(tokenizer: &Tokenizer, path: &Path) -> Result<()> {
    crate::io::write_atomic(path, to_tiktoken(tokenizer).as_bytes())
}

/// The pre-tokenizer for a pattern name or regex.
fn pre_tokenizer(pattern: &str) -> Result<PreTokenizer> {
    let resolved = if let Some(regex) = pattern_by_name(pattern) {
        Pattern::from_regex(regex)
    } else if pattern == "default" || pattern == "polybpe" {
        Pattern::Default
    } else if pattern.is_empty() {
        return Err(Error::config("empty split pattern: give an encoding name or a regex"));
    } else if pattern.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-') {
        // A bare word is a misspelt name, not a useful split regex.
        return Err(Error::config(format!(
            "unknown tiktoken encoding `{pattern}` (known: {}, default; or give a split regex)",
            NAMES.join(", ")
        )));
    } else {
        Pattern::from_regex(pattern)
    };
    PreTokenizer::from_pattern(resolved)
}

/// The named encoding's specials plus `extra`, as added tokens.
fn specials(pattern: &str, extra: &[(String, TokenId)]) -> Result<Vec<AddedToken>> {
    merge_specials(specials_by_name(pattern), extra)
}

/// Joins two special-token lists; the same (content, id) twice is kept once, a content with two
/// ids or an id with two contents is an error.
fn merge_specials(named: &[(&str, TokenId)], extra: &[(String, TokenId)]) -> Result<Vec<AddedToken>> {
    let mut added: Vec<AddedToken> = Vec::with_capacity(named.len() + extra.len());
    let all = named.iter().map(|&(c, id)| (c, id)).chain(extra.iter().map(|(c, id)| (c.as_str(), *id)));
    for (content, id) in all {
        if content.is_empty() {
            return Err(Error::config(format!("special token with id {id} has empty text")));
        }
        if let Some(other) = added.iter().find(|t| t.content == content || t.id == id) {
            if other.content == content && other.id == id {
                continue;
            }
            return Err(Error::config(if other.content == content {
                format!("special token {content:?} is given two ids, {} and {id}", other.id)
            } else {
                format!("special token id {id} is given to both {:?} and {content:?}", other.content)
            }));
        }
        added.push(AddedToken { id, content: content.to_string(), special: true });
    }
    Ok(added)
}

/// Parses rank file contents. Lines are `base64 rank` separated by whitespace; `\r\n` endings
/// and blank lines are accepted. Errors are messages naming the line (the caller adds the
/// path).
pub fn parse_ranks(data: &[u8]) -> std::result::Result<Vec<(Vec<u8>, TokenId)>, String> {
    let mut ranks = Vec::with_capacity(data.len() / 10);
    // rank → line, bytes → (rank, line): to name both lines of a duplicate.
    let mut rank_lines: AHashMap<TokenId, usize> = AHashMap::new();
    let mut token_lines: AHashMap<Vec<u8>, (TokenId, usize)> = AHashMap::new();
    for (index, raw) in data.split(|&b| b == b'\n').enumerate() {
        let line = index + 1;
        let text = raw.strip_suffix(b"\r").unwrap_or(raw);
        let fields: Vec<&[u8]> = text.split(|b| b.is_ascii_whitespace()).filter(|f| !f.is_empty()).collect();
        let (token, rank) = match fields.as_slice() {
            [] => continue,
            [token, rank] => (*token, *rank),
            [token] => return Err(format!("line {line}: missing rank after the token `{}`", show(token))),
            _ => return Err(format!("line {line}: expected `base64 rank`, found {} fields", fields.len())),
        };
        let bytes = decode_base64(token).map_err(|e| format!("line {line}: token `{}` is not valid base64: {e}", show(token)))?;
        let rank: TokenId = std::str::from_utf8(rank)
            .ok()
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| format!("line {line}: rank `{}` is not a number from 0 to {}", show(rank), TokenId::MAX))?;
        if let Some(first) = rank_lines.insert(rank, line) {
            return Err(format!("line {line}: rank {rank} already used on line {first}"));
        }
        if let Some((first_rank, first)) = token_lines.insert(bytes.clone(), (rank, line)) {
            return Err(format!(
                "line {line}: token b\"{}\" already has rank {first_rank} on line {first}",
                bytes.escape_ascii()
            ));
        }
        ranks.push((bytes, rank));
    }
    if ranks.is_empty() {
        return Err(if data.iter().all(u8::is_ascii_whitespace) {
            "the file is empty: no `base64 rank` lines".to_string()
        } else {
            "no `base64 rank` lines".to_string()
        });
    }
    Ok(ranks)
}

/// A field as text for messages (lossy, cut after 40 characters).
fn show(field: &[u8]) -> String {
    let text = String::from_utf8_lossy(field);
    match text.char_indices().nth(40) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.into_owned(),
    }
}

/// The model of (bytes, rank) pairs, with the merges derived as the module docs say.
fn build_model(ranks: Vec<(Vec<u8>, TokenId)>) -> std::result::Result<BpeModel, String> {
    let Some(max_rank) = ranks.iter().map(|&(_, r)| r as usize).max() else {
        return Err("no ranks: a tiktoken vocabulary needs at least its 256 byte tokens".into());
    };
    if max_rank + 1 - ranks.len().min(max_rank + 1) > MAX_HOLES {
        return Err(format!(
            "ranks go up to {max_rank} for only {} tokens: more than {MAX_HOLES} unused ranks",
            ranks.len()
        ));
    }
    let mut tokens: Vec<Option<Box<[u8]>>> = vec![None; max_rank + 1];
    for (bytes, rank) in ranks {
        let slot = &mut tokens[rank as usize];
        if slot.is_some() {
            return Err(format!("rank {rank} is given to two tokens"));
        }
        *slot = Some(bytes.into_boxed_slice());
    }
    let mut by_bytes: AHashMap<&[u8], TokenId> = AHashMap::with_capacity(tokens.len());
    for (rank, bytes) in tokens.iter().enumerate() {
        if let Some(bytes) = bytes {
            if let Some(first) = by_bytes.insert(bytes, rank as TokenId) {
                return Err(format!("token b\"{}\" has two ranks, {first} and {rank}", bytes.escape_ascii()));
            }
        }
    }
    let mut merges = Vec::new();
    for bytes in tokens.iter().flatten() {
        if bytes.len() >= 2 {
            if let Some(pair) = last_merge(&by_bytes, bytes) {
                merges.push(pair);
            }
        }
    }
    drop(by_bytes);
    BpeModel::new(tokens, &merges, true).map_err(|e| e.to_string())
}

/// Runs tiktoken's merge loop on `piece` (at least 2 bytes); if it ends in one part, returns the
/// ids of the two parts of its last merge.
fn last_merge(ranks: &AHashMap<&[u8], TokenId>, piece: &[u8]) -> Option<(TokenId, TokenId)> {
    let mut split = None;
    let parts = merge_loop(ranks, piece, |_, middle, _| split = Some(middle));
    if parts.len() != 2 {
        return None;
    }
    let middle = split?;
    Some((*ranks.get(&piece[..middle])?, *ranks.get(&piece[middle..])?))
}

/// tiktoken's `byte_pair_merge`: the part boundaries of `piece` after merging, starting from
/// single bytes, the adjacent pair whose concatenation has the lowest rank (leftmost among
/// equals) until none has a rank. `on_merge(start, middle, end)` sees each merge.
pub(crate) fn merge_loop(
    ranks: &AHashMap<&[u8], TokenId>,
    piece: &[u8],
    mut on_merge: impl FnMut(usize, usize, usize),
) -> Vec<usize> {
    let mut bounds: Vec<usize> = (0..=piece.len()).collect();
    // pair_ranks[i]: rank of parts i and i + 1 joined (bounds[i]..bounds[i + 2]).
    let rank_of = |bounds: &[usize], i: usize| -> TokenId {
        if i + 2 < bounds.len() {
            ranks.get(&piece[bounds[i]..bounds[i + 2]]).copied().unwrap_or(TokenId::MAX)
        } else {
            TokenId::MAX
        }
    };
    let mut pair_ranks: Vec<TokenId> = (0..bounds.len().saturating_sub(2)).map(|i| rank_of(&bounds, i)).collect();
    loop {
        let mut best: Option<(TokenId, usize)> = None;
        for (i, &rank) in pair_ranks.iter().enumerate() {
            if rank != TokenId::MAX && best.filter(|&(r, _)| r <= rank).is_none() {
                best = Some((rank, i));
            }
        }
        let Some((_, i)) = best else { break };
        on_merge(bounds[i], bounds[i + 1], bounds[i + 2]);
        bounds.remove(i + 1);
        pair_ranks.remove(i);
        if i < pair_ranks.len() {
            pair_ranks[i] = rank_of(&bounds, i);
        }
        if i > 0 {
            pair_ranks[i - 1] = rank_of(&bounds, i - 1);
        }
    }
    bounds
}

const BASE64_ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Decodes standard base64 (`+/`, `=` padding to a multiple of 4 characters). A field of only
/// padding (`=`) is the empty string, as Python's decoder (and so tiktoken) reads it.
pub fn decode_base64(text: &[u8]) -> std::result::Result<Vec<u8>, String> {
    let data_len = text.iter().rposition(|&b| b != b'=').map_or(0, |p| p + 1);
    let (data, padding) = (&text[..data_len], text.len() - data_len);
    if padding > 2 {
        return Err(format!("{padding} `=` at the end (at most 2)"));
    }
    let mut out = Vec::with_capacity(data.len() / 4 * 3 + 2);
    let (mut acc, mut bits) = (0u32, 0u32);
    for (i, &c) in data.iter().enumerate() {
        let value = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            b'=' => return Err(format!("`=` inside the data (character {})", i + 1)),
            _ => return Err(format!("character {} is `{}`, not base64", i + 1, [c].escape_ascii())),
        };
        acc = (acc << 6) | u32::from(value);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    if !data.is_empty() && !text.len().is_multiple_of(4) {
        return Err(format!("{} characters: not a multiple of 4 (missing `=` padding?)", text.len()));
    }
    if data.len() % 4 == 1 {
        return Err("the last group has a single character".into());
    }
    Ok(out)
}

/// Encodes standard base64 with `=` padding.
pub fn encode_base64(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n = chunk.iter().enumerate().fold(0u32, |acc, (i, &b)| acc | u32::from(b) << (16 - 8 * i));
        for k in 0..4 {
            if k <= chunk.len() {
                out.push(BASE64_ALPHABET[(n >> (18 - 6 * k) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::AllowedSpecial;

    /// Bytes 0..=255 at ranks 0..=255, then `extra` from 256 on.
    fn table(extra: &[&[u8]]) -> Vec<(Vec<u8>, TokenId)> {
        let mut ranks: Vec<(Vec<u8>, TokenId)> = (0..=255u8).map(|b| (vec![b], b as TokenId)).collect();
        ranks.extend(extra.iter().enumerate().map(|(i, t)| (t.to_vec(), 256 + i as TokenId)));
        ranks
    }

    /// tiktoken's `byte_pair_encode` after the whole-piece lookup, written from its definition.
    fn reference(ranks: &[(Vec<u8>, TokenId)], piece: &[u8]) -> Vec<TokenId> {
        let map: AHashMap<&[u8], TokenId> = ranks.iter().map(|(b, r)| (b.as_slice(), *r)).collect();
        if let Some(&r) = map.get(piece) {
            return vec![r];
        }
        let bounds = merge_loop(&map, piece, |_, _, _| {});
        bounds.windows(2).map(|w| map[&piece[w[0]..w[1]]]).collect()
    }

    fn encode(tok: &Tokenizer, piece: &[u8]) -> Vec<TokenId> {
        let mut out = Vec::new();
        tok.model().encode_piece(piece, &mut out);
        out
    }

    fn write(dir: &tempfile::TempDir, name: &str, text: &str) -> std::path::PathBuf {
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        path
    }

    #[test]
    fn base64_edge_cases() {
        assert_eq!(decode_base64(b"").unwrap(), b"");
        assert_eq!(decode_base64(b"=").unwrap(), b"");
        assert_eq!(decode_base64(b"==").unwrap(), b"");
        assert_eq!(decode_base64(b"QQ==").unwrap(), b"A");
        assert_eq!(decode_base64(b"QUI=").unwrap(), b"AB");
        assert_eq!(decode_base64(b"QUJD").unwrap(), b"ABC");
        assert_eq!(decode_base64(b"+/+/").unwrap(), [0xfb, 0xff, 0xbf]);
        assert_eq!(decode_base64(b"IA==").unwrap(), b" ");
        for bad in [&b"QQ"[..], b"Q", b"QUJDQ", b"Q===", b"QQ=Q", b"QQ-=", b"Q\xc3\xa9=", b"QUJD=", b"QUI"] {
            assert!(decode_base64(bad).is_err(), "{:?}", bad.escape_ascii().to_string());
        }
        let bytes: Vec<u8> = (0..=255u8).rev().collect();
        for len in 0..20 {
            let slice = &bytes[..len];
            let text = encode_base64(slice);
            assert_eq!(text.len() % 4, 0);
            assert_eq!(decode_base64(text.as_bytes()).unwrap(), slice);
        }
        assert_eq!(encode_base64(b"ABC"), "QUJD");
        assert_eq!(encode_base64(b"AB"), "QUI=");
    }

    #[test]
    fn derived_model_matches_the_reference() {
        let ranks = table(&[b"bc", b"ab", b"abc", b"cd", b"bcd", b"abcd", b"aa", b"aaa"]);
        let tok = from_ranks(ranks.clone(), "cl100k", &[]).unwrap();
        for piece in ["abcd", "abcabc", "bcda", "aaaa", "aaaaa", "dcba", "abab", "aabcd", "ab", "a"] {
            assert_eq!(encode(&tok, piece.as_bytes()), reference(&ranks, piece.as_bytes()), "{piece}");
        }
        // "abc": b c (256) first, then a bc.
        assert_eq!(tok.model().merges()[2], crate::bpe::Merge { left: b'a' as u32, right: 256, result: 258 });
    }

    #[test]
    fn unreachable_tokens_only_as_whole_pieces() {
        // No pair inside "abc" is a token: BPE cannot build it, only the whole-piece lookup finds it.
        let ranks = table(&[b"abc"]);
        let tok = from_ranks(ranks.clone(), "cl100k", &[]).unwrap();
        assert!(tok.model().merges().is_empty());
        assert_eq!(encode(&tok, b"abc"), vec![256]);
        assert_eq!(encode(&tok, b"xabc"), reference(&ranks, b"xabc"));
        assert_eq!(encode(&tok, b"xabc"), vec![b'x' as u32, b'a' as u32, b'b' as u32, b'c' as u32]);
    }

    #[test]
    fn tokens_built_through_higher_ranks() {
        // "abc" (256) ranks below its part "bc" (257): tiktoken still builds it from a + bc.
        // A converter that only allows lower ranks would miss it.
        let ranks = table(&[b"abc", b"bc"]);
        let tok = from_ranks(ranks.clone(), "cl100k", &[]).unwrap();
        assert_eq!(encode(&tok, b"abcx"), vec![256, b'x' as u32]);
        assert_eq!(encode(&tok, b"abcx"), reference(&ranks, b"abcx"));
        assert_eq!(encode(&tok, b"xbca"), reference(&ranks, b"xbca"));
    }

    #[test]
    fn whole_text_through_the_tokenizer() {
        let ranks = table(&[b" w", b"or", b" wor", b"ld", b" world", b"He", b"ll", b"Hell", b"Hello"]);
        let tok = from_ranks(ranks, "cl100k", &[("<|endoftext|>".into(), 300)]).unwrap();
        assert_eq!(tok.encode("Hello world", AllowedSpecial::None).unwrap(), vec![264, 260]);
        assert_eq!(tok.encode("Hello<|endoftext|>", AllowedSpecial::All).unwrap(), vec![264, 300]);
        assert_eq!(tok.normalization(), Normalization::None);
        assert_eq!(tok.vocab_size(), 301);
        assert_eq!(tok.decode(&[264, 260, 300]).unwrap(), "Hello world<|endoftext|>");
    }

    #[test]
    fn patterns_by_name() {
        assert_eq!(pattern_by_name("r50k"), Some(GPT2_PATTERN));
        assert_eq!(pattern_by_name("llama3"), Some(CL100K_PATTERN));
        assert_eq!(pattern_by_name("qwen"), Some(QWEN_PATTERN));
        assert_eq!(pattern_by_name("nope"), None);
        for name in NAMES {
            assert!(pre_tokenizer(name).is_ok(), "{name}");
        }
        assert_eq!(pre_tokenizer("o200k").unwrap().pattern(), Some(&Pattern::O200k));
        let qwen = pre_tokenizer("qwen").unwrap();
        assert_eq!(qwen.split("in 1789!").unwrap(), ["in", " ", "1", "7", "8", "9", "!"]);
        assert!(pre_tokenizer("cl100").unwrap_err().to_string().contains("unknown tiktoken encoding"));
        assert!(pre_tokenizer(r"\p{L}+|\s+|.").is_ok());
        assert!(pre_tokenizer("(").is_err());
        assert_eq!(specials_by_name("cl100k").len(), 5);
        assert!(specials_by_name("llama3").is_empty());
    }

    #[test]
    fn special_token_lists() {
        let named = specials("r50k", &[("<|endoftext|>".into(), 50256), ("<|x|>".into(), 50257)]).unwrap();
        assert_eq!(named.len(), 2);
        assert!(specials("r50k", &[("<|endoftext|>".into(), 1)]).unwrap_err().to_string().contains("two ids"));
        assert!(specials("r50k", &[("<|x|>".into(), 50256)]).unwrap_err().to_string().contains("given to both"));
        // A special id that is a different model token.
        let err = from_ranks(table(&[]), "gpt2", &[("<|x|>".into(), 65)]).unwrap_err().to_string();
        assert!(err.contains("<|x|>"), "{err}");
    }

    #[test]
    fn errors_name_the_file_and_line() {
        let dir = tempfile::tempdir().unwrap();
        let cases = [
            ("bad_base64", "IQ== 0\nI!== 1\n", "line 2: token `I!==` is not valid base64"),
            ("bad_padding", "IQ== 0\nIQ 1\n", "line 2: token `IQ` is not valid base64"),
            ("missing_rank", "IQ== 0\n\nIg==\n", "line 3: missing rank"),
            ("not_numeric", "IQ== 0\nIg== one\n", "line 2: rank `one` is not a number"),
            ("negative", "IQ== -1\n", "line 1: rank `-1` is not a number"),
            ("too_large", "IQ== 4294967296\n", "line 1: rank `4294967296` is not a number"),
            ("dup_rank", "IQ== 0\nIg== 1\nIw== 1\n", "line 3: rank 1 already used on line 2"),
            ("dup_token", "IQ== 0\nIg== 1\nIQ== 2\n", "line 3: token b\"!\" already has rank 0 on line 1"),
            ("fields", "IQ== 0 x\n", "line 1: expected `base64 rank`, found 3 fields"),
            ("empty", "", "the file is empty"),
            ("blank", "\n\r\n  \n", "the file is empty"),
            ("sparse", "IQ== 4000000000\n", "unused ranks"),
            ("no_bytes", "SVE= 0\n", "single-byte"),
        ];
        for (name, text, expected) in cases {
            let path = write(&dir, name, text);
            let err = load(&path, "cl100k").unwrap_err().to_string();
            assert!(err.contains(expected), "{name}: {err}");
            assert!(err.contains(&path.display().to_string()), "{name}: {err}");
        }
        let missing = dir.path().join("missing.tiktoken");
        assert!(load(&missing, "cl100k").unwrap_err().to_string().contains("missing.tiktoken"));
        // Duplicates passed in memory are errors too, without lines.
        let mut ranks = table(&[]);
        ranks.push((b"ab".to_vec(), 5));
        assert!(from_ranks(ranks, "gpt2", &[]).unwrap_err().to_string().contains("rank 5"));
        let mut ranks = table(&[]);
        ranks.push((b"a".to_vec(), 300));
        assert!(from_ranks(ranks, "gpt2", &[]).unwrap_err().to_string().contains("two ranks"));
    }

    #[test]
    fn crlf_blank_lines_and_holes() {
        let dir = tempfile::tempdir().unwrap();
        let mut text = String::new();
        for b in 0..=255u8 {
            text.push_str(&format!("{} {}\r\n", encode_base64(&[b]), b as u32 + 1));
        }
        text.push_str("\r\n");
        text.push_str(&format!("{} 300\r\n", encode_base64(b"ab")));
        let path = write(&dir, "crlf.tiktoken", &text);
        let tok = load(&path, r"\S+|\s+").unwrap();
        assert_eq!(tok.model().token_bytes(0), None);
        assert_eq!(tok.model().token_id(b"ab"), Some(300));
        assert_eq!(tok.encode("abc", AllowedSpecial::None).unwrap(), vec![300, b'c' as u32 + 1]);
    }

    #[test]
    fn save_and_load_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let mut ranks = table(&[b" w", b"or", b" wor", b"ld", b" world", b"abc", b"bc", b"\xff\xfe"]);
        ranks.push((Vec::new(), 400)); // Whisper-style empty token.
        let tok = from_ranks(ranks.clone(), "gpt2", &[("<|endoftext|>".into(), 401)]).unwrap();
        let path = dir.path().join("out.tiktoken");
        save(&tok, &path).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.starts_with("AA== 0\nAQ== 1\n") && text.ends_with("= 400\n"), "{text}");
        let back = load_with_specials(&path, "whisper", &[("<|endoftext|>".into(), 401)]).unwrap();
        assert_eq!(back.model().tokens().collect::<Vec<_>>(), tok.model().tokens().collect::<Vec<_>>());
        assert_eq!(back.model().merges(), tok.model().merges());
        let text = "Hello world, abc\u{ff}<|endoftext|>";
        assert_eq!(back.encode(text, AllowedSpecial::All).unwrap(), tok.encode(text, AllowedSpecial::All).unwrap());
        assert_eq!(to_tiktoken(&back), to_tiktoken(&tok));
    }
}
