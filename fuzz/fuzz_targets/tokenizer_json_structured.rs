//! tokenizer.json documents built from the fuzz input, so every input is valid JSON of the
//! right shape and the loader's checks of the contents are what get exercised: vocab ids
//! (holes, duplicates, huge ids), merges of missing tokens, added tokens that collide,
//! normalizers, pre-tokenizer sequences with arbitrary regexes, Metaspace and byte fallback.
//! Loading gives an error or a tokenizer, never a panic; a loaded tokenizer passes
//! `polybpe_fuzz::check_loaded`.

#![no_main]

use libfuzzer_sys::arbitrary::{Result, Unstructured};
use libfuzzer_sys::fuzz_target;
use polybpe::bytelevel;
use serde_json::{json, Map, Value};

fuzz_target!(|data: &[u8]| {
    let mut u = Unstructured::new(data);
    let Ok(doc) = document(&mut u) else { return };
    let text = doc.to_string();
    if let Ok(tok) = polybpe::formats::hf::from_json(&text) {
        let sample: &str = u.arbitrary().unwrap_or_default();
        polybpe_fuzz::check_loaded(&tok, sample);
    }
});

const REGEXES: &[&str] = &[
    polybpe::pretokenize::GPT2_PATTERN,
    polybpe::pretokenize::CL100K_PATTERN,
    r"\p{N}{1,3}",
    r"[0-9][0-9][0-9]",
    r"\s+(?!\S)",
    r" ?\p{L}+",
    "",
    "(",
];
const BEHAVIORS: &[&str] = &["Isolated", "Removed", "MergedWithPrevious", "MergedWithNext", "Contiguous", "Bogus"];
const SPECIALS: &[&str] = &["<|endoftext|>", "<s>", "</s>", "<unk>", "a", " ", "▁", "<0x41>"];

fn document(u: &mut Unstructured) -> Result<Value> {
    let sentencepiece = u.ratio(1, 4)?;
    let mut vocab: Vec<(String, Value)> = Vec::new();
    if sentencepiece {
        for token in ["<unk>", "<s>", "</s>", "▁", "a", "b", "é", "▁a", "ab", "<0xC3>", "<0xA9>", "<0x41>", "<0x0A>"] {
            if u.ratio(7, 8)? {
                vocab.push((token.to_string(), json!(vocab.len())));
            }
        }
    } else {
        let every_byte = u.ratio(7, 8)?;
        for b in 0..=255u8 {
            if every_byte || u.arbitrary()? {
                vocab.push((bytelevel::encode_bytes(&[b]), json!(vocab.len())));
            }
        }
    }
    for _ in 0..u.int_in_range(0..=24)? {
        let token = if !vocab.is_empty() && u.ratio(3, 4)? {
            let a = &u.choose(&vocab)?.0;
            let b = &u.choose(&vocab)?.0;
            format!("{a}{b}")
        } else {
            u.arbitrary::<String>()?
        };
        let id = match u.int_in_range(0..=9)? {
            0 => json!(u.arbitrary::<u64>()?),
            1 => json!(u.int_in_range(0..=vocab.len() as u64 + 2)?),
            2 => json!(-1),
            3 => json!("7"),
            _ => json!(vocab.len()),
        };
        vocab.push((token, id));
    }
    let mut merges = Vec::new();
    for _ in 0..u.int_in_range(0..=24)? {
        let side = |u: &mut Unstructured| -> Result<String> {
            if !vocab.is_empty() && u.ratio(7, 8)? { Ok(u.choose(&vocab)?.0.clone()) } else { u.arbitrary() }
        };
        let (a, b) = (side(u)?, side(u)?);
        merges.push(match u.int_in_range(0..=5)? {
            0 => json!(format!("{a} {b}")),
            1 => json!([a]),
            2 => json!(7),
            _ => json!([a, b]),
        });
    }
    let mut added = Vec::new();
    for _ in 0..u.int_in_range(0..=3)? {
        let content = if u.ratio(1, 3)? { u.arbitrary::<String>()? } else { u.choose(SPECIALS)?.to_string() };
        let id = match u.int_in_range(0..=3)? {
            0 => json!(u.arbitrary::<u64>()?),
            1 => json!(u.int_in_range(0..=vocab.len() as u64 + 2)?),
            _ => json!(vocab.len() + added.len()),
        };
        if u.ratio(1, 2)? {
            vocab.push((content.clone(), id.clone()));
        }
        added.push(json!({"id": id, "content": content, "special": u.arbitrary::<bool>()?}));
    }

    let model = json!({
        "type": *u.choose(&["BPE", "BPE", "BPE", "WordPiece"])?,
        "dropout": if u.ratio(1, 8)? { json!(0.1) } else { Value::Null },
        "unk_token": if u.ratio(1, 4)? { json!(*u.choose(&["<unk>", "nope"])?) } else { Value::Null },
        "continuing_subword_prefix": if u.ratio(1, 16)? { json!("##") } else { Value::Null },
        "fuse_unk": u.arbitrary::<bool>()?,
        "byte_fallback": if sentencepiece { u.ratio(3, 4)? } else { u.ratio(1, 16)? },
        "ignore_merges": u.arbitrary::<bool>()?,
        "vocab": Value::Object(vocab.into_iter().collect::<Map<String, Value>>()),
        "merges": merges,
    });
    let pre_tokenizer = if sentencepiece && u.ratio(3, 4)? {
        metaspace(u)?
    } else {
        let steps: Vec<Value> = (0..u.int_in_range(0..=3)?).map(|_| pre_tokenizer_step(u)).collect::<Result<_>>()?;
        match steps.len() {
            1 if u.arbitrary()? => steps.into_iter().next().unwrap(),
            _ => json!({"type": "Sequence", "pretokenizers": steps}),
        }
    };
    Ok(json!({
        "version": "1.0",
        "added_tokens": added,
        "normalizer": normalizer(u, 2)?,
        "pre_tokenizer": pre_tokenizer,
        "decoder": decoder(u)?,
        "model": model,
    }))
}

