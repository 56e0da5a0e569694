//! The typed client's read calls against a real sandbox (seed and demo datasets): shapes of the
//! records, paging, filters, and the raw layer.

use crate::gandi_common;

use gandi_common::*;
use gandish::gandi::{ApiRecord, Instance, InstanceInfo, OpStep, Operation};
use gandish::sandbox::Dataset;
use gandish::xmlrpc::{Struct, Value};

#[test]
fn version_info() {
    let e = env(|_| {});
    assert_eq!(e.gandi.version().unwrap().api_version.as_deref(), Some("3.3.42"));
}

#[test]
fn paas_list_and_count_give_the_seed_instance() {
    let e = env(|_| {});
    let g = &e.gandi;
    assert_eq!(g.paas_count(&Struct::new()).unwrap(), 1);
    assert_eq!(g.paas_count(&filter(&[("size", "s".into())])).unwrap(), 0);
    assert!(g.paas_list(&filter(&[("size", "s".into())])).unwrap().is_empty());
    let list = g.paas_list(&Struct::new()).unwrap();
    assert_eq!(list.len(), 1);
    let p = &list[0];
    assert_eq!(p.id, 1);
    assert_eq!(p.name.as_deref(), Some("Mon PaaS"));
    assert_eq!(p.kind.as_deref(), Some("phpmysql"));
    assert_eq!(p.size.as_deref(), Some("m"));
    assert_eq!(p.catalog_name.as_deref(), Some("phpmysql_m"));
    assert_eq!(p.state.as_deref(), Some("running"));
    assert_eq!(p.data_disk_additional_size, Some(0));
    assert_eq!(p.datacenter_id, Some(1));
    assert_eq!(p.need_upgrade, Some(true));
    assert_eq!(p.date_start, Some(dt("20110914T14:36:30")));
    assert_eq!(p.date_end, Some(dt("20111014T14:36:30")));
    assert_eq!(p.date_end_commitment, None, "nil reads as None");
    assert_eq!(p.servers.len(), 1);
    assert_eq!(p.servers[0].id, 1);
    assert!(p.extra.is_empty(), "the seed list item has only modelled fields: {:?}", p.extra);
}

#[test]
fn paas_info_gives_the_seed_info_form() {
    let e = env(|_| {});
    let p = e.gandi.paas_info(1).unwrap();
    assert_eq!(p.id, 1);
    assert_eq!(p.autorenew, None);
    assert_eq!(p.ftp_server.as_deref(), Some("10.0.0.10"));
    assert_eq!(p.user, Some(2316));
    let owner = p.owner.as_ref().unwrap();
    assert_eq!((owner.handle.as_deref(), owner.id), (Some("XXX-GANDI"), 1));
    let dc = p.datacenter.as_ref().unwrap();
    assert_eq!(dc.id, 1);
    assert_eq!(dc.country.as_deref(), Some("France"));
    assert_eq!(dc.iso.as_deref(), Some("FR"));
    assert_eq!(dc.name.as_deref(), Some("eqx pa2"));
    assert_eq!(p.servers.len(), 1);
    assert_eq!(p.servers[0].uuid, Some(1));
    let urls = p.servers[0].graph_urls.as_ref().unwrap();
    assert_eq!(urls.vcpu, ["http://console.gandi.net/?key=[...]"]);
    assert_eq!(urls.vdi.len(), 1);
    assert_eq!(urls.vif.len(), 1);
    assert_eq!(p.vhosts.len(), 1);
    let v = &p.vhosts[0];
    assert_eq!((v.id, v.name.as_deref(), v.state.as_deref()), (1, Some("vhost.test.fr"), Some("running")));
    assert_eq!(v.date_creation, Some(dt("20110914T14:36:30")));
    assert_eq!((v.cert_id, v.paas_id), (None, None), "absent in the info form");
    // The seed's info form has no date_end_commitment member at all: missing reads as None.
    assert_eq!(p.date_end_commitment, None);
    assert_eq!(p.date_end, Some(dt("20111014T14:36:30")));
}

