//! The `vocab` command line: bad input gives one clear error and a non-zero exit, never a panic.

mod common;

use std::path::Path;

use common::{fails_with, stderr, vocab, write};

fn small_corpus(dir: &Path) -> String {
    let corpus = dir.join("corpus");
    std::fs::create_dir_all(&corpus).unwrap();
    write(&corpus, "fr.txt", "le chat et le chien, l'homme et la femme\n".repeat(30).as_bytes());
    write(&corpus, "de.txt", "der Hund und die Katze, ſo ſagt man\n".repeat(30).as_bytes());
    corpus.display().to_string()
}

#[test]
fn trains_encodes_decodes_and_inspects() {
    let dir = tempfile::tempdir().unwrap();
    let corpus = small_corpus(dir.path());
    let out = dir.path().join("tok.json").display().to_string();
    let run = vocab(&["train", "--corpus", &corpus, "--out", &out, "--vocab-size", "320", "--special-tokens", "pleias-rag"]);
    assert!(run.status.success(), "{}", stderr(&run));
    let summary = String::from_utf8_lossy(&run.stdout);
    assert!(summary.contains(&out) && summary.contains("fr") && summary.contains("de"), "{summary}");

    let text = write(dir.path(), "in.txt", "le chat ſo\nder Hund\n".as_bytes());
    let enc = vocab(&["encode", "-t", &out, "--lines", &text]);
    assert!(enc.status.success(), "{}", stderr(&enc));
    let ids = String::from_utf8(enc.stdout).unwrap();
    assert_eq!(ids.lines().count(), 2);
    let ids_path = write(dir.path(), "ids.txt", ids.as_bytes());
    let dec = vocab(&["decode", "-t", &out, "--lines", &ids_path]);
    assert_eq!(String::from_utf8(dec.stdout).unwrap(), "le chat ſo\nder Hund\n");
    let dec = vocab(&["decode", "-t", &out, &ids_path]);
    assert_eq!(String::from_utf8(dec.stdout).unwrap(), "le chat ſo\nder Hund");

    let inspect = vocab(&["inspect", &out]);
    let shown = String::from_utf8(inspect.stdout).unwrap();
    assert!(shown.contains("vocab size 320") && shown.contains("<|source_end|>") && shown.contains("ſ (U+017F)"), "{shown}");
}

#[test]
fn missing_corpus_file() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nope.txt").display().to_string();
    let out = dir.path().join("t.json").display().to_string();
    fails_with(&vocab(&["train", "--corpus", &missing, "--out", &out, "--vocab-size", "400", "-q"]), &["nope.txt"]);
}

#[test]
fn invalid_utf8_names_file_and_offset_and_can_be_skipped() {
    let dir = tempfile::tempdir().unwrap();
    let corpus = dir.path().join("c");
    std::fs::create_dir(&corpus).unwrap();
    let mut bytes = "bonjour le monde\n".repeat(20).into_bytes();
    bytes.extend_from_slice(b"caf\xE9 au lait\n");
    bytes.extend_from_slice("encore du texte\n".repeat(20).as_bytes());
    write(&corpus, "fr.txt", &bytes);
    let corpus = corpus.display().to_string();
    let out = dir.path().join("t.json").display().to_string();
    let offset = (17 * 20 + 3).to_string();
    fails_with(&vocab(&["train", "--corpus", &corpus, "--out", &out, "--vocab-size", "300", "-q"]), &["fr.txt", &offset, "line 21"]);
    assert!(!Path::new(&out).exists(), "no output after a failure");
    let ok = vocab(&["train", "--corpus", &corpus, "--out", &out, "--vocab-size", "300", "--skip-invalid", "--special-tokens", "none"]);
    assert!(ok.status.success(), "{}", stderr(&ok));
    assert!(String::from_utf8_lossy(&ok.stdout).contains("1 invalid lines skipped"));
}