fn pre_tokenizer_step(u: &mut Unstructured) -> Result<Value> {
    Ok(match u.int_in_range(0..=5)? {
        0 | 1 => json!({"type": "ByteLevel", "add_prefix_space": u.arbitrary::<bool>()?, "use_regex": u.arbitrary::<bool>()?}),
        2 => {
            let pattern = match u.int_in_range(0..=3)? {
                0 => json!({"String": u.arbitrary::<String>()?}),
                1 => json!({"Regex": u.arbitrary::<String>()?}),
                _ => json!({"Regex": *u.choose(REGEXES)?}),
            };
            json!({"type": "Split", "pattern": pattern, "behavior": *u.choose(BEHAVIORS)?, "invert": u.arbitrary::<bool>()?})
        }
        3 => json!({"type": "Digits", "individual_digits": u.arbitrary::<bool>()?}),
        4 => json!({"type": "Punctuation", "behavior": *u.choose(BEHAVIORS)?}),
        _ => metaspace(u)?,
    })
}

fn metaspace(u: &mut Unstructured) -> Result<Value> {
    let replacement = if u.ratio(7, 8)? { "▁".to_string() } else { u.arbitrary()? };
    Ok(json!({
        "type": "Metaspace",
        "replacement": replacement,
        "prepend_scheme": *u.choose(&["always", "first", "never", "sometimes"])?,
        "split": u.arbitrary::<bool>()?,
    }))
}

fn normalizer(u: &mut Unstructured, depth: u32) -> Result<Value> {
    Ok(match u.int_in_range(0..=7)? {
        0 | 1 => Value::Null,
        2 => json!({"type": "NFC"}),
        3 => json!({"type": "NFKC"}),
        4 => json!({"type": "Prepend", "prepend": "▁"}),
        5 => {
            let pattern = if u.arbitrary()? { json!({"String": " "}) } else { json!({"Regex": u.arbitrary::<String>()?}) };
            json!({"type": "Replace", "pattern": pattern, "content": "▁"})
        }
        6 if depth > 0 => {
            let items: Vec<Value> = (0..u.int_in_range(0..=3)?).map(|_| normalizer(u, depth - 1)).collect::<Result<_>>()?;
            json!({"type": "Sequence", "normalizers": items})
        }
        _ => json!({"type": "Lowercase"}),
    })
}

fn decoder(u: &mut Unstructured) -> Result<Value> {
    let steps: Vec<Value> = (0..u.int_in_range(0..=4)?)
        .map(|_| {
            Ok(match u.int_in_range(0..=4)? {
                0 => json!({"type": "ByteFallback"}),
                1 => json!({"type": "Fuse"}),
                2 => json!({"type": "Strip", "content": " ", "start": u.int_in_range(0..=2)?, "stop": 0}),
                3 => json!({"type": "Metaspace", "replacement": "▁", "prepend_scheme": *u.choose(&["always", "first", "never"])?}),
                _ => json!({"type": "Replace", "pattern": {"String": "▁"}, "content": " "}),
            })
        })
        .collect::<Result<_>>()?;
    Ok(json!({"type": "Sequence", "decoders": steps}))
}
