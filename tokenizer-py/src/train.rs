//! `polybpe.train`, `count`, `merge_counts` and `resolve_settings`: keyword arguments become a
//! settings layer ([`Recipe`]) over the `recipe=` file, and the library's training API does
//! the rest, as for `vocab train`.

use std::io::Write;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyList, PyString, PyTuple};

use polybpe::corpus::{CorpusStats, Documents, ReadProgress};
use polybpe::train::countfile::{self, CountSettings};
use polybpe::train::parity::Target;
use polybpe::train::settings::{BalanceTable, ParityTable};
use polybpe::train::{Counted, Counting, Recipe, TrainObserver, TrainPlan, TrainReport as CoreReport, Trainer, Transition, WordCounts};

use crate::errors::to_py;
use crate::pools::in_pool;
use crate::tokenizer::Tokenizer;

/// Language of texts given without one.
const UNDETERMINED: &str = "und";

/// Keyword arguments that are settings, in the order `help()` shows them. Each maps to the
/// recipe key of the same meaning (see [`overlay_kwarg`]).
const COUNT_KWARGS: &[&str] = &[
    "recipe", "special_tokens", "extra_special_tokens", "reserved", "pattern", "normalization", "max_words",
    "doc_per_file", "skip_invalid", "text_field", "lang_field", "languages", "keep_languages", "max_bytes_per_lang",
];
const MERGE_KWARGS: &[&str] = &[
    "vocab_size", "min_frequency", "max_token_bytes", "weighting", "temperature", "weights", "parity_dev", "dev_lines",
    "ratio", "parity_exclude", "global_merges", "parity_tolerance", "parity_window", "parity_alpha", "parity_strength",
    "reweight_every", "byte_premium", "superword_transition", "superword_pattern", "max_superword_words", "no_balance", "no_parity",
    "heldout", "heldout_lines",
];
/// Keyword arguments about how the call runs.
const RUN_KWARGS: &[&str] = &["num_threads", "batch_size", "quiet"];

/// Trains a vocabulary from files, an iterable of texts, or word-count files; every setting
/// as in `vocab train` (see `polybpe.train.__doc__` in the stub).
#[pyfunction]
#[pyo3(signature = (files=None, texts=None, counts=None, *, report=false, **kwargs))]
#[pyo3(text_signature = "(files=None, texts=None, counts=None, *, recipe=None, vocab_size=None, special_tokens=None, \
    extra_special_tokens=None, reserved=None, pattern=None, normalization=None, min_frequency=None, max_token_bytes=None, \
    max_words=None, doc_per_file=None, skip_invalid=None, text_field=None, lang_field=None, languages=None, keep_languages=None, max_bytes_per_lang=None, weighting=None, \
    temperature=None, weights=None, parity_dev=None, dev_lines=None, ratio=None, parity_exclude=None, global_merges=None, \
    parity_tolerance=None, parity_window=None, parity_alpha=None, parity_strength=None, reweight_every=None, \
    byte_premium=None, superword_transition=None, superword_pattern=None, max_superword_words=None, \
    no_balance=False, no_parity=False, heldout=None, heldout_lines=None, num_threads=None, batch_size=8192, quiet=False, report=False)")]
pub fn train(
    py: Python<'_>,
    files: Option<Vec<PathBuf>>,
    texts: Option<&Bound<'_, PyAny>>,
    counts: Option<Vec<Bound<'_, PyAny>>>,
    report: bool,
    kwargs: Option<&Bound<'_, PyDict>>,
) -> PyResult<PyObject> {
    let call = Call::parse(kwargs, &[COUNT_KWARGS, MERGE_KWARGS, RUN_KWARGS])?;
    let plan = call.plan(files.as_deref())?;
    let trainer = Trainer::for_plan(&plan).map_err(to_py)?;
    let progress = Progress::new(call.quiet);
    let counted = match (files, texts, counts) {
        (Some(_), None, None) => {
            call.run(py, || trainer.counting().count_files(&plan.inputs, &plan.corpus, &progress))?.map_err(to_py)?
        }
        (None, Some(texts), None) => count_texts(py, texts, trainer.counting(), &call, &progress)?,
        (None, None, Some(parts)) => {
            let parts = parts.iter().enumerate().map(|(i, part)| read_counts(i, part)).collect::<PyResult<Vec<_>>>()?;
            call.run(py, || trainer.counting().merge_count_files(parts, &progress))?.map_err(to_py)?
        }
        _ => return Err(PyTypeError::new_err("give exactly one of `files`, `texts` or `counts`")),
    };
    let (tokenizer, core_report) = call.run(py, || trainer.learn(counted, &progress))?.map_err(to_py)?;
    progress.done();
    if !call.quiet {
        eprint!("{core_report}");
    }
    let tokenizer = Py::new(py, Tokenizer::new(tokenizer))?;
    if report {
        let report = Py::new(py, TrainReport::from_core(py, core_report)?)?;
        Ok(PyTuple::new(py, [tokenizer.into_any(), report.into_any()])?.into_any().unbind())
    } else {
        Ok(tokenizer.into_any())
    }
}

