//! The shape of the values in scope, for completing field names (`p.na` → `p.name`): which
//! keys a map has, nested maps, and the shape of an array's first item. Taken after each entry,
//! bounded in depth and width, so a variable holding thousands of instances costs little.

use std::collections::BTreeMap;

use rhai::{Array, Dynamic, Map, Scope};

/// Deeper maps are not described.
const MAX_DEPTH: usize = 4;
/// Maps with more keys are described by their first ones only.
const MAX_KEYS: usize = 200;

/// What completion needs to know about a value.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Shape {
    /// Anything that has no fields to complete.
    #[default]
    Other,
    /// An object map and the shapes of its values.
    Map(BTreeMap<String, Shape>),
    /// An array, described by its first item.
    Array(Box<Shape>),
}

impl Shape {
    /// The shape of a value.
    pub fn of(v: &Dynamic) -> Shape {
        shape(v, 0)
    }

    /// Follows a path of fields and indexes (`datacenter`, `[0]`) from this shape.
    pub fn at(&self, path: &[Step]) -> Option<&Shape> {
        let mut s = self;
        for step in path {
            s = match (step, s) {
                (Step::Field(f), Shape::Map(m)) => m.get(f)?,
                (Step::Index, Shape::Array(item)) => item,
                _ => return None,
            };
        }
        Some(s)
    }
}

/// One step of a path: `.field` or `[…]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Step {
    /// `.name`
    Field(String),
    /// `[0]`, `[i]`
    Index,
}

fn shape(v: &Dynamic, depth: usize) -> Shape {
    if depth > MAX_DEPTH {
        return Shape::Other;
    }
    if let Some(m) = v.read_lock::<Map>() {
        return Shape::Map(
            m.iter().take(MAX_KEYS).map(|(k, v)| (k.to_string(), shape(v, depth + 1))).collect(),
        );
    }
    if let Some(a) = v.read_lock::<Array>() {
        return Shape::Array(Box::new(a.first().map(|i| shape(i, depth + 1)).unwrap_or_default()));
    }
    Shape::Other
}

/// The variables in scope, the latest of each name, with their shapes, sorted by name.
pub fn of_scope(scope: &Scope) -> Vec<(String, Shape)> {
    let mut vars: BTreeMap<String, Shape> = BTreeMap::new();
    for (name, _, value) in scope.iter_raw() {
        // Later entries shadow earlier ones.
        vars.insert(name.to_string(), Shape::of(value));
    }
    vars.into_iter().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_nested_maps_and_arrays() {
        let rt = crate::Runtime::builder().endpoint("http://127.0.0.1:9/").key("k").build().unwrap();
        let mut scope = Scope::new();
        let _ = rt.eval_with_scope(
            &mut scope,
            r#"let p = #{name: "a", datacenter: #{id: 1, name: "x"}}; let ps = [p]; let n = 1; let n = "shadowed";"#,
        )
        .unwrap();
        let vars = of_scope(&scope);
        let names: Vec<&str> = vars.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["n", "p", "ps"]);
        let ps = &vars[2].1;
        let dc = ps.at(&[Step::Index, Step::Field("datacenter".into())]).unwrap();
        let Shape::Map(keys) = dc else { panic!("{dc:?}") };
        assert_eq!(keys.keys().collect::<Vec<_>>(), ["id", "name"]);
        assert_eq!(ps.at(&[Step::Field("x".into())]), None);
    }
}
