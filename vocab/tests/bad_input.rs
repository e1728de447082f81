//! The README's "Bad input" table, row by row: what `vocab` does with each kind of bad or odd
//! input. Failures are one `error:` line naming the file, line or field, with a non-zero exit;
//! odd but valid input (BOM, CRLF, NUL, huge lines, empty files) trains and encodes.

mod common;

use std::io::Read;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{fails_with, stderr, vocab, write};

const BOM: &[u8] = b"\xEF\xBB\xBF";

fn succeeds(out: Output) -> Output {
    assert!(out.status.success(), "vocab failed: {}", stderr(&out));
    out
}

fn path(dir: &Path, name: &str) -> String {
    dir.join(name).display().to_string()
}

/// Lines of French and German text, `repeat` times.
fn text_lines(repeat: usize) -> String {
    "le chat et le chien, l'homme et la femme\nder Hund und die Katze, ſo ſagt man\n".repeat(repeat)
}

/// Trains with no special tokens (unless `extra` adds flags) and returns the file's bytes.
fn train(corpus: &str, out: &str, vocab_size: &str, extra: &[&str]) -> Vec<u8> {
    let mut args = vec!["train", "--corpus", corpus, "--out", out, "--vocab-size", vocab_size, "--special-tokens", "none", "-q"];
    args.extend_from_slice(extra);
    succeeds(vocab(&args));
    std::fs::read(out).unwrap()
}

fn encode(tok: &str, input: &str, extra: &[&str]) -> String {
    let mut args = vec!["encode", "-t", tok, input];
    args.extend_from_slice(extra);
    String::from_utf8(succeeds(vocab(&args)).stdout).unwrap()
}

/// Files in `dir`, sorted (hidden temporary files included).
fn entries(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> =
        std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    names.sort();
    names
}

#[test]
fn utf8_bom_at_file_start_is_not_text() {
    let dir = tempfile::tempdir().unwrap();
    let (with, without) = (dir.path().join("with"), dir.path().join("without"));
    for i in 0..6 {
        let body = format!("{}zeile {i}\n", text_lines(3));
        write(&with, &format!("f{i}.txt"), &[BOM, body.as_bytes()].concat());
        write(&without, &format!("f{i}.txt"), body.as_bytes());
    }
    let a = train(with.to_str().unwrap(), &path(dir.path(), "a.json"), "600", &[]);
    let b = train(without.to_str().unwrap(), &path(dir.path(), "b.json"), "600", &[]);
    assert!(a == b, "a BOM at the start of each file changed the vocabulary");

    let plain = write(dir.path(), "plain.txt", b"le chat\nder Hund\n");
    let bom = write(dir.path(), "bom.txt", &[BOM, b"le chat\nder Hund\n"].concat());
    let tok = path(dir.path(), "a.json");
    assert_eq!(encode(&tok, &bom, &[]), encode(&tok, &plain, &[]));
    assert_eq!(encode(&tok, &bom, &["--lines"]), encode(&tok, &plain, &["--lines"]));
}

#[test]
fn crlf_line_ends_are_line_ends() {
    let dir = tempfile::tempdir().unwrap();
    let lf = text_lines(20);
    let crlf = lf.replace('\n', "\r\n");
    let lf_dir = dir.path().join("lf");
    let crlf_dir = dir.path().join("crlf");
    write(&lf_dir, "fr.txt", lf.as_bytes());
    write(&crlf_dir, "fr.txt", crlf.as_bytes());
    let a = train(lf_dir.to_str().unwrap(), &path(dir.path(), "lf.json"), "400", &[]);
    let b = train(crlf_dir.to_str().unwrap(), &path(dir.path(), "crlf.json"), "400", &[]);
    assert!(a == b, "CRLF files train another vocabulary than LF files");

    let tok = path(dir.path(), "lf.json");
    let lf_in = write(dir.path(), "lf.in", b"le chat\nder Hund\n");
    let crlf_in = write(dir.path(), "crlf.in", b"le chat\r\nder Hund\r\nlone\rreturn\r\n");
    // --lines: the terminator goes, a lone \r is text.
    let lines = encode(&tok, &crlf_in, &["--lines"]);
    let lf_lines = encode(&tok, &lf_in, &["--lines"]);
    assert!(lines.starts_with(&lf_lines), "{lines} vs {lf_lines}");
    // The whole file round-trips byte for byte, \r included.
    let ids = write(dir.path(), "ids", encode(&tok, &crlf_in, &[]).as_bytes());
    let back = succeeds(vocab(&["decode", "-t", &tok, &ids])).stdout;
    assert_eq!(back, b"le chat\r\nder Hund\r\nlone\rreturn\r\n");
}

