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
    Train(Box<TrainArgs>),
    /// Encode text to token ids (or tokens).
    Encode(EncodeArgs),
    /// Decode token ids to text.
    Decode(DecodeArgs),
    /// Show sizes, special tokens, longest tokens and tokens per script.
    Inspect(InspectArgs),
    /// Compare tokenizers per language: fertility, compression, continued words, parity.
    Compare(CompareArgs),
    /// Fertility of one tokenizer per language (`compare` with a single tokenizer).
    Fertility(FertilityArgs),
    /// Count the words of a corpus (or one shard of it) into a word-count file, for
    /// `train --counts`. Takes train's input and counting options; --out is the count file.
    Count(CountArgs),
    /// Sum word-count files into one.
    MergeCounts(MergeCountsArgs),
    /// Add merges learned on new text to a vocabulary, keeping every existing id and merge.
    Extend(ExtendArgs),
    /// Write a model folder (tokenizer.json, tokenizer_config.json, special_tokens_map.json)
    /// that transformers.AutoTokenizer loads, and/or a vocabulary-only GGUF for llama.cpp.
    Export(commands::export::ExportArgs),
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
    #[command(flatten)]
    pub input: InputArgs,
    #[command(flatten)]
    pub counting: CountingArgs,
    #[command(flatten)]
    pub merging: MergingArgs,
    /// Output tokenizer.json (default: out/<recipe name>.json).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Also write a model folder here (tokenizer.json, tokenizer_config.json,
    /// special_tokens_map.json; `vocab export` sets its options).
    #[arg(long, value_name = "DIR")]
    pub out_dir: Option<PathBuf>,
    /// Train from these word-count files (written by `vocab count`, merged) instead of text.
    #[arg(long, value_name = "COUNTS")]
    pub counts: Vec<PathBuf>,
    /// Resolve and check the settings, print them as JSON, and train nothing.
    #[arg(long)]
    pub dry_run: bool,
    #[command(flatten)]
    pub run: RunArgs,
}

/// Options of `vocab count`: train's input and counting options, no merge settings.
#[derive(Args)]
pub struct CountArgs {
    #[command(flatten)]
    pub input: InputArgs,
    #[command(flatten)]
    pub counting: CountingArgs,
    /// The count file (default: out/<recipe name>.counts).
    #[arg(long)]
    pub out: Option<PathBuf>,
    #[command(flatten)]
    pub run: RunArgs,
}

/// What to read, and how.
#[derive(Args)]
pub struct InputArgs {
    /// Recipe file (TOML) with the training settings and inputs.
    #[arg(long)]
    pub recipe: Option<PathBuf>,
    /// Corpus directory: recipe inputs are relative to it (default: the recipe's data_root);
    /// without recipe inputs, the files, directories or hf://datasets/OWNER/NAME[@REV][/GLOB]
    /// Hub corpora to read (repeatable; default: ../shared/corpus/train).
    #[arg(long)]
    pub corpus: Vec<PathBuf>,
    /// Keep only these languages: TAG or TAG=LABEL[,LABEL…] (records labelled LABEL become
    /// TAG; repeatable; replaces the recipe's keep_languages).
    #[arg(long = "keep-lang", value_name = "TAG[=LABELS]")]
    pub keep_languages: Vec<String>,
    /// Take at most N bytes of text per language, in reading order (a Hub corpus is fetched
    /// only that far).
    #[arg(long, value_name = "N")]
    pub max_bytes_per_lang: Option<u64>,
    /// Language of a file when records carry none: FILE=LANG (file name or stem; repeatable).
    #[arg(long = "lang", value_name = "FILE=LANG")]
    pub lang_map: Vec<String>,
    /// Each plain-text file is one document (default: one document per line).
    #[arg(long)]
    pub doc_per_file: bool,
    /// Skip lines with invalid UTF-8 (counted) instead of failing.
    #[arg(long)]
    pub skip_invalid: bool,
    /// JSONL field / Parquet column holding the text (default: text).
    #[arg(long, value_name = "NAME")]
    pub text_field: Option<String>,
    /// JSONL field / Parquet column holding the language (default: language).
    #[arg(long, value_name = "NAME")]
    pub lang_field: Option<String>,
}

/// How text becomes counted words.
#[derive(Args)]
pub struct CountingArgs {
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
    /// Keep at most N distinct words while counting, pruning the rarest (bounds memory on
    /// corpora larger than RAM).
    #[arg(long, value_name = "N")]
    pub max_words: Option<usize>,
}

