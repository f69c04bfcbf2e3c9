//! Finding GRIB messages in a file and parsing the sections of each field.
//!
//! A file is a sequence of messages, each `GRIB` ... `7777` with its length in the indicator
//! section (edition 1: 3 bytes at octets 5–7; edition 2: 8 bytes at octets 9–16). A GRIB2
//! message may hold several fields: sections 2–7 (or 3–7, 4–7) repeat before `7777`, and a
//! field takes the sections it does not repeat from the field before it.
//!
//! Only metadata sections are read (identification, grid, product, representation, the first
//! bytes of the bitmap and data sections); the data itself is left to [`super::unpack`].
//! Every read is checked: a corrupt length or count gives [`FieldError`], never a panic or a
//! huge allocation.

use super::sections::{self, Field};

/// The longest GRIB1 message length the 3-byte field can state (ECMWF's "large GRIB1"
/// encoding, which stretches it, is refused with a clear error).
const GRIB1_LARGE_FLAG: u64 = 0x80_0000;

/// Bytes read at the start of each message: enough for the metadata sections of almost
/// every message, so one read serves a message.
const HEAD_BYTES: u64 = 8 * 1024;

/// Where one message lies in its file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MessageSpan {
    /// Its number in the file, from 0.
    pub index: usize,
    /// Byte offset of `GRIB`.
    pub offset: u64,
    /// Length in bytes, `GRIB` to `7777` included.
    pub length: u64,
    /// GRIB edition, 1 or 2.
    pub edition: u8,
}

/// Something wrong with a message, with the byte offset (in the file) where it was found.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("message {} at byte {offset}: {reason}", message + 1)]
pub struct FieldError {
    /// The message's number in the file, from 0 (shown from 1).
    pub message: usize,
    /// Byte offset in the file where the problem lies.
    pub offset: u64,
    /// What is wrong.
    pub reason: String,
}

/// Random access to the bytes of a file (or of a buffer, for fuzzing and the codec).
pub trait ByteSource {
    /// The length of the whole source.
    fn len(&self) -> u64;

    /// `length` bytes at `offset`, or `None` when they run past the end or cannot be read.
    fn read_at(&self, offset: u64, length: u64) -> Option<Vec<u8>>;

    /// Whether the source is empty.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl ByteSource for [u8] {
    fn len(&self) -> u64 {
        <[u8]>::len(self) as u64
    }

    fn read_at(&self, offset: u64, length: u64) -> Option<Vec<u8>> {
        let start = usize::try_from(offset).ok()?;
        let end = start.checked_add(usize::try_from(length).ok()?)?;
        self.get(start..end).map(<[u8]>::to_vec)
    }
}

/// A file on disk, read with positioned reads.
#[derive(Debug)]
pub struct FileSource {
    file: std::fs::File,
    len: u64,
}

impl FileSource {
    /// Opens `path`.
    ///
    /// # Errors
    /// Returns the I/O error of opening the file or reading its metadata.
    pub fn open(path: &std::path::Path) -> std::io::Result<Self> {
        let file = std::fs::File::open(path)?;
        let len = file.metadata()?.len();
        Ok(Self { file, len })
    }
}

impl ByteSource for FileSource {
    fn len(&self) -> u64 {
        self.len
    }

    fn read_at(&self, offset: u64, length: u64) -> Option<Vec<u8>> {
        use std::os::unix::fs::FileExt as _;
        if offset.checked_add(length)? > self.len {
            return None;
        }
        let mut buf = vec![0u8; usize::try_from(length).ok()?];
        self.file.read_exact_at(&mut buf, offset).ok()?;
        Some(buf)
    }
}

/// Bytes skipped between messages because they were not the start of one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Garbage {
    /// Where the skipped bytes start.
    pub offset: u64,
    /// How many were skipped.
    pub length: u64,
    /// The number of the message that follows them (from 0), or the message count at the end.
    pub before_message: usize,
}

