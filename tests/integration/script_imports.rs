//! `import "std/NAME"`, relative imports from script files, the module cache, `run_file` and
//! `call_fn`.

use crate::support::script as support;

use std::fs;
use std::path::PathBuf;

use gandish::script::Error;
use support::*;

/// A fresh folder under the target directory, removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> TempDir {
        let dir = std::env::temp_dir().join(format!("gandish-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }
    fn write(&self, rel: &str, text: &str) -> PathBuf {
        let p = self.0.join(rel);
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        fs::write(&p, text).unwrap();
        p
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

#[test]
fn the_bundled_std_util_module_works_against_the_sandbox() {
    let sb = sandbox();
    let (rt, _) = runtime(&sb);
    // The seed instance ended in 2011: it is "expiring" whatever the window.
    let v = eval(
        &rt,
        r#"
        import "std/util" as util;
        let soon = util::expiring(30);
        [util::names(soon), util::index_by(paas::list(), "id")["1"].name, util::op_ids([#{id: 4}, #{id: 5}]),
         util::op_ids(#{id: 9})]
        "#,
    );
    let a = v.into_array().unwrap();
    let names: Vec<String> = a[0].clone().into_array().unwrap().into_iter().map(string).collect();
    assert_eq!(names, ["Mon PaaS"]);
    assert_eq!(string(a[1].clone()), "Mon PaaS");
    assert_eq!(a[2].to_string(), "[4, 5]");
    assert_eq!(a[3].to_string(), "[9]");
    assert!(rt.module_cache().cached().contains(&"std/util".to_string()));
}

#[test]
fn a_missing_std_module_fails_with_its_name_and_line() {
    let sb = sandbox();
    let (rt, _) = runtime(&sb);
    let e = rt.eval("let x = 1;\nimport \"std/nope\" as n;").unwrap_err();
    let msg = e.to_string();
    assert!(msg.contains("std/nope"), "{msg}");
    assert_eq!(e.line(), Some(2), "{msg}");
}

#[test]
fn relative_imports_resolve_against_the_script_folder_and_the_cache_can_be_cleared() {
    let sb = sandbox();
    let (rt, _) = runtime(&sb);
    let dir = TempDir::new("imports");
    dir.write("lib/helpers.rhai", "fn instance_name(id) { paas::info(id).name }\nfn version() { 1 }\n");
    let main = dir.write(
        "jobs/main.rhai",
        "#!/usr/bin/env gandish\nimport \"../lib/helpers\" as h;\n`${h::instance_name(1)} v${h::version()}`\n",
    );
    // Run from elsewhere: the import is found relative to main.rhai, not the current directory.
    assert_eq!(string(rt.run_file(&main).unwrap()), "Mon PaaS v1");

    // A changed module is seen only after the cache is cleared.
    dir.write("lib/helpers.rhai", "fn instance_name(id) { paas::info(id).name }\nfn version() { 2 }\n");
    assert_eq!(string(rt.run_file(&main).unwrap()), "Mon PaaS v1");
    assert!(rt.module_cache().clear_path(&dir.0.join("lib/helpers.rhai")));
    assert_eq!(string(rt.run_file(&main).unwrap()), "Mon PaaS v2");
    dir.write("lib/helpers.rhai", "fn instance_name(id) { paas::info(id).name }\nfn version() { 3 }\n");
    rt.module_cache().clear();
    assert_eq!(string(rt.run_file(&main).unwrap()), "Mon PaaS v3");

    // An error inside an imported module names the module.
    dir.write("lib/broken.rhai", "fn f( {");
    let bad = dir.write("jobs/bad.rhai", "import \"../lib/broken\" as b;\nb::f()");
    let msg = rt.run_file(&bad).unwrap_err().to_string();
    assert!(msg.contains("broken"), "{msg}");
}

#[test]
fn run_file_reports_io_errors_and_errors_name_the_file() {
    let sb = sandbox();
    let (rt, _) = runtime(&sb);
    match rt.run_file("/nonexistent/renew.rhai") {
        Err(Error::Io { path, .. }) => assert!(path.ends_with("renew.rhai")),
        other => panic!("expected an I/O error, got {other:?}"),
    }
    let dir = TempDir::new("runfile");
    let f = dir.write("renew.rhai", "let a = 1;\nlet b = a +;\n");
    let msg = rt.run_file(&f).unwrap_err().to_string();
    assert!(msg.contains("line 2"), "{msg}");
}

#[test]
fn call_fn_calls_a_script_function_with_arguments() {
    let sb = sandbox();
    let (rt, _) = runtime(&sb);
    let ast = rt
        .compile("fn expiring_within(days) { paas::list().filter(|p| p.date_end.days_until() < days).len() }")
        .unwrap();
    let mut scope = rhai::Scope::new();
    let n: i64 = rt.call_fn(&mut scope, &ast, "expiring_within", (30_i64,)).unwrap();
    assert_eq!(n, 1);
    let n: i64 = rt.call_fn(&mut scope, &ast, "expiring_within", (-10_000_i64,)).unwrap();
    assert_eq!(n, 0);
    assert!(rt.call_fn::<i64>(&mut scope, &ast, "nope", ()).is_err());
}

#[test]
fn the_host_can_register_its_own_functions() {
    let sb = sandbox();
    let (b, out) = builder(&sb);
    let mut rt = b.build().unwrap();
    rt.engine_mut().register_fn("ticket", |title: &str| format!("TICKET: {title}"));
    let _ = eval(&rt, r#"print(ticket(paas::info(1).name))"#);
    assert_eq!(out.lines(), ["TICKET: Mon PaaS"]);
    let sigs = rt.engine().gen_fn_signatures(false);
    assert!(!sigs.iter().any(|s| s.contains("Result<")), "signatures show script types: {sigs:?}");
    assert!(
        sigs.iter().any(|s| s == "paas::renew(instance: i64|Map, duration: string) -> Array"),
        "{sigs:?}"
    );
}

#[test]
fn an_imported_module_imports_relative_to_its_own_folder() {
    let sb = sandbox();
    let (rt, _) = runtime(&sb);
    let dir = TempDir::new("nested");
    dir.write("lib/inner.rhai", "fn answer() { 42 }\n");
    dir.write("lib/outer.rhai", "import \"inner\" as inner;\nfn answer() { inner::answer() }\n");
    let main = dir.write("main.rhai", "import \"lib/outer\" as outer;\nouter::answer()\n");
    assert_eq!(int(&rt.run_file(&main).unwrap()), 42);
}

#[test]
fn an_import_cycle_is_an_error_not_a_stack_overflow() {
    let sb = sandbox();
    let (rt, _) = runtime(&sb);
    let dir = TempDir::new("cycle");
    dir.write("a.rhai", "import \"b\" as b;\nfn f() { 1 }\n");
    dir.write("b.rhai", "import \"a\" as a;\nfn g() { 2 }\n");
    let main = dir.write("main.rhai", "import \"a\" as a;\na::f()\n");
    let msg = rt.run_file(&main).unwrap_err().to_string();
    assert!(msg.contains("import cycle"), "{msg}");
    // The failed load left nothing behind: a good module still imports.
    dir.write("b.rhai", "fn g() { 2 }\n");
    assert_eq!(int(&rt.run_file(&main).unwrap()), 1);
}

#[test]
fn a_long_import_chain_is_refused_past_the_depth_limit() {
    let sb = sandbox();
    let (rt, _) = runtime(&sb);
    let dir = TempDir::new("chain");
    for i in 0..40 {
        dir.write(&format!("m{i}.rhai"), &format!("import \"m{}\" as next;\nfn f() {{ {i} }}\n", i + 1));
    }
    dir.write("m40.rhai", "fn f() { 40 }\n");
    let main = dir.write("main.rhai", "import \"m0\" as m;\nm::f()\n");
    let msg = rt.run_file(&main).unwrap_err().to_string();
    assert!(msg.contains("nested deeper than 32"), "{msg}");
    // A chain within the limit loads.
    let short = dir.write("short.rhai", "import \"m30\" as m;\nm::f()\n");
    assert_eq!(int(&rt.run_file(&short).unwrap()), 30);
}
