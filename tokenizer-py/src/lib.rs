//! Python bindings: a thin layer that converts arguments, releases the GIL around Rust work,
//! and maps `polybpe::Error` to Python exceptions. No tokenization logic lives here.

mod compare;
mod errors;
mod pools;
mod text;
mod tokenizer;
mod train;

use pyo3::prelude::*;

#[pymodule]
fn _polybpe(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<tokenizer::Tokenizer>()?;
    m.add_function(wrap_pyfunction!(train::train, m)?)?;
    m.add_function(wrap_pyfunction!(train::count, m)?)?;
    m.add_function(wrap_pyfunction!(train::merge_counts, m)?)?;
    m.add_function(wrap_pyfunction!(train::resolve_settings, m)?)?;
    m.add_class::<train::TrainReport>()?;
    m.add_function(wrap_pyfunction!(compare::fertility_rows, m)?)?;
    m.add_function(wrap_pyfunction!(compare::load_spec, m)?)?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
