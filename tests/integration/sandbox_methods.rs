//! Every method, the faults, filters, paging, sorting and the datasets, at the Handler level.

use crate::support::sandbox as support;

use gandish::sandbox::{Dataset, METHODS};
use gandish::xmlrpc::{CallContext, DateTime, Handler, Value};
use support::*;

fn demo() -> gandish::sandbox::Sandbox {
    sandbox(|c| c.dataset = Dataset::Demo)
}

#[test]
fn catalogue_methods_answer_their_shapes() {
    let sb = sandbox(|_| {});
    let types = ok(&sb, "paas.type.list", vec![]);
    assert_eq!(arr(&types).len(), 12);
    assert!(arr(&types).contains(&st(vec![
        ("database", "MySQL".into()),
        ("language", "PHP".into()),
        ("name", "phpmysql".into())
    ])));
    assert_eq!(ok(&sb, "paas.type.count", vec![st(vec![("language", "Python".into())])]), Value::Int(3));
    let profiles = ok(&sb, "paas.snapshotprofile.list", vec![st(vec![("name", "paas_normal".into())])]);
    assert_eq!(i(&arr(&profiles)[0], "id"), 7);
    assert_eq!(get(&arr(&profiles)[0], "quota_factor"), &Value::Double(1.3));
    let open = ok(&sb, "hosting.datacenter.list", vec![st(vec![("paas_opened", true.into())])]);
    let ids: Vec<i64> = arr(&open).iter().map(|d| i(d, "id")).collect();
    assert_eq!(ids, [1, 3, 6]);
    let fr = ok(&sb, "hosting.datacenter.list", vec![st(vec![("dc_code", "FR-SD2".into())])]);
    assert_eq!(s(&arr(&fr)[0], "name"), "eqx pa2");
    assert_eq!(s(&arr(&fr)[0], "paas_closed_for"), "NONE");
    // Seed world: no snapshot; demo: some, with info.
    assert_eq!(ok(&sb, "paas.snapshot.count", vec![]), Value::Int(0));
    let d = demo();
    let snaps = ok(&d, "paas.snapshot.list", vec![]);
    assert!(!arr(&snaps).is_empty());
    let first = &arr(&snaps)[0];
    assert_eq!(&ok(&d, "paas.snapshot.info", vec![get(first, "id").clone()]), first);
    let pid = i(first, "paas_id");
    let n = ok(&d, "paas.snapshot.count", vec![st(vec![("paas_id", pid.into())])]);
    assert!(n.as_i64().unwrap() >= 1);
    assert_eq!(err(&d, "paas.snapshot.info", vec![999_999.into()]).code, 532442);
}

#[test]
fn vhost_list_and_info_shapes() {
    let sb = sandbox(|_| {});
    let list = ok(&sb, "paas.vhost.list", vec![st(vec![("paas_id", 1.into())])]);
    assert_eq!(
        list,
        Value::Array(vec![st(vec![
            ("cert_id", Value::Nil),
            ("date_creation", dt("20110914T14:36:30")),
            ("id", 1.into()),
            ("name", "vhost.test.fr".into()),
            ("paas_id", 1.into()),
            ("state", "running".into()),
        ])])
    );
    assert_eq!(ok(&sb, "paas.vhost.info", vec!["vhost.test.fr".into()]), arr(&list)[0]);
    assert_eq!(ok(&sb, "paas.vhost.count", vec![st(vec![("paas_id", 2.into())])]), Value::Int(0));
}

