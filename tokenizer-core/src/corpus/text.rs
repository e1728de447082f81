//! Text lines: the one reader of line-based UTF-8 input, and the plain-text corpus format.
//!
//! What a line is, decided here once for every reader of text (training text, JSONL, the dev
//! and parallel sets, the CLI's encode and decode input):
//! - a line ends at `\n`, and the `\r` of `\r\n` goes with it; a lone `\r` is text, and the last
//!   line needs no terminator;
//! - a UTF-8 byte order mark at the start of the input is dropped: it marks the encoding, not
//!   text (anywhere else U+FEFF is text);
//! - bytes that are not UTF-8 are an [`Error::InvalidUtf8`] naming the source, the byte offset in
//!   it (the BOM counted) and the 1-based line. Whether such a line is skipped instead is the
//!   caller's decision: training does so with [`CorpusOptions::skip_invalid`](super::CorpusOptions),
//!   counting it.

use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::batch::Sink;
use crate::error::{Error, Result};

/// The UTF-8 byte order mark, dropped at the start of an input.
pub const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";
/// The size of [`LineReader`]'s reads; larger than the 8 KiB default to cut system calls.
const READ_BUFFER_BYTES: usize = 256 * 1024;

/// One line of an input, its terminator (and on line 1 the BOM) removed.
#[derive(Clone, Copy, Debug)]
pub struct Line<'a> {
    /// 1-based line number.
    pub number: u64,
    /// Offset in the input of `bytes[0]`.
    pub start: u64,
    /// Offset just past the line terminator: how much of the input has been read.
    pub end: u64,
    /// The line's bytes, not yet checked to be UTF-8.
    pub bytes: &'a [u8],
    /// Whether `bytes` is known to be UTF-8: checked with the lines read beside it.
    checked_utf8: bool,
    source: &'a Path,
}

impl<'a> Line<'a> {
    /// The line as text, or [`Error::InvalidUtf8`] naming the source, offset and line.
    pub fn text(&self) -> Result<&'a str> {
        if self.checked_utf8 {
            // SAFETY: `LineReader::fill` checked these bytes (whole lines: a terminator or
            // a BOM is removed whole, so what is left is UTF-8 too).
            return Ok(unsafe { std::str::from_utf8_unchecked(self.bytes) });
        }
        std::str::from_utf8(self.bytes).map_err(|e| Error::InvalidUtf8 {
            path: self.source.to_path_buf(),
            offset: self.start + e.valid_up_to() as u64,
            line: self.number,
        })
    }
}

/// Reads an input line by line through one buffer, never the whole input at once (a line may
/// be 100 MB; a corpus file many GB).
///
/// Lines are slices of the buffer, not copies, and each read's whole lines are checked to be
/// UTF-8 in one pass (`simdutf8`): checked line by line, UTF-8 took 6.0 ms of the 11 MB of
/// `benches/peers.py`'s text, in one pass 0.7 ms. A read with invalid bytes leaves its lines
/// to [`Line::text`], which names the line and offset.
#[derive(Debug)]
pub struct LineReader<R = File> {
    reader: R,
    /// Named in errors: a path, or a name such as `<stdin>`.
    source: PathBuf,
    /// Bytes read and not yet returned are `buf[pos..filled]`.
    buf: Vec<u8>,
    /// The buffer's first size: [`READ_BUFFER_BYTES`] (small in tests, to cover long lines).
    read_size: usize,
    pos: usize,
    filled: usize,
    /// `buf[pos..searched]` has no `\n` (a long line is not searched again after each read).
    searched: usize,
    /// `buf[..checked]` is whole lines known to be UTF-8.
    checked: usize,
    at_end: bool,
    /// Offset in the input of `buf[pos]`.
    offset: u64,
    number: u64,
}

impl LineReader {
    /// Opens a file; a missing or unreadable file is [`Error::Io`] naming it.
    pub fn open(path: &Path) -> Result<Self> {
        let file = File::open(path).map_err(|e| Error::io(path, e))?;
        Ok(LineReader::new(file, path))
    }
}