#[test]
fn empty_corpus() {
    let dir = tempfile::tempdir().unwrap();
    let corpus = dir.path().join("c");
    std::fs::create_dir(&corpus).unwrap();
    write(&corpus, "en.txt", b"\n\n\n");
    let out = dir.path().join("t.json").display().to_string();
    fails_with(&vocab(&["train", "--corpus", &corpus.display().to_string(), "--out", &out, "-q"]), &["empty"]);
}

#[test]
fn vocab_size_below_specials_and_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let corpus = small_corpus(dir.path());
    let out = dir.path().join("t.json").display().to_string();
    fails_with(
        &vocab(&["train", "--corpus", &corpus, "--out", &out, "--vocab-size", "290", "--special-tokens", "pleias-rag", "-q"]),
        &["vocab size 290", "41 special tokens + 256 byte tokens = 297"],
    );
}

#[test]
fn unknown_recipe_key() {
    let dir = tempfile::tempdir().unwrap();
    let corpus = small_corpus(dir.path());
    let recipe = write(dir.path(), "r.toml", b"vocab_size = 400\nvocab_szie = 500\n");
    let out = dir.path().join("t.json").display().to_string();
    fails_with(&vocab(&["train", "--recipe", &recipe, "--corpus", &corpus, "--out", &out, "-q"]), &["r.toml", "vocab_szie"]);
}

#[test]
fn unreadable_parquet() {
    let dir = tempfile::tempdir().unwrap();
    let bad = write(dir.path(), "broken.parquet", b"PAR1 this is not really parquet");
    let out = dir.path().join("t.json").display().to_string();
    fails_with(&vocab(&["train", "--corpus", &bad, "--out", &out, "-q"]), &["broken.parquet", "Parquet"]);
}

#[test]
fn bad_tokenizer_file_and_bad_ids() {
    let dir = tempfile::tempdir().unwrap();
    let bad = write(dir.path(), "bad.json", b"{\"model\": {\"type\": \"BPE\", \"dropout\": 0.1, \"vocab\": {}, \"merges\": []}}");
    let input = write(dir.path(), "in.txt", b"hello");
    fails_with(&vocab(&["encode", "-t", &bad, &input]), &["bad.json", "dropout"]);
    let empty = write(dir.path(), "empty.json", b"{\"model\": {\"type\": \"BPE\", \"byte_fallback\": true, \"vocab\": {}, \"merges\": []}}");
    fails_with(&vocab(&["encode", "-t", &empty, &input]), &["empty.json", "empty"]);
    let truncated = write(dir.path(), "cut.json", b"{\"model\": {\"type\": ");
    fails_with(&vocab(&["encode", "-t", &truncated, &input]), &["cut.json", "JSON"]);

    let corpus = small_corpus(dir.path());
    let tok = dir.path().join("tok.json").display().to_string();
    assert!(vocab(&["train", "--corpus", &corpus, "--out", &tok, "--vocab-size", "400", "-q"]).status.success());
    let ids = write(dir.path(), "ids.txt", b"1 2 99999\n");
    fails_with(&vocab(&["decode", "-t", &tok, &ids]), &["99999"]);
    let ids = write(dir.path(), "ids2.txt", b"1 x\n");
    fails_with(&vocab(&["decode", "-t", &tok, &ids]), &["line 1", "\"x\""]);
}

#[test]
fn output_directory_not_writable() {
    let dir = tempfile::tempdir().unwrap();
    let corpus = small_corpus(dir.path());
    let blocker = write(dir.path(), "file", b"x");
    let out = format!("{blocker}/sub/t.json");
    fails_with(&vocab(&["train", "--corpus", &corpus, "--out", &out, "--vocab-size", "400", "-q"]), &["file"]);
}

/// A trained tokenizer and a small parallel directory (en, fr, de).
fn compare_setup(dir: &Path) -> (String, String) {
    let corpus = small_corpus(dir);
    let tok = dir.join("tok.json").display().to_string();
    let run = vocab(&["train", "--corpus", &corpus, "--out", &tok, "--vocab-size", "320", "-q"]);
    assert!(run.status.success(), "{}", stderr(&run));
    let parallel = dir.join("parallel");
    std::fs::create_dir_all(&parallel).unwrap();
    write(&parallel, "en.txt", b"the cat and the dog\n\nthe man and the woman\n");
    write(&parallel, "fr.txt", b"le chat et le chien\n\nl'homme et la femme\n");
    write(&parallel, "de.txt", b"die Katze und der Hund\n\nder Mann und die Frau\n");
    (tok, parallel.display().to_string())
}

