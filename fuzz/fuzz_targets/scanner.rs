//! The hand-written scanners cut exactly the pieces the fancy-regex pattern finds, and the
//! pieces cover the text; scanned in parts on several threads, whole or a section at a time, the
//! text gives the same pieces.

#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use polybpe::pretokenize::{BuiltinScanner, Pattern, PreTokenizer};

/// (scanner, regex) pre-tokenizers for each built-in pattern.
fn pairs() -> &'static [(PreTokenizer, PreTokenizer)] {
    static PAIRS: OnceLock<Vec<(PreTokenizer, PreTokenizer)>> = OnceLock::new();
    PAIRS.get_or_init(|| {
        [Pattern::Default, Pattern::Gpt2, Pattern::Cl100k, Pattern::O200k, Pattern::Qwen2, Pattern::Qwen35]
            .into_iter()
            .map(|p| (PreTokenizer::from_pattern(p.clone()).unwrap(), PreTokenizer::from_pattern_regex_only(p).unwrap()))
            .collect()
    })
}

fuzz_target!(|text: &str| {
    for (fast, slow) in pairs() {
        assert!(fast.uses_scanner());
        let pieces = fast.split(text).unwrap();
        assert_eq!(pieces.concat(), text);
        // fancy-regex has a backtrack limit; where it gives up there is nothing to compare.
        if let Ok(expected) = slow.split(text) {
            assert_eq!(pieces, expected, "pattern {:?}", fast.pattern().map(|p| p.name()));
        }
    }
    // Parts of 1 to 48 bytes, so that short inputs are cut many times.
    let part_bytes = 1 + text.len() % 48;
    for scanner in BuiltinScanner::ALL {
        let mut one = Vec::new();
        scanner.split(text, 0, &mut one);
        let parts: Vec<_> = scanner.split_in_parts(text, part_bytes).pieces().cloned().collect();
        assert_eq!(parts, one, "{scanner:?} in parts of {part_bytes} bytes");
        // And a section of 1 to 96 bytes at a time, as a long text is encoded.
        let section = 1 + text.len() % 96;
        let (mut sections, mut at) = (Vec::new(), 0);
        while at < text.len() {
            let (pieces, end) = scanner.split_section_in_parts(text, at, at + section, part_bytes);
            assert!(end > at, "{scanner:?}: a section of nothing at {at}");
            sections.extend(pieces.pieces().cloned());
            at = end;
        }
        assert_eq!(sections, one, "{scanner:?} in sections of {section} bytes, parts of {part_bytes}");
    }
});
