//! Throughput of each pipeline stage on the sample corpus: splitting, word counting, merging,
//! and encoding per language.
//!
//! `cargo bench -p polybpe-benches` (reads `../shared`, or `POLYBPE_SHARED`).

use std::path::PathBuf;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use polybpe::normalize::Normalization;
use polybpe::pretokenize::{Pattern, PreTokenizer};
use polybpe::special::{special_token_list, SpecialPreset};
use polybpe::train::{self, CountSettings, MergeSettings, TrainSettings, WordCounter};
use polybpe::AllowedSpecial;

fn shared() -> PathBuf {
    std::env::var_os("POLYBPE_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared"))
}

/// The first `bytes` of a train file, cut at a line end.
fn sample(lang: &str, bytes: usize) -> Option<String> {
    let text = std::fs::read_to_string(shared().join("corpus/train").join(format!("{lang}.txt"))).ok()?;
    // Cut at a newline byte, which is always a character boundary.
    let cut = text.as_bytes()[..bytes.min(text.len())].iter().rposition(|&b| b == b'\n').unwrap_or(0);
    Some(text[..cut].to_string())
}

const LANGS: [&str; 5] = ["en", "fr", "de", "pl", "code"];

fn split(c: &mut Criterion) {
    let mut group = c.benchmark_group("split");
    for pattern in [Pattern::Default, Pattern::Cl100k] {
        let pre = PreTokenizer::from_pattern(pattern.clone()).unwrap();
        for lang in LANGS {
            let Some(text) = sample(lang, 1 << 20) else { return };
            group.throughput(Throughput::Bytes(text.len() as u64));
            group.bench_with_input(BenchmarkId::new(pattern.name(), lang), &text, |b, text| {
                b.iter(|| pre.split(text).unwrap().len())
            });
        }
    }
    group.finish();
}

fn count_and_merge(c: &mut Criterion) {
    let Some(text) = sample("fr", 2 << 20) else { return };
    let special = special_token_list(SpecialPreset::PleiasRag, &[], 0).unwrap();
    let counter = || {
        let mut counter = WordCounter::new(Normalization::Nfc, PreTokenizer::from_pattern(Pattern::Default).unwrap(), &special);
        for line in text.lines() {
            counter.add_document("fr", line).unwrap();
        }
        counter.finish()
    };
    let mut group = c.benchmark_group("train");
    group.sample_size(10);
    group.throughput(Throughput::Bytes(text.len() as u64));
    group.bench_function("count 2MB fr", |b| b.iter(counter));
    let counts = counter();
    let config = TrainSettings { count: CountSettings { special_tokens: special.clone(), ..Default::default() }, merge: MergeSettings { vocab_size: 8192, ..Default::default() } };
    group.bench_function("merge 8k on 2MB fr", |b| b.iter(|| train::train_from_counts(&counts, &config, &train::Silent).unwrap()));
    group.finish();
}

/// Balanced merging: 1 MB of each of the 8 languages of the parallel set, 8,000 merges, plain
/// against hard and soft parity-aware selection (dev: lines 1-1000 of parallel/).
fn balanced_merge(c: &mut Criterion) {
    let dev_dir = shared().join("corpus").join("parallel");
    if !dev_dir.is_dir() {
        return;
    }
    let mut counter = WordCounter::new(Normalization::Nfc, PreTokenizer::from_pattern(Pattern::Default).unwrap(), &[] as &[&str]);
    for lang in ["de", "en", "es", "fr", "it", "nl", "pl", "pt"] {
        let Some(text) = sample(lang, 1 << 20) else { return };
        for line in text.lines() {
            counter.add_document(lang, line).unwrap();
        }
    }
    let counts = counter.finish();
    let plain = TrainSettings { merge: MergeSettings { vocab_size: 256 + 8000, ..Default::default() }, ..Default::default() };
    let parity = |strength| train::ParityConfig {
        dev: Some(dev_dir.clone()),
        dev_lines: Some(train::LineRange::parse("1:1000").unwrap()),
        strength,
        ..train::ParityConfig::default()
    };
    let hard = TrainSettings { merge: MergeSettings { parity: Some(parity(None)), ..plain.clone().merge.clone() }, ..plain.clone() };
    let soft = TrainSettings { merge: MergeSettings { parity: Some(parity(Some(8.0))), ..plain.clone().merge.clone() }, ..plain.clone() };
    let dev = train::count_dev(&dev_dir, hard.merge.parity.as_ref().unwrap().dev_lines, &hard.count).unwrap();
    let mut group = c.benchmark_group("train-balanced");
    group.sample_size(10);
    for (name, config) in [("plain 8k", &plain), ("parity 8k", &hard), ("soft parity 8k", &soft)] {
        group.bench_function(name, |b| b.iter(|| train::train_balanced(&counts, Some(&dev), config, &train::Silent).unwrap()));
    }
    group.finish();
}

fn encode(c: &mut Criterion) {
    let Some(train_text) = sample("fr", 2 << 20) else { return };
    let mut counter = WordCounter::new(Normalization::Nfc, PreTokenizer::from_pattern(Pattern::Default).unwrap(), &[] as &[&str]);
    for lang in LANGS {
        if let Some(text) = sample(lang, 1 << 20) {
            counter.add_document(lang, &text).unwrap();
        }
    }
    counter.add_document("fr", &train_text).unwrap();
    let config = TrainSettings { merge: MergeSettings { vocab_size: 16384, ..Default::default() }, ..Default::default() };
    let (tok, _) = train::train_from_counts(&counter.finish(), &config, &train::Silent).unwrap();
    let mut group = c.benchmark_group("encode");
    for lang in LANGS {
        let Some(text) = sample(lang, 1 << 20) else { return };
        group.throughput(Throughput::Bytes(text.len() as u64));
        group.bench_with_input(BenchmarkId::new("polybpe-16k", lang), &text, |b, text| {
            b.iter(|| tok.encode(text, AllowedSpecial::None).unwrap().len())
        });
    }
    group.finish();
}

/// Encoding document by document (each line a document, as in `peers.py`) with cl100k.
fn encode_cl100k(c: &mut Criterion) {
    let ranks = shared().join("tokenizers/cl100k_base/cl100k_base.tiktoken");
    let Ok(tok) = polybpe::formats::tiktoken::load(&ranks, "cl100k") else { return };
    let mut group = c.benchmark_group("encode-lines");
    for lang in LANGS {
        let Some(text) = sample(lang, 1 << 20) else { return };
        let lines: Vec<&str> = text.lines().collect();
        group.throughput(Throughput::Bytes(text.len() as u64));
        group.bench_with_input(BenchmarkId::new("cl100k", lang), &lines, |b, lines| {
            b.iter(|| lines.iter().map(|line| tok.encode(line, AllowedSpecial::None).unwrap().len()).sum::<usize>())
        });
    }
    group.finish();
}

criterion_group!(benches, balanced_merge, split, count_and_merge, encode, encode_cl100k);
criterion_main!(benches);