#[test]
fn compare_writes_json_rows_csv_and_charts() {
    let dir = tempfile::tempdir().unwrap();
    let (tok, parallel) = compare_setup(dir.path());
    let json_path = dir.path().join("rows.json");
    let svg = dir.path().join("chart.svg");
    let run = vocab(&[
        "compare", &format!("mine={tok}"), &tok, "--parallel", &parallel, "--format", "json", "--out",
        json_path.to_str().unwrap(), "--chart", svg.to_str().unwrap(), "-q",
    ]);
    assert!(run.status.success(), "{}", stderr(&run));
    let rows: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&json_path).unwrap()).unwrap();
    let rows = rows.as_array().unwrap();
    assert_eq!(rows.len(), 6, "2 tokenizers × 3 languages");
    for key in ["tokenizer", "lang", "lines", "tokens", "words", "chars", "bytes", "fertility", "chars_per_token", "bytes_per_token", "cont_words", "parity", "renyi", "vocab_use"] {
        assert!(rows.iter().all(|r| r.get(key).is_some()), "missing {key}");
    }
    assert_eq!(rows[0]["tokenizer"], "mine");
    assert_eq!(rows[3]["tokenizer"], "tok");
    let en = rows.iter().find(|r| r["lang"] == "en").unwrap();
    assert_eq!((en["parity"].as_f64(), en["lines"].as_u64(), en["words"].as_u64()), (Some(1.0), Some(3), Some(10)));
    let fr = rows.iter().find(|r| r["lang"] == "fr").unwrap();
    let tokens = fr["tokens"].as_f64().unwrap();
    assert!((fr["fertility"].as_f64().unwrap() - tokens / fr["words"].as_f64().unwrap()).abs() < 1e-12);
    assert!((fr["parity"].as_f64().unwrap() - tokens / en["tokens"].as_f64().unwrap()).abs() < 1e-12);
    let chart = std::fs::read_to_string(&svg).unwrap();
    assert!(chart.starts_with("<svg") && chart.contains("Parity vs en") && chart.contains(">mine<"));

    let csv = vocab(&["fertility", &tok, "--parallel", &parallel, "--format", "csv", "--lang", "en,fr", "-q"]);
    let csv = String::from_utf8(csv.stdout).unwrap();
    assert!(csv.starts_with("tokenizer,lang,lines,tokens,words,chars,bytes,fertility,"), "{csv}");
    assert_eq!(csv.lines().count(), 3);
    let html = dir.path().join("report.html");
    let run = vocab(&["fertility", &tok, "--parallel", &parallel, "--chart", html.to_str().unwrap(), "--format", "md", "-q"]);
    assert!(run.status.success() && String::from_utf8_lossy(&run.stdout).starts_with("| tokenizer | lang |"));
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(page.contains("<svg") && page.contains("<table") && page.contains("Gini"));
    // Self-contained: no link anywhere but the SVG namespace.
    assert!(!page.replace("http://www.w3.org/2000/svg", "").contains("http"));
}

