//! The built-in patterns, 64 bytes at a time: piece starts from bit masks.
//!
//! The scanner's `*_piece` functions decide each piece with a chain of branches (a letter? a
//! prefix? digits? whitespace?) that text makes unpredictable, so most of their time goes to
//! mispredictions rather than work. Here a window of 64 bytes is classified at once (AVX-512BW or
//! SSE2 on x86-64, a byte loop elsewhere) into one mask per class, the set of piece starts is derived from
//! the masks with bit algebra that follows each regex's alternatives, and the pieces are handed
//! out by a `trailing_zeros` loop. Measured on 1 MB of each of en, fr, de, pl and code, one line
//! per document (`benches/RESULTS.md`): cl100k 486 → 759 MB/s, GPT-2 495 → 850, the default
//! pattern 443 → 668.
//!
//! Letters of any script are classified through the scanner's table and join the letter mask
//! (for o200k, only those that are small or capital, not both); any other non-ASCII character
//! ends what a window may decide, as do the default pattern's apostrophes (its elision rules)
//! and o200k's slashes after a newline (`[\r\n/]*`). The scalar scanner then takes the text up
//! to past that character.
//!
//! A window only hands out pieces whose end is certain: those ending at or before the start of
//! the last run of characters of one class, the run that reaches the window's edge (or the
//! character that stopped it), because how that run is cut can depend on what follows it. At the
//! end of the text everything is certain.

use std::ops::Range;

use super::{contraction_ci_len, decode_multibyte, gpt2_contraction_len, Scan, L, LO, UP};

/// Bytes classified at once.
const WIDTH: usize = 64;

/// The patterns a window can decide.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Family {
    /// cl100k: digits three at a time.
    Cl100k,
    /// Qwen2 and Qwen 3.5: one digit at a time (they differ only on combining marks, which no
    /// window decides).
    Qwen,
    /// polybpe's default: Qwen 3.5's rules where there is no apostrophe (windows stop at them:
    /// the elision rules stay scalar).
    Default,
    /// GPT-2.
    Gpt2,
    /// o200k: cl100k's rules, words cut where a capital follows a small letter, contractions
    /// at the end of words.
    O200k,
}

/// One bit per byte of a window (bit `j` is byte `j`), for each ASCII class.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct ByteMasks {
    /// `[A-Za-z]`
    letter: u64,
    /// `[a-z]`
    lower: u64,
    /// `[0-9]`
    digit: u64,
    /// ASCII `\s`: `\t \n \v \f \r` and the space.
    space: u64,
    /// `\r` and `\n`.
    newline: u64,
    /// The space U+0020 alone (the ` ?` of the punctuation branch).
    blank: u64,
    /// `'`
    apostrophe: u64,
    /// `/`
    slash: u64,
    /// Bytes of 0x80 and above.
    high: u64,
    /// UTF-8 continuation bytes (0x80..=0xBF).
    continuation: u64,
}

/// Classifies 64 bytes: with AVX-512BW where the CPU has it (one 64-byte register, each class
/// a compare that yields its mask directly), else 16 at a time with SSE2 (part of every x86-64
/// CPU). AVX-512BW against SSE2, interleaved binaries, best of 3 runs (`benches/RESULTS.md`):
/// the split alone (`split_lines`, lines of 1 MB of each of en, fr, de, pl, code) GPT-2 805 →
/// 910–937 MB/s, cl100k 681 → 772–796, the default pattern 629 → 714–717; encoding
/// (`encode_lines`, GPT-2, 77,663 lines) 198–204 → 211–213.
#[cfg(target_arch = "x86_64")]
#[inline]
fn classify(bytes: &[u8; WIDTH]) -> ByteMasks {
    if std::arch::is_x86_feature_detected!("avx512bw") {
        // SAFETY: the CPU has AVX-512BW (checked just above; the answer is cached).
        unsafe { classify_avx512(bytes) }
    } else {
        classify_sse2(bytes)
    }
}

