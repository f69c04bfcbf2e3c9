//! GRIB editions 1 and 2: finding messages in a file, parsing the sections chunkref needs,
//! and unpacking a field's values.
//!
//! This module knows the format only; it builds no references (that is `scan::grib`) and
//! serves no arrays (that is the `grib` codec in `read`).
//!
//! - [`unpack`]: a field's packed values → `f64`, computed as ecCodes computes them.

pub mod decode;
pub mod grid;
pub mod idx;
pub mod message;
pub mod names;
pub mod sections;
pub mod unpack;

pub use message::{
    find_messages, message_at, parse_message, ByteSource, FieldError, FileSource, MessageSpan,
};
pub use sections::Field;
