//! `gandish run --metrics-file FILE`: the run's outcome in the Prometheus text exposition format,
//! for node_exporter's textfile collector, written atomically (a temporary file, then a rename:
//! the collector never reads half a file) at the end of every run, whatever its exit.
//!
//! Every value describes the last run, so every metric is a gauge: a count that starts again at
//! each run is not a Prometheus counter (no `_total` suffix), and `rate()` over it would be
//! meaningless. Each metric has the label `script` (`std/renew`, or the file as given), so one
//! collector folder can hold the files of several jobs. The file holds no key: it has no text
//! from the run but the script's name and the bulk labels, and goes through the redactor anyway.

use std::fmt::Write as _;

use super::progress::BulkRun;

/// What one run's metrics file says.
#[derive(Clone, Debug, Default)]
pub struct RunMetrics {
    /// The script as given (`std/renew`, `./renew.rhai`).
    pub script: String,
    /// The exit status.
    pub exit: u8,
    /// When the run started and ended, in Unix seconds.
    pub start_unix: f64,
    /// See [`start_unix`](Self::start_unix).
    pub end_unix: f64,
    /// API calls made.
    pub calls: u64,
    /// Rate-limit faults (160004) received.
    pub rate_limit_faults: u64,
    /// The bulk runs' counts (`std/renew`, `std/resize`).
    pub bulk: Vec<BulkRun>,
    /// The outcome counts of the script's report (`renewed`, `skipped`, `failed`…), when it
    /// returns one as the bundled bulk scripts do.
    pub items: Vec<(String, i64)>,
}

/// A label value escaped as the exposition format wants: backslash, double quote, newline.
fn label(value: &str) -> String {
    value.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

impl RunMetrics {
    /// The file's text: `# HELP` and `# TYPE` before each metric's samples, one sample a line.
    pub fn render(&self) -> String {
        let script = label(&self.script);
        let mut out = String::new();
        let mut gauge = |name: &str, help: &str, samples: &[(String, f64)]| {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} gauge");
            for (labels, value) in samples {
                let _ = writeln!(out, "{name}{{script=\"{script}\"{labels}}} {value}");
            }
        };
        let one = |v: f64| [(String::new(), v)];
        gauge(
            "gandish_run_last_exit_status",
            "Exit status of the last run (0: success).",
            &one(f64::from(self.exit)),
        );
        gauge(
            "gandish_run_last_success",
            "Whether the last run succeeded (1) or not (0).",
            &one(if self.exit == 0 { 1.0 } else { 0.0 }),
        );
        gauge(
            "gandish_run_last_start_timestamp_seconds",
            "When the last run started, in Unix time.",
            &one(self.start_unix),
        );
        gauge(
            "gandish_run_last_end_timestamp_seconds",
            "When the last run ended, in Unix time.",
            &one(self.end_unix),
        );
        gauge(
            "gandish_run_duration_seconds",
            "How long the last run took, in seconds.",
            &one((self.end_unix - self.start_unix).max(0.0)),
        );
        gauge("gandish_run_api_calls", "API calls the last run made.", &one(self.calls as f64));
        gauge(
            "gandish_run_rate_limit_faults",
            "Rate-limit faults (160004) the last run received.",
            &one(self.rate_limit_faults as f64),
        );
        let items: Vec<(String, f64)> = self
            .bulk
            .iter()
            .flat_map(|r| {
                let pending = r.total.saturating_sub(r.applied + r.already + r.failed);
                let l = label(&r.label);
                [
                    ("applied", r.applied),
                    ("already_applied", r.already),
                    ("failed", r.failed),
                    ("not_done", pending),
                    ("total", r.total),
                ]
                .map(|(outcome, n)| (format!(",label=\"{l}\",outcome=\"{outcome}\""), n as f64))
            })
            .collect();
        let report: Vec<(String, f64)> =
            self.items.iter().map(|(k, n)| (format!(",outcome=\"{}\"", label(k)), *n as f64)).collect();
        if !report.is_empty() {
            gauge(
                "gandish_run_items",
                "Items of the last run by outcome, as its report counts them (std/renew: renewed, \
                 still_due, skipped, failed, planned).",
                &report,
            );
        }
        if !items.is_empty() {
            gauge(
                "gandish_bulk_items",
                "Items of the last run's bulk work (label: renew, resize) by outcome: applied by \
                 it, already applied by an earlier run, failed, not done, and the total.",
                &items,
            );
        }
        out
    }
}