#[test]
fn faults_use_gandi_codes_and_strings() {
    let sb = sandbox(|_| {});
    let mut ctx = CallContext::new("127.0.0.1:9".parse().unwrap());
    let bad = sb.call(&mut ctx, "paas.list", vec!["wrong key".into()]).unwrap_err();
    assert_eq!(bad.code, 510150);
    assert_eq!(bad.message, "Error on object : OBJECT_ACCOUNT (CAUSE_NORIGHT) [Invalid API key]");
    assert!(!bad.message.contains("wrong key"));
    assert_eq!(sb.call(&mut ctx, "paas.list", vec![]).unwrap_err().code, 510150);
    assert_eq!(sb.call(&mut ctx, "paas.list", vec![5.into()]).unwrap_err().code, 510150);
    let unknown = err(&sb, "paas.frobnicate", vec![]);
    assert_eq!((unknown.code, unknown.message.as_str()), (1, "Method \"paas.frobnicate\" is not supported"));
    assert_eq!(
        err(&sb, "paas.info", vec![42.into()]).message,
        "Error on object : OBJECT_PAAS (CAUSE_NOTFOUND) [Paas '42' doesn't exist.]"
    );
    for m in ["paas.update", "paas.renew"] {
        assert_eq!(err(&sb, m, vec![42.into(), st(vec![("duration", "1m".into())])]).code, 537542, "{m}");
    }
    for m in ["paas.delete", "paas.restart"] {
        assert_eq!(err(&sb, m, vec![42.into()]).code, 537542, "{m}");
    }
    let wrong = err(&sb, "paas.info", vec!["1".into()]);
    assert_eq!(wrong.code, 501010);
    assert!(wrong.message.contains("'paas_id' must be an integer, got string"), "{}", wrong.message);
    assert_eq!(err(&sb, "paas.info", vec![]).code, 501632);
    assert_eq!(err(&sb, "paas.info", vec![1.into(), 2.into()]).code, 501633);
    assert_eq!(err(&sb, "paas.list", vec!["x".into()]).code, 501510);
    assert_eq!(err(&sb, "operation.info", vec![5.into()]).code, 510242);
    assert_eq!(err(&sb, "paas.vhost.info", vec!["nope.example.com".into()]).code, 537642);

    let mut spec = seed_spec(false);
    let set = |k: &str, v: Value| {
        let mut s2 = spec.clone();
        if let Value::Struct(s) = &mut s2 {
            s.insert(k, v);
        }
        s2
    };
    let cases = [
        (set("size", "s+".into()), 537530, "OBJECT_PAAS (CAUSE_VALUE)"),
        (set("type", "cobol".into()), 537530, "OBJECT_PAAS (CAUSE_VALUE)"),
        (set("datacenter_id", 4.into()), 532751, "OBJECT_DATACENTER (CAUSE_DATACENTER)"),
        (set("datacenter_id", 99.into()), 532742, "OBJECT_DATACENTER (CAUSE_NOTFOUND)"),
        (set("duration", "1y".into()), 570530, "OBJECT_PRICER_DURATION (CAUSE_VALUE)"),
        (set("duration", "0m".into()), 570530, "OBJECT_PRICER_DURATION (CAUSE_VALUE)"),
        (set("quantity", (-5).into()), 571530, "OBJECT_QUANTITY (CAUSE_VALUE)"),
        (set("quantity", "5".into()), 501010, "OBJECT_INTEGER (CAUSE_TYPE)"),
        (set("vhosts", "vhost.test.fr".into()), 501410, "OBJECT_LIST (CAUSE_TYPE)"),
        (set("colour", "red".into()), 501533, "OBJECT_STRUCT (CAUSE_UNEXPECTED)"),
        (set("snapshot_profile", 3.into()), 537842, "OBJECT_SNAPSHOT_PROFILE (CAUSE_NOTFOUND)"),
        (set("vhosts", vec![Value::from("not a host")].into()), 505237, "OBJECT_FQDN (CAUSE_BADPARAMETER)"),
    ];
    for (p, code, text) in cases {
        let f = err(&sb, "paas.create", vec![p.clone()]);
        assert_eq!(f.code, code, "{p:?}: {}", f.message);
        assert!(f.message.starts_with(&format!("Error on object : {text} [")), "{}", f.message);
    }
    if let Value::Struct(s) = &mut spec {
        s.remove("size");
    }
    assert_eq!(err(&sb, "paas.create", vec![spec]).code, 501532);
    assert_eq!(err(&sb, "paas.update", vec![1.into(), st(vec![])]).code, 537544);
    assert_eq!(err(&sb, "paas.renew", vec![1.into(), st(vec![])]).code, 501532);
    // Nothing was created by any of that.
    assert_eq!(ok(&sb, "paas.count", vec![]), Value::Int(1));
    assert!(arr(&ok(&sb, "operation.list", vec![])).is_empty());
}

#[test]
fn s_plus_is_accepted_only_behind_the_option() {
    let plus = sandbox(|c| c.allow_s_plus = true);
    let up = ok(&plus, "paas.update", vec![1.into(), st(vec![("size", "s+".into())])]);
    assert_eq!(s(&arr(&up)[0], "step"), "DONE");
    assert_eq!(s(&ok(&plus, "paas.info", vec![1.into()]), "catalog_name"), "phpmysql_s+");
    let strict = sandbox(|_| {});
    assert_eq!(err(&strict, "paas.update", vec![1.into(), st(vec![("size", "s+".into())])]).code, 537530);
}

