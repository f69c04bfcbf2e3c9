//! The library's one public error type.
//!
//! Every variant names what a person needs to find the problem: the file or store, the
//! variable or key, the byte offset where that applies. The CLI renders these; the library
//! never prints.

use std::path::PathBuf;

/// Everything that can go wrong in chunkref.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A file or store could not be opened or read from the file system.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file concerned.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The file is not in a format chunkref can scan.
    #[error("{}: {reason}", path.display())]
    UnknownFormat {
        /// The file concerned.
        path: PathBuf,
        /// What was found instead.
        reason: String,
    },
    /// The file is in a known format but is corrupt, truncated or uses something unsupported.
    #[error("{}: {}{reason}", path.display(), variable.as_deref().map(|v| format!("variable {v}: ")).unwrap_or_default())]
    Scan {
        /// The file concerned.
        path: PathBuf,
        /// The variable concerned, when there is one.
        variable: Option<String>,
        /// What went wrong.
        reason: String,
    },
    /// A reference store is malformed.
    #[error("{store}: {}{reason}", key.as_deref().map(|k| format!("key {k:?}: ")).unwrap_or_default())]
    Store {
        /// The store (path or url).
        store: String,
        /// The key concerned, when there is one.
        key: Option<String>,
        /// What is wrong.
        reason: String,
    },
    /// A variable or group asked for does not exist.
    #[error("no variable {name:?} in {store} (variables: {available})")]
    NoSuchVariable {
        /// The name asked for.
        name: String,
        /// The store (path or url).
        store: String,
        /// The variables the store has, comma separated.
        available: String,
    },
    /// Data referenced by a store could not be fetched.
    #[error("{url}: {reason}")]
    Fetch {
        /// The url of the referenced file.
        url: String,
        /// What went wrong.
        reason: String,
    },
    /// Data could not be decoded or converted as asked.
    #[error("{variable}: {reason}")]
    Read {
        /// The variable concerned.
        variable: String,
        /// What went wrong.
        reason: String,
    },
    /// An argument given by the caller is invalid.
    #[error("{0}")]
    InvalidArgument(String),
}

/// The result type of the library.
pub type Result<T, E = Error> = std::result::Result<T, E>;
