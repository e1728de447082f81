//! A vocabulary at a glance: sizes, special tokens, longest tokens, tokens per script, and
//! how many tokens carry historical characters such as `ſ`.

use std::collections::BTreeMap;

use crate::bpe::TokenId;
use crate::tokenizer::Tokenizer;

/// The writing system a token's letters belong to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Script {
    Latin,
    Greek,
    Cyrillic,
    Hebrew,
    Arabic,
    Cjk,
    Other,
    /// Letters of two or more scripts.
    Mixed,
    /// No letters: digits, punctuation, whitespace, symbols.
    NoLetters,
    /// Bytes that are not complete UTF-8 (a piece of a multi-byte character).
    PartialUtf8,
}

impl Script {
    /// Display name.
    pub fn name(self) -> &'static str {
        match self {
            Script::Latin => "Latin",
            Script::Greek => "Greek",
            Script::Cyrillic => "Cyrillic",
            Script::Hebrew => "Hebrew",
            Script::Arabic => "Arabic",
            Script::Cjk => "CJK",
            Script::Other => "other script",
            Script::Mixed => "mixed scripts",
            Script::NoLetters => "no letters",
            Script::PartialUtf8 => "partial UTF-8",
        }
    }

    /// The script of one alphabetic character (by Unicode block).
    fn of_char(c: char) -> Script {
        match c as u32 {
            0x0041..=0x024F | 0x0250..=0x02AF | 0x1D00..=0x1DBF | 0x1E00..=0x1EFF | 0x2C60..=0x2C7F | 0xA720..=0xA7FF | 0xAB30..=0xAB6F
            | 0xFB00..=0xFB06 | 0xFF21..=0xFF5A => Script::Latin,
            0x0370..=0x03FF | 0x1F00..=0x1FFF => Script::Greek,
            0x0400..=0x052F | 0x1C80..=0x1C8F | 0x2DE0..=0x2DFF | 0xA640..=0xA69F => Script::Cyrillic,
            0x0590..=0x05FF => Script::Hebrew,
            0x0600..=0x06FF | 0x0750..=0x077F => Script::Arabic,
            0x3040..=0x30FF | 0x3400..=0x4DBF | 0x4E00..=0x9FFF | 0xAC00..=0xD7AF => Script::Cjk,
            _ => Script::Other,
        }
    }

    /// The script of a token's bytes.
    pub fn of_bytes(bytes: &[u8]) -> Script {
        let Ok(text) = std::str::from_utf8(bytes) else { return Script::PartialUtf8 };
        let mut found: Option<Script> = None;
        for c in text.chars().filter(|c| c.is_alphabetic()) {
            let s = Script::of_char(c);
            match found {
                None => found = Some(s),
                Some(f) if f != s => return Script::Mixed,
                _ => {}
            }
        }
        found.unwrap_or(Script::NoLetters)
    }
}

/// Historical characters worth counting in a vocabulary for early-modern text.
pub const HISTORICAL_CHARS: [char; 6] = ['ſ', 'ꝛ', '\u{364}', 'ʒ', 'æ', 'œ'];

/// Summary statistics of a tokenizer's vocabulary.
#[derive(Clone, Debug)]
pub struct VocabStats {
    /// One past the largest id.
    pub vocab_size: usize,
    pub model_tokens: usize,
    pub merges: usize,
    /// (id, text) of each special token.
    pub special_tokens: Vec<(TokenId, String)>,
    /// Model tokens per script.
    pub by_script: BTreeMap<Script, usize>,
    /// (char, tokens containing it) for [`HISTORICAL_CHARS`].
    pub historical: Vec<(char, usize)>,
    /// The longest model tokens (by bytes), longest first.
    pub longest: Vec<(TokenId, Vec<u8>)>,
    /// Tokens starting with a space.
    pub space_prefixed: usize,
}

