//! The hand-written scanners of the built-in patterns against the fancy-regex path, through the
//! public API. (The property tests and the corpus comparison live next to the scanners, in
//! `polybpe::pretokenize::scanner`.)
//!
//! Timing, in release mode (needs ../shared or POLYBPE_SHARED):
//! `cargo test --release -p polybpe-tests --test scanner_props -- --ignored --nocapture`

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use polybpe::pretokenize::{BuiltinScanner, Pattern, PreTokenizer};

const PATTERNS: [Pattern; 6] = [Pattern::Default, Pattern::Gpt2, Pattern::Cl100k, Pattern::O200k, Pattern::Qwen2, Pattern::Qwen35];

fn shared() -> Option<PathBuf> {
    let path = std::env::var_os("POLYBPE_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared"));
    path.join("corpus/train").is_dir().then_some(path)
}

/// The first `limit` bytes of a file, cut back to a character boundary.
fn head(path: &Path, limit: usize) -> String {
    let mut bytes = std::fs::read(path).unwrap();
    bytes.truncate(limit);
    while std::str::from_utf8(&bytes).is_err() {
        bytes.pop();
    }
    String::from_utf8(bytes).unwrap()
}

#[test]
fn builtin_patterns_split_like_the_regex() {
    let text = "L'homme d’État — qu'il DON'T ſ'il 1789!!\r\n\r\n   def f(x):\n\treturn x ** 2  # ok 🎉\u{a0}ʰA\u{301}";
    for pattern in PATTERNS {
        let fast = PreTokenizer::from_pattern(pattern.clone()).unwrap();
        let slow = PreTokenizer::from_pattern_regex_only(pattern.clone()).unwrap();
        assert!(fast.uses_scanner());
        assert_eq!(fast.split(text).unwrap(), slow.split(text).unwrap(), "{}", pattern.name());
        assert!(BuiltinScanner::for_regex(pattern.regex()).is_some());
    }
}

/// Best of a few runs of splitting `text`, in MB/s.
fn speed(pre: &PreTokenizer, text: &str) -> (f64, usize) {
    let mut out = Vec::new();
    let mut best = Duration::MAX;
    for _ in 0..5 {
        out.clear();
        let start = Instant::now();
        pre.split_ranges(text, &mut out).unwrap();
        best = best.min(start.elapsed());
    }
    (text.len() as f64 / 1e6 / best.as_secs_f64(), out.len())
}

#[test]
#[ignore = "timing; run in release with --ignored --nocapture"]
fn scanner_speed() {
    let Some(shared) = shared() else {
        eprintln!("no ../shared corpus: skipped");
        return;
    };
    for file in ["fr.txt", "code.txt", "en.txt", "pl.txt"] {
        let text = head(&shared.join("corpus/train").join(file), 1_000_000);
        for pattern in PATTERNS {
            let fast = PreTokenizer::from_pattern(pattern.clone()).unwrap();
            let slow = PreTokenizer::from_pattern_regex_only(pattern.clone()).unwrap();
            let (regex_speed, regex_pieces) = speed(&slow, &text);
            let (scanner_speed, scanner_pieces) = speed(&fast, &text);
            assert_eq!(regex_pieces, scanner_pieces);
            println!(
                "{file:>9} {:>8}: regex {regex_speed:7.1} MB/s   scanner {scanner_speed:7.1} MB/s   ×{:.1}",
                pattern.name(),
                scanner_speed / regex_speed
            );
        }
    }
}
