//! Property tests: decoding undoes encoding, and document text never becomes a special token.

mod common;


use polybpe::AllowedSpecial;
use proptest::prelude::*;
use unicode_normalization::UnicodeNormalization;

use common::{synthetic_tokenizer as trained, synthetic_unnormalized as unnormalized};

/// Text built from the characters that matter here.
fn tricky_text() -> impl Strategy<Value = String> {
    let pieces = prop_oneof![
        Just("ſ".to_string()),
        Just("\u{301}".to_string()),
        Just("\u{364}".to_string()),
        Just("e\u{301}".to_string()),
        Just("🎉".to_string()),
        Just("👍🏽".to_string()),
        Just("\r\n".to_string()),
        Just("\0".to_string()),
        Just("\u{7}".to_string()),
        Just("l'".to_string()),
        Just("’".to_string()),
        Just("<|source_end|>".to_string()),
        Just("<|end_of_text|>".to_string()),
        Just("  ".to_string()),
        Just("1789".to_string()),
        "[a-zA-Zàéèüöß]{1,8}",
        any::<char>().prop_map(|c| c.to_string()),
    ];
    prop::collection::vec(pieces, 0..24).prop_map(|v| v.concat())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn round_trip_exact_without_normalizer(text in prop_oneof![tricky_text(), any::<String>()]) {
        let tok = unnormalized();
        let ids = tok.encode(&text, AllowedSpecial::None).unwrap();
        prop_assert_eq!(tok.decode(&ids).unwrap(), text);
    }

    #[test]
    fn round_trip_nfc(text in prop_oneof![tricky_text(), any::<String>()]) {
        let tok = trained();
        let ids = tok.encode(&text, AllowedSpecial::None).unwrap();
        let nfc: String = text.nfc().collect();
        prop_assert_eq!(tok.decode(&ids).unwrap(), nfc.clone());
        // Already-NFC text comes back byte for byte.
        let again = tok.encode(&nfc, AllowedSpecial::None).unwrap();
        prop_assert_eq!(tok.decode(&again).unwrap(), nfc);
    }

    #[test]
    fn document_text_never_yields_special_ids(text in tricky_text()) {
        let tok = trained();
        let n_special = tok.special_tokens().count() as u32;
        let ids = tok.encode(&text, AllowedSpecial::None).unwrap();
        prop_assert!(ids.iter().all(|&id| id >= n_special));
        // With specials allowed, each occurrence of special text becomes exactly one special id.
        let allowed = tok.encode(&text, AllowedSpecial::All).unwrap();
        let occurrences = text.matches("<|source_end|>").count() + text.matches("<|end_of_text|>").count();
        prop_assert_eq!(allowed.iter().filter(|&&id| id < n_special).count(), occurrences);
    }
}
