//! Module resolution for `import`.
//!
//! - `import "std/NAME" as x;` loads the bundled `stdlib/NAME.rhai`, compiled into the binary.
//! - Any other path is a file: `.rhai` is appended, and a relative path is resolved against the
//!   folder of the importing script (or, for code that is not from a file, the runtime's base
//!   folder, by default the current directory).
//!
//! A module's code sees a constant `ARGS` set to `()` (a script run from the command line gets
//! the map of its `key=value` arguments instead), so a bundled script can be both a library and
//! a command: `if type_of(ARGS) == "map" { main(ARGS) }`.
//!
//! Compiled modules are cached; [`ModuleCache::clear`] drops them (for a file watcher).
//! A module's top-level statements run once, when it is first loaded.
//!
//! **What `import` can read.** Only files whose name ends in `.rhai`: `.rhai` is appended to any
//! other path, so `import "/etc/passwd"` looks for `/etc/passwd.rhai` and fails with "Module not
//! found". Absolute paths and `..` are allowed on purpose: a script is a program its user chose
//! to run (it can already renew or delete every instance the key reaches), scripts are commonly
//! laid out as `jobs/*.rhai` importing `../lib/*.rhai`, and an imported module runs under the
//! same limits with the same functions, so it grants nothing the script did not have. What a
//! script can learn through `import` is therefore whether a `.rhai` file exists and what it
//! exports (or the parse error it gives). A host that runs scripts it does not trust and keeps
//! `.rhai` files it must not expose should run them where those files are not readable.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use rhai::module_resolvers::ModuleResolver;
use rhai::{Dynamic, Engine, EvalAltResult, Module, Position, Scope, Shared};

type SharedModule = Shared<Module>;

use super::host::lock;

/// The bundled library: `(name, source)`.
pub const STDLIB: &[(&str, &str)] = &[
    ("util", include_str!("../../stdlib/util.rhai")),
    ("renew", include_str!("../../stdlib/renew.rhai")),
    ("resize", include_str!("../../stdlib/resize.rhai")),
    ("expiring", include_str!("../../stdlib/expiring.rhai")),
    ("inventory", include_str!("../../stdlib/inventory.rhai")),
];

/// The names of the bundled modules (`std/NAME`).
pub fn stdlib_names() -> impl Iterator<Item = &'static str> {
    STDLIB.iter().map(|(n, _)| *n)
}

#[derive(Default)]
pub(crate) struct Cache {
    modules: Mutex<HashMap<String, SharedModule>>,
}

/// A handle on the compiled-module cache of a [`Runtime`](super::Runtime).
#[derive(Clone, Default)]
pub struct ModuleCache(pub(crate) Arc<Cache>);

impl std::fmt::Debug for ModuleCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let keys: Vec<String> = lock(&self.0.modules).keys().cloned().collect();
        f.debug_tuple("ModuleCache").field(&keys).finish()
    }
}

impl ModuleCache {
    /// Drops every cached module; the next `import` reloads (and re-runs) it.
    pub fn clear(&self) {
        lock(&self.0.modules).clear();
    }

    /// Drops the cached module of one file (as imported, any spelling of its path).
    pub fn clear_path(&self, path: &Path) -> bool {
        let key = canonical(path);
        lock(&self.0.modules).remove(&key.to_string_lossy().into_owned()).is_some()
    }

    /// The keys cached: `std/NAME` and absolute file paths.
    pub fn cached(&self) -> Vec<String> {
        let mut keys: Vec<String> = lock(&self.0.modules).keys().cloned().collect();
        keys.sort();
        keys
    }
}

fn canonical(path: &Path) -> PathBuf {
    std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf())
}

pub(crate) struct Resolver {
    pub(crate) cache: ModuleCache,
    pub(crate) base_dir: Option<PathBuf>,
}

/// The deepest chain of modules importing modules.
pub const MAX_IMPORT_DEPTH: usize = 32;

thread_local! {
    /// The modules being loaded on this thread, outermost first (to refuse import cycles).
    static LOADING: std::cell::RefCell<Vec<String>> = const { std::cell::RefCell::new(Vec::new()) };
}

struct Loading;

impl Drop for Loading {
    fn drop(&mut self) {
        LOADING.with(|l| l.borrow_mut().pop());
    }
}

impl Resolver {
    fn load(
        &self,
        engine: &Engine,
        key: &str,
        source: &str,
        name: &str,
        pos: Position,
    ) -> Result<SharedModule, Box<EvalAltResult>> {
        if let Some(m) = lock(&self.cache.0.modules).get(key) {
            return Ok(m.clone());
        }
        let in_module =
            |e: Box<EvalAltResult>| Box::new(EvalAltResult::ErrorInModule(name.to_string(), e, pos));
        let refused = LOADING.with(|l| {
            let l = l.borrow();
            if l.iter().any(|k| k == key) {
                let chain: Vec<&str> = l.iter().map(String::as_str).chain([key]).collect();
                Some(format!("import cycle: {}", chain.join(" -> ")))
            } else if l.len() >= MAX_IMPORT_DEPTH {
                Some(format!("imports nested deeper than {MAX_IMPORT_DEPTH} modules"))
            } else {
                None
            }
        });
        if let Some(msg) = refused {
            return Err(in_module(EvalAltResult::ErrorRuntime(msg.into(), pos).into()));
        }
        LOADING.with(|l| l.borrow_mut().push(key.to_string()));
        let _loading = Loading;
        // A module sees `ARGS` as `()`; a script run from the command line gets the map of its
        // key=value arguments. So one file can be a library and a command:
        // `if type_of(ARGS) == "map" { main(ARGS) }`.
        let mut scope = Scope::new();
        scope.push_constant("ARGS", Dynamic::UNIT);
        let mut ast = engine.compile_with_scope(&scope, source).map_err(|e| in_module(e.into()))?;
        ast.set_source(key);
        let module: SharedModule = Module::eval_ast_as_new(scope, &ast, engine).map_err(in_module)?.into();
        lock(&self.cache.0.modules).insert(key.to_string(), module.clone());
        Ok(module)
    }
}

impl ModuleResolver for Resolver {
    fn resolve(
        &self,
        engine: &Engine,
        source: Option<&str>,
        path: &str,
        pos: Position,
    ) -> Result<SharedModule, Box<EvalAltResult>> {
        if let Some(name) = path.strip_prefix("std/") {
            let Some((_, text)) = STDLIB.iter().find(|(n, _)| *n == name) else {
                return Err(EvalAltResult::ErrorModuleNotFound(path.to_string(), pos).into());
            };
            return self.load(engine, path, text, path, pos);
        }
        let rel = Path::new(path);
        let mut file = if rel.is_absolute() {
            rel.to_path_buf()
        } else {
            let base = source
                .map(Path::new)
                .filter(|s| s.is_absolute())
                .and_then(Path::parent)
                .map(Path::to_path_buf)
                .or_else(|| self.base_dir.clone())
                .unwrap_or_default();
            base.join(rel)
        };
        if file.extension().is_none_or(|e| e != "rhai") {
            let mut name = file.into_os_string();
            name.push(".rhai");
            file = PathBuf::from(name);
        }
        let Ok(text) = std::fs::read_to_string(&file) else {
            return Err(
                EvalAltResult::ErrorModuleNotFound(format!("{path} ({})", file.display()), pos).into()
            );
        };
        let key = canonical(&file).to_string_lossy().into_owned();
        self.load(engine, &key, &text, path, pos)
    }
}
