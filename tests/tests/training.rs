//! Training end to end through the library: determinism, special-token ids, vocab size.

mod common;

use polybpe::formats::hf;
use polybpe::special::{PLEIAS_BASE, PLEIAS_RAG};
use polybpe::AllowedSpecial;

#[test]
fn same_file_at_one_and_many_threads() {
    let dir = tempfile::tempdir().unwrap();
    match common::shared() {
        Some(shared) => common::corpus_slice(&shared, dir.path(), 400),
        None => common::synthetic_corpus(dir.path()),
    }
    let one = hf::to_json(&common::train_dir(dir.path(), 3000, 1)).unwrap();
    let four = hf::to_json(&common::train_dir(dir.path(), 3000, 4)).unwrap();
    assert!(one == four, "tokenizer.json differs between 1 and 4 threads");
}

#[test]
fn special_tokens_have_documented_ids_and_are_never_merged() {
    let dir = tempfile::tempdir().unwrap();
    common::synthetic_corpus(dir.path());
    // Special-token text inside the corpus must be cut out, not learned.
    std::fs::write(dir.path().join("rag.txt"), "<|source_start|>texte<|source_end|>\n".repeat(50)).unwrap();
    let tok = common::train_dir(dir.path(), 450, 2);
    let expected: Vec<&str> = PLEIAS_BASE.iter().chain(PLEIAS_RAG.iter()).copied().collect();
    for (id, text) in expected.iter().enumerate() {
        assert_eq!(tok.token_to_id(text), Some(id as u32), "{text}");
        assert_eq!(tok.encode(text, AllowedSpecial::All).unwrap(), vec![id as u32]);
        assert!(tok.encode(text, AllowedSpecial::None).unwrap().iter().all(|&i| i as usize >= expected.len()));
    }
    for m in tok.model().merges() {
        assert!(m.left as usize >= expected.len() && m.right as usize >= expected.len());
        let bytes = tok.model().token_bytes(m.result).unwrap();
        assert!(!expected.iter().any(|s| s.as_bytes() == bytes));
        assert!(!bytes.windows(2).any(|w| w == b"<|"), "a merge rebuilt special-token text");
    }
    assert_eq!(tok.vocab_size(), 450);
}

#[test]
fn exported_file_loads_back_identically() {
    let dir = tempfile::tempdir().unwrap();
    common::synthetic_corpus(dir.path());
    let tok = common::train_dir(dir.path(), 500, 2);
    let path = dir.path().join("tok.json");
    hf::save(&tok, &path).unwrap();
    let back = hf::load(&path).unwrap();
    let text = std::fs::read_to_string(dir.path().join("fr.txt")).unwrap();
    assert_eq!(tok.encode(&text, AllowedSpecial::None).unwrap(), back.encode(&text, AllowedSpecial::None).unwrap());
    assert_eq!(hf::to_json(&back).unwrap(), std::fs::read_to_string(&path).unwrap());
}

#[test]
fn long_s_becomes_a_token_on_historical_text() {
    let Some(shared) = common::shared() else {
        eprintln!("skipped: ../shared not found");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(shared.join("corpus/train/historical.txt")).unwrap();
    let head: Vec<&str> = text.lines().take(2000).collect();
    std::fs::write(dir.path().join("historical.txt"), head.join("\n")).unwrap();
    let tok = common::train_dir(dir.path(), 2000, 2);
    let ids = tok.encode("ſ", AllowedSpecial::None).unwrap();
    assert_eq!(ids.len(), 1, "ſ should be one token after training on historical text");
    assert!(tok.model().tokens().any(|(_, b)| b.len() > 2 && std::str::from_utf8(b).is_ok_and(|s| s.contains('ſ'))));
}

#[test]
fn jsonl_and_parquet_samples_train_the_same_vocabulary() {
    let Some(shared) = common::shared() else {
        eprintln!("skipped: ../shared not found");
        return;
    };
    use polybpe::corpus::CorpusOptions;
    use polybpe::train::{MergeSettings, Silent, TrainSettings, Trainer};
    let config = TrainSettings { merge: MergeSettings { vocab_size: 2000, ..Default::default() }, ..Default::default() };
    let run = |file: &str| {
        Trainer::new(config.clone()).unwrap().train_files(&[shared.join("corpus").join(file)], &CorpusOptions::default(), &Silent).unwrap()
    };
    let (jsonl, jsonl_report) = run("sample.jsonl");
    let (parquet, parquet_report) = run("sample.parquet");
    assert_eq!(jsonl_report.corpus.documents, 503);
    assert_eq!(jsonl_report.languages, parquet_report.languages);
    // Languages come from the records' `language` field, not from the file name.
    assert!(jsonl_report.languages.iter().any(|l| l == "fr") && jsonl_report.languages.len() > 3, "{:?}", jsonl_report.languages);
    assert_eq!(hf::to_json(&jsonl).unwrap(), hf::to_json(&parquet).unwrap());
}
