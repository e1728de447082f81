//! `vocab inspect`: a vocabulary at a glance.

use polybpe::bytelevel;
use polybpe::inspect::{LlamaCppCheck, VocabStats};

use super::msg;
use crate::InspectArgs;

pub fn run(args: InspectArgs) -> Result<(), String> {
    let tokenizer = polybpe::formats::hf::load(&args.tokenizer).map_err(msg)?;
    let stats = VocabStats::of(&tokenizer, args.top);
    println!("{}", args.tokenizer.display());
    println!(
        "vocab size {} ({} model tokens, {} merges, {} special tokens)",
        stats.vocab_size,
        stats.model_tokens,
        stats.merges,
        stats.special_tokens.len()
    );
    println!(
        "normalizer {}, split pattern {}",
        tokenizer.normalization().name(),
        tokenizer.pre_tokenizer().pattern().map_or("(HF pre-tokenizer chain)", |p| p.name())
    );
    print_llama_cpp(&tokenizer)?;
    let missing = tokenizer.model().missing_bytes();
    if !missing.is_empty() {
        let shown: Vec<String> = missing.iter().map(|b| format!("0x{b:02X}")).collect();
        println!("warning: no token for {} bytes ({}); encoding drops them, as HF does", missing.len(), shown.join(" "));
    }
    if !stats.special_tokens.is_empty() {
        println!("special tokens:");
        for (id, text) in &stats.special_tokens {
            println!("  {id:>6}  {text}");
        }
    }
    println!("tokens per script:");
    for (script, n) in &stats.by_script {
        println!("  {:<14} {n:>7}  ({:.1}%)", script.name(), 100.0 * *n as f64 / stats.model_tokens.max(1) as f64);
    }
    println!("tokens starting with a space: {}", stats.space_prefixed);
    println!("historical characters:");
    for (c, n) in &stats.historical {
        println!("  {c} (U+{:04X}) in {n} tokens", *c as u32);
    }
    println!("longest tokens:");
    for (id, bytes) in &stats.longest {
        let shown = match std::str::from_utf8(bytes) {
            Ok(text) => format!("{text:?}"),
            Err(_) => bytelevel::encode_bytes(bytes),
        };
        println!("  {id:>6}  {:>3} bytes  {shown}", bytes.len());
    }
    Ok(())
}

/// Whether llama.cpp runs the tokenizer, and what converting a model with it needs.
fn print_llama_cpp(tokenizer: &polybpe::Tokenizer) -> Result<(), String> {
    let check = LlamaCppCheck::of(tokenizer).map_err(msg)?;
    match &check.pre {
        Ok(pre) => {
            println!("llama.cpp: runs this tokenizer as pre-tokenizer `{pre}` (export with `vocab export TOKENIZER --gguf FILE`)");
            println!("  chkhsh {}: convert_hf_to_gguf.py needs these lines in get_vocab_base_pre (conversion/base.py in newer llama.cpp):", check.chkhsh);
            println!("        if chkhsh == \"{}\":", check.chkhsh);
            println!("            res = \"{pre}\"");
            if tokenizer.normalization() != polybpe::Normalization::None {
                println!("  note: llama.cpp applies no normalizer: give it {} text", tokenizer.normalization().name().to_uppercase());
            }
        }
        Err(why) => println!("llama.cpp: cannot run this tokenizer: {why}\n  chkhsh {}", check.chkhsh),
    }
    Ok(())
}
