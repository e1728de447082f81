//! Hand-written scanners for the four built-in split patterns.
//!
//! Pre-tokenization is the hot loop of both training and encoding, and fancy-regex runs these
//! patterns (they use lookaheads and atomic groups) on its backtracking VM. The scanners here cut
//! exactly the same pieces, in one forward pass without allocation.
//!
//! Each `*_piece` function returns the end of the match that starts at a given position. It
//! follows the regex branch by branch, in order (leftmost-first alternation), and where a greedy
//! quantifier would give characters back it computes directly where the backtracking ends:
//!
//! * `\s+(?!\S)` takes a whitespace run and gives back its last character when something other
//!   than whitespace follows (nothing is given back at the end of the text);
//! * `\s*[\r\n]+` ends just after the last `\r`/`\n` of the whitespace run;
//! * o200k's `[A]*[B]+` (upper-ish then lower-ish letters, the two classes overlapping on
//!   `Lm`, `Lo` and marks) ends after the `A` run when a lowercase letter follows it, or else just
//!   after the last character of the run that is also in `B`.
//!
//! These functions are the scalar path: [`windows`] decides most of the text 64 bytes at a time
//! from bit masks and calls them where a window cannot decide.
//!
//! These patterns match at every position (every character is a letter, a digit, whitespace, or
//! "other"), so the pieces cover the whole text.
//!
//! Letter runs, most of any text, take ASCII letters eight bytes at a time (one 64-bit word,
//! no table lookups) before going on character by character. Measured on 1 MB per language
//! (`benches/RESULTS.md`, pre-tokenizer section): cl100k 320–329 → 474–663 MB/s on fr/en,
//! o200k 304–320 → 360–586 MB/s across fr/code/en/pl.
//!
//! Character classes come from the Unicode tables of `regex-syntax`, the crate the `regex` engine
//! behind fancy-regex uses, so `\p{L}`, `\p{N}`, `\s` … agree with the regex path exactly. They
//! are expanded once into a table with one byte of flags per code point. The case-insensitive
//! contractions `(?i:'s|'t|…)` of cl100k and o200k follow the regex crate's simple case folding,
//! under which `'ſ` (U+017F LATIN SMALL LETTER LONG S) is a contraction too.

use std::ops::Range;
use std::sync::OnceLock;

use regex_syntax::hir::{Class, HirKind};

mod windows;

use windows::Family;

use super::{CL100K_PATTERN, DEFAULT_PATTERN, GPT2_PATTERN, O200K_PATTERN, QWEN2_PATTERN, QWEN35_PATTERN};

/// Which built-in pattern a scanner implements.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BuiltinScanner {
    /// [`DEFAULT_PATTERN`].
    Default,
    /// [`CL100K_PATTERN`].
    Cl100k,
    /// [`GPT2_PATTERN`].
    Gpt2,
    /// [`O200K_PATTERN`].
    O200k,
    /// [`QWEN2_PATTERN`].
    Qwen2,
    /// [`QWEN35_PATTERN`].
    Qwen35,
}

impl BuiltinScanner {
    /// All scanners.
    pub const ALL: [BuiltinScanner; 6] = [
        BuiltinScanner::Default,
        BuiltinScanner::Cl100k,
        BuiltinScanner::Gpt2,
        BuiltinScanner::O200k,
        BuiltinScanner::Qwen2,
        BuiltinScanner::Qwen35,
    ];

    /// The scanner for `regex` when it is, character for character, one of the built-in patterns.
    pub fn for_regex(regex: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.regex() == regex)
    }

    /// The regex this scanner implements.
    pub fn regex(self) -> &'static str {
        match self {
            BuiltinScanner::Default => DEFAULT_PATTERN,
            BuiltinScanner::Cl100k => CL100K_PATTERN,
            BuiltinScanner::Gpt2 => GPT2_PATTERN,
            BuiltinScanner::O200k => O200K_PATTERN,
            BuiltinScanner::Qwen2 => QWEN2_PATTERN,
            BuiltinScanner::Qwen35 => QWEN35_PATTERN,
        }
    }

    /// Appends the byte ranges of the pieces of `text`, shifted by `offset`, to `out`.
    ///
    /// The pieces are the matches of the pattern (what `find_iter` yields); they are never empty
    /// and cover all of `text`.
    pub fn split(self, text: &str, offset: usize, out: &mut Vec<Range<usize>>) {
        self.split_until(text, offset, text.len(), out);
    }

    /// Like [`Self::split`], but stops at the first piece boundary at or past `stop` (perhaps
    /// a few pieces later: a window's pieces are kept together), and returns that boundary.
    ///
    /// None of the patterns looks behind, so the pieces after any boundary depend only on the
    /// text from there on: a scan started inside a text agrees with the scan of the whole text
    /// from the first boundary the two share (see [`crate::pretokenize::PreTokenizer::split_in_parallel`]).
    pub fn split_until(self, text: &str, offset: usize, stop: usize, out: &mut Vec<Range<usize>>) -> usize {
        let scan = Scan { b: text.as_bytes(), t: table() };
        match self {
            BuiltinScanner::Default => scan.run_windows(Family::Default, offset, stop, out, Scan::default_piece),
            BuiltinScanner::Cl100k => scan.run_windows(Family::Cl100k, offset, stop, out, Scan::cl100k_piece),
            BuiltinScanner::Gpt2 => scan.run_windows(Family::Gpt2, offset, stop, out, Scan::gpt2_piece),
            BuiltinScanner::O200k => scan.run_windows(Family::O200k, offset, stop, out, Scan::o200k_piece),
            BuiltinScanner::Qwen2 => {
                scan.run_windows(Family::Qwen, offset, stop, out, |s, i| s.qwen_piece(i, L, L | N | WS | END))
            }
            BuiltinScanner::Qwen35 => {
                scan.run_windows(Family::Qwen, offset, stop, out, |s, i| s.qwen_piece(i, W, W | N | WS | END))
            }
        }
    }
}

