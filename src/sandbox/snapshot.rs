//! `paas.snapshot.list/count/info` (reference §4.13; item `{id, name, paas_id, date_created, size}`).

use crate::xmlrpc::{Fault, Struct, Value};

use super::Ctx;
use super::args::Args;
use super::clock::stamp_to_datetime;
use super::fault::{code, fault};
use super::filter::{self, FTy};
use super::state::Snapshot;

fn item(s: &Snapshot) -> Value {
    Value::Struct(
        Struct::with_capacity(5)
            .with("date_created", stamp_to_datetime(s.date_created))
            .with("id", s.id)
            .with("name", s.name.as_str())
            .with("paas_id", s.paas_id)
            .with("size", s.size),
    )
}

const FIELDS: [(&str, FTy); 5] = [
    ("id", FTy::Int),
    ("name", FTy::Str),
    ("paas_id", FTy::Int),
    ("date_created", FTy::Date),
    ("size", FTy::Int),
];

/// `paas.snapshot.list(key[, opts])` / `paas.snapshot.count(key[, opts])`.
pub fn list(ctx: &mut Ctx, args: &Args, count: bool) -> Result<Value, Fault> {
    args.arity(0, 1)?;
    let opts = filter::parse(args.opt_struct(0, "options")?, &FIELDS, &[])?;
    let items: Vec<Value> = ctx.st.snapshots.values().map(item).collect();
    if count {
        return Ok(Value::Int(opts.count(items.iter(), &filter::member)));
    }
    Ok(Value::Array(opts.select(items, &filter::member)))
}

/// `paas.snapshot.info(key, snapshot_id)`.
pub fn info(ctx: &mut Ctx, args: &Args) -> Result<Value, Fault> {
    args.arity(1, 1)?;
    let id = args.int(0, "snapshot_id")?;
    ctx.st
        .snapshots
        .get(&id)
        .map(item)
        .ok_or_else(|| fault(code::SNAPSHOT_NOT_FOUND, format_args!("Snapshot '{id}' doesn't exist.")))
}
