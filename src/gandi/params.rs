//! Parameter builders for the calls that change things (reference §4.4, §4.5, §4.8, §4.11).
//!
//! Each builder has public fields (fill them with struct-update syntax from `Default`) or
//! chainable setters; `None` fields are left out of the call, and `extra` adds members this
//! crate does not model (they win over modelled fields of the same name).

use std::fmt;

use serde::{Serialize, Serializer};

use crate::xmlrpc::{Struct, Value, to_value};

use super::key::REDACTED;

/// A password sent in a call; `Debug` prints `***`.
#[derive(Clone, PartialEq, Eq)]
pub struct Password(String);

impl Password {
    /// Wraps `password`.
    pub fn new(password: impl Into<String>) -> Password {
        Password(password.into())
    }

    /// The password itself, for sending.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(***)")
    }
}

impl Serialize for Password {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl From<&str> for Password {
    fn from(p: &str) -> Password {
        Password(p.to_owned())
    }
}

impl From<String> for Password {
    fn from(p: String) -> Password {
        Password(p)
    }
}

/// Serializes a builder (skipping `None`) and appends its `extra` members.
fn build<T: Serialize>(fields: &T, extra: &Struct) -> Struct {
    // The builders hold strings, ints, bools, lists of them and values: always a struct.
    let mut s = to_value(fields).ok().and_then(|v| v.into_struct().ok()).unwrap_or_default();
    for (k, v) in extra.iter() {
        s.insert(k, v.clone());
    }
    s
}

macro_rules! setters {
    ($t:ident { $($(#[$m:meta])* $name:ident : $ty:ty => $field:ident),* $(,)? }) => {
        impl $t {
            $(
                $(#[$m])*
                pub fn $name(mut self, v: impl Into<$ty>) -> Self {
                    self.$field = Some(v.into());
                    self
                }
            )*

            /// Adds a member this crate does not model (it wins over a modelled one).
            pub fn with(mut self, name: impl Into<String>, value: impl Into<Value>) -> Self {
                self.extra.insert(name, value);
                self
            }

            /// The call's params struct.
            pub fn to_struct(&self) -> Struct {
                build(self, &self.extra)
            }
        }
    };
}

/// `paas.create` params (reference §4.4).
///
/// ```
/// use gandish::gandi::CreateParams;
///
/// let p = CreateParams::new("My PaaS", "m", "phpmysql", 1, "3m").vhosts(["vhost.test.fr"]).password("xxxxxxxxxx");
/// let s = p.to_struct();
/// assert_eq!(s.get("duration").and_then(|v| v.as_str()), Some("3m"));
/// assert!(s.get("quantity").is_none());
/// assert!(!format!("{p:?}").contains("xxxxxxxxxx"));
/// ```
#[derive(Clone, Debug, Default, Serialize)]
pub struct CreateParams {
    /// The instance's name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// `s`, `m`, `l`, `xl`, `xxl`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub size: Option<String>,
    /// The instance type, e.g. `phpmysql` (the API's `type`).
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// The datacenter id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub datacenter_id: Option<i64>,
    /// FQDNs to attach.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vhosts: Option<Vec<String>>,
    /// Extra disk in GB (0: the default 10 GB only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub quantity: Option<i64>,
    /// `'<N>m'`, e.g. `3m`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub duration: Option<String>,
    /// The instance's password.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub password: Option<Password>,
    /// A snapshot profile id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub snapshot_profile: Option<i64>,
    /// SSH key ids.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub keys: Option<Vec<i64>>,
    /// One SSH public key's text.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ssh_key: Option<String>,
    /// Members not modelled above.
    #[serde(skip)]
    pub extra: Struct,
}

impl CreateParams {
    /// The usual five: name, size, type, datacenter and duration.
    pub fn new(
        name: impl Into<String>,
        size: impl Into<String>,
        kind: impl Into<String>,
        datacenter_id: i64,
        duration: impl Into<String>,
    ) -> CreateParams {
        CreateParams {
            name: Some(name.into()),
            size: Some(size.into()),
            kind: Some(kind.into()),
            datacenter_id: Some(datacenter_id),
            duration: Some(duration.into()),
            ..CreateParams::default()
        }
    }

    /// Sets the vhosts to attach.
    pub fn vhosts<I: IntoIterator<Item = S>, S: Into<String>>(mut self, vhosts: I) -> Self {
        self.vhosts = Some(vhosts.into_iter().map(Into::into).collect());
        self
    }

    /// Sets the SSH key ids.
    pub fn keys(mut self, keys: impl IntoIterator<Item = i64>) -> Self {
        self.keys = Some(keys.into_iter().collect());
        self
    }
}

setters!(CreateParams {
    /// Sets the name.
    name: String => name,
    /// Sets the size.
    size: String => size,
    /// Sets the type.
    kind: String => kind,
    /// Sets the datacenter id.
    datacenter_id: i64 => datacenter_id,
    /// Sets the extra disk in GB.
    quantity: i64 => quantity,
    /// Sets the duration (`'<N>m'`).
    duration: String => duration,
    /// Sets the password.
    password: Password => password,
    /// Sets the snapshot profile id.
    snapshot_profile: i64 => snapshot_profile,
    /// Sets one SSH public key.
    ssh_key: String => ssh_key,
});

/// `paas.update` params (reference §4.5).
#[derive(Clone, Debug, Default, Serialize)]
pub struct UpdateParams {
    /// New name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// New size.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub size: Option<String>,
    /// New extra disk in GB.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub quantity: Option<i64>,
    /// New password.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub password: Option<Password>,
    /// SSH key ids.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub keys: Option<Vec<i64>>,
    /// One SSH public key's text.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ssh_key: Option<String>,
    /// Move to the latest image.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub upgrade: Option<bool>,
    /// Enable or disable the console.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub console: Option<bool>,
    /// A snapshot profile id, or `""` to remove the profile.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub snapshot_profile: Option<Value>,
    /// Reset the MySQL root password.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reset_mysql_password: Option<bool>,
    /// Members not modelled above.
    #[serde(skip)]
    pub extra: Struct,
}

impl UpdateParams {
    /// No change yet; add some with the setters.
    pub fn new() -> UpdateParams {
        UpdateParams::default()
    }

    /// Sets the SSH key ids.
    pub fn keys(mut self, keys: impl IntoIterator<Item = i64>) -> Self {
        self.keys = Some(keys.into_iter().collect());
        self
    }
}

setters!(UpdateParams {
    /// Sets the name.
    name: String => name,
    /// Sets the size.
    size: String => size,
    /// Sets the extra disk in GB.
    quantity: i64 => quantity,
    /// Sets the password.
    password: Password => password,
    /// Sets one SSH public key.
    ssh_key: String => ssh_key,
    /// Asks for the latest image.
    upgrade: bool => upgrade,
    /// Enables or disables the console.
    console: bool => console,
    /// Sets the snapshot profile (an int id, or `""` to remove it).
    snapshot_profile: Value => snapshot_profile,
    /// Asks for a new MySQL root password.
    reset_mysql_password: bool => reset_mysql_password,
});

/// `paas.renew` params (reference §4.8).
#[derive(Clone, Debug, Default, Serialize)]
pub struct RenewParams {
    /// `'<N>m'`, e.g. `12m`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub duration: Option<String>,
    /// Commitment term (semantics undocumented).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fixed: Option<bool>,
    /// Members not modelled above.
    #[serde(skip)]
    pub extra: Struct,
}

impl RenewParams {
    /// Renews for `duration` (`'<N>m'`).
    pub fn new(duration: impl Into<String>) -> RenewParams {
        RenewParams { duration: Some(duration.into()), ..RenewParams::default() }
    }
}

setters!(RenewParams {
    /// Sets the duration.
    duration: String => duration,
    /// Sets `fixed`.
    fixed: bool => fixed,
});

/// `paas.vhost.create` params (reference §4.11).
#[derive(Clone, Debug, Default, Serialize)]
pub struct VhostCreateParams {
    /// The instance to attach the vhost to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub paas_id: Option<i64>,
    /// The FQDN.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vhost: Option<String>,
    /// Let Gandi edit the zone if it hosts it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub zone_alter: Option<bool>,
    /// Overwrite existing records.
    #[serde(rename = "override", skip_serializing_if = "Option::is_none")]
    pub override_records: Option<bool>,
    /// Members not modelled above.
    #[serde(skip)]
    pub extra: Struct,
}

impl VhostCreateParams {
    /// Attaches `vhost` to instance `paas_id`.
    pub fn new(paas_id: i64, vhost: impl Into<String>) -> VhostCreateParams {
        VhostCreateParams {
            paas_id: Some(paas_id),
            vhost: Some(vhost.into()),
            ..VhostCreateParams::default()
        }
    }
}

setters!(VhostCreateParams {
    /// Sets the instance.
    paas_id: i64 => paas_id,
    /// Sets the FQDN.
    vhost: String => vhost,
    /// Sets `zone_alter`.
    zone_alter: bool => zone_alter,
    /// Sets `override`.
    override_records: bool => override_records,
});

/// Replaces the values of `password` members (at any depth) with `[REDACTED]`, for logs.
pub(crate) fn redact_passwords(v: &mut Value) {
    let mut stack = vec![v];
    while let Some(v) = stack.pop() {
        match v {
            Value::Struct(s) => {
                for (k, member) in s.0.iter_mut() {
                    if k == "password" && !member.is_nil() {
                        *member = Value::from(REDACTED);
                    } else {
                        stack.push(member);
                    }
                }
            }
            Value::Array(a) => stack.extend(a.iter_mut()),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn none_fields_are_left_out_and_extra_wins() {
        let p = UpdateParams::new().size("xl").with("size", "xxl").with("console", 1);
        let s = p.to_struct();
        assert_eq!(s.keys().collect::<Vec<_>>(), ["size", "console"]);
        assert_eq!(s.get("size"), Some(&Value::from("xxl")));
        assert!(UpdateParams::new().to_struct().is_empty());
    }

    #[test]
    fn api_names_are_used() {
        let c = CreateParams::new("n", "s", "phpmysql", 1, "1m").keys([3, 4]).to_struct();
        assert_eq!(c.get("type"), Some(&Value::from("phpmysql")));
        assert_eq!(c.get("keys"), Some(&Value::Array(vec![Value::Int(3), Value::Int(4)])));
        let v = VhostCreateParams::new(2, "a.b.c").override_records(true).to_struct();
        assert_eq!(v.get("override"), Some(&Value::Bool(true)));
        assert_eq!(v.get("paas_id"), Some(&Value::Int(2)));
        let r = RenewParams::new("12m").fixed(false).to_struct();
        assert_eq!(r.keys().collect::<Vec<_>>(), ["duration", "fixed"]);
    }

    #[test]
    fn passwords_never_print_and_are_redacted_for_logs() {
        let p = CreateParams::default().password("hunter2");
        assert!(!format!("{p:?}").contains("hunter2"));
        assert_eq!(p.to_struct().get("password"), Some(&Value::from("hunter2")), "sent as is");
        let mut v = Value::Array(vec![Value::Struct(
            Struct::new()
                .with("a", Value::Struct(Struct::new().with("password", "x")))
                .with("password", Value::Nil),
        )]);
        redact_passwords(&mut v);
        let outer = v.as_array().unwrap()[0].as_struct().unwrap();
        assert_eq!(outer.get("a").unwrap().get("password"), Some(&Value::from(REDACTED)));
        assert_eq!(outer.get("password"), Some(&Value::Nil), "nothing to hide in a nil");
    }
}
