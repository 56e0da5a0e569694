//! Progress display on stderr (indicatif): a spinner while `op::wait` waits for operations, a
//! bar while `bulk::run` works through its items.
//! Only drawn when enabled (stderr a terminal, not `-q`); output printed meanwhile goes through
//! the bar so that lines don't tear it.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};

use crate::script::WaitEvent;

/// A shared handle on the progress display. Cloning shares it.
#[derive(Clone, Default)]
pub struct Progress {
    enabled: bool,
    bar: Arc<Mutex<Option<ProgressBar>>>,
}

impl std::fmt::Debug for Progress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Progress").field("enabled", &self.enabled).finish_non_exhaustive()
    }
}

impl Progress {
    /// A display that draws only if `enabled`.
    pub fn new(enabled: bool) -> Progress {
        Progress { enabled, bar: Arc::default() }
    }

    /// Whether bars are drawn.
    pub fn enabled(&self) -> bool {
        self.enabled
    }

    fn with_bar<T>(&self, f: impl FnOnce(Option<&ProgressBar>) -> T) -> T {
        let guard = crate::sync::lock(&self.bar);
        f(guard.as_ref())
    }

    /// Starts a spinner with a message (replacing any other).
    pub fn start(&self, message: String) {
        if !self.enabled {
            return;
        }
        let bar = ProgressBar::new_spinner();
        bar.set_style(
            ProgressStyle::with_template("{spinner} {msg} [{elapsed}]")
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        );
        bar.set_message(message);
        bar.enable_steady_tick(Duration::from_millis(120));
        if let Some(old) = crate::sync::lock(&self.bar).replace(bar) {
            old.finish_and_clear();
        }
    }

    /// Changes the spinner's message.
    pub fn set_message(&self, message: String) {
        self.with_bar(|b| {
            if let Some(b) = b {
                b.set_message(message)
            }
        });
    }

    /// Removes the spinner.
    pub fn finish(&self) {
        if let Some(b) = crate::sync::lock(&self.bar).take() {
            b.finish_and_clear();
        }
    }

    /// Follows `op::wait`.
    pub fn wait_event(&self, e: WaitEvent<'_>) {
        match e {
            WaitEvent::Started(ids) => {
                let list: Vec<String> = ids.iter().take(5).map(|i| i.to_string()).collect();
                let more = if ids.len() > 5 { format!(" and {} more", ids.len() - 5) } else { String::new() };
                let s = if ids.len() == 1 { "" } else { "s" };
                self.start(format!("waiting for operation{s} {}{more}", list.join(", ")));
            }
            WaitEvent::Polled(op) => {
                self.set_message(format!("operation {} {}: {}", op.id, op.kind_str(), op.step.as_str()))
            }
            WaitEvent::Finished => self.finish(),
        }
    }

    /// Follows `bulk::run`: a bar of items done (and failed so far).
    pub fn bulk_event(&self, e: &crate::gandi::bulk::Event<'_>) {
        use crate::gandi::bulk::Event;
        if let Event::Warning { label, message } = e {
            self.eprintln(&format!("warning: {label}: {message}"));
            return;
        }
        if !self.enabled {
            return;
        }
        match e {
            Event::Started { label, total } => {
                let bar = ProgressBar::new(*total as u64);
                bar.set_style(
                    ProgressStyle::with_template(
                        "{prefix} [{bar:30}] {pos}/{len} {msg} [{elapsed}, eta {eta}]",
                    )
                    .unwrap_or_else(|_| ProgressStyle::default_bar())
                    .progress_chars("=> "),
                );
                bar.set_prefix(label.to_string());
                bar.enable_steady_tick(Duration::from_millis(200));
                if let Some(old) = crate::sync::lock(&self.bar).replace(bar) {
                    old.finish_and_clear();
                }
            }
            Event::Item { done, failed, .. } => self.with_bar(|b| {
                if let Some(b) = b {
                    b.set_position(*done as u64);
                    if *failed > 0 {
                        b.set_message(format!("({failed} failed)"));
                    }
                }
            }),
            Event::Finished { .. } => self.finish(),
            _ => {}
        }
    }

    /// Prints a line on stdout, above the bar if one is drawn.
    pub fn println_stdout(&self, line: &str) {
        self.with_bar(|b| match b {
            Some(b) => b.suspend(|| println_ignoring_pipe(line)),
            None => println_ignoring_pipe(line),
        })
    }

    /// Prints a line on stderr, above the bar if one is drawn.
    pub fn eprintln(&self, line: &str) {
        self.with_bar(|b| match b {
            Some(b) => b.suspend(|| eprintln!("{line}")),
            None => eprintln!("{line}"),
        })
    }
}

/// `println!` that ignores a closed pipe instead of panicking.
fn println_ignoring_pipe(line: &str) {
    use std::io::Write as _;
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{line}");
}

/// What the bulk runs of a command got through, from their events: for the summary printed
/// when the command is interrupted. Cloning shares it.
#[derive(Clone, Debug, Default)]
pub struct BulkTally(Arc<Mutex<Vec<BulkRun>>>);

/// One `bulk::run` as its events told it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BulkRun {
    /// Its label (`renew`, `resize`).
    pub label: String,
    /// Tasks in all.
    pub total: usize,
    /// Tasks this run applied.
    pub applied: usize,
    /// Tasks an earlier run had applied.
    pub already: usize,
    /// Tasks that failed.
    pub failed: usize,
    /// Whether the run finished.
    pub finished: bool,
}

impl BulkTally {
    /// Records an event.
    pub fn record(&self, e: &crate::gandi::bulk::Event<'_>) {
        use crate::gandi::bulk::{Event, Outcome};
        let mut runs = crate::sync::lock(&self.0);
        match e {
            Event::Started { label, total } => {
                runs.push(BulkRun { label: label.to_string(), total: *total, ..BulkRun::default() })
            }
            Event::Item { result, .. } => {
                if let Some(run) = runs.last_mut() {
                    match result.outcome {
                        Outcome::Applied => run.applied += 1,
                        Outcome::AlreadyApplied => run.already += 1,
                        Outcome::Failed => run.failed += 1,
                        _ => {}
                    }
                }
            }
            Event::Finished { .. } => {
                if let Some(run) = runs.last_mut() {
                    run.finished = true;
                }
            }
            _ => {}
        }
    }

    /// The runs recorded so far.
    pub fn runs(&self) -> Vec<BulkRun> {
        crate::sync::lock(&self.0).clone()
    }

    /// For an interrupted command: a line per bulk run saying what was applied and what was
    /// still pending, and how to finish; empty when no bulk run started.
    pub fn interruption_summary(&self) -> String {
        let mut out = String::new();
        for r in self.runs() {
            let pending = r.total.saturating_sub(r.applied + r.already + r.failed);
            out.push_str(&format!(
                "{}: {} applied, {} done by an earlier run, {} failed or cut off, {pending} not done (not \
                 sent yet) of {}\n",
                r.label, r.applied, r.already, r.failed, r.total
            ));
        }
        if !out.is_empty() {
            out.push_str(
                "the journal records every change sent: run the same command again to finish; it \
                 checks the pending ones first and sends nothing twice\n",
            );
        }
        out
    }
}
