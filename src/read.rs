//! Reading: lazy chunked arrays served from a reference store through zarrs.
//!
//! - [`store`]: the zarrs storage adapter over a [`crate::refs::RefStore`];
//! - [`codecs`]: codecs chunkref adds to zarrs (HDF5-compatible `fletcher32`);
//! - [`Dataset`] and [`Variable`]: opening a store and reading blocks of its arrays, typed
//!   ([`Variable::read`]), dtype-erased ([`Variable::read_dyn`]) or CF-decoded
//!   ([`Variable::read_decoded`], rules in [`cf`]).
//!
//! Bytes come from [`crate::io`] only; this module never opens a file itself.

pub mod cf;
pub mod codecs;
mod dataset;
mod dyn_array;
pub mod store;

pub use dataset::{open, Dataset, Variable};
pub use dyn_array::DynArray;
/// The element types [`Variable::read`] accepts (`i8` ... `f64`, `bool`, `String`, ...), for
/// callers writing code generic over them.
pub use zarrs::array::ElementOwned;
