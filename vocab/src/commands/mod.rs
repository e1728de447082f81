//! One module per subcommand. Each returns `Err(message)` for the user; `main` prints it.

pub mod compare;
pub mod encode;
pub mod export;
pub mod export_gguf;
pub mod inspect;
pub mod train;

/// Turns any displayable error into the message `main` prints.
pub fn msg<E: std::fmt::Display>(e: E) -> String {
    e.to_string()
}
