//! Errors: what scripts catch, and what the host gets back.
//!
//! Native functions fail with `ErrorRuntime(map, position)`, the position being the call's in
//! the script, so every failing call reports its line. The map always has `kind` and `message`:
//!
//! | `kind` | Other keys | Raised for |
//! |---|---|---|
//! | `"fault"` | `code`, `object`, `cause`, `detail`, `qualification`, `method` | a Gandi (or XML-RPC) fault |
//! | `"transport"` | `method`, `timeout` (bool), `maybe_applied` (bool) | no answer: connection, HTTP status, timeout, bad reply |
//! | `"operation"` | `id`, `type`, `step`, `last_error` | `op::wait`: an operation ended in ERROR, CANCEL or SUPPORT |
//! | `"wait_timeout"` | `pending` (ids) | `op::wait`: operations still pending at its timeout |
//! | `"argument"` | `function` | a bad argument (wrong type, missing `id`, a value the API cannot carry) |
//! | `"declined"` | `function`, `method` | the host's confirmation hook declined a change ([`confirm`](super::confirm)); nothing was sent |
//! | `"usage"` | `function` | `bulk::run`: the journal cannot be opened or written; nothing was sent |
//!
//! A script may throw `#{kind: "usage", message}` itself to refuse its arguments before it sends
//! anything (`std/resize` does, for a change that would shrink instances): the host gets
//! [`Error::Usage`], and `gandish run` exits 2 with the message alone.
//!
//! All of them are catchable with `try { … } catch (e) { … }`. Cancellation, the wall-clock
//! timeout and the engine limits are not catchable.

use std::path::PathBuf;
use std::time::Duration;

use rhai::{Dynamic, EvalAltResult, Map, Position};

use super::limits::Stop;
use crate::gandi::GandiError;

/// Builds a script error from a map.
pub(crate) fn map_error(map: Map, pos: Position) -> Box<EvalAltResult> {
    EvalAltResult::ErrorRuntime(Dynamic::from_map(map), pos).into()
}

/// A bad argument to `function`.
pub(crate) fn arg_error(function: &str, message: impl Into<String>, pos: Position) -> Box<EvalAltResult> {
    function_error("argument", function, message.into(), pos)
}

/// `#{kind, function, message: "function: message"}`.
fn function_error(kind: &str, function: &str, message: String, pos: Position) -> Box<EvalAltResult> {
    let mut m = Map::new();
    m.insert("kind".into(), kind.into());
    m.insert("function".into(), function.into());
    m.insert("message".into(), format!("{function}: {message}").into());
    map_error(m, pos)
}

fn opt(s: Option<&str>) -> Dynamic {
    s.map(|s| Dynamic::from(s.to_string())).unwrap_or(Dynamic::UNIT)
}

/// The script error for a failed Gandi call or wait.
pub(crate) fn api_error(e: GandiError, pos: Position) -> Box<EvalAltResult> {
    let mut m = Map::new();
    match &e {
        GandiError::Fault(f) => {
            m.insert("kind".into(), "fault".into());
            m.insert("code".into(), f.code.into());
            m.insert("object".into(), opt(f.object.as_deref()));
            m.insert("cause".into(), opt(f.cause.as_deref()));
            m.insert("detail".into(), opt(f.detail.as_deref()));
            m.insert("qualification".into(), opt(f.qualification.map(|q| q.as_str())));
            m.insert("method".into(), f.method.clone().into());
        }
        GandiError::OperationFailed { id, kind, step, last_error } => {
            m.insert("kind".into(), "operation".into());
            m.insert("id".into(), (*id).into());
            m.insert("type".into(), kind.clone().into());
            m.insert("step".into(), step.as_str().into());
            m.insert("last_error".into(), opt(last_error.as_deref()));
        }
        GandiError::WaitTimeout { pending, .. } | GandiError::WaitCancelled { pending } => {
            m.insert("kind".into(), "wait_timeout".into());
            let ids: rhai::Array = pending.iter().map(|(id, _, _)| Dynamic::from(*id)).collect();
            m.insert("pending".into(), ids.into());
        }
        other => {
            m.insert("kind".into(), "transport".into());
            m.insert("method".into(), opt(other.method()));
            m.insert("timeout".into(), other.is_timeout().into());
            m.insert("maybe_applied".into(), other.maybe_applied().into());
        }
    }
    m.insert("message".into(), e.to_string().into());
    // The typed error rides along (opaque to scripts), so the host's `Error` can give it back as
    // its `source()`.
    m.insert("source".into(), Dynamic::from(ApiSource(e)));
    map_error(m, pos)
}