#[test]
fn compare_bad_inputs() {
    let dir = tempfile::tempdir().unwrap();
    let (tok, parallel) = compare_setup(dir.path());
    fails_with(&vocab(&["compare", &tok, "--parallel", "/nonexistent/dir", "-q"]), &["/nonexistent/dir"]);
    fails_with(&vocab(&["compare", &tok, "-q"]), &["--parallel"]);
    fails_with(&vocab(&["compare", &tok, "--parallel", &parallel, "--format", "xml", "-q"]), &["xml", "csv"]);
    fails_with(&vocab(&["compare", &tok, "--parallel", &parallel, "--ref", "la", "-q"]), &["\"la\""]);
    fails_with(&vocab(&["compare", &tok, "--parallel", &parallel, "--lang", "en,xx", "-q"]), &["xx.txt"]);
    let ranks = write(dir.path(), "ranks.tiktoken", b"YQ== 0\n");
    fails_with(&vocab(&["compare", &ranks, "--parallel", &parallel, "-q"]), &["ranks.tiktoken", "pattern"]);
    write(Path::new(&parallel), "nl.txt", b"een regel\n");
    fails_with(&vocab(&["compare", &tok, "--parallel", &parallel, "-q"]), &["line-aligned", "nl"]);
    std::fs::write(Path::new(&parallel).join("nl.txt"), b"a\n\xff\nc\n").unwrap();
    fails_with(&vocab(&["compare", &tok, "--parallel", &parallel, "-q"]), &["nl.txt", "line 2"]);
}

#[test]
fn balanced_training_from_a_recipe_and_flags() {
    let dir = tempfile::tempdir().unwrap();
    let corpus = small_corpus(dir.path());
    let dev = dir.path().join("dev");
    std::fs::create_dir(&dev).unwrap();
    write(&dev, "fr.txt", "le chat et le chien\nheld out\n".as_bytes());
    write(&dev, "de.txt", "der Hund und die Katze\nnicht gesehen\n".as_bytes());
    // The recipe's dev directory is relative to the recipe's folder, not to --corpus.
    let recipe = write(
        dir.path(),
        "r.toml",
        b"vocab_size = 330\nspecial_tokens = \"none\"\n[balance]\nweighting = \"temperature\"\ntemperature = 0.5\n[parity]\ndev = \"dev\"\ndev_lines = \"1:1\"\nwindow = 10\n",
    );
    let out = dir.path().join("t.json").display().to_string();
    let run = vocab(&["train", "--recipe", &recipe, "--corpus", &corpus, "--out", &out]);
    assert!(run.status.success(), "{}", stderr(&run));
    let summary = String::from_utf8_lossy(&run.stdout);
    assert!(summary.contains("parity-aware merges") && summary.contains("dev text"), "{summary}");
    let plain = dir.path().join("p.json").display().to_string();
    let run = vocab(&["train", "--recipe", &recipe, "--corpus", &corpus, "--out", &plain, "--no-balance", "-q"]);
    assert!(run.status.success(), "{}", stderr(&run));
    assert_ne!(std::fs::read(&out).unwrap(), std::fs::read(&plain).unwrap());

    // Settings that cannot work name what is wrong.
    fails_with(&vocab(&["train", "--corpus", &corpus, "--out", &out, "--dev-lines", "1:2", "-q"]), &["--parity-dev"]);
    fails_with(&vocab(&["train", "--corpus", &corpus, "--out", &out, "--weighting", "zipf", "-q"]), &["zipf"]);
    fails_with(&vocab(&["train", "--corpus", &corpus, "--out", &out, "--weight", "fr", "-q"]), &["--weight", "LANG=NUMBER"]);
    fails_with(&vocab(&["train", "--corpus", &corpus, "--out", &out, "--ratio", "la=3", "-q"]), &["\"la\"", "not in the training corpus"]);
    let missing = dir.path().join("nodev").display().to_string();
    fails_with(&vocab(&["train", "--corpus", &corpus, "--out", &out, "--parity-dev", &missing, "-q"]), &["nodev"]);
    let bad = write(dir.path(), "b.toml", b"[parity]\ndev = \"x\"\nstrenght = 2\n");
    fails_with(&vocab(&["train", "--recipe", &bad, "--corpus", &corpus, "--out", &out, "-q"]), &["b.toml", "strenght"]);

    // Held-out scoring: the dev file's second line, never a dev line, is scored; held-out lines
    // that overlap the dev lines are refused.
    let dev_dir = dev.display().to_string();
    let run = vocab(&["train", "--recipe", &recipe, "--corpus", &corpus, "--out", &out, "--heldout", &dev_dir, "--heldout-lines", "2:"]);
    assert!(run.status.success(), "{}", stderr(&run));
    let summary = String::from_utf8_lossy(&run.stdout);
    let fr = summary.lines().find(|l| l.starts_with("fr ") && l.split_whitespace().count() == 6).unwrap_or_else(|| panic!("{summary}"));
    assert_eq!(fr.split_whitespace().nth(2), Some("8"), "{fr}"); // "held out": 8 bytes
    assert!(summary.contains("held-out text"), "{summary}");
    fails_with(
        &vocab(&["train", "--recipe", &recipe, "--corpus", &corpus, "--out", &out, "--heldout", &dev_dir, "-q"]),
        &["overlap the dev lines 1:1"],
    );
}

