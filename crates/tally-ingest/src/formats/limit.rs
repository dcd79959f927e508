//! A cap on how far a reader may run past the start of the record it is reading, so
//! that input without record boundaries (`/dev/zero`, a decompressed gzip bomb) is
//! refused after a bounded read instead of being buffered whole.

use std::cell::Cell;
use std::io::{self, BufRead, Read};
use std::rc::Rc;

/// Bytes a reader above this one may hold ahead of what it has parsed (the CSV
/// reader's own buffer), allowed beyond the record limit.
pub(crate) const READ_AHEAD: u64 = 64 * 1024;

/// The error a [`Capped`] reader gives when a record runs past its limit.
#[derive(Debug)]
pub(crate) struct RecordTooLong {
    pub max_record: usize,
}

impl std::fmt::Display for RecordTooLong {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "a record is longer than {} bytes", self.max_record)
    }
}

impl std::error::Error for RecordTooLong {}

impl RecordTooLong {
    /// Whether `error` is this cap's refusal.
    pub(crate) fn is(error: &io::Error) -> bool {
        error
            .get_ref()
            .is_some_and(|inner| inner.is::<RecordTooLong>())
    }
}

/// Where the record being read started, shared with the [`Capped`] reader.
#[derive(Debug, Clone)]
pub(crate) struct RecordStart(Rc<Cell<u64>>);

impl RecordStart {
    /// The next record starts at byte `offset` of the input.
    pub(crate) fn set(&self, offset: u64) {
        self.0.set(offset);
    }
}

/// Reads `inner`, refusing to read more than `max_record` bytes (plus
/// [`READ_AHEAD`]) past the start of the current record.
pub(crate) struct Capped<'r> {
    inner: &'r mut dyn BufRead,
    read: u64,
    start: RecordStart,
    max_record: usize,
}

impl<'r> Capped<'r> {
    pub(crate) fn new(inner: &'r mut dyn BufRead, max_record: usize) -> (Self, RecordStart) {
        let start = RecordStart(Rc::new(Cell::new(0)));
        let capped = Capped {
            inner,
            read: 0,
            start: start.clone(),
            max_record,
        };
        (capped, start)
    }
}

impl Read for Capped<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let until = self.start.0.get() + self.max_record as u64 + READ_AHEAD;
        let room = until.saturating_sub(self.read);
        if room == 0 && !buf.is_empty() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                RecordTooLong {
                    max_record: self.max_record,
                },
            ));
        }
        let len = buf.len().min(usize::try_from(room).unwrap_or(usize::MAX));
        let n = self.inner.read(&mut buf[..len])?;
        self.read += n as u64;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_record_without_an_end_is_refused_after_a_bounded_read() {
        let mut endless = io::BufReader::new(io::repeat(0));
        let (mut capped, start) = Capped::new(&mut endless, 1000);
        let mut sink = Vec::new();
        let error = capped.by_ref().read_to_end(&mut sink).unwrap_err();
        assert!(RecordTooLong::is(&error));
        assert_eq!(sink.len() as u64, 1000 + READ_AHEAD);
        // A new record start lets it read on, as far again.
        start.set(sink.len() as u64);
        let mut more = Vec::new();
        assert!(capped.read_to_end(&mut more).is_err());
        assert_eq!(more.len() as u64, 1000 + READ_AHEAD);
    }
}
