//! The cfgs of the Python being built for (`Py_3_12`, `PyPy`, `Py_LIMITED_API`, ...), which
//! decide how `text` reads a string's characters.
fn main() {
    pyo3_build_config::use_pyo3_cfgs();
}
