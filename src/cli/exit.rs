//! Exit statuses of the gandish command line, and the error type that carries one.

use std::fmt;
use std::process::ExitCode;

/// What a command's outcome means to the shell.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Exit {
    /// 0: success (also when stdout was closed early, as in `gandish … | head`).
    Success,
    /// 1: another failure, such as being unable to write the output.
    Failure,
    /// 2: a usage error: bad flags or arguments, a bad URL or CA file, a refused plain-http URL
    /// (clap's own errors use 2 too).
    Usage,
    /// 3: the server answered with a fault.
    Fault,
    /// 4: a transport or protocol error: connection, TLS, HTTP status, timeout, malformed reply.
    Transport,
    /// 75 (EX_TEMPFAIL): `gandish run --lock FILE` found the lock held by another run; try later.
    Locked,
    /// 124: `gandish run --deadline` ended the run (as `timeout(1)` does).
    Deadline,
    /// 130: interrupted by Ctrl-C (128 + SIGINT).
    Interrupted,
}

impl Exit {
    /// The numeric status.
    pub fn code(self) -> u8 {
        match self {
            Exit::Success => 0,
            Exit::Failure => 1,
            Exit::Usage => 2,
            Exit::Fault => 3,
            Exit::Transport => 4,
            Exit::Locked => 75,
            Exit::Deadline => 124,
            Exit::Interrupted => 130,
        }
    }
}

impl From<Exit> for ExitCode {
    fn from(e: Exit) -> ExitCode {
        ExitCode::from(e.code())
    }
}

/// A failed command: the status to exit with and the line to print on stderr (already in its
/// final form, e.g. `error: …` or `fault 4: …`).
#[derive(Debug)]
pub struct CliError {
    /// The exit status.
    pub exit: Exit,
    /// The message for stderr, without a trailing newline.
    pub message: String,
}

impl CliError {
    /// A usage error (exit 2), printed as `error: {message}`.
    pub fn usage(message: impl fmt::Display) -> CliError {
        CliError { exit: Exit::Usage, message: format!("error: {message}") }
    }

    /// A transport or protocol error (exit 4), printed as `error: {message}`.
    pub fn transport(message: impl fmt::Display) -> CliError {
        CliError { exit: Exit::Transport, message: format!("error: {message}") }
    }

    /// A fault (exit 3), printed as `fault CODE: STRING`.
    pub fn fault(fault: &crate::xmlrpc::Fault) -> CliError {
        CliError { exit: Exit::Fault, message: format!("fault {}: {}", fault.code, fault.message) }
    }

    /// An error with the given status whose message is already in its final form (e.g. a
    /// rendered script error with its source line and caret).
    pub fn rendered(exit: Exit, message: impl Into<String>) -> CliError {
        CliError { exit, message: message.into() }
    }

    /// Another failure (exit 1), printed as `error: {message}`.
    pub fn failure(message: impl fmt::Display) -> CliError {
        CliError { exit: Exit::Failure, message: format!("error: {message}") }
    }
}

/// The exit status for a script error: 3 for an uncaught API fault, 4 for a transport error,
/// 130 for a run cancelled (by Ctrl-C), 2 for a script file that cannot be read or arguments the
/// script refused (a thrown `#{kind: "usage"}`), 1 otherwise
/// (syntax, runtime and argument errors, failed operations, limits, timeouts).
pub fn script_exit(e: &crate::script::Error) -> Exit {
    use crate::script::Error as E;
    match e {
        E::Fault { .. } => Exit::Fault,
        E::Transport { .. } => Exit::Transport,
        E::Cancelled { .. } => Exit::Interrupted,
        E::Io { .. } | E::Usage { .. } => Exit::Usage,
        E::Journal { locked: true, .. } => Exit::Locked,
        E::Journal { .. } => Exit::Usage,
        _ => Exit::Failure,
    }
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for CliError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_the_documented_ones() {
        let all = [
            Exit::Success,
            Exit::Failure,
            Exit::Usage,
            Exit::Fault,
            Exit::Transport,
            Exit::Locked,
            Exit::Deadline,
            Exit::Interrupted,
        ];
        assert_eq!(all.map(Exit::code), [0, 1, 2, 3, 4, 75, 124, 130]);
    }

    #[test]
    fn messages_have_their_prefix() {
        assert_eq!(CliError::usage("bad").message, "error: bad");
        assert_eq!(CliError::fault(&crate::xmlrpc::Fault::new(4, "Too many")).message, "fault 4: Too many");
        assert_eq!(CliError::transport("x").exit, Exit::Transport);
    }
}