// Class flags, one byte per code point.
/// `\p{L}`
const L: u8 = 1;
/// `\p{N}`
const N: u8 = 2;
/// `\p{M}`
const M: u8 = 4;
/// `\s` (Unicode White_Space)
const WS: u8 = 8;
/// o200k's upper-ish class `[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]`
const UP: u8 = 16;
/// o200k's lower-ish class `[\p{Ll}\p{Lm}\p{Lo}\p{M}]`
const LO: u8 = 32;
/// `\r` or `\n`
const NL: u8 = 64;
/// Past the end of the text (never in the table).
const END: u8 = 128;

/// `[\p{L}\p{M}]`, the word characters of the default pattern.
const W: u8 = L | M;

/// `[^\s\p{L}\p{N}]`: a character that is neither whitespace, letter nor digit.
#[inline(always)]
fn is_other(c: u8) -> bool {
    c & (L | N | WS | END) == 0
}

/// `[^\r\n\p{L}\p{N}]`: the optional character before a word.
#[inline(always)]
fn is_prefix(c: u8) -> bool {
    c & (L | N | NL | END) == 0
}

/// The class table: flags for every code point below 0x110000.
fn table() -> &'static [u8] {
    static TABLE: OnceLock<Box<[u8]>> = OnceLock::new();
    TABLE.get_or_init(build_table)
}

/// The code point ranges of a character class, as the regex crate compiles it.
fn class_ranges(class: &str) -> Vec<(char, char)> {
    let hir = regex_syntax::parse(class).expect("static character class");
    match hir.kind() {
        HirKind::Class(Class::Unicode(ranges)) => ranges.iter().map(|r| (r.start(), r.end())).collect(),
        other => panic!("{class} is not a Unicode class: {other:?}"),
    }
}

fn build_table() -> Box<[u8]> {
    let mut table = vec![0u8; 0x11_0000];
    let classes = [
        (r"\p{L}", L),
        (r"\p{N}", N),
        (r"\p{M}", M),
        (r"\s", WS),
        (r"[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]", UP),
        (r"[\p{Ll}\p{Lm}\p{Lo}\p{M}]", LO),
    ];
    for (class, flag) in classes {
        for (start, end) in class_ranges(class) {
            for slot in &mut table[start as usize..=end as usize] {
                *slot |= flag;
            }
        }
    }
    table[usize::from(b'\r')] |= NL;
    table[usize::from(b'\n')] |= NL;
    table.into_boxed_slice()
}

/// The code point and byte length of the multi-byte UTF-8 character whose lead byte is `lead`,
/// its `k`-th byte being `byte(k)`.
#[inline(always)]
fn decode_multibyte(lead: u8, byte: impl Fn(usize) -> u8) -> (u32, usize) {
    let cont = |k: usize| u32::from(byte(k) & 0x3F);
    if lead < 0xE0 {
        ((u32::from(lead & 0x1F) << 6) | cont(1), 2)
    } else if lead < 0xF0 {
        ((u32::from(lead & 0x0F) << 12) | (cont(1) << 6) | cont(2), 3)
    } else {
        ((u32::from(lead & 0x07) << 18) | (cont(1) << 12) | (cont(2) << 6) | cont(3), 4)
    }
}

/// Byte length of GPT-2's `'s|'t|'re|'ve|'m|'ll|'d` (case-sensitive) at the start of `text`.
#[inline(always)]
fn gpt2_contraction_len(text: &[u8]) -> Option<usize> {
    match text {
        [b'\'', b's' | b't' | b'm' | b'd', ..] => Some(2),
        [b'\'', b'r' | b'v', b'e', ..] | [b'\'', b'l', b'l', ..] => Some(3),
        _ => None,
    }
}

