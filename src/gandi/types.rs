//! Typed records for what the Gandi PaaS API returns (reference §4 and §5).
//!
//! Conventions (reference §2):
//! - every field except `id` is optional: a missing member, `<nil/>` and `""` all read as `None`
//!   (list fields read as empty);
//! - field names are the API's (`type` is spelled [`kind`](Instance::kind) in Rust);
//! - dateTimes are naive ([`DateTime`]; Gandi sends Europe/Paris local time without a zone);
//! - members this crate does not model are kept, with their values as sent, in `extra`, and
//!   [`ApiRecord::to_value`] gives the whole record back as a [`Value`] with the API's names.

use std::fmt;

use serde::de::{DeserializeOwned, Deserializer};
use serde::{Deserialize, Serialize, Serializer};

use crate::xmlrpc::{DateTime, SerdeError, Struct, Value, from_value, from_value_ref, to_value};

/// A record the API returns: decoded from a [`Value`] struct, and back.
pub trait ApiRecord: DeserializeOwned + Serialize + Sized {
    /// The API member names this type models (the others go to `extra`).
    const FIELDS: &'static [&'static str];

    /// The members the API sent that this type does not model.
    fn extra(&self) -> &Struct;

    /// Mutable access to the unmodelled members.
    fn extra_mut(&mut self) -> &mut Struct;

    /// Decodes a record from the API's struct, keeping unmodelled members in `extra`.
    ///
    /// Fails (naming the member) when the value is not a struct, `id` is missing, or a member
    /// has a type that cannot be read as the field's type.
    fn from_api(value: Value) -> Result<Self, SerdeError> {
        let mut record: Self = from_value_ref(&value)?;
        if let Ok(s) = value.into_struct() {
            let extra = record.extra_mut();
            for (name, v) in s.into_members() {
                if !Self::FIELDS.contains(&name.as_str()) {
                    extra.insert(name, v);
                }
            }
        }
        Ok(record)
    }

    /// The record as the API's struct: the modelled fields (`None` as `<nil/>`), then `extra`.
    fn to_value(&self) -> Value {
        // Records hold only strings, ints, bools, doubles, dateTimes and values: serializing
        // them into a struct cannot fail.
        let mut s = to_value(self).ok().and_then(|v| v.into_struct().ok()).unwrap_or_default();
        for (k, v) in self.extra().iter() {
            s.insert(k, v.clone());
        }
        Value::Struct(s)
    }
}

/// Reads an optional member: missing, `<nil/>` and `""` are `None`.
fn opt<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: DeserializeOwned,
{
    match Option::<Value>::deserialize(d)? {
        None => Ok(None),
        Some(v) if v.is_nil() || v.as_str() == Some("") => Ok(None),
        Some(v) => from_value(v).map(Some).map_err(serde::de::Error::custom),
    }
}

/// Reads a member whose absence has a natural default (lists, the op step).
fn or_default<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: DeserializeOwned + Default,
{
    opt(d).map(Option::unwrap_or_default)
}