#[test]
fn extended_fields_are_read_and_unknown_ones_kept_in_extra() {
    let e = env(|c| c.extended_fields = true);
    let p = e.gandi.paas_info(1).unwrap();
    assert_eq!(p.datadisk_total_size, Some(10.0));
    assert!(p.console.is_some(), "{p:?}");
    assert!(p.git_server.is_some(), "{p:?}");
    assert_eq!(p.datacenter.as_ref().unwrap().dc_code.as_deref(), Some("FR-SD2"));
    // Whatever the typed struct does not model survives in `extra`, and to_value gives back
    // the struct as the API sent it: same members and values (dateTimes included), except that
    // fields the API did not send come back as nil (nested records too).
    let raw = e.gandi.call("paas.info", vec![Value::Int(1)]).unwrap();
    let rebuilt = p.to_value();
    assert_same_up_to_nils(&raw, &rebuilt, "");
    // Every extended field is modelled, so nothing is left over.
    assert!(p.extra.is_empty(), "{:?}", p.extra);
}

/// `rebuilt` equals `raw` except for struct members that are nil in `rebuilt` and absent in `raw`.
fn assert_same_up_to_nils(raw: &Value, rebuilt: &Value, path: &str) {
    match (raw, rebuilt) {
        (Value::Struct(a), Value::Struct(b)) => {
            for (k, v) in a.iter() {
                let w = b.get(k).unwrap_or_else(|| panic!("{path}.{k} lost"));
                assert_same_up_to_nils(v, w, &format!("{path}.{k}"));
            }
            for (k, w) in b.iter() {
                if a.get(k).is_none() {
                    assert_eq!(w, &Value::Nil, "{path}.{k} added");
                }
            }
        }
        (Value::Array(a), Value::Array(b)) => {
            assert_eq!(a.len(), b.len(), "{path}");
            for (i, (v, w)) in a.iter().zip(b).enumerate() {
                assert_same_up_to_nils(v, w, &format!("{path}[{i}]"));
            }
        }
        _ => assert_eq!(raw, rebuilt, "{path}"),
    }
}

#[test]
fn from_api_keeps_unknown_members_and_treats_empty_strings_as_none() {
    let v = Value::Struct(
        Struct::new()
            .with("id", 7)
            .with("step", "SUPPORT")
            .with("type", "paas_vm_create")
            .with("date_start", "")
            .with("last_error", "")
            .with("eta", Value::Nil)
            .with("date_created", dt("20160218T16:26:41"))
            .with("date_updated", "20160115T162658")
            .with("weird_new_field", dt("20200101T00:00:00")),
    );
    let op = Operation::from_api(v).unwrap();
    assert_eq!(op.id, 7);
    assert_eq!(op.step, OpStep::Support);
    assert!(op.step.is_failure());
    assert_eq!((op.date_start, op.last_error, op.eta), (None, None, None));
    assert_eq!(op.date_created, Some(dt("20160218T16:26:41")));
    assert_eq!(op.date_updated, Some(dt("20160115T16:26:58")), "dateTime sent as a string without colons");
    assert_eq!(op.extra.get("weird_new_field"), Some(&Value::DateTime(dt("20200101T00:00:00"))));

    let unknown =
        Operation::from_api(Value::Struct(Struct::new().with("id", 1).with("step", "FROZEN"))).unwrap();
    assert_eq!(unknown.step, OpStep::Unknown("FROZEN".into()));
    assert!(unknown.step.is_failure());

    // id is required; a wrong type is named.
    let e = Instance::from_api(Value::Struct(Struct::new().with("name", "x"))).unwrap_err();
    assert!(e.to_string().contains("id"), "{e}");
    let e =
        InstanceInfo::from_api(Value::Struct(Struct::new().with("id", 1).with("date_end", 5))).unwrap_err();
    assert!(e.to_string().contains("date_end"), "{e}");
}

