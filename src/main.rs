//! The `chunkref` command: a thin layer over the library.
//!
//! `main` only maps results to exit codes and messages: 0 when everything succeeded, 1 when
//! some inputs failed (the rest were done), 2 for usage errors. Each command lives in
//! `cli/<command>.rs` and is a call into the library.

mod cli;

use std::process::ExitCode;

use clap::Parser as _;

/// Reading a compressed variable allocates and frees a few chunk-sized buffers per chunk;
/// glibc's allocator hands such memory back to the kernel and faults it in again each time,
/// which cost a third of the read time. mimalloc keeps it.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let args = cli::Cli::parse();
    match cli::run(args) {
        Ok(code) => code,
        Err(err) => {
            if err.chain().any(|c| {
                c.downcast_ref::<std::io::Error>()
                    .is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
            }) {
                return ExitCode::SUCCESS;
            }
            eprintln!("chunkref: {err:#}");
            ExitCode::from(1)
        }
    }
}
