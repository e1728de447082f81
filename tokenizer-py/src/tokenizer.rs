//! `polybpe.Tokenizer`.

use std::path::PathBuf;
use std::sync::Arc;

use ahash::AHashSet;
use numpy::{IntoPyArray, PyArray1};
use pyo3::exceptions::{PyKeyError, PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::sync::GILOnceCell;
use pyo3::types::{PyBytes, PyDict, PyInt, PyList, PyString, PyTuple};
use rayon::prelude::*;

use polybpe::{bytelevel, encode_batch, Disallowed, TokenId};

use crate::errors::to_py;
use crate::pools::in_pool;
use crate::text::Text;

/// A byte-level BPE tokenizer (polybpe-trained or loaded from a HuggingFace tokenizer.json).
#[pyclass(frozen, module = "polybpe")]
pub struct Tokenizer {
    pub inner: Arc<polybpe::Tokenizer>,
    /// One Python int per id, made on first use and shared by every list this tokenizer
    /// returns (like CPython's small-int cache): a batch of millions of ids then costs a
    /// reference count each instead of an allocation each.
    ints: GILOnceCell<Box<[PyObject]>>,
    /// The tokenizer.json text it was loaded from, kept only when polybpe cannot write the
    /// tokenizer back (SentencePiece-style files, pre-tokenizer chains): its pickled form.
    source: Option<Arc<str>>,
}

impl Tokenizer {
    /// Wraps a core tokenizer.
    pub fn new(inner: polybpe::Tokenizer) -> Self {
        Tokenizer { inner: Arc::new(inner), ints: GILOnceCell::new(), source: None }
    }

    /// Wraps a tokenizer loaded from tokenizer.json `text`, keeping the text if polybpe could
    /// not write it back (see [`Tokenizer::source`]).
    fn loaded(inner: polybpe::Tokenizer, text: impl FnOnce() -> Option<String>) -> Self {
        let writable = !inner.model().is_char_level() && inner.pre_tokenizer().pattern().is_some();
        let source = if writable { None } else { text().map(Arc::from) };
        Tokenizer { source, ..Tokenizer::new(inner) }
    }
}

thread_local! {
    static ID_BUFFER: std::cell::RefCell<Vec<TokenId>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Runs `f` with an empty buffer for the ids of one `encode` call, which are then copied into
/// the list or array returned: the buffer is reused, so a call allocates only its result.
/// Measured with one call per line (OLMo-2, the 74,559 lines of `benches/peers.py`, 3
/// interleaved runs, best of 5 passes each): arrays 87–89 → 91–97 MB/s, lists 40–42 → 43–48.
fn with_id_buffer<R>(f: impl FnOnce(&mut Vec<TokenId>) -> R) -> R {
    /// A buffer grown past this many ids by a long text is freed after it.
    const KEEP_AT_MOST: usize = 1 << 20;
    ID_BUFFER.with(|cell| match cell.try_borrow_mut() {
        Ok(mut ids) => {
            ids.clear();
            let result = f(&mut ids);
            if ids.capacity() > KEEP_AT_MOST {
                *ids = Vec::new();
            }
            result
        }
        // Entered again on this thread (Python code run while the result is allocated, such
        // as a finalizer, encoding too): a buffer of its own.
        Err(_) => f(&mut Vec::new()),
    })
}

/// Texts of this many bytes or more are encoded into a buffer of their own, sized for three
/// bytes per id, which becomes the returned array without a copy: a reused buffer would grow
/// by copying and be copied again into the array. Measured on the 10.9 MB of lines of
/// `benches/peers.py` joined into one text (GPT-2, `return_numpy=True`, 5 calls, 3 runs):
/// 174–201 → 245–253 MB/s.
const OWN_BUFFER_ABOVE: usize = 1 << 16;

/// Texts longer than this (in bytes) are encoded with the GIL released.
const RELEASE_GIL_ABOVE: usize = 1024;

/// Runs `f`, the encoding of `bytes` bytes of text, releasing the GIL only for long texts:
/// releasing and retaking it costs about as much as encoding a short sentence, and other
/// threads gain nothing from a pause that short. Texts long enough to be encoded on several
/// threads run in this process's pool (see [`in_pool`]).
fn encode_releasing<T: Send>(py: Python<'_>, bytes: usize, f: impl FnOnce() -> T + Send) -> PyResult<T> {
    if bytes < RELEASE_GIL_ABOVE {
        Ok(f())
    } else if bytes < polybpe::tokenizer::PARALLEL_ABOVE {
        Ok(py.allow_threads(f))
    } else {
        py.allow_threads(|| in_pool(None, f))
    }
}

/// Which special tokens the text may contain as control tokens.
enum Allowed {
    None,
    All,
    Some(AHashSet<TokenId>),
}

impl Allowed {
    fn allows(&self, id: TokenId) -> bool {
        match self {
            Allowed::None => false,
            Allowed::All => true,
            Allowed::Some(ids) => ids.contains(&id),
        }
    }
}

/// The rules of one encode call, resolved from Python arguments.
struct Policy {
    allowed: Allowed,
    /// Raise when the text contains a special token that is not allowed.
    check_disallowed: bool,
}

impl Policy {
    /// What encoding does with special-token text that is not allowed.
    fn disallowed(&self) -> Disallowed {
        if self.check_disallowed {
            Disallowed::Reject
        } else {
            Disallowed::AsText
        }
    }
}


impl Tokenizer {
    fn special_id(&self, content: &str) -> PyResult<TokenId> {
        self.inner
            .special_tokens()
            .find(|t| t.content == content)
            .map(|t| t.id)
            .ok_or_else(|| PyValueError::new_err(format!("{content:?} is not a special token of this tokenizer")))
    }

    /// Reads `allowed_special` (None, "all", or an iterable of token strings) and
    /// `disallowed_special` ("all" or an empty collection / None).
    fn policy(&self, allowed: Option<&Bound<'_, PyAny>>, disallowed: Option<&Bound<'_, PyAny>>) -> PyResult<Policy> {
        let allowed = match allowed {
            None => Allowed::None,
            Some(a) if a.is_none() => Allowed::None,
            Some(a) if a.downcast::<PyString>().is_ok() => match a.extract::<String>()?.as_str() {
                "all" => Allowed::All,
                "none" => Allowed::None,
                other => return Err(PyValueError::new_err(format!("allowed_special must be 'all', None or a set of tokens, not {other:?}"))),
            },
            Some(a) => {
                let mut ids = AHashSet::new();
                for item in a.try_iter()? {
                    ids.insert(self.special_id(&item?.extract::<String>()?)?);
                }
                Allowed::Some(ids)
            }
        };
        let check_disallowed = match disallowed {
            None => true,
            Some(d) if d.is_none() => false,
            Some(d) if d.downcast::<PyString>().is_ok() => match d.extract::<String>()?.as_str() {
                "all" => true,
                "none" => false,
                other => return Err(PyValueError::new_err(format!("disallowed_special must be 'all' or empty, not {other:?}"))),
            },
            Some(d) => d.len()? > 0,
        };
        Ok(Policy { allowed, check_disallowed })
    }

    /// Appends the ids of `text` to `ids`.
    fn encode_appending(&self, text: &str, policy: &Policy, ids: &mut Vec<TokenId>) -> Result<(), EncodeError> {
        self.inner.encode_into(text, |id| policy.allowed.allows(id), policy.disallowed(), ids).map_err(EncodeError::from)
    }

    /// Encodes a batch into one flat id buffer and `texts.len() + 1` offsets, in parallel
    /// (`polybpe::encode_batch`); an error is the first failing text's.
    fn encode_flat(&self, texts: &[Text<'_>], policy: &Policy) -> Result<(Vec<TokenId>, Vec<usize>), EncodeError> {
        let texts: Vec<std::borrow::Cow<'_, str>> = texts.par_iter().map(|text| text.to_utf8()).collect();
        let encode_run = |run: &[std::borrow::Cow<'_, str>], ids: &mut Vec<TokenId>, ends: &mut Vec<usize>| {
            self.inner.encode_texts_into(run, |id| policy.allowed.allows(id), policy.disallowed(), None, ids, ends)
        };
        encode_batch::encode_flat_with(&texts, encode_run).map_err(|failed| EncodeError::from(failed.error))
    }
}

impl Tokenizer {
    /// A Python list of ids, built directly with the C API from the shared int objects:
    /// several times faster than the generic conversion, which matters when a batch returns
    /// millions of ids.
    fn id_list<'py>(&self, py: Python<'py>, ids: &[TokenId]) -> PyResult<Bound<'py, PyList>> {
        let ints = self.ints.get_or_try_init(py, || {
            (0..self.inner.vocab_size() as TokenId).map(|id| Ok(id.into_pyobject(py)?.into_any().unbind())).collect::<PyResult<Box<[_]>>>()
        })?;
        let len = pyo3::ffi::Py_ssize_t::try_from(ids.len()).map_err(|_| PyValueError::new_err("too many ids for a list"))?;
        // SAFETY: `PyList_New` returns a new list of `len` empty slots (or NULL with an
        // exception set, which `from_owned_ptr_or_err` turns into an error). Each slot, in
        // bounds, is filled exactly once, before the list is used, with a new reference that
        // the list takes over: a shared int whose count we raise, or (for an id past the
        // vocabulary, which encoding never yields) a fresh int checked for NULL. The slots are
        // written directly (`PyList_SET_ITEM`) since they hold nothing to release.
        unsafe {
            let list = Bound::from_owned_ptr_or_err(py, pyo3::ffi::PyList_New(len))?.downcast_into_unchecked::<PyList>();
            for (i, &id) in ids.iter().enumerate() {
                let item = match ints.get(id as usize) {
                    Some(int) => {
                        pyo3::ffi::Py_INCREF(int.as_ptr());
                        int.as_ptr()
                    }
                    None => pyo3::ffi::PyLong_FromUnsignedLong(id.into()),
                };
                if item.is_null() {
                    return Err(PyErr::fetch(py));
                }
                pyo3::ffi::PyList_SET_ITEM(list.as_ptr(), i as pyo3::ffi::Py_ssize_t, item);
            }
            Ok(list)
        }
    }
}

/// One token id from Python: an int in the id range, else `ValueError` (not the
/// `OverflowError` a plain conversion raises for -1), or `TypeError` for a non-int.
fn token_id(value: &Bound<'_, PyAny>, what: &dyn Fn() -> String) -> PyResult<TokenId> {
    let not_an_id = |shown: String| PyValueError::new_err(format!("{} = {shown} is not a token id (ids are 0 to 2**32 - 1)", what()));
    match value.extract::<i64>() {
        Ok(n) => TokenId::try_from(n).map_err(|_| not_an_id(n.to_string())),
        // An int too large for 64 bits.
        Err(_) if value.is_instance_of::<PyInt>() => Err(not_an_id(value.str().map(|s| s.to_string()).unwrap_or_default())),
        Err(_) => {
            let type_name = value.get_type().name().map(|n| n.to_string()).unwrap_or_default();
            Err(PyTypeError::new_err(format!("{} must be an int token id, not {type_name}", what())))
        }
    }
}


/// A sequence of token ids (list, tuple, numpy array…): converted in one go, and item by item
/// only to name the bad one when that fails.
fn token_ids(ids: &Bound<'_, PyAny>, name: &str) -> PyResult<Vec<TokenId>> {
    if ids.is_instance_of::<PyString>() || ids.is_instance_of::<PyBytes>() {
        return Err(PyTypeError::new_err(format!("{name} must be a sequence of int token ids, not a string")));
    }
    if let Ok(ids) = ids.extract::<Vec<TokenId>>() {
        return Ok(ids);
    }
    let items = ids.try_iter().map_err(|_| PyTypeError::new_err(format!("{name} must be a sequence of int token ids")))?;
    items.enumerate().map(|(i, item)| token_id(&item?, &|| format!("{name}[{i}]"))).collect()
}

/// The texts of a batch; a bad item is named by its index.
fn batch_texts<'py>(texts: &Bound<'py, PyAny>) -> PyResult<Vec<Bound<'py, PyString>>> {
    if texts.is_instance_of::<PyString>() {
        return Err(PyTypeError::new_err("texts must be a list of str, not a str (for one text, use encode)"));
    }
    if let Ok(texts) = texts.extract::<Vec<Bound<'py, PyString>>>() {
        return Ok(texts);
    }
    let items = texts.try_iter().map_err(|_| PyTypeError::new_err("texts must be a list of str"))?;
    items
        .enumerate()
        .map(|(i, item)| {
            let item = item?;
            item.downcast_into::<PyString>().map_err(|e| {
                let item = e.into_inner();
                let shown = item.repr().map(|r| r.to_string()).unwrap_or_default();
                let shown: String = if shown.chars().count() > 40 { shown.chars().take(40).chain("…".chars()).collect() } else { shown };
                let type_name = item.get_type().name().map(|n| n.to_string()).unwrap_or_default();
                PyTypeError::new_err(format!("texts[{i}] is {shown} ({type_name}), not a str"))
            })
        })
        .collect()
}

