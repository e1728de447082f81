//! `decode(encode(s)) == s` for GPT-2 (HF tokenizer.json) and cl100k (tiktoken rank file) from
//! the shared folder, with special-token text recognized and not. Neither has a normalizer, so
//! the round trip is exact. Without the files (see `polybpe_fuzz::shared_dir`) there is
//! nothing to check and every input passes.

#![no_main]

use libfuzzer_sys::fuzz_target;
use polybpe::AllowedSpecial;

fuzz_target!(|text: &str| {
    for (name, tok) in polybpe_fuzz::reference_tokenizers() {
        for allowed in [AllowedSpecial::None, AllowedSpecial::All] {
            let ids = tok.encode(text, allowed).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(tok.decode(&ids).unwrap_or_else(|e| panic!("{name}: {e}")), text, "{name}, {allowed:?}");
        }
    }
});
