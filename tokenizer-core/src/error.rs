//! One error type for the whole library.
//!
//! Every variant that comes from user input names where the problem is (file, line, byte offset,
//! field or recipe key), so the CLI and the Python layer can print it as is.

use std::path::PathBuf;

/// Errors raised by polybpe. Messages are meant for end users.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A file could not be opened, read or written.
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    /// A text file contains bytes that are not UTF-8.
    #[error("{path}: invalid UTF-8 at byte offset {offset} (line {line}); pass --skip-invalid to skip such lines")]
    InvalidUtf8 { path: PathBuf, offset: u64, line: u64 },

    /// A record of a structured input (JSONL line, Parquet row group, …) is malformed.
    #[error("{path}: {location}: {message}")]
    Record {
        path: PathBuf,
        /// e.g. `line 12` or `row 4096`.
        location: String,
        message: String,
    },

    /// A Parquet file cannot be read or lacks the expected columns.
    #[error("{path}: cannot read Parquet: {message}")]
    Parquet { path: PathBuf, message: String },

    /// A tokenizer file (tokenizer.json, tiktoken ranks, …) is malformed or not representable.
    #[error("{path}: {message}")]
    Format { path: PathBuf, message: String },

    /// The corpus yielded no text to train on.
    #[error("the corpus is empty: {0}")]
    EmptyCorpus(String),

    /// The text contains a special token's text that the caller neither allowed nor accepted
    /// as ordinary text.
    #[error("the text contains the special token {token:?}, which is not allowed here")]
    DisallowedSpecial { token: String },

    /// Settings that cannot work together (vocab too small, bad regex, unknown preset…).
    #[error("{0}")]
    Config(String),
}

/// Shorthand used across the crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// Wraps an I/O error with the path it concerns.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io { path: path.into(), source }
    }

    /// A configuration error with a formatted message.
    pub fn config(message: impl Into<String>) -> Self {
        Error::Config(message.into())
    }

    /// A tokenizer-file format error.
    pub fn format(path: impl Into<PathBuf>, message: impl Into<String>) -> Self {
        Error::Format { path: path.into(), message: message.into() }
    }
}