/// A Gandi error carried inside a script's error map, for [`Error::Fault`] and
/// [`Error::Transport`] to hand back to the host.
#[derive(Clone, Debug)]
struct ApiSource(GandiError);

fn api_source(m: &Map) -> Option<Box<GandiError>> {
    m.get("source")?.clone().try_cast::<ApiSource>().map(|s| Box::new(s.0))
}

/// Why a script run failed.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// The script file could not be read.
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// An uncaught Gandi (or XML-RPC) fault. Its [`source`](std::error::Error::source) is the
    /// [`GandiError`] (code, object, cause, method), when the call was the runtime's.
    Fault {
        /// The fault code.
        code: i64,
        /// The method that failed.
        method: String,
        /// The full message (what the CLI prints).
        message: String,
        /// Where in the script.
        position: Position,
        /// The typed error.
        source: Option<Box<GandiError>>,
    },
    /// An uncaught transport error: no answer from the API (connection, timeout, HTTP status,
    /// bad reply).
    Transport {
        /// The method being called.
        method: String,
        /// The full message.
        message: String,
        /// Whether an HTTP timeout expired.
        timeout: bool,
        /// Where in the script.
        position: Position,
        /// The typed error ([`GandiError::maybe_applied`] says whether a change may have been
        /// applied).
        source: Option<Box<GandiError>>,
    },
    /// The run was stopped through the [`CancelHandle`](super::CancelHandle).
    Cancelled {
        /// Where the script was.
        position: Position,
    },
    /// The script refused its arguments before sending anything: a thrown
    /// `#{kind: "usage", message}`, as `std/resize` throws for a change that would shrink
    /// instances. The command line exits 2 for it.
    Usage {
        /// What was wrong with the arguments, and what to pass instead.
        message: String,
        /// Where in the script it was thrown.
        position: Position,
    },
    /// The run exceeded its wall-clock limit.
    Timeout {
        /// The limit.
        limit: Duration,
        /// Where the script was.
        position: Position,
    },
    /// A bulk run's journal could not be used: another run holds it (`locked`), or it is
    /// damaged. Nothing was sent.
    Journal {
        /// The full message.
        message: String,
        /// Whether another run holds it.
        locked: bool,
        /// Where in the script.
        position: Position,
    },
    /// Any other script error: parse errors, limits, runtime errors, failed operations,
    /// argument errors. Displayed as Rhai displays it (message, source and position).
    Script(Box<EvalAltResult>),
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Error::Io { path, source } => write!(f, "cannot read {}: {source}", path.display()),
            // The cause is the source's to tell: here only where it happened.
            Error::Fault { method, position, .. } | Error::Transport { method, position, .. } => {
                write!(f, "{method} failed{}", at(*position))
            }
            Error::Cancelled { position } => write!(f, "script cancelled{}", at(*position)),
            Error::Usage { message, .. } => f.write_str(message),
            Error::Timeout { limit, position } => {
                write!(f, "script timed out after {} ms{}", limit.as_millis(), at(*position))
            }
            Error::Journal { message, position, .. } => write!(f, "{message}{}", at(*position)),
            Error::Script(e) => f.write_str(&script_message(e)),
        }
    }
}

impl std::error::Error for Error {
    /// For an uncaught fault or transport error, the [`GandiError`] behind it.
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Fault { source, .. } | Error::Transport { source, .. } => {
                source.as_deref().map(|e| e as &(dyn std::error::Error + 'static))
            }
            _ => None,
        }
    }
}

fn at(pos: Position) -> String {
    match (pos.line(), pos.position()) {
        (Some(l), Some(c)) => format!(" (line {l}, position {c})"),
        (Some(l), None) => format!(" (line {l})"),
        _ => String::new(),
    }
}