/// Byte length of `(?i:'s|'t|'re|'ve|'m|'ll|'d)` at the start of `text`. The regex crate folds
/// `s` with `ſ` (U+017F); the other letters fold only with their ASCII case partner (checked by
/// a test).
#[inline(always)]
fn contraction_ci_len(text: &[u8]) -> Option<usize> {
    match text {
        [b'\'', b's' | b'S' | b't' | b'T' | b'm' | b'M' | b'd' | b'D', ..] => Some(2),
        [b'\'', b'r' | b'R' | b'v' | b'V', b'e' | b'E', ..] | [b'\'', b'l' | b'L', b'l' | b'L', ..] => Some(3),
        [b'\'', 0xC5, 0xBF, ..] => Some(3),
        _ => None,
    }
}

/// The text being scanned, with the class table.
struct Scan<'a> {
    b: &'a [u8],
    t: &'static [u8],
}

impl Scan<'_> {
    /// Flags and UTF-8 length of the character at byte `i` (a character boundary), or
    /// `(END, 0)` at the end of the text.
    #[inline(always)]
    fn at(&self, i: usize) -> (u8, usize) {
        let b = self.b;
        let Some(&x) = b.get(i) else { return (END, 0) };
        if x < 0x80 {
            return (self.t[usize::from(x)], 1);
        }
        let (cp, len) = decode_multibyte(x, |k| b[i + k]);
        (self.t[cp as usize], len)
    }

    /// Flags of the character at `i`.
    #[inline(always)]
    fn class(&self, i: usize) -> u8 {
        self.at(i).0
    }

    /// The end of the run of characters having one of `flags`, from `i`.
    #[inline(always)]
    fn run(&self, mut i: usize, flags: u8) -> usize {
        // Letter runs (`\p{L}+`, `[\p{L}\p{M}]+`, o200k's lower-ish `[B]+`) are most of the
        // text: take ASCII letters eight at a time. The classes agree on ASCII: its letters are
        // exactly [A-Za-z], its lower-ish ones [a-z], and no ASCII character is a mark.
        if flags & !M == L {
            i = self.ascii_letters(i, true);
        } else if flags == LO {
            i = self.ascii_letters(i, false);
        }
        loop {
            let (c, len) = self.at(i);
            if c & flags == 0 {
                return i;
            }
            i += len;
        }
    }

    /// The end of the run of ASCII letters from `i` (both cases with `any_case`, else only
    /// lowercase), found eight bytes at a time while eight bytes remain (the caller goes on
    /// from there character by character).
    #[inline(always)]
    fn ascii_letters(&self, mut i: usize, any_case: bool) -> usize {
        const ONES: u64 = 0x0101_0101_0101_0101;
        const HIGH: u64 = 0x8080_8080_8080_8080;
        while let Some(bytes) = self.b.get(i..i + 8) {
            let word = u64::from_le_bytes(bytes.try_into().unwrap());
            // Bytes from the first non-ASCII one on are zeroed (not letters), so every byte is
            // below 0x80 and no sum below carries into the next byte. Lowercased, then per
            // byte: the high bit of `at_least_a` is set when the byte is at least `a`, that of
            // `past_z` when it is past `z`.
            let high = word & HIGH;
            let ascii = if high == 0 { word } else { word & ((1u64 << (high.trailing_zeros() & !7)) - 1) };
            let lower = if any_case { ascii | (0x20 * ONES) } else { ascii };
            let at_least_a = lower + (0x80 - u64::from(b'a')) * ONES;
            let past_z = lower + (0x80 - u64::from(b'z' + 1)) * ONES;
            let not_letters = !(at_least_a & !past_z) & HIGH;
            if not_letters == 0 {
                i += 8;
                continue;
            }
            return i + (not_letters.trailing_zeros() / 8) as usize;
        }
        i
    }

    /// The end of the run of `[^\s\p{L}\p{N}]` characters from `i`.
    #[inline(always)]
    fn run_other(&self, mut i: usize) -> usize {
        loop {
            let (c, len) = self.at(i);
            if !is_other(c) {
                return i;
            }
            i += len;
        }
    }

    /// `\p{N}{1,3}` from `i` (the caller checked the first).
    #[inline(always)]
    fn digits3(&self, i: usize) -> usize {
        let mut j = i;
        for _ in 0..3 {
            let (c, len) = self.at(j);
            if c & N == 0 {
                break;
            }
            j += len;
        }
        j
    }

    /// The whitespace branches at a whitespace character `i`: `\s*[\r\n]+` (when `newlines`),
    /// then `\s+(?!\S)`, then `\s+`.
    #[inline(always)]
    fn whitespace(&self, i: usize, newlines: bool) -> usize {
        let mut j = i;
        let mut last = i;
        let mut newline_end = 0;
        loop {
            let (c, len) = self.at(j);
            if c & WS == 0 {
                break;
            }
            if c & NL != 0 {
                newline_end = j + 1;
            }
            last = j;
            j += len;
        }
        if newlines && newline_end > i {
            // `\s*` gives back down to the last newline, `[\r\n]+` takes it.
            return newline_end;
        }
        if j == self.b.len() || last == i {
            // At the end nothing needs giving back; a single character fails `\s+(?!\S)` and
            // `\s+` takes it.
            return j;
        }
        last
    }

    /// Byte length of an apostrophe (`'` or `’`) at `i`.
    #[inline(always)]
    fn apostrophe(&self, i: usize) -> Option<usize> {
        match self.b.get(i..).unwrap_or_default() {
            [b'\'', ..] => Some(1),
            [0xE2, 0x80, 0x99, ..] => Some(3),
            _ => None,
        }
    }

    /// GPT-2's `'s|'t|'re|'ve|'m|'ll|'d` at `i` (case-sensitive): where it ends.
    #[inline(always)]
    fn gpt2_contraction(&self, i: usize) -> Option<usize> {
        gpt2_contraction_len(self.b.get(i..).unwrap_or_default()).map(|len| i + len)
    }

    /// `(?i:'s|'t|'re|'ve|'m|'ll|'d)` at `i`: where it ends.
    #[inline(always)]
    fn contraction_ci(&self, i: usize) -> Option<usize> {
        contraction_ci_len(self.b.get(i..).unwrap_or_default()).map(|len| i + len)
    }

    /// The default pattern's `(?:[sdmtSDMT]|ll|ve|re|LL|VE|RE)(?![\p{L}\p{M}])` at `i`.
    #[inline(always)]
    fn default_contraction(&self, i: usize) -> Option<usize> {
        let end = match self.b.get(i..).unwrap_or_default() {
            [b's' | b'd' | b'm' | b't' | b'S' | b'D' | b'M' | b'T', ..] => i + 1,
            [b'l', b'l', ..] | [b'v' | b'r', b'e', ..] | [b'L', b'L', ..] | [b'V' | b'R', b'E', ..] => i + 2,
            _ => return None,
        };
        (self.class(end) & W == 0).then_some(end)
    }

    /// [`GPT2_PATTERN`]: `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`
    fn gpt2_piece(&self, i: usize) -> usize {
        let x = self.b[i];
        if x == b'\'' {
            if let Some(end) = self.gpt2_contraction(i) {
                return end;
            }
        }
        if x == b' ' {
            let next = self.class(i + 1);
            if next & L != 0 {
                return self.run(i + 1, L);
            }
            if next & N != 0 {
                return self.run(i + 1, N);
            }
            if is_other(next) {
                return self.run_other(i + 1);
            }
        }
        let c = self.class(i);
        if c & L != 0 {
            self.run(i, L)
        } else if c & N != 0 {
            self.run(i, N)
        } else if is_other(c) {
            self.run_other(i)
        } else {
            self.whitespace(i, false)
        }
    }

    /// [`CL100K_PATTERN`]: `(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}|
    /// ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`
    fn cl100k_piece(&self, i: usize) -> usize {
        let x = self.b[i];
        if x == b'\'' {
            if let Some(end) = self.contraction_ci(i) {
                return end;
            }
        }
        let (c, len) = self.at(i);
        if c & L != 0 {
            return self.run(i + len, L);
        }
        if is_prefix(c) && self.class(i + len) & L != 0 {
            return self.run(i + len, L);
        }
        if c & N != 0 {
            return self.digits3(i);
        }
        if x == b' ' && is_other(self.class(i + 1)) {
            return self.run(self.run_other(i + 1), NL);
        }
        if is_other(c) {
            return self.run(self.run_other(i + len), NL);
        }
        self.whitespace(i, true)
    }

    /// o200k's first branch without its optional first character:
    /// `[A]*[B]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?` at `s`, with `A` the upper-ish and `B` the
    /// lower-ish class.
    #[inline(always)]
    fn o200k_lower(&self, s: usize) -> Option<usize> {
        let mut q = s;
        // End of the last character of the `A` run that is also in `B`: where `[B]+` ends when
        // `[A]*` has to give characters back.
        let mut last_b_end = None;
        let end = loop {
            let (c, len) = self.at(q);
            if c & UP == 0 {
                if c & LO != 0 {
                    // A lowercase letter follows the whole `A` run.
                    break self.run(q + len, LO);
                }
                break last_b_end?;
            }
            q += len;
            if c & LO != 0 {
                last_b_end = Some(q);
            }
        };
        Some(self.contraction_ci(end).unwrap_or(end))
    }

    /// [`O200K_PATTERN`].
    fn o200k_piece(&self, i: usize) -> usize {
        let (c, len) = self.at(i);
        let prefix = is_prefix(c);
        // [^\r\n\p{L}\p{N}]?[A]*[B]+(?i:…)?  (with the optional character first, then without)
        if prefix {
            if let Some(end) = self.o200k_lower(i + len) {
                return end;
            }
        }
        if c & (UP | LO) != 0 {
            if let Some(end) = self.o200k_lower(i) {
                return end;
            }
        }
        // [^\r\n\p{L}\p{N}]?[A]+[B]*(?i:…)?
        let start = if prefix && self.class(i + len) & UP != 0 {
            Some(i + len)
        } else if c & UP != 0 {
            Some(i)
        } else {
            None
        };
        if let Some(start) = start {
            let end = self.run(self.run(start, UP), LO);
            return self.contraction_ci(end).unwrap_or(end);
        }
        if c & N != 0 {
            return self.digits3(i);
        }
        // ` ?[^\s\p{L}\p{N}]+[\r\n/]*`
        let other_end = if self.b[i] == b' ' && is_other(self.class(i + 1)) {
            Some(self.run_other(i + 1))
        } else if is_other(c) {
            Some(self.run_other(i + len))
        } else {
            None
        };
        if let Some(mut end) = other_end {
            while matches!(self.b.get(end), Some(b'\r' | b'\n' | b'/')) {
                end += 1;
            }
            return end;
        }
        self.whitespace(i, true)
    }

    /// The end of the run of characters having none of `flags`, from `i`.
    #[inline(always)]
    fn run_not(&self, mut i: usize, flags: u8) -> usize {
        loop {
            let (c, len) = self.at(i);
            if c & flags != 0 {
                return i;
            }
            i += len;
        }
    }

    /// [`QWEN2_PATTERN`] (`word` = `\p{L}`, `not_other` = `\s\p{L}\p{N}`) and
    /// [`QWEN35_PATTERN`] (`word` = `[\p{L}\p{M}]`, `not_other` = `\s\p{L}\p{M}\p{N}`):
    /// `(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?WORD+|\p{N}| ?[^NOT_OTHER]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`
    #[inline(always)]
    fn qwen_piece(&self, i: usize, word: u8, not_other: u8) -> usize {
        let x = self.b[i];
        if x == b'\'' {
            if let Some(end) = self.contraction_ci(i) {
                return end;
            }
        }
        let (c, len) = self.at(i);
        // A mark (qwen35) is both a possible leading character and a word character; either
        // way the run ends at the same place.
        if c & word != 0 || (is_prefix(c) && self.class(i + len) & word != 0) {
            return self.run(i + len, word);
        }
        if c & N != 0 {
            return i + len;
        }
        if x == b' ' && self.class(i + 1) & not_other == 0 {
            return self.run(self.run_not(i + 1, not_other), NL);
        }
        if c & not_other == 0 {
            return self.run(self.run_not(i + len, not_other), NL);
        }
        self.whitespace(i, true)
    }

    /// [`DEFAULT_PATTERN`].
    fn default_piece(&self, i: usize) -> usize {
        let (c, len) = self.at(i);
        // The word run of branches 1 and 3: with the optional leading character when a word
        // character follows it, else from `i` (a mark is both a possible leading character and
        // a word character; either way the run ends at the same place).
        let start = if is_prefix(c) && self.class(i + len) & W != 0 {
            Some(i + len)
        } else if c & W != 0 {
            Some(i)
        } else {
            None
        };
        if let Some(start) = start {
            let q = self.run(start, W);
            // 1. Elision: apostrophe, then a word character, but not a final contraction.
            if let Some(apostrophe) = self.apostrophe(q) {
                let r = q + apostrophe;
                if self.class(r) & W != 0 && self.default_contraction(r).is_none() {
                    return r;
                }
            }
            // 2. A contraction at `i` (it starts with a letter, so `start` was set).
            if let Some(apostrophe) = self.apostrophe(i) {
                if let Some(end) = self.default_contraction(i + apostrophe) {
                    return end;
                }
            }
            // 3. The word.
            return q;
        }
        // 4. One digit.
        if c & N != 0 {
            return i + len;
        }
        // 5. ` ?[^\s\p{L}\p{N}]+[\r\n]*`
        if self.b[i] == b' ' && is_other(self.class(i + 1)) {
            return self.run(self.run_other(i + 1), NL);
        }
        if is_other(c) {
            return self.run(self.run_other(i + len), NL);
        }
        self.whitespace(i, true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pretokenize::{Pattern, PreTokenizer};
    use proptest::prelude::*;

    fn pattern(scanner: BuiltinScanner) -> Pattern {
        Pattern::from_regex(scanner.regex())
    }

    fn scanner_pieces(scanner: BuiltinScanner, text: &str) -> Vec<&str> {
        let mut out = Vec::new();
        scanner.split(text, 0, &mut out);
        out.into_iter().map(|r| &text[r]).collect()
    }

    /// The pieces of the regex path (fancy-regex, Isolated split).
    fn regex_pieces<'a>(pre: &PreTokenizer, text: &'a str) -> Vec<&'a str> {
        pre.split(text).unwrap()
    }

    struct Pair {
        scanner: BuiltinScanner,
        fast: PreTokenizer,
        slow: PreTokenizer,
    }

    impl Pair {
        fn new(scanner: BuiltinScanner) -> Self {
            let fast = PreTokenizer::from_pattern(pattern(scanner)).unwrap();
            let slow = PreTokenizer::from_pattern_regex_only(pattern(scanner)).unwrap();
            assert!(fast.uses_scanner() && !slow.uses_scanner());
            Pair { scanner, fast, slow }
        }

        fn check(&self, text: &str) -> std::result::Result<(), String> {
            let expected = regex_pieces(&self.slow, text);
            let direct = scanner_pieces(self.scanner, text);
            let wired = self.fast.split(text).unwrap();
            if direct != expected || wired != expected {
                return Err(format!(
                    "{:?} on {text:?}:\n  regex   {expected:?}\n  scanner {direct:?}\n  wired   {wired:?}",
                    self.scanner
                ));
            }
            Ok(())
        }
    }

    #[test]
    fn for_regex_recognizes_exactly_the_builtins() {
        for s in BuiltinScanner::ALL {
            assert_eq!(BuiltinScanner::for_regex(s.regex()), Some(s));
            assert_eq!(BuiltinScanner::for_regex(&format!("{}|x", s.regex())), None);
        }
        assert_eq!(BuiltinScanner::for_regex(r"\w+"), None);
    }

    /// Every code point gets the flags fancy-regex's classes give it (through `Scan::at`, so
    /// the UTF-8 decoding is checked too).
    #[test]
    fn class_table_agrees_with_fancy_regex_on_every_code_point() {
        let all: String = (0..0x11_0000u32).filter_map(char::from_u32).collect();
        let scan = Scan { b: all.as_bytes(), t: table() };
        let mut flags = Vec::with_capacity(0x11_0000);
        let mut i = 0;
        while i < all.len() {
            let (c, len) = scan.at(i);
            assert_eq!(len, all[i..].chars().next().unwrap().len_utf8());
            flags.push((i, c));
            i += len;
        }
        let classes = [
            (r"\p{L}+", L),
            (r"\p{N}+", N),
            (r"\p{M}+", M),
            (r"\s+", WS),
            (r"[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+", UP),
            (r"[\p{Ll}\p{Lm}\p{Lo}\p{M}]+", LO),
            (r"[\r\n]+", NL),
        ];
        for (class, flag) in classes {
            let mut inside = vec![false; all.len()];
            for m in fancy_regex::Regex::new(class).unwrap().find_iter(&all) {
                let m = m.unwrap();
                inside[m.start()..m.end()].fill(true);
            }
            for &(i, c) in &flags {
                assert_eq!(c & flag != 0, inside[i], "{class} on U+{:04X}", all[i..].chars().next().unwrap() as u32);
            }
        }
    }

    /// The contraction letters fold, under the regex crate's `(?i)`, to exactly the characters
    /// `contraction_ci` accepts.
    #[test]
    fn case_folding_of_contraction_letters() {
        for letter in ['s', 't', 'r', 'e', 'v', 'm', 'l', 'd'] {
            let folded: Vec<char> = match regex_syntax::parse(&format!("(?i:{letter})")).unwrap().kind() {
                HirKind::Class(Class::Unicode(ranges)) => ranges.iter().flat_map(|r| r.start()..=r.end()).collect(),
                other => panic!("{other:?}"),
            };
            let mut expected = vec![letter.to_ascii_uppercase(), letter];
            if letter == 's' {
                expected.push('ſ');
            }
            assert_eq!(folded, expected, "(?i:{letter})");
        }
        // And fancy-regex really treats `'ſ` and `'S` as contractions in cl100k and o200k.
        // (o200k glues a contraction to the word before it, cl100k cuts it off.)
        let cl100k = Pair::new(BuiltinScanner::Cl100k);
        assert_eq!(regex_pieces(&cl100k.slow, "x'ſ X'S x'ʃ"), ["x", "'ſ", " X", "'S", " x", "'ʃ"]);
        let o200k = Pair::new(BuiltinScanner::O200k);
        assert_eq!(regex_pieces(&o200k.slow, "x'ſ X'S x'ʃ"), ["x'ſ", " X'S", " x", "'ʃ"]);
        for pair in [cl100k, o200k] {
            pair.check("x'ſ X'S x'ʃ it'\u{212A} 'ſſ").unwrap();
        }
        // GPT-2's contractions are case-sensitive.
        assert_eq!(regex_pieces(&Pair::new(BuiltinScanner::Gpt2).slow, "X'S x's"), ["X", "'", "S", " x", "'s"]);
    }

    #[test]
    fn known_tricky_cases() {
        let cases = [
            "",
            " ",
            "a",
            "  a",
            "   ",
            "a  \n  b",
            " \r\n\r\n  x",
            "\u{a0}\u{a0}x",
            "x\u{2028}\u{85} y",
            "ʰA",
            " ʰA",
            "ʰAʰAA's",
            "\u{301}A",
            "\u{301}\u{301}a",
            "!\u{301}a",
            "HELLOworld'S",
            "l'homme d’État dell'arte qu'il aujourd'hui",
            "don't we're John's the 'sun' DON’T it'Ll it's'",
            "ſouvent ſ'il",
            "a'\u{301}x '\u{364}",
            "in 1789, ١٢٣٤٥ Ⅻ½",
            "!!\n\n/x ?/\r\n",
            "x\t\t'll",
            "\0\0 \0",
            "中文字 ǅemal ǅ",
            "ʰʰ's ʰ'S",
        ];
        for s in BuiltinScanner::ALL {
            let pair = Pair::new(s);
            for text in cases {
                pair.check(text).unwrap();
            }
        }
    }

    #[test]
    fn ascii_letter_runs_end_where_the_regex_ends_them() {
        // The letter runs taken eight bytes at a time: every run length around the word size,
        // ended by each kind of character (non-ASCII letters and marks continue the run).
        let ends = ["", "é", "ß", "\u{301}", "ʰ", "中", "1", "٣", " ", "\n", "!", "'s", "'S", "’ll", "_", "@", "[", "`", "{", "\u{7f}", "😀"];
        for s in BuiltinScanner::ALL {
            let pair = Pair::new(s);
            for k in 0..20 {
                for end in ends {
                    let word = "aZ".repeat(k / 2) + &"q".repeat(k % 2);
                    let lower = "z".repeat(k);
                    let upper_then_lower = "Q".repeat(k % 3) + &"ab".repeat(k / 2);
                    for text in [
                        format!("{word}{end}{word}"),
                        format!(" {word}{end} {word}x"),
                        format!("!{word}{end}"),
                        format!(" {lower}{end}{lower}A{lower}"),
                        format!("{upper_then_lower}{end}{upper_then_lower}"),
                    ] {
                        pair.check(&text).unwrap();
                    }
                }
            }
        }
    }

    /// Every tricky case placed at every distance from a 64-byte window's edge, after text of
    /// each class (the windowed scanners decide 64 bytes at a time).
    #[test]
    fn window_edges_fall_anywhere() {
        let cases = [
            "don't", "x'ſa", " 'tis", "!\n \n\tx", "  \r\n  y", "12345678", " .abc", "\t.x", "a  b", "a\u{a0}b",
            "é'll", "l'homme", "x  ", "«x»", "!!\n\nz",
        ];
        let fills = ["ab", " ", "!", "7", "\n", "é"];
        let pairs: Vec<Pair> = BuiltinScanner::ALL.into_iter().map(Pair::new).collect();
        for fill in fills {
            for k in 0..68 {
                let head = fill.repeat(k);
                for case in cases {
                    for pair in &pairs {
                        pair.check(&format!("{head}{case}")).unwrap();
                        pair.check(&format!("{head}{case}{head}{case}x")).unwrap();
                    }
                }
            }
        }
    }

    /// Mostly ASCII, longer than a window: windows end inside runs of every class.
    fn long_text() -> impl Strategy<Value = String> {
        let piece = prop_oneof![
            6 => prop::sample::select(&CHARS[..40]).prop_map(String::from),
            3 => prop::sample::select(&["word", "Some", " the", "   ", "\n    ", "123456", "...", "é", "ß", "x'", "'s"][..])
                .prop_map(String::from),
            2 => prop::sample::select(FRAGMENTS).prop_map(String::from),
            1 => prop::sample::select(CHARS).prop_map(String::from),
        ];
        prop::collection::vec(piece, 20..300).prop_map(|v| v.concat())
    }

    #[test]
    fn prop_long_texts_equal_regex() {
        let pairs: Vec<Pair> = BuiltinScanner::ALL.into_iter().map(Pair::new).collect();
        let config = ProptestConfig { cases: 400, failure_persistence: None, ..ProptestConfig::default() };
        proptest!(config, |(text in long_text())| {
            for pair in &pairs {
                if let Err(message) = pair.check(&text) {
                    prop_assert!(false, "{}", message);
                }
            }
        });
    }

    /// Characters that exercise every branch: contraction letters, both apostrophes, marks,
    /// letters of all cases, digits of other scripts, unusual whitespace.
    const CHARS: &[char] = &[
        'a', 'b', 'z', 'A', 'Z', 's', 't', 'd', 'm', 'l', 'v', 'e', 'r', 'S', 'T', 'D', 'M', 'L', 'V', 'E', 'R',
        '0', '7', ' ', ' ', ' ', ' ', '\t', '\r', '\n', '\'', '\'', '’', '’', 'ſ', '\u{212A}', '\u{301}', '\u{364}',
        'É', 'é', 'ß', 'Ω', 'ω', 'ж', 'Ж', '中', 'ǅ', 'ʰ', 'ª', 'ー', '٣', 'Ⅻ', '½', '.', ',', '!', '?', '-', '/',
        '(', '"', '_', '#', '😀', '🎉', '\u{a0}', '\u{2028}', '\u{85}', '\u{b}', '\u{1f}', '\u{200b}', '\u{3000}',
        '\0',
    ];

    /// Whole fragments, so that contractions and elisions appear often.
    const FRAGMENTS: &[&str] = &[
        "'s", "'S", "’s", "'t", "'re", "'RE", "'Re", "’ve", "'m", "'ll", "'LL", "'lL", "'d", "'ſ", "n't", "l'", "qu'",
        "  ", "\r\n", "\n\n", "    ", "ing", "ABC", "ʰA", "é", "e\u{301}",
    ];

    fn mixed_text() -> impl Strategy<Value = String> {
        let piece = prop_oneof![
            6 => prop::sample::select(CHARS).prop_map(String::from),
            2 => prop::sample::select(FRAGMENTS).prop_map(String::from),
            1 => any::<char>().prop_map(String::from),
        ];
        prop::collection::vec(piece, 0..48).prop_map(|v| v.concat())
    }

    fn text() -> impl Strategy<Value = String> {
        prop_oneof![4 => mixed_text(), 1 => any::<String>()]
    }

    fn prop_check(scanner: BuiltinScanner) {
        let pair = Pair::new(scanner);
        let config = ProptestConfig { cases: 2500, failure_persistence: None, ..ProptestConfig::default() };
        proptest!(config, |(text in text())| {
            if let Err(message) = pair.check(&text) {
                prop_assert!(false, "{}", message);
            }
        });
    }

    #[test]
    fn prop_default_equals_regex() {
        prop_check(BuiltinScanner::Default);
    }

    #[test]
    fn prop_cl100k_equals_regex() {
        prop_check(BuiltinScanner::Cl100k);
    }

    #[test]
    fn prop_gpt2_equals_regex() {
        prop_check(BuiltinScanner::Gpt2);
    }

    #[test]
    fn prop_qwen2_equals_regex() {
        prop_check(BuiltinScanner::Qwen2);
    }

    #[test]
    fn prop_qwen35_equals_regex() {
        prop_check(BuiltinScanner::Qwen35);
    }

    #[test]
    fn prop_o200k_equals_regex() {
        prop_check(BuiltinScanner::O200k);
    }

    /// `../shared/corpus` (or `$POLYBPE_SHARED/corpus`), when present.
    fn shared_corpus() -> Option<std::path::PathBuf> {
        let shared = std::env::var_os("POLYBPE_SHARED")
            .map(std::path::PathBuf::from)
            .unwrap_or_else(|| std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared"));
        let corpus = shared.join("corpus");
        corpus.join("train").is_dir().then_some(corpus)
    }

    fn text_files(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
        let Ok(entries) = std::fs::read_dir(dir) else { return Vec::new() };
        let mut files: Vec<_> =
            entries.map(|e| e.unwrap().path()).filter(|p| p.extension().is_some_and(|x| x == "txt")).collect();
        files.sort();
        files
    }

    /// The first `limit` bytes of a file, cut back to a character boundary.
    fn head(path: &std::path::Path, limit: usize) -> String {
        use std::io::Read;
        let mut bytes = Vec::new();
        std::fs::File::open(path).unwrap().take(limit as u64).read_to_end(&mut bytes).unwrap();
        match String::from_utf8(bytes) {
            Ok(text) => text,
            Err(e) => {
                let valid = e.utf8_error().valid_up_to();
                let mut bytes = e.into_bytes();
                bytes.truncate(valid);
                String::from_utf8(bytes).unwrap()
            }
        }
    }

    #[test]
    fn real_corpus_equals_regex() {
        let Some(corpus) = shared_corpus() else { return };
        let mut texts: Vec<(std::path::PathBuf, String)> = Vec::new();
        for path in text_files(&corpus.join("train")) {
            texts.push((path.clone(), head(&path, 200_000)));
        }
        for path in text_files(&corpus.join("parallel")) {
            texts.push((path.clone(), std::fs::read_to_string(&path).unwrap()));
        }
        for s in BuiltinScanner::ALL {
            let pair = Pair::new(s);
            for (path, text) in &texts {
                let expected = regex_pieces(&pair.slow, text);
                let got = pair.fast.split(text).unwrap();
                if got != expected {
                    let at = got.iter().zip(&expected).position(|(a, b)| a != b).unwrap_or(got.len().min(expected.len()));
                    let lo = at.saturating_sub(3);
                    panic!(
                        "{s:?} differs on {} at piece {at}:\n  regex   {:?}\n  scanner {:?}",
                        path.display(),
                        &expected[lo..(at + 3).min(expected.len())],
                        &got[lo..(at + 3).min(got.len())]
                    );
                }
            }
        }
    }
}