/// The messages of a source, and the bytes skipped between them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MessageList {
    /// The messages, in file order.
    pub messages: Vec<MessageSpan>,
    /// Runs of bytes that were not part of any message.
    pub garbage: Vec<Garbage>,
}

/// Finds every message in `src`: reads the indicator at each message start, and when the
/// bytes there are not `GRIB`, searches forward for the next `GRIB` (recording what it skips).
///
/// # Errors
/// A message whose stated length runs past the end of the source, is too short to hold its
/// sections, or does not end in `7777`.
pub fn find_messages(src: &(impl ByteSource + ?Sized)) -> Result<MessageList, FieldError> {
    let mut list = MessageList::default();
    let mut pos = 0u64;
    while pos < src.len() {
        let Some(start) = find_magic(src, pos) else {
            push_garbage(&mut list, pos, src.len() - pos);
            break;
        };
        if start > pos {
            push_garbage(&mut list, pos, start - pos);
        }
        let span = read_indicator(src, start, list.messages.len())?;
        pos = start + span.length;
        list.messages.push(span);
    }
    Ok(list)
}

fn push_garbage(list: &mut MessageList, offset: u64, length: u64) {
    list.garbage.push(Garbage {
        offset,
        length,
        before_message: list.messages.len(),
    });
}

/// The offset of the next `GRIB` at or after `from`, reading in blocks.
fn find_magic(src: &(impl ByteSource + ?Sized), from: u64) -> Option<u64> {
    const BLOCK: u64 = 64 * 1024;
    let mut at = from;
    while at < src.len() {
        let n = BLOCK.min(src.len() - at);
        let block = src.read_at(at, n)?;
        if let Some(i) = block.windows(4).position(|w| w == b"GRIB") {
            return Some(at + i as u64);
        }
        if at + n >= src.len() {
            return None;
        }
        at += n - 3; // `GRIB` may straddle two blocks
    }
    None
}

/// The message at `offset` (numbered `index`): reads its indicator section and checks its
/// end marker.
///
/// # Errors
/// No message there, or one whose length runs past the end of the source or that does not
/// end in `7777`.
pub fn message_at(
    src: &(impl ByteSource + ?Sized),
    offset: u64,
    index: usize,
) -> Result<MessageSpan, FieldError> {
    let magic = src.read_at(offset, 4);
    if magic.as_deref() != Some(b"GRIB") {
        return Err(FieldError {
            message: index,
            offset,
            reason: "no `GRIB` here".into(),
        });
    }
    read_indicator(src, offset, index)
}

/// The message length an indicator section states (octets 5–7 in edition 1, 9–16 in
/// edition 2; the edition is octet 8), or `None` when `head` is too short or of another
/// edition.
#[must_use]
pub fn stated_length(head: &[u8]) -> Option<u64> {
    match head.get(7)? {
        1 => Some(u64::from(head[4]) << 16 | u64::from(head[5]) << 8 | u64::from(head[6])),
        2 => Some(u64::from_be_bytes(head.get(8..16)?.try_into().ok()?)),
        _ => None,
    }
}