/// [`classify`] with AVX-512BW.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512bw")]
fn classify_avx512(bytes: &[u8; WIDTH]) -> ByteMasks {
    use std::arch::x86_64::*;
    let splat = |byte: u8| _mm512_set1_epi8(byte as i8);
    // SAFETY: the load reads the 64 bytes of the array.
    let v = unsafe { _mm512_loadu_si512(bytes.as_ptr().cast()) };
    // Bytes in `low..=low + width` (one unsigned compare after a subtraction).
    let in_range = |v: __m512i, low: u8, width: u8| _mm512_cmple_epu8_mask(_mm512_sub_epi8(v, splat(low)), splat(width));
    let is = |byte: u8| _mm512_cmpeq_epi8_mask(v, splat(byte));
    let blank = is(b' ');
    ByteMasks {
        letter: in_range(_mm512_or_si512(v, splat(0x20)), b'a', 25),
        lower: in_range(v, b'a', 25),
        digit: in_range(v, b'0', 9),
        space: in_range(v, 9, 4) | blank,
        newline: is(b'\r') | is(b'\n'),
        blank,
        apostrophe: is(b'\''),
        slash: is(b'/'),
        high: _mm512_movepi8_mask(v),
        continuation: in_range(v, 0x80, 0x3F),
    }
}

/// [`classify`] with SSE2.
#[cfg(target_arch = "x86_64")]
fn classify_sse2(bytes: &[u8; WIDTH]) -> ByteMasks {
    use std::arch::x86_64::*;
    // SAFETY: SSE2 is in the x86-64 baseline, and every load reads 16 of the 64 bytes.
    unsafe {
        let at_most = |v: __m128i, limit: i8| _mm_cmpeq_epi8(_mm_min_epu8(v, _mm_set1_epi8(limit)), v);
        let is = |v: __m128i, byte: u8| _mm_cmpeq_epi8(v, _mm_set1_epi8(byte as i8));
        let bits = |v: __m128i, k: usize| u64::from(_mm_movemask_epi8(v) as u16) << (16 * k);
        let mut m = ByteMasks::default();
        for k in 0..WIDTH / 16 {
            let v = _mm_loadu_si128(bytes.as_ptr().add(16 * k).cast());
            let lower = _mm_or_si128(v, _mm_set1_epi8(0x20));
            m.letter |= bits(at_most(_mm_sub_epi8(lower, _mm_set1_epi8(b'a' as i8)), 25), k);
            m.lower |= bits(at_most(_mm_sub_epi8(v, _mm_set1_epi8(b'a' as i8)), 25), k);
            m.digit |= bits(at_most(_mm_sub_epi8(v, _mm_set1_epi8(b'0' as i8)), 9), k);
            let blank = is(v, b' ');
            m.space |= bits(_mm_or_si128(at_most(_mm_sub_epi8(v, _mm_set1_epi8(9)), 4), blank), k);
            m.newline |= bits(_mm_or_si128(is(v, b'\r'), is(v, b'\n')), k);
            m.blank |= bits(blank, k);
            m.apostrophe |= bits(is(v, b'\''), k);
            m.slash |= bits(is(v, b'/'), k);
            m.high |= bits(v, k);
            m.continuation |= bits(at_most(_mm_sub_epi8(v, _mm_set1_epi8(0x80u8 as i8)), 0x3F), k);
        }
        m
    }
}

/// Classifies 64 bytes one at a time (other targets; also the reference the SIMD path is tested
/// against).
#[cfg_attr(target_arch = "x86_64", allow(dead_code))]
fn classify_bytewise(bytes: &[u8; WIDTH]) -> ByteMasks {
    let mut m = ByteMasks::default();
    for (j, &x) in bytes.iter().enumerate() {
        let bit = 1u64 << j;
        let set = |mask: &mut u64, yes: bool| *mask |= if yes { bit } else { 0 };
        set(&mut m.letter, x.is_ascii_alphabetic());
        set(&mut m.lower, x.is_ascii_lowercase());
        set(&mut m.digit, x.is_ascii_digit());
        set(&mut m.space, matches!(x, b'\t'..=b'\r' | b' '));
        set(&mut m.newline, matches!(x, b'\r' | b'\n'));
        set(&mut m.blank, x == b' ');
        set(&mut m.apostrophe, x == b'\'');
        set(&mut m.slash, x == b'/');
        set(&mut m.high, x >= 0x80);
        set(&mut m.continuation, (0x80..0xC0).contains(&x));
    }
    m
}