#[test]
fn counted_shards_train_like_the_whole_corpus() {
    let dir = tempfile::tempdir().unwrap();
    let corpus = small_corpus(dir.path());
    let path = |name: &str| dir.path().join(name).display().to_string();
    let whole = vocab(&["train", "--corpus", &corpus, "--out", &path("whole.json"), "--vocab-size", "330", "-q"]);
    assert!(whole.status.success(), "{}", stderr(&whole));
    for lang in ["fr", "de"] {
        let shard = format!("{corpus}/{lang}.txt");
        let run = vocab(&["count", "--corpus", &shard, "--out", &path(&format!("{lang}.counts")), "-q"]);
        assert!(run.status.success(), "{}", stderr(&run));
    }
    let merged = vocab(&["merge-counts", &path("fr.counts"), &path("de.counts"), "--out", &path("all.counts")]);
    assert!(merged.status.success(), "{}", stderr(&merged));
    let run = vocab(&["train", "--counts", &path("all.counts"), "--out", &path("counted.json"), "--vocab-size", "330", "-q"]);
    assert!(run.status.success(), "{}", stderr(&run));
    assert_eq!(std::fs::read(path("whole.json")).unwrap(), std::fs::read(path("counted.json")).unwrap());

    // Counts made with other settings, or cut short, are refused with the file named.
    let nfkc = vocab(&["count", "--corpus", &corpus, "--out", &path("nfkc.counts"), "--normalization", "nfkc", "-q"]);
    assert!(nfkc.status.success(), "{}", stderr(&nfkc));
    fails_with(&vocab(&["merge-counts", &path("fr.counts"), &path("nfkc.counts"), "--out", &path("x.counts")]), &["nfkc.counts", "normalization nfkc"]);
    fails_with(&vocab(&["train", "--counts", &path("nfkc.counts"), "--out", &path("x.json"), "-q"]), &["nfkc.counts", "normalization"]);
    let bytes = std::fs::read(path("all.counts")).unwrap();
    let cut = write(dir.path(), "cut.counts", &bytes[..bytes.len() / 2]);
    fails_with(&vocab(&["train", "--counts", &cut, "--out", &path("x.json"), "-q"]), &["cut.counts", "truncated"]);
    assert!(!Path::new(&path("x.json")).exists());
}

fn trained(dir: &Path) -> String {
    let corpus = small_corpus(dir);
    let out = dir.join("tok.json").display().to_string();
    let run = vocab(&["train", "--corpus", &corpus, "--out", &out, "--vocab-size", "320", "--special-tokens", "pleias-rag", "--quiet"]);
    assert!(run.status.success(), "{}", stderr(&run));
    out
}

