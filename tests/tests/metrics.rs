//! Fertility metrics on ../shared/corpus/parallel against the reference parities the issue
//! lists (measured with the real `tokenizers`/`tiktoken` libraries).

mod common;

use polybpe::formats::{hf, tiktoken};
use polybpe::metrics::{self, LanguageStats};
use polybpe::Tokenizer;

const LANGS: [&str; 7] = ["de", "es", "fr", "it", "nl", "pl", "pt"];

fn parities(tok: &Tokenizer, shared: &std::path::Path) -> Vec<(String, metrics::Parity)> {
    let read = |lang: &str| -> Vec<String> {
        std::fs::read_to_string(shared.join(format!("corpus/parallel/{lang}.txt"))).unwrap().lines().map(str::to_owned).collect()
    };
    let en = LanguageStats::measure(tok, &read("en")).unwrap();
    LANGS
        .iter()
        .map(|lang| {
            let stats = LanguageStats::measure(tok, &read(lang)).unwrap();
            (lang.to_string(), metrics::parity(&stats.line_tokens, &en.line_tokens))
        })
        .collect()
}

#[test]
fn parity_matches_the_reference_values() {
    let Some(shared) = common::shared() else {
        eprintln!("skipped: ../shared not found");
        return;
    };
    let gpt2 = hf::load(&shared.join("tokenizers/gpt2/gpt2.json")).unwrap();
    let cl100k = tiktoken::load(&shared.join("tokenizers/cl100k_base/cl100k_base.tiktoken"), "cl100k").unwrap();
    let expected = [
        (&gpt2, [2.13, 1.87, 1.95, 1.91, 2.00, 2.70, 1.89]),
        (&cl100k, [1.56, 1.46, 1.55, 1.56, 1.63, 1.93, 1.47]),
    ];
    for (tok, values) in expected {
        for ((lang, parity), want) in parities(tok, &shared).into_iter().zip(values) {
            assert!((parity.total - want).abs() < 0.005, "{lang}: parity {:.4}, reference {want}", parity.total);
            assert!(parity.median <= parity.p90 && parity.mean > 1.0);
        }
    }
}
