//! `vocab encode` and `vocab decode`.

use std::io::{BufRead, BufWriter, Read, Write};
use std::path::Path;

use polybpe::{bytelevel, AllowedSpecial, TokenId, Tokenizer};

use super::msg;
use crate::{DecodeArgs, EncodeArgs};

fn load(path: &Path) -> Result<Tokenizer, String> {
    polybpe::formats::hf::load(path).map_err(msg)
}

fn open_input(input: Option<&Path>) -> Result<Box<dyn BufRead>, String> {
    Ok(match input {
        None => Box::new(std::io::stdin().lock()),
        Some(path) => Box::new(std::io::BufReader::new(std::fs::File::open(path).map_err(|e| format!("{}: {e}", path.display()))?)),
    })
}

/// A UTF-8 byte order mark marks the file's encoding, not its text: it is dropped at the start
/// of the input, as the corpus reader drops it when training.
/// Returns how many bytes were dropped, for error offsets.
fn strip_bom(bytes: &mut Vec<u8>) -> usize {
    if bytes.starts_with(b"\xEF\xBB\xBF") {
        bytes.drain(..3);
        3
    } else {
        0
    }
}

fn name(input: Option<&Path>) -> String {
    input.map_or("<stdin>".to_string(), |p| p.display().to_string())
}

pub fn run_encode(args: EncodeArgs) -> Result<(), String> {
    let tokenizer = load(&args.tokenizer)?;
    let allowed = if args.allow_special { AllowedSpecial::All } else { AllowedSpecial::None };
    let mut reader = open_input(args.input.as_deref())?;
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
        for (i, line) in reader.lines().enumerate() {
            let mut line = line.map_err(|e| format!("{}: line {}: {e}", name(args.input.as_deref()), i + 1))?;
            if i == 0 {
                if let Some(rest) = line.strip_prefix('\u{FEFF}') {
                    line = rest.to_string();
                }
            }
            let text: String = serde_json::from_str(&line)
                .map_err(|e| format!("{}: line {}: not a JSON string: {e}", name(args.input.as_deref()), i + 1))?;
            let ids = tokenizer.encode(&text, allowed).map_err(msg)?;
            writeln!(out, "{}", serde_json::to_string(&ids).map_err(msg)?).map_err(msg)?;
        }
    } else if args.lines {
        let mut buf = Vec::new();
        let mut line_no = 0u64;
        loop {
            buf.clear();
            if reader.read_until(b'\n', &mut buf).map_err(|e| format!("{}: {e}", name(args.input.as_deref())))? == 0 {
                break;
            }
            line_no += 1;
            let bom = if line_no == 1 { strip_bom(&mut buf) } else { 0 };
            if buf.last() == Some(&b'\n') {
                buf.pop();
                if buf.last() == Some(&b'\r') {
                    buf.pop();
                }
            }
            let text = std::str::from_utf8(&buf).map_err(|e| {
                format!("{}: line {line_no}: invalid UTF-8 at byte {} of the line", name(args.input.as_deref()), bom + e.valid_up_to())
            })?;
            let ids = tokenizer.encode(text, allowed).map_err(msg)?;
            write_ids(&ids, &mut out)?;
        }
    } else {
        let mut bytes = Vec::new();
        reader.read_to_end(&mut bytes).map_err(|e| format!("{}: {e}", name(args.input.as_deref())))?;
        let bom = strip_bom(&mut bytes);
        let text = String::from_utf8(bytes).map_err(|e| {
            format!("{}: invalid UTF-8 at byte offset {}", name(args.input.as_deref()), bom + e.utf8_error().valid_up_to())
        })?;
        let ids = tokenizer.encode(&text, allowed).map_err(msg)?;
        write_ids(&ids, &mut out)?;
    }
    out.flush().map_err(msg)
}

pub fn run_decode(args: DecodeArgs) -> Result<(), String> {
    let tokenizer = load(&args.tokenizer)?;
    let reader = open_input(args.input.as_deref())?;
    let out = std::io::stdout();
    let mut out = BufWriter::new(out.lock());
    let source = name(args.input.as_deref());
    for (i, line) in reader.lines().enumerate() {
        let at = |message: String| format!("{source}: line {}: {message}", i + 1);
        let line = line.map_err(|e| at(e.to_string()))?;
        let ids = parse_ids(&line).map_err(at)?;
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
