//! Inputs: files or stdin, plain or gzip, and which framing they use.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use flate2::bufread::GzDecoder;

use crate::{Error, Result};

/// Where records come from.
#[derive(Debug, Clone)]
pub enum Input {
    /// A file; `.gz` or gzip content is decompressed on the fly.
    Path(PathBuf),
    /// Standard input.
    Stdin,
    /// An in-memory body (an HTTP request), named for reports.
    Bytes { name: String, data: Arc<[u8]> },
}

impl Input {
    /// The name used in reports and the quarantine (`-` for stdin).
    pub fn name(&self) -> String {
        match self {
            Input::Path(path) => path.display().to_string(),
            Input::Stdin => "-".to_owned(),
            Input::Bytes { name, .. } => name.clone(),
        }
    }
}

/// The framing of an input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputFormat {
    /// One JSON object per line.
    JsonLines,
    /// One JSON array of objects.
    JsonArray,
    /// CSV with a header row of field names.
    Csv,
}

impl std::str::FromStr for InputFormat {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "jsonl" | "ndjson" => Ok(InputFormat::JsonLines),
            "json" => Ok(InputFormat::JsonArray),
            "csv" => Ok(InputFormat::Csv),
            other => Err(format!(
                "unknown format {other:?}; expected jsonl, json or csv"
            )),
        }
    }
}

/// An input opened for reading.
pub(crate) struct Opened {
    pub name: String,
    pub format: InputFormat,
    pub reader: Box<dyn BufRead + Send>,
    /// Bytes taken from the underlying file or stream so far (compressed bytes for gzip).
    pub bytes_read: Arc<AtomicU64>,
    /// Size of the underlying file, when known.
    pub total_bytes: Option<u64>,
    /// Whether the input is gzip: its size then says nothing of its content's.
    pub compressed: bool,
}

/// Counts the bytes read through it, for progress reporting.
struct Counting<R> {
    inner: R,
    count: Arc<AtomicU64>,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

const BUFFER: usize = 256 * 1024;

pub(crate) fn open(input: &Input, format: Option<InputFormat>) -> Result<Opened> {
    let name = input.name();
    let io_error = |error| Error::Io {
        source_name: name.clone(),
        error,
    };
    let bytes_read = Arc::new(AtomicU64::new(0));
    let (raw, total_bytes): (Box<dyn Read + Send>, Option<u64>) = match input {
        Input::Path(path) => {
            let file = File::open(path).map_err(io_error)?;
            // Only a regular file's length is its size (a device or a pipe says 0).
            let size = file
                .metadata()
                .ok()
                .filter(std::fs::Metadata::is_file)
                .map(|m| m.len());
            (Box::new(file), size)
        }
        Input::Stdin => (Box::new(io::stdin()), None),
        Input::Bytes { data, .. } => (
            Box::new(io::Cursor::new(Arc::clone(data))),
            Some(data.len() as u64),
        ),
    };
    let mut raw = BufReader::with_capacity(
        BUFFER,
        Counting {
            inner: raw,
            count: Arc::clone(&bytes_read),
        },
    );
    let gzip = raw.fill_buf().map_err(io_error)?.starts_with(&[0x1f, 0x8b]);
    let mut reader: Box<dyn BufRead + Send> = if gzip {
        let decoder = Gunzip::new(raw, Arc::clone(&bytes_read));
        Box::new(BufReader::with_capacity(BUFFER, decoder))
    } else {
        Box::new(raw)
    };
    let format = match format {
        Some(format) => format,
        None => detect(&name, &mut reader).map_err(io_error)?,
    };
    Ok(Opened {
        name,
        format,
        reader,
        bytes_read,
        total_bytes,
        compressed: gzip,
    })
}

/// Decompresses gzip members one after the other. A truncated or damaged member is an
/// error where it breaks; bytes after a whole member that do not start another are an
/// error only after that member's content has been read to its end, so its records are
/// all stored. Errors say where in the compressed input they arose.
struct Gunzip<R: BufRead> {
    member: Option<GzDecoder<R>>,
    /// The error of what followed the last member, given at the next read.
    trailing: Option<io::Error>,
    compressed_read: Arc<AtomicU64>,
}

impl<R: BufRead> Gunzip<R> {
    fn new(inner: R, compressed_read: Arc<AtomicU64>) -> Self {
        Gunzip {
            member: Some(GzDecoder::new(inner)),
            trailing: None,
            compressed_read,
        }
    }