#[cfg(not(target_arch = "x86_64"))]
use classify_bytewise as classify;

/// What a window decided.
struct Decided {
    /// Piece starts (bit `j`: a piece starts at byte `j`), bit 0 included; only those up to
    /// `certain` count.
    starts: u64,
    /// Pieces ending at or before this byte are certain.
    certain: usize,
    /// The byte of a character the window could not classify, if that is what stopped it.
    stopped_at: Option<usize>,
    /// The window reaches the end of the text and decided all of it.
    at_end: bool,
}

/// The bits below `n` (all of them for 64).
#[inline(always)]
fn below(n: usize) -> u64 {
    if n >= 64 {
        u64::MAX
    } else {
        (1u64 << n) - 1
    }
}

/// Byte length of a contraction at `bytes[at]`, if there is one: in any case (cl100k, Qwen,
/// o200k) or GPT-2's lowercase ones.
#[inline(always)]
fn contraction(bytes: &[u8], at: usize, any_case: bool) -> Option<usize> {
    let text = bytes.get(at..).unwrap_or_default();
    if any_case {
        contraction_ci_len(text)
    } else {
        gpt2_contraction_len(text)
    }
}

/// The classes of the bytes a window can decide: those before `cut`, the first byte it could not
/// classify (or the end of the window).
struct Classes {
    /// Letters, ASCII or not (all bytes of a character).
    letter: u64,
    /// Small letters (`\p{Ll}`; o200k only).
    lower: u64,
    digit: u64,
    /// `\s`
    space: u64,
    newline: u64,
    /// U+0020
    blank: u64,
    /// Neither letter, digit nor whitespace.
    other: u64,
    /// Apostrophes (raw: also those past the cut).
    apostrophe: u64,
    /// Bytes of the text in the window.
    n: usize,
    cut: usize,
    /// The text ends at `n`, and every byte before it is classified.
    at_end: bool,
}

impl Classes {
    /// Classifies the `n` bytes of `bytes` (the rest is zero padding); `ends` says that the text
    /// ends after them. Non-ASCII letters join the letter mask, up to the first other non-ASCII
    /// character.
    #[inline(always)]
    fn of(scan: &Scan, family: Family, bytes: &[u8; WIDTH], n: usize, ends: bool) -> Classes {
        let m = classify(bytes);
        let valid = below(n);
        let mut letter = m.letter;
        let mut lower = m.lower;
        let mut unclassified = m.high & valid;
        let mut leads = unclassified & !m.continuation;
        while leads != 0 {
            let j = leads.trailing_zeros() as usize;
            let (flags, len) = scan.at_window(bytes, j);
            // o200k tells small letters from capitals; `\p{Lm}` and `\p{Lo}` are both.
            let case = flags & (UP | LO);
            if j + len > n || flags & L == 0 || (family == Family::O200k && case == UP | LO) {
                break;
            }
            let char_bits = below(len) << j;
            letter |= char_bits;
            if case == LO {
                lower |= char_bits;
            }
            unclassified &= !char_bits;
            leads &= leads - 1;
        }
        match family {
            Family::Default => unclassified |= m.apostrophe & valid,
            // `[\r\n/]*` after punctuation takes slashes after newlines; left to the scalar scanner.
            Family::O200k => unclassified |= m.slash & (m.newline << 1) & valid,
            _ => {}
        }
        let cut = (unclassified.trailing_zeros() as usize).min(n);
        let known = below(cut);
        let (letter, digit, space) = (letter & known, m.digit & known, m.space & known);
        Classes {
            letter,
            lower: lower & known,
            digit,
            space,
            newline: m.newline & known,
            blank: m.blank & known,
            other: known & !(letter | digit | space),
            apostrophe: m.apostrophe,
            n,
            cut,
            at_end: ends && cut == n,
        }
    }

    /// The last byte of the text, when it is in the window (a whitespace run ending there keeps
    /// its last character: `(?!\S)` holds at the end).
    #[inline(always)]
    fn last_of_text(&self) -> u64 {
        if self.at_end {
            1u64 << (self.n - 1)
        } else {
            0
        }
    }