/// The innermost error, through function-call and module wrappers.
fn innermost(e: &EvalAltResult) -> &EvalAltResult {
    let mut e = e;
    loop {
        match e {
            EvalAltResult::ErrorInFunctionCall(_, _, inner, _)
            | EvalAltResult::ErrorInModule(_, inner, _) => e = inner,
            _ => return e,
        }
    }
}

fn script_message(e: &EvalAltResult) -> String {
    // A map thrown by a native function prints as its message, not as a map literal.
    if let EvalAltResult::ErrorRuntime(v, pos) = innermost(e)
        && let Some(m) = v.read_lock::<Map>()
        && let Some(msg) = m.get("message")
    {
        let pos = if pos.is_none() { e.position() } else { *pos };
        return format!("{msg}{}", at(pos));
    }
    e.to_string()
}

impl Error {
    /// The Gandi error behind an uncaught fault or transport error, when the runtime made the
    /// call.
    pub fn gandi(&self) -> Option<&GandiError> {
        match self {
            Error::Fault { source, .. } | Error::Transport { source, .. } => source.as_deref(),
            _ => None,
        }
    }

    /// Whether the call that failed may have applied a change (a lost reply, a timeout, a call
    /// cut off): check before sending it again. False for faults, and for errors with no call.
    pub fn maybe_applied(&self) -> bool {
        self.gandi().is_some_and(GandiError::maybe_applied)
    }

    /// The position in the script, when known.
    pub fn position(&self) -> Option<Position> {
        let p = match self {
            Error::Io { .. } => return None,
            Error::Fault { position, .. }
            | Error::Transport { position, .. }
            | Error::Cancelled { position }
            | Error::Journal { position, .. }
            | Error::Usage { position, .. }
            | Error::Timeout { position, .. } => *position,
            Error::Script(e) => match innermost(e) {
                EvalAltResult::ErrorRuntime(_, p) if !p.is_none() => *p,
                inner => {
                    if inner.position().is_none() {
                        e.position()
                    } else {
                        inner.position()
                    }
                }
            },
        };
        (!p.is_none()).then_some(p)
    }

    /// The line in the script, when known.
    pub fn line(&self) -> Option<usize> {
        self.position().and_then(|p| p.line())
    }

    /// The value thrown (by `throw` or a native function), when the error is one.
    pub fn thrown(&self) -> Option<&Dynamic> {
        match self {
            Error::Script(e) => match innermost(e) {
                EvalAltResult::ErrorRuntime(v, _) => Some(v),
                _ => None,
            },
            _ => None,
        }
    }
}

impl From<Box<EvalAltResult>> for Error {
    fn from(e: Box<EvalAltResult>) -> Error {
        let inner = innermost(&e);
        match inner {
            EvalAltResult::ErrorTerminated(token, pos) => match Stop::from_token(token) {
                Some(Stop::Cancelled) => return Error::Cancelled { position: *pos },
                Some(Stop::TimedOut(limit)) => return Error::Timeout { limit, position: *pos },
                None => {}
            },
            EvalAltResult::ErrorRuntime(v, pos) => {
                if let Some(m) = v.read_lock::<Map>() {
                    let s = |k: &str| m.get(k).map(|v| v.to_string()).unwrap_or_default();
                    let pos = if pos.is_none() { e.position() } else { *pos };
                    match m.get("kind").map(|k| k.to_string()).as_deref() {
                        Some("fault") => {
                            return Error::Fault {
                                code: m.get("code").and_then(|c| c.as_int().ok()).unwrap_or(0),
                                method: s("method"),
                                message: s("message"),
                                position: pos,
                                source: api_source(&m),
                            };
                        }
                        Some("journal") => {
                            return Error::Journal {
                                message: s("message"),
                                locked: m.get("locked").and_then(|l| l.as_bool().ok()).unwrap_or(false),
                                position: pos,
                            };
                        }
                        Some("usage") => return Error::Usage { message: s("message"), position: pos },
                        Some("transport") => {
                            return Error::Transport {
                                method: s("method"),
                                message: s("message"),
                                timeout: m.get("timeout").and_then(|t| t.as_bool().ok()).unwrap_or(false),
                                position: pos,
                                source: api_source(&m),
                            };
                        }
                        _ => {}
                    }
                }
            }
            _ => {}
        }
        Error::Script(e)
    }
}