/// Failures of an encode call, converted to Python once the GIL is back.
enum EncodeError {
    Disallowed(String),
    Library(polybpe::Error),
}

impl From<polybpe::Error> for EncodeError {
    fn from(e: polybpe::Error) -> Self {
        match e {
            polybpe::Error::DisallowedSpecial { token } => EncodeError::Disallowed(token),
            e => EncodeError::Library(e),
        }
    }
}

impl From<EncodeError> for PyErr {
    fn from(e: EncodeError) -> PyErr {
        match e {
            EncodeError::Disallowed(token) => PyValueError::new_err(format!(
                "the text contains the special token {token:?}, which is not allowed. Pass allowed_special={{{token:?}}} (or \"all\") \
                 to encode it as a special token, or disallowed_special=() to encode it as ordinary text."
            )),
            EncodeError::Library(e) => to_py(e),
        }
    }
}

#[pymethods]
impl Tokenizer {
    /// Loads a HuggingFace tokenizer.json (byte-level BPE).
    #[staticmethod]
    fn from_file(py: Python<'_>, path: PathBuf) -> PyResult<Self> {
        let tok = py.allow_threads(|| in_pool(None, || polybpe::formats::hf::load(&path)))?.map_err(to_py)?;
        Ok(Tokenizer::loaded(tok, || std::fs::read_to_string(&path).ok()))
    }

