//! [`Task`]: one change to one instance, described by data, and what "applied" means for it.

use crate::xmlrpc::{DateTime, Struct, Value};

/// What to do to an instance.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum Action {
    /// `paas.renew(id, {duration[, fixed]})`: `date_end` moves forward by the duration.
    Renew {
        /// E.g. `"12m"`.
        duration: String,
        /// Gandi's `fixed` flag, if given.
        fixed: Option<bool>,
    },
    /// `paas.update(id, params)`, e.g. `{size: "m", quantity: 10}`.
    Update {
        /// The update parameters as sent.
        params: Struct,
    },
}

/// One change to one instance.
#[derive(Clone, Debug, PartialEq)]
pub struct Task {
    /// The instance.
    pub paas_id: i64,
    /// Its name, for reports.
    pub name: Option<String>,
    /// The change.
    pub action: Action,
    /// The instance as the plan saw it (the fields of a `paas.list` item: `date_end`, `size`,
    /// `data_disk_additional_size`, …). Reconciliation compares against it; when absent it is
    /// read with `paas.info` before the first attempt.
    pub before: Option<Struct>,
    /// For a change computed relative to the current state (e.g. "10 GB more disk"): the
    /// request as the user gave it (`quantity+10`). The journal key is then the request, not the
    /// computed target and origin, so a rerun after a crash recognises the change it already
    /// made even though the instance has moved on.
    pub request: Option<String>,
}

/// The fields `paas.update` can set that `paas.info` shows, with the field showing each.
const VERIFIABLE: [(&str, &str); 3] =
    [("size", "size"), ("quantity", "data_disk_additional_size"), ("name", "name")];

fn show(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Int(i) => i.to_string(),
        Value::Bool(b) => b.to_string(),
        Value::DateTime(d) => d.to_string(),
        Value::Nil => "()".into(),
        other => other.type_name().to_string(),
    }
}

impl Task {
    /// A renewal.
    pub fn renew(paas_id: i64, duration: impl Into<String>) -> Task {
        Task {
            paas_id,
            name: None,
            action: Action::Renew { duration: duration.into(), fixed: None },
            before: None,
            request: None,
        }
    }

    /// An update.
    pub fn update(paas_id: i64, params: Struct) -> Task {
        Task { paas_id, name: None, action: Action::Update { params }, before: None, request: None }
    }

    /// Sets what the plan saw.
    pub fn with_before(mut self, before: Struct) -> Task {
        self.before = Some(before);
        self
    }

    /// Sets the name.
    pub fn with_name(mut self, name: impl Into<String>) -> Task {
        self.name = Some(name.into());
        self
    }

