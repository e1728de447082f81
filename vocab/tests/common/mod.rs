//! Helpers shared by the `vocab` command-line tests.
#![allow(dead_code)]

use std::path::Path;
use std::process::{Command, Output};

/// Runs the `vocab` binary under test to completion.
pub fn vocab(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_vocab")).args(args).output().expect("vocab runs")
}

pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Asserts a clean failure whose message contains every `needle`.
pub fn fails_with(out: &Output, needles: &[&str]) {
    let err = stderr(out);
    assert!(!out.status.success(), "expected failure, got success; stderr: {err}");
    assert!(!err.contains("panicked"), "panic instead of an error: {err}");
    assert!(err.starts_with("error: ") || err.contains("\nerror: "), "no error line: {err}");
    for needle in needles {
        assert!(err.contains(needle), "message lacks {needle:?}: {err}");
    }
}

/// Writes `bytes` to `dir/name` (creating directories on the way) and returns the path.
pub fn write(dir: &Path, name: &str, bytes: &[u8]) -> String {
    let path = dir.join(name);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, bytes).unwrap();
    path.display().to_string()
}