    fn at(&self) -> u64 {
        self.compressed_read.load(Ordering::Relaxed)
    }
}

impl<R: BufRead> Read for Gunzip<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        loop {
            let Some(member) = &mut self.member else {
                return self.trailing.take().map_or(Ok(0), Err);
            };
            match member.read(buf) {
                Ok(0) => {}
                Ok(n) => return Ok(n),
                Err(error) => {
                    let what = if error.kind() == io::ErrorKind::UnexpectedEof {
                        "the gzip input is truncated".to_owned()
                    } else {
                        format!("the gzip input is damaged: {error}")
                    };
                    return Err(io::Error::new(
                        error.kind(),
                        format!("{what} (within its first {} compressed bytes)", self.at()),
                    ));
                }
            }
            // The member ended: another follows, or the input ends, or neither.
            let Some(member) = self.member.take() else {
                return Ok(0);
            };
            let mut inner = member.into_inner();
            let rest = inner.fill_buf()?;
            if rest.is_empty() {
                return Ok(0);
            }
            if rest.starts_with(&[0x1f, 0x8b]) {
                self.member = Some(GzDecoder::new(inner));
                continue;
            }
            self.trailing = Some(io::Error::new(
                io::ErrorKind::InvalidData,
                format!(
                    "the gzip input is followed by data that is not gzip (within its first {} compressed bytes); the records before it were read",
                    self.at()
                ),
            ));
            return Ok(0);
        }
    }
}

/// Surfaces an error an input has to give after its data (bytes after the last gzip
/// member) once a framing's reader has read it to the end; a reader that stopped early
/// (at a record too long to read) leaves the rest unread.
pub(crate) fn check_end(reader: &mut dyn BufRead) -> io::Result<()> {
    reader.fill_buf().map(|_| ())
}

/// The format by file name, else by the first significant byte: `[` a JSON array,
/// `{` JSON Lines, anything else CSV.
fn detect(name: &str, reader: &mut Box<dyn BufRead + Send>) -> io::Result<InputFormat> {
    let lower = name.to_ascii_lowercase();
    let stem = lower.strip_suffix(".gz").unwrap_or(&lower);
    if stem.ends_with(".jsonl") || stem.ends_with(".ndjson") {
        return Ok(InputFormat::JsonLines);
    }
    if stem.ends_with(".csv") {
        return Ok(InputFormat::Csv);
    }
    let head = reader.fill_buf()?;
    let head = head
        .strip_prefix(b"\xEF\xBB\xBF".as_slice())
        .unwrap_or(head);
    Ok(match head.iter().find(|b| !b.is_ascii_whitespace()) {
        Some(b'[') => InputFormat::JsonArray,
        Some(b'{') | None => InputFormat::JsonLines,
        Some(_) => InputFormat::Csv,
    })
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    fn gzip(text: &[u8]) -> Vec<u8> {
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        encoder.write_all(text).unwrap();
        encoder.finish().unwrap()
    }

    fn gunzip(bytes: Vec<u8>) -> (Vec<u8>, Option<io::Error>) {
        let mut reader = Gunzip::new(io::Cursor::new(bytes), Arc::new(AtomicU64::new(0)));
        let mut out = Vec::new();
        // The end of the data, then (for what follows the members) the error.
        let error = reader
            .read_to_end(&mut out)
            .and_then(|_| reader.read(&mut [0; 8]))
            .err();
        (out, error)
    }

    #[test]
    fn only_a_regular_file_has_a_size() {
        let device = open(
            &Input::Path("/dev/zero".into()),
            Some(InputFormat::JsonLines),
        );
        assert_eq!(device.map(|o| o.total_bytes).ok(), Some(None));
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("two.jsonl");
        std::fs::write(&path, b"{}\n").unwrap();
        let file = open(&Input::Path(path), None).unwrap();
        assert_eq!((file.total_bytes, file.compressed), (Some(3), false));
    }

    #[test]
    fn members_are_read_one_after_the_other_and_what_follows_them_is_an_error_after_them() {
        let mut two = gzip(b"first\n");
        two.extend(gzip(b"second"));
        let (out, error) = gunzip(two.clone());
        assert_eq!(
            (out.as_slice(), error.is_none()),
            (&b"first\nsecond"[..], true)
        );

        two.extend_from_slice(b"junk");
        let (out, error) = gunzip(two);
        assert_eq!(out, b"first\nsecond");
        assert!(
            error
                .unwrap()
                .to_string()
                .contains("followed by data that is not gzip")
        );

        let mut cut = gzip(&[b'x'; 100_000]);
        cut.truncate(cut.len() / 2);
        let (_, error) = gunzip(cut);
        assert!(
            error
                .unwrap()
                .to_string()
                .contains("the gzip input is truncated")
        );
    }
}