macro_rules! record {
    (
        $(#[$meta:meta])*
        pub struct $name:ident {
            $( $(#[$fmeta:meta])* $api:literal => $field:ident : $ty:ty ),* $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
        pub struct $name {
            $( $(#[$fmeta])* #[serde(rename = $api)] pub $field: $ty, )*
            /// Members the API sent that this type does not model, as sent.
            #[serde(skip)]
            pub extra: Struct,
        }

        impl ApiRecord for $name {
            const FIELDS: &'static [&'static str] = &[$($api),*];

            fn extra(&self) -> &Struct {
                &self.extra
            }

            fn extra_mut(&mut self) -> &mut Struct {
                &mut self.extra
            }
        }
    };
}

record! {
    /// An instance as `paas.list` returns it (reference §4.2).
    pub struct Instance {
        /// `<type>_<size>`, e.g. `phpmysql_m`.
        #[serde(default, deserialize_with = "opt")]
        "catalog_name" => catalog_name: Option<String>,
        /// `<user>@console.dcN.gpaas.net` (later API versions only).
        #[serde(default, deserialize_with = "opt")]
        "console" => console: Option<String>,
        /// Extra disk in GB on top of the base 10 GB.
        #[serde(default, deserialize_with = "opt")]
        "data_disk_additional_size" => data_disk_additional_size: Option<i64>,
        /// The datacenter's id.
        #[serde(default, deserialize_with = "opt")]
        "datacenter_id" => datacenter_id: Option<i64>,
        /// When the paid period ends.
        #[serde(default, deserialize_with = "opt")]
        "date_end" => date_end: Option<DateTime>,
        /// When the commitment ends, if any.
        #[serde(default, deserialize_with = "opt")]
        "date_end_commitment" => date_end_commitment: Option<DateTime>,
        /// When the instance was created.
        #[serde(default, deserialize_with = "opt")]
        "date_start" => date_start: Option<DateTime>,
        /// The instance id.
        "id" => id: i64,
        /// The instance's name.
        #[serde(default, deserialize_with = "opt")]
        "name" => name: Option<String>,
        /// Whether a newer image is available.
        #[serde(default, deserialize_with = "opt")]
        "need_upgrade" => need_upgrade: Option<bool>,
        /// The instance's servers (`{id}` in this form).
        #[serde(default, deserialize_with = "or_default")]
        "servers" => servers: Vec<Server>,
        /// `s`, `m`, `l`, `xl`, `xxl` (or `s+`).
        #[serde(default, deserialize_with = "opt")]
        "size" => size: Option<String>,
        /// The snapshot profile (nil, or a struct in later API versions), as sent.
        #[serde(default, deserialize_with = "opt")]
        "snapshot_profile" => snapshot_profile: Option<Value>,
        /// `running`, `halted`, `being_created`, …
        #[serde(default, deserialize_with = "opt")]
        "state" => state: Option<String>,
        /// The instance type, e.g. `phpmysql` (the API's `type`).
        #[serde(default, deserialize_with = "opt")]
        "type" => kind: Option<String>,
    }
}

record! {
    /// An instance as `paas.info` returns it (reference §4.3).
    pub struct InstanceInfo {
        /// Renewal settings (nil in every known sample), as sent.
        #[serde(default, deserialize_with = "opt")]
        "autorenew" => autorenew: Option<Value>,
        /// `<type>_<size>`, e.g. `phpmysql_m`.
        #[serde(default, deserialize_with = "opt")]
        "catalog_name" => catalog_name: Option<String>,
        /// `<user>@console.dcN.gpaas.net` (later API versions only).
        #[serde(default, deserialize_with = "opt")]
        "console" => console: Option<String>,
        /// Extra disk in GB on top of the base 10 GB.
        #[serde(default, deserialize_with = "opt")]
        "data_disk_additional_size" => data_disk_additional_size: Option<i64>,
        /// The datacenter.
        #[serde(default, deserialize_with = "opt")]
        "datacenter" => datacenter: Option<DatacenterRef>,
        /// Total data disk in GB (10.0 + the additional size; later API versions only).
        #[serde(default, deserialize_with = "opt")]
        "datadisk_total_size" => datadisk_total_size: Option<f64>,
        /// When the paid period ends.
        #[serde(default, deserialize_with = "opt")]
        "date_end" => date_end: Option<DateTime>,
        /// When the commitment ends, if any.
        #[serde(default, deserialize_with = "opt")]
        "date_end_commitment" => date_end_commitment: Option<DateTime>,
        /// When the instance was created.
        #[serde(default, deserialize_with = "opt")]
        "date_start" => date_start: Option<DateTime>,
        /// The SFTP server (an address or a host name).
        #[serde(default, deserialize_with = "opt")]
        "ftp_server" => ftp_server: Option<String>,
        /// The git server's host name (later API versions only).
        #[serde(default, deserialize_with = "opt")]
        "git_server" => git_server: Option<String>,
        /// The instance id.
        "id" => id: i64,
        /// The instance's name.
        #[serde(default, deserialize_with = "opt")]
        "name" => name: Option<String>,
        /// Whether a newer image is available.
        #[serde(default, deserialize_with = "opt")]
        "need_upgrade" => need_upgrade: Option<bool>,
        /// The account that owns the instance.
        #[serde(default, deserialize_with = "opt")]
        "owner" => owner: Option<Owner>,
        /// The instance's servers, with their graph URLs.
        #[serde(default, deserialize_with = "or_default")]
        "servers" => servers: Vec<Server>,
        /// `s`, `m`, `l`, `xl`, `xxl` (or `s+`).
        #[serde(default, deserialize_with = "opt")]
        "size" => size: Option<String>,
        /// The snapshot profile (nil or a struct), as sent.
        #[serde(default, deserialize_with = "opt")]
        "snapshot_profile" => snapshot_profile: Option<Value>,
        /// `running`, `halted`, `being_created`, …
        #[serde(default, deserialize_with = "opt")]
        "state" => state: Option<String>,
        /// The instance type, e.g. `phpmysql` (the API's `type`).
        #[serde(default, deserialize_with = "opt")]
        "type" => kind: Option<String>,
        /// The ssh/sftp/git login (a number).
        #[serde(default, deserialize_with = "opt")]
        "user" => user: Option<i64>,
        /// The attached vhosts (`{date_creation, id, name, state}` in this form).
        #[serde(default, deserialize_with = "or_default")]
        "vhosts" => vhosts: Vec<Vhost>,
    }
}

/// A server of an instance: `{id}` in `paas.list`, `{graph_urls, id, uuid}` in `paas.info`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Server {
    /// The server id.
    pub id: i64,
    /// The server's uuid (an int in the API).
    #[serde(default, deserialize_with = "opt")]
    pub uuid: Option<i64>,
    /// Monitoring graph URLs.
    #[serde(default, deserialize_with = "opt")]
    pub graph_urls: Option<GraphUrls>,
}

/// The monitoring graph URLs of a server.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct GraphUrls {
    /// CPU graphs.
    #[serde(default, deserialize_with = "or_default")]
    pub vcpu: Vec<String>,
    /// Disk graphs.
    #[serde(default, deserialize_with = "or_default")]
    pub vdi: Vec<String>,
    /// Network graphs.
    #[serde(default, deserialize_with = "or_default")]
    pub vif: Vec<String>,
}

/// The datacenter as `paas.info` embeds it.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct DatacenterRef {
    /// Country name, e.g. `France`.
    #[serde(default, deserialize_with = "opt")]
    pub country: Option<String>,
    /// Code such as `FR-SD2` (later API versions only).
    #[serde(default, deserialize_with = "opt")]
    pub dc_code: Option<String>,
    /// The datacenter id.
    pub id: i64,
    /// ISO country code, e.g. `FR`.
    #[serde(default, deserialize_with = "opt")]
    pub iso: Option<String>,
    /// The datacenter's name, e.g. `eqx pa2`.
    #[serde(default, deserialize_with = "opt")]
    pub name: Option<String>,
}

/// The account owning an instance.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Owner {
    /// The handle, e.g. `XXX-GANDI`.
    #[serde(default, deserialize_with = "opt")]
    pub handle: Option<String>,
    /// The account id.
    pub id: i64,
}

record! {
    /// A vhost as `paas.vhost.list`/`info` return it (reference §4.10); inside
    /// [`InstanceInfo::vhosts`] `cert_id` and `paas_id` are absent.
    pub struct Vhost {
        /// The hosted certificate's id, if any.
        #[serde(default, deserialize_with = "opt")]
        "cert_id" => cert_id: Option<i64>,
        /// When the vhost was attached.
        #[serde(default, deserialize_with = "opt")]
        "date_creation" => date_creation: Option<DateTime>,
        /// The vhost id.
        "id" => id: i64,
        /// The FQDN.
        #[serde(default, deserialize_with = "opt")]
        "name" => name: Option<String>,
        /// The instance it belongs to.
        #[serde(default, deserialize_with = "opt")]
        "paas_id" => paas_id: Option<i64>,
        /// `running`, …
        #[serde(default, deserialize_with = "opt")]
        "state" => state: Option<String>,
    }
}

/// The step of an [`Operation`]: `BILL → WAIT → RUN → DONE`, or one of the failure ends.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum OpStep {
    /// Being billed (new ops start here or in WAIT).
    Bill,
    /// Waiting to run.
    Wait,
    /// Running.
    Run,
    /// Finished successfully.
    Done,
    /// Failed; see `last_error`.
    Error,
    /// Cancelled (`operation.cancel`, or its instance was deleted).
    Cancel,
    /// Stuck; Gandi's support must act.
    Support,
    /// A step this crate does not know, as sent (empty when the server sent none).
    Unknown(String),
}

