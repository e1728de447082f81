//! `vocab train`: recipe + flags → training → tokenizer.json and a per-language summary.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use polybpe::corpus::CorpusOptions;
use polybpe::special::{special_token_list, SpecialPreset};
use polybpe::train::countfile::{self, CountSettings};
use polybpe::train::extend;
use polybpe::train::parity::Target;
use polybpe::train::{self, LanguageWeights, LineRange, ParityConfig, TrainConfig, TrainReport, Weighting, Window};
use polybpe::{Normalization, Pattern};

use super::msg;
use crate::progress::Bars;
use crate::{ExtendArgs, MergeCountsArgs, TrainArgs};
use vocab::recipe::Recipe;

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
    let mut recipe = match &args.recipe {
        Some(path) => Recipe::load(path)?,
        None => Recipe::default(),
    };
    if args.no_balance {
        recipe.balance = None;
        recipe.parity = None;
    }
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
        max_words: args.max_words.or(recipe.max_words),
        weights: weights(args, &recipe)?,
        parity: None,
    };

    let mut lang_map = BTreeMap::new();
    for entry in &args.lang_map {
        let (file, lang) = entry.split_once('=').ok_or_else(|| format!("--lang {entry:?}: expected FILE=LANG"))?;
        lang_map.insert(file.to_string(), lang.to_string());
    }
    let corpus_dirs = if args.corpus.is_empty() { vec![default_corpus()] } else { args.corpus.clone() };
    let inputs = if recipe.inputs.is_empty() {
        corpus_dirs.clone()
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
    let config = TrainConfig { parity: parity(args, &recipe, &corpus_dirs)?, ..config };
    config.validate().map_err(msg)?;
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

/// `vocab count`: the counting phase of `train`, written to a count file.
pub fn run_count(args: TrainArgs) -> Result<(), String> {
    if !args.counts.is_empty() {
        return Err("vocab count reads text; --counts belongs to vocab train".into());
    }
    let mut plan = plan(&args)?;
    if args.out.is_none() {
        plan.out.set_extension("counts");
    }
    create_parent(&plan.out)?;
    let bars = Bars::new(args.quiet);
    let start = Instant::now();
    let (counts, stats, _) = train::count_corpus(&plan.inputs, plan.options.clone(), &plan.config, &bars).map_err(msg)?;
    countfile::write(&plan.out, &counts, &CountSettings::of(&plan.config)).map_err(msg)?;
    drop(bars);
    if !args.quiet {
        println!(
            "wrote {} ({} distinct words, {} documents, {:.1} MB of text, {} languages) in {:.1} s",
            plan.out.display(),
            counts.words.len(),
            stats.documents,
            stats.bytes as f64 / 1e6,
            counts.languages.len(),
            start.elapsed().as_secs_f64()
        );
    }
    Ok(())
}

/// `vocab merge-counts`: sums count files made with the same settings.
pub fn run_merge_counts(args: MergeCountsArgs) -> Result<(), String> {
    let mut parts = Vec::with_capacity(args.files.len());
    for path in &args.files {
        let (counts, settings) = countfile::read(path).map_err(msg)?;
        parts.push((path.clone(), counts, settings));
    }
    let (merged, settings) = countfile::merge_checked(parts, None).map_err(msg)?;
    create_parent(&args.out)?;
    countfile::write(&args.out, &merged, &settings).map_err(msg)?;
    println!("wrote {} ({} distinct words from {} files)", args.out.display(), merged.words.len(), args.files.len());
    Ok(())
}

/// `vocab extend`: new merges for new text, existing ids and merges kept.
pub fn run_extend(args: ExtendArgs) -> Result<(), String> {
    let base = polybpe::formats::load_any(&args.base, None).map_err(msg)?;
    let bars = Bars::new(args.quiet);
    let options = CorpusOptions { doc_per_file: args.doc_per_file, ..CorpusOptions::default() };
    let counts = extend::count_corpus_for(&base, &args.corpus, options, &bars).map_err(msg)?;
    let (extended, summary) = extend::extend(&base, &counts, args.add, args.min_frequency, &bars).map_err(msg)?;
    create_parent(&args.out)?;
    polybpe::formats::hf::save(&extended, &args.out).map_err(msg)?;
    drop(bars);
    if !args.quiet {
        println!(
            "wrote {} ({} tokens: {} new from id {}, {} merges added, from {} distinct words)",
            args.out.display(),
            extended.vocab_size(),
            summary.new_tokens,
            summary.first_new_id,
            summary.merges,
            counts.words.len()
        );
        if summary.new_tokens < args.add {
            println!("note: the new text ran out of pairs seen at least {} times", args.min_frequency);
        }
    }
    Ok(())
}

fn create_parent(path: &Path) -> Result<(), String> {
    match path.parent().filter(|d| !d.as_os_str().is_empty()) {
        Some(dir) => std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display())),
        None => Ok(()),
    }
}