    /// Piece starts under cl100k, Qwen2, Qwen 3.5 and the default pattern:
    /// `(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`
    /// (one digit at a time but for cl100k; the default pattern's apostrophes never get here).
    #[inline(always)]
    fn cl100k_starts(&self, family: Family, bytes: &[u8]) -> u64 {
        let (mut starts, other_starts) = self.cl100k_non_letter_starts(family == Family::Cl100k);
        let letter = self.letter;
        let mut prefix = self.letter_prefixes(other_starts);
        let contracted = self.contractions(other_starts & (letter >> 1), bytes, true, &mut starts);
        prefix &= !(contracted >> 1);
        starts | (letter & !(letter << 1) & !(prefix << 1) & !contracted)
    }

    /// Piece starts under o200k: cl100k's, with `[A]*[B]+|[A]+[B]*` (capitals then small
    /// letters) for words, and the contractions at their end.
    #[inline(always)]
    fn o200k_starts(&self, bytes: &[u8]) -> u64 {
        let (mut starts, other_starts) = self.cl100k_non_letter_starts(true);
        let Classes { letter, lower, .. } = *self;
        let prefix = self.letter_prefixes(other_starts);
        starts |= letter & !(letter << 1) & !(prefix << 1);
        starts |= letter & !lower & (lower << 1);
        // A word takes the contraction after it (not a word that ends in one already): nothing
        // in the contraction starts a piece.
        let mut quotes = self.apostrophe & (letter << 1) & (letter >> 1);
        let mut taken = 0u64;
        while quotes != 0 {
            let j = quotes.trailing_zeros() as usize;
            if taken >> (j - 1) & 1 == 0 {
                if let Some(len) = contraction(&bytes[..self.n], j, true) {
                    let contraction_bits = below(len) << j;
                    taken |= contraction_bits;
                    starts &= !contraction_bits;
                    starts |= 1u64.checked_shl((j + len) as u32).unwrap_or(0);
                }
            }
            quotes &= quotes - 1;
        }
        starts
    }

    /// The characters before letter runs that `[^\r\n\p{L}\p{N}]?` takes: a whitespace
    /// character (the last of its run, so it starts a piece), or a punctuation character that
    /// starts a piece alone.
    #[inline(always)]
    fn letter_prefixes(&self, other_starts: u64) -> u64 {
        let inline_space = self.space & !self.newline;
        ((other_starts | inline_space) & (self.letter >> 1)) & below(self.cut)
    }

    /// The piece starts of cl100k's rules but for letters, and the punctuation runs that start
    /// a piece.
    #[inline(always)]
    fn cl100k_non_letter_starts(&self, digits_by_three: bool) -> (u64, u64) {
        let Classes { digit, space, newline, blank, other, .. } = *self;
        let inline_space = space & !newline;
        let mut starts = 1u64;

        // Whitespace runs. `\s*[\r\n]+` takes a run up to its last newline; after a punctuation
        // run, `[\r\n]*` has already taken the newlines at the run's start.
        let space_first = space & !(space << 1);
        let space_last = space & !(space >> 1);
        let absorbed = space_first & (other << 1) & newline;
        starts |= space_first & !absorbed;
        starts |= newline.wrapping_add(absorbed) & !newline & below(self.cut);
        // The last newline of each run: the first one of the reversed run.
        let (run_r, newline_r) = (space.reverse_bits(), newline.reverse_bits());
        let first_newline_r = (run_r & !newline_r).wrapping_add(run_r & !(run_r << 1)) & newline_r;
        starts |= first_newline_r.reverse_bits() << 1;
        // `\s+(?!\S)` leaves the last character of a run to what follows.
        starts |= space_last & inline_space & !self.last_of_text();
        // After a run: that last character is a prefix of letters, or ` ` + punctuation.
        let after_space = (space << 1) & !space & below(self.cut);
        starts |= after_space & (newline << 1);
        starts |= after_space & (inline_space << 1) & (digit | (other & !(blank << 1)));

        // Digits.
        let digit_first = digit & !(digit << 1);
        if digits_by_three {
            starts |= digit_first;
            let mut runs = digit_first;
            while runs != 0 {
                let first = runs.trailing_zeros() as usize;
                let len = (!(digit >> first)).trailing_zeros() as usize;
                for k in (3..len).step_by(3) {
                    starts |= 1u64 << (first + k);
                }
                runs &= runs - 1;
            }
        } else {
            starts |= digit;
        }

        // Punctuation runs start a piece unless a space before them does (` ?[^\s\p{L}\p{N}]+`).
        let other_first = other & !(other << 1);
        let other_starts = other_first & !(blank << 1);
        (starts | other_starts, other_starts)
    }