#[test]
fn nul_bytes_are_ordinary_text() {
    let dir = tempfile::tempdir().unwrap();
    let corpus = dir.path().join("c");
    write(&corpus, "fr.txt", "le\0chat et\0le\0chien\n".repeat(30).as_bytes());
    let tok = path(dir.path(), "t.json");
    let json = train(corpus.to_str().unwrap(), &tok, "300", &[]);
    let doc: serde_json::Value = serde_json::from_slice(&json).unwrap();
    // Byte 0 is spelt U+0100 in byte-level vocabularies: some learned token holds it.
    let tokens = doc["model"]["vocab"].as_object().unwrap();
    assert!(tokens.keys().any(|t| t.contains('\u{100}') && t.chars().count() > 1), "no merge across a NUL");

    let input = write(dir.path(), "in.txt", b"\0le\0chat\0\0");
    let ids = write(dir.path(), "ids", encode(&tok, &input, &[]).as_bytes());
    assert_eq!(succeeds(vocab(&["decode", "-t", &tok, &ids])).stdout, b"\0le\0chat\0\0");
}

/// Letters only, no space: the whole line is one piece for the split pattern.
fn write_long_line(path: &Path, bytes: usize) {
    let words: [&[u8]; 8] = [b"le", b"chat", b"et", b"chien", b"der", b"Hund", b"und", b"Katze"];
    let mut line = Vec::with_capacity(bytes + 1);
    let mut state = 0x2545F4914F6CDD1Du64;
    while line.len() < bytes {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        line.extend_from_slice(words[(state % 8) as usize]);
    }
    line.truncate(bytes);
    line.push(b'\n');
    std::fs::write(path, line).unwrap();
}