/// How counted words become merges.
#[derive(Args)]
pub struct MergingArgs {
    /// Total vocabulary size: special tokens + 256 bytes + merges.
    #[arg(long)]
    pub vocab_size: Option<usize>,
    /// Pairs seen fewer times are never merged.
    #[arg(long)]
    pub min_frequency: Option<u64>,
    /// Longest token in bytes.
    #[arg(long)]
    pub max_token_bytes: Option<usize>,
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
    /// Byte-premium ratio targets: balance each dev language by a bytes/token target on its
    /// training text, R times its mean bytes per dev line over the mean of the dev languages'.
    #[arg(long, value_name = "R", help_heading = "Balancing")]
    pub byte_premium: Option<f64>,
    /// Superword merges (SuperBPE) after this many merges (50000) or this share of them (0.8):
    /// later merges may join words across spaces.
    #[arg(long, value_name = "N|SHARE", help_heading = "Superwords")]
    pub superword_transition: Option<String>,
    /// The superword split: superbpe (default) or a regex.
    #[arg(long, value_name = "PATTERN", help_heading = "Superwords")]
    pub superword_pattern: Option<String>,
    /// Most words a superword token may span (default 4).
    #[arg(long, value_name = "N", help_heading = "Superwords")]
    pub max_superword_words: Option<usize>,
    /// Plain merge selection even if the recipe sets parity (weights still apply).
    #[arg(long, help_heading = "Balancing")]
    pub no_parity: bool,
    /// Ignore the recipe's [balance] and [parity] tables (these flags still apply).
    #[arg(long, help_heading = "Balancing")]
    pub no_balance: bool,
    /// Score this directory of <lang>.txt text, never trained on, after training: bytes/token per
    /// language and pooled, and the Gini of the token totals (for parallel text).
    #[arg(long, value_name = "DIR", help_heading = "Held-out scoring")]
    pub heldout: Option<PathBuf>,
    /// Lines of the held-out files to score, 1-based inclusive: FIRST:LAST, FIRST: or :LAST.
    #[arg(long, value_name = "RANGE", help_heading = "Held-out scoring")]
    pub heldout_lines: Option<String>,
}

/// How a long command runs.
#[derive(Args)]
pub struct RunArgs {
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
    /// Input file (default: standard input); with --output, the files or directories of a
    /// corpus (text, JSONL, Parquet).
    #[arg(value_name = "INPUT")]
    pub inputs: Vec<PathBuf>,
    /// Encode the whole corpus into token shards: PREFIX.ids.npy (every document's ids, uint16
    /// when the vocabulary fits, else uint32) and PREFIX.offsets.npy (uint64, documents + 1).
    #[arg(long, short, value_name = "PREFIX", conflicts_with_all = ["lines", "jsonl", "tokens"])]
    pub output: Option<PathBuf>,
    /// With --output: end every document with this token (its text, e.g. <|endoftext|>, or id).
    #[arg(long, value_name = "TOKEN", requires = "output")]
    pub eod: Option<String>,
    /// With --output: each plain-text file is one document (default: one document per line).
    #[arg(long, requires = "output")]
    pub doc_per_file: bool,
    /// With --output: skip lines with invalid UTF-8 (counted) instead of failing.
    #[arg(long, requires = "output")]
    pub skip_invalid: bool,
    /// With --output: JSONL field / Parquet column holding the text (default: text).
    #[arg(long, value_name = "NAME", requires = "output")]
    pub text_field: Option<String>,
    /// With --output: worker threads (default: all cores). Output is identical at any count.
    #[arg(long, requires = "output")]
    pub threads: Option<usize>,
    /// With --output: no progress bar.
    #[arg(long, short, requires = "output")]
    pub quiet: bool,
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
    /// File of whitespace-separated ids (or JSON arrays of ids), one sequence per line
    /// (default: standard input). The texts are printed separated by newlines, so the output
    /// of whole-file `encode` decodes to the file byte for byte.
    pub input: Option<PathBuf>,
    /// End every text with a newline: the inverse of `encode --lines`.
    #[arg(long)]
    pub lines: bool,
    /// Each input line is a JSON array of ids, each output line a JSON string: the inverse of
    /// `encode --jsonl`.
    #[arg(long, conflicts_with = "lines")]
    pub jsonl: bool,
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

/// Options of `vocab compare`.
#[derive(Args)]
pub struct CompareArgs {
    /// Tokenizers as [NAME=]PATH[@PATTERN]: a tokenizer.json, a tiktoken rank file (with a
    /// pattern name such as cl100k, implied by names like cl100k_base.tiktoken), or
    /// hf://[OWNER/]MODEL[@REVISION] (its tokenizer.json, fetched and cached).
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
    /// Directory of more <lang>.txt text (not aligned), counted in every column but parity; or
    /// a Hub corpus hf://datasets/OWNER/NAME[@REV][/GLOB] (documents by their language column).
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

/// Restores the default action of SIGPIPE, which Rust ignores: when the reader of our output
/// goes away (`vocab train … | head -1`) the process ends quietly, as Unix tools do, instead of
/// `println!` panicking on the broken pipe.
#[cfg(unix)]
fn end_quietly_on_closed_pipe() {
    extern "C" {
        fn signal(signum: std::os::raw::c_int, handler: usize) -> usize;
    }
    const SIGPIPE: std::os::raw::c_int = 13;
    const SIG_DFL: usize = 0;
    // SAFETY: called first thing in `main`, before any thread starts; SIG_DFL is always a
    // valid disposition and SIGPIPE is 13 on Linux and macOS.
    unsafe {
        signal(SIGPIPE, SIG_DFL);
    }
}

fn main() -> ExitCode {
    #[cfg(unix)]
    end_quietly_on_closed_pipe();
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Train(args) => commands::train::run(*args),
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
