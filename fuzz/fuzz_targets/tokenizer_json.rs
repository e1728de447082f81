//! Arbitrary bytes as a tokenizer.json: an error or a tokenizer, never a panic; a loaded
//! tokenizer passes `polybpe_fuzz::check_loaded`. Seeded with cut-down real files and run with
//! a dictionary of the format's keys (`fuzz/tokenizer_json.dict`) so mutations stay JSON;
//! `tokenizer_json_structured` builds valid JSON by construction.

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(tok) = polybpe::formats::hf::from_json(text) {
        polybpe_fuzz::check_loaded(&tok, text);
    }
});
