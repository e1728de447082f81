//! Property tests of encoding and training beyond the round trip (`roundtrip.rs`):
//! - encodings concatenate exactly where the normalizer and the split pattern cut the text;
//! - document text never becomes a special id, whatever special-token text (whole, partial,
//!   overlapping) it holds, and allowed special text becomes exactly the leftmost-longest ids;
//! - every piece encodes by the merge rule, first met or from the cache, and long pieces (the
//!   heap-free merge path) merge exactly like the textbook rule;
//! - a long text, encoded on several threads, gives the ids of one thread;
//! - training on random small corpora gives the same file at 1 and 4 threads.

mod common;

use std::collections::HashMap;

use polybpe::corpus::Documents;
use polybpe::formats::hf;
use polybpe::special::{special_token_list, SpecialPreset};
use polybpe::train::{self, CountSettings, LanguageWeights, MergeSettings, Silent, TrainSettings, Weighting, WordCounter};
use polybpe::{AllowedSpecial, TokenId, Tokenizer};
use proptest::prelude::*;

use common::{synthetic_tokenizer as trained, synthetic_unnormalized as unnormalized};

/// Short strings from the characters where splitting and normalization are delicate.
fn fragment() -> impl Strategy<Value = String> {
    let pieces = prop_oneof![
        Just("ſ".to_string()),
        Just("\u{301}".to_string()),
        Just("e\u{301}".to_string()),
        Just("🎉".to_string()),
        Just("\r\n".to_string()),
        Just("\n".to_string()),
        Just("\0".to_string()),
        Just("l'".to_string()),
        Just("'s".to_string()),
        Just("’".to_string()),
        Just(" ".to_string()),
        Just("   ".to_string()),
        Just("\t".to_string()),
        Just("1789".to_string()),
        Just("!?".to_string()),
        Just("<|source_end|>".to_string()),
        "[a-zA-Zàéèüöß]{1,8}",
        any::<char>().prop_map(|c| c.to_string()),
    ];
    prop::collection::vec(pieces, 0..10).prop_map(|v| v.concat())
}

/// Text that contains no character any special token's text is made of.
fn plain_fragment() -> impl Strategy<Value = String> {
    fragment().prop_map(|s| s.chars().filter(|c| !"<>|[]".contains(*c)).collect())
}

/// The pieces `tok` cuts `text` into, after normalization.
fn pieces(tok: &Tokenizer, text: &str) -> Vec<String> {
    let normalized = tok.normalization().apply(text);
    tok.pre_tokenizer().split(&normalized).unwrap().into_iter().map(str::to_owned).collect()
}

/// Whether normalizing and splitting `a + b` gives the pieces of `a` followed by those of `b`.
fn cut_between(tok: &Tokenizer, a: &str, b: &str) -> bool {
    let joined = format!("{a}{b}");
    let normalized_apart = format!("{}{}", tok.normalization().apply(a), tok.normalization().apply(b));
    if tok.normalization().apply(&joined) != normalized_apart {
        return false;
    }
    let mut apart = pieces(tok, a);
    apart.extend(pieces(tok, b));
    pieces(tok, &joined) == apart
}

fn encode(tok: &Tokenizer, text: &str) -> Vec<TokenId> {
    tok.encode(text, AllowedSpecial::None).unwrap()
}

fn concat(a: &[TokenId], b: &[TokenId]) -> Vec<TokenId> {
    a.iter().chain(b).copied().collect()
}

/// Every special token's text, with its id.
fn specials(tok: &Tokenizer) -> Vec<(String, TokenId)> {
    tok.special_tokens().map(|t| (t.content.clone(), t.id)).collect()
}

/// The special ids a leftmost-longest scan finds in `text`, written out plainly.
fn leftmost_longest(specials: &[(String, TokenId)], text: &str) -> Vec<TokenId> {
    let mut found = Vec::new();
    let mut at = 0;
    while at < text.len() {
        let longest = specials.iter().filter(|(s, _)| text[at..].starts_with(s.as_str())).max_by_key(|(s, _)| s.len());
        match longest {
            Some((s, id)) => {
                found.push(*id);
                at += s.len();
            }
            None => at += text[at..].chars().next().unwrap().len_utf8(),
        }
    }
    found
}

/// Documents built from special-token text: whole tokens, their halves, doubled delimiters and
/// tokens run together, mixed with ordinary text.
fn special_laden_text() -> impl Strategy<Value = String> {
    let names: Vec<String> = special_token_list(SpecialPreset::PleiasRag, &[], 0).unwrap();
    let piece = prop_oneof![
        3 => prop::sample::select(names.clone()),
        2 => (prop::sample::select(names.clone()), 1usize..12).prop_map(|(s, cut)| s[..cut.min(s.len() - 1)].to_string()),
        2 => (prop::sample::select(names), 1usize..12).prop_map(|(s, cut)| s[s.len() - cut.min(s.len() - 1)..].to_string()),
        1 => Just("<|".to_string()),
        1 => Just("|>".to_string()),
        1 => Just("<|source_id_start|>_end|>".to_string()),
        1 => Just("<|<|end_of_text|>|>".to_string()),
        2 => fragment(),
    ];
    prop::collection::vec(piece, 0..16).prop_map(|v| v.concat())
}

