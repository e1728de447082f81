//! # polybpe
//!
//! Multilingual byte-level BPE: train a vocabulary from corpus files with per-language counts,
//! export it as a HuggingFace `tokenizer.json`, load byte-level tokenizers of other projects,
//! encode and decode.
//!
//! The modules follow the pipeline:
//!
//! ```text
//! corpus ─► normalize ─► pretokenize ─► bytelevel ─► train::count ─► train::merge ─► Tokenizer
//! text ─► special scan ─► normalize ─► pretokenize ─► bpe (by rank) ─► ids ─► bytes ─► text
//! Tokenizer ◄─► formats::hf (tokenizer.json)
//! ```

pub mod bpe;
pub mod bytelevel;
pub mod compare;
pub mod corpus;
pub mod encode_batch;
pub mod encode_corpus;
pub mod error;
pub mod formats;
pub mod inspect;
pub mod io;
pub mod metrics;
pub mod normalize;
mod huge_pages;
mod piece_cache;
pub mod pretokenize;
pub mod prompt;
pub mod report;
pub mod special;
mod table;
pub mod tokenizer;
pub mod train;

pub use bpe::{BpeModel, TokenId};
pub use error::{Error, Result};
pub use normalize::Normalization;
pub use pretokenize::{Pattern, PreTokenizer};
pub use special::SpecialPreset;
pub use tokenizer::{AddedToken, AllowedSpecial, Disallowed, Tokenizer};
pub use train::{Counting, Recipe, TrainReport, TrainSettings, Trainer};
