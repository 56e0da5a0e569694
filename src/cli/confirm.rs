//! The one confirmation rule of `eval`, `run` and the REPL, installed as the runtime's
//! confirmation hook ([`crate::script::confirm`]).
//!
//! Only on a terminal: when standard input is not one (a pipe, cron, systemd), nothing is
//! asked and every change is sent, so a scheduled run never blocks; `--yes` answers "all" to
//! everything; `--dry-run` sends nothing, so it asks nothing. Otherwise gandish asks before each
//! delete, and before the first billable change of a run (a creation, renewal, update, a method
//! it does not know, or a `bulk::run` batch), showing it. A REPL entry is a run. The answers:
//!
//! - `y` (yes): send it (and the billable changes after it, without asking again);
//! - `n` (no, the default): skip this one, the script goes on with the next;
//! - `a` (all): send it and everything else in this run without asking;
//! - `q` (quit), or Ctrl-C, or end of input at the prompt: send nothing more, stop the run.

use std::io::IsTerminal as _;
use std::sync::{Arc, Mutex};

use crate::script::{CancelHandle, Decision, Mutation};

/// The answer to one question.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Answer {
    /// Send this change.
    Yes,
    /// Skip this change.
    No,
    /// Send this one and every later one in the same run.
    All,
    /// Send nothing more: stop the run.
    Quit,
}

/// Puts a question to the user and returns the answer (the terminal prompt, or a test's script).
pub type Asker = Box<dyn Fn(&str) -> Answer + Send + Sync>;

/// The prompt's choices, after the change it asks about.
pub const CHOICES: &str = "? [y]es / [n]o, skip it / [a]ll / [q]uit ";

#[derive(Debug, Default)]
struct RunState {
    /// A billable change was confirmed in this run: the next ones go without asking.
    billable_confirmed: bool,
    /// `all` was answered.
    all: bool,
}

/// The confirmation policy of one runtime.
pub struct Confirmer {
    state: Mutex<RunState>,
    cancel: CancelHandle,
    ask: Asker,
}

impl std::fmt::Debug for Confirmer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Confirmer").finish_non_exhaustive()
    }
}

impl Confirmer {
    /// A policy asking with `ask`; `cancel` stops the run on `quit`.
    pub fn new(cancel: CancelHandle, ask: Asker) -> Arc<Confirmer> {
        Arc::new(Confirmer { state: Mutex::default(), cancel, ask })
    }

    /// Installs the rule on `rt` when it applies: not with `--yes` or `--dry-run`, and only
    /// when standard input is a terminal. Returns the policy (to reset between REPL entries).
    pub fn install(rt: &crate::Runtime, yes: bool, dry_run: bool) -> Option<Arc<Confirmer>> {
        if yes || dry_run || !std::io::stdin().is_terminal() {
            return None;
        }
        let confirmer = Confirmer::new(rt.cancel_handle(), Box::new(ask_on_terminal));
        let c = confirmer.clone();
        rt.set_confirm(Some(Arc::new(move |m| c.decide(m))));
        Some(confirmer)
    }

    /// Starts a new run (a REPL entry): forgets its answers.
    pub fn new_run(&self) {
        *crate::sync::lock(&self.state) = RunState::default();
    }

    /// The hook: what to do with `m`.
    pub fn decide(&self, m: &Mutation) -> Decision {
        let billable = m.is_billable();
        {
            let st = crate::sync::lock(&self.state);
            if st.all || !(m.is_delete() || (billable && !st.billable_confirmed)) {
                return Decision::Send;
            }
        }
        let what =
            if m.is_delete() || !billable { m.summary.clone() } else { format!("{} (billable)", m.summary) };
        match (self.ask)(&format!("{what}{CHOICES}")) {
            Answer::Yes => {
                if billable {
                    crate::sync::lock(&self.state).billable_confirmed = true;
                }
                Decision::Send
            }
            Answer::All => {
                crate::sync::lock(&self.state).all = true;
                Decision::Send
            }
            Answer::No => Decision::Skip,
            Answer::Quit => {
                self.cancel.cancel();
                Decision::Decline
            }
        }
    }
}

