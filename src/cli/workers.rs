//! Worker processes for scanning many files.
//!
//! The HDF5 C library runs one call at a time per process and can crash or hang on a corrupt
//! file, so parallel scans use processes, not threads: `chunkref scan` starts N copies of
//! itself (`chunkref __scan-worker`), hands each one file at a time over stdin (one JSON line)
//! and reads one JSON line back per file. A worker that dies or runs past the time limit marks
//! only its current file as failed and is replaced; the run goes on.

use std::collections::VecDeque;
use std::io::{BufRead as _, BufReader, Write as _};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, ExitCode, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::sync::Mutex;
use std::time::Duration;

use anyhow::Context as _;
use serde::{Deserialize, Serialize};

use super::scan::{scan_one, Destination, FileReport, WorkerOptions};

/// One file to scan and where its store goes.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Job {
    pub(crate) input: PathBuf,
    pub(crate) dest: Destination,
}

/// Arguments of the hidden worker command.
#[derive(Debug, clap::Args)]
pub(crate) struct WorkerArgs {
    /// Scan options, as JSON.
    #[arg(long)]
    options: String,
}

/// The worker side: scan each job read from stdin, answer one JSON line per job.
pub(crate) fn serve(args: &WorkerArgs) -> anyhow::Result<ExitCode> {
    let options: WorkerOptions =
        serde_json::from_str(&args.options).context("bad worker options")?;
    let stdin = std::io::stdin().lock();
    let mut stdout = std::io::stdout().lock();
    for line in stdin.lines() {
        let job: Job = serde_json::from_str(&line?).context("bad job line")?;
        let report = std::panic::catch_unwind(|| scan_one(&job.input, &job.dest, &options))
            .unwrap_or_else(|_| FileReport {
                input: job.input.clone(),
                error: Some(
                    "internal error: the scanner panicked on this file (please report it)".into(),
                ),
                ..FileReport::default()
            });
        serde_json::to_writer(&mut stdout, &report)?;
        stdout.write_all(b"\n")?;
        stdout.flush()?;
    }
    Ok(ExitCode::SUCCESS)
}

/// A running worker process and the lines it answers with.
struct Worker {
    child: Child,
    stdin: ChildStdin,
    lines: Receiver<String>,
}

impl Worker {
    fn start(options: &str) -> anyhow::Result<Self> {
        let exe = std::env::current_exe()
            .context("cannot find the chunkref executable to start workers")?;
        let mut child = Command::new(exe)
            .args(["__scan-worker", "--options", options])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .context("cannot start a worker process")?;
        let stdin = child.stdin.take().context("worker has no stdin")?;
        let stdout = child.stdout.take().context("worker has no stdout")?;
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Ok(Self {
            child,
            stdin,
            lines,
        })
    }

    /// Sends one job and waits for its report; `Err` describes why the worker is gone.
    fn scan(&mut self, job: &Job, timeout: Duration) -> Result<FileReport, String> {
        let line = serde_json::to_string(job).map_err(|e| e.to_string())?;
        if writeln!(self.stdin, "{line}")
            .and_then(|()| self.stdin.flush())
            .is_err()
        {
            return Err(self.death());
        }
        match self.lines.recv_timeout(timeout) {
            Ok(answer) => {
                serde_json::from_str(&answer).map_err(|e| format!("unreadable worker answer: {e}"))
            }
            Err(RecvTimeoutError::Timeout) => {
                let _ = self.child.kill();
                let _ = self.child.wait();
                Err(format!(
                    "gave up after {} s (see --timeout); the file may be corrupt",
                    timeout.as_secs()
                ))
            }
            Err(RecvTimeoutError::Disconnected) => Err(self.death()),
        }
    }

    fn death(&mut self) -> String {
        match self.child.wait() {
            Ok(status) => format!(
                "the HDF5 library crashed on this file ({status}); the file is probably corrupt"
            ),
            Err(e) => format!("the scanning worker was lost: {e}"),
        }
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Scans `jobs` on `n` worker processes, calling `on_report` as each file finishes.
pub(crate) fn run_pool(
    jobs: Vec<Job>,
    n: usize,
    options: &WorkerOptions,
    timeout: Duration,
    on_report: &(dyn Fn(&FileReport) + Sync),
) -> anyhow::Result<Vec<FileReport>> {
    let options = serde_json::to_string(options)?;
    let n = n.min(jobs.len()).max(1);
    let queue = Mutex::new(jobs.into_iter().collect::<VecDeque<_>>());
    let reports = Mutex::new(Vec::new());
    let next = || queue.lock().ok().and_then(|mut q| q.pop_front());
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..n)
            .map(|_| {
                s.spawn(|| -> anyhow::Result<()> {
                    let mut worker = Worker::start(&options)?;
                    while let Some(job) = next() {
                        let report = match worker.scan(&job, timeout) {
                            Ok(report) => report,
                            Err(error) => {
                                // The worker is dead or stopped: this file fails, a new worker goes on.
                                worker = Worker::start(&options)?;
                                FileReport {
                                    input: job.input.clone(),
                                    error: Some(error),
                                    ..FileReport::default()
                                }
                            }
                        };
                        on_report(&report);
                        if let Ok(mut r) = reports.lock() {
                            r.push(report);
                        }
                    }
                    Ok(())
                })
            })
            .collect();
        for h in handles {
            h.join()
                .map_err(|_| anyhow::anyhow!("a worker thread panicked"))??;
        }
        Ok::<(), anyhow::Error>(())
    })?;
    let mut reports = reports.into_inner().unwrap_or_default();
    reports.sort_by(|a, b| a.input.cmp(&b.input));
    Ok(reports)
}
