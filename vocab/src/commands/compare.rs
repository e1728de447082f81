//! `vocab compare` and `vocab fertility`: what each tokenizer costs per language.

use std::path::PathBuf;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use polybpe::compare::{self, CompareInput};
use polybpe::report::{self, Format};
use polybpe::Tokenizer;

use super::msg;
use crate::MeasureArgs;

pub fn run(specs: Vec<String>, args: MeasureArgs) -> Result<(), String> {
    if args.parallel.is_none() && args.texts.is_none() {
        return Err("give --parallel DIR (line-aligned <lang>.txt files) and/or --texts DIR".into());
    }
    let format = Format::parse(&args.format).ok_or_else(|| format!("unknown --format {:?}: use table, md, csv or json", args.format))?;
    let langs: Option<Vec<String>> = args.lang.as_ref().map(|l| l.split(',').map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect());
    let tokenizers = specs.iter().map(|s| polybpe::formats::load_spec(s).map_err(msg)).collect::<Result<Vec<_>, _>>()?;
    let read = |dir: &Option<PathBuf>| -> Result<Vec<_>, String> {
        dir.as_ref().map_or(Ok(Vec::new()), |d| compare::read_language_dir(d, langs.as_deref()).map_err(msg))
    };
    let input = CompareInput { parallel: read(&args.parallel)?, texts: read(&args.texts)?, reference: args.reference.clone() };

    let jobs = (tokenizers.len() * input.languages().len()) as u64;
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
