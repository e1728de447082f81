//! `decode(encode(s)) == s` for every string, whatever special-token text it contains, and
//! encoding never panics. The tokenizer is trained once from a small built-in sample.

#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use polybpe::normalize::Normalization;
use polybpe::pretokenize::{Pattern, PreTokenizer};
use polybpe::special::{special_token_list, SpecialPreset};
use polybpe::train::{self, CountSettings, MergeSettings, TrainSettings, WordCounter};
use polybpe::{AllowedSpecial, Tokenizer};

const SAMPLE: &str = "Le chat dort sur le tapis. The cat sleeps on the mat. Der Hund schläft. \
    La ſcience & l'art, 1789–1799: «liberté». fn main() { println!(\"{}\", 42); } Zażółć gęślą jaźń.";

fn tokenizer() -> &'static Tokenizer {
    static TOKENIZER: OnceLock<Tokenizer> = OnceLock::new();
    TOKENIZER.get_or_init(|| {
        let special = special_token_list(SpecialPreset::PleiasRag, &[], 0).unwrap();
        let mut counter = WordCounter::new(Normalization::None, PreTokenizer::from_pattern(Pattern::Default).unwrap(), &special);
        for _ in 0..3 {
            counter.add_document("xx", SAMPLE).unwrap();
        }
        let config = TrainSettings { count: CountSettings { special_tokens: special, normalization: Normalization::None, ..Default::default() }, merge: MergeSettings { vocab_size: 400, ..Default::default() }, ..Default::default() };
        train::train_from_counts(&counter.finish(), &config, &train::Silent).unwrap().0
    })
}

fuzz_target!(|text: &str| {
    let tok = tokenizer();
    for allowed in [AllowedSpecial::None, AllowedSpecial::All] {
        let ids = tok.encode(text, allowed).unwrap();
        assert_eq!(tok.decode(&ids).unwrap(), text);
    }
});
