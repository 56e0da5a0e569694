//! `std/resize` never shrinks by surprise: a change lowering size or disk is refused (exit 2,
//! the instances named, nothing sent) unless `allow_shrink=true`; every row shows size and disk
//! before → after; `gandish stdlib` documents the arguments. The built binary against a real
//! sandbox.

use crate::bulk_common;

use bulk_common::{Env, env, text};

const ORDER: [&str; 6] = ["s", "s+", "m", "l", "xl", "xxl"];

fn rank(size: &str) -> usize {
    ORDER.iter().position(|s| *s == size).unwrap_or_else(|| panic!("unknown size {size}"))
}

/// A mixed fleet: sizes from s to xxl, some with extra disk.
fn fleet() -> Env {
    env(60, |_| {})
}

#[test]
fn a_shrink_is_refused_with_exit_2_naming_the_instances_and_nothing_is_sent() {
    let env = fleet();
    let st = env.state();
    let bigger: Vec<_> = st.instances.values().filter(|i| rank(&i.size) > rank("m")).collect();
    let smaller = st.instances.values().filter(|i| rank(&i.size) < rank("m")).count();
    assert!(!bigger.is_empty() && smaller > 0, "the fleet must mix sizes");
    let before = env.world();
    for dry in [false, true] {
        let mut argv = vec!["run", "std/resize", "size=m", "journal=false", "rate=0"];
        if dry {
            argv.insert(0, "--dry-run");
        }
        let o = env.run(&argv);
        let err = text(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "dry run {dry}: {err}");
        assert_eq!(text(&o.stdout), "", "dry run {dry}: no plan or report for a refused run");
        assert!(
            err.contains(&format!("refusing to shrink {} of the {}", bigger.len(), st.instances.len())),
            "{err}"
        );
        assert!(err.contains("allow_shrink=true") && err.contains("from_size="), "{err}");
        for i in &bigger {
            let line = format!("  {} {}: size {} → m", i.id, i.name, i.size);
            assert!(err.contains(&line), "the refusal names {line:?}: {err}");
        }
        assert!(!err.contains("-->"), "a usage error, not a script error with a caret: {err}");
        assert_eq!(env.world(), before, "dry run {dry}: nothing was sent");
    }

    // Lowering the extra disk is a shrink too.
    let with_disk: Vec<_> = st.instances.values().filter(|i| i.quantity > 0).collect();
    assert!(!with_disk.is_empty());
    let o = env.run(&["run", "std/resize", "disk=0", "journal=false"]);
    let err = text(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    for i in &with_disk {
        assert!(err.contains(&format!("  {} {}: disk {} → 0 GB", i.id, i.name, i.quantity)), "{err}");
    }
    assert_eq!(env.world(), before);
}

#[test]
fn allow_shrink_goes_ahead_and_from_size_selects_without_refusal() {
    let env = fleet();
    let st = env.state();
    let small: Vec<i64> = st.instances.values().filter(|i| i.size == "s").map(|i| i.id).collect();
    // Growing the small ones only: nothing to refuse.
    let o =
        env.run(&["run", "std/resize", "size=m", "from_size=s", "journal=false", "rate=0", "settle_ms=0"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let after = env.state();
    for (id, i) in &after.instances {
        let b = &st.instances[id];
        let want = if small.contains(id) { "m" } else { b.size.as_str() };
        assert_eq!(i.size, want, "instance {id}");
    }
    assert_eq!(env.ledger_counts("paas_vm_update").len(), small.len());

    // Everything to m, shrinks allowed.
    let o = env.run(&[
        "run",
        "std/resize",
        "size=m",
        "allow_shrink=true",
        "journal=false",
        "rate=0",
        "settle_ms=0",
    ]);
    let out = text(&o.stdout);
    assert_eq!(o.status.code(), Some(0), "{out}{}", text(&o.stderr));
    assert!(env.state().instances.values().all(|i| i.size == "m"));
    let shrunk = st.instances.values().find(|i| rank(&i.size) > rank("m")).unwrap();
    let row = out.lines().find(|l| l.starts_with(&format!("{} ", shrunk.id))).expect("a row per instance");
    assert!(row.contains(&format!("{} → m", shrunk.size)) && row.contains("resized"), "{row}");
    // Each instance changed once in all (the small ones by the first run).
    let updates = env.ledger_counts("paas_vm_update");
    assert!(updates.values().all(|n| *n == 1), "{updates:?}");
    assert_eq!(updates.len(), st.instances.values().filter(|i| i.size != "m").count());
}

#[test]
fn every_row_shows_size_and_disk_before_and_after_also_in_a_dry_run() {
    let env = fleet();
    let st = env.state();
    let before = env.world();
    let o = env.run(&["--dry-run", "run", "std/resize", "size=xxl", "add_disk=5", "journal=false"]);
    let out = text(&o.stdout);
    assert_eq!(o.status.code(), Some(0), "{out}{}", text(&o.stderr));
    assert_eq!(env.world(), before, "a dry run sends nothing");
    let header = out.lines().next().unwrap();
    assert!(header.contains("size") && header.contains("disk") && header.contains("outcome"), "{header}");
    for i in st.instances.values() {
        let row =
            out.lines().find(|l| l.starts_with(&format!("{} ", i.id))).unwrap_or_else(|| panic!("{out}"));
        let want_size = format!("{} → xxl", i.size);
        let want_disk = format!("{} → {}", i.quantity, i.quantity + 5);
        assert!(row.contains(&want_size) && row.contains(&want_disk) && row.contains("planned"), "{row}");
    }

    // The JSON report carries the same, as fields.
    let o = env.run(&["--dry-run", "--json", "run", "std/resize", "size=xxl", "journal=false"]);
    let report: serde_json::Value = serde_json::from_slice(&o.stdout).expect("JSON");
    let rows = report["rows"].as_array().unwrap();
    assert_eq!(rows.len(), st.instances.len());
    for r in rows {
        let i = &st.instances[&r["id"].as_i64().unwrap()];
        assert_eq!(r["size_before"], i.size.as_str());
        assert_eq!(r["size_after"], "xxl");
        assert_eq!(r["disk_before"], i.quantity);
        assert_eq!(r["disk_after"], i.quantity);
        assert_eq!(r["size"], format!("{} → xxl", i.size));
    }
}

#[test]
fn bad_arguments_are_usage_errors() {
    let env = fleet();
    let before = env.world();
    for (args, want) in [
        (&["size=huge"][..], "size must be one of s, s+, m, l, xl, xxl"),
        (&["size=m", "allow_shrink=yes"][..], "allow_shrink must be true or false"),
        (&["size=m", "colour=red"][..], "unknown option \"colour\""),
        (&[][..], "nothing to change"),
    ] {
        let mut argv = vec!["run", "std/resize"];
        argv.extend(args);
        let o = env.run(&argv);
        let err = text(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.starts_with("error: std/resize: ") && err.contains(want), "{args:?}: {err}");
    }
    assert_eq!(env.world(), before);
}

#[test]
fn stdlib_lists_every_argument_with_its_default() {
    let env = fleet();
    let one = text(&env.run(&["stdlib", "resize"]).stdout);
    for arg in [
        "size=…",
        "disk=…",
        "add_disk=…",
        "allow_shrink=false",
        "from_size=…",
        "state=…",
        "type=…",
        "datacenter_id=…",
        "parallel=8",
        "rate=15",
        "verify=true",
        "wait=true",
    ] {
        assert!(one.lines().any(|l| l.trim_start().starts_with(arg)), "{arg} in:\n{one}");
    }
    assert!(
        one.contains("size= is the target, not a filter") || one.contains("`size=` is the target"),
        "{one}"
    );

    let all = text(&env.run(&["stdlib"]).stdout);
    for line in ["within_days=30", "duration=12m", "allow_shrink=false", "from_size=…", "format=…"] {
        assert!(all.lines().any(|l| l.trim_start().starts_with(line)), "{line} in:\n{all}");
    }
    // Every script but the helper library declares arguments.
    for script in ["renew", "resize", "expiring", "inventory"] {
        let at = all.find(&format!("std/{script}  ")).unwrap_or_else(|| panic!("{all}"));
        let next = all[at..].lines().nth(1).unwrap_or_default();
        assert!(next.starts_with("    ") && next.contains('='), "std/{script} lists no argument:\n{all}");
    }
}
