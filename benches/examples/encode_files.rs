//! Encodes corpus files into memory as Python's `Tokenizer.encode_files` does, and prints MB/s
//! per pass: a quick way to time and profile the corpus encoder.
//!
//! `cargo run --release -p polybpe-benches --example encode_files -- TOKENIZER PATH... [--repeat N] [--doc-per-file] [--batch-bytes N]`
//! (TOKENIZER: a tokenizer.json, or a `.tiktoken` rank file named after its pattern).

use std::time::Instant;

use polybpe::corpus::{Corpus, CorpusOptions};
use polybpe::encode_corpus::{encode_corpus, EncodeOptions};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let doc_per_file = polybpe_benches::take_switch(&mut args, "--doc-per-file");
    let repeat = polybpe_benches::take_number(&mut args, "--repeat")?.unwrap_or(5);
    let batch_bytes = polybpe_benches::take_number(&mut args, "--batch-bytes")?.unwrap_or(EncodeOptions::default().batch_bytes);
    let options = EncodeOptions { batch_bytes, ..EncodeOptions::default() };
    let (tokenizer, paths) = args.split_first().ok_or("usage: encode_files TOKENIZER PATH... [--repeat N] [--doc-per-file] [--batch-bytes N]")?;
    let tok = polybpe::formats::load_any(tokenizer.as_ref(), None)?;
    let paths: Vec<std::path::PathBuf> = paths.iter().map(Into::into).collect();
    for _ in 0..repeat {
        let start = Instant::now();
        let corpus = Corpus::open(&paths, CorpusOptions { doc_per_file, ..CorpusOptions::default() })?;
        let (encoded, stats) = encode_corpus(&tok, &corpus, &options, &mut |_| {})?;
        let secs = start.elapsed().as_secs_f64();
        let bytes = stats.corpus.bytes;
        println!("{} documents, {bytes} bytes, {} tokens: {:.2} MB/s", stats.documents, encoded.ids.len(), bytes as f64 / secs / 1e6);
    }
    Ok(())
}
