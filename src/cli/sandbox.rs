//! `gandish sandbox`: serves the Gandi PaaS simulator until Ctrl-C or SIGTERM.

use super::args::sandbox::SandboxArgs;

use super::exit::{CliError, Exit};
use crate::sandbox::{self, Dataset, SandboxConfig, SandboxError};

/// Starts the sandbox, prints its URL and key on stderr (with `json`, on stdout as one JSON
/// line `{"url": …, "api_key": …}`, and nothing else there), and serves until Ctrl-C or SIGTERM
/// (exit 0). A setting or bind problem exits 2 with the reason.
pub fn run(args: SandboxArgs, json: bool) -> Exit {
    let running = match sandbox::start(args.config()) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("gandish sandbox: {e}");
            return match e {
                SandboxError::Config(_) => Exit::Usage,
                _ => Exit::Failure,
            };
        }
    };
    let handle = running.shutdown_handle();
    if let Err(e) = ctrlc::set_handler(move || handle.shutdown()) {
        eprintln!("gandish sandbox: cannot handle Ctrl-C/SIGTERM: {e}");
        running.shutdown();
        return Exit::Failure;
    }
    if json {
        // One line, so that a supervisor can read the document as soon as it is printed; the
        // key is the sandbox's own, not a secret of the user's.
        let banner = serde_json::json!({"url": running.url(), "api_key": running.api_key()});
        println!("{banner}");
        let _ = std::io::Write::flush(&mut std::io::stdout());
    } else {
        eprintln!("gandish sandbox listening on {}", running.url());
        eprintln!("API key: {}", running.api_key());
    }
    running.wait();
    eprintln!("gandish sandbox stopped");
    Exit::Success
}

/// A sandbox started in-process for the global `--sandbox` flag; it stops when dropped.
pub struct Embedded {
    running: Option<sandbox::RunningSandbox>,
}

impl Embedded {
    /// Starts the demo dataset on a free loopback port, with one-second operations.
    pub fn start() -> Result<Embedded, CliError> {
        let config = SandboxConfig {
            listen: "127.0.0.1:0".into(),
            dataset: Dataset::Demo,
            op_seconds: 1,
            ..SandboxConfig::default()
        };
        let running = sandbox::start(config)
            .map_err(|e| CliError::failure(format!("cannot start the embedded sandbox: {e}")))?;
        Ok(Embedded { running: Some(running) })
    }

    /// The sandbox's URL.
    pub fn url(&self) -> String {
        self.running.as_ref().map(|r| r.url()).unwrap_or_default()
    }

    /// The key the sandbox accepts.
    pub fn api_key(&self) -> &str {
        self.running.as_ref().map(|r| r.api_key()).unwrap_or_default()
    }
}

impl std::fmt::Debug for Embedded {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Embedded").field("url", &self.url()).finish_non_exhaustive()
    }
}

impl Drop for Embedded {
    fn drop(&mut self) {
        if let Some(r) = self.running.take() {
            r.shutdown();
        }
    }
}