impl VocabStats {
    /// Computes the statistics; `top` is how many longest tokens to keep.
    pub fn of(tokenizer: &Tokenizer, top: usize) -> VocabStats {
        let model = tokenizer.model();
        let mut by_script = BTreeMap::new();
        let mut historical: Vec<(char, usize)> = HISTORICAL_CHARS.iter().map(|&c| (c, 0)).collect();
        let mut space_prefixed = 0;
        let mut all: Vec<(TokenId, &[u8])> = Vec::with_capacity(model.len());
        for (id, bytes) in model.tokens() {
            *by_script.entry(Script::of_bytes(bytes)).or_insert(0) += 1;
            if let Ok(text) = std::str::from_utf8(bytes) {
                for (c, n) in historical.iter_mut() {
                    if text.contains(*c) {
                        *n += 1;
                    }
                }
            }
            if bytes.first() == Some(&b' ') {
                space_prefixed += 1;
            }
            all.push((id, bytes));
        }
        all.sort_by(|a, b| b.1.len().cmp(&a.1.len()).then(a.0.cmp(&b.0)));
        VocabStats {
            vocab_size: tokenizer.vocab_size(),
            model_tokens: model.len(),
            merges: model.merges().len(),
            special_tokens: tokenizer.special_tokens().map(|t| (t.id, t.content.clone())).collect(),
            by_script,
            historical,
            longest: all.into_iter().take(top).map(|(id, b)| (id, b.to_vec())).collect(),
            space_prefixed,
        }
    }
}

/// The text `convert_hf_to_gguf.py` encodes to recognize a BPE pre-tokenizer (`chktxt` in
/// `get_vocab_base_pre`, `CHK_TXT` in `convert_hf_to_gguf_update.py`). The tests compare the
/// hash below with `transformers` on the text read from llama.cpp's own script.
pub const LLAMA_CPP_CHECK_TEXT: &str = concat!(
    "\n \n\n \n\n\n \t \t\t \t\n  \n   \n    \n     \n",
    "\u{1f680} (normal) \u{1f636}\u{200d}\u{1f32b}\u{fe0f} (multiple emojis concatenated) \u{2705} \u{1f999}\u{1f999} ",
    "3 33 333 3333 33333 333333 3333333 33333333 3.3 3..3 3...3 ",
    "\u{1780}\u{17b6}\u{1793}\u{17cb}\u{178f}\u{17c2}\u{1796}\u{17b7}\u{179f}\u{17c1}\u{179f}\u{17a2}\u{17b6}\u{1785}\u{1f601} ",
    "?\u{6211}\u{60f3}\u{5728}apple\u{5de5}\u{4f5c}1314151\u{5929}\u{ff5e} ------======= ",
    "\u{43d}\u{435}\u{449}\u{43e} \u{43d}\u{430} \u{411}\u{44a}\u{43b}\u{433}\u{430}\u{440}\u{441}\u{43a}\u{438} ",
    "''''''```````\"\"\"\"......!!!!!!?????? I've been 'told he's there, 'RE you sure? 'M not sure I'll make it, ",
    "'D you like some tea? We'Ve a'lL"
);

/// What a model conversion with llama.cpp needs to know about a tokenizer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LlamaCppCheck {
    /// The `tokenizer.ggml.pre` name llama.cpp runs the split pattern under, or why it cannot.
    pub pre: std::result::Result<&'static str, String>,
    /// `chkhsh`: sha256 of Python's `str()` of the ids of [`LLAMA_CPP_CHECK_TEXT`], the key
    /// `convert_hf_to_gguf.py` looks the pre-tokenizer up by.
    pub chkhsh: String,
}

impl LlamaCppCheck {
    /// Encodes the check text (as `transformers`' `encode` does: added tokens recognized, none
    /// added around the text) and hashes the ids.
    pub fn of(tokenizer: &Tokenizer) -> crate::Result<Self> {
        let ids = tokenizer.encode(LLAMA_CPP_CHECK_TEXT, crate::AllowedSpecial::All)?;
        let listed: Vec<String> = ids.iter().map(|id| id.to_string()).collect();
        let digest = sha256(format!("[{}]", listed.join(", ")).as_bytes());
        let chkhsh = digest.iter().map(|b| format!("{b:02x}")).collect();
        Ok(LlamaCppCheck { pre: crate::formats::gguf::llama_cpp_pre(tokenizer).map_err(|e| e.to_string()), chkhsh })
    }
}

