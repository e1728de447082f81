//! Arbitrary bytes as a tiktoken rank file: an error or a tokenizer, never a panic. A loaded
//! tokenizer writes back a rank file with the same tokens, encodes text to ids it can decode,
//! and, when every byte has a rank, decodes them to the text exactly.

#![no_main]

use libfuzzer_sys::fuzz_target;
use polybpe::formats::tiktoken;
use polybpe::AllowedSpecial;

const SAMPLE: &str = "Le château d'Ørsted, 1789 — ſouvent! Zażółć gęślą jaźń. fn main() {}\r\n\t 日本語 🦀";

fuzz_target!(|data: &[u8]| {
    let Ok(mut ranks) = tiktoken::parse_ranks(data) else { return };
    let Ok(tok) = tiktoken::from_ranks(ranks.clone(), "cl100k", &[]) else { return };

    let written = tiktoken::to_tiktoken(&tok);
    let back = tiktoken::parse_ranks(written.as_bytes()).expect("own rank file parses");
    ranks.sort_by_key(|&(_, rank)| rank);
    assert_eq!(back, ranks);

    let every_byte = (0..=255u8).all(|b| tok.model().token_id(&[b]).is_some());
    for text in [SAMPLE, &String::from_utf8_lossy(data)] {
        let ids = tok.encode(text, AllowedSpecial::None).expect("no special tokens to refuse");
        let bytes = tok.decode_bytes(&ids).expect("encoding gives known ids");
        if every_byte {
            assert_eq!(bytes, text.as_bytes());
        }
    }
});