#[test]
fn decode_inverts_each_form_of_encode() {
    let dir = tempfile::tempdir().unwrap();
    let tok = trained(dir.path());
    // Whole file: byte for byte, with or without a final newline.
    for text in ["le chat\nder Hund", "le chat\nder Hund\n", "", "\n\n"] {
        let input = write(dir.path(), "whole.txt", text.as_bytes());
        let ids = vocab(&["encode", "-t", &tok, &input]);
        let ids_path = write(dir.path(), "whole.ids", &ids.stdout);
        let dec = vocab(&["decode", "-t", &tok, &ids_path]);
        assert!(dec.status.success(), "{}", stderr(&dec));
        assert_eq!(String::from_utf8(dec.stdout).unwrap(), text);
    }
    // JSONL: what encode --jsonl writes, decode reads, as text lines or back as JSONL.
    let texts = "\"le chat\\nſo\"\n\"<|source_end|> der Hund\"\n";
    let input = write(dir.path(), "in.jsonl", texts.as_bytes());
    let ids = vocab(&["encode", "-t", &tok, "--jsonl", &input]);
    assert!(ids.status.success(), "{}", stderr(&ids));
    assert!(String::from_utf8_lossy(&ids.stdout).starts_with('['));
    let ids_path = write(dir.path(), "ids.jsonl", &ids.stdout);
    let jsonl = vocab(&["decode", "-t", &tok, "--jsonl", &ids_path]);
    assert_eq!(String::from_utf8(jsonl.stdout).unwrap(), texts);
    let plain = vocab(&["decode", "-t", &tok, "--lines", &ids_path]);
    assert_eq!(String::from_utf8(plain.stdout).unwrap(), "le chat\nſo\n<|source_end|> der Hund\n");
    let bad = write(dir.path(), "bad.jsonl", b"[1, 2\n");
    fails_with(&vocab(&["decode", "-t", &tok, &bad]), &["bad.jsonl", "line 1", "JSON array"]);
}

#[test]
fn a_closed_pipe_ends_every_printing_command_quietly() {
    use std::os::unix::process::ExitStatusExt;
    use std::process::{Command, Stdio};
    let dir = tempfile::tempdir().unwrap();
    let corpus = small_corpus(dir.path());
    let tok = trained(dir.path());
    let big = write(dir.path(), "big.txt", "le chat et le chien\n".repeat(20_000).as_bytes());
    let out = dir.path().join("again.json").display().to_string();
    let commands: Vec<Vec<&str>> = vec![
        vec!["train", "--corpus", &corpus, "--out", &out, "--vocab-size", "320"],
        vec!["encode", "-t", &tok, "--lines", &big],
        vec!["inspect", &tok],
        vec!["fertility", &tok, "--parallel", &corpus, "--ref", "fr"],
    ];
    for args in commands {
        // `vocab … | head -0`: the reader is gone before the first line is written.
        let mut child = Command::new(env!("CARGO_BIN_EXE_vocab")).args(&args).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
        drop(child.stdout.take());
        let result = child.wait_with_output().unwrap();
        let err = String::from_utf8_lossy(&result.stderr);
        assert!(!err.contains("panicked") && !err.contains("rror"), "{args:?}: {err}");
        // Ended by SIGPIPE, as `cat` or `grep` would be: the shell sees 141, nothing is printed.
        assert_eq!(result.status.signal(), Some(13), "{args:?}: {:?} {err}", result.status);
    }
}

#[test]
fn export_writes_a_model_folder() {
    let dir = tempfile::tempdir().unwrap();
    let tok = trained(dir.path());
    let folder = dir.path().join("models/pleias");
    let run = vocab(&["export", &tok, "--out", folder.to_str().unwrap(), "--model-max-length", "2048"]);
    assert!(run.status.success(), "{}", stderr(&run));
    let config: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(folder.join("tokenizer_config.json")).unwrap()).unwrap();
    assert_eq!(config["model_max_length"], 2048);
    assert_eq!(config["eos_token"], "<|end_of_text|>");
    assert_eq!(config["split_special_tokens"], true);
    assert!(config["chat_template"].as_str().unwrap().contains("<|source_analysis_start|>"));
    assert_eq!(std::fs::read(folder.join("tokenizer.json")).unwrap(), std::fs::read(&tok).unwrap());
    assert!(folder.join("special_tokens_map.json").exists());

    fails_with(&vocab(&["export", &tok]), &["--out"]);
    fails_with(&vocab(&["export", "missing.json", "--out", folder.to_str().unwrap()]), &["missing.json"]);
    let in_the_way = write(dir.path(), "file", b"x");
    fails_with(&vocab(&["export", &tok, "--out", &in_the_way]), &["file", "in the way"]);

    let corpus = small_corpus(dir.path());
    let trained_folder = dir.path().join("trained");
    let run = vocab(&["train", "--corpus", &corpus, "--out", &tok, "--out-dir", trained_folder.to_str().unwrap(), "--vocab-size", "320", "--quiet"]);
    assert!(run.status.success(), "{}", stderr(&run));
    assert_eq!(std::fs::read(trained_folder.join("tokenizer.json")).unwrap(), std::fs::read(&tok).unwrap());
    fails_with(&vocab(&["count", "--corpus", &corpus, "--out-dir", "x"]), &["--out-dir"]);
}

