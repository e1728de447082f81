//! Splits every line of the given files with a built-in pattern, one document per line, and
//! prints MB/s: a quick way to profile the pre-tokenizer alone
//! (`perf record target/release/examples/split_lines …`).
//!
//! `cargo run --release -p polybpe-benches --example split_lines -- PATTERN FILE... [--repeat N] [--whole]`
//! (PATTERN: default, cl100k, gpt2, o200k, qwen2, qwen35; `--whole`: each file's first megabyte
//! as one document).

use std::time::Instant;

use polybpe::pretokenize::{Pattern, PreTokenizer};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let whole = polybpe_benches::take_switch(&mut args, "--whole");
    let repeat = polybpe_benches::take_number(&mut args, "--repeat")?.unwrap_or(5);
    let (pattern, files) = args.split_first().ok_or("usage: split_lines PATTERN FILE... [--repeat N] [--whole]")?;
    let pattern = Pattern::parse(pattern);
    let pre = PreTokenizer::from_pattern(pattern)?;
    let docs = polybpe_benches::first_megabyte_documents(files, whole)?;
    let bytes: usize = docs.iter().map(String::len).sum();
    let mut ranges = Vec::new();
    let mut best = 0f64;
    for _ in 0..repeat {
        let start = Instant::now();
        let mut pieces = 0;
        for doc in &docs {
            ranges.clear();
            pre.split_ranges(doc, &mut ranges)?;
            pieces += ranges.len();
        }
        let rate = bytes as f64 / start.elapsed().as_secs_f64() / 1e6;
        best = best.max(rate);
        println!("{} docs, {bytes} bytes, {pieces} pieces: {rate:.1} MB/s", docs.len());
    }
    println!("best {best:.1} MB/s");
    Ok(())
}