/// Counts words of files or texts into a word-count file's bytes, for `train(counts=…)` and
/// `merge_counts` (the counting phase of `train`, e.g. one shard per worker).
#[pyfunction]
#[pyo3(signature = (files=None, texts=None, **kwargs))]
#[pyo3(text_signature = "(files=None, texts=None, *, recipe=None, special_tokens=None, extra_special_tokens=None, \
    reserved=None, pattern=None, normalization=None, max_words=None, doc_per_file=None, skip_invalid=None, \
    text_field=None, lang_field=None, languages=None, keep_languages=None, max_bytes_per_lang=None, num_threads=None, \
    batch_size=8192, quiet=False)")]
pub fn count<'py>(
    py: Python<'py>,
    files: Option<Vec<PathBuf>>,
    texts: Option<&Bound<'py, PyAny>>,
    kwargs: Option<&Bound<'py, PyDict>>,
) -> PyResult<Bound<'py, PyBytes>> {
    let call = Call::parse(kwargs, &[COUNT_KWARGS, RUN_KWARGS])?;
    let plan = call.plan(files.as_deref())?;
    let counting = Counting::new(plan.settings.count).map_err(to_py)?;
    let progress = Progress::new(call.quiet);
    let counted = match (files, texts) {
        (Some(_), None) => call.run(py, || counting.count_files(&plan.inputs, &plan.corpus, &progress))?.map_err(to_py)?,
        (None, Some(texts)) => count_texts(py, texts, &counting, &call, &progress)?,
        _ => return Err(PyTypeError::new_err("give exactly one of `files` or `texts`")),
    };
    progress.done();
    let bytes = countfile::to_bytes(&counted.counts, counting.settings());
    Ok(PyBytes::new(py, &bytes))
}

/// The settings `train` would use for these arguments, as JSON text (the same text as
/// `vocab train --dry-run`): defaults applied, recipe and keyword arguments combined, checked.
#[pyfunction]
#[pyo3(signature = (files=None, **kwargs))]
pub fn resolve_settings(files: Option<Vec<PathBuf>>, kwargs: Option<&Bound<'_, PyDict>>) -> PyResult<String> {
    let call = Call::parse(kwargs, &[COUNT_KWARGS, MERGE_KWARGS, RUN_KWARGS])?;
    let plan = call.plan(files.as_deref())?;
    Trainer::for_plan(&plan).map_err(to_py)?;
    let json = plan.to_json();
    serde_json::to_string_pretty(&json).map_err(|e| PyValueError::new_err(e.to_string()))
}

/// Sums word-count files (bytes from `count`, or paths) made with the same settings.
#[pyfunction]
pub fn merge_counts<'py>(py: Python<'py>, parts: Vec<Bound<'py, PyAny>>) -> PyResult<Bound<'py, PyBytes>> {
    if parts.is_empty() {
        return Err(PyValueError::new_err("merge_counts needs at least one count file"));
    }
    let parts = parts.iter().enumerate().map(|(i, part)| read_counts(i, part)).collect::<PyResult<Vec<_>>>()?;
    let (merged, settings) = py.allow_threads(|| countfile::merge_checked(parts, None)).map_err(to_py)?;
    Ok(PyBytes::new(py, &countfile::to_bytes(&merged, &settings)))
}

/// One call's keyword arguments: the settings layer and how to run.
struct Call {
    recipe: Recipe,
    /// `num_threads` (None: all cores).
    threads: Option<usize>,
    batch_size: usize,
    quiet: bool,
}