/// `vocab count` takes input and counting options only: a merge setting is a usage error, not
/// silently ignored. Reading options reach the corpus reader from flags and from a recipe.
#[test]
fn count_takes_counting_options_and_fields_are_settable() {
    let dir = tempfile::tempdir().unwrap();
    let corpus = small_corpus(dir.path());
    let out = dir.path().join("c.counts").display().to_string();
    for flag in [["--vocab-size", "1000"], ["--parity-strength", "2"], ["--weighting", "uniform"]] {
        fails_with(&vocab(&["count", "--corpus", &corpus, "--out", &out, flag[0], flag[1]]), &[flag[0]]);
    }
    let jsonl = write(dir.path(), "docs.jsonl", "{\"body\": \"le chat et le chien\", \"lang\": \"fr\"}\n".repeat(20).as_bytes());
    let tok = dir.path().join("t.json").display().to_string();
    let run = vocab(&["train", "--corpus", &jsonl, "--out", &tok, "--vocab-size", "300", "--text-field", "body", "--lang-field", "lang"]);
    assert!(run.status.success(), "{}", stderr(&run));
    assert!(String::from_utf8_lossy(&run.stdout).contains("\nfr "), "{}", String::from_utf8_lossy(&run.stdout));
    let recipe = write(dir.path(), "r.toml", b"text_field = \"body\"\nlang_field = \"lang\"\nvocab_size = 300\n");
    let run = vocab(&["train", "--recipe", &recipe, "--corpus", &jsonl, "--out", &tok, "--quiet"]);
    assert!(run.status.success(), "{}", stderr(&run));
    // Without the field names the records have no `text`: the error names the field.
    fails_with(&vocab(&["train", "--corpus", &jsonl, "--out", &tok, "--vocab-size", "300"]), &["text"]);
}

/// A document of 64 KiB or more is encoded on every thread of the pool (split in parts, pieces
/// in parallel runs): its shard is the same at one and two threads, and decodes to the text.
#[test]
fn a_long_document_gives_the_same_shard_at_any_thread_count() {
    let dir = tempfile::tempdir().unwrap();
    let tok = trained(dir.path());
    let text = "le chat dort. Die Straße ſo lang,  l'homme\tqu'il aime 1789\n".repeat(2000);
    assert!(text.len() >= polybpe::tokenizer::PARALLEL_ABOVE);
    let file = write(dir.path(), "book.txt", text.as_bytes());
    let mut shards = Vec::new();
    for threads in ["1", "2"] {
        let prefix = dir.path().join(format!("book{threads}")).display().to_string();
        let run = vocab(&["encode", "-t", &tok, "--output", &prefix, "--doc-per-file", "--threads", threads, "-q", &file]);
        assert!(run.status.success(), "{}", stderr(&run));
        shards.push((std::fs::read(format!("{prefix}.ids.npy")).unwrap(), std::fs::read(format!("{prefix}.offsets.npy")).unwrap(), prefix));
    }
    assert_eq!((&shards[0].0, &shards[0].1), (&shards[1].0, &shards[1].1), "same bytes at 1 and 2 threads");
    let shard = polybpe::encode_corpus::read_shard(std::path::Path::new(&shards[1].2)).unwrap();
    assert_eq!(shard.offsets.len(), 2, "one document");
    let tokenizer = polybpe::formats::hf::load(std::path::Path::new(&tok)).unwrap();
    assert_eq!(tokenizer.decode(&shard.ids.to_vec()).unwrap(), text);
}

