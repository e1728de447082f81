//! The full encoding pipeline: special-token scan → normalize → split → BPE, and decoding.

use crate::bpe::{BpeModel, TokenId};
use crate::normalize::Normalization;
use crate::pretokenize::PreTokenizer;
use crate::special::{Segment, SpecialScanner};
use crate::{Error, Result};

/// A token outside the BPE model: special (control) tokens and HF's other added tokens.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AddedToken {
    pub id: TokenId,
    pub content: String,
    /// Special tokens are recognized in text only where the caller allows it; non-special added
    /// tokens (rare, from imported files) are always recognized, as HF does.
    pub special: bool,
}

/// Which special tokens may be recognized in the text being encoded.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum AllowedSpecial {
    /// Special-token text is encoded as ordinary text (safe for document content).
    #[default]
    None,
    /// Every special token's text becomes its id (what HF `tokenizers` does).
    All,
}

/// A byte-level BPE tokenizer: normalizer, pre-tokenizer, model and added tokens.
#[derive(Clone, Debug)]
pub struct Tokenizer {
    normalization: Normalization,
    pre_tokenizer: PreTokenizer,
    model: BpeModel,
    added: Vec<AddedToken>,
    /// Finds every added token's text.
    all_scanner: SpecialScanner,
    /// Finds only non-special added tokens.
    plain_scanner: SpecialScanner,
    /// Indices into `added` for the plain scanner's patterns.
    plain_index: Vec<usize>,
}

impl Tokenizer {
    /// Assembles a tokenizer; added-token ids must not collide with different model tokens.
    pub fn new(normalization: Normalization, pre_tokenizer: PreTokenizer, model: BpeModel, added: Vec<AddedToken>) -> Result<Self> {
        for token in &added {
            if let Some(bytes) = model.token_bytes(token.id) {
                if bytes != token.content.as_bytes() {
                    return Err(Error::config(format!(
                        "added token {:?} has id {}, which the model uses for another token",
                        token.content, token.id
                    )));
                }
            }
        }
        let all_scanner = SpecialScanner::new(&added.iter().map(|t| t.content.as_str()).collect::<Vec<_>>());
        let plain_index: Vec<usize> = (0..added.len()).filter(|&i| !added[i].special).collect();
        let plain_scanner = SpecialScanner::new(&plain_index.iter().map(|&i| added[i].content.as_str()).collect::<Vec<_>>());
        Ok(Tokenizer { normalization, pre_tokenizer, model, added, all_scanner, plain_scanner, plain_index })
    }

    /// The normalizer.
    pub fn normalization(&self) -> Normalization {
        self.normalization
    }

    /// The pre-tokenizer.
    pub fn pre_tokenizer(&self) -> &PreTokenizer {
        &self.pre_tokenizer
    }

    /// The BPE model.
    pub fn model(&self) -> &BpeModel {
        &self.model
    }

    /// Added (special and other) tokens.
    pub fn added_tokens(&self) -> &[AddedToken] {
        &self.added
    }

    /// The special tokens only.
    pub fn special_tokens(&self) -> impl Iterator<Item = &AddedToken> {
        self.added.iter().filter(|t| t.special)
    }

    /// Vocabulary size: one past the largest id in use (what models size their embeddings by).
    pub fn vocab_size(&self) -> usize {
        let added_max = self.added.iter().map(|t| t.id as usize + 1).max().unwrap_or(0);
        self.model.id_bound().max(added_max)
    }

    /// The id of a token given as text (added tokens first, then model tokens by their bytes).
    pub fn token_to_id(&self, token: &str) -> Option<TokenId> {
        self.added
            .iter()
            .find(|t| t.content == token)
            .map(|t| t.id)
            .or_else(|| self.model.token_id(token.as_bytes()))
    }

    /// The bytes a token id stands for.
    pub fn id_to_bytes(&self, id: TokenId) -> Option<&[u8]> {
        self.added
            .iter()
            .find(|t| t.id == id)
            .map(|t| t.content.as_bytes())
            .or_else(|| self.model.token_bytes(id))
    }

    /// Encodes `text`, recognizing special tokens as `allowed` says.
    pub fn encode(&self, text: &str, allowed: AllowedSpecial) -> Result<Vec<TokenId>> {
        let mut ids = Vec::with_capacity(text.len() / 3 + 1);
        let scanner = match allowed {
            AllowedSpecial::All => &self.all_scanner,
            AllowedSpecial::None => &self.plain_scanner,
        };
        let mut failure = None;
        scanner.segments(text, |segment| match segment {
            Segment::Text(t) => {
                if failure.is_none() {
                    if let Err(e) = self.encode_text(t, &mut ids) {
                        failure = Some(e);
                    }
                }
            }
            Segment::Special(index, _) => {
                let index = match allowed {
                    AllowedSpecial::All => index,
                    AllowedSpecial::None => self.plain_index[index],
                };
                ids.push(self.added[index].id);
            }
        });
        match failure {
            Some(e) => Err(e),
            None => Ok(ids),
        }
    }

    /// Encodes text that contains no added tokens to recognize: normalize, split, BPE.
    pub fn encode_text(&self, text: &str, ids: &mut Vec<TokenId>) -> Result<()> {
        let normalized = self.normalization.apply(text);
        let prepared = self.pre_tokenizer.prepare(&normalized);
        let mut ranges = Vec::new();
        self.pre_tokenizer.split_ranges(&prepared, &mut ranges)?;
        let bytes = prepared.as_bytes();
        for range in ranges {
            self.model.encode_piece(&bytes[range], ids);
        }
        Ok(())
    }

    /// The bytes of a sequence of ids; unknown ids are an error naming the id.
    pub fn decode_bytes(&self, ids: &[TokenId]) -> Result<Vec<u8>> {
        let mut out = Vec::with_capacity(ids.len() * 4);
        for &id in ids {
            let bytes = self
                .id_to_bytes(id)
                .ok_or_else(|| Error::config(format!("token id {id} is not in the vocabulary (size {})", self.vocab_size())))?;
            out.extend_from_slice(bytes);
        }
        Ok(out)
    }

    /// Decodes ids to text; bytes that are not valid UTF-8 (a sequence cut inside a
    /// character) become U+FFFD, as in HF's ByteLevel decoder.
    pub fn decode(&self, ids: &[TokenId]) -> Result<String> {
        let bytes = self.decode_bytes(ids)?;
        Ok(match String::from_utf8(bytes) {
            Ok(s) => s,
            Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
        })
    }
}