/// Runs `vocab` to completion, sampling the child's peak resident memory (VmHWM) as it goes.
fn vocab_measured(args: &[&str], stdout: Stdio) -> (std::process::ExitStatus, u64, Duration) {
    let start = Instant::now();
    let mut child = Command::new(env!("CARGO_BIN_EXE_vocab")).args(args).stdout(stdout).stderr(Stdio::piped()).spawn().unwrap();
    let status_file = format!("/proc/{}/status", child.id());
    let mut peak_kb = 0u64;
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if let Ok(text) = std::fs::read_to_string(&status_file) {
            let hwm = text.lines().find_map(|l| l.strip_prefix("VmHWM:")).and_then(|v| v.split_whitespace().next()?.parse().ok());
            peak_kb = peak_kb.max(hwm.unwrap_or(0));
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    if !status.success() {
        let mut err = String::new();
        child.stderr.take().unwrap().read_to_string(&mut err).unwrap();
        panic!("vocab {args:?} failed: {err}");
    }
    (status, peak_kb * 1024, start.elapsed())
}

/// A 100 MB line without a space is one 100 MB word: counting, merging and encoding it must
/// stay linear-ish in time and within a small multiple of its size in memory.
#[test]
fn hundred_megabyte_line_without_spaces() {
    const SIZE: usize = 100 << 20;
    /// Peak memory allowed per input byte (the merge queues and links take 16).
    const BYTES_PER_BYTE: u64 = 24;
    let dir = tempfile::tempdir().unwrap();
    let line = dir.path().join("line.txt");
    write_long_line(&line, SIZE);
    let tok = path(dir.path(), "t.json");
    let line_arg = line.to_str().unwrap();

    let (_, train_peak, train_time) =
        vocab_measured(&["train", "--corpus", line_arg, "--out", &tok, "--vocab-size", "400", "--special-tokens", "none", "-q"], Stdio::null());
    let ids_path = dir.path().join("ids.txt");
    let ids_file = std::fs::File::create(&ids_path).unwrap();
    let (_, encode_peak, encode_time) = vocab_measured(&["encode", "-t", &tok, line_arg], Stdio::from(ids_file));
    eprintln!(
        "100 MB line: train {:.1} s, {} MB; encode {:.1} s, {} MB",
        train_time.as_secs_f64(),
        train_peak >> 20,
        encode_time.as_secs_f64(),
        encode_peak >> 20
    );
    for (what, peak) in [("train", train_peak), ("encode", encode_peak)] {
        assert!(peak > 0, "no memory reading for {what}");
        assert!(peak < BYTES_PER_BYTE * SIZE as u64, "{what} peaked at {} MB on a {} MB line", peak >> 20, SIZE >> 20);
    }
    for (what, time) in [("train", train_time), ("encode", encode_time)] {
        assert!(time < Duration::from_secs(600), "{what} took {time:?}");
    }

    // The ids decode back to the line, byte for byte.
    let decoded = dir.path().join("decoded.txt");
    let out = std::fs::File::create(&decoded).unwrap();
    let status = Command::new(env!("CARGO_BIN_EXE_vocab")).args(["decode", "-t", &tok, ids_path.to_str().unwrap()]).stdout(out).status().unwrap();
    assert!(status.success());
    let expected = std::fs::read(&line).unwrap();
    assert!(std::fs::read(&decoded).unwrap() == expected, "the long line does not round-trip");
}

#[test]
fn empty_files_are_skipped() {
    let dir = tempfile::tempdir().unwrap();
    let with = dir.path().join("with");
    let without = dir.path().join("without");
    write(&with, "fr.txt", text_lines(10).as_bytes());
    write(&without, "fr.txt", text_lines(10).as_bytes());
    write(&with, "de.txt", b"");
    write(&with, "en.txt", b"\n\r\n\n");
    write(&with, "it.jsonl", b"");
    let a = train(with.to_str().unwrap(), &path(dir.path(), "a.json"), "350", &[]);
    let b = train(without.to_str().unwrap(), &path(dir.path(), "b.json"), "350", &[]);
    assert!(a == b, "empty files changed the vocabulary");
}

#[test]
fn empty_corpus_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let out = path(dir.path(), "t.json");
    let no_files = dir.path().join("notes");
    write(&no_files, "README.md", b"not a corpus file\n");
    fails_with(&vocab(&["train", "--corpus", no_files.to_str().unwrap(), "--out", &out, "-q"]), &["no input files", "notes"]);
    let empty = dir.path().join("empty");
    write(&empty, "a.txt", b"");
    write(&empty, "b.jsonl", b"{\"text\": \"\"}\n{\"text\": null}\n");
    fails_with(&vocab(&["train", "--corpus", empty.to_str().unwrap(), "--out", &out, "-q"]), &["the corpus is empty", "2 files"]);
    assert!(!Path::new(&out).exists());
}

