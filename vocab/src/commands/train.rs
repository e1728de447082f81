//! `vocab train`: recipe + flags → training → tokenizer.json and a per-language summary.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Instant;

use polybpe::corpus::CorpusOptions;
use polybpe::train::countfile;
use polybpe::train::extend;
use polybpe::corpus::hub::fetch_parallel;
use polybpe::train::settings::{BalanceTable, FallbackUse, ParityTable};
use polybpe::train::{Counting, Recipe, Trainer, Transition};

use super::{create_parent, msg};
use crate::progress::Bars;
use crate::{CountArgs, CountingArgs, ExtendArgs, InputArgs, MergeCountsArgs, MergingArgs, TrainArgs};

/// Where the sample corpus lives when `--corpus` is not given.
pub fn default_corpus() -> PathBuf {
    match std::env::var_os("POLYBPE_SHARED") {
        Some(shared) => PathBuf::from(shared).join("corpus").join("train"),
        None => PathBuf::from("../shared/corpus/train"),
    }
}

/// The recipe file (if any) with the flags over it; switched to its Hub fallback when its
/// local sample is absent (the notice says so).
fn layered(input: &InputArgs, counting: &CountingArgs, merging: Option<&MergingArgs>) -> Result<(Recipe, Option<FallbackUse>), String> {
    let mut recipe = match &input.recipe {
        Some(path) => Recipe::load(path).map_err(msg)?,
        None => Recipe::default(),
    };
    let mut fallback = None;
    if let Some((hub_recipe, notice)) = recipe.fall_back(&input.corpus) {
        recipe = hub_recipe;
        let dev_given = merging.is_some_and(|m| m.parity_dev.is_some() || m.no_parity || m.no_balance);
        if let (Some((dev, folders)), false, Some(parity)) = (&notice.dev, dev_given, recipe.parity.as_mut()) {
            parity.dev = Some(fetch_parallel(dev, folders).map_err(|e| fallback_error(&notice, e))?);
        }
        fallback = Some(notice);
    }
    if merging.is_some_and(|m| m.no_balance) {
        recipe = recipe.without_balance();
    }
    let mut flags = Recipe {
        special_tokens: counting.special_tokens.clone(),
        reserved: counting.reserved,
        pattern: counting.pattern.clone(),
        normalization: counting.normalization.clone(),
        max_words: counting.max_words,
        doc_per_file: input.doc_per_file.then_some(true),
        skip_invalid: input.skip_invalid.then_some(true),
        text_field: input.text_field.clone(),
        lang_field: input.lang_field.clone(),
        lang: non_empty(file_langs(&input.lang_map)?),
        keep_languages: non_empty(keep_langs(&input.keep_languages)?),
        max_bytes_per_lang: input.max_bytes_per_lang,
        ..Recipe::default()
    };
    if let Some(m) = merging {
        flags.vocab_size = m.vocab_size;
        flags.min_frequency = m.min_frequency;
        flags.max_token_bytes = m.max_token_bytes;
        flags.superword_transition = m.superword_transition.as_deref().map(Transition::parse).transpose().map_err(msg)?;
        flags.superword_pattern = m.superword_pattern.clone();
        flags.max_superword_words = m.max_superword_words;
        flags.heldout = m.heldout.clone();
        flags.heldout_lines = m.heldout_lines.clone();
        let weights = non_empty(lang_values("weight", &m.weights)?);
        if m.weighting.is_some() || weights.is_some() {
            flags.balance = Some(BalanceTable { weighting: m.weighting.clone(), temperature: None, weights });
        }
        let parity = ParityTable {
            dev: m.parity_dev.clone(),
            dev_lines: m.dev_lines.clone(),
            ratio: non_empty(lang_values("ratio", &m.ratios)?),
            exclude: non_empty(m.parity_exclude.clone()),
            global_merges: m.global_merges,
            tolerance: m.parity_tolerance,
            window: m.parity_window,
            alpha: m.parity_alpha,
            strength: m.parity_strength,
            reweight_every: m.reweight_every,
            byte_premium: m.byte_premium,
        };
        if parity != ParityTable::default() {
            flags.parity = Some(parity);
        }
    }
    let mut recipe = recipe.overlay(flags);
    if merging.is_some_and(|m| m.no_parity) {
        recipe.parity = None;
    }
    Ok((recipe, fallback))
}

/// A failure while reading the Hub fallback names the two ways out.
fn fallback_error(notice: &FallbackUse, error: impl std::fmt::Display) -> String {
    format!(
        "{error}\n{} is absent and the recipe's Hub fallback could not be read; either give local text \
         (--corpus DIR, and --parity-dev DIR for the dev set), or go online (unset HF_HUB_OFFLINE) to fetch it",
        notice.missing.display()
    )
}

/// The corpus directories: `--corpus`; else none for a recipe that lists inputs (they are
/// relative to its data root), else the sample corpus.
fn corpus_dirs(input: &InputArgs, recipe: &Recipe) -> Vec<PathBuf> {
    if !input.corpus.is_empty() {
        input.corpus.clone()
    } else if recipe.inputs.as_ref().is_some_and(|i| !i.is_empty()) {
        Vec::new()
    } else {
        vec![default_corpus()]
    }
}

/// The default output: out/<recipe name>.<extension>.
fn default_out(recipe: &Recipe, extension: &str) -> PathBuf {
    PathBuf::from("out").join(format!("{}.{extension}", recipe.name.as_deref().unwrap_or("tokenizer")))
}

