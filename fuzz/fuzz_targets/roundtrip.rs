//! `decode(encode(s)) == s` for every string, whatever special-token text it contains, and
//! encoding never panics; the lines of the string encoded together as a batch does
//! (`encode_texts_into`) give each line's own ids. The tokenizer is trained once from a small
//! built-in sample.

#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use polybpe::normalize::Normalization;
use polybpe::pretokenize::{Pattern, PreTokenizer};
use polybpe::special::{special_token_list, SpecialPreset};
use polybpe::train::{self, CountSettings, MergeSettings, TrainSettings, WordCounter};
use polybpe::{AllowedSpecial, Disallowed, Tokenizer};

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
        let lines: Vec<&str> = text.split('\n').collect();
        let (mut together, mut ends) = (Vec::new(), Vec::new());
        tok.encode_texts_into(&lines, |_| allowed == AllowedSpecial::All, Disallowed::AsText, Some(0), &mut together, &mut ends).unwrap();
        let mut start = 0;
        for (line, end) in lines.iter().zip(ends) {
            let mut alone = tok.encode(line, allowed).unwrap();
            alone.push(0);
            assert_eq!(together[start..end], alone, "{line:?}");
            start = end;
        }
        assert_eq!(start, together.len());
    }
});