#[test]
fn malformed_or_truncated_tokenizer_json() {
    let dir = tempfile::tempdir().unwrap();
    let input = write(dir.path(), "in.txt", b"hello");
    let comma = write(dir.path(), "comma.json", b"{\n  \"model\": {\"type\": \"BPE\",}\n}");
    fails_with(&vocab(&["encode", "-t", &comma, &input]), &["comma.json", "not valid JSON", "line 2 column 27"]);

    let corpus = dir.path().join("c");
    write(&corpus, "fr.txt", text_lines(10).as_bytes());
    let tok = path(dir.path(), "t.json");
    let json = train(corpus.to_str().unwrap(), &tok, "320", &[]);
    let cut = write(dir.path(), "cut.json", &json[..json.len() / 2]);
    fails_with(&vocab(&["encode", "-t", &cut, &input]), &["cut.json", "EOF while parsing", "line "]);
    fails_with(&vocab(&["inspect", &cut]), &["cut.json", "EOF while parsing"]);

    let binary = write(dir.path(), "binary.json", b"{\"model\": \xff\xfe}");
    fails_with(&vocab(&["encode", "-t", &binary, &input]), &["binary.json", "invalid UTF-8 at byte offset 10"]);
    let text = String::from_utf8(json).unwrap();
    let unknown_merge = text.replacen("\"merges\": [", "\"merges\": [\n      [\"zz\", \"q\"],", 1);
    let unknown_merge = write(dir.path(), "merge.json", unknown_merge.as_bytes());
    fails_with(&vocab(&["encode", "-t", &unknown_merge, &input]), &["merge.json", "zz"]);
}

#[test]
fn tiktoken_file_with_duplicate_ranks() {
    let dir = tempfile::tempdir().unwrap();
    let parallel = dir.path().join("parallel");
    write(&parallel, "en.txt", b"the cat\n");
    let parallel = parallel.display().to_string();
    let rank = write(dir.path(), "rank.tiktoken", b"IQ== 0\nIg== 1\nIw== 1\n");
    fails_with(&vocab(&["fertility", &format!("{rank}@cl100k"), "--parallel", &parallel, "-q"]), &["rank.tiktoken", "line 3: rank 1 already used on line 2"]);
    let token = write(dir.path(), "token.tiktoken", b"IQ== 0\nIg== 1\nIQ== 2\n");
    fails_with(&vocab(&["fertility", &format!("{token}@cl100k"), "--parallel", &parallel, "-q"]), &["token.tiktoken", "line 3", "already has rank 0 on line 1"]);
}

fn write_parquet(path: &Path, columns: Vec<(&str, arrow_array::ArrayRef)>) {
    use arrow_array::RecordBatch;
    use arrow_schema::{Field, Schema};
    let fields: Vec<Field> = columns.iter().map(|(name, a)| Field::new(*name, a.data_type().clone(), true)).collect();
    let schema = Arc::new(Schema::new(fields));
    let batch = RecordBatch::try_new(schema.clone(), columns.into_iter().map(|(_, a)| a).collect()).unwrap();
    let mut writer = parquet::arrow::ArrowWriter::try_new(std::fs::File::create(path).unwrap(), schema, None).unwrap();
    writer.write(&batch).unwrap();
    writer.close().unwrap();
}

#[test]
fn parquet_without_a_text_column() {
    use arrow_array::{Int64Array, StringArray};
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("shard.parquet");
    write_parquet(
        &file,
        vec![("id", Arc::new(Int64Array::from(vec![1, 2]))), ("content", Arc::new(StringArray::from(vec!["le chat", "der Hund"])))],
    );
    let out = path(dir.path(), "t.json");
    fails_with(
        &vocab(&["train", "--corpus", file.to_str().unwrap(), "--out", &out, "-q"]),
        &["shard.parquet", "no column `text` (columns: id, content)"],
    );
    assert!(!Path::new(&out).exists());
}