    /// Loads a tiktoken rank file (`base64(token) rank` per line) with a named split pattern
    /// (`r50k`, `p50k`, `cl100k`, `o200k`, `llama3`, `qwen`, `whisper`) or a regex. The named
    /// OpenAI encodings get their special tokens.
    #[staticmethod]
    #[pyo3(signature = (path, pattern="cl100k"))]
    fn from_tiktoken(py: Python<'_>, path: PathBuf, pattern: &str) -> PyResult<Self> {
        let tok = py.allow_threads(|| in_pool(None, || polybpe::formats::tiktoken::load(&path, pattern)))?.map_err(to_py)?;
        Ok(Tokenizer::new(tok))
    }

    /// Writes the model tokens as a tiktoken rank file (atomically).
    fn save_tiktoken(&self, py: Python<'_>, path: PathBuf) -> PyResult<()> {
        py.allow_threads(|| polybpe::formats::tiktoken::save(&self.inner, &path)).map_err(to_py)
    }

    /// Parses tokenizer.json text.
    #[staticmethod]
    fn from_str(json: &str) -> PyResult<Self> {
        let tok = in_pool(None, || polybpe::formats::hf::from_json(json))?.map_err(PyValueError::new_err)?;
        Ok(Tokenizer::loaded(tok, || Some(json.to_string())))
    }

