//! Thread pools owned by the current process, for every parallel call of the bindings.

use std::sync::{Arc, Mutex, OnceLock};

use ahash::AHashMap;
use pyo3::exceptions::PyValueError;
use pyo3::PyResult;

/// A rayon pool per process and requested thread count (0: rayon's default), built once.
///
/// Parallel work never runs on rayon's global pool: a process forked after that pool started
/// (`multiprocessing` and `datasets.map(num_proc=…)` fork on Linux) inherits the pool without
/// its threads, and its first parallel call (loading a tokenizer is one) would wait forever.
/// A child gets its own pools; the parent's stay unused in its copy of the map.
pub fn pool(threads: Option<usize>) -> PyResult<Arc<rayon::ThreadPool>> {
    type Pools = AHashMap<(u32, usize), Arc<rayon::ThreadPool>>;
    static POOLS: OnceLock<Mutex<Pools>> = OnceLock::new();
    let n = match threads {
        Some(0) => return Err(PyValueError::new_err("num_threads must be at least 1")),
        Some(n) => n,
        None => 0,
    };
    let key = (std::process::id(), n);
    let mut pools = POOLS.get_or_init(Default::default).lock().map_err(|_| PyValueError::new_err("thread pool lock poisoned"))?;
    if let Some(p) = pools.get(&key) {
        return Ok(p.clone());
    }
    let p = Arc::new(
        rayon::ThreadPoolBuilder::new().num_threads(n).build().map_err(|e| PyValueError::new_err(format!("cannot start {n} threads: {e}")))?,
    );
    pools.insert(key, p.clone());
    Ok(p)
}

/// Runs `f` on this process's pool for `threads`.
pub fn in_pool<T: Send>(threads: Option<usize>, f: impl FnOnce() -> T + Send) -> PyResult<T> {
    Ok(pool(threads)?.install(f))
}