#[test]
fn language_codes_are_labels_but_names_must_match() {
    let dir = tempfile::tempdir().unwrap();
    let corpus = dir.path().join("c");
    let lines: String = (0..30).map(|i| format!("{{\"text\": \"le chat numéro {i}\", \"language\": \"xx\"}}\n")).collect();
    write(&corpus, "mixed.jsonl", lines.as_bytes());
    write(&corpus, "fr.txt", text_lines(10).as_bytes());
    let c = corpus.to_str().unwrap();
    let out = path(dir.path(), "t.json");
    // Any code is a label: "xx" records train under "xx".
    let run = succeeds(vocab(&["train", "--corpus", c, "--out", &out, "--vocab-size", "320"]));
    let summary = String::from_utf8_lossy(&run.stdout);
    assert!(summary.lines().any(|l| l.starts_with("xx ")), "{summary}");
    // A code that names something absent is a mistake, said so with the name.
    fails_with(&vocab(&["train", "--corpus", c, "--out", &out, "--lang", "typo.txt=frr", "-q"]), &["\"typo.txt\"", "\"frr\"", "no input file"]);
    fails_with(&vocab(&["train", "--corpus", c, "--out", &out, "--weight", "yy=2", "-q"]), &["\"yy\"", "the corpus does not have"]);
    fails_with(&vocab(&["train", "--corpus", c, "--out", &out, "--ratio", "yy=3", "-q"]), &["\"yy\"", "not in the training corpus"]);
    fails_with(&vocab(&["train", "--corpus", c, "--out", &out, "--lang", "fr.txt", "-q"]), &["--lang", "FILE=LANG"]);

    // A recipe's `lang` on a directory labels every file under it.
    let recipe = write(dir.path(), "r.toml", b"vocab_size = 320\nspecial_tokens = \"none\"\n[[inputs]]\npath = \"old\"\nlang = \"historical\"\n");
    write(&corpus, "old/a.txt", "je ſuis\n".repeat(20).as_bytes());
    write(&corpus, "old/b.txt", "ich ſage\n".repeat(20).as_bytes());
    let run = succeeds(vocab(&["train", "--recipe", &recipe, "--corpus", c, "--out", &out]));
    let summary = String::from_utf8_lossy(&run.stdout);
    assert!(summary.lines().any(|l| l.starts_with("historical ")), "{summary}");
    assert!(!summary.lines().any(|l| l.starts_with("a ") || l.starts_with("b ")), "{summary}");
}

#[test]
fn special_token_text_in_the_corpus_stays_text() {
    let dir = tempfile::tempdir().unwrap();
    let corpus = dir.path().join("c");
    write(&corpus, "rag.txt", "<|source_start|>le chat<|source_end|> et <|end_of_text|>\n".repeat(40).as_bytes());
    let tok = path(dir.path(), "t.json");
    succeeds(vocab(&["train", "--corpus", corpus.to_str().unwrap(), "--out", &tok, "--vocab-size", "420", "--special-tokens", "pleias-rag", "-q"]));
    let doc: serde_json::Value = serde_json::from_slice(&std::fs::read(&tok).unwrap()).unwrap();
    let specials: Vec<&str> = doc["added_tokens"].as_array().unwrap().iter().map(|t| t["content"].as_str().unwrap()).collect();
    assert_eq!(specials.len(), 41);
    // No learned token spells or reaches into special-token text.
    for merge in doc["model"]["merges"].as_array().unwrap() {
        let joined = format!("{}{}", merge[0].as_str().unwrap(), merge[1].as_str().unwrap());
        assert!(!joined.contains("<|") && !joined.contains("|>"), "merge {merge} rebuilds special-token text");
    }
    let input = write(dir.path(), "in.txt", b"<|source_end|>");
    let plain: Vec<u32> = encode(&tok, &input, &[]).split_whitespace().map(|t| t.parse().unwrap()).collect();
    assert!(plain.len() > 1 && plain.iter().all(|&id| id >= 41), "{plain:?}");
    assert_eq!(encode(&tok, &input, &["--allow-special"]).trim(), "7");
}