impl<R: Read> LineReader<R> {
    /// Reads `reader`, naming it `source` in errors (e.g. `<stdin>`).
    pub fn new(reader: R, source: impl Into<PathBuf>) -> Self {
        Self::with_read_size(reader, source, READ_BUFFER_BYTES)
    }

    fn with_read_size(reader: R, source: impl Into<PathBuf>, read_size: usize) -> Self {
        LineReader {
            reader,
            source: source.into(),
            buf: Vec::new(),
            read_size,
            pos: 0,
            filled: 0,
            searched: 0,
            checked: 0,
            at_end: false,
            offset: 0,
            number: 0,
        }
    }

    /// The next line; `None` at the end of the input.
    pub fn next_line(&mut self) -> Result<Option<Line<'_>>> {
        let len = loop {
            if let Some(i) = memchr::memchr(b'\n', &self.buf[self.searched..self.filled]) {
                break self.searched + i + 1 - self.pos;
            }
            self.searched = self.filled;
            if self.at_end {
                if self.pos == self.filled {
                    return Ok(None);
                }
                break self.filled - self.pos;
            }
            self.fill()?;
        };
        let line = self.pos..self.pos + len;
        self.pos = line.end;
        self.searched = line.end;
        self.number += 1;
        let mut start = self.offset;
        self.offset += len as u64;
        let mut bytes = strip_terminator(&self.buf[line.clone()]);
        if self.number == 1 {
            if let Some(rest) = bytes.strip_prefix(UTF8_BOM) {
                bytes = rest;
                start += UTF8_BOM.len() as u64;
            }
        }
        Ok(Some(Line {
            number: self.number,
            start,
            end: self.offset,
            bytes,
            checked_utf8: line.end <= self.checked,
            source: &self.source,
        }))
    }

    /// Moves the unread bytes to the front (growing the buffer if they fill it: a line longer
    /// than the buffer), reads more after them, and checks the whole lines read.
    fn fill(&mut self) -> Result<()> {
        self.buf.copy_within(self.pos..self.filled, 0);
        self.filled -= self.pos;
        self.searched -= self.pos;
        self.checked = self.checked.saturating_sub(self.pos);
        self.pos = 0;
        if self.filled == self.buf.len() {
            self.buf.resize((2 * self.buf.len()).max(self.read_size), 0);
        }
        let read = loop {
            match self.reader.read(&mut self.buf[self.filled..]) {
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                read => break read.map_err(|e| Error::io(&self.source, e))?,
            }
        };
        self.filled += read;
        self.at_end = read == 0;
        let lines_end = if self.at_end {
            self.filled
        } else {
            memchr::memrchr(b'\n', &self.buf[self.searched..self.filled]).map_or(0, |i| self.searched + i + 1)
        };
        if lines_end > self.checked && simdutf8::basic::from_utf8(&self.buf[self.checked..lines_end]).is_ok() {
            self.checked = lines_end;
        }
        Ok(())
    }
}

fn strip_terminator(line: &[u8]) -> &[u8] {
    match line.strip_suffix(b"\n") {
        Some(rest) => rest.strip_suffix(b"\r").unwrap_or(rest),
        None => line,
    }
}

/// A whole input as one text: the BOM at its start dropped, everything else kept (line ends
/// included). Invalid UTF-8 is [`Error::InvalidUtf8`] naming `source`, the offset and the line.
pub fn decode_text(mut bytes: Vec<u8>, source: &Path) -> Result<String> {
    let bom = if bytes.starts_with(UTF8_BOM) {
        UTF8_BOM.len()
    } else {
        0
    };
    bytes.drain(..bom);
    // One SIMD pass for valid text (std's check was 8% of encoding whole 1 MB files with
    // `encode_files`); std's again only to locate an error.
    if simdutf8::basic::from_utf8(&bytes).is_ok() {
        // SAFETY: just checked to be UTF-8.
        return Ok(unsafe { String::from_utf8_unchecked(bytes) });
    }
    String::from_utf8(bytes).map_err(|e| {
        let valid = e.utf8_error().valid_up_to();
        let newlines = e.as_bytes()[..valid]
            .iter()
            .filter(|&&b| b == b'\n')
            .count();
        Error::InvalidUtf8 {
            path: source.to_path_buf(),
            offset: (bom + valid) as u64,
            line: newlines as u64 + 1,
        }
    })
}

