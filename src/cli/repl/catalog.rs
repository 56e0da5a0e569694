//! What the REPL knows about functions: names, signatures and doc comments, from the engine's
//! metadata (`gen_fn_metadata_to_json`) and from the functions the user defined. It feeds
//! completion, hints, `:doc` and `:funcs`.

use std::collections::BTreeSet;

use rhai::{AST, Engine};
use serde::Deserialize;

/// One function overload.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FnDoc {
    /// The module (`paas`), or `None` for a global function.
    pub module: Option<String>,
    /// The bare name (`list`).
    pub name: String,
    /// The signature with the module, e.g. `paas::list(filter: Map) -> Array`.
    pub signature: String,
    /// The doc comment without its `///` leaders (may be empty).
    pub doc: String,
    /// Whether the user defined it in this session.
    pub user: bool,
}

impl FnDoc {
    /// `paas::list` or `len`.
    pub fn qualified(&self) -> String {
        match &self.module {
            Some(m) => format!("{m}::{}", self.name),
            None => self.name.clone(),
        }
    }

    /// The first line of the doc comment.
    pub fn summary(&self) -> &str {
        self.doc.lines().next().unwrap_or("")
    }
}

/// Every function a line can call.
#[derive(Clone, Debug, Default)]
pub struct Catalog {
    builtin: Vec<FnDoc>,
    user: Vec<FnDoc>,
    modules: Vec<String>,
}

#[derive(Deserialize)]
struct Meta {
    #[serde(default)]
    functions: Vec<FnMeta>,
    #[serde(default)]
    modules: std::collections::BTreeMap<String, Meta>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct FnMeta {
    name: String,
    #[serde(default)]
    access: String,
    #[serde(default)]
    is_anonymous: bool,
    signature: String,
    #[serde(default)]
    doc_comments: Vec<String>,
}

/// Whether a name can be typed as a function call (not an operator, getter or indexer).
fn callable(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_alphabetic() || c == '_')
        && chars.all(|c| c.is_alphanumeric() || c == '_')
}

/// The doc comment as text: `///` and `/** */` leaders removed.
fn doc_text(comments: &[impl AsRef<str>]) -> String {
    let mut out = Vec::new();
    for c in comments {
        let c = c.as_ref();
        if let Some(block) = c.strip_prefix("/**") {
            let block = block.strip_suffix("*/").unwrap_or(block);
            out.extend(block.lines().map(|l| l.trim().trim_start_matches('*').trim().to_string()));
        } else {
            out.extend(c.lines().map(|l| {
                let l = l.trim_start().trim_start_matches("///");
                l.strip_prefix(' ').unwrap_or(l).to_string()
            }));
        }
    }
    while out.first().is_some_and(|l| l.is_empty()) {
        out.remove(0);
    }
    out.join("\n").trim_end().to_string()
}

/// Types as a script writer reads them: no `&mut `, `&str` as `String`, `i64 | Map`.
fn tidy(signature: &str) -> String {
    signature
        .replace("&mut ", "")
        .replace("&str", "String")
        .replace("ImmutableString", "String")
        .replace('|', " | ")
}

impl Catalog {
    /// The engine's functions (standard library included) and its static modules.
    pub fn new(engine: &Engine) -> Catalog {
        let mut builtin = Vec::new();
        let mut modules = Vec::new();
        if let Ok(json) = engine.gen_fn_metadata_to_json(true)
            && let Ok(meta) = serde_json::from_str::<Meta>(&json)
        {
            collect(&meta.functions, None, &mut builtin);
            for (name, m) in &meta.modules {
                modules.push(name.clone());
                collect(&m.functions, Some(name), &mut builtin);
            }
        }
        builtin.sort_by(|a, b| (&a.module, &a.name, &a.signature).cmp(&(&b.module, &b.name, &b.signature)));
        builtin.dedup_by(|a, b| a.module == b.module && a.signature == b.signature);
        Catalog { builtin, user: Vec::new(), modules }
    }

    /// Replaces the user's functions with those defined in `ast`.
    pub fn set_user(&mut self, ast: &AST) {
        self.user = ast
            .iter_functions()
            .map(|f| FnDoc {
                module: None,
                name: f.name.to_string(),
                signature: format!("{}({})", f.name, f.params.join(", ")),
                doc: doc_text(&f.comments),
                user: true,
            })
            .collect();
        self.user.sort_by(|a, b| (&a.name, &a.signature).cmp(&(&b.name, &b.signature)));
    }