impl Call {
    /// Reads the keyword arguments; an unknown one is a `TypeError`, a value of the wrong type a
    /// `TypeError` naming it, and `None` means "not set".
    fn parse(kwargs: Option<&Bound<'_, PyDict>>, allowed: &[&[&str]]) -> PyResult<Call> {
        let mut recipe_path: Option<PathBuf> = None;
        let mut layer = Recipe::default();
        let (mut no_balance, mut no_parity) = (false, false);
        let mut call = Call { recipe: Recipe::default(), threads: None, batch_size: 8192, quiet: false };
        for (key, value) in kwargs.into_iter().flat_map(|d| d.iter()) {
            let key: String = key.extract()?;
            if !allowed.iter().any(|group| group.contains(&key.as_str())) {
                return Err(PyTypeError::new_err(format!("unexpected keyword argument {key:?}")));
            }
            if value.is_none() {
                continue;
            }
            match key.as_str() {
                "recipe" => recipe_path = Some(arg(&key, &value)?),
                "num_threads" => call.threads = Some(arg(&key, &value)?),
                "batch_size" => call.batch_size = arg::<usize>(&key, &value)?.max(1),
                "quiet" => call.quiet = arg(&key, &value)?,
                "no_balance" => no_balance = arg(&key, &value)?,
                "no_parity" => no_parity = arg(&key, &value)?,
                _ => overlay_kwarg(&mut layer, &key, &value)?,
            }
        }
        let mut recipe = match recipe_path {
            Some(path) => Recipe::load(&path).map_err(to_py)?,
            None => Recipe::default(),
        };
        if no_balance {
            recipe = recipe.without_balance();
        }
        recipe = recipe.overlay(layer);
        if no_parity {
            recipe.parity = None;
        }
        call.recipe = recipe;
        Ok(call)
    }

    /// The settings and inputs: `files` play `--corpus` (a recipe's inputs are relative to the
    /// one directory given).
    fn plan(&self, files: Option<&[PathBuf]>) -> PyResult<TrainPlan> {
        self.recipe.resolve(files.unwrap_or_default()).map_err(to_py)
    }

    /// Runs `f` with the GIL released, on this process's pool for `num_threads` (never
    /// rayon's global pool, which a forked child would inherit without its threads).
    fn run<R: Send>(&self, py: Python<'_>, f: impl FnOnce() -> R + Send) -> PyResult<R> {
        py.allow_threads(|| in_pool(self.threads, f))
    }
}

/// Sets the recipe key a settings keyword argument stands for.
fn overlay_kwarg(layer: &mut Recipe, key: &str, value: &Bound<'_, PyAny>) -> PyResult<()> {
    fn balance(layer: &mut Recipe) -> &mut BalanceTable {
        layer.balance.get_or_insert_with(BalanceTable::default)
    }
    fn parity(layer: &mut Recipe) -> &mut ParityTable {
        layer.parity.get_or_insert_with(ParityTable::default)
    }
    match key {
        "special_tokens" => layer.special_tokens = Some(arg(key, value)?),
        "extra_special_tokens" => layer.extra_special_tokens = Some(string_list(key, value)?),
        "reserved" => layer.reserved = Some(arg(key, value)?),
        "pattern" => layer.pattern = Some(arg(key, value)?),
        "normalization" => layer.normalization = Some(arg(key, value)?),
        "max_words" => layer.max_words = Some(arg(key, value)?),
        "doc_per_file" => layer.doc_per_file = Some(arg(key, value)?),
        "skip_invalid" => layer.skip_invalid = Some(arg(key, value)?),
        "text_field" => layer.text_field = Some(arg(key, value)?),
        "lang_field" => layer.lang_field = Some(arg(key, value)?),
        "languages" => layer.lang = Some(arg(key, value)?),
        "keep_languages" => layer.keep_languages = Some(arg(key, value)?),
        "max_bytes_per_lang" => layer.max_bytes_per_lang = Some(arg(key, value)?),
        "vocab_size" => layer.vocab_size = Some(arg(key, value)?),
        "min_frequency" => layer.min_frequency = Some(arg(key, value)?),
        "max_token_bytes" => layer.max_token_bytes = Some(arg(key, value)?),
        "weighting" => balance(layer).weighting = Some(arg(key, value)?),
        "temperature" => balance(layer).temperature = Some(arg(key, value)?),
        "weights" => balance(layer).weights = Some(arg(key, value)?),
        "parity_dev" => parity(layer).dev = Some(arg(key, value)?),
        "dev_lines" => parity(layer).dev_lines = Some(arg(key, value)?),
        "ratio" => parity(layer).ratio = Some(arg(key, value)?),
        "parity_exclude" => parity(layer).exclude = Some(string_list(key, value)?),
        "global_merges" => parity(layer).global_merges = Some(arg(key, value)?),
        "parity_tolerance" => parity(layer).tolerance = Some(arg(key, value)?),
        "parity_window" => parity(layer).window = Some(arg(key, value)?),
        "parity_alpha" => parity(layer).alpha = Some(arg(key, value)?),
        "parity_strength" => parity(layer).strength = Some(arg(key, value)?),
        "reweight_every" => parity(layer).reweight_every = Some(arg(key, value)?),
        "superword_transition" => {
            // An int is a number of merges, a float a share of them.
            let transition = match value.extract::<usize>() {
                Ok(merges) => Transition::Merges(merges),
                Err(_) => Transition::Share(arg(key, value)?),
            };
            layer.superword_transition = Some(transition);
        }
        "superword_pattern" => layer.superword_pattern = Some(arg(key, value)?),
        "max_superword_words" => layer.max_superword_words = Some(arg(key, value)?),
        "byte_premium" => parity(layer).byte_premium = Some(arg(key, value)?),
        "heldout" => layer.heldout = Some(arg(key, value)?),
        "heldout_lines" => layer.heldout_lines = Some(arg(key, value)?),
        _ => return Err(PyTypeError::new_err(format!("unexpected keyword argument {key:?}"))),
    }
    Ok(())
}