impl OpStep {
    /// Reads the API's step name (case-sensitive, as the API writes them).
    pub fn parse(s: &str) -> OpStep {
        match s {
            "BILL" => OpStep::Bill,
            "WAIT" => OpStep::Wait,
            "RUN" => OpStep::Run,
            "DONE" => OpStep::Done,
            "ERROR" => OpStep::Error,
            "CANCEL" => OpStep::Cancel,
            "SUPPORT" => OpStep::Support,
            other => OpStep::Unknown(other.to_owned()),
        }
    }

    /// The API's name for the step.
    pub fn as_str(&self) -> &str {
        match self {
            OpStep::Bill => "BILL",
            OpStep::Wait => "WAIT",
            OpStep::Run => "RUN",
            OpStep::Done => "DONE",
            OpStep::Error => "ERROR",
            OpStep::Cancel => "CANCEL",
            OpStep::Support => "SUPPORT",
            OpStep::Unknown(s) => s,
        }
    }

    /// Whether the op is still on its way (BILL, WAIT or RUN).
    pub fn is_pending(&self) -> bool {
        matches!(self, OpStep::Bill | OpStep::Wait | OpStep::Run)
    }

    /// Whether the op ended other than DONE: ERROR, CANCEL, SUPPORT, or an unknown step
    /// (which the reference says to treat as a failure).
    pub fn is_failure(&self) -> bool {
        !self.is_pending() && *self != OpStep::Done
    }
}