/// Reads the answer on the terminal (rustyline: Ctrl-C there is a key, and means quit).
pub fn ask_on_terminal(question: &str) -> Answer {
    let Ok(mut rl) = rustyline::DefaultEditor::new() else { return Answer::Quit };
    match rl.readline(question) {
        Ok(a) => parse_answer(&a),
        Err(_) => Answer::Quit,
    }
}

/// `y`/`yes` → yes, `a`/`all` → all, `q`/`quit` → quit, anything else (an empty line too) →
/// no, skip it.
pub fn parse_answer(a: &str) -> Answer {
    match a.trim().to_ascii_lowercase().as_str() {
        "y" | "yes" => Answer::Yes,
        "a" | "all" => Answer::All,
        "q" | "quit" => Answer::Quit,
        _ => Answer::No,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(method: &str, id: Option<i64>) -> Mutation {
        Mutation::new("f", method, format!("{method} {id:?}"), id)
    }

    type Asked = Arc<Mutex<Vec<String>>>;

    fn confirmer(answers: Vec<Answer>) -> (Arc<Confirmer>, Asked, CancelHandle) {
        let asked = Arc::new(Mutex::new(Vec::new()));
        let log = asked.clone();
        let answers = Mutex::new(answers);
        let ask: Asker = Box::new(move |q| {
            log.lock().unwrap().push(q.to_string());
            answers.lock().unwrap().remove(0)
        });
        let cancel = CancelHandle::default();
        (Confirmer::new(cancel.clone(), ask), asked, cancel)
    }

    #[test]
    fn deletes_always_and_the_first_billable_change_of_a_run() {
        let (c, asked, _) = confirmer(vec![Answer::No, Answer::Yes, Answer::Yes]);
        assert_eq!(c.decide(&m("paas.restart", Some(1))), Decision::Send, "not billable, not a delete");
        assert_eq!(c.decide(&m("paas.delete", Some(1))), Decision::Skip, "asked, answered no");
        assert_eq!(c.decide(&m("paas.renew", Some(1))), Decision::Send, "the first billable: asked, yes");
        assert_eq!(c.decide(&m("paas.renew", Some(2))), Decision::Send, "the second: not asked");
        assert_eq!(c.decide(&m("paas.update", Some(3))), Decision::Send);
        assert_eq!(c.decide(&m("paas.vhost.delete", None)), Decision::Send, "a delete: asked, yes");
        let asked = asked.lock().unwrap().clone();
        assert_eq!(asked.len(), 3, "{asked:?}");
        assert!(asked[1].ends_with(&format!("(billable){CHOICES}")), "{asked:?}");
        c.new_run();
        let (c2, asked2, _) = confirmer(vec![Answer::No, Answer::Yes]);
        assert_eq!(c2.decide(&m("paas.create", None)), Decision::Skip, "skipped: still unconfirmed");
        assert_eq!(c2.decide(&m("weird.method", None)), Decision::Send, "unknown counts as billable");
        assert_eq!(asked2.lock().unwrap().len(), 2);
    }

    #[test]
    fn all_answers_the_rest_of_the_run_and_quit_cancels() {
        let (c, asked, _) = confirmer(vec![Answer::All, Answer::Quit]);
        assert_eq!(c.decide(&m("paas.delete", Some(1))), Decision::Send);
        assert_eq!(c.decide(&m("paas.delete", Some(2))), Decision::Send);
        assert_eq!(c.decide(&m("paas.create", None)), Decision::Send);
        assert_eq!(asked.lock().unwrap().len(), 1);
        c.new_run();
        let (c, _, _) = confirmer(vec![Answer::Quit]);
        assert_eq!(c.decide(&m("paas.delete", Some(1))), Decision::Decline, "quit: nothing sent");
    }

    #[test]
    fn answers() {
        assert_eq!(parse_answer(" Y\n"), Answer::Yes);
        assert_eq!(parse_answer("all"), Answer::All);
        assert_eq!(parse_answer("q"), Answer::Quit);
        assert_eq!(parse_answer(""), Answer::No);
        assert_eq!(parse_answer("nope"), Answer::No);
    }
}
