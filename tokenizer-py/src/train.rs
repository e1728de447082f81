//! `polybpe.train`: the CLI's training options, from Python.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyString, PyTuple};

use polybpe::corpus::{CorpusOptions, Document};
use polybpe::special::{special_token_list, SpecialPreset};
use polybpe::train::countfile::{self, CountSettings};
use polybpe::train::{LanguageWeights, LineRange, ParityConfig, Silent, TrainConfig, Weighting, Window, WordCounts};
use polybpe::{Normalization, Pattern};

use crate::errors::to_py;
use crate::tokenizer::Tokenizer;

/// Language of texts given without one.
const UNDETERMINED: &str = "und";

/// Trains a vocabulary from files, an iterable of texts, or word-count files.
///
/// `files`: paths of txt / jsonl / parquet files or directories. `texts`: an iterable of `str`
/// or `(lang, str)` pairs. `counts`: count files (bytes from `count`, or paths), merged. Exactly
/// one of the three must be given.
#[pyfunction]
#[pyo3(signature = (files=None, texts=None, *, vocab_size=65536, special_tokens="pleias-rag", reserved=0,
    extra_special_tokens=Vec::new(), pattern="default", normalization="nfc", min_frequency=2, max_token_bytes=None,
    doc_per_file=false, skip_invalid=false, languages=None, num_threads=None, batch_size=8192,
    weighting="proportional", weights=None, parity_dev=None, dev_lines=None, ratio=None, parity_exclude=Vec::new(),
    global_merges=0, parity_tolerance=None, parity_window=None, parity_alpha=2.0, parity_strength=None, counts=None, max_words=None))]
#[allow(clippy::too_many_arguments)]
pub fn train(
    py: Python<'_>,
    files: Option<Vec<PathBuf>>,
    texts: Option<&Bound<'_, PyAny>>,
    vocab_size: usize,
    special_tokens: &str,
    reserved: usize,
    extra_special_tokens: Vec<String>,
    pattern: &str,
    normalization: &str,
    min_frequency: u64,
    max_token_bytes: Option<usize>,
    doc_per_file: bool,
    skip_invalid: bool,
    languages: Option<BTreeMap<String, String>>,
    num_threads: Option<usize>,
    batch_size: usize,
    weighting: &str,
    weights: Option<BTreeMap<String, f64>>,
    parity_dev: Option<PathBuf>,
    dev_lines: Option<&str>,
    ratio: Option<BTreeMap<String, f64>>,
    parity_exclude: Vec<String>,
    global_merges: usize,
    parity_tolerance: Option<f64>,
    parity_window: Option<usize>,
    parity_alpha: f64,
    parity_strength: Option<f64>,
    counts: Option<Vec<Bound<'_, PyAny>>>,
    max_words: Option<usize>,
) -> PyResult<Tokenizer> {
    let preset = SpecialPreset::parse(special_tokens).map_err(to_py)?;
    let config = TrainConfig {
        vocab_size,
        normalization: Normalization::parse(normalization).map_err(to_py)?,
        pattern: Pattern::parse(pattern),
        special_tokens: special_token_list(preset, &extra_special_tokens, reserved).map_err(to_py)?,
        min_frequency,
        max_token_bytes,
        max_words,
        weights: LanguageWeights {
            weighting: Weighting::parse(weighting).map_err(to_py)?,
            multipliers: weights.unwrap_or_default().into_iter().collect(),
        },
        parity: (parity_dev.is_some() || ratio.as_ref().is_some_and(|r| !r.is_empty()))
            .then(|| -> PyResult<ParityConfig> {
                Ok(ParityConfig {
                    dev: parity_dev,
                    dev_lines: dev_lines.map(LineRange::parse).transpose().map_err(to_py)?,
                    ratio: ratio.unwrap_or_default().into_iter().collect(),
                    exclude: parity_exclude,
                    global_merges,
                    tolerance: parity_tolerance,
                    window: parity_window.map(|size| Window { size, alpha: parity_alpha }),
                    strength: parity_strength,
                    reweight_every: 0,
                })
            })
            .transpose()?,
    };
    config.validate().map_err(to_py)?;
    let pool = thread_pool(num_threads)?;
    let tokenizer = match (files, texts, counts) {
        (Some(files), None, None) => {
            let options = CorpusOptions { doc_per_file, skip_invalid, lang_map: languages.unwrap_or_default(), ..Default::default() };
            py.allow_threads(|| in_pool(&pool, || polybpe::train::train(&files, options, &config, &Silent).map(|(t, _)| t)))
        }
        (None, Some(texts), None) => {
            let counts = count_texts(py, texts, &config, &pool, batch_size)?;
            let dev = polybpe::train::dev_counts(&config).map_err(to_py)?;
            py.allow_threads(|| in_pool(&pool, || polybpe::train::train_balanced(&counts, dev.as_ref(), &config, &Silent).map(|(t, _)| t)))
        }
        (None, None, Some(parts)) => {
            let parts = parts.iter().enumerate().map(|(i, part)| read_counts(i, part)).collect::<PyResult<Vec<_>>>()?;
            py.allow_threads(|| in_pool(&pool, || polybpe::train::train_from_count_parts(parts, &config, &Silent).map(|(t, _)| t)))
        }
        _ => return Err(PyTypeError::new_err("give exactly one of `files`, `texts` or `counts`")),
    }
    .map_err(to_py)?;
    Ok(Tokenizer::new(tokenizer))
}