#[test]
fn encodes_a_corpus_into_token_shards() {
    let dir = tempfile::tempdir().unwrap();
    let tok = trained(dir.path());
    let corpus = dir.path().join("shards-in");
    std::fs::create_dir(&corpus).unwrap();
    write(&corpus, "a.txt", "le chat\n\nder Hund ſo\n".as_bytes());
    write(&corpus, "b.jsonl", b"{\"text\": \"l'homme <|source_end|>\"}\n{\"text\": \"la femme\"}\n");
    let corpus_arg = corpus.display().to_string();
    let mut shards = Vec::new();
    for threads in ["1", "2"] {
        let prefix = dir.path().join(format!("shard{threads}")).display().to_string();
        let run = vocab(&["encode", "-t", &tok, "--output", &prefix, "--eod", "<|source_end|>", "--threads", threads, "-q", &corpus_arg]);
        assert!(run.status.success(), "{}", stderr(&run));
        let ids = std::fs::read(format!("{prefix}.ids.npy")).unwrap();
        let offsets = std::fs::read(format!("{prefix}.offsets.npy")).unwrap();
        shards.push((ids, offsets, prefix));
    }
    assert_eq!((&shards[0].0, &shards[0].1), (&shards[1].0, &shards[1].1), "same bytes at 1 and 2 threads");
    let shard = polybpe::encode_corpus::read_shard(std::path::Path::new(&shards[0].2)).unwrap();
    // The same ids as encoding each document alone, with the end-of-document id after each.
    let lines = write(dir.path(), "docs.txt", "le chat\nder Hund ſo\nl'homme <|source_end|>\nla femme\n".as_bytes());
    let each = vocab(&["encode", "-t", &tok, "--lines", &lines]);
    let eod = polybpe::formats::hf::load(std::path::Path::new(&tok)).unwrap().token_to_id("<|source_end|>").unwrap();
    let mut expected = Vec::new();
    let mut offsets = vec![0u64];
    for line in String::from_utf8(each.stdout).unwrap().lines() {
        expected.extend(line.split_whitespace().map(|id| id.parse::<u32>().unwrap()));
        expected.push(eod);
        offsets.push(expected.len() as u64);
    }
    assert_eq!(shard.ids.to_vec(), expected);
    assert!(matches!(shard.ids, polybpe::encode_corpus::Ids::U16(_)), "the default vocabulary fits uint16");
    assert_eq!(shard.offsets, offsets);
    assert_eq!(&shards[0].0[..10], b"\x93NUMPY\x01\x00\x76\x00", "npy 1.0 with a 118-byte header");
    assert!(String::from_utf8_lossy(&shards[0].0[10..128]).contains("'descr': '<u2'"));
}

#[test]
fn bad_corpus_encodes_fail_clearly() {
    let dir = tempfile::tempdir().unwrap();
    let tok = trained(dir.path());
    let good = write(dir.path(), "good.txt", b"le chat\n");
    let prefix = dir.path().join("out").display().to_string();
    let missing = dir.path().join("missing.txt").display().to_string();
    fails_with(&vocab(&["encode", "-t", &tok, "-o", &prefix, "-q", &missing]), &["missing.txt"]);
    fails_with(&vocab(&["encode", "-t", &tok, "-o", &prefix, "-q", "--eod", "<nope>", &good]), &["<nope>"]);
    fails_with(&vocab(&["encode", "-t", &tok, "-o", &prefix, "-q"]), &["--output"]);
    fails_with(&vocab(&["encode", "-t", &tok, &good, &good]), &["--output"]);
    let bad = write(dir.path(), "bad.jsonl", b"{\"text\": \"ok\"}\n{\"body\": \"no text\"}\n");
    fails_with(&vocab(&["encode", "-t", &tok, "-o", &prefix, "-q", &bad]), &["bad.jsonl", "line 2"]);
    assert!(!Path::new(&format!("{prefix}.ids.npy")).exists() && !Path::new(&format!("{prefix}.offsets.npy")).exists());
}