impl RunMetrics {
    /// The `--log-format json` line: the run's end as one JSON object (no newline), with the
    /// run's `status` (as its report says it) and the error text of a failed run.
    pub fn log_line(&self, status: &str, error: Option<&str>) -> String {
        let bulk: Vec<serde_json::Value> = self
            .bulk
            .iter()
            .map(|r| {
                serde_json::json!({
                    "label": r.label, "total": r.total, "applied": r.applied,
                    "already_applied": r.already, "failed": r.failed, "finished": r.finished,
                })
            })
            .collect();
        let items: serde_json::Map<String, serde_json::Value> =
            self.items.iter().map(|(k, n)| (k.clone(), (*n).into())).collect();
        serde_json::json!({
            "ts": self.end_unix,
            "level": if self.exit == 0 { "info" } else { "error" },
            "event": "run.end",
            "script": self.script,
            "status": status,
            "exit": self.exit,
            "error": error,
            "duration_seconds": (self.end_unix - self.start_unix).max(0.0),
            "api_calls": self.calls,
            "rate_limit_faults": self.rate_limit_faults,
            "items": items,
            "bulk": bulk,
        })
        .to_string()
    }
}

/// Calls made and rate-limit faults received, counted by the runtime's call hook (the call log
/// keeps only the last 10,000 calls). Cloning shares it.
#[derive(Clone, Debug, Default)]
pub struct CallTally {
    calls: std::sync::Arc<std::sync::atomic::AtomicU64>,
    rate_limited: std::sync::Arc<std::sync::atomic::AtomicU64>,
}

impl CallTally {
    /// Counts a call.
    pub fn record(&self, r: &crate::gandi::CallRecord) {
        use std::sync::atomic::Ordering::Relaxed;
        self.calls.fetch_add(1, Relaxed);
        if matches!(r.outcome, crate::gandi::CallOutcome::Fault { code, .. } if code == crate::gandi::throttle::RATE_LIMIT_FAULT)
        {
            self.rate_limited.fetch_add(1, Relaxed);
        }
    }

    /// Calls so far, and rate-limit faults among them.
    pub fn counts(&self) -> (u64, u64) {
        use std::sync::atomic::Ordering::Relaxed;
        (self.calls.load(Relaxed), self.rate_limited.load(Relaxed))
    }
}

/// Unix time now, in seconds with a fraction.
pub fn unix_now() -> f64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0.0, |d| d.as_secs_f64())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_are_escaped_and_every_metric_has_help_and_type() {
        let m = RunMetrics {
            script: "a \"b\"\\c\nd".into(),
            exit: 1,
            start_unix: 10.0,
            end_unix: 12.5,
            bulk: vec![BulkRun {
                label: "renew".into(),
                total: 5,
                applied: 2,
                failed: 1,
                ..BulkRun::default()
            }],
            items: vec![("skipped".into(), 4)],
            ..RunMetrics::default()
        };
        let text = m.render();
        assert!(text.contains(r#"gandish_run_last_exit_status{script="a \"b\"\\c\nd"} 1"#), "{text}");
        assert!(text.contains(r#"gandish_run_duration_seconds{script="a \"b\"\\c\nd"} 2.5"#), "{text}");
        assert!(text.contains(r#",label="renew",outcome="not_done"} 2"#), "{text}");
        let helps = text.lines().filter(|l| l.starts_with("# HELP ")).count();
        let types = text.lines().filter(|l| l.starts_with("# TYPE ") && l.ends_with(" gauge")).count();
        assert!(text.contains(r#"gandish_run_items{script="a \"b\"\\c\nd",outcome="skipped"} 4"#), "{text}");
        assert_eq!((helps, types), (9, 9), "{text}");
    }
}
