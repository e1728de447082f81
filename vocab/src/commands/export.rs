//! `vocab export`: a trained vocabulary in the forms a model ships with: a transformers model
//! folder (`--out`) and a vocabulary-only GGUF for llama.cpp (`--gguf`).

use std::path::PathBuf;

use clap::Args;
use polybpe::formats::hf_folder::{self, FolderOptions};

use super::msg;

/// Options of `vocab export`.
#[derive(Args)]
pub struct ExportArgs {
    /// The tokenizer.json to export.
    #[arg(value_name = "TOKENIZER")]
    pub tokenizer: PathBuf,
    /// Model folder to write: tokenizer.json, tokenizer_config.json and special_tokens_map.json,
    /// for transformers.AutoTokenizer.from_pretrained(DIR).
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Write a vocabulary-only GGUF file (the tokenizer.ggml.* keys llama.cpp reads).
    #[arg(long, value_name = "FILE")]
    pub gguf: Option<PathBuf>,
    #[command(flatten)]
    pub folder: FolderArgs,
}

/// Settings of a model folder (`vocab export --out`, `vocab train --out-dir`).
#[derive(Args, Clone, Debug, Default)]
pub struct FolderArgs {
    /// The model's context length (model_max_length in tokenizer_config.json).
    #[arg(long, value_name = "N")]
    pub model_max_length: Option<usize>,
    /// Write split_special_tokens=false: tokenizer(text) then turns special-token text into
    /// control ids, as apply_chat_template needs (default: such text stays text).
    #[arg(long)]
    pub no_split_special_tokens: bool,
}

impl FolderArgs {
    pub fn options(&self) -> FolderOptions {
        FolderOptions { model_max_length: self.model_max_length, split_special_tokens: !self.no_split_special_tokens }
    }
}

/// Writes the model folder `dir` (creating its parent directories).
pub fn write_folder(tokenizer: &polybpe::Tokenizer, dir: &std::path::Path, folder: &FolderArgs) -> Result<(), String> {
    super::create_parent(dir)?;
    hf_folder::save(tokenizer, dir, &folder.options()).map_err(msg)
}

pub fn run(args: ExportArgs) -> Result<(), String> {
    if args.out.is_none() && args.gguf.is_none() {
        return Err("nothing to write: pass --out DIR for a model folder, --gguf FILE for llama.cpp, or both".into());
    }
    if let Some(gguf) = &args.gguf {
        super::export_gguf::run(&args.tokenizer, gguf)?;
    }
    if let Some(out) = &args.out {
        let tokenizer = polybpe::formats::hf::load(&args.tokenizer).map_err(msg)?;
        write_folder(&tokenizer, out, &args.folder)?;
        println!("wrote {} ({})", out.display(), hf_folder::FILES.join(", "));
    }
    Ok(())
}