    /// Piece starts under GPT-2's `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`.
    #[inline(always)]
    fn gpt2_starts(&self, bytes: &[u8]) -> u64 {
        let Classes { letter, digit, space, blank, other, .. } = *self;
        // A whitespace run starts a piece and leaves its last character to what follows; a
        // space goes with the word, number or punctuation after it.
        let mut starts = 1 | (space & !(space << 1)) | (space & !(space >> 1) & !self.last_of_text());
        let first = |class: u64| class & !(class << 1) & !(blank << 1);
        let other_starts = first(other);
        let contracted = self.contractions(other_starts & (letter >> 1), bytes, false, &mut starts);
        starts | first(letter) & !contracted | first(digit) | other_starts
    }

    /// The contractions at the apostrophes among `candidates` (piece starts before a letter):
    /// marks where each ends in `starts`, and returns the first letters they take.
    #[inline(always)]
    fn contractions(&self, candidates: u64, bytes: &[u8], any_case: bool, starts: &mut u64) -> u64 {
        let mut quotes = candidates & self.apostrophe;
        let mut contracted = 0u64;
        while quotes != 0 {
            let j = quotes.trailing_zeros() as usize;
            if let Some(len) = contraction(&bytes[..self.n], j, any_case) {
                contracted |= 1u64 << (j + 1);
                *starts |= 1u64.checked_shl((j + len) as u32).unwrap_or(0);
            }
            quotes &= quotes - 1;
        }
        contracted
    }

    /// What the window decided, given its piece starts.
    #[inline(always)]
    fn decided(&self, family: Family, starts: u64) -> Decided {
        // (Rules that mark the byte after a piece may have marked the end of the text.)
        let starts = starts & below(self.n);
        if self.at_end {
            return Decided { starts, certain: self.n, stopped_at: None, at_end: true };
        }
        // The run of one class that reaches the cut: where it starts. Whether a piece starts
        // there depends on the two characters before it, known, and after an apostrophe on the
        // letters of a contraction, which may be past the window.
        let last = self.cut - 1;
        let class = [self.letter, self.digit, self.space, self.other].into_iter().find(|c| c >> last & 1 != 0).unwrap_or(0);
        let outside = !class & below(last);
        let run_start = if outside == 0 { 0 } else { 64 - outside.leading_zeros() as usize };
        let after_apostrophe = run_start > 0 && self.apostrophe >> (run_start - 1) & 1 != 0;
        let mut certain = run_start - usize::from(after_apostrophe);
        // o200k: the word before an apostrophe may take a contraction past the window.
        let word_before_apostrophe = certain > 0 && (self.apostrophe & (self.letter << 1)) >> certain & 1 != 0;
        if family == Family::O200k && word_before_apostrophe {
            let earlier = starts & below(certain);
            certain = if earlier == 0 { 0 } else { 63 - earlier.leading_zeros() as usize };
        }
        Decided { starts, certain, stopped_at: (self.cut < self.n).then_some(self.cut), at_end: false }
    }
}

/// Decides the piece starts of the `n` bytes of `bytes` (the rest is zero padding); `ends` says
/// that the text ends after them. Byte 0 starts a piece.
#[inline(always)]
fn decide(scan: &Scan, family: Family, bytes: &[u8; WIDTH], n: usize, ends: bool) -> Decided {
    let classes = Classes::of(scan, family, bytes, n, ends);
    if classes.cut == 0 {
        return Decided { starts: 1, certain: 0, stopped_at: Some(0), at_end: false };
    }
    let starts = match family {
        Family::Gpt2 => classes.gpt2_starts(bytes),
        Family::O200k => classes.o200k_starts(bytes),
        _ => classes.cl100k_starts(family, bytes),
    };
    classes.decided(family, starts)
}