impl Default for OpStep {
    fn default() -> Self {
        OpStep::Unknown(String::new())
    }
}

impl fmt::Display for OpStep {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OpStep::Unknown(s) if s.is_empty() => f.write_str("(no step)"),
            other => f.write_str(other.as_str()),
        }
    }
}

impl Serialize for OpStep {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for OpStep {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<OpStep, D::Error> {
        String::deserialize(d).map(|s| OpStep::parse(&s))
    }
}

record! {
    /// An operation (reference §5), as `operation.info`/`list` and every change return it.
    pub struct Operation {
        /// When it was created.
        #[serde(default, deserialize_with = "opt")]
        "date_created" => date_created: Option<DateTime>,
        /// When it started running, if it has.
        #[serde(default, deserialize_with = "opt")]
        "date_start" => date_start: Option<DateTime>,
        /// When it last changed.
        #[serde(default, deserialize_with = "opt")]
        "date_updated" => date_updated: Option<DateTime>,
        /// The error class, if it failed.
        #[serde(default, deserialize_with = "opt")]
        "errortype" => errortype: Option<String>,
        /// Estimated seconds left (may be negative).
        #[serde(default, deserialize_with = "opt")]
        "eta" => eta: Option<i64>,
        /// The operation id.
        "id" => id: i64,
        /// Product information (`product_type`, `product_action`, `label`, …), as sent.
        #[serde(default, deserialize_with = "opt")]
        "infos" => infos: Option<Struct>,
        /// Why it failed, if it did.
        #[serde(default, deserialize_with = "opt")]
        "last_error" => last_error: Option<String>,
        /// The op's parameters (`paas_id`, `duration`, `cancelable`, …), as sent.
        #[serde(default, deserialize_with = "opt")]
        "params" => params: Option<Struct>,
        /// The API session that started it.
        #[serde(default, deserialize_with = "opt")]
        "session_id" => session_id: Option<i64>,
        /// The account handle that started it.
        #[serde(default, deserialize_with = "opt")]
        "source" => source: Option<String>,
        /// Where it is in its lifecycle.
        #[serde(default, deserialize_with = "or_default")]
        "step" => step: OpStep,
        /// The op type, e.g. `paas_vm_create` (the API's `type`).
        #[serde(default, deserialize_with = "opt")]
        "type" => kind: Option<String>,
    }
}

impl Operation {
    /// `params.paas_id`: the instance the op acts on (how a client learns a new instance's id).
    pub fn paas_id(&self) -> Option<i64> {
        self.params.as_ref()?.get("paas_id")?.as_i64()
    }