    /// Writes the tokenizer as a HuggingFace tokenizer.json (atomically).
    fn save(&self, py: Python<'_>, path: PathBuf) -> PyResult<()> {
        py.allow_threads(|| polybpe::formats::hf::save(&self.inner, &path)).map_err(to_py)
    }

    /// The tokenizer.json text.
    fn to_str(&self) -> PyResult<String> {
        polybpe::formats::hf::to_json(&self.inner).map_err(to_py)
    }

    /// Writes a model folder `transformers.AutoTokenizer.from_pretrained(directory)` loads:
    /// tokenizer.json, tokenizer_config.json (bos/eos/pad/unk, `model_max_length`, the Pleias
    /// RAG chat template, `split_special_tokens`) and special_tokens_map.json. A new folder
    /// appears whole; in an existing one each file is replaced atomically.
    #[pyo3(signature = (directory, *, model_max_length=None, split_special_tokens=true))]
    fn save_pretrained(&self, py: Python<'_>, directory: PathBuf, model_max_length: Option<usize>, split_special_tokens: bool) -> PyResult<()> {
        let options = polybpe::formats::hf_folder::FolderOptions { model_max_length, split_special_tokens };
        py.allow_threads(|| polybpe::formats::hf_folder::save(&self.inner, &directory, &options)).map_err(to_py)
    }