/// Peak resident memory of this process (VmHWM), where the OS reports it.
fn peak_memory_mb() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024)
}

/// `LANG=VALUE` flags as pairs.
fn lang_values(flag: &str, entries: &[String]) -> Result<Vec<(String, f64)>, String> {
    entries
        .iter()
        .map(|entry| {
            let (lang, value) = entry.split_once('=').ok_or_else(|| format!("--{flag} {entry:?}: expected LANG=NUMBER"))?;
            let value = value.parse().map_err(|_| format!("--{flag} {entry:?}: {value:?} is not a number"))?;
            Ok((lang.to_string(), value))
        })
        .collect()
}

fn weights(args: &TrainArgs, recipe: &Recipe) -> Result<LanguageWeights, String> {
    let balance = recipe.balance.clone().unwrap_or_default();
    let weighting = match (&args.weighting, &balance.weighting) {
        (Some(flag), _) => Weighting::parse(flag).map_err(msg)?,
        (None, Some(name)) => match (Weighting::parse(name).map_err(msg)?, balance.temperature) {
            (Weighting::Temperature(_), Some(alpha)) => Weighting::Temperature(alpha),
            (_, Some(_)) => return Err(format!("[balance] temperature is set, but weighting is {name:?}")),
            (weighting, None) => weighting,
        },
        (None, None) => Weighting::Proportional,
    };
    let multipliers = if args.weights.is_empty() { balance.weights.into_iter().collect() } else { lang_values("weight", &args.weights)? };
    Ok(LanguageWeights { weighting, multipliers })
}

/// Parity settings: the recipe's `[parity]` table, then the flags; `--parity-dev` or
/// `--ratio` alone turn it on, `--no-parity` off.
fn parity(args: &TrainArgs, recipe: &Recipe, corpus_dirs: &[PathBuf]) -> Result<Option<ParityConfig>, String> {
    if args.no_parity {
        return Ok(None);
    }
    let from_recipe = recipe.parity.clone();
    if from_recipe.is_none() && args.parity_dev.is_none() && args.ratios.is_empty() {
        let stray = args.dev_lines.is_some()
            || args.global_merges.is_some()
            || args.parity_tolerance.is_some()
            || args.parity_window.is_some()
            || args.parity_strength.is_some()
            || !args.parity_exclude.is_empty();
        if stray {
            return Err("parity options need --parity-dev DIR or --ratio LANG=R (or a recipe with [parity])".into());
        }
        return Ok(None);
    }
    let r = from_recipe.unwrap_or_default();
    // A recipe's dev directory is relative to the corpus directory, like its inputs.
    let recipe_dev = r.dev.map(|dev| match corpus_dirs {
        [base] if dev.is_relative() => base.join(dev),
        _ => dev,
    });
    let dev_lines = args.dev_lines.as_deref().or(r.dev_lines.as_deref()).map(LineRange::parse).transpose().map_err(msg)?;
    let ratio = if args.ratios.is_empty() { r.ratio.into_iter().collect() } else { lang_values("ratio", &args.ratios)? };
    let window_size = args.parity_window.or(r.window);
    let alpha = args.parity_alpha.or(r.alpha);
    if alpha.is_some() && window_size.is_none() {
        return Err("--parity-alpha needs a window (--parity-window W)".into());
    }
    Ok(Some(ParityConfig {
        dev: args.parity_dev.clone().or(recipe_dev),
        dev_lines,
        ratio,
        exclude: if args.parity_exclude.is_empty() { r.exclude } else { args.parity_exclude.clone() },
        global_merges: args.global_merges.or(r.global_merges).unwrap_or(0),
        tolerance: args.parity_tolerance.or(r.tolerance),
        window: window_size.map(|size| Window { size, alpha: alpha.unwrap_or(2.0) }),
        strength: args.parity_strength.or(r.strength),
        reweight_every: args.reweight_every.or(r.reweight_every).unwrap_or(0),
    }))
}