/// A keyword argument's value; a wrong type is a `TypeError` naming the argument.
fn arg<'py, T: FromPyObject<'py>>(key: &str, value: &Bound<'py, PyAny>) -> PyResult<T> {
    value.extract().map_err(|e| PyTypeError::new_err(format!("{key}: {e}")))
}

/// A list of strings; a lone `str` is refused rather than split into characters.
fn string_list(key: &str, value: &Bound<'_, PyAny>) -> PyResult<Vec<String>> {
    if value.is_instance_of::<PyString>() {
        return Err(PyTypeError::new_err(format!("{key} must be a list of str, not a str")));
    }
    arg(key, value)
}

/// A count file given as bytes or as a path; errors name it (`counts[i]` for bytes).
fn read_counts(i: usize, part: &Bound<'_, PyAny>) -> PyResult<(PathBuf, WordCounts, CountSettings)> {
    if let Ok(bytes) = part.downcast::<PyBytes>() {
        let origin = PathBuf::from(format!("counts[{i}]"));
        let (counts, settings) = countfile::from_bytes(bytes.as_bytes(), &origin).map_err(to_py)?;
        return Ok((origin, counts, settings));
    }
    let path: PathBuf = part
        .extract()
        .map_err(|_| PyTypeError::new_err(format!("counts[{i}] must be bytes (from polybpe.count) or a path")))?;
    let (counts, settings) = countfile::read(&path).map_err(to_py)?;
    Ok((path, counts, settings))
}

/// Counts an iterable of `str` / `(lang, str)` in batches, with the GIL released per batch.
fn count_texts(py: Python<'_>, texts: &Bound<'_, PyAny>, counting: &Counting, call: &Call, progress: &Progress) -> PyResult<Counted> {
    if texts.is_instance_of::<PyString>() || texts.is_instance_of::<PyBytes>() {
        return Err(PyValueError::new_err(
            "texts is a single string: pass an iterable of texts, e.g. texts=[text] (a str would be read character by character)",
        ));
    }
    let started = Instant::now();
    let mut counter = counting.counter().map_err(to_py)?;
    let mut stats = CorpusStats::default();
    let mut batch = Documents::new();
    let undetermined: Arc<str> = Arc::from(UNDETERMINED);
    for (i, item) in texts.try_iter()?.enumerate() {
        let bytes = add_document(i, &item?, &undetermined, &mut batch)?;
        if bytes == 0 {
            stats.skipped_empty += 1;
            continue;
        }
        stats.documents += 1;
        stats.bytes += bytes as u64;
        if batch.len() >= call.batch_size {
            call.run(py, || counter.add_batch(&batch))?.map_err(to_py)?;
            batch.clear();
            progress.reading(ReadProgress { bytes_done: stats.bytes, bytes_total: 0, documents: stats.documents });
        }
    }
    call.run(py, || counter.add_batch(&batch))?.map_err(to_py)?;
    counting.finish(counter, stats, started, progress).map_err(to_py)
}