    /// `renew` or `update`.
    pub fn action_name(&self) -> &'static str {
        match self.action {
            Action::Renew { .. } => "renew",
            Action::Update { .. } => "update",
        }
    }

    /// The API method.
    pub fn method(&self) -> &'static str {
        match self.action {
            Action::Renew { .. } => "paas.renew",
            Action::Update { .. } => "paas.update",
        }
    }

    /// The arguments after the key.
    pub fn args(&self) -> Vec<Value> {
        match &self.action {
            Action::Renew { duration, fixed } => {
                let mut p = Struct::new().with("duration", duration.as_str());
                if let Some(f) = fixed {
                    p.insert("fixed", *f);
                }
                vec![Value::Int(self.paas_id), Value::Struct(p)]
            }
            Action::Update { params } => vec![Value::Int(self.paas_id), Value::Struct(params.clone())],
        }
    }

    /// The operation types the call creates (what reconciliation looks for).
    pub fn op_types(&self) -> &'static [&'static str] {
        match self.action {
            Action::Renew { .. } => &["paas_vm_renew", "paas_disk_renew"],
            Action::Update { .. } => &["paas_vm_update", "paas_disk_update"],
        }
    }

    /// The target, for keys and reports: `12m`, `quantity=10, size=m` (a password shows as
    /// `password`, never its value).
    pub fn target(&self) -> String {
        match &self.action {
            Action::Renew { duration, fixed } => match fixed {
                Some(f) => format!("{duration} fixed={f}"),
                None => duration.clone(),
            },
            Action::Update { params } => {
                let mut parts: Vec<String> = params
                    .iter()
                    .map(|(k, v)| if k == "password" { k.to_string() } else { format!("{k}={}", show(v)) })
                    .collect();
                parts.sort();
                parts.join(", ")
            }
        }
    }

    /// What the change starts from, in the key: the `date_end` a renewal extends, the current
    /// values of the fields an update changes.
    fn origin(&self) -> String {
        let Some(b) = &self.before else { return "?".into() };
        match &self.action {
            Action::Renew { .. } => b.get("date_end").map(show).unwrap_or_else(|| "?".into()),
            Action::Update { params } => {
                let mut parts: Vec<String> = VERIFIABLE
                    .iter()
                    .filter(|(p, _)| params.contains_key(p))
                    .map(|(p, f)| format!("{p}={}", b.get(f).map(show).unwrap_or_else(|| "?".into())))
                    .collect();
                parts.sort();
                parts.join(", ")
            }
        }
    }

    /// The journal key: instance, action, target and origin, e.g.
    /// `renew 12 12m from 20240201T00:00:00`. A second renewal of the same instance (after the
    /// first moved `date_end`) has another key. With a [`request`](Task::request), instance,
    /// action and request: `update 12 quantity+10`.
    pub fn key(&self) -> String {
        if let Some(r) = &self.request {
            return format!("{} {} {r}", self.action_name(), self.paas_id);
        }
        format!("{} {} {} from {}", self.action_name(), self.paas_id, self.target(), self.origin())
    }

    /// A one-line description: `renew instance 12 (blog) for 12m`.
    pub fn summary(&self) -> String {
        let who = match &self.name {
            Some(n) => format!("instance {} ({n})", self.paas_id),
            None => format!("instance {}", self.paas_id),
        };
        match &self.action {
            Action::Renew { .. } => format!("renew {who} for {}", self.target()),
            Action::Update { .. } => format!("update {who}: {}", self.target()),
        }
    }

    /// Whether the instance as it is now (its `paas.info` struct or its `paas.list` item)
    /// shows the change relative to what the plan saw: a later `date_end` for a renewal; every
    /// checkable field at its target for an update (an update changing nothing checkable never
    /// shows).
    pub fn shows_change(&self, now: &Struct) -> bool {
        match &self.action {
            Action::Renew { .. } => {
                let before = self.before.as_ref().and_then(|b| b.get("date_end")).and_then(date);
                match (before, now.get("date_end").and_then(date)) {
                    (Some(b), Some(n)) => n.naive() > b.naive(),
                    _ => false,
                }
            }
            Action::Update { params } => {
                let checks: Vec<_> = VERIFIABLE.iter().filter(|(p, _)| params.contains_key(p)).collect();
                !checks.is_empty() && self.mismatches(now).is_empty()
            }
        }
    }

    /// For an update, the checkable fields not at their target (`size is l, expected m`); for
    /// a renewal, a complaint if `date_end` did not move past what the plan saw. `now` is the
    /// instance's `paas.info` struct or its `paas.list` item.
    pub fn mismatches(&self, now: &Struct) -> Vec<String> {
        match &self.action {
            Action::Renew { .. } => {
                let before = self.before.as_ref().and_then(|b| b.get("date_end")).and_then(date);
                match (before, now.get("date_end").and_then(date)) {
                    (Some(b), Some(n)) if n.naive() > b.naive() => vec![],
                    (Some(b), n) => vec![format!(
                        "date_end is {}, not later than {b}",
                        n.map(|d| d.to_string()).unwrap_or_else(|| "()".into())
                    )],
                    (None, _) => vec![],
                }
            }
            Action::Update { params } => {
                let mut out = Vec::new();
                for (p, field) in VERIFIABLE {
                    let Some(want) = params.get(p) else { continue };
                    let have = match (field, now.get(field)) {
                        ("data_disk_additional_size", None | Some(Value::Nil)) => Value::Int(0),
                        (_, Some(v)) => v.clone(),
                        (_, None) => Value::Nil,
                    };
                    if !same(&have, want) {
                        out.push(format!("{p} is {}, expected {}", show(&have), show(want)));
                    }
                }
                out
            }
        }
    }
}

fn date(v: &Value) -> Option<DateTime> {
    match v {
        Value::DateTime(d) => Some(*d),
        Value::String(s) => DateTime::parse(s).ok(),
        _ => None,
    }
}

fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::String(x), Value::String(y)) => x.eq_ignore_ascii_case(y),
        (Value::Int(x), Value::Int(y)) => x == y,
        _ => a == b,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_name_instance_action_target_and_origin() {
        let t = Task::renew(12, "12m")
            .with_before(Struct::new().with("date_end", DateTime::parse("20240201T00:00:00").unwrap()));
        assert_eq!(t.key(), "renew 12 12m from 20240201T00:00:00");
        let u =
            Task::update(7, Struct::new().with("size", "m").with("quantity", 10).with("password", "s3cret"))
                .with_before(Struct::new().with("size", "s").with("data_disk_additional_size", 0));
        assert_eq!(u.key(), "update 7 password, quantity=10, size=m from quantity=0, size=s");
        assert!(!u.key().contains("s3cret"));
        assert_eq!(u.summary(), "update instance 7: password, quantity=10, size=m");
    }
}
