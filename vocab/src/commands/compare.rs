//! `vocab compare` and `vocab fertility`: what each tokenizer costs per language.

use std::path::{Path, PathBuf};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use polybpe::compare::{self, CompareInput};
use polybpe::report::{self, Format};
use polybpe::Tokenizer;

use super::msg;
use crate::MeasureArgs;

/// A tokenizer argument: `[NAME=]PATH[@PATTERN]` (the pattern for tiktoken rank files).
fn load_spec(spec: &str) -> Result<(String, Tokenizer), String> {
    let (name, rest) = match spec.split_once('=') {
        Some((name, rest)) if !name.is_empty() && !name.contains(['/', '\\']) => (Some(name.to_string()), rest),
        _ => (None, spec),
    };
    let (path, pattern) = match rest.rsplit_once('@') {
        Some((path, pattern)) if !path.is_empty() && !pattern.contains(['/', '\\']) => (path, Some(pattern)),
        _ => (rest, None),
    };
    let path = PathBuf::from(path);
    let tokenizer = polybpe::formats::load_any(&path, pattern).map_err(msg)?;
    Ok((name.unwrap_or_else(|| display_name(&path)), tokenizer))
}

/// A name for a tokenizer file: its stem, or its folder's name for generic file names.
fn display_name(path: &Path) -> String {
    let stem = path.file_stem().and_then(|s| s.to_str()).unwrap_or("tokenizer");
    match (stem, path.parent().and_then(|p| p.file_name()).and_then(|s| s.to_str())) {
        ("tokenizer" | "vocab", Some(dir)) => dir.to_string(),
        _ => stem.to_string(),
    }
}

pub fn run(specs: Vec<String>, args: MeasureArgs) -> Result<(), String> {
    if args.parallel.is_none() && args.texts.is_none() {
        return Err("give --parallel DIR (line-aligned <lang>.txt files) and/or --texts DIR".into());
    }
    let format = Format::parse(&args.format).ok_or_else(|| format!("unknown --format {:?}: use table, md, csv or json", args.format))?;
    let langs: Option<Vec<String>> = args.lang.as_ref().map(|l| l.split(',').map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect());
    let tokenizers = specs.iter().map(|s| load_spec(s)).collect::<Result<Vec<_>, _>>()?;
    let read = |dir: &Option<PathBuf>| -> Result<Vec<_>, String> {
        dir.as_ref().map_or(Ok(Vec::new()), |d| compare::read_language_dir(d, langs.as_deref()).map_err(msg))
    };
    let input = CompareInput { parallel: read(&args.parallel)?, texts: read(&args.texts)?, reference: args.reference.clone() };

    let jobs = tokenizers.len() as u64 * {
        let mut l: Vec<&str> = input.parallel.iter().chain(&input.texts).map(|t| t.lang.as_str()).collect();
        l.sort_unstable();
        l.dedup();
        l.len() as u64
    };
    let bar = ProgressBar::with_draw_target(Some(jobs), if args.quiet { ProgressDrawTarget::hidden() } else { ProgressDrawTarget::stderr() });
    bar.set_style(ProgressStyle::with_template("measuring {bar:40} {pos}/{len} tokenizer × language ({elapsed})").expect("static template"));
    let named: Vec<(&str, &Tokenizer)> = tokenizers.iter().map(|(n, t)| (n.as_str(), t)).collect();
    let rows = compare::compare(&named, &input, &|| bar.inc(1)).map_err(msg)?;
    bar.finish_and_clear();

    let text = report::render(&rows, format);
    match &args.out {
        Some(path) => polybpe::io::write_atomic(path, text.as_bytes()).map_err(msg)?,
        None => print!("{text}"),
    }
    if let Some(chart) = &args.chart {
        report::write_chart(&rows, chart, &args.reference).map_err(msg)?;
    }
    Ok(())
}