/// Adds a `str` or a `(lang, str)` pair from the texts iterable to `batch`, unless its text
/// is empty, and returns the text's length in bytes; errors name the item's index.
fn add_document(i: usize, item: &Bound<'_, PyAny>, undetermined: &Arc<str>, batch: &mut Documents) -> PyResult<usize> {
    let (lang, text) = if let Ok(text) = item.downcast::<PyString>() {
        (undetermined.clone(), text.clone())
    } else if let Some(pair) = item.downcast::<PyTuple>().ok().filter(|pair| pair.len() == 2) {
        let lang: String = pair.get_item(0)?.extract().map_err(|_| PyTypeError::new_err(format!("texts[{i}]: the language must be a str")))?;
        let text = pair.get_item(1)?.downcast_into::<PyString>().map_err(|_| PyTypeError::new_err(format!("texts[{i}]: the text must be a str")))?;
        (Arc::from(lang.as_str()), text)
    } else {
        return Err(PyTypeError::new_err(format!("texts[{i}] must be a str or a (lang, str) pair, got {}", item.get_type().name()?)));
    };
    let text = text.to_str()?;
    if !text.is_empty() {
        batch.push(&lang, text);
    }
    Ok(text.len())
}

/// Progress on stderr, a line at most every two seconds per phase (off with `quiet=True`);
/// warnings as they come.
struct Progress {
    quiet: bool,
    last: Mutex<Option<Instant>>,
}

impl Progress {
    const EVERY: Duration = Duration::from_secs(2);

    fn new(quiet: bool) -> Self {
        Progress { quiet, last: Mutex::new(None) }
    }

    fn line(&self, force: bool, text: impl FnOnce() -> String) {
        if self.quiet {
            return;
        }
        let mut last = self.last.lock().unwrap_or_else(|e| e.into_inner());
        if force || last.is_none_or(|t| t.elapsed() >= Self::EVERY) {
            *last = Some(Instant::now());
            let _ = writeln!(std::io::stderr(), "{}", text());
        }
    }

    fn done(&self) {
        *self.last.lock().unwrap_or_else(|e| e.into_inner()) = None;
    }
}

impl TrainObserver for Progress {
    fn reading(&self, p: ReadProgress) {
        self.line(false, || match p.bytes_total {
            0 => format!("counting: {:.1} MB, {} documents", p.bytes_done as f64 / 1e6, p.documents),
            total => format!(
                "counting: {:.1} / {:.1} MB ({:.0}%), {} documents",
                p.bytes_done as f64 / 1e6,
                total as f64 / 1e6,
                100.0 * p.bytes_done as f64 / total as f64,
                p.documents
            ),
        });
    }

    fn counting_done(&self, distinct_words: usize) {
        self.line(true, || format!("counted {distinct_words} distinct words"));
    }

    fn merging(&self, done: usize, total: usize) {
        self.line(done >= total, || format!("merging: {done} / {total} tokens"));
    }

    fn warn(&self, message: &str) {
        if !self.quiet {
            let _ = writeln!(std::io::stderr(), "warning: {message}");
        }
    }
}

/// What a training run did: the numbers `vocab train` prints; `str(report)` is its summary.
#[pyclass(module = "polybpe", frozen, get_all)]
pub struct TrainReport {
    /// Tokens in the vocabulary (fewer than asked when the corpus ran out of pairs).
    vocab_size: usize,
    special_tokens: usize,
    merges: usize,
    duplicate_merges: usize,
    stopped_early: bool,
    files: u64,
    documents: u64,
    bytes: u64,
    distinct_words: usize,
    skipped_invalid: u64,
    skipped_empty: u64,
    skipped_null: u64,
    /// One dict per language: lang, documents, bytes, words, share, tokens, bytes_per_token,
    /// tokens_per_word.
    languages: Py<PyList>,
    /// One dict per balanced language (lang, target, merges, dev_tokens_before,
    /// dev_tokens_after, bytes_per_token), or None without parity-aware selection.
    balance: Option<Py<PyList>>,
    /// Held-out scoring, or None without held-out text: a dict with dir, lines,
    /// pooled_bytes_per_token, gini and languages (one dict per language: lang, lines, bytes,
    /// tokens, bytes_per_token).
    heldout: Option<Py<PyDict>>,
    warnings: Vec<String>,
    count_seconds: f64,
    merge_seconds: f64,
    peak_memory_mb: Option<u64>,
    summary: String,
}