#[test]
fn extended_fields_add_the_later_sources_fields() {
    let sb = sandbox(|c| c.extended_fields = true);
    let info = ok(&sb, "paas.info", vec![1.into()]);
    assert_eq!(get(&info, "datadisk_total_size"), &Value::Double(10.0));
    assert_eq!(s(&info, "console"), "2316@console.dc0.gpaas.net");
    assert_eq!(s(get(&info, "datacenter"), "dc_code"), "FR-SD2");
    let plain = sandbox(|_| {});
    assert!(ok(&plain, "paas.info", vec![1.into()]).get("console").is_none());
}

fn page_ids(sb: &gandish::sandbox::Sandbox, method: &str, opts: Value) -> Vec<i64> {
    arr(&ok(sb, method, vec![opts])).iter().map(|v| i(v, "id")).collect()
}

#[test]
fn lists_filter_page_and_sort() {
    let sb = demo();
    let all = page_ids(&sb, "paas.list", st(vec![("items_per_page", 500.into())]));
    assert_eq!(all.len(), 37, "the seed's instance plus 36");
    assert!(all.windows(2).all(|w| w[0] < w[1]), "default order is id ASC");
    assert_eq!(ok(&sb, "paas.count", vec![]), Value::Int(37));
    assert_eq!(page_ids(&sb, "paas.list", st(vec![])).len(), 37, "default page is 100");

    // Paging is 0-based and covers everything exactly once.
    let mut paged = vec![];
    for p in 0..4 {
        paged.extend(page_ids(&sb, "paas.list", st(vec![("items_per_page", 10.into()), ("page", p.into())])));
    }
    assert_eq!(paged, all);
    assert!(
        page_ids(&sb, "paas.list", st(vec![("items_per_page", 10.into()), ("page", 4.into())])).is_empty()
    );

    // Equality, any-of and comparisons agree with count and with the items themselves.
    let items = arr(&ok(&sb, "paas.list", vec![st(vec![("items_per_page", 500.into())])])).to_vec();
    let n_s = items.iter().filter(|v| s(v, "size") == "s").count() as i64;
    assert!(n_s > 0);
    assert_eq!(ok(&sb, "paas.count", vec![st(vec![("size", "s".into())])]), Value::Int(n_s));
    let n_sm = items.iter().filter(|v| matches!(s(v, "size"), "s" | "m")).count() as i64;
    let any = st(vec![("size", vec![Value::from("s"), Value::from("m")].into())]);
    assert_eq!(ok(&sb, "paas.count", vec![any]), Value::Int(n_sm));
    let cut = DateTime::parse("20240601T00:00:00").unwrap();
    let before = items.iter().filter(|v| get(v, "date_end").as_datetime().unwrap() < &cut).count() as i64;
    assert_eq!(
        ok(&sb, "paas.count", vec![st(vec![("<date_end", Value::DateTime(cut))])]),
        Value::Int(before)
    );
    assert_eq!(
        ok(&sb, "paas.count", vec![st(vec![("<date_end", "2024-06-01T00:00:00".into())])]),
        Value::Int(before)
    );
    let after = items.iter().filter(|v| get(v, "date_end").as_datetime().unwrap() > &cut).count() as i64;
    assert_eq!(ok(&sb, "paas.count", vec![st(vec![(">date_end", Value::DateTime(cut))])]), Value::Int(after));
    assert_eq!(page_ids(&sb, "paas.list", st(vec![(">id", 35.into())])), [36, 37]);
    let shops = items.iter().filter(|v| s(v, "name").starts_with("shop-")).count() as i64;
    assert_eq!(ok(&sb, "paas.count", vec![st(vec![("~name", "SHOP-%".into())])]), Value::Int(shops));

    // Sorting, with count ignoring paging and sorting.
    let by_end = arr(&ok(&sb, "paas.list", vec![st(vec![("sort_by", "date_end DESC".into())])])).to_vec();
    assert!(
        by_end
            .windows(2)
            .all(|w| get(&w[0], "date_end").as_datetime() >= get(&w[1], "date_end").as_datetime())
    );
    let by_name = arr(&ok(&sb, "paas.list", vec![st(vec![("sort_by", "name".into())])])).to_vec();
    assert!(by_name.windows(2).all(|w| s(&w[0], "name") <= s(&w[1], "name")));
    let opts = st(vec![("sort_by", "id DESC".into()), ("items_per_page", 2.into()), ("size", "m".into())]);
    let n_m = items.iter().filter(|v| s(v, "size") == "m").count() as i64;
    assert_eq!(ok(&sb, "paas.count", vec![opts]), Value::Int(n_m));

    // Bad options are faults.
    assert_eq!(err(&sb, "paas.list", vec![st(vec![("items_per_page", 501.into())])]).code, 501030);
    assert_eq!(err(&sb, "paas.list", vec![st(vec![("items_per_page", 0.into())])]).code, 501030);
    assert_eq!(err(&sb, "paas.list", vec![st(vec![("page", (-1).into())])]).code, 501030);
    assert_eq!(err(&sb, "paas.list", vec![st(vec![("sise", "s".into())])]).code, 501533);
    assert_eq!(err(&sb, "paas.list", vec![st(vec![("id", "1".into())])]).code, 501010);
    assert_eq!(err(&sb, "paas.list", vec![st(vec![("sort_by", "colour ASC".into())])]).code, 501230);
    assert_eq!(err(&sb, "paas.list", vec![st(vec![("sort_by", "id SIDEWAYS".into())])]).code, 501230);
    assert_eq!(err(&sb, "paas.count", vec![st(vec![("<date_end", "soon".into())])]).code, 501310);
}