/// Counts words of files or texts into a word-count file's bytes, for `train(counts=…)` and
/// `merge_counts` (the counting phase of `train`, e.g. one shard per worker).
#[pyfunction]
#[pyo3(signature = (files=None, texts=None, *, special_tokens="pleias-rag", reserved=0,
    extra_special_tokens=Vec::new(), pattern="default", normalization="nfc",
    doc_per_file=false, skip_invalid=false, languages=None, num_threads=None, batch_size=8192, max_words=None))]
#[allow(clippy::too_many_arguments)]
pub fn count<'py>(
    py: Python<'py>,
    files: Option<Vec<PathBuf>>,
    texts: Option<&Bound<'py, PyAny>>,
    special_tokens: &str,
    reserved: usize,
    extra_special_tokens: Vec<String>,
    pattern: &str,
    normalization: &str,
    doc_per_file: bool,
    skip_invalid: bool,
    languages: Option<BTreeMap<String, String>>,
    num_threads: Option<usize>,
    batch_size: usize,
    max_words: Option<usize>,
) -> PyResult<Bound<'py, PyBytes>> {
    let preset = SpecialPreset::parse(special_tokens).map_err(to_py)?;
    let config = TrainConfig {
        normalization: Normalization::parse(normalization).map_err(to_py)?,
        pattern: Pattern::parse(pattern),
        special_tokens: special_token_list(preset, &extra_special_tokens, reserved).map_err(to_py)?,
        vocab_size: u32::MAX as usize,
        max_words,
        ..TrainConfig::default()
    };
    config.validate().map_err(to_py)?;
    let pool = thread_pool(num_threads)?;
    let counts = match (files, texts) {
        (Some(files), None) => {
            let options = CorpusOptions { doc_per_file, skip_invalid, lang_map: languages.unwrap_or_default(), ..Default::default() };
            py.allow_threads(|| in_pool(&pool, || polybpe::train::count_corpus(&files, options, &config, &Silent).map(|(c, _, _)| c)))
                .map_err(to_py)?
        }
        (None, Some(texts)) => count_texts(py, texts, &config, &pool, batch_size)?,
        _ => return Err(PyTypeError::new_err("give exactly one of `files` or `texts`")),
    };
    let bytes = countfile::to_bytes(&counts, &CountSettings::of(&config));
    Ok(PyBytes::new(py, &bytes))
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

fn thread_pool(num_threads: Option<usize>) -> PyResult<Option<rayon::ThreadPool>> {
    match num_threads {
        Some(0) => Err(PyValueError::new_err("num_threads must be at least 1")),
        Some(n) => Ok(Some(rayon::ThreadPoolBuilder::new().num_threads(n).build().map_err(|e| PyValueError::new_err(e.to_string()))?)),
        None => Ok(None),
    }
}

/// Counts an iterable of `str` / `(lang, str)` in batches, with the GIL released per batch.
fn count_texts(
    py: Python<'_>,
    texts: &Bound<'_, PyAny>,
    config: &TrainConfig,
    pool: &Option<rayon::ThreadPool>,
    batch_size: usize,
) -> PyResult<WordCounts> {
    let mut counter = config.word_counter().map_err(to_py)?;
    let mut batch = Vec::with_capacity(batch_size.max(1));
    for item in texts.try_iter()? {
        batch.push(document(&item?)?);
        if batch.len() >= batch_size.max(1) {
            let docs = std::mem::take(&mut batch);
            py.allow_threads(|| in_pool(pool, || counter.add_batch(&docs))).map_err(to_py)?;
        }
    }
    py.allow_threads(|| in_pool(pool, || counter.add_batch(&batch))).map_err(to_py)?;
    if counter.distinct_words() == 0 {
        return Err(PyValueError::new_err("the corpus is empty: `texts` yielded no text"));
    }
    Ok(counter.finish())
}

/// Runs `f` on the caller's thread pool (`num_threads`), or on the global one.
fn in_pool<R: Send>(pool: &Option<rayon::ThreadPool>, f: impl FnOnce() -> R + Send) -> R {
    match pool {
        Some(p) => p.install(f),
        None => f(),
    }
}

/// A `str` or a `(lang, str)` pair from the texts iterable.
fn document(item: &Bound<'_, PyAny>) -> PyResult<Document> {
    if let Ok(text) = item.downcast::<PyString>() {
        return Ok(Document { lang: Arc::from(UNDETERMINED), text: text.to_str()?.to_string() });
    }
    if let Ok(pair) = item.downcast::<PyTuple>() {
        if pair.len() == 2 {
            let lang: String = pair.get_item(0)?.extract()?;
            let text: String = pair.get_item(1)?.extract()?;
            return Ok(Document { lang: Arc::from(lang.as_str()), text });
        }
    }
    Err(PyTypeError::new_err(format!(
        "texts must yield str or (lang, str) pairs, got {}",
        item.get_type().name()?
    )))
}