/// The merge rule applied naively: rescan all pairs, apply the lowest rank, repeat.
fn naive_bpe(tok: &Tokenizer, piece: &[u8]) -> Vec<TokenId> {
    let model = tok.model();
    let ranks: HashMap<(TokenId, TokenId), (usize, TokenId)> =
        model.merges().iter().enumerate().map(|(rank, m)| ((m.left, m.right), (rank, m.result))).collect();
    let mut symbols: Vec<TokenId> = piece.iter().map(|&b| model.byte_id(b).unwrap()).collect();
    loop {
        let best = (0..symbols.len().saturating_sub(1))
            .filter_map(|i| ranks.get(&(symbols[i], symbols[i + 1])).map(|&(rank, result)| (rank, i, result)))
            .min();
        let Some((_, i, result)) = best else { return symbols };
        symbols[i] = result;
        symbols.remove(i + 1);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    /// If the text is cut between `a` and `b` anyway, encoding cannot tell them apart from two
    /// separate calls.
    #[test]
    fn encodings_concatenate_where_the_pattern_cuts(a in fragment(), b in fragment()) {
        for tok in [trained(), unnormalized()] {
            if cut_between(tok, &a, &b) {
                let joined = format!("{a}{b}");
                prop_assert_eq!(encode(tok, &joined), concat(&encode(tok, &a), &encode(tok, &b)));
            }
        }
    }

    /// A word followed by a line break is always a cut: letter runs never take a newline, and
    /// nothing in `a` looks ahead past its last letter.
    #[test]
    fn encodings_concatenate_at_a_line_break_after_a_letter(
        a in (fragment(), "[a-zA-Zéſ]").prop_map(|(s, c)| s + &c),
        b in fragment().prop_map(|s| format!("\n{s}")),
    ) {
        for tok in [trained(), unnormalized()] {
            prop_assert!(cut_between(tok, &a, &b), "{:?} | {:?}", a, b);
            let joined = format!("{a}{b}");
            prop_assert_eq!(encode(tok, &joined), concat(&encode(tok, &a), &encode(tok, &b)));
        }
    }

    /// An allowed special token is a hard boundary: the text on each side is encoded alone.
    #[test]
    fn encodings_concatenate_around_an_allowed_special_token(
        a in plain_fragment(),
        b in plain_fragment(),
        special in prop::sample::select(special_token_list(SpecialPreset::PleiasRag, &[], 0).unwrap()),
    ) {
        let tok = trained();
        let id = tok.token_to_id(&special).unwrap();
        let joined = format!("{a}{special}{b}");
        let expected: Vec<TokenId> = encode(tok, &a).into_iter().chain([id]).chain(encode(tok, &b)).collect();
        prop_assert_eq!(tok.encode(&joined, AllowedSpecial::All).unwrap(), expected);
    }

    #[test]
    fn special_text_in_documents_is_text_unless_allowed(text in special_laden_text()) {
        let tok = unnormalized();
        let specials = specials(tok);
        let is_special = |id: &TokenId| specials.iter().any(|(_, s)| s == id);

        let plain = encode(tok, &text);
        prop_assert!(!plain.iter().any(is_special), "special id from document text {:?}", text);
        prop_assert_eq!(tok.decode(&plain).unwrap(), text.clone());

        let allowed = tok.encode(&text, AllowedSpecial::All).unwrap();
        let found: Vec<TokenId> = allowed.iter().copied().filter(is_special).collect();
        prop_assert_eq!(found, leftmost_longest(&specials, &text));
        prop_assert_eq!(tok.decode(&allowed).unwrap(), text.clone());

        // Allowing one token recognizes that one only.
        let source_end = tok.token_to_id("<|source_end|>").unwrap();
        let one = tok.encode_allowing(&text, |id| id == source_end).unwrap();
        prop_assert!(one.iter().filter(|id| is_special(id)).all(|&id| id == source_end));
        prop_assert_eq!(tok.decode(&one).unwrap(), text);
    }

    /// Every piece encodes as the merge rule says, whether met for the first time (looked up or
    /// merged, then cached) or again (from the per-thread cache); pieces of zero, one, two and
    /// more ids are stored differently there.
    #[test]
    fn the_piece_cache_changes_no_encoding(text in fragment()) {
        let tok = trained();
        // A fresh tokenizer has a cache of its own, empty.
        let fresh = tok.with_model(tok.model().clone()).unwrap();
        let expected: Vec<TokenId> = pieces(tok, &text).iter().flat_map(|p| naive_bpe(tok, p.as_bytes())).collect();
        prop_assert_eq!(encode(&fresh, &text), expected.clone(), "first sighting");
        prop_assert_eq!(encode(&fresh, &text), expected, "from the cache");
    }

    /// Pieces longer than the short-merge buffer take the linked-list path; both must follow
    /// the rule exactly, including on long runs of one letter.
    #[test]
    fn long_pieces_merge_like_the_textbook_rule(
        piece in prop_oneof![
            "[a-eſ]{120,700}",
            "[lea]{200,900}",
            (1usize..600).prop_map(|n| "e".repeat(n)),
            (1usize..80).prop_map(|n| "le château ".repeat(n).replace(' ', "")),
        ],
    ) {
        let tok = trained();
        let mut ids = Vec::new();
        tok.model().encode_piece(piece.as_bytes(), &mut ids);
        prop_assert_eq!(ids, naive_bpe(tok, piece.as_bytes()));
    }
}

/// Pools of 1, 2 and 3 threads, built once per test binary.
fn pools() -> &'static [rayon::ThreadPool; 3] {
    static POOLS: std::sync::OnceLock<[rayon::ThreadPool; 3]> = std::sync::OnceLock::new();
    POOLS.get_or_init(|| [1, 2, 3].map(|n| rayon::ThreadPoolBuilder::new().num_threads(n).build().unwrap()))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(16))]

    /// Texts of `PARALLEL_ABOVE` bytes or more are split on one thread and their pieces encoded
    /// on all: the ids, special tokens allowed or not, are those of one thread, and the text
    /// comes back from them (the tokenizer has no normalizer). Fragments repeat, so that later runs of pieces meet the caches.
    #[test]
    fn a_long_text_encodes_the_same_on_any_number_of_threads(
        fragments in prop::collection::vec(special_laden_text(), 1..40),
        extra in 0usize..5000,
    ) {
        let tok = unnormalized();
        let mut text = String::new();
        let target = polybpe::tokenizer::PARALLEL_ABOVE + extra;
        while text.len() < target {
            for f in &fragments {
                text.push_str(f);
                text.push(' ');
            }
        }
        for allowed in [AllowedSpecial::None, AllowedSpecial::All] {
            let [one, two, three] = pools().each_ref().map(|pool| pool.install(|| tok.encode(&text, allowed).unwrap()));
            prop_assert!(one == two && two == three, "ids differ between thread counts");
            prop_assert_eq!(&tok.decode(&two).unwrap(), &text);
        }
    }
}