    /// Pickles as the tokenizer.json text without indentation (nothing read back from a path),
    /// so tokenizers cross to `multiprocessing` and `datasets.map(num_proc=…)` workers.
    /// Measured: the compact text is 2.4× smaller than `save`'s indented one (37 kB vs 91 kB
    /// for 1,500 tokens).
    fn __reduce__<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyTuple>> {
        let py = slf.py();
        let cannot = |e: &dyn std::fmt::Display| PyTypeError::new_err(format!("cannot pickle this tokenizer: {e}"));
        let (inner, source) = (&slf.get().inner, slf.get().source.clone());
        let json = py.allow_threads(|| -> Result<String, PyErr> {
            if let Some(source) = source {
                return Ok(source.to_string());
            }
            let pretty = polybpe::formats::hf::to_json(inner).map_err(|e| cannot(&e))?;
            let value: serde_json::Value = serde_json::from_str(&pretty).map_err(|e| cannot(&e))?;
            serde_json::to_string(&value).map_err(|e| cannot(&e))
        })?;
        // A Python function of the package: pickle finds it by name (`polybpe._from_pickle`).
        let from_pickle = py.import("polybpe")?.getattr("_from_pickle")?;
        PyTuple::new(py, [from_pickle, PyTuple::new(py, [json])?.into_any()])
    }

    /// Tokenizers are immutable: a copy shares the vocabulary.
    fn __copy__(&self) -> Self {
        Tokenizer { inner: self.inner.clone(), ints: GILOnceCell::new(), source: self.source.clone() }
    }

    fn __deepcopy__(&self, _memo: &Bound<'_, PyAny>) -> Self {
        self.__copy__()
    }

