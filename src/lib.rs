//! chunkref turns NetCDF4/HDF5 files into kerchunk reference stores (virtual Zarr datasets)
//! and reads them back.
//!
//! The pipeline, one module per stage:
//! - [`scan`]: one file in, one [`refs::RefStore`] out (where every chunk of every variable lies);
//! - [`combine`]: many stores into one, concatenated along existing or new dimensions;
//! - [`refs`]: the reference model and its kerchunk JSON serialisation;
//! - [`read`]: lazy chunked arrays served from a store through zarrs;
//! - [`io`]: the single place where a path or url becomes bytes.
//!
//! Features: `hdf5` (default) builds the HDF5/NetCDF4 scanner on the HDF5 C library, which is
//! built from source; with `default-features = false` chunkref reads stores and scans `NetCDF3`
//! files in pure Rust.
//!
//! Scan a file, write its store, open the store and read a block (only the chunks it needs):
//!
//! ```
//! # #[cfg(feature = "hdf5")] { // the fixture is NetCDF4
//! use chunkref::scan::{scan_file, ScanOptions};
//!
//! let scanned = scan_file("fixtures/era5_small.nc".as_ref(), &ScanOptions::default())?;
//! let dir = std::env::temp_dir().join(format!("chunkref-doc-{}", std::process::id()));
//! std::fs::create_dir_all(&dir).unwrap();
//! let store = dir.join("era5.json");
//! chunkref::refs::json::write(&scanned.store, &store)?;
//!
//! let ds = chunkref::open(store.to_str().unwrap())?;
//! let t2m = ds.variable("t2m")?;
//! assert_eq!(t2m.dims(), ["time", "lat", "lon"]);
//! let block: ndarray::ArrayD<f32> = t2m.read(&[0..2, 0..19, 0..36])?;
//! assert_eq!(block.shape(), [2, 19, 36]);
//! let kelvin = t2m.read_decoded(&[0..1, 0..2, 0..1])?; // CF decoding: _FillValue → NaN
//! assert!(kelvin[[0, 0, 0]].is_nan() && kelvin[[0, 1, 0]] > 200.0);
//! # std::fs::remove_dir_all(&dir).unwrap();
//! # }
//! # Ok::<(), chunkref::Error>(())
//! ```

pub mod combine;
pub mod error;
pub mod grib;
pub mod io;
pub mod read;
pub mod refs;
pub mod scan;

pub use error::{Error, Result};
pub use read::{open, Dataset, Variable};