#[test]
fn output_path_not_writable() {
    let dir = tempfile::tempdir().unwrap();
    let corpus = dir.path().join("c");
    write(&corpus, "fr.txt", text_lines(10).as_bytes());
    let c = corpus.to_str().unwrap();
    // The output is a directory.
    let taken = dir.path().join("taken");
    write(&taken, "keep.txt", b"x");
    fails_with(&vocab(&["train", "--corpus", c, "--out", taken.to_str().unwrap(), "--vocab-size", "300", "-q"]), &["taken"]);
    assert_eq!(entries(&taken), ["keep.txt"]);
    assert_eq!(entries(dir.path()), ["c", "taken"], "a temporary file was left behind");
    // A read-only file system (refused even to root).
    fails_with(&vocab(&["train", "--corpus", c, "--out", "/proc/polybpe-t.json", "--vocab-size", "300", "-q"]), &["/proc/polybpe-t.json"]);
    fails_with(&vocab(&["count", "--corpus", c, "--out", "/proc/polybpe-t.counts", "-q"]), &["/proc/polybpe-t.counts"]);
}

/// A full disk, simulated with a file-size limit (`ulimit -f`, SIGXFSZ ignored) so that writes
/// past a few kilobytes fail as they do when the disk fills up.
#[test]
fn disk_full_keeps_the_old_output() {
    let dir = tempfile::tempdir().unwrap();
    let corpus = dir.path().join("c");
    write(&corpus, "fr.txt", text_lines(10).as_bytes());
    let outdir = dir.path().join("out");
    let out = write(&outdir, "t.json", b"old tokenizer");
    let script = "trap '' XFSZ; ulimit -f 8; exec \"$0\" \"$@\"";
    let run = Command::new("sh")
        .args(["-c", script, env!("CARGO_BIN_EXE_vocab")])
        .args(["train", "--corpus", corpus.to_str().unwrap(), "--out", &out, "--vocab-size", "400", "-q"])
        .output()
        .unwrap();
    fails_with(&run, &["t.json", "File too large"]);
    assert_eq!(std::fs::read(&out).unwrap(), b"old tokenizer");
    assert_eq!(entries(&outdir), ["t.json"], "the partial temporary file was left behind");
}

/// Training killed at any moment leaves the old output or the complete new one (exactly the
/// file an uninterrupted run writes), never a mix.
#[test]
fn interrupted_training_leaves_old_or_new_output() {
    let dir = tempfile::tempdir().unwrap();
    let corpus = dir.path().join("c");
    let mut text = String::new();
    for i in 0..4000 {
        text.push_str(&format!("ligne {i}: le chat {} et le chien {}, der Hund {}\n", i * 7 % 13, i % 97, i * 31 % 101));
    }
    write(&corpus, "fr.txt", text.as_bytes());
    let c = corpus.to_str().unwrap();
    let args = |out: &str| -> Vec<String> {
        ["train", "--corpus", c, "--out", out, "--vocab-size", "3000", "-q"].iter().map(|s| s.to_string()).collect()
    };
    let reference_path = path(dir.path(), "reference.json");
    let started = Instant::now();
    succeeds(Command::new(env!("CARGO_BIN_EXE_vocab")).args(args(&reference_path)).output().unwrap());
    let full_run = started.elapsed();
    let reference = std::fs::read(&reference_path).unwrap();

    let outdir = dir.path().join("out");
    let out = write(&outdir, "t.json", b"old");
    let mut interrupted = 0;
    for step in 0..12u32 {
        std::fs::write(&out, b"old").unwrap();
        let mut child = Command::new(env!("CARGO_BIN_EXE_vocab")).args(args(&out)).stderr(Stdio::null()).spawn().unwrap();
        std::thread::sleep(full_run * step / 10);
        let finished = child.try_wait().unwrap().is_some();
        let _ = child.kill();
        child.wait().unwrap();
        let now = std::fs::read(&out).unwrap();
        assert!(now == b"old" || now == reference, "kill at step {step} left {} bytes of something else", now.len());
        if !finished && now == b"old" {
            interrupted += 1;
        }
    }
    assert!(interrupted > 0, "no run was interrupted before it wrote the output");
    // The next complete run removes the temporary files the killed ones left.
    succeeds(Command::new(env!("CARGO_BIN_EXE_vocab")).args(args(&out)).output().unwrap());
    assert_eq!(std::fs::read(&out).unwrap(), reference);
    assert_eq!(entries(&outdir), ["t.json"]);
}