#[test]
fn paas_list_filters_on_exactly_the_values_it_shows() {
    let sb = sandbox(|c| {
        c.dataset = Dataset::Demo;
        c.instances = 60;
    });
    let all = st(vec![("items_per_page", 500.into())]);
    let items = arr(&ok(&sb, "paas.list", vec![all])).to_vec();
    assert_eq!(items.len(), 1 + 36 + 60);
    let fields = [
        "id",
        "name",
        "size",
        "type",
        "state",
        "catalog_name",
        "datacenter_id",
        "data_disk_additional_size",
        "need_upgrade",
        "date_start",
        "date_end",
        "date_end_commitment",
    ];
    for item in items.iter().step_by(7) {
        for field in fields {
            let shown = get(item, field).clone();
            let opts = st(vec![(field, shown.clone()), ("items_per_page", 500.into())]);
            let found = arr(&ok(&sb, "paas.list", vec![opts.clone()])).to_vec();
            assert!(found.contains(item), "filter {field} = {shown:?} misses instance {:?}", get(item, "id"));
            assert!(
                found.iter().all(|f| get(f, field) == &shown),
                "filter {field} = {shown:?} lets others in"
            );
            assert_eq!(ok(&sb, "paas.count", vec![opts]), Value::Int(found.len() as i64));
        }
    }
    // `user` filters although the list item does not show it; the seed's instance has 2316.
    let seed_user = st(vec![("user", 2316.into())]);
    assert!(arr(&ok(&sb, "paas.list", vec![seed_user])).iter().any(|i| get(i, "id") == &Value::Int(1)));
    assert!(items.iter().all(|i| i.get("user").is_none()));
}

#[test]
fn operation_list_filters_by_step_type_and_paas_id() {
    let sb = sandbox(|c| {
        c.op_seconds = 10;
        c.dataset = Dataset::Demo;
    });
    ok(&sb, "paas.renew", vec![1.into(), st(vec![("duration", "1m".into())])]);
    ok(&sb, "sandbox.clock.advance", vec![10.into()]);
    ok(&sb, "paas.renew", vec![2.into(), st(vec![("duration", "1m".into())])]);
    ok(&sb, "paas.restart", vec![3.into()]);
    assert_eq!(ok(&sb, "operation.count", vec![]), Value::Int(5));
    let pending =
        st(vec![("step", vec![Value::from("BILL"), Value::from("WAIT"), Value::from("RUN")].into())]);
    assert_eq!(ok(&sb, "operation.count", vec![pending]), Value::Int(3));
    assert_eq!(ok(&sb, "operation.count", vec![st(vec![("paas_id", 2.into())])]), Value::Int(2));
    assert_eq!(ok(&sb, "operation.count", vec![st(vec![("type", "paas_vm_restart".into())])]), Value::Int(1));
    let newest = ok(
        &sb,
        "operation.list",
        vec![st(vec![("sort_by", "id DESC".into()), ("items_per_page", 1.into())])],
    );
    assert_eq!(s(&arr(&newest)[0], "type"), "paas_vm_restart");
    let late = st(vec![(">date_created", dt("20240115T13:00:05"))]);
    assert_eq!(ok(&sb, "operation.count", vec![late]), Value::Int(3));
}

