//! Fixed catalogue data: API version, instance types and sizes, datacenters, snapshot profiles
//! (reference §4.1, §4.9, §4.13, §4.14, §8, §9).

use crate::xmlrpc::{DateTime, Fault, Struct, Value};

use super::args::{Args, as_bool, wrong_type};
use super::fault::code;
use super::filter::{self, FTy};

/// The API version `version.info` reports.
pub const API_VERSION: &str = "3.3.42";

/// The five sizes the seed lists.
pub const SIZES: [&str; 5] = ["s", "m", "l", "xl", "xxl"];

/// The extra size later sources add, accepted only with `allow_s_plus`.
pub const S_PLUS: &str = "s+";

/// `(name, language, database)` of every instance type.
pub const TYPES: [(&str, &str, &str); 12] = [
    ("phpmysql", "PHP", "MySQL"),
    ("phppgsql", "PHP", "PostgreSQL"),
    ("phpmongodb", "PHP", "MongoDB"),
    ("nodejsmysql", "NodeJS", "MySQL"),
    ("nodejspgsql", "NodeJS", "PostgreSQL"),
    ("nodejsmongodb", "NodeJS", "MongoDB"),
    ("pythonmysql", "Python", "MySQL"),
    ("pythonpgsql", "Python", "PostgreSQL"),
    ("pythonmongodb", "Python", "MongoDB"),
    ("rubymysql", "Ruby", "MySQL"),
    ("rubypgsql", "Ruby", "PostgreSQL"),
    ("rubymongodb", "Ruby", "MongoDB"),
];

/// Whether `t` is a known instance type.
pub fn is_type(t: &str) -> bool {
    TYPES.iter().any(|(n, _, _)| *n == t)
}

/// Whether `s` is an accepted size (`s+` only when `allow_s_plus`).
pub fn is_size(s: &str, allow_s_plus: bool) -> bool {
    SIZES.contains(&s) || (allow_s_plus && s == S_PLUS)
}

/// The accepted sizes as text, for error messages.
pub fn sizes_text(allow_s_plus: bool) -> String {
    let mut v: Vec<&str> = SIZES.to_vec();
    if allow_s_plus {
        v.insert(1, S_PLUS);
    }
    v.join(", ")
}

/// A datacenter.
#[derive(Clone, Copy, Debug)]
pub struct Datacenter {
    /// Id.
    pub id: i64,
    /// Country name.
    pub country: &'static str,
    /// ISO country code.
    pub iso: &'static str,
    /// Name.
    pub name: &'static str,
    /// `FR-SD2`-style code.
    pub dc_code: &'static str,
    /// `NONE`, `NEW` or `ALL` for IaaS.
    pub iaas_closed_for: &'static str,
    /// `NONE`, `NEW` or `ALL` for PaaS.
    pub paas_closed_for: &'static str,
    /// Deactivation date `(y, m, d)`, if any.
    pub deactivate_at: Option<(u16, u8, u8)>,
    /// Ids it can migrate to.
    pub can_migrate_to: &'static [i64],
}

impl Datacenter {
    /// Open for new PaaS instances (`paas_closed_for` is `NONE` or `NEW`, as DOC-DC's
    /// `paas_opened` reads it: the account is an existing customer).
    pub fn paas_open(&self) -> bool {
        self.paas_closed_for != "ALL"
    }

    /// The `{country, id, iso, name}` struct `paas.info` shows (plus `dc_code` when extended).
    pub fn short(&self, extended: bool) -> Value {
        let mut s = Struct::with_capacity(5)
            .with("country", self.country)
            .with("id", self.id)
            .with("iso", self.iso)
            .with("name", self.name);
        if extended {
            s.insert("dc_code", self.dc_code);
        }
        Value::Struct(s)
    }

    /// The `hosting.datacenter.list` item.
    pub fn item(&self) -> Value {
        let deact = self.deactivate_at.map(|(y, m, d)| DateTime {
            year: y,
            month: m,
            day: d,
            hour: 0,
            minute: 0,
            second: 0,
            offset_minutes: None,
        });
        Value::Struct(
            Struct::with_capacity(9)
                .with(
                    "can_migrate_to",
                    Value::Array(self.can_migrate_to.iter().map(|&i| Value::Int(i)).collect()),
                )
                .with("country", self.country)
                .with("dc_code", self.dc_code)
                .with("deactivate_at", deact)
                .with("iaas_closed_for", self.iaas_closed_for)
                .with("id", self.id)
                .with("iso", self.iso)
                .with("name", self.name)
                .with("paas_closed_for", self.paas_closed_for),
        )
    }

    /// The ftp server of instances in this datacenter (dc 1 gives the seed's `10.0.0.10`).
    pub fn ftp_server(&self) -> String {
        format!("10.0.{}.10", self.id - 1)
    }
}

