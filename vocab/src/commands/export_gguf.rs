//! `vocab export --gguf`: a vocabulary-only GGUF for llama.cpp.

use std::path::Path;

use polybpe::formats::{self, gguf};

use super::msg;

pub fn run(tokenizer_path: &Path, out: &Path) -> Result<(), String> {
    let tokenizer = formats::hf::load(tokenizer_path).map_err(msg)?;
    let name = formats::display_name(tokenizer_path);
    gguf::save(&tokenizer, &name, out).map_err(|e| format!("{}: {e}", tokenizer_path.display()))?;
    let pre = gguf::llama_cpp_pre(&tokenizer).map_err(msg)?;
    println!("wrote {} ({} tokens, llama.cpp pre-tokenizer {pre})", out.display(), tokenizer.vocab_size());
    let normalization = tokenizer.normalization().name();
    if normalization != "none" || !tokenizer.normalizer_steps().is_empty() {
        println!(
            "note: llama.cpp applies no normalizer; normalize text ({normalization}) before tokenizing it with llama.cpp, or its ids differ from this tokenizer's"
        );
    }
    Ok(())
}