    /// The op type, or `""` if the server sent none.
    pub fn kind_str(&self) -> &str {
        self.kind.as_deref().unwrap_or("")
    }
}

record! {
    /// One problem reported by a `'--dry-run'` call (reference §6).
    pub struct DryRunError {
        /// Extra values, e.g. `['vhost.test.fr', 'vhost=2e5d…']` (empty when nil).
        #[serde(default, deserialize_with = "or_default")]
        "attr" => attr: Vec<String>,
        /// The `EC_*` code(s): `+` joins several, `!` negates one, e.g. `EC_TXT+EC_MISSINGMANDATORY`.
        #[serde(default, deserialize_with = "opt")]
        "error" => error: Option<String>,
        /// The parameter at fault, e.g. `vhosts`.
        #[serde(default, deserialize_with = "opt")]
        "field" => field: Option<String>,
        /// `String`, `Enum`, or none.
        #[serde(default, deserialize_with = "opt")]
        "field_type" => field_type: Option<String>,
        /// Human-readable text.
        #[serde(default, deserialize_with = "opt")]
        "reason" => reason: Option<String>,
    }
}

impl DryRunError {
    /// The individual `EC_*` codes of [`error`](DryRunError::error) (split on `+`, `!` kept).
    pub fn codes(&self) -> Vec<&str> {
        self.error.as_deref().map(|e| e.split('+').filter(|c| !c.is_empty()).collect()).unwrap_or_default()
    }
}

record! {
    /// A datacenter as `hosting.datacenter.list` returns it (reference §4.14).
    pub struct Datacenter {
        /// Datacenters instances can migrate to.
        #[serde(default, deserialize_with = "or_default")]
        "can_migrate_to" => can_migrate_to: Vec<i64>,
        /// Country name.
        #[serde(default, deserialize_with = "opt")]
        "country" => country: Option<String>,
        /// Code such as `FR-SD2`.
        #[serde(default, deserialize_with = "opt")]
        "dc_code" => dc_code: Option<String>,
        /// When it closes, if planned.
        #[serde(default, deserialize_with = "opt")]
        "deactivate_at" => deactivate_at: Option<DateTime>,
        /// `NONE` (open), `NEW` (existing customers only) or `ALL` (closed), for IaaS.
        #[serde(default, deserialize_with = "opt")]
        "iaas_closed_for" => iaas_closed_for: Option<String>,
        /// The datacenter id.
        "id" => id: i64,
        /// ISO country code.
        #[serde(default, deserialize_with = "opt")]
        "iso" => iso: Option<String>,
        /// The datacenter's name.
        #[serde(default, deserialize_with = "opt")]
        "name" => name: Option<String>,
        /// `NONE`, `NEW` or `ALL`, for PaaS.
        #[serde(default, deserialize_with = "opt")]
        "paas_closed_for" => paas_closed_for: Option<String>,
    }
}

record! {
    /// An instance type as `paas.type.list` returns it, e.g. `phpmysql`.
    pub struct PaasType {
        /// The database, e.g. `MySQL`.
        #[serde(default, deserialize_with = "opt")]
        "database" => database: Option<String>,
        /// The language, e.g. `PHP`.
        #[serde(default, deserialize_with = "opt")]
        "language" => language: Option<String>,
        /// The type name used in `paas.create`, e.g. `phpmysql`.
        #[serde(default, deserialize_with = "opt")]
        "name" => name: Option<String>,
    }
}

record! {
    /// A snapshot profile as `paas.snapshotprofile.list` returns it (reference §4.13).
    pub struct SnapshotProfile {
        /// The profile id (what `paas.create`'s `snapshot_profile` takes).
        "id" => id: i64,
        /// How many snapshots are kept in all.
        #[serde(default, deserialize_with = "opt")]
        "kept_total" => kept_total: Option<i64>,
        /// The profile's name, e.g. `paas_normal`.
        #[serde(default, deserialize_with = "opt")]
        "name" => name: Option<String>,
        /// Disk quota factor, e.g. 1.3.
        #[serde(default, deserialize_with = "opt")]
        "quota_factor" => quota_factor: Option<f64>,
        /// When snapshots are taken.
        #[serde(default, deserialize_with = "or_default")]
        "schedules" => schedules: Vec<SnapshotSchedule>,
    }
}

/// One schedule of a [`SnapshotProfile`].
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct SnapshotSchedule {
    /// How many snapshots of this schedule are kept.
    #[serde(default, deserialize_with = "opt")]
    pub kept_version: Option<i64>,
    /// `daily`, `weekly`, `weekly4`, …
    #[serde(default, deserialize_with = "opt")]
    pub name: Option<String>,
}

record! {
    /// A snapshot of an instance's disk (reference §4.13; the shape is the project's decision).
    pub struct Snapshot {
        /// When it was taken.
        #[serde(default, deserialize_with = "opt")]
        "date_created" => date_created: Option<DateTime>,
        /// The snapshot id.
        "id" => id: i64,
        /// Its name.
        #[serde(default, deserialize_with = "opt")]
        "name" => name: Option<String>,
        /// The instance it belongs to.
        #[serde(default, deserialize_with = "opt")]
        "paas_id" => paas_id: Option<i64>,
        /// Its size.
        #[serde(default, deserialize_with = "opt")]
        "size" => size: Option<i64>,
    }
}

record! {
    /// What `version.info` returns.
    pub struct Version {
        /// The API version, e.g. `3.3.42`.
        #[serde(default, deserialize_with = "opt")]
        "api_version" => api_version: Option<String>,
    }
}

record! {
    /// What `paas.vhost.get_dns_entries` returns: the records to add to the vhost's zone
    /// (reference §4.12).
    pub struct DnsEntries {
        /// The CNAME target for the vhost.
        #[serde(default, deserialize_with = "opt")]
        "cname" => cname: Option<String>,
        /// The zone (registered domain) of the vhost.
        #[serde(default, deserialize_with = "opt")]
        "domain" => domain: Option<String>,
        /// The ownership token (32 hex digits).
        #[serde(default, deserialize_with = "opt")]
        "key" => key: Option<String>,
        /// The TXT value to publish, e.g. `vhost=2e5d…`.
        #[serde(default, deserialize_with = "opt")]
        "txt" => txt: Option<String>,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn op_steps_round_trip_and_classify() {
        for name in ["BILL", "WAIT", "RUN", "DONE", "ERROR", "CANCEL", "SUPPORT", "PAUSED"] {
            let step = OpStep::parse(name);
            assert_eq!(step.as_str(), name);
            assert_eq!(step.to_string(), name);
            assert_eq!(to_value(&step).unwrap(), Value::from(name));
        }
        assert!(OpStep::Bill.is_pending() && OpStep::Run.is_pending());
        assert!(!OpStep::Done.is_pending() && !OpStep::Done.is_failure());
        for failed in
            [OpStep::Error, OpStep::Cancel, OpStep::Support, OpStep::parse("PAUSED"), OpStep::default()]
        {
            assert!(failed.is_failure(), "{failed:?}");
        }
        assert_eq!(OpStep::default().to_string(), "(no step)");
        assert_eq!(
            OpStep::parse("done"),
            OpStep::Unknown("done".into()),
            "case-sensitive, as the API writes them"
        );
    }

    #[test]
    fn dry_run_codes_split() {
        let e = DryRunError { error: Some("EC_TXT+!EC_STRMATCH".into()), ..DryRunError::default() };
        assert_eq!(e.codes(), ["EC_TXT", "!EC_STRMATCH"]);
        assert!(DryRunError::default().codes().is_empty());
    }

    #[test]
    fn nil_lists_read_empty_and_records_need_a_struct() {
        let v = Value::Struct(Struct::new().with("id", 3).with("servers", Value::Nil).with("vhosts", ""));
        let i = InstanceInfo::from_api(v).unwrap();
        assert!(i.servers.is_empty() && i.vhosts.is_empty());
        let e = Instance::from_api(Value::from("x")).unwrap_err();
        assert!(e.to_string().contains("string"), "{e}");
    }
}
