//! GPT-2's byte-to-character map, the alphabet of every byte-level BPE.
//!
//! Byte-level tokenizers store tokens as strings of 256 printable stand-in characters: printable
//! Latin-1 bytes map to themselves, the others (controls, space, 0x7F–0xA0, 0xAD) to U+0100 and up,
//! so space becomes `Ġ` and newline `Ċ`. `tokenizer.json` files need this spelling; inside
//! polybpe tokens are plain byte strings.

use std::sync::OnceLock;

struct Tables {
    byte_to_char: [char; 256],
    /// Indexed by `char as usize`; all stand-in characters are below U+0144.
    char_to_byte: [i16; 324],
}

fn tables() -> &'static Tables {
    static TABLES: OnceLock<Tables> = OnceLock::new();
    TABLES.get_or_init(|| {
        let mut byte_to_char = ['\0'; 256];
        let mut char_to_byte = [-1i16; 324];
        let printable = |b: u32| (0x21..=0x7E).contains(&b) || (0xA1..=0xAC).contains(&b) || (0xAE..=0xFF).contains(&b);
        let mut next = 256u32;
        for b in 0u32..256 {
            let c = if printable(b) {
                b
            } else {
                next += 1;
                next - 1
            };
            let ch = char::from_u32(c).expect("stand-in characters are valid");
            byte_to_char[b as usize] = ch;
            char_to_byte[c as usize] = b as i16;
        }
        Tables { byte_to_char, char_to_byte }
    })
}

/// The stand-in character of a byte.
#[inline]
pub fn byte_to_char(byte: u8) -> char {
    tables().byte_to_char[byte as usize]
}

/// The byte a stand-in character encodes, if it is one.
#[inline]
pub fn char_to_byte(c: char) -> Option<u8> {
    tables().char_to_byte.get(c as usize).and_then(|&b| u8::try_from(b).ok())
}

/// Spells a byte string in stand-in characters (`b" the"` → `"Ġthe"`).
pub fn encode_bytes(bytes: &[u8]) -> String {
    bytes.iter().map(|&b| byte_to_char(b)).collect()
}

/// Reads a stand-in spelling back into bytes; `None` if a character is not a stand-in.
pub fn decode_str(token: &str) -> Option<Vec<u8>> {
    token.chars().map(char_to_byte).collect()
}

/// The 256 bytes in the order of their stand-in characters' code points.
///
/// HF's trainer gives the initial alphabet ids in this order, and the merge tie-break compares
/// ids, so polybpe numbers its byte tokens the same way to learn the same merges.
pub fn bytes_in_char_order() -> [u8; 256] {
    let mut order: [u8; 256] = std::array::from_fn(|b| b as u8);
    order.sort_by_key(|&b| byte_to_char(b) as u32);
    order
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_stand_ins() {
        assert_eq!(byte_to_char(b' '), 'Ġ');
        assert_eq!(byte_to_char(b'\n'), 'Ċ');
        assert_eq!(byte_to_char(b'a'), 'a');
        assert_eq!(byte_to_char(0xAD), 'Ń');
        assert_eq!(encode_bytes(" ſ".as_bytes()), "ĠÅ¿");
    }

    #[test]
    fn bijective() {
        let mut seen = std::collections::HashSet::new();
        for b in 0..=255u8 {
            let c = byte_to_char(b);
            assert!(seen.insert(c));
            assert_eq!(char_to_byte(c), Some(b));
        }
        assert_eq!(char_to_byte('€'), None);
        assert_eq!(decode_str("Ġthe").unwrap(), b" the");
    }

    #[test]
    fn char_order_starts_with_printables() {
        let order = bytes_in_char_order();
        assert_eq!(order[0], b'!');
        assert_eq!(order[255], 0xAD);
    }
}