impl Scan<'_> {
    /// Flags and UTF-8 length of the non-ASCII character that starts at `bytes[j]` (a window;
    /// bytes past the text are zero, which ends no character early: the caller checks the
    /// length against the text).
    #[inline(always)]
    fn at_window(&self, bytes: &[u8; WIDTH], j: usize) -> (u8, usize) {
        let (cp, len) = decode_multibyte(bytes[j], |k| *bytes.get(j + k).unwrap_or(&0));
        (*self.t.get(cp as usize).unwrap_or(&0), len)
    }

    /// The pieces of the text, a window at a time, with `piece` (the scalar scanner of the same
    /// pattern) where a window cannot decide; from the start of the text to the first piece
    /// boundary at or past `stop` (a window's pieces are all kept), which it returns.
    pub(super) fn run_windows(
        &self,
        family: Family,
        offset: usize,
        stop: usize,
        out: &mut Vec<Range<usize>>,
        piece: impl Fn(&Self, usize) -> usize,
    ) -> usize {
        let b = self.b;
        let mut padded = [0u8; WIDTH];
        let mut i = 0;
        while i < b.len() {
            if i >= stop {
                return i;
            }
            let rest = &b[i..];
            let n = rest.len().min(WIDTH);
            let window: &[u8; WIDTH] = match rest.first_chunk::<WIDTH>() {
                Some(window) => window,
                None => {
                    padded[..n].copy_from_slice(rest);
                    padded[n..].fill(0);
                    &padded
                }
            };
            let decided = decide(self, family, window, n, rest.len() <= WIDTH);
            let mut starts = decided.starts & below(decided.certain + 1) & !1;
            let mut start = 0;
            while starts != 0 {
                let end = starts.trailing_zeros() as usize;
                out.push(offset + i + start..offset + i + end);
                start = end;
                starts &= starts - 1;
            }
            if decided.at_end {
                out.push(offset + i + start..offset + b.len());
                return b.len();
            }
            i += start;
            if start > 0 && decided.stopped_at.is_none() {
                continue;
            }
            // The scalar scanner takes at least one piece, and goes past a character the window
            // could not classify.
            let past = i + decided.stopped_at.map_or(0, |cut| cut - start);
            loop {
                let end = piece(self, i);
                debug_assert!(end > i && end <= b.len());
                out.push(offset + i..offset + end);
                i = end;
                if i > past || i >= b.len() {
                    break;
                }
            }
        }
        i
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn simd_classes_equal_the_bytewise_ones() {
        let mut bytes = [0u8; WIDTH];
        for start in (0..=255u8).step_by(WIDTH) {
            for (j, b) in bytes.iter_mut().enumerate() {
                *b = start.wrapping_add(j as u8);
            }
            assert_eq!(classify(&bytes), classify_bytewise(&bytes));
            #[cfg(target_arch = "x86_64")]
            {
                assert_eq!(classify_sse2(&bytes), classify_bytewise(&bytes));
                if std::arch::is_x86_feature_detected!("avx512bw") {
                    // SAFETY: the CPU has AVX-512BW.
                    assert_eq!(unsafe { classify_avx512(&bytes) }, classify_bytewise(&bytes));
                }
            }
        }
    }

    /// The ASCII classes are the scanner table's: the window and the scalar scanner agree on
    /// what a letter, a digit or whitespace is.
    #[test]
    fn ascii_classes_are_the_tables() {
        let t = super::super::table();
        let mut bytes = [0u8; WIDTH];
        for start in [0u8, 64] {
            for (j, b) in bytes.iter_mut().enumerate() {
                *b = start + j as u8;
            }
            let m = classify(&bytes);
            for j in 0..WIDTH {
                let flags = t[usize::from(bytes[j])];
                let bit = |mask: u64| mask >> j & 1 != 0;
                assert_eq!(bit(m.letter), flags & L != 0, "{j}");
                assert_eq!(bit(m.digit), flags & super::super::N != 0, "{j}");
                assert_eq!(bit(m.space), flags & super::super::WS != 0, "{j}");
                assert_eq!(bit(m.newline), flags & super::super::NL != 0, "{j}");
            }
        }
    }
}