/// A random corpus: documents of words from a small alphabet (so words repeat and merges tie),
/// in up to three languages.
fn small_corpus() -> impl Strategy<Value = Vec<(String, String)>> {
    let word = prop_oneof![
        "[a-fſé]{1,6}",
        Just("l'homme".to_string()),
        Just("1789".to_string()),
        Just("<|source_end|>".to_string()),
        Just("  ".to_string()),
    ];
    let doc = (prop::sample::select(vec!["fr", "de", "la"]), prop::collection::vec(word, 1..12))
        .prop_map(|(lang, words)| (lang.to_string(), words.join(" ")));
    prop::collection::vec(doc, 1..60)
}

/// The tokenizer.json trained on `docs`, or the error (a corpus of special-token text alone
/// leaves nothing to learn from): the same either way at any thread count.
fn train_on(docs: &[(String, String)], weighting: Weighting, threads: usize) -> Result<String, String> {
    let config = TrainSettings { count: CountSettings { special_tokens: special_token_list(SpecialPreset::PleiasRag, &[], 0).unwrap(), ..Default::default() }, merge: MergeSettings { vocab_size: 41 + 256 + 60, min_frequency: 1, weights: LanguageWeights { weighting, multipliers: Vec::new() }, ..Default::default() } };
    let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
    pool.install(|| {
        let mut counter: WordCounter = config.count.word_counter().unwrap();
        // Several batches, as the corpus reader hands them over.
        for batch in docs.chunks(7) {
            counter.add_batch(&batch.iter().cloned().collect::<Documents>()).map_err(|e| e.to_string())?;
        }
        let (tok, _) = train::train_from_counts(&counter.finish(), &config, &Silent).map_err(|e| e.to_string())?;
        hf::to_json(&tok).map_err(|e| e.to_string())
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn training_is_identical_at_one_and_four_threads(
        docs in small_corpus(),
        weighting in prop_oneof![Just(Weighting::Proportional), Just(Weighting::Uniform), Just(Weighting::Temperature(0.3))],
    ) {
        let one = train_on(&docs, weighting.clone(), 1);
        let four = train_on(&docs, weighting, 4);
        prop_assert!(one == four, "tokenizer.json differs between 1 and 4 threads");
    }
}