/// SHA-256 (FIPS 180-4), for the one hash above (no dependency for 30 lines).
fn sha256(data: &[u8]) -> [u8; 32] {
    const K: [u32; 64] = [
        0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5, 0xd807aa98, 0x12835b01,
        0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc,
        0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147,
        0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
        0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116, 0x1e376c08,
        0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208,
        0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
    ];
    let mut h: [u32; 8] = [0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19];
    let mut message = data.to_vec();
    message.push(0x80);
    message.resize((message.len() + 8).next_multiple_of(64) - 8, 0);
    message.extend_from_slice(&((data.len() as u64) * 8).to_be_bytes());
    for block in message.chunks_exact(64) {
        let mut w = [0u32; 64];
        for (i, word) in block.chunks_exact(4).enumerate() {
            w[i] = u32::from_be_bytes(word.try_into().unwrap());
        }
        for i in 16..64 {
            let s0 = w[i - 15].rotate_right(7) ^ w[i - 15].rotate_right(18) ^ (w[i - 15] >> 3);
            let s1 = w[i - 2].rotate_right(17) ^ w[i - 2].rotate_right(19) ^ (w[i - 2] >> 10);
            w[i] = w[i - 16].wrapping_add(s0).wrapping_add(w[i - 7]).wrapping_add(s1);
        }
        let [mut a, mut b, mut c, mut d, mut e, mut f, mut g, mut hh] = h;
        for (k, wi) in K.iter().zip(w) {
            let t1 = hh
                .wrapping_add(e.rotate_right(6) ^ e.rotate_right(11) ^ e.rotate_right(25))
                .wrapping_add((e & f) ^ (!e & g))
                .wrapping_add(*k)
                .wrapping_add(wi);
            let t2 = (a.rotate_right(2) ^ a.rotate_right(13) ^ a.rotate_right(22)).wrapping_add((a & b) ^ (a & c) ^ (b & c));
            (hh, g, f, e, d, c, b, a) = (g, f, e, d.wrapping_add(t1), c, b, a, t1.wrapping_add(t2));
        }
        for (x, y) in h.iter_mut().zip([a, b, c, d, e, f, g, hh]) {
            *x = x.wrapping_add(y);
        }
    }
    let mut out = [0u8; 32];
    for (chunk, x) in out.chunks_exact_mut(4).zip(h) {
        chunk.copy_from_slice(&x.to_be_bytes());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sha256_test_vectors() {
        let hex = |d: [u8; 32]| d.iter().map(|b| format!("{b:02x}")).collect::<String>();
        assert_eq!(hex(sha256(b"abc")), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
        assert_eq!(hex(sha256(b"")), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
        let long = b"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
        assert_eq!(hex(sha256(long)), "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    }

    #[test]
    fn check_text_is_the_converters() {
        assert_eq!(LLAMA_CPP_CHECK_TEXT.chars().count(), 350);
        assert!(LLAMA_CPP_CHECK_TEXT.starts_with("\n \n\n") && LLAMA_CPP_CHECK_TEXT.ends_with("We'Ve a'lL"));
    }

    #[test]
    fn scripts() {
        assert_eq!(Script::of_bytes(" ſouvent".as_bytes()), Script::Latin);
        assert_eq!(Script::of_bytes("λόγος".as_bytes()), Script::Greek);
        assert_eq!(Script::of_bytes("aб".as_bytes()), Script::Mixed);
        assert_eq!(Script::of_bytes(b" 12,"), Script::NoLetters);
        assert_eq!(Script::of_bytes(&[0xC5]), Script::PartialUtf8);
    }
}
