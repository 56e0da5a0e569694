//! The one confirmation rule, for `eval` and `run` on a terminal (tmux): a question before each
//! delete and before the first billable change of a run, answered y, n (skip this one), a (all)
//! or q (quit); `--yes` asks nothing; with stdin not a terminal nothing is asked and the changes
//! are sent. Each outcome is checked in the sandbox's state and ledger.

use crate::support::term;

use crate::bulk_common;

use std::path::PathBuf;

use bulk_common::{Env, env, text};
use gandish::sandbox::Dataset;
use term::Term;

const CHOICES: &str = "? [y]es / [n]o, skip it / [a]ll / [q]uit";

fn setup() -> (Env, Vec<i64>) {
    let env = env(0, |c| c.dataset = Dataset::Demo);
    let running =
        env.state().instances.values().filter(|i| i.state == "running").map(|i| i.id).take(4).collect();
    (env, running)
}

fn history() -> PathBuf {
    std::env::temp_dir().join(format!("gandish-confirm-pty-{}", std::process::id()))
}

/// `gandish --url … --api-key … ARGS` on a terminal.
fn term(env: &Env, args: &[&str]) -> Term {
    let mut argv = vec!["--url", &env.url, "--api-key", &env.key];
    argv.extend(args);
    Term::command(&history(), &argv)
}

fn exists(env: &Env, id: i64) -> bool {
    env.state().instances.contains_key(&id)
}

#[test]
fn eval_asks_before_each_delete_and_y_sends_n_skips_q_quits() {
    let (env, ids) = setup();
    let script = format!(
        "for id in {:?} {{ let r = paas::delete(id); print(if \"skipped\" in r {{ `skipped ${{id}}` }} else {{ `sent ${{id}}` }}) }}",
        &ids[..3]
    );
    let t = term(&env, &["eval", &script]);
    t.wait_for("the first question", |s| s.contains(&format!("delete instance {}{CHOICES}", ids[0])));
    t.line("y");
    t.wait_for("the second question", |s| s.contains(&format!("delete instance {}{CHOICES}", ids[1])));
    t.line("n");
    t.wait_for("the third question", |s| s.contains(&format!("delete instance {}{CHOICES}", ids[2])));
    t.line("q");
    let screen = t.wait_for("the end", |s| s.contains("[exited "));
    assert!(
        screen.contains(&format!("sent {}", ids[0])) && screen.contains(&format!("skipped {}", ids[1])),
        "{screen}"
    );
    assert!(screen.contains("not confirmed, nothing sent") && screen.contains("[exited 1]"), "{screen}");
    assert!(!exists(&env, ids[0]), "y: deleted");
    assert!(exists(&env, ids[1]) && exists(&env, ids[2]), "n and q: not deleted");
    assert!(exists(&env, ids[3]));
}

#[test]
fn all_answers_everything_else_in_the_run() {
    let (env, ids) = setup();
    let script = format!(
        "paas::delete({}); paas::delete({}); paas::renew({}, \"1m\"); \"done\"",
        ids[0], ids[1], ids[2]
    );
    let t = term(&env, &["eval", &script]);
    t.wait_for("the question", |s| s.contains(&format!("delete instance {}{CHOICES}", ids[0])));
    t.line("a");
    let screen = t.wait_for("the end", |s| s.contains("[exited "));
    assert!(screen.contains("done") && screen.contains("[exited 0]"), "{screen}");
    assert_eq!(screen.matches("[y]es").count(), 1, "one question in all:\n{screen}");
    assert!(!exists(&env, ids[0]) && !exists(&env, ids[1]));
    assert_eq!(env.ledger_counts("paas_vm_renew").get(&ids[2]), Some(&1));
}

#[test]
fn the_first_billable_change_of_a_run_is_asked_once() {
    let (env, ids) = setup();
    let script = format!("for id in {ids:?} {{ paas::renew(id, \"1m\") }} \"renewed\"");
    let t = term(&env, &["eval", &script]);
    t.wait_for("the question", |s| {
        s.contains(&format!("renew instance {} for 1m (billable){CHOICES}", ids[0]))
    });
    t.line("y");
    let screen = t.wait_for("the end", |s| s.contains("[exited "));
    assert!(screen.contains("renewed") && screen.contains("[exited 0]"), "{screen}");
    assert_eq!(screen.matches("[y]es").count(), 1, "{screen}");
    let renewed = env.ledger_counts("paas_vm_renew");
    assert!(ids.iter().all(|id| renewed.get(id) == Some(&1)), "{renewed:?}");
}

#[test]
fn a_bulk_run_asks_once_for_the_batch_and_n_sends_nothing() {
    let (env, _) = setup();
    let args = ["run", "std/renew", "rate=0", "settle_ms=0", "journal=false"];
    let t = term(&env, &args);
    t.wait_for("the question", |s| s.contains("changes in all) (billable)") && s.contains(CHOICES));
    t.line("n");
    let screen = t.wait_for("the end", |s| s.contains("[exited "));
    assert!(screen.contains("not confirmed, nothing sent") && screen.contains("[exited 1]"), "{screen}");
    assert!(env.api_ledger().is_empty(), "nothing was renewed");
    drop(t);

    let t = term(&env, &args);
    t.wait_for("the question", |s| s.contains("changes in all) (billable)"));
    t.line("y");
    let screen = t.wait_for("the end", |s| s.contains("[exited "));
    assert!(screen.contains("[exited 0]"), "{screen}");
    assert_eq!(screen.matches("[y]es").count(), 1, "{screen}");
    assert!(!env.api_ledger().is_empty());
}

#[test]
fn yes_asks_nothing_at_a_terminal() {
    let (env, ids) = setup();
    let t = term(&env, &["--yes", "eval", &format!("paas::delete({}); \"gone\"", ids[0])]);
    let screen = t.wait_for("the end", |s| s.contains("[exited "));
    assert!(
        screen.contains("gone") && screen.contains("[exited 0]") && !screen.contains("[y]es"),
        "{screen}"
    );
    assert!(!exists(&env, ids[0]));
}

#[test]
fn piped_runs_never_prompt_and_send_their_changes() {
    let (env, ids) = setup();
    let script = format!("paas::delete({}); paas::renew({}, \"1m\"); \"ok\"", ids[0], ids[1]);
    let o = env.run(&["eval", &script]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    assert_eq!(text(&o.stdout), "ok\n");
    assert!(!text(&o.stderr).contains("[y]es"), "no prompt: {}", text(&o.stderr));
    assert!(!exists(&env, ids[0]));
    assert_eq!(env.ledger_counts("paas_vm_renew").get(&ids[1]), Some(&1));
}
