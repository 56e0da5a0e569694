//! Which changes the REPL asks about, and how: a delete always, and a renew or update once an
//! entry reaches a second instance (one entry renewing many instances is a bulk change). At a
//! terminal the user answers `y` (this one), `a` (all the rest of this entry) or anything else
//! (no; Ctrl-C also cancels the entry). With piped input there is nobody to ask: such changes are
//! refused with a note saying to pass `--yes`. With `--yes` nothing is asked.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};

use crate::script::{CancelHandle, Mutation};

/// How questions are answered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Ask on the terminal.
    Ask,
    /// Refuse (no terminal to ask on).
    Refuse,
}

/// The answer to one question.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Answer {
    /// Send this change.
    Yes,
    /// Send this one and every later one in the same entry.
    All,
    /// Do not send it.
    No,
    /// Do not send it, and stop the entry.
    Cancel,
}

#[derive(Debug, Default)]
struct EntryState {
    /// Instances renewed or updated by the current entry.
    bulk: BTreeSet<i64>,
    all: bool,
}

/// Asks a question and returns the answer (a terminal prompt, or a test's script).
pub type Asker = Box<dyn Fn(&str) -> Answer + Send + Sync>;

/// The REPL's confirmation policy, installed as the runtime's confirmation hook.
pub struct Confirmer {
    mode: Mode,
    state: Mutex<EntryState>,
    cancel: CancelHandle,
    ask: Asker,
    notes: Box<dyn Fn(&str) + Send + Sync>,
}

impl std::fmt::Debug for Confirmer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Confirmer").field("mode", &self.mode).finish_non_exhaustive()
    }
}

/// Whether a change needs a confirmation: deletes always, renew and update once the entry
/// touches a second instance. Records the instance.
fn needs_confirmation(state: &mut EntryState, m: &Mutation) -> Option<String> {
    let method = m.method.as_str();
    if method.ends_with(".delete") {
        return Some(m.summary.clone());
    }
    if matches!(method, "paas.renew" | "paas.update")
        && let Some(id) = m.instance
    {
        state.bulk.insert(id);
        if state.bulk.len() > 1 {
            let verb = if method == "paas.renew" { "renew" } else { "update" };
            return Some(format!("{} (this entry would {verb} {} instances)", m.summary, state.bulk.len()));
        }
    }
    None
}

impl Confirmer {
    /// A policy answering in `mode`; `ask` puts a question to the user, `notes` reports
    /// refusals; `cancel` stops the entry on Ctrl-C.
    pub fn new(
        mode: Mode,
        cancel: CancelHandle,
        ask: Asker,
        notes: impl Fn(&str) + Send + Sync + 'static,
    ) -> Arc<Confirmer> {
        Arc::new(Confirmer { mode, state: Mutex::default(), cancel, ask, notes: Box::new(notes) })
    }

    /// Forgets the previous entry's changes and answers.
    pub fn new_entry(&self) {
        *self.state.lock().unwrap_or_else(|e| e.into_inner()) = EntryState::default();
    }

    /// The hook: whether to send `m`.
    pub fn decide(&self, m: &Mutation) -> bool {
        let question = {
            let mut st = self.state.lock().unwrap_or_else(|e| e.into_inner());
            if st.all {
                return true;
            }
            match needs_confirmation(&mut st, m) {
                Some(q) => q,
                None => return true,
            }
        };
        match self.mode {
            Mode::Refuse => {
                (self.notes)(&format!(
                    "refused: {question}: confirmation needed and stdin is not a terminal (pass --yes)"
                ));
                false
            }
            Mode::Ask => match (self.ask)(&format!("{question}? [y]es / [a]ll / [N]o ")) {
                Answer::Yes => true,
                Answer::All => {
                    self.state.lock().unwrap_or_else(|e| e.into_inner()).all = true;
                    true
                }
                Answer::No => false,
                Answer::Cancel => {
                    self.cancel.cancel();
                    false
                }
            },
        }
    }
}

/// Reads the answer on the terminal (rustyline, so Ctrl-C is a key: it cancels the entry).
pub fn ask_on_terminal(question: &str) -> Answer {
    let Ok(mut rl) = rustyline::DefaultEditor::new() else { return Answer::No };
    match rl.readline(question) {
        Ok(a) => parse_answer(&a),
        Err(rustyline::error::ReadlineError::Interrupted) => Answer::Cancel,
        Err(_) => Answer::No,
    }
}

/// `y`/`yes` → yes, `a`/`all` → all, anything else → no.
pub fn parse_answer(a: &str) -> Answer {
    match a.trim().to_ascii_lowercase().as_str() {
        "y" | "yes" => Answer::Yes,
        "a" | "all" => Answer::All,
        _ => Answer::No,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(method: &str, id: Option<i64>) -> Mutation {
        Mutation::new("f", method, format!("{method} {id:?}"), id)
    }

    fn confirmer(mode: Mode, answers: Vec<Answer>) -> (Arc<Confirmer>, Arc<Mutex<Vec<String>>>) {
        let asked = Arc::new(Mutex::new(Vec::new()));
        let log = asked.clone();
        let answers = Mutex::new(answers);
        let ask: Asker = Box::new(move |q| {
            log.lock().unwrap().push(q.to_string());
            answers.lock().unwrap().remove(0)
        });
        (Confirmer::new(mode, CancelHandle::default(), ask, |_| {}), asked)
    }

    #[test]
    fn deletes_always_bulk_renews_from_the_second_instance() {
        let (c, asked) = confirmer(Mode::Ask, vec![Answer::No, Answer::Yes, Answer::No]);
        assert!(c.decide(&m("paas.restart", Some(1))), "a restart is not destructive");
        assert!(!c.decide(&m("paas.delete", Some(1))));
        assert!(c.decide(&m("paas.renew", Some(1))), "one instance: no question");
        assert!(c.decide(&m("paas.renew", Some(1))), "the same instance again: still one");
        assert!(c.decide(&m("paas.update", Some(2))), "a second instance: asked, answered yes");
        assert!(!c.decide(&m("paas.vhost.delete", None)));
        let asked = asked.lock().unwrap().clone();
        assert_eq!(asked.len(), 3, "{asked:?}");
        assert!(asked[1].contains("this entry would update 2 instances"), "{asked:?}");
        c.new_entry();
        assert!(c.decide(&m("paas.renew", Some(3))), "a new entry starts counting again");
    }

    #[test]
    fn all_answers_the_rest_of_the_entry_and_refuse_mode_never_asks() {
        let (c, asked) = confirmer(Mode::Ask, vec![Answer::All]);
        assert!(c.decide(&m("paas.delete", Some(1))));
        assert!(c.decide(&m("paas.delete", Some(2))));
        assert_eq!(asked.lock().unwrap().len(), 1);

        let (c, asked) = confirmer(Mode::Refuse, vec![]);
        assert!(!c.decide(&m("paas.delete", Some(1))));
        assert!(c.decide(&m("paas.create", None)));
        assert!(asked.lock().unwrap().is_empty());
    }

    #[test]
    fn answers() {
        assert_eq!(parse_answer(" Y\n"), Answer::Yes);
        assert_eq!(parse_answer("all"), Answer::All);
        assert_eq!(parse_answer(""), Answer::No);
        assert_eq!(parse_answer("nope"), Answer::No);
    }
}
