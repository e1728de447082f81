//! `polybpe::Error` → Python exceptions: I/O problems are `OSError` (`FileNotFoundError` when
//! the file is missing), everything about bad content or settings is `ValueError`.

use pyo3::exceptions::{PyFileNotFoundError, PyOSError, PyPermissionError, PyValueError};
use pyo3::PyErr;

/// Converts a library error to the Python exception a user expects.
pub fn to_py(error: polybpe::Error) -> PyErr {
    match &error {
        polybpe::Error::Io { source, .. } => match source.kind() {
            std::io::ErrorKind::NotFound => PyFileNotFoundError::new_err(error.to_string()),
            std::io::ErrorKind::PermissionDenied => PyPermissionError::new_err(error.to_string()),
            _ => PyOSError::new_err(error.to_string()),
        },
        _ => PyValueError::new_err(error.to_string()),
    }
}