/// `vocab count`: the counting phase of `train`, written to a count file.
pub fn run_count(args: CountArgs) -> Result<(), String> {
    let (recipe, fallback) = layered(&args.input, &args.counting, None)?;
    if let (Some(notice), false) = (&fallback, args.run.quiet) {
        eprintln!("{notice}");
    }
    let dirs = corpus_dirs(&args.input, &recipe);
    let plan = recipe.resolve(&dirs).map_err(msg)?;
    let counting = Counting::new(plan.settings.count).map_err(msg)?;
    let out = args.out.clone().unwrap_or_else(|| default_out(&recipe, "counts"));
    set_threads(args.run.threads)?;
    create_parent(&out)?;
    let bars = Bars::new(args.run.quiet);
    let start = Instant::now();
    let counted = counting.count_files(&plan.inputs, &plan.corpus, &bars).map_err(|e| match &fallback {
        Some(notice) => fallback_error(notice, e),
        None => e.to_string(),
    })?;
    countfile::write(&out, &counted.counts, counting.settings()).map_err(msg)?;
    drop(bars);
    if !args.run.quiet {
        println!(
            "wrote {} ({} distinct words, {} documents, {:.1} MB of text, {} languages) in {:.1} s",
            out.display(),
            counted.counts.words.len(),
            counted.corpus.documents,
            counted.corpus.bytes as f64 / 1e6,
            counted.counts.languages.len(),
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
    let counts = extend::count_corpus_for(&base, &args.corpus, &options, &bars).map_err(msg)?.counts;
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


/// `LANG=VALUE` flags as a map; a language given twice is an error.
fn lang_values(flag: &str, entries: &[String]) -> Result<BTreeMap<String, f64>, String> {
    let mut values = BTreeMap::new();
    for entry in entries {
        let (lang, value) = entry.split_once('=').ok_or_else(|| format!("--{flag} {entry:?}: expected LANG=NUMBER"))?;
        let value: f64 = value.parse().map_err(|_| format!("--{flag} {entry:?}: {value:?} is not a number"))?;
        if values.insert(lang.to_string(), value).is_some() {
            return Err(format!("--{flag}: language {lang:?} is given twice"));
        }
    }
    Ok(values)
}

/// `FILE=LANG` flags as a map.
fn file_langs(entries: &[String]) -> Result<BTreeMap<String, String>, String> {
    entries
        .iter()
        .map(|entry| {
            let (file, lang) = entry.split_once('=').ok_or_else(|| format!("--lang {entry:?}: expected FILE=LANG"))?;
            Ok((file.to_string(), lang.to_string()))
        })
        .collect()
}

/// `--keep-lang TAG[=LABEL,…]` flags as a map (a bare TAG keeps the label TAG).
fn keep_langs(entries: &[String]) -> Result<BTreeMap<String, Vec<String>>, String> {
    let mut keep = BTreeMap::new();
    for entry in entries {
        let (tag, labels) = entry.split_once('=').unwrap_or((entry, entry));
        let labels: Vec<String> = labels.split(',').map(|l| l.trim().to_string()).filter(|l| !l.is_empty()).collect();
        if tag.trim().is_empty() || labels.is_empty() {
            return Err(format!("--keep-lang {entry:?}: expected TAG or TAG=LABEL[,LABEL…]"));
        }
        if keep.insert(tag.trim().to_string(), labels).is_some() {
            return Err(format!("--keep-lang: language {tag:?} is given twice"));
        }
    }
    Ok(keep)
}

/// `None` for an empty list or map (a flag not given), so it does not replace the recipe's.
fn non_empty<T: IntoIterator + FromIterator<T::Item>>(values: T) -> Option<T> {
    let mut values = values.into_iter().peekable();
    values.peek().is_some().then(|| values.collect())
}

fn set_threads(threads: Option<usize>) -> Result<(), String> {
    match threads {
        Some(0) => Err("--threads must be at least 1".into()),
        Some(n) => rayon::ThreadPoolBuilder::new().num_threads(n).build_global().map_err(msg),
        None => Ok(()),
    }
}

pub fn run(args: TrainArgs) -> Result<(), String> {
    let (recipe, fallback) = layered(&args.input, &args.counting, Some(&args.merging))?;
    if let (Some(notice), false) = (&fallback, args.run.quiet) {
        eprintln!("{notice}");
    }
    let dirs = corpus_dirs(&args.input, &recipe);
    let plan = recipe.resolve(&dirs).map_err(msg)?;
    let trainer = Trainer::for_plan(&plan).map_err(msg)?;
    if args.dry_run {
        println!("{}", serde_json::to_string_pretty(&plan.to_json()).map_err(msg)?);
        return Ok(());
    }
    let out = args.out.clone().unwrap_or_else(|| default_out(&recipe, "json"));
    set_threads(args.run.threads)?;
    create_parent(&out)?;
    if !args.run.quiet {
        if let Some(path) = &args.input.recipe {
            eprintln!("recipe {}: {}", path.display(), recipe.description.as_deref().unwrap_or("(no description)"));
        }
    }
    let bars = Bars::new(args.run.quiet);
    let start = Instant::now();
    let counted = if args.counts.is_empty() {
        trainer.counting().count_files(&plan.inputs, &plan.corpus, &bars)
    } else {
        trainer.counting().read_count_files(&args.counts, &bars)
    }
    .map_err(|e| match &fallback {
        Some(notice) => fallback_error(notice, e),
        None => e.to_string(),
    })?;
    let (tokenizer, report) = trainer.learn(counted, &bars).map_err(msg)?;
    polybpe::formats::hf::save(&tokenizer, &out).map_err(msg)?;
    if let Some(dir) = &args.out_dir {
        super::export::write_folder(&tokenizer, dir, &Default::default())?;
    }
    drop(bars);
    if !args.run.quiet {
        println!("wrote {} in {:.1} s", out.display(), start.elapsed().as_secs_f64());
        print!("{report}");
    }
    Ok(())
}
