//! `polybpe.fertility` and `polybpe.compare_report`: thin wrappers over `polybpe::compare`
//! and `polybpe::report`.

use std::path::PathBuf;
use std::sync::Arc;

use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList, PyString};

use polybpe::compare::{self, CompareInput, Row};
use polybpe::corpus::parallel::{read_language_dir, LanguageText};

use crate::errors::to_py;
use crate::pools::in_pool;
use crate::tokenizer::Tokenizer;

/// Texts given as a directory of `<lang>.txt` files or a mapping `{lang: [lines]}`.
fn language_texts(value: Option<&Bound<'_, PyAny>>, langs: Option<&[String]>, what: &str) -> PyResult<Vec<LanguageText>> {
    let Some(value) = value.filter(|v| !v.is_none()) else { return Ok(Vec::new()) };
    if let Ok(dict) = value.downcast::<PyDict>() {
        let mut texts = Vec::new();
        for (lang, lines) in dict.iter() {
            let lang: String = lang.extract().map_err(|_| PyTypeError::new_err(format!("{what}: keys must be language codes (str)")))?;
            if langs.is_some_and(|keep| !keep.contains(&lang)) {
                continue;
            }
            if lines.downcast::<PyString>().is_ok() {
                return Err(PyTypeError::new_err(format!("{what}[{lang:?}] must be a list of lines, not a str")));
            }
            let lines: Vec<String> =
                lines.extract().map_err(|_| PyTypeError::new_err(format!("{what}[{lang:?}] must be a list of str")))?;
            texts.push(LanguageText { lang, lines });
        }
        texts.sort_by(|a, b| a.lang.cmp(&b.lang));
        return Ok(texts);
    }
    let dir: PathBuf = value
        .extract()
        .map_err(|_| PyTypeError::new_err(format!("{what} must be a directory of <lang>.txt files or a dict {{lang: [lines]}}")))?;
    read_language_dir(&dir, langs).map_err(to_py)
}

/// Rows as Python dicts (None for undefined ratios).
fn rows_to_py<'py>(py: Python<'py>, rows: &[Row]) -> PyResult<Bound<'py, PyList>> {
    let json = serde_json::to_string(rows).map_err(|e| PyValueError::new_err(e.to_string()))?;
    let loads = py.import("json")?.getattr("loads")?;
    Ok(loads.call1((json,))?.downcast_into::<PyList>()?)
}

/// Loads `[NAME=]PATH[@PATTERN]` (a tokenizer.json, or a tiktoken rank file with its
/// pattern) as `(name, Tokenizer)`, named as `vocab compare` names it.
#[pyfunction]
pub fn load_spec(py: Python<'_>, spec: PathBuf) -> PyResult<(String, Tokenizer)> {
    let spec = spec.to_string_lossy().into_owned();
    let (name, tokenizer) = py.allow_threads(|| in_pool(None, || polybpe::formats::load_spec(&spec)))?.map_err(to_py)?;
    Ok((name, Tokenizer::new(tokenizer)))
}

/// Measures `tokenizers` ([(name, Tokenizer)]) per language; returns the rows as dicts.
#[pyfunction]
#[pyo3(signature = (tokenizers, parallel=None, texts=None, *, langs=None, reference="en", chart=None))]
pub fn fertility_rows<'py>(
    py: Python<'py>,
    tokenizers: Vec<(String, PyRef<'py, Tokenizer>)>,
    parallel: Option<&Bound<'py, PyAny>>,
    texts: Option<&Bound<'py, PyAny>>,
    langs: Option<Vec<String>>,
    reference: &str,
    chart: Option<PathBuf>,
) -> PyResult<Bound<'py, PyList>> {
    if tokenizers.is_empty() {
        return Err(PyValueError::new_err("no tokenizers to measure"));
    }
    let input = CompareInput {
        parallel: language_texts(parallel, langs.as_deref(), "parallel")?,
        texts: language_texts(texts, langs.as_deref(), "texts")?,
        reference: reference.to_string(),
    };
    let shared: Vec<(String, Arc<polybpe::Tokenizer>)> = tokenizers.iter().map(|(n, t)| (n.clone(), t.inner.clone())).collect();
    let named: Vec<(&str, &polybpe::Tokenizer)> = shared.iter().map(|(n, t)| (n.as_str(), &**t)).collect();
    let rows = py.allow_threads(|| in_pool(None, || compare::compare(&named, &input, &|| {})))?.map_err(to_py)?;
    if let Some(path) = chart {
        polybpe::report::write_chart(&rows, &path, reference).map_err(to_py)?;
    }
    rows_to_py(py, &rows)
}