// ---------------------------------------------------------------------------------------------
// The plain-text corpus format

/// The line as a document; `None` (counted) when it is empty, or invalid with `skip_invalid`.
pub(super) fn decode_line<'l>(
    line: &Line<'l>,
    skip_invalid: bool,
    sink: &mut Sink<'_>,
) -> Result<Option<&'l str>> {
    match line.text() {
        Ok("") => {
            sink.skip_empty();
            Ok(None)
        }
        Ok(text) => Ok(Some(text)),
        Err(_) if skip_invalid => {
            sink.skip_invalid();
            Ok(None)
        }
        Err(e) => Err(e),
    }
}

/// One document per non-empty line.
pub(super) fn read_text_lines(
    path: &Path,
    lang: Arc<str>,
    skip_invalid: bool,
    sink: &mut Sink<'_>,
) -> Result<()> {
    let mut lines = LineReader::open(path)?;
    while let Some(line) = lines.next_line()? {
        sink.set_position(line.end);
        if let Some(text) = decode_line(&line, skip_invalid, sink)? {
            sink.push(&lang, text)?;
        }
    }
    Ok(())
}

/// The whole file as one document (BOM removed, everything else kept, newlines included).
pub(super) fn read_text_file(
    path: &Path,
    lang: Arc<str>,
    skip_invalid: bool,
    sink: &mut Sink<'_>,
) -> Result<()> {
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    sink.set_position(bytes.len() as u64);
    match decode_text(bytes, path) {
        Ok(text) => sink.push(&lang, &text),
        Err(Error::InvalidUtf8 { .. }) if skip_invalid => {
            sink.skip_invalid();
            Ok(())
        }
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::*;
    use super::super::{CorpusOptions, CorpusStats};
    use super::*;

    /// (number, start, end, bytes) of every line of `input`.
    fn lines_of(input: &[u8]) -> Vec<(u64, u64, u64, Vec<u8>)> {
        let mut reader = LineReader::new(input, "<stdin>");
        let mut lines = Vec::new();
        while let Some(line) = reader.next_line().unwrap() {
            lines.push((line.number, line.start, line.end, line.bytes.to_vec()));
        }
        lines
    }

    #[test]
    fn line_reader_splits_at_newlines_and_drops_the_bom_and_terminators() {
        let lines = lines_of(b"\xEF\xBB\xBFa\r\n\nb\rc\n\xEF\xBB\xBFd");
        let expected = vec![
            (1, 3, 6, b"a".to_vec()),
            (2, 6, 7, Vec::new()),
            (3, 7, 11, b"b\rc".to_vec()),
            (4, 11, 15, b"\xEF\xBB\xBFd".to_vec()),
        ];
        assert_eq!(lines, expected);
        assert_eq!(lines_of(b""), Vec::new());
        assert_eq!(lines_of(b"\n"), vec![(1, 0, 1, Vec::new())]);
        assert_eq!(lines_of(b"\xEF\xBB\xBF"), vec![(1, 3, 3, Vec::new())]);
        assert_eq!(lines_of(b"x\r"), vec![(1, 0, 2, b"x\r".to_vec())]);
    }

    /// Hands out its input a few bytes at a time, as a pipe may.
    struct Trickle<'a> {
        input: &'a [u8],
        sizes: std::iter::Cycle<std::vec::IntoIter<usize>>,
    }

    impl Read for Trickle<'_> {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            let n = self.sizes.next().unwrap().min(buf.len()).min(self.input.len());
            buf[..n].copy_from_slice(&self.input[..n]);
            self.input = &self.input[n..];
            Ok(n)
        }
    }

    proptest::proptest! {
        /// Whatever the reads and buffer size, lines, offsets and UTF-8 errors are those of
        /// splitting the whole input at `\n` and checking each line alone.
        #[test]
        fn lines_do_not_depend_on_reads_or_buffer_size(
            parts in proptest::collection::vec(proptest::prop_oneof![
                proptest::strategy::Just(b"\n".to_vec()),
                proptest::strategy::Just(b"\r\n".to_vec()),
                proptest::strategy::Just(UTF8_BOM.to_vec()),
                proptest::strategy::Just("é€ſ".as_bytes().to_vec()),
                proptest::collection::vec(proptest::num::u8::ANY, 0..4),
                proptest::collection::vec(b'a'..=b'z', 0..40),
            ], 0..40),
            sizes in proptest::collection::vec(1..9usize, 1..5),
            read_size in 1..64usize,
        ) {
            let input = parts.concat();
            let mut expected = Vec::new();
            let mut offset = 0u64;
            for (i, raw) in input.split_inclusive(|&b| b == b'\n').enumerate() {
                let (mut bytes, mut start) = (strip_terminator(raw), offset);
                if i == 0 && bytes.starts_with(UTF8_BOM) {
                    bytes = &bytes[3..];
                    start += 3;
                }
                offset += raw.len() as u64;
                let text = std::str::from_utf8(bytes).map(str::to_owned).map_err(|e| start + e.valid_up_to() as u64);
                expected.push((i as u64 + 1, start, offset, bytes.to_vec(), text));
            }
            let trickle = Trickle { input: &input, sizes: sizes.into_iter().cycle() };
            let mut reader = LineReader::with_read_size(trickle, "<stdin>", read_size);
            let mut lines = Vec::new();
            while let Some(line) = reader.next_line().unwrap() {
                let text = line.text().map(str::to_owned).map_err(|e| match e {
                    Error::InvalidUtf8 { offset, line: number, .. } if number == line.number => offset,
                    other => panic!("{other}"),
                });
                lines.push((line.number, line.start, line.end, line.bytes.to_vec(), text));
            }
            proptest::prop_assert_eq!(lines, expected);
        }
    }

    #[test]
    fn line_text_errors_name_the_source_offset_and_line() {
        let mut reader = LineReader::new(&b"\xEF\xBB\xBFok\r\nbad \xC3( here\n"[..], "<stdin>");
        assert_eq!(reader.next_line().unwrap().unwrap().text().unwrap(), "ok");
        let err = reader.next_line().unwrap().unwrap().text().unwrap_err();
        assert!(
            matches!(&err, Error::InvalidUtf8 { path, offset: 11, line: 2 } if path == Path::new("<stdin>")),
            "{err}"
        );
    }

    #[test]
    fn decode_text_drops_the_bom_only_and_names_offset_and_line() {
        let source = Path::new("in.txt");
        assert_eq!(decode_text(b"\xEF\xBB\xBFa\r\nb\n".to_vec(), source).unwrap(), "a\r\nb\n");
        assert_eq!(decode_text(b"a\xEF\xBB\xBF".to_vec(), source).unwrap(), "a\u{FEFF}");
        let err = decode_text(b"\xEF\xBB\xBFx\ny\nz\xff".to_vec(), source).unwrap_err();
        assert!(matches!(&err, Error::InvalidUtf8 { path, offset: 8, line: 3 } if path == source), "{err}");
    }

    #[test]
    fn text_lines_strip_terminators_bom_and_empty_lines() {
        let dir = tempfile::tempdir().unwrap();
        let path = write(
            dir.path(),
            "fr.txt",
            b"\xEF\xBB\xBFfirst\r\nsecond\n\nmid\rdle\r\n\r\n  \nlast",
        );
        let run = read(&path, CorpusOptions::default()).unwrap();
        let expected = pairs(&[
            ("fr", "first"),
            ("fr", "second"),
            ("fr", "mid\rdle"),
            ("fr", "  "),
            ("fr", "last"),
        ]);
        assert_eq!(run.docs(), expected);
        let bytes = expected.iter().map(|(_, t)| t.len() as u64).sum();
        let stats = CorpusStats {
            files: 1,
            documents: 5,
            bytes,
            skipped_invalid: 0,
            skipped_empty: 2,
            skipped_null: 0,
            ..CorpusStats::default()
        };
        assert_eq!(run.stats, stats);
    }

    #[test]
    fn bom_is_only_stripped_at_file_start() {
        let dir = tempfile::tempdir().unwrap();
        let path = write(dir.path(), "en.txt", b"a\n\xEF\xBB\xBFb\n");
        assert_eq!(
            read(&path, CorpusOptions::default()).unwrap().docs(),
            pairs(&[("en", "a"), ("en", "\u{FEFF}b")])
        );
    }

    #[test]
    fn invalid_utf8_names_file_offset_and_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = write(dir.path(), "en.txt", b"ok\nbad \xff here\n");
        let err = read(&path, CorpusOptions::default()).err().unwrap();
        let expected = format!(
            "{}: invalid UTF-8 at byte offset 7 (line 2); pass --skip-invalid to skip such lines",
            path.display()
        );
        assert_eq!(err.to_string(), expected);
        assert_eq!(expect_invalid_utf8(Err(err)), (path, 7, 2));
    }

    #[test]
    fn invalid_utf8_offsets_count_bom_and_crlf() {
        let dir = tempfile::tempdir().unwrap();
        let bom = write(dir.path(), "bom.txt", b"\xEF\xBB\xBFab\xC3(\n");
        assert_eq!(
            expect_invalid_utf8(read(&bom, CorpusOptions::default())),
            (bom, 5, 1)
        );
        let crlf = write(dir.path(), "crlf.txt", b"a\r\nb\r\n\xe9t\xe9\r\n");
        assert_eq!(
            expect_invalid_utf8(read(&crlf, CorpusOptions::default())),
            (crlf, 6, 3)
        );
        let truncated = write(dir.path(), "cut.txt", b"x\n\xe2\x82");
        assert_eq!(
            expect_invalid_utf8(read(&truncated, CorpusOptions::default())),
            (truncated, 2, 2)
        );
    }

    #[test]
    fn skip_invalid_counts_lines() {
        let dir = tempfile::tempdir().unwrap();
        let path = write(dir.path(), "de.txt", b"one\n\xff\xfe\ntwo\nbad\xc3\n");
        let run = read(&path, skipping_invalid()).unwrap();
        assert_eq!(run.docs(), pairs(&[("de", "one"), ("de", "two")]));
        assert_eq!((run.stats.documents, run.stats.skipped_invalid), (2, 2));
    }

    #[test]
    fn doc_per_file_keeps_the_whole_text() {
        let dir = tempfile::tempdir().unwrap();
        let a = write(dir.path(), "a.txt", b"\xEF\xBB\xBFline one\r\nline two\n\n");
        let empty = write(dir.path(), "b.txt", b"");
        let run = run(&[a, empty], whole_files(), 1).unwrap();
        assert_eq!(run.docs(), pairs(&[("a", "line one\r\nline two\n\n")]));
        assert_eq!((run.stats.files, run.stats.skipped_empty), (2, 1));
    }

    #[test]
    fn doc_per_file_invalid_utf8() {
        let dir = tempfile::tempdir().unwrap();
        let bad = write(dir.path(), "bad.txt", b"\xEF\xBB\xBFx\ny\nz\xff");
        assert_eq!(
            expect_invalid_utf8(read(&bad, whole_files())),
            (bad.clone(), 8, 3)
        );
        let good = write(dir.path(), "good.txt", b"fine");
        let options = CorpusOptions {
            skip_invalid: true,
            ..whole_files()
        };
        let run = run(&[bad, good], options, 1).unwrap();
        assert_eq!(run.docs(), pairs(&[("good", "fine")]));
        assert_eq!(run.stats.skipped_invalid, 1);
    }
}
