//! The seed document's Python session, at the Handler level, against the `seed` dataset.

use crate::support::sandbox as support;

use gandish::xmlrpc::Value;
use support::*;

fn seed_list_item() -> Value {
    st(vec![
        ("catalog_name", "phpmysql_m".into()),
        ("data_disk_additional_size", 0.into()),
        ("datacenter_id", 1.into()),
        ("date_end", dt("20111014T14:36:30")),
        ("date_end_commitment", Value::Nil),
        ("date_start", dt("20110914T14:36:30")),
        ("id", 1.into()),
        ("name", "Mon PaaS".into()),
        ("need_upgrade", true.into()),
        ("servers", vec![st(vec![("id", 1.into())])].into()),
        ("size", "m".into()),
        ("state", "running".into()),
        ("type", "phpmysql".into()),
    ])
}

fn seed_info() -> Value {
    let url = || Value::from(vec![Value::from("http://console.gandi.net/?key=[...]")]);
    st(vec![
        ("autorenew", Value::Nil),
        ("catalog_name", "phpmysql_m".into()),
        ("data_disk_additional_size", 0.into()),
        (
            "datacenter",
            st(vec![
                ("country", "France".into()),
                ("id", 1.into()),
                ("iso", "FR".into()),
                ("name", "eqx pa2".into()),
            ]),
        ),
        ("date_end", dt("20111014T14:36:30")),
        ("date_start", dt("20110914T14:36:30")),
        ("ftp_server", "10.0.0.10".into()),
        ("id", 1.into()),
        ("name", "Mon PaaS".into()),
        ("owner", st(vec![("handle", "XXX-GANDI".into()), ("id", 1.into())])),
        (
            "servers",
            vec![st(vec![
                ("graph_urls", st(vec![("vcpu", url()), ("vdi", url()), ("vif", url())])),
                ("id", 1.into()),
                ("uuid", 1.into()),
            ])]
            .into(),
        ),
        ("size", "m".into()),
        ("state", "running".into()),
        ("type", "phpmysql".into()),
        ("user", 2316.into()),
        (
            "vhosts",
            vec![st(vec![
                ("date_creation", dt("20110914T14:36:30")),
                ("id", 1.into()),
                ("name", "vhost.test.fr".into()),
                ("state", "running".into()),
            ])]
            .into(),
        ),
    ])
}

fn seed_txt_error(field: &str) -> Value {
    Value::from(vec![st(vec![
        (
            "attr",
            vec![Value::from("vhost.test.fr"), Value::from("vhost=2e5d8f0899053fffcd3ecf4ac5a6433b")].into(),
        ),
        ("error", "EC_TXT+EC_MISSINGMANDATORY".into()),
        ("field", field.into()),
        ("field_type", Value::Nil),
        ("reason", "You must put a TXT value in your zone".into()),
    ])])
}

fn size_filter(size: &str) -> Value {
    st(vec![("size", size.into())])
}

#[test]
fn the_seed_session_answers_what_the_seed_prints() {
    for op_seconds in [0, 30] {
        let sb = sandbox(|c| c.op_seconds = op_seconds);
        assert_eq!(ok(&sb, "version.info", vec![]), st(vec![("api_version", "3.3.42".into())]));
        assert_eq!(ok(&sb, "paas.list", vec![]), Value::from(vec![seed_list_item()]));
        assert_eq!(ok(&sb, "paas.list", vec![size_filter("s")]), Value::from(Vec::<Value>::new()));
        assert_eq!(ok(&sb, "paas.count", vec![]), Value::Int(1));
        assert_eq!(ok(&sb, "paas.count", vec![size_filter("s")]), Value::Int(0));
        assert_eq!(ok(&sb, "paas.info", vec![1.into()]), seed_info());

        // The dry run first (nothing is created), then the real create.
        assert_eq!(ok(&sb, "paas.create", vec![seed_spec(true)]), seed_txt_error("vhosts"));
        assert_eq!(ok(&sb, "paas.count", vec![]), Value::Int(1));
        let ops = ok(&sb, "paas.create", vec![seed_spec(false)]);
        let types: Vec<&str> = arr(&ops).iter().map(|o| s(o, "type")).collect();
        assert_eq!(types, ["paas_vm_create", "paas_disk_create", "rproxy_create"]);
        let paas_id = i(get(&arr(&ops)[0], "params"), "paas_id");
        assert_eq!(paas_id, 2, "the new instance is id 2");
        // Instant ops are over in the reply (rproxy_create failed: test.fr is unverified).
        let expected = if op_seconds == 0 { ["DONE", "DONE", "ERROR"] } else { ["BILL"; 3] };
        for (o, want) in arr(&ops).iter().zip(expected) {
            assert_eq!(i(get(o, "params"), "paas_id"), 2);
            assert_eq!(s(o, "step"), want, "{o:?}");
        }

        let up = ok(&sb, "paas.update", vec![paas_id.into(), st(vec![("size", "xl".into())])]);
        assert_eq!(s(&arr(&up)[0], "type"), "paas_vm_update");
        let del = ok(&sb, "paas.delete", vec![paas_id.into()]);
        assert_eq!(s(&del, "type"), "paas_delete");

        // Instance 1 is untouched, and the seed's vhost dry run answers the TXT item.
        assert_eq!(ok(&sb, "paas.info", vec![1.into()]), seed_info());
        let vh =
            st(vec![("paas_id", 1.into()), ("vhost", "vhost.test.fr".into()), ("--dry-run", true.into())]);
        assert_eq!(ok(&sb, "paas.vhost.create", vec![vh]), seed_txt_error("vhost"));
    }
}

#[test]
fn the_seed_world_after_create_update_delete_settles_as_expected() {
    let sb = sandbox(|c| c.op_seconds = 20);
    let ops = ok(&sb, "paas.create", vec![seed_spec(false)]);
    assert_eq!(s(&ok(&sb, "paas.info", vec![2.into()]), "state"), "being_created");
    ok(&sb, "sandbox.clock.advance", vec![10.into()]);
    ok(&sb, "paas.update", vec![2.into(), st(vec![("size", "xl".into())])]);
    ok(&sb, "sandbox.clock.advance", vec![10.into()]);
    let info = ok(&sb, "paas.info", vec![2.into()]);
    assert_eq!(s(&info, "state"), "running");
    assert_eq!(s(&info, "size"), "m", "the update lands 20 s after its call, 10 s from now");
    // The unverified vhost was not attached; rproxy_create ended in ERROR naming the record.
    assert_eq!(arr(get(&info, "vhosts")).len(), 0);
    let rproxy = ok(&sb, "operation.info", vec![get(&arr(&ops)[2], "id").clone()]);
    assert_eq!(s(&rproxy, "step"), "ERROR");
    assert!(s(&rproxy, "last_error").contains("vhost=2e5d8f0899053fffcd3ecf4ac5a6433b"), "{rproxy:?}");
    assert_eq!(s(&ok(&sb, "operation.info", vec![get(&arr(&ops)[0], "id").clone()]), "step"), "DONE");
    ok(&sb, "sandbox.clock.advance", vec![10.into()]);
    assert_eq!(s(&ok(&sb, "paas.info", vec![2.into()]), "size"), "xl");
    ok(&sb, "paas.delete", vec![2.into()]);
    ok(&sb, "sandbox.clock.advance", vec![20.into()]);
    assert_eq!(
        err(&sb, "paas.info", vec![2.into()]).message,
        "Error on object : OBJECT_PAAS (CAUSE_NOTFOUND) [Paas '2' doesn't exist.]"
    );
    assert_eq!(ok(&sb, "paas.count", vec![]), Value::Int(1));
}
