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
    // mimalloc asks for transparent huge pages, and the kernel then zeroes and counts 2 MiB
    // for every region touched: combining 1,000 small stores peaked at 46 MB instead of 31
    // and spent a fifth of its time zeroing pages it never used. (Only the flag of this
    // process is set; the call cannot fail in a way that matters.)
    #[cfg(target_os = "linux")]
    // SAFETY: PR_SET_THP_DISABLE takes plain integers and touches no memory of ours.
    unsafe {
        libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0);
    }
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
