//! Scan a NetCDF4/HDF5 file into a kerchunk store and read a variable back through it.
//!
//! ```sh
//! cargo run --example scan_and_read -- fixtures/era5_small.nc t2m
//! ```

use chunkref::scan::{scan_file, ScanOptions};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let (Some(file), Some(variable)) = (args.next(), args.next()) else {
        eprintln!("usage: scan_and_read FILE VARIABLE");
        std::process::exit(2);
    };
    let scanned = scan_file(file.as_ref(), &ScanOptions::default())?;
    for warning in &scanned.warnings {
        eprintln!("warning: {warning}");
    }
    let store = std::env::temp_dir().join("scan_and_read.json");
    chunkref::refs::json::write(&scanned.store, &store)?;
    println!(
        "{} -> {}: {:?}",
        file,
        store.display(),
        scanned.store.stats()
    );

    let ds = chunkref::open(store.to_string_lossy())?;
    let var = ds.variable(&variable)?;
    let whole: Vec<_> = var.shape().iter().map(|&n| 0..n).collect();
    let values = var.read_decoded(&whole)?;
    let valid: Vec<f64> = values.iter().copied().filter(|x| !x.is_nan()).collect();
    let mean = valid.iter().sum::<f64>() / valid.len().max(1) as f64;
    println!(
        "{variable}{:?} dims {:?}: {} values, {} masked, mean {mean:.4}",
        var.shape(),
        var.dims(),
        values.len(),
        values.len() - valid.len()
    );
    Ok(())
}