#[test]
fn datasets_are_as_described_and_generation_is_deterministic() {
    let empty = sandbox(|c| c.dataset = Dataset::Empty);
    assert_eq!(ok(&empty, "paas.count", vec![]), Value::Int(0));
    let ops = ok(&empty, "paas.create", vec![seed_spec(false)]);
    assert_eq!(i(get(&arr(&ops)[0], "params"), "paas_id"), 1);

    // Demo: the seed's instance first, then a mix expiring over the coming year.
    let d = demo();
    assert_eq!(ok(&d, "paas.info", vec![1.into()]), ok(&sandbox(|_| {}), "paas.info", vec![1.into()]));
    let items = arr(&ok(&d, "paas.list", vec![st(vec![(">id", 1.into())])])).to_vec();
    assert_eq!(items.len(), 36);
    let now = DateTime::parse("20240115T13:00:00").unwrap();
    let year = DateTime::parse("20250115T13:00:00").unwrap();
    for v in &items {
        let end = *get(v, "date_end").as_datetime().unwrap();
        assert!(end > now && end <= year, "{end}");
    }
    let distinct = |k: &str| {
        let mut v: Vec<String> = items.iter().map(|x| s(x, k).to_string()).collect();
        v.sort();
        v.dedup();
        v.len()
    };
    assert!(distinct("size") >= 4 && distinct("type") >= 4 && distinct("state") == 2, "a mix");
    assert!(ok(&d, "paas.vhost.count", vec![]).as_i64().unwrap() > 20);

    // --instances N: deterministic under --seed, spread from a month ago to a year ahead.
    let generated = |seed: u64| {
        let sb = sandbox(|c| {
            c.dataset = Dataset::Empty;
            c.instances = 200;
            c.seed = seed;
        });
        ok(&sb, "paas.list", vec![st(vec![("items_per_page", 500.into())])])
    };
    let a = generated(7);
    assert_eq!(a, generated(7));
    assert_ne!(a, generated(8));
    assert_eq!(arr(&a).len(), 200);
    let month_ago = DateTime::parse("20231216T13:00:00").unwrap();
    let mut expired = 0;
    for v in arr(&a) {
        let end = *get(v, "date_end").as_datetime().unwrap();
        assert!(end >= month_ago && end <= year, "{end}");
        expired += usize::from(end < now);
    }
    assert!(expired > 0, "some have already expired");
}

#[test]
fn junk_arguments_never_panic_and_always_answer() {
    let sb = demo();
    let junk = [
        Value::Nil,
        Value::Int(-1),
        Value::Int(i64::MAX),
        Value::Bool(true),
        Value::Double(f64::NAN),
        Value::from("x"),
        Value::from(""),
        Value::Base64(vec![0, 1]),
        Value::DateTime(DateTime::parse("99991231T23:59:59").unwrap()),
        Value::Array(vec![Value::Nil]),
        st(vec![]),
        st(vec![("--dry-run", true.into()), ("vhosts", vec![Value::Int(1)].into())]),
        st(vec![("items_per_page", i64::MIN.into()), ("page", i64::MAX.into())]),
        st(vec![("paas_id", 1.into()), ("vhost", "".into())]),
    ];
    for m in METHODS.iter().filter(|m| **m != "sandbox.reset") {
        for n in 0..3 {
            for j in &junk {
                let args = vec![j.clone(); n];
                let _ = call(&sb, m, args);
            }
        }
    }
    // Still serving, still consistent.
    assert!(ok(&sb, "paas.count", vec![]).as_i64().is_some());
    // A page far beyond the end is empty, not a crash.
    let far = st(vec![("page", i64::MAX.into()), ("items_per_page", 500.into())]);
    assert_eq!(ok(&sb, "paas.list", vec![far]), Value::Array(vec![]));
}

#[test]
fn the_config_debug_never_shows_the_key() {
    let sb = sandbox(|c| c.api_key = "s3cret-key-value".into());
    let shown = format!("{:?} {:?}", sb, sb.config());
    assert!(!shown.contains("s3cret"), "{shown}");
    assert!(shown.contains("redacted"));
}