#[test]
fn types_datacenters_and_snapshot_profiles() {
    let e = env(|_| {});
    let g = &e.gandi;
    let types = g.type_list(&Struct::new()).unwrap();
    assert_eq!(types.len() as i64, g.type_count(&Struct::new()).unwrap());
    assert_eq!(types.len(), 12);
    let php = types.iter().find(|t| t.name.as_deref() == Some("phpmysql")).unwrap();
    assert_eq!((php.language.as_deref(), php.database.as_deref()), (Some("PHP"), Some("MySQL")));

    let dcs = g.datacenter_list(&Struct::new()).unwrap();
    let dc1 = dcs.iter().find(|d| d.id == 1).unwrap();
    assert_eq!(dc1.name.as_deref(), Some("eqx pa2"));
    assert_eq!(dc1.dc_code.as_deref(), Some("FR-SD2"));
    assert_eq!(dc1.paas_closed_for.as_deref(), Some("NONE"));
    assert_eq!(dc1.can_migrate_to, [4]);
    assert_eq!(dc1.deactivate_at, None);
    let only3 = g.datacenter_list(&filter(&[("id", 3.into())])).unwrap();
    assert_eq!(only3.iter().map(|d| d.id).collect::<Vec<_>>(), [3]);

    let profiles = g.snapshot_profile_list(&Struct::new()).unwrap();
    let p7 = profiles.iter().find(|p| p.id == 7).unwrap();
    assert_eq!(p7.name.as_deref(), Some("paas_normal"));
    assert_eq!(p7.kept_total, Some(3));
    assert_eq!(p7.quota_factor, Some(1.3));
    let names: Vec<_> = p7.schedules.iter().map(|s| s.name.as_deref().unwrap()).collect();
    assert_eq!(names, ["daily", "weekly", "weekly4"]);
}

#[test]
fn vhosts_and_dns_entries() {
    let e = env(|_| {});
    let g = &e.gandi;
    assert_eq!(g.vhost_count(&Struct::new()).unwrap(), 1);
    let list = g.vhost_list(&filter(&[("paas_id", 1.into())])).unwrap();
    assert_eq!(list.len(), 1);
    assert_eq!(list[0].paas_id, Some(1));
    assert_eq!(list[0].name.as_deref(), Some("vhost.test.fr"));
    assert_eq!(list[0].cert_id, None);
    let info = g.vhost_info("vhost.test.fr").unwrap();
    assert_eq!(info.id, 1);
    assert_eq!(info.state.as_deref(), Some("running"));
    let dns = g.vhost_dns_entries("vhost.test.fr", Some(1)).unwrap();
    assert_eq!(dns.key.as_deref(), Some("2e5d8f0899053fffcd3ecf4ac5a6433b"));
    assert_eq!(dns.txt.as_deref(), Some("vhost=2e5d8f0899053fffcd3ecf4ac5a6433b"));
    assert_eq!(dns.domain.as_deref(), Some("test.fr"));
    assert!(dns.cname.as_deref().unwrap().contains("gpaas.net"), "{dns:?}");
    // Without the optional paas_id as well.
    assert_eq!(g.vhost_dns_entries("vhost.test.fr", None).unwrap().key, dns.key);
}

#[test]
fn snapshots_in_the_demo_dataset() {
    let e = env(|c| c.dataset = Dataset::Demo);
    let g = &e.gandi;
    let snaps = g.snapshot_list(&Struct::new()).unwrap();
    assert!(!snaps.is_empty(), "the demo dataset has snapshots");
    assert_eq!(snaps.len() as i64, g.snapshot_count(&Struct::new()).unwrap());
    let first = &snaps[0];
    let paas_id = first.paas_id.unwrap();
    let info = g.snapshot_info(first.id).unwrap();
    assert_eq!(&info, first);
    assert!(info.date_created.is_some() && info.size.is_some() && info.name.is_some());
    let of_one = g.snapshot_list(&filter(&[("paas_id", paas_id.into())])).unwrap();
    assert!(!of_one.is_empty());
    assert!(of_one.iter().all(|s| s.paas_id == Some(paas_id)));
    // Sandbox state agrees.
    let st = e.sandbox.as_ref().unwrap().sandbox().state();
    assert_eq!(snaps.len(), st.snapshots.len());
}