    /// Encodes one string to token ids: a list, or with `return_numpy=True` a `uint32` array
    /// (which, unlike a list, the cyclic garbage collector never walks).
    ///
    /// Special-token text raises `ValueError` unless `allowed_special` (a set of tokens, or
    /// "all") lets it become special ids, or `disallowed_special=()` accepts it as ordinary text.
    #[pyo3(
        signature = (text, *, return_numpy=false, allowed_special=None, disallowed_special=None),
        text_signature = "($self, text, *, return_numpy=False, allowed_special=(), disallowed_special='all')"
    )]
    fn encode<'py>(
        &self,
        py: Python<'py>,
        text: &Bound<'py, PyString>,
        return_numpy: bool,
        allowed_special: Option<&Bound<'py, PyAny>>,
        disallowed_special: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let text = Text::of(text)?;
        let policy = self.policy(allowed_special, disallowed_special)?;
        if text.units() >= OWN_BUFFER_ABOVE {
            let mut ids = Vec::with_capacity(text.units() / 3);
            encode_releasing(py, text.units(), || text.with_str(|text| self.encode_appending(text, &policy, &mut ids)))??;
            if return_numpy {
                return Ok(PyArray1::from_vec(py, ids).into_any());
            }
            return Ok(self.id_list(py, &ids)?.into_any());
        }
        with_id_buffer(|ids| {
            encode_releasing(py, text.units(), || text.with_str(|text| self.encode_appending(text, &policy, ids)))??;
            if return_numpy {
                return Ok(PyArray1::from_slice(py, ids).into_any());
            }
            Ok(self.id_list(py, ids)?.into_any())
        })
    }

    /// Encodes many strings in parallel with the GIL released.
    ///
    /// Returns a list of lists, or with `return_numpy=True` a tuple `(ids, offsets)`: a flat
    /// `uint32` array of all ids and an `int64` array of `len(texts) + 1` offsets, so text `i`
    /// is `ids[offsets[i]:offsets[i + 1]]`.
    ///
    /// Special tokens as in `encode`.
    #[pyo3(
        signature = (texts, *, num_threads=None, return_numpy=false, allowed_special=None, disallowed_special=None),
        text_signature = "($self, texts, *, num_threads=None, return_numpy=False, allowed_special=(), disallowed_special='all')"
    )]
    fn encode_batch<'py>(
        &self,
        py: Python<'py>,
        texts: &Bound<'py, PyAny>,
        num_threads: Option<usize>,
        return_numpy: bool,
        allowed_special: Option<&Bound<'py, PyAny>>,
        disallowed_special: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<PyObject> {
        let texts = batch_texts(texts)?;
        let texts = texts.iter().map(Text::of).collect::<PyResult<Vec<_>>>()?;
        let policy = self.policy(allowed_special, disallowed_special)?;
        let (flat, offsets) = py.allow_threads(|| in_pool(num_threads, || self.encode_flat(&texts, &policy)))??;
        if !return_numpy {
            // Each new list counts towards a cyclic-GC pass, and those passes would traverse
            // every list made so far: pause the collector while building them (lists of ints
            // cannot form cycles), as `gc.disable()` would.
            let gc = py.import("gc")?;
            let was_enabled = gc.call_method0("isenabled")?.is_truthy()?;
            if was_enabled {
                gc.call_method0("disable")?;
            }
            let lists = offsets.windows(2).map(|w| self.id_list(py, &flat[w[0]..w[1]])).collect::<PyResult<Vec<_>>>();
            if was_enabled {
                gc.call_method0("enable")?;
            }
            return Ok(PyList::new(py, lists?)?.into_any().unbind());
        }
        let offsets: Vec<i64> = offsets.into_iter().map(|o| o as i64).collect();
        let flat: Bound<'py, PyArray1<u32>> = flat.into_pyarray(py);
        let offsets: Bound<'py, PyArray1<i64>> = offsets.into_pyarray(py);
        Ok((flat, offsets).into_pyobject(py)?.into_any().unbind())
    }

    /// Encodes whole corpus files: text (one document per line, or per file with
    /// `doc_per_file`), JSONL and Parquet files, or directories of them, on all cores.
    ///
    /// Returns `(ids, offsets)`: the ids of every document in corpus order, a `uint16` array
    /// when the vocabulary fits and `uint32` otherwise, and `len(documents) + 1` `uint64`
    /// offsets (document `i` is `ids[offsets[i]:offsets[i + 1]]`). With `output`, writes the
    /// same arrays to `output + ".ids.npy"` and `output + ".offsets.npy"` instead (streamed,
    /// each file atomic) and returns a dict of counts. `eod` (token text or id) ends every
    /// document. The result is the same at any `num_threads`.
    #[pyo3(signature = (paths, *, output=None, doc_per_file=false, text_field=None, skip_invalid=false, eod=None, num_threads=None))]
    #[allow(clippy::too_many_arguments)]
    fn encode_files<'py>(
        &self,
        py: Python<'py>,
        paths: &Bound<'py, PyAny>,
        output: Option<PathBuf>,
        doc_per_file: bool,
        text_field: Option<String>,
        skip_invalid: bool,
        eod: Option<&Bound<'py, PyAny>>,
        num_threads: Option<usize>,
    ) -> PyResult<PyObject> {
        use polybpe::corpus::{Corpus, CorpusOptions};
        use polybpe::encode_corpus::{self as ec, EncodeOptions};

        let paths: Vec<PathBuf> = match paths.extract::<PathBuf>() {
            Ok(one) => vec![one],
            Err(_) => paths.extract().map_err(|_| PyTypeError::new_err("paths must be a path or a list of paths"))?,
        };
        let end_of_document = match eod {
            None => None,
            Some(value) if value.is_instance_of::<PyString>() => {
                let text: String = value.extract()?;
                Some(self.inner.token_to_id(&text).ok_or_else(|| PyValueError::new_err(format!("eod {text:?} is not a token of this tokenizer")))?)
            }
            Some(value) => Some(token_id(value, &|| "eod".to_string())?),
        };
        let options = CorpusOptions { doc_per_file, skip_invalid, text_field: text_field.unwrap_or_default(), ..CorpusOptions::default() };
        let encode_options = EncodeOptions { end_of_document, ..EncodeOptions::default() };
        let pool = crate::pools::pool(num_threads)?;
        let tokenizer = &self.inner;
        if let Some(prefix) = output {
            let stats = py
                .allow_threads(|| {
                    let corpus = Corpus::open(&paths, options)?;
                    pool.install(|| ec::encode_corpus_to_files(tokenizer, &corpus, &encode_options, &prefix, &mut |_| {}))
                })
                .map_err(to_py)?;
            let (ids, offsets) = ec::shard_paths(&prefix);
            let out = PyDict::new(py);
            out.set_item("documents", stats.documents)?;
            out.set_item("tokens", stats.tokens)?;
            out.set_item("ids", ids)?;
            out.set_item("offsets", offsets)?;
            out.set_item("skipped_invalid", stats.corpus.skipped_invalid)?;
            return Ok(out.into_any().unbind());
        }
        let (encoded, _) = py
            .allow_threads(|| {
                let corpus = Corpus::open(&paths, options)?;
                pool.install(|| ec::encode_corpus(tokenizer, &corpus, &encode_options, &mut |_| {}))
            })
            .map_err(to_py)?;
        let ids: PyObject = match encoded.ids {
            ec::Ids::U16(ids) => ids.into_pyarray(py).into_any().unbind(),
            ec::Ids::U32(ids) => ids.into_pyarray(py).into_any().unbind(),
        };
        let offsets: Bound<'py, PyArray1<u64>> = encoded.offsets.into_pyarray(py);
        Ok((ids, offsets).into_pyobject(py)?.into_any().unbind())
    }

    /// Ids of a Pleias RAG prompt: `<|query_start|>query<|query_end|>\n`, then for each source
    /// `<|source_start|><|source_id_start|>id<|source_id_end|>text<|source_end|>\n`, then
    /// `<|source_analysis_start|>`. `sources` holds texts (numbered from 1) or `(id, text)`
    /// pairs. Special-token text inside the query or sources stays ordinary text.
    fn encode_rag_prompt(&self, py: Python<'_>, query: &str, sources: Vec<Bound<'_, PyAny>>) -> PyResult<Vec<TokenId>> {
        let mut parsed = Vec::with_capacity(sources.len());
        for (i, source) in sources.iter().enumerate() {
            let source = if let Ok(text) = source.extract::<String>() {
                polybpe::prompt::Source { id: (i + 1).to_string(), text }
            } else if let Ok((id, text)) = source.extract::<(Bound<'_, PyAny>, String)>() {
                polybpe::prompt::Source { id: id.str()?.to_string(), text }
            } else {
                return Err(pyo3::exceptions::PyTypeError::new_err(format!("sources[{i}] must be a str or an (id, text) pair")));
            };
            parsed.push(source);
        }
        let bytes = query.len() + parsed.iter().map(|s| s.id.len() + s.text.len()).sum::<usize>();
        encode_releasing(py, bytes, || polybpe::prompt::pleias_rag_prompt(&self.inner, query, &parsed))?.map_err(to_py)
    }

    /// Number of tokens of a string (special-token text counted as ordinary text).
    fn count_tokens(&self, py: Python<'_>, text: &Bound<'_, PyString>) -> PyResult<usize> {
        let text = Text::of(text)?;
        encode_releasing(py, text.units(), || text.with_str(|text| self.inner.encode_allowing(text, |_| false).map(|ids| ids.len())))?.map_err(to_py)
    }

    /// Decodes ids to text (bytes cut inside a character become U+FFFD).
    fn decode(&self, py: Python<'_>, ids: &Bound<'_, PyAny>) -> PyResult<String> {
        let ids = token_ids(ids, "ids")?;
        py.allow_threads(|| self.inner.decode(&ids)).map_err(|e| PyKeyError::new_err(e.to_string()))
    }

    /// Decodes many id sequences in parallel.
    #[pyo3(signature = (batch, *, num_threads=None))]
    fn decode_batch(&self, py: Python<'_>, batch: &Bound<'_, PyAny>, num_threads: Option<usize>) -> PyResult<Vec<String>> {
        let batch = match batch.extract::<Vec<Vec<TokenId>>>() {
            Ok(batch) => batch,
            Err(_) if batch.is_instance_of::<PyString>() => return Err(PyTypeError::new_err("batch must be a list of id sequences, not a str")),
            Err(_) => batch
                .try_iter()
                .map_err(|_| PyTypeError::new_err("batch must be a list of id sequences"))?
                .enumerate()
                .map(|(i, ids)| token_ids(&ids?, &format!("batch[{i}]")))
                .collect::<PyResult<_>>()?,
        };
        let out: Result<Vec<String>, polybpe::Error> =
            py.allow_threads(|| in_pool(num_threads, || batch.par_iter().map(|ids| self.inner.decode(ids)).collect()))?;
        out.map_err(|e| PyKeyError::new_err(e.to_string()))
    }

    /// The bytes of a token id.
    fn decode_single_token_bytes<'py>(&self, py: Python<'py>, id: &Bound<'py, PyAny>) -> PyResult<Bound<'py, pyo3::types::PyBytes>> {
        let id = token_id(id, &|| "id".to_string())?;
        let bytes = self.inner.id_to_bytes(id).ok_or_else(|| PyKeyError::new_err(format!("token id {id} is not in the vocabulary")))?;
        Ok(pyo3::types::PyBytes::new(py, bytes))
    }

    /// The id of a token given in HF's byte-level spelling (`"Ġthe"`) or as a special
    /// token's text; `None` if there is none.
    fn token_to_id(&self, token: &str) -> Option<TokenId> {
        if let Some(t) = self.inner.added_tokens().iter().find(|t| t.content == token) {
            return Some(t.id);
        }
        bytelevel::decode_str(token).and_then(|bytes| self.inner.model().token_id(&bytes))
    }

    /// The HF byte-level spelling of a token id (special tokens as their text); `None` if the
    /// id is unused.
    fn id_to_token(&self, id: &Bound<'_, PyAny>) -> PyResult<Option<String>> {
        let id = token_id(id, &|| "id".to_string())?;
        if let Some(t) = self.inner.added_tokens().iter().find(|t| t.id == id) {
            return Ok(Some(t.content.clone()));
        }
        Ok(self.inner.model().token_bytes(id).map(bytelevel::encode_bytes))
    }

    /// One past the largest id.
    #[getter]
    fn vocab_size(&self) -> usize {
        self.inner.vocab_size()
    }

    /// Special tokens as {text: id}.
    #[getter]
    fn special_tokens<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let dict = PyDict::new(py);
        for t in self.inner.special_tokens() {
            dict.set_item(&t.content, t.id)?;
        }
        Ok(dict)
    }

    fn __len__(&self) -> usize {
        self.inner.vocab_size()
    }

    fn __repr__(&self) -> String {
        format!(
            "Tokenizer(vocab_size={}, special_tokens={}, normalization={:?}, pattern={:?})",
            self.inner.vocab_size(),
            self.inner.special_tokens().count(),
            self.inner.normalization().name(),
            self.inner.pre_tokenizer().pattern().map_or("custom chain", |p| p.name())
        )
    }
}