    /// The static modules (`paas`, `vhost`, …), sorted.
    pub fn modules(&self) -> &[String] {
        &self.modules
    }

    /// Every function: the user's first, then the engine's.
    pub fn all(&self) -> impl Iterator<Item = &FnDoc> {
        self.user.iter().chain(self.builtin.iter())
    }

    /// The overloads of a function named `qualified` (`paas::list`, `len`, `my_fn`).
    pub fn lookup(&self, qualified: &str) -> Vec<&FnDoc> {
        let (module, name) = match qualified.rsplit_once("::") {
            Some((m, n)) => (Some(m), n),
            None => (None, qualified),
        };
        self.all().filter(|f| f.name == name && f.module.as_deref() == module).collect()
    }

    /// The functions of a module, one entry per name (first overload), for `:doc MODULE`.
    pub fn module_functions(&self, module: &str) -> Vec<&FnDoc> {
        let mut seen = BTreeSet::new();
        self.builtin
            .iter()
            .filter(|f| f.module.as_deref() == Some(module) && seen.insert(f.name.clone()))
            .collect()
    }

    /// Distinct names of the global functions (the user's and the engine's).
    pub fn global_names(&self) -> BTreeSet<&str> {
        self.all().filter(|f| f.module.is_none()).map(|f| f.name.as_str()).collect()
    }

    /// Distinct names of a module's functions.
    pub fn names_in(&self, module: &str) -> BTreeSet<&str> {
        self.builtin.iter().filter(|f| f.module.as_deref() == Some(module)).map(|f| f.name.as_str()).collect()
    }
}

fn collect(functions: &[FnMeta], module: Option<&String>, out: &mut Vec<FnDoc>) {
    for f in functions {
        if f.is_anonymous || f.access == "private" || !callable(&f.name) {
            continue;
        }
        let sig = tidy(&f.signature);
        out.push(FnDoc {
            module: module.cloned(),
            name: f.name.clone(),
            signature: match module {
                Some(m) => format!("{m}::{sig}"),
                None => sig,
            },
            doc: doc_text(&f.doc_comments),
            user: false,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn runtime() -> crate::Runtime {
        crate::Runtime::builder().endpoint("http://127.0.0.1:9/").key("k").build().unwrap()
    }

    #[test]
    fn engine_functions_with_signatures_and_docs() {
        let rt = runtime();
        let c = Catalog::new(rt.engine());
        for m in ["paas", "vhost", "op", "datacenter", "snapshot_profile", "gandi", "xmlrpc"] {
            assert!(c.modules().iter().any(|x| x == m), "{m} in {:?}", c.modules());
        }
        let list = c.lookup("paas::list");
        let sigs: Vec<&str> = list.iter().map(|f| f.signature.as_str()).collect();
        assert!(sigs.contains(&"paas::list() -> Array"), "{sigs:?}");
        assert!(sigs.contains(&"paas::list(filter: Map) -> Array"), "{sigs:?}");
        let renew = c.lookup("paas::renew");
        assert!(renew.iter().any(|f| f.doc.starts_with("Renews an instance for a duration")), "{renew:?}");
        assert!(c.names_in("paas").contains("delete"));
        assert!(c.global_names().contains("now"), "the runtime's global date functions");
        assert!(c.global_names().contains("len"), "the standard library");
        assert!(
            !c.global_names().iter().any(|n| n.starts_with('+') || n.contains('$')),
            "no operators or getters"
        );
        let keys = c.lookup("keys");
        assert!(keys.iter().any(|f| f.signature == "keys(map: Map) -> Array"), "{keys:?}");
    }

    #[test]
    fn user_functions_with_their_doc_comments() {
        let rt = runtime();
        let mut c = Catalog::new(rt.engine());
        let ast = rt
            .compile(
                "/// Adds one.\n/// Really.\nfn inc(x) { x + 1 }\nprivate fn hidden() {}\nfn two(a, b) { a }",
            )
            .unwrap();
        c.set_user(&ast);
        let inc = c.lookup("inc");
        assert_eq!(inc.len(), 1);
        assert_eq!(inc[0].signature, "inc(x)");
        assert_eq!(inc[0].doc, "Adds one.\nReally.");
        assert!(inc[0].user);
        assert_eq!(c.lookup("two")[0].signature, "two(a, b)");
        assert!(c.global_names().contains("inc"));
    }
}
