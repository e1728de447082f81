//! `vocab`: train, encode, decode and inspect byte-level BPE vocabularies.
//!
//! A thin shell over the `polybpe` library: argument parsing, progress display and output
//! formatting. Every failure prints one `error:` line and exits with status 1 (2 for usage).

mod commands;
mod progress;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

/// Multilingual byte-level BPE vocabularies.
#[derive(Parser)]
#[command(name = "vocab", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Train a vocabulary and write it as a HuggingFace tokenizer.json.
    Train(TrainArgs),
    /// Encode text to token ids (or tokens).
    Encode(EncodeArgs),
    /// Decode token ids to text.
    Decode(DecodeArgs),
    /// Show sizes, special tokens, longest tokens and tokens per script.
    Inspect(InspectArgs),
    /// Write a tokenizer.json in another runtime's format (--gguf: llama.cpp).
    Export(ExportArgs),
    /// Compare tokenizers per language: fertility, compression, continued words, parity.
    Compare(CompareArgs),
    /// Fertility of one tokenizer per language (`compare` with a single tokenizer).
    Fertility(FertilityArgs),
    /// Count the words of a corpus (or one shard of it) into a word-count file, for
    /// `train --counts`. Takes train's input and split options; --out is the count file.
    Count(TrainArgs),
    /// Sum word-count files into one.
    MergeCounts(MergeCountsArgs),
    /// Add merges learned on new text to a vocabulary, keeping every existing id and merge.
    Extend(ExtendArgs),
}

/// Options of `vocab extend`.
#[derive(Args)]
pub struct ExtendArgs {
    /// The tokenizer.json to extend (byte-level BPE).
    #[arg(value_name = "BASE")]
    pub base: PathBuf,
    /// Files or directories of new text (repeatable).
    #[arg(long, required = true)]
    pub corpus: Vec<PathBuf>,
    /// Number of new tokens.
    #[arg(long)]
    pub add: usize,
    /// The extended tokenizer.json.
    #[arg(long, short)]
    pub out: PathBuf,
    /// Pairs seen fewer times are never merged.
    #[arg(long, default_value_t = 2)]
    pub min_frequency: u64,
    /// Each plain-text file is one document (default: one document per line).
    #[arg(long)]
    pub doc_per_file: bool,
    /// No progress bars or summary.
    #[arg(long, short)]
    pub quiet: bool,
}

/// Options of `vocab merge-counts`.
#[derive(Args)]
pub struct MergeCountsArgs {
    /// Count files written by `vocab count`.
    #[arg(required = true, value_name = "COUNTS")]
    pub files: Vec<PathBuf>,
    /// The merged count file.
    #[arg(long, short)]
    pub out: PathBuf,
}

