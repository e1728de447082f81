//! Arbitrary bytes as a tokenizer.json or tiktoken rank file: an error or a tokenizer, never
//! a panic; a loaded tokenizer encodes and decodes its own text.

#![no_main]

use libfuzzer_sys::fuzz_target;
use polybpe::AllowedSpecial;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(tok) = polybpe::formats::hf::from_json(text) {
        if let Ok(ids) = tok.encode("Hello, wörld! 123", AllowedSpecial::None) {
            let _ = tok.decode(&ids);
        }
    }
});