pub fn run(args: TrainArgs) -> Result<(), String> {
    let plan = plan(&args)?;
    if let Some(threads) = args.threads {
        if threads == 0 {
            return Err("--threads must be at least 1".into());
        }
        rayon::ThreadPoolBuilder::new().num_threads(threads).build_global().map_err(msg)?;
    }
    create_parent(&plan.out)?;
    if !args.quiet {
        if let Some(recipe) = &args.recipe {
            eprintln!("recipe {}: {}", recipe.display(), plan.description.as_deref().unwrap_or("(no description)"));
        }
    }
    let bars = Bars::new(args.quiet);
    let start = Instant::now();
    let (tokenizer, report) = if args.counts.is_empty() {
        train::train(&plan.inputs, plan.options.clone(), &plan.config, &bars)
    } else {
        train::train_from_count_files(&args.counts, &plan.config, &bars)
    }
    .map_err(msg)?;
    polybpe::formats::hf::save(&tokenizer, &plan.out).map_err(msg)?;
    if let Some(dir) = &args.out_dir {
        super::export::write_folder(&tokenizer, dir, &Default::default())?;
    }
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
    if let Some(peak) = peak_memory_mb() {
        println!("peak memory: {peak} MB");
    }
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
    println!(
        "{:<12} {:>9} {:>9} {:>11} {:>7} {:>11} {:>11} {:>10}",
        "language", "docs", "MB", "words", "share", "tokens", "bytes/tok", "tok/word"
    );
    for (i, lang) in report.languages.iter().enumerate() {
        let t = &report.per_language[i];
        let tokens = report.tokens_per_language[i];
        println!(
            "{:<12} {:>9} {:>9.1} {:>11} {:>6.1}% {:>11} {:>11.3} {:>10.3}",
            lang,
            t.documents,
            t.bytes as f64 / 1e6,
            t.words,
            100.0 * report.language_shares.get(i).copied().unwrap_or(0.0),
            tokens,
            t.bytes as f64 / tokens.max(1) as f64,
            tokens as f64 / t.words.max(1) as f64,
        );
    }
    if let Some(balance) = &report.balance {
        if balance.soft {
            println!("soft parity-aware merges: every merge by the counts of all languages, weighted by their costs");
        } else {
            println!("parity-aware merges: {} chosen by global counts, the others per language:", balance.global_merges);
        }
        println!("{:<12} {:>8} {:>10} {:>17} {:>12}", "language", "merges", "target", "dev tokens", "bytes/tok");
        for b in &balance.languages {
            let (target, dev) = match b.target {
                Target::Dev => ("dev text".to_string(), format!("{} → {}", b.dev_tokens_before, b.dev_tokens_after)),
                Target::Ratio(r) => (format!("{r:.3} b/t"), "-".to_string()),
                Target::Free => ("-".to_string(), "-".to_string()),
            };
            let merges = if balance.soft { "-".to_string() } else { b.merges.to_string() };
            println!(
                "{:<12} {:>8} {:>10} {:>17} {:>12.3}",
                b.lang,
                merges,
                target,
                dev,
                b.train_bytes as f64 / b.train_tokens.max(1) as f64
            );
        }
    }
}