/// Options of `vocab train`; each overrides the recipe's value.
#[derive(Args)]
pub struct TrainArgs {
    /// Recipe file (TOML) with the training settings and inputs.
    #[arg(long)]
    pub recipe: Option<PathBuf>,
    /// Corpus directory: recipe inputs are relative to it; without a recipe, the files or
    /// directories to read (repeatable). Default: ../shared/corpus/train.
    #[arg(long)]
    pub corpus: Vec<PathBuf>,
    /// Output tokenizer.json (default: out/<recipe name>.json; for `count`, out/<name>.counts).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Train from these word-count files (written by `vocab count`, merged) instead of text.
    #[arg(long, value_name = "COUNTS")]
    pub counts: Vec<PathBuf>,
    /// Total vocabulary size: special tokens + 256 bytes + merges.
    #[arg(long)]
    pub vocab_size: Option<usize>,
    /// Special-token preset: pleias-rag or none.
    #[arg(long)]
    pub special_tokens: Option<String>,
    /// Number of <|reserved_N|> placeholder tokens after the preset.
    #[arg(long)]
    pub reserved: Option<usize>,
    /// Split pattern: default, qwen35, qwen2, llama3 (= cl100k), gpt4o (= o200k), gpt2, or a regex.
    #[arg(long)]
    pub pattern: Option<String>,
    /// Unicode normalization: nfc (default), none or nfkc (folds ſ and ligatures).
    #[arg(long)]
    pub normalization: Option<String>,
    /// Pairs seen fewer times are never merged.
    #[arg(long)]
    pub min_frequency: Option<u64>,
    /// Longest token in bytes.
    #[arg(long)]
    pub max_token_bytes: Option<usize>,
    /// Keep at most N distinct words while counting, pruning the rarest (bounds memory on
    /// corpora larger than RAM).
    #[arg(long, value_name = "N")]
    pub max_words: Option<usize>,
    /// Language of a file when records carry none: FILE=LANG (file name or stem; repeatable).
    #[arg(long = "lang", value_name = "FILE=LANG")]
    pub lang_map: Vec<String>,
    /// Each plain-text file is one document (default: one document per line).
    #[arg(long)]
    pub doc_per_file: bool,
    /// Skip lines with invalid UTF-8 (counted) instead of failing.
    #[arg(long)]
    pub skip_invalid: bool,
    /// Language weighting: proportional (as read), uniform, temperature (α = 0.3) or
    /// temperature=ALPHA.
    #[arg(long, help_heading = "Balancing")]
    pub weighting: Option<String>,
    /// Multiplies a language's share: LANG=W (repeatable; replaces the recipe's weights).
    #[arg(long = "weight", value_name = "LANG=W", help_heading = "Balancing")]
    pub weights: Vec<String>,
    /// Parity-aware merges against this directory of line-aligned <lang>.txt dev files.
    #[arg(long, value_name = "DIR", help_heading = "Balancing")]
    pub parity_dev: Option<PathBuf>,
    /// Lines of the dev files to use, 1-based inclusive: FIRST:LAST, FIRST: or :LAST.
    #[arg(long, value_name = "RANGE", help_heading = "Balancing")]
    pub dev_lines: Option<String>,
    /// Target bytes/token on a language's training text, for languages without dev text:
    /// LANG=R (repeatable; replaces the recipe's ratios).
    #[arg(long = "ratio", value_name = "LANG=R", help_heading = "Balancing")]
    pub ratios: Vec<String>,
    /// A dev language to train on but not balance (repeatable; replaces the recipe's list).
    #[arg(long = "parity-exclude", value_name = "LANG", help_heading = "Balancing")]
    pub parity_exclude: Vec<String>,
    /// Plain merges before parity-aware selection starts.
    #[arg(long, value_name = "K", help_heading = "Balancing")]
    pub global_merges: Option<usize>,
    /// Take a plain merge whenever every balanced language is within 1+T of its target.
    #[arg(long, value_name = "T", help_heading = "Balancing")]
    pub parity_tolerance: Option<f64>,
    /// Moving window of W merges in which a language may take at most alpha/n of the picks.
    #[arg(long, value_name = "W", help_heading = "Balancing")]
    pub parity_window: Option<usize>,
    /// The window's share factor (default 2).
    #[arg(long, value_name = "ALPHA", help_heading = "Balancing")]
    pub parity_alpha: Option<f64>,
    /// Soft parity: take the top pair of all counts, each language weighted by cost^S
    /// (recomputed every --reweight-every merges), instead of one language's top pair.
    #[arg(long, value_name = "S", help_heading = "Balancing")]
    pub parity_strength: Option<f64>,
    /// Merges between two reweightings of soft parity (default 100).
    #[arg(long, value_name = "N", help_heading = "Balancing")]
    pub reweight_every: Option<usize>,
    /// Plain merge selection even if the recipe sets parity (weights still apply).
    #[arg(long, help_heading = "Balancing")]
    pub no_parity: bool,
    /// Ignore the recipe's [balance] and [parity] tables (these flags still apply).
    #[arg(long, help_heading = "Balancing")]
    pub no_balance: bool,
    /// Worker threads (default: all cores). Output is identical at any thread count.
    #[arg(long)]
    pub threads: Option<usize>,
    /// No progress bars or summary.
    #[arg(long, short)]
    pub quiet: bool,
}

