//! `vocab train`: recipe + flags → training → tokenizer.json and a per-language summary.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use polybpe::corpus::CorpusOptions;
use polybpe::special::{special_token_list, SpecialPreset};
use polybpe::train::{self, TrainConfig, TrainReport};
use polybpe::{Normalization, Pattern};

use super::msg;
use crate::progress::Bars;
use crate::recipe::Recipe;
use crate::TrainArgs;

/// Where the sample corpus lives when `--corpus` is not given.
pub fn default_corpus() -> PathBuf {
    match std::env::var_os("POLYBPE_SHARED") {
        Some(shared) => PathBuf::from(shared).join("corpus").join("train"),
        None => PathBuf::from("../shared/corpus/train"),
    }
}

/// Everything resolved from the recipe and the flags.
struct Plan {
    config: TrainConfig,
    inputs: Vec<PathBuf>,
    options: CorpusOptions,
    out: PathBuf,
    description: Option<String>,
}

fn plan(args: &TrainArgs) -> Result<Plan, String> {
    let recipe = match &args.recipe {
        Some(path) => Recipe::load(path)?,
        None => Recipe::default(),
    };
    let preset = SpecialPreset::parse(args.special_tokens.as_deref().or(recipe.special_tokens.as_deref()).unwrap_or("pleias-rag"))
        .map_err(msg)?;
    let reserved = args.reserved.or(recipe.reserved).unwrap_or(0);
    let special_tokens = special_token_list(preset, &recipe.extra_special_tokens, reserved).map_err(msg)?;
    let config = TrainConfig {
        vocab_size: args.vocab_size.or(recipe.vocab_size).unwrap_or(65_536),
        normalization: Normalization::parse(args.normalization.as_deref().or(recipe.normalization.as_deref()).unwrap_or("nfc"))
            .map_err(msg)?,
        pattern: Pattern::parse(args.pattern.as_deref().or(recipe.pattern.as_deref()).unwrap_or("default")),
        special_tokens,
        min_frequency: args.min_frequency.or(recipe.min_frequency).unwrap_or(2),
        max_token_bytes: args.max_token_bytes.or(recipe.max_token_bytes),
    };
    config.validate().map_err(msg)?;

    let mut lang_map = BTreeMap::new();
    for entry in &args.lang_map {
        let (file, lang) = entry.split_once('=').ok_or_else(|| format!("--lang {entry:?}: expected FILE=LANG"))?;
        lang_map.insert(file.to_string(), lang.to_string());
    }
    let corpus_dirs = if args.corpus.is_empty() { vec![default_corpus()] } else { args.corpus.clone() };
    let inputs = if recipe.inputs.is_empty() {
        corpus_dirs
    } else {
        let [base] = corpus_dirs.as_slice() else {
            return Err("with a recipe that lists inputs, give one --corpus directory (inputs are relative to it)".into());
        };
        recipe
            .inputs
            .iter()
            .map(|input| {
                let path = base.join(&input.path);
                if let Some(lang) = &input.lang {
                    lang_map.insert(path.display().to_string(), lang.clone());
                }
                path
            })
            .collect()
    };
    let options = CorpusOptions {
        doc_per_file: args.doc_per_file || recipe.doc_per_file.unwrap_or(false),
        skip_invalid: args.skip_invalid || recipe.skip_invalid.unwrap_or(false),
        lang_map,
        ..CorpusOptions::default()
    };
    let name = recipe.name.clone().unwrap_or_else(|| "tokenizer".to_string());
    let out = args.out.clone().unwrap_or_else(|| PathBuf::from("out").join(format!("{name}.json")));
    Ok(Plan { config, inputs, options, out, description: recipe.description })
}

pub fn run(args: TrainArgs) -> Result<(), String> {
    let plan = plan(&args)?;
    if let Some(threads) = args.threads {
        if threads == 0 {
            return Err("--threads must be at least 1".into());
        }
        rayon::ThreadPoolBuilder::new().num_threads(threads).build_global().map_err(msg)?;
    }
    if let Some(dir) = plan.out.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    }
    if !args.quiet {
        if let Some(recipe) = &args.recipe {
            eprintln!("recipe {}: {}", recipe.display(), plan.description.as_deref().unwrap_or("(no description)"));
        }
    }
    let bars = Bars::new(args.quiet);
    let start = Instant::now();
    let (tokenizer, report) = train::train(&plan.inputs, plan.options.clone(), &plan.config, &bars).map_err(msg)?;
    polybpe::formats::hf::save(&tokenizer, &plan.out).map_err(msg)?;
    drop(bars);
    if !args.quiet {
        print_summary(&plan.out, &plan.config, &report, start.elapsed().as_secs_f64());
    }
    Ok(())
}

fn print_summary(out: &Path, config: &TrainConfig, report: &TrainReport, seconds: f64) {
    println!(
        "wrote {} ({} tokens: {} special, 256 bytes, {} merges) in {seconds:.1} s (counting {:.1} s, merging {:.1} s)",
        out.display(),
        config.vocab_size - if report.stopped_early { config.max_merges() - (report.merges - report.duplicate_merges) } else { 0 },
        config.special_tokens.len(),
        report.merges,
        report.count_time.as_secs_f64(),
        report.merge_time.as_secs_f64(),
    );
    if report.stopped_early {
        println!("note: the corpus ran out of pairs seen at least {} times before the vocabulary was full", config.min_frequency);
    }
    println!(
        "corpus: {} files, {} documents, {:.1} MB, {} distinct words{}",
        report.corpus.files,
        report.corpus.documents,
        report.corpus.bytes as f64 / 1e6,
        report.distinct_words,
        if report.corpus.skipped_invalid > 0 { format!(", {} invalid lines skipped", report.corpus.skipped_invalid) } else { String::new() }
    );
    println!("{:<12} {:>9} {:>9} {:>11} {:>11} {:>11} {:>10}", "language", "docs", "MB", "words", "tokens", "bytes/tok", "tok/word");
    for (i, lang) in report.languages.iter().enumerate() {
        let t = &report.per_language[i];
        let tokens = report.tokens_per_language[i];
        println!(
            "{:<12} {:>9} {:>9.1} {:>11} {:>11} {:>11.3} {:>10.3}",
            lang,
            t.documents,
            t.bytes as f64 / 1e6,
            t.words,
            tokens,
            t.bytes as f64 / tokens.max(1) as f64,
            tokens as f64 / t.words.max(1) as f64,
        );
    }
}
