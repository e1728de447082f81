//! `vocab encode` and `vocab decode`.

use std::io::{BufRead, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use polybpe::corpus::text::{decode_text, LineReader};
use polybpe::corpus::{Corpus, CorpusOptions};
use polybpe::encode_corpus::{encode_corpus_to_files, ids_dtype, shard_paths, EncodeOptions};
use polybpe::{bytelevel, AllowedSpecial, TokenId, Tokenizer};

use super::msg;
use crate::{DecodeArgs, EncodeArgs};

fn load(path: &Path) -> Result<Tokenizer, String> {
    polybpe::formats::hf::load(path).map_err(msg)
}

/// The input and its name in errors: the file, or `<stdin>`.
fn open_input(input: Option<&Path>) -> Result<(Box<dyn BufRead>, PathBuf), String> {
    Ok(match input {
        None => (Box::new(std::io::stdin().lock()), PathBuf::from("<stdin>")),
        Some(path) => {
            let file = std::fs::File::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
            (Box::new(std::io::BufReader::new(file)), path.to_path_buf())
        }
    })
}

/// Input lines, split as training splits them (`polybpe::corpus::text`: BOM dropped at the
/// start, `\n` or `\r\n` ends).
fn input_lines(input: Option<&Path>) -> Result<LineReader<Box<dyn BufRead>>, String> {
    let (reader, source) = open_input(input)?;
    Ok(LineReader::new(reader, source))
}

/// A reading error as shown to the user: invalid UTF-8 has no `--skip-invalid` here.
fn input_error(error: polybpe::Error) -> String {
    match error {
        polybpe::Error::InvalidUtf8 { path, offset, line } => {
            format!("{}: invalid UTF-8 at byte offset {offset} (line {line})", path.display())
        }
        other => other.to_string(),
    }
}

fn name(input: Option<&Path>) -> String {
    input.map_or("<stdin>".to_string(), |p| p.display().to_string())
}

pub fn run_encode(args: EncodeArgs) -> Result<(), String> {
    if let Some(prefix) = &args.output {
        return encode_corpus(&args, prefix);
    }
    let input = match args.inputs.as_slice() {
        [] => None,
        [one] => Some(one.as_path()),
        _ => return Err("several inputs need --output (token shards); otherwise give one file or none".into()),
    };
    let tokenizer = load(&args.tokenizer)?;
    let allowed = if args.allow_special { AllowedSpecial::All } else { AllowedSpecial::None };
    let out = std::io::stdout();
    let mut out = BufWriter::new(out.lock());
    let write_ids = |ids: &[TokenId], out: &mut dyn Write| -> Result<(), String> {
        let line = if args.tokens {
            ids.iter()
                .map(|&id| bytelevel::encode_bytes(tokenizer.id_to_bytes(id).unwrap_or_default()))
                .collect::<Vec<_>>()
                .join(" ")
        } else {
            ids.iter().map(|id| id.to_string()).collect::<Vec<_>>().join(" ")
        };
        writeln!(out, "{line}").map_err(msg)
    };
    if args.jsonl {
        let mut lines = input_lines(input)?;
        while let Some(line) = lines.next_line().map_err(input_error)? {
            let text: String = serde_json::from_str(line.text().map_err(input_error)?)
                .map_err(|e| format!("{}: line {}: not a JSON string: {e}", name(input), line.number))?;
            let ids = tokenizer.encode(&text, allowed).map_err(msg)?;
            writeln!(out, "{}", serde_json::to_string(&ids).map_err(msg)?).map_err(msg)?;
        }
    } else if args.lines {
        let mut lines = input_lines(input)?;
        while let Some(line) = lines.next_line().map_err(input_error)? {
            let ids = tokenizer.encode(line.text().map_err(input_error)?, allowed).map_err(msg)?;
            write_ids(&ids, &mut out)?;
        }
    } else {
        let (mut reader, source) = open_input(input)?;
        let mut bytes = Vec::new();
        reader.read_to_end(&mut bytes).map_err(|e| format!("{}: {e}", source.display()))?;
        let text = decode_text(bytes, &source).map_err(input_error)?;
        let ids = tokenizer.encode(&text, allowed).map_err(msg)?;
        write_ids(&ids, &mut out)?;
    }
    out.flush().map_err(msg)
}

/// `vocab encode --output PREFIX INPUT...`: the corpus as token shards
/// (`polybpe::encode_corpus`), with a progress bar.
fn encode_corpus(args: &EncodeArgs, prefix: &Path) -> Result<(), String> {
    let tokenizer = load(&args.tokenizer)?;
    if args.inputs.is_empty() {
        return Err("--output needs the corpus files or directories to encode".into());
    }
    let end_of_document = match &args.eod {
        None => None,
        Some(token) => Some(
            tokenizer
                .token_to_id(token)
                .or_else(|| token.parse::<TokenId>().ok())
                .ok_or_else(|| format!("--eod {token:?} is neither a token of {} nor an id", args.tokenizer.display()))?,
        ),
    };
    let options = CorpusOptions {
        doc_per_file: args.doc_per_file,
        skip_invalid: args.skip_invalid,
        text_field: args.text_field.clone().unwrap_or_default(),
        ..CorpusOptions::default()
    };
    let corpus = Corpus::open(&args.inputs, options).map_err(msg)?;
    let allowed = if args.allow_special { AllowedSpecial::All } else { AllowedSpecial::None };
    let encode_options = EncodeOptions { end_of_document, allowed, ..EncodeOptions::default() };
    let threads = match args.threads {
        Some(0) => return Err("--threads must be at least 1".into()),
        Some(n) => n,
        None => 0,
    };
    let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().map_err(msg)?;
    let bar = ProgressBar::with_draw_target(
        Some(corpus.total_bytes()),
        if args.quiet { ProgressDrawTarget::hidden() } else { ProgressDrawTarget::stderr() },
    );
    bar.set_style(
        ProgressStyle::with_template("encoding {bar:40} {bytes}/{total_bytes} ({bytes_per_sec}, ETA {eta}) {msg}")
            .expect("static template")
            .progress_chars("=> "),
    );
    let stats = pool
        .install(|| {
            encode_corpus_to_files(&tokenizer, &corpus, &encode_options, prefix, &mut |p| {
                bar.set_position(p.bytes_done);
                bar.set_message(format!("{} documents", p.documents));
            })
        })
        .map_err(msg)?;
    bar.finish_and_clear();
    let (ids, offsets) = shard_paths(prefix);
    if !args.quiet {
        eprintln!(
            "{} documents, {} tokens ({} bytes of text) -> {} ({}), {}",
            stats.documents,
            stats.tokens,
            stats.corpus.bytes,
            ids.display(),
            ids_dtype(&tokenizer).descr(),
            offsets.display()
        );
        if stats.corpus.skipped_invalid > 0 {
            eprintln!("skipped {} lines, records or files with invalid UTF-8", stats.corpus.skipped_invalid);
        }
    }
    Ok(())
}

pub fn run_decode(args: DecodeArgs) -> Result<(), String> {
    let tokenizer = load(&args.tokenizer)?;
    let mut lines = input_lines(args.input.as_deref())?;
    let out = std::io::stdout();
    let mut out = BufWriter::new(out.lock());
    let source = name(args.input.as_deref());
    while let Some(line) = lines.next_line().map_err(input_error)? {
        let i = line.number as usize - 1;
        let at = |message: String| format!("{source}: line {}: {message}", i + 1);
        let line = line.text().map_err(input_error)?;
        let ids = parse_ids(line).map_err(at)?;
        let text = tokenizer.decode(&ids).map_err(|e| at(e.to_string()))?;
        if args.jsonl {
            writeln!(out, "{}", serde_json::to_string(&text).map_err(msg)?)
        } else if args.lines {
            writeln!(out, "{text}")
        } else if i == 0 {
            write!(out, "{text}")
        } else {
            write!(out, "\n{text}")
        }
        .map_err(msg)?;
    }
    out.flush().map_err(msg)
}

/// The ids of one line: a JSON array (as `encode --jsonl` writes) or whitespace-separated.
fn parse_ids(line: &str) -> Result<Vec<TokenId>, String> {
    if line.trim_start().starts_with('[') {
        return serde_json::from_str(line).map_err(|e| format!("not a JSON array of token ids: {e}"));
    }
    line.split_whitespace().map(|t| t.parse::<TokenId>().map_err(|_| format!("{t:?} is not a token id"))).collect()
}