/// Options of `vocab encode`.
#[derive(Args)]
pub struct EncodeArgs {
    /// tokenizer.json to use.
    #[arg(long, short)]
    pub tokenizer: PathBuf,
    /// Input file (default: standard input).
    pub input: Option<PathBuf>,
    /// Encode each line separately and print one line of output per input line.
    #[arg(long)]
    pub lines: bool,
    /// Each input line is a JSON string; each output line a JSON array of ids (texts may then
    /// hold newlines and any character).
    #[arg(long, conflicts_with_all = ["lines", "tokens"])]
    pub jsonl: bool,
    /// Print token strings (byte-level spelling) instead of ids.
    #[arg(long)]
    pub tokens: bool,
    /// Recognize special-token text (e.g. <|end_of_text|>) as special ids.
    #[arg(long)]
    pub allow_special: bool,
}

/// Options of `vocab decode`.
#[derive(Args)]
pub struct DecodeArgs {
    /// tokenizer.json to use.
    #[arg(long, short)]
    pub tokenizer: PathBuf,
    /// File of whitespace-separated ids, one sequence per line (default: standard input).
    pub input: Option<PathBuf>,
}

/// Options of `vocab inspect`.
#[derive(Args)]
pub struct InspectArgs {
    /// tokenizer.json to inspect.
    pub tokenizer: PathBuf,
    /// How many of the longest tokens to list.
    #[arg(long, default_value_t = 10)]
    pub top: usize,
}

/// Options of `vocab export`.
#[derive(Args)]
pub struct ExportArgs {
    /// tokenizer.json to export.
    pub tokenizer: PathBuf,
    /// Write a vocabulary-only GGUF file (the tokenizer.ggml.* keys llama.cpp reads).
    #[arg(long, value_name = "FILE")]
    pub gguf: Option<PathBuf>,
}

/// Options of `vocab compare`.
#[derive(Args)]
pub struct CompareArgs {
    /// Tokenizers as [NAME=]PATH[@PATTERN]: a tokenizer.json, or a tiktoken rank file (with a
    /// pattern name such as cl100k, implied by names like cl100k_base.tiktoken).
    #[arg(required = true, value_name = "TOKENIZER")]
    pub tokenizers: Vec<String>,
    #[command(flatten)]
    pub common: MeasureArgs,
}

/// Options of `vocab fertility`.
#[derive(Args)]
pub struct FertilityArgs {
    /// The tokenizer, as [NAME=]PATH[@PATTERN].
    #[arg(value_name = "TOKENIZER")]
    pub tokenizer: String,
    #[command(flatten)]
    pub common: MeasureArgs,
}

/// What to measure on and how to print it.
#[derive(Args)]
pub struct MeasureArgs {
    /// Directory of line-aligned <lang>.txt translations (parity is measured on these).
    #[arg(long)]
    pub parallel: Option<PathBuf>,
    /// Directory of more <lang>.txt text (not aligned), counted in every column but parity.
    #[arg(long)]
    pub texts: Option<PathBuf>,
    /// Languages to keep, comma-separated (default: every <lang>.txt).
    #[arg(long)]
    pub lang: Option<String>,
    /// Reference language of parity.
    #[arg(long = "ref", default_value = "en")]
    pub reference: String,
    /// table, md, csv or json (a list of rows, one per tokenizer × language).
    #[arg(long, default_value = "table")]
    pub format: String,
    /// Write the table here (atomically) instead of standard output.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Also write a chart: FILE.svg (parity and chars/token bars) or FILE.html (a
    /// self-contained report with the chart and tables).
    #[arg(long)]
    pub chart: Option<PathBuf>,
    /// No progress bar.
    #[arg(long, short)]
    pub quiet: bool,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Train(args) => commands::train::run(args),
        Command::Encode(args) => commands::encode::run_encode(args),
        Command::Decode(args) => commands::encode::run_decode(args),
        Command::Inspect(args) => commands::inspect::run(args),
        Command::Export(args) => commands::export::run(args),
        Command::Compare(args) => commands::compare::run(args.tokenizers, args.common),
        Command::Fertility(args) => commands::compare::run(vec![args.tokenizer], args.common),
        Command::Count(args) => commands::train::run_count(args),
        Command::MergeCounts(args) => commands::train::run_merge_counts(args),
        Command::Extend(args) => commands::train::run_extend(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}