#[test]
fn list_all_pages_through_1200_instances() {
    let e = env(|c| c.instances = 1200);
    let g = &e.gandi;
    let log = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let sink = log.clone();
    let g = g.clone().with_call_log(std::sync::Arc::new(move |r: &gandish::gandi::CallRecord| {
        sink.lock().unwrap().push(r.params.clone());
    }));
    let all = g.paas_list(&Struct::new()).unwrap();
    assert_eq!(all.len(), 1201, "seed instance + 1200 generated");
    assert_eq!(g.paas_count(&Struct::new()).unwrap(), 1201);
    let mut ids: Vec<i64> = all.iter().map(|p| p.id).collect();
    let n = ids.len();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), n, "no instance twice");
    // Three pages of 500: 500, 500, 201.
    let calls = log.lock().unwrap().clone();
    let list_calls: Vec<&Vec<Value>> = calls.iter().filter(|p| p.len() == 2).collect();
    assert_eq!(list_calls.len(), 3, "3 list pages: {calls:?}");
    for (page, params) in list_calls.iter().take(3).enumerate() {
        let opts = params[1].as_struct().unwrap();
        assert_eq!(opts.get("items_per_page"), Some(&Value::Int(500)));
        assert_eq!(opts.get("page"), Some(&Value::Int(page as i64)));
    }
    // With a filter, paging still covers every match.
    let running = g.paas_list(&filter(&[("state", "running".into())])).unwrap();
    let expected = g.paas_count(&filter(&[("state", "running".into())])).unwrap();
    assert_eq!(running.len() as i64, expected);
    assert!(running.len() > 500, "enough running instances to need two pages: {}", running.len());
    assert!(running.iter().all(|p| p.state.as_deref() == Some("running")));
}

#[test]
fn caller_paging_means_one_page() {
    let e = env(|c| c.instances = 1200);
    let g = &e.gandi;
    let page = g.paas_list(&filter(&[("items_per_page", 10.into()), ("page", 2.into())])).unwrap();
    assert_eq!(page.len(), 10);
    let all = g.paas_list(&Struct::new()).unwrap();
    assert_eq!(
        page.iter().map(|p| p.id).collect::<Vec<_>>(),
        all[20..30].iter().map(|p| p.id).collect::<Vec<_>>()
    );
    // Only `items_per_page`: the first page of that size (the API's default page is 0).
    assert_eq!(g.paas_list(&filter(&[("items_per_page", 7.into())])).unwrap().len(), 7);
    // Only `page`: the API's default size (100).
    assert_eq!(g.paas_list(&filter(&[("page", 1.into())])).unwrap().len(), 100);
    // The raw layer pages the same way.
    assert_eq!(g.list_all("paas.list", &Struct::new()).unwrap().len(), 1201);
}

#[test]
fn operations_list_and_count() {
    let e = env(|_| {});
    let g = &e.gandi;
    assert_eq!(g.operation_count(&Struct::new()).unwrap(), 0);
    assert!(g.operation_list(&Struct::new()).unwrap().is_empty());
    let ops = g.paas_restart(1).unwrap();
    let listed = g.operation_list(&Struct::new()).unwrap();
    assert_eq!(listed.iter().map(|o| o.id).collect::<Vec<_>>(), ops.iter().map(|o| o.id).collect::<Vec<_>>());
    assert_eq!(g.operation_count(&Struct::new()).unwrap(), ops.len() as i64);
    let done = g.operation_list(&filter(&[("step", Value::Array(vec!["DONE".into()]))])).unwrap();
    assert_eq!(done.len(), ops.len());
    assert!(g.operation_list(&filter(&[("step", Value::Array(vec!["BILL".into()]))])).unwrap().is_empty());
}
