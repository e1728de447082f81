//! Encodes every line of the given files, one document per line, and prints MB/s: a quick way
//! to profile the encoder (`perf record target/release/examples/encode_lines …`).
//!
//! `cargo run --release -p polybpe-benches --example encode_lines -- TOKENIZER FILE... [--repeat N] [--whole]`
//! (TOKENIZER: a tokenizer.json, or a `.tiktoken` rank file named after its pattern, as
//! `cl100k_base.tiktoken`)
//! (`--whole`: each file's first megabyte as one document).

use std::time::Instant;

use polybpe::AllowedSpecial;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    // Each file's first megabyte as one document instead of one per line.
    let whole = polybpe_benches::take_switch(&mut args, "--whole");
    let repeat = polybpe_benches::take_number(&mut args, "--repeat")?.unwrap_or(3);
    let (tokenizer, files) = args.split_first().ok_or("usage: encode_lines TOKENIZER FILE... [--repeat N] [--whole]")?;
    let tok = polybpe::formats::load_any(tokenizer.as_ref(), None)?;
    let lines = polybpe_benches::first_megabyte_documents(files, whole)?;
    let bytes: usize = lines.iter().map(String::len).sum();
    for _ in 0..repeat {
        let start = Instant::now();
        let tokens: usize = lines.iter().map(|l| tok.encode(l, AllowedSpecial::None).map(|ids| ids.len())).sum::<polybpe::Result<usize>>()?;
        let secs = start.elapsed().as_secs_f64();
        println!("{} lines, {bytes} bytes, {tokens} tokens: {:.2} MB/s", lines.len(), bytes as f64 / secs / 1e6);
    }
    Ok(())
}