/// Reads the indicator section of the message at `offset` and checks its end marker.
fn read_indicator(
    src: &(impl ByteSource + ?Sized),
    offset: u64,
    index: usize,
) -> Result<MessageSpan, FieldError> {
    let fail = |at: u64, reason: String| FieldError {
        message: index,
        offset: at,
        reason,
    };
    let left = src.len() - offset;
    let head = src
        .read_at(offset, left.min(16))
        .ok_or_else(|| fail(offset, "cannot read the indicator section".into()))?;
    if head.len() < 8 {
        return Err(fail(
            offset,
            format!("the file ends {left} bytes after `GRIB`, inside the indicator section"),
        ));
    }
    let edition = head[7];
    let length = match edition {
        1 => {
            let len = stated_length(&head).unwrap_or_default();
            if len & GRIB1_LARGE_FLAG != 0 && len > left {
                return Err(fail(offset, format!("GRIB1 length {len} is ECMWF's large-message encoding, which chunkref does not read")));
            }
            len
        }
        2 => {
            if head.len() < 16 {
                return Err(fail(
                    offset,
                    format!("the file ends {left} bytes after `GRIB`, inside the 16-byte indicator section"),
                ));
            }
            stated_length(&head).unwrap_or_default()
        }
        other => {
            return Err(fail(
                offset + 7,
                format!("edition {other}: only GRIB editions 1 and 2 exist"),
            ))
        }
    };
    let min = if edition == 1 {
        8 + 28 + 11 + 4
    } else {
        16 + 21 + 4
    };
    if length < min {
        return Err(fail(
            offset,
            format!("length {length} is too short for a GRIB{edition} message"),
        ));
    }
    if length > left {
        return Err(fail(
            offset,
            format!(
                "the message says it is {length} bytes long, but the file ends {left} bytes after its start (truncated?)"
            ),
        ));
    }
    let end = src
        .read_at(offset + length - 4, 4)
        .ok_or_else(|| fail(offset + length - 4, "cannot read the end marker".into()))?;
    if end != b"7777" {
        return Err(fail(
            offset + length - 4,
            format!("no `7777` at the end of the {length} bytes the message says it has"),
        ));
    }
    Ok(MessageSpan {
        index,
        offset,
        length,
        edition,
    })
}

/// The bytes of a message's metadata: its first bytes, with more read on demand.
pub(crate) struct MessageBytes<'a, S: ByteSource + ?Sized> {
    src: &'a S,
    span: MessageSpan,
    head: Vec<u8>,
}

impl<'a, S: ByteSource + ?Sized> MessageBytes<'a, S> {
    pub(crate) fn new(src: &'a S, span: MessageSpan) -> Result<Self, FieldError> {
        let head = src
            .read_at(span.offset, span.length.min(HEAD_BYTES))
            .ok_or_else(|| FieldError {
                message: span.index,
                offset: span.offset,
                reason: "cannot read the message".into(),
            })?;
        Ok(Self { src, span, head })
    }

    /// `length` bytes at `at` (an offset inside the message).
    pub(crate) fn get(
        &self,
        at: u64,
        length: u64,
    ) -> Result<std::borrow::Cow<'_, [u8]>, FieldError> {
        let end = at.checked_add(length).filter(|&e| e <= self.span.length);
        let Some(end) = end else {
            return Err(self.error(
                at,
                format!(
                    "{length} bytes at message byte {at} run past the message's end ({} bytes)",
                    self.span.length
                ),
            ));
        };
        if let Some(b) = self.head.get(at as usize..end as usize) {
            return Ok(std::borrow::Cow::Borrowed(b));
        }
        self.src
            .read_at(self.span.offset + at, length)
            .map(std::borrow::Cow::Owned)
            .ok_or_else(|| self.error(at, format!("cannot read {length} bytes")))
    }

    pub(crate) fn span(&self) -> MessageSpan {
        self.span
    }

    /// An error at message byte `at`.
    pub(crate) fn error(&self, at: u64, reason: String) -> FieldError {
        FieldError {
            message: self.span.index,
            offset: self.span.offset + at,
            reason,
        }
    }
}

/// Parses the fields of the message at `span`: one for GRIB1, one or more for GRIB2.
///
/// # Errors
/// A section that runs past the message, a missing mandatory section, a section number out
/// of order, or a product template chunkref does not know.
pub fn parse_message(
    src: &(impl ByteSource + ?Sized),
    span: MessageSpan,
) -> Result<Vec<Field>, FieldError> {
    let bytes = MessageBytes::new(src, span)?;
    match span.edition {
        1 => sections::parse_grib1(&bytes).map(|f| vec![f]),
        _ => sections::parse_grib2(&bytes),
    }
}