/// Every datacenter (§9, with datacenter 1 named as in the seed and open for PaaS).
pub const DATACENTERS: [Datacenter; 6] = [
    Datacenter {
        id: 1,
        country: "France",
        iso: "FR",
        name: "eqx pa2",
        dc_code: "FR-SD2",
        iaas_closed_for: "NONE",
        paas_closed_for: "NONE",
        deactivate_at: None,
        can_migrate_to: &[4],
    },
    Datacenter {
        id: 2,
        country: "United States of America",
        iso: "US",
        name: "Level3 Baltimore",
        dc_code: "US-BA1",
        iaas_closed_for: "ALL",
        paas_closed_for: "ALL",
        deactivate_at: None,
        can_migrate_to: &[],
    },
    Datacenter {
        id: 3,
        country: "Luxembourg",
        iso: "LU",
        name: "Bissen",
        dc_code: "LU-BI1",
        iaas_closed_for: "NONE",
        paas_closed_for: "NONE",
        deactivate_at: None,
        can_migrate_to: &[],
    },
    Datacenter {
        id: 4,
        country: "France",
        iso: "FR",
        name: "France, Paris",
        dc_code: "FR-SD3",
        iaas_closed_for: "NONE",
        paas_closed_for: "ALL",
        deactivate_at: None,
        can_migrate_to: &[],
    },
    Datacenter {
        id: 5,
        country: "France",
        iso: "FR",
        name: "France, Paris",
        dc_code: "FR-SD5",
        iaas_closed_for: "NONE",
        paas_closed_for: "ALL",
        deactivate_at: None,
        can_migrate_to: &[],
    },
    Datacenter {
        id: 6,
        country: "France",
        iso: "FR",
        name: "France, Paris",
        dc_code: "FR-SD6",
        iaas_closed_for: "NONE",
        paas_closed_for: "NONE",
        deactivate_at: None,
        can_migrate_to: &[],
    },
];

/// The datacenter with this id.
pub fn datacenter(id: i64) -> Option<&'static Datacenter> {
    DATACENTERS.iter().find(|d| d.id == id)
}

/// The PaaS snapshot profile ids.
pub const SNAPSHOT_PROFILE_IDS: [i64; 1] = [7];

/// The `paas.snapshotprofile.list` items.
pub fn snapshot_profiles() -> Vec<Value> {
    let sched = |n: &str, kept: i64| Value::Struct(Struct::new().with("kept_version", kept).with("name", n));
    vec![Value::Struct(
        Struct::new()
            .with("id", 7)
            .with("kept_total", 3)
            .with("name", "paas_normal")
            .with("quota_factor", 1.3)
            .with("schedules", vec![sched("daily", 1), sched("weekly", 1), sched("weekly4", 1)]),
    )]
}

/// The `paas.type.list` items.
pub fn type_items() -> Vec<Value> {
    TYPES
        .iter()
        .map(|(n, l, d)| {
            Value::Struct(Struct::new().with("database", *d).with("language", *l).with("name", *n))
        })
        .collect()
}

/// `version.info(key)`.
pub fn version_info(args: &Args) -> Result<Value, Fault> {
    args.arity(0, 0)?;
    Ok(Value::Struct(Struct::new().with("api_version", API_VERSION)))
}

const TYPE_FIELDS: [(&str, FTy); 3] = [("name", FTy::Str), ("language", FTy::Str), ("database", FTy::Str)];

/// `paas.type.list(key[, opts])` / `paas.type.count(key[, opts])`.
pub fn type_list(args: &Args, count: bool) -> Result<Value, Fault> {
    args.arity(0, 1)?;
    let opts = filter::parse(args.opt_struct(0, "options")?, &TYPE_FIELDS, &[])?;
    let items = type_items();
    if count {
        return Ok(Value::Int(opts.count(items.iter(), &filter::member)));
    }
    Ok(Value::Array(opts.select(items, &filter::member)))
}

const PROFILE_FIELDS: [(&str, FTy); 2] = [("id", FTy::Int), ("name", FTy::Str)];

/// `paas.snapshotprofile.list(key[, opts])`.
pub fn snapshotprofile_list(args: &Args) -> Result<Value, Fault> {
    args.arity(0, 1)?;
    let opts = filter::parse(args.opt_struct(0, "options")?, &PROFILE_FIELDS, &[])?;
    Ok(Value::Array(opts.select(snapshot_profiles(), &filter::member)))
}

const DC_FIELDS: [(&str, FTy); 7] = [
    ("id", FTy::Int),
    ("dc_code", FTy::Str),
    ("name", FTy::Str),
    ("iso", FTy::Str),
    ("country", FTy::Str),
    ("iaas_closed_for", FTy::Str),
    ("paas_closed_for", FTy::Str),
];

const DC_FLAGS: [&str; 4] = ["iaas_opened", "iaas_closed", "paas_opened", "paas_closed"];

/// `hosting.datacenter.list(key[, opts])`; besides the field filters it takes the DOC-DC flags
/// `paas_opened` (closed_for NONE or NEW), `paas_closed` (NEW or ALL) and their `iaas_` forms.
pub fn datacenter_list(args: &Args) -> Result<Value, Fault> {
    args.arity(0, 1)?;
    let raw = args.opt_struct(0, "options")?;
    let opts = filter::parse(raw, &DC_FIELDS, &DC_FLAGS)?;
    let mut flags: Vec<(&str, bool)> = Vec::new();
    for f in DC_FLAGS {
        if let Some(v) = raw.and_then(|r| r.get(f)) {
            let b = as_bool(v).ok_or_else(|| wrong_type(code::NOT_BOOL, f, "a boolean", v))?;
            flags.push((f, b));
        }
    }
    let items: Vec<Value> = DATACENTERS
        .iter()
        .filter(|d| {
            flags.iter().all(|&(f, want)| {
                let closed_for = if f.starts_with("paas") { d.paas_closed_for } else { d.iaas_closed_for };
                let holds = if f.ends_with("opened") { closed_for != "ALL" } else { closed_for != "NONE" };
                holds == want
            })
        })
        .map(Datacenter::item)
        .collect();
    Ok(Value::Array(opts.select(items, &filter::member)))
}