impl TrainReport {
    fn from_core(py: Python<'_>, r: CoreReport) -> PyResult<TrainReport> {
        let languages = PyList::empty(py);
        for (i, lang) in r.languages.iter().enumerate() {
            let t = &r.per_language[i];
            let row = PyDict::new(py);
            row.set_item("lang", lang)?;
            row.set_item("documents", t.documents)?;
            row.set_item("bytes", t.bytes)?;
            row.set_item("words", t.words)?;
            row.set_item("share", r.language_shares.get(i).copied().unwrap_or(0.0))?;
            row.set_item("tokens", r.tokens_per_language[i])?;
            row.set_item("bytes_per_token", r.bytes_per_token(i))?;
            row.set_item("tokens_per_word", r.tokens_per_word(i))?;
            languages.append(row)?;
        }
        let balance = match &r.balance {
            None => None,
            Some(b) => {
                let list = PyList::empty(py);
                for l in &b.languages {
                    let row = PyDict::new(py);
                    row.set_item("lang", &l.lang)?;
                    match l.target {
                        Target::Dev => row.set_item("target", "dev")?,
                        Target::Ratio(ratio) => row.set_item("target", ratio)?,
                        Target::Free => row.set_item("target", py.None())?,
                    }
                    row.set_item("merges", if b.soft { None } else { Some(l.merges) })?;
                    row.set_item("dev_tokens_before", l.dev_tokens_before)?;
                    row.set_item("dev_tokens_after", l.dev_tokens_after)?;
                    row.set_item("bytes_per_token", l.bytes_per_token())?;
                    list.append(row)?;
                }
                Some(list.unbind())
            }
        };
        let heldout = match &r.heldout {
            None => None,
            Some(h) => {
                let list = PyList::empty(py);
                for l in &h.languages {
                    let row = PyDict::new(py);
                    row.set_item("lang", &l.lang)?;
                    row.set_item("lines", l.lines)?;
                    row.set_item("bytes", l.bytes)?;
                    row.set_item("tokens", l.tokens)?;
                    row.set_item("bytes_per_token", l.bytes_per_token())?;
                    list.append(row)?;
                }
                let d = PyDict::new(py);
                d.set_item("dir", h.dir.display().to_string())?;
                d.set_item("lines", h.lines.map(|r| format!("{}:{}", r.first, r.last.map_or(String::new(), |l| l.to_string()))))?;
                d.set_item("pooled_bytes_per_token", h.pooled_bytes_per_token())?;
                d.set_item("gini", h.token_gini())?;
                d.set_item("languages", list)?;
                Some(d.unbind())
            }
        };
        Ok(TrainReport {
            vocab_size: r.vocab_size,
            special_tokens: r.special_tokens,
            merges: r.merges,
            duplicate_merges: r.duplicate_merges,
            stopped_early: r.stopped_early,
            files: r.corpus.files,
            documents: r.corpus.documents,
            bytes: r.corpus.bytes,
            distinct_words: r.distinct_words,
            skipped_invalid: r.corpus.skipped_invalid,
            skipped_empty: r.corpus.skipped_empty,
            skipped_null: r.corpus.skipped_null,
            languages: languages.unbind(),
            balance,
            heldout,
            warnings: r.warnings.clone(),
            count_seconds: r.count_time.as_secs_f64(),
            merge_seconds: r.merge_time.as_secs_f64(),
            peak_memory_mb: r.peak_memory_mb,
            summary: r.to_string(),
        })
    }
}

#[pymethods]
impl TrainReport {
    fn __str__(&self) -> String {
        self.summary.clone()
    }

    fn __repr__(&self) -> String {
        format!(
            "TrainReport(vocab_size={}, merges={}, documents={}, languages={}, warnings={})",
            self.vocab_size,
            self.merges,
            self.documents,
            Python::with_gil(|py| self.languages.bind(py).len()),
            self.warnings.len()
        )
    }
}
