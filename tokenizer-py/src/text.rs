//! Python strings read as UTF-8 for the encoder.
//!
//! CPython keeps a string as one, two or four bytes per character (PEP 393) and makes its UTF-8
//! form only when asked, with an encoder that ran at 460–820 MB/s on the non-ASCII text of the
//! corpus (`str.encode` on the first megabyte of each `../shared/corpus/train` file; the code
//! file, ASCII, at 10 GB/s), holding the GIL. So ASCII strings, which are their own UTF-8, and
//! strings whose UTF-8 CPython already made are borrowed; strings of one or two bytes per
//! character are converted here with `encoding_rs` (1.1–1.4 GB/s on the same text from two
//! bytes per character, 1.9–2.5 from one, on one thread) once the GIL is released, a long one
//! on every thread; the rest (four bytes per character, or lone surrogates, which UTF-8 cannot
//! hold and CPython refuses) go through CPython as before.

use std::borrow::Cow;
use std::cell::RefCell;
use std::ops::Range;

use pyo3::prelude::*;
use pyo3::types::PyString;

/// The characters of a Python string, borrowed from it (valid while the string lives).
#[derive(Clone, Copy, Debug)]
pub enum Text<'a> {
    /// Already UTF-8 (ASCII, or made by CPython).
    Utf8(&'a str),
    /// One byte per character: U+0000 to U+00FF.
    Latin1(&'a [u8]),
    /// Two bytes per character, none of them a surrogate: U+0000 to U+FFFF.
    Ucs2(&'a [u16]),
}

/// Whether any of `units` is a surrogate (a character of its own in a Python string). Folded
/// without stopping early, so that it runs as vector code: an `any` took as long as the
/// conversion.
fn has_surrogate(units: &[u16]) -> bool {
    units.chunks(1024).any(|chunk| chunk.iter().fold(0u8, |seen, &unit| seen | (unit.wrapping_sub(0xD800) < 0x800) as u8) != 0)
}

impl<'a> Text<'a> {
    /// Reads `text` where CPython keeps it.
    #[cfg(not(any(Py_LIMITED_API, PyPy, GraalPy)))]
    pub fn of(text: &'a Bound<'_, PyString>) -> PyResult<Text<'a>> {
        use pyo3::ffi;
        let op = text.as_ptr();
        // SAFETY: `op` is a live str for 'a (borrowed from `text`), and str objects never
        // change: its character data (and the UTF-8 CPython made of it, valid UTF-8, freed only
        // with the string) stays where it is, with the kind and lengths read here. Before 3.12
        // a string made by the old C API may first need its compact form (`PyUnicode_READY`,
        // which sets an exception when it fails).
        unsafe {
            #[cfg(not(Py_3_12))]
            if ffi::PyUnicode_READY(op) != 0 {
                return Err(PyErr::fetch(text.py()));
            }
            if ffi::PyUnicode_IS_ASCII(op) != 0 || ffi::PyUnicode_IS_COMPACT(op) == 0 {
                return Ok(Text::Utf8(text.to_str()?));
            }
            let compact = op as *const ffi::PyCompactUnicodeObject;
            if !(*compact).utf8.is_null() {
                let utf8 = std::slice::from_raw_parts((*compact).utf8 as *const u8, (*compact).utf8_length as usize);
                return Ok(Text::Utf8(std::str::from_utf8_unchecked(utf8)));
            }
            let len = ffi::PyUnicode_GET_LENGTH(op) as usize;
            match ffi::PyUnicode_KIND(op) {
                ffi::PyUnicode_1BYTE_KIND => Ok(Text::Latin1(std::slice::from_raw_parts(ffi::PyUnicode_1BYTE_DATA(op), len))),
                ffi::PyUnicode_2BYTE_KIND => {
                    let units = std::slice::from_raw_parts(ffi::PyUnicode_2BYTE_DATA(op), len);
                    if has_surrogate(units) {
                        // CPython raises `UnicodeEncodeError`, naming the character.
                        return Ok(Text::Utf8(text.to_str()?));
                    }
                    Ok(Text::Ucs2(units))
                }
                _ => Ok(Text::Utf8(text.to_str()?)),
            }
        }
    }

    /// Reads `text` through CPython's UTF-8 (its characters are out of reach on this build).
    #[cfg(any(Py_LIMITED_API, PyPy, GraalPy))]
    pub fn of(text: &'a Bound<'_, PyString>) -> PyResult<Text<'a>> {
        Ok(Text::Utf8(text.to_str()?))
    }

    /// Characters (UTF-8: bytes); the UTF-8 form has one to three times as many bytes.
    pub fn units(&self) -> usize {
        match self {
            Text::Utf8(text) => text.len(),
            Text::Latin1(chars) => chars.len(),
            Text::Ucs2(chars) => chars.len(),
        }
    }

    /// The most UTF-8 bytes one character takes.
    fn bytes_per_unit(&self) -> usize {
        match self {
            Text::Utf8(_) => 1,
            Text::Latin1(_) => 2,
            Text::Ucs2(_) => 3,
        }
    }

    /// Converts characters `range` into `out` (room for [`Self::bytes_per_unit`] bytes each),
    /// returning the bytes written: valid UTF-8 (the transcoders' documented contract; `Ucs2`
    /// holds no surrogates, so nothing is even replaced).
    fn convert_range(&self, range: Range<usize>, out: &mut [u8]) -> usize {
        match self {
            Text::Utf8(_) => unreachable!("UTF-8 text is borrowed, never converted"),
            Text::Latin1(chars) => encoding_rs::mem::convert_latin1_to_utf8(&chars[range], out),
            Text::Ucs2(chars) => encoding_rs::mem::convert_utf16_to_utf8(&chars[range], out),
        }
    }

    /// The text as UTF-8: itself, or converted into `buffer`, which only ever grows (its bytes
    /// are overwritten, never cleared). A long text is converted in parallel parts, joined.
    fn convert<'b>(&'b self, buffer: &'b mut Vec<u8>) -> &'b str {
        use rayon::prelude::*;
        if let Text::Utf8(text) = self {
            return text;
        }
        let (units, per_unit) = (self.units(), self.bytes_per_unit());
        if buffer.len() < units * per_unit {
            buffer.resize(units * per_unit, 0);
        }
        let threads = rayon::current_num_threads();
        let written = if units < polybpe::tokenizer::PARALLEL_ABOVE || threads == 1 {
            self.convert_range(0..units, &mut buffer[..units * per_unit])
        } else {
            let part = units.div_ceil(threads);
            let lengths: Vec<usize> = buffer[..units * per_unit]
                .par_chunks_mut(part * per_unit)
                .enumerate()
                .map(|(k, out)| self.convert_range(k * part..units.min((k + 1) * part), out))
                .collect();
            let mut end = lengths[0];
            for (k, &len) in lengths.iter().enumerate().skip(1) {
                buffer.copy_within(k * part * per_unit..k * part * per_unit + len, end);
                end += len;
            }
            end
        };
        // SAFETY: each part is valid UTF-8 (see `convert_range`) and ends with a whole
        // character, so the parts joined are too.
        unsafe { std::str::from_utf8_unchecked(&buffer[..written]) }
    }

    /// Runs `f` on the text as UTF-8: borrowed, or converted into a buffer this thread reuses.
    pub fn with_str<R>(&self, f: impl FnOnce(&str) -> R) -> R {
        thread_local! {
            static UTF8: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
        }
        /// A buffer grown past this many bytes by a long text is freed after it.
        const KEEP_AT_MOST: usize = 4 << 20;
        if let Text::Utf8(text) = self {
            return f(text);
        }
        UTF8.with(|cell| match cell.try_borrow_mut() {
            Ok(mut buffer) => {
                let result = f(self.convert(&mut buffer));
                if buffer.len() > KEEP_AT_MOST {
                    *buffer = Vec::new();
                }
                result
            }
            // Entered again on this thread (a finalizer that encodes): a buffer of its own.
            Err(_) => f(self.convert(&mut Vec::new())),
        })
    }

    /// The text as UTF-8: borrowed, or converted into a string of its own.
    pub fn to_utf8(self) -> Cow<'a, str> {
        match self {
            Text::Utf8(text) => Cow::Borrowed(text),
            _ => {
                let mut buffer = Vec::new();
                let written = self.convert(&mut buffer).len();
                buffer.truncate(written);
                // SAFETY: `convert` returned these bytes as a str.
                Cow::Owned(unsafe { String::from_utf8_unchecked(buffer) })
            }
        }
    }
}
