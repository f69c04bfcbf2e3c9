//! chunkref turns NetCDF4/HDF5 files into kerchunk reference stores (virtual Zarr datasets)
//! and reads them back.
//!
//! The pipeline, one module per stage:
//! - [`scan`]: one file in, one [`refs::RefStore`] out (where every chunk of every variable lies);
//! - [`refs`]: the reference model and its kerchunk JSON serialisation;
//! - [`read`]: lazy chunked arrays served from a store through zarrs;
//! - [`io`]: the single place where a path or url becomes bytes.
//!
//! ```no_run
//! let ds = chunkref::open("refs.json")?;
//! let t2m = ds.variable("t2m")?;
//! let block: ndarray::ArrayD<f32> = t2m.read(&[0..2, 0..181, 0..360])?;
//! # Ok::<(), chunkref::Error>(())
//! ```

pub mod error;
pub mod io;
pub mod read;
pub mod refs;
pub mod scan;

pub use error::{Error, Result};
pub use read::{open, Dataset, Variable};
