//! Reading and writing tokenizer files of other projects.

pub mod hf;
pub mod tiktoken;
