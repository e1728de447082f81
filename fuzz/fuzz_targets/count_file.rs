//! Arbitrary bytes as a word-count file: an error naming the file, never a panic; a parsed file
//! serializes back to the same bytes and merges with itself.

#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;
use polybpe::train::countfile;

fuzz_target!(|data: &[u8]| {
    if let Ok((counts, settings)) = countfile::from_bytes(data, Path::new("fuzz.counts")) {
        let again = countfile::to_bytes(&counts, &settings);
        let (back, _) = countfile::from_bytes(&again, Path::new("again.counts")).expect("own output parses");
        assert_eq!(back, counts);
        let _ = countfile::merge(vec![counts.clone(), counts]);
    }
});
