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

/// Creates the folder `path` will be written in, if it has one.
pub fn create_parent(path: &std::path::Path) -> Result<(), String> {
    match path.parent().filter(|d| !d.as_os_str().is_empty()) {
        Some(dir) => std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display())),
        None => Ok(()),
    }
}
