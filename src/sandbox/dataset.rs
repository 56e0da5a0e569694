//! Starting worlds: `seed` (exactly the seed document's, reference §8), `demo` (the seed's plus a
//! few dozen realistic instances) and `empty`, plus `--instances N` generated instances,
//! deterministic under `--seed`.

use std::collections::{BTreeMap, BTreeSet};
use std::str::FromStr;

use crate::xmlrpc::DateTime;

use super::SandboxConfig;
use super::catalog::{self, datacenter};
use super::clock::paris_stamp;
use super::rng::Rng;
use super::state::{Account, Counters, Instance, Snapshot, State, Vhost};

/// Which starting world.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Dataset {
    /// The seed document's world: one instance, id 1 "Mon PaaS".
    Seed,
    /// The seed's instance plus a few dozen realistic ones (the default).
    #[default]
    Demo,
    /// No instance at all.
    Empty,
}

impl FromStr for Dataset {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "seed" => Ok(Dataset::Seed),
            "demo" => Ok(Dataset::Demo),
            "empty" => Ok(Dataset::Empty),
            other => Err(format!("unknown dataset {other:?} (expected seed, demo or empty)")),
        }
    }
}

/// The seed's TXT token for `vhost.test.fr`.
pub const SEED_TOKEN: &str = "2e5d8f0899053fffcd3ecf4ac5a6433b";

/// How many instances `demo` adds to the seed's.
pub const DEMO_INSTANCES: usize = 36;

const DEMO_RNG_SEED: u64 = 0x5EED_0DE0;

fn stamp(s: &str) -> i64 {
    DateTime::parse(s).map(|d| d.naive_timestamp()).unwrap_or(0)
}

fn empty_state() -> State {
    State {
        account: Account { handle: "XXX-GANDI".into(), id: 1 },
        instances: BTreeMap::new(),
        vhosts: BTreeMap::new(),
        ops: BTreeMap::new(),
        ledger: Vec::new(),
        snapshots: BTreeMap::new(),
        zones: BTreeSet::new(),
        txt: BTreeMap::new(),
        tokens: BTreeMap::new(),
        fail_next: BTreeMap::new(),
        next: Counters { paas: 1, vhost: 1, op: 1000, server: 1, user: 2316, snapshot: 1 },
        clock_offset: 0,
        vhost_index: None,
        next_due: None,
    }
}

fn seed_world(st: &mut State) {
    let t0 = stamp("20110914T14:36:30");
    st.instances.insert(
        1,
        Instance {
            id: 1,
            name: "Mon PaaS".into(),
            kind: "phpmysql".into(),
            size: "m".into(),
            datacenter_id: 1,
            quantity: 0,
            date_start: t0,
            date_end: stamp("20111014T14:36:30"),
            date_end_commitment: None,
            need_upgrade: true,
            state: "running".into(),
            user: 2316,
            server_id: 1,
            server_uuid: 1,
            ftp_server: "10.0.0.10".into(),
            snapshot_profile: None,
            console: false,
        },
    );
    st.vhosts_mut().insert(
        1,
        Vhost { id: 1, name: "vhost.test.fr".into(), paas_id: 1, state: "running".into(), date_creation: t0 },
    );
    st.tokens.insert("vhost.test.fr".into(), SEED_TOKEN.into());
    st.next = Counters { paas: 2, vhost: 2, op: 1000, server: 2, user: 2317, snapshot: 1 };
}

/// Builds the configured world at base UTC time `now`.
pub fn build(cfg: &SandboxConfig, now: i64) -> State {
    let mut st = empty_state();
    match cfg.dataset {
        Dataset::Empty => {}
        Dataset::Seed => seed_world(&mut st),
        Dataset::Demo => {
            seed_world(&mut st);
            let mut rng = Rng::new(DEMO_RNG_SEED);
            generate(&mut st, &mut rng, DEMO_INSTANCES, now, 1, 365, true);
        }
    }
    if cfg.instances > 0 {
        let mut rng = Rng::new(cfg.seed);
        generate(&mut st, &mut rng, cfg.instances, now, -30, 365, false);
    }
    st
}

const PROJECTS: [&str; 12] = [
    "blog",
    "shop",
    "api",
    "wiki",
    "intranet",
    "portfolio",
    "forum",
    "crm",
    "docs",
    "site",
    "agenda",
    "photos",
];
const OWNERS: [&str; 12] = [
    "durand", "martin", "bernard", "petit", "leroy", "moreau", "lefebvre", "garcia", "roux", "fournier",
    "girard", "bonnet",
];
const TLDS: [&str; 4] = ["fr", "com", "net", "eu"];
const SIZE_BAG: [&str; 20] =
    ["s", "s", "s", "s", "s", "s", "m", "m", "m", "m", "m", "m", "m", "l", "l", "l", "l", "xl", "xl", "xxl"];
const DC_BAG: [i64; 8] = [1, 1, 1, 1, 3, 3, 4, 6];
const QUANTITY_BAG: [i64; 8] = [0, 0, 0, 0, 5, 10, 20, 50];
const TERMS: [i64; 6] = [1, 3, 6, 12, 24, 36];

/// Adds `n` instances with `date_end` spread uniformly from `lo` to `hi` days after `now`, mixed
/// sizes, types, states and vhosts. In demo mode some domains are Gandi-managed zones, and the
/// first few instances have snapshots.
fn generate(st: &mut State, rng: &mut Rng, n: usize, now: i64, lo: i64, hi: i64, demo: bool) {
    let today = paris_stamp(now);
    for _ in 0..n {
        let id = State::take_id(&mut st.next.paas);
        let project = *rng.pick(&PROJECTS);
        let owner = *rng.pick(&OWNERS);
        let name = format!("{project}-{owner}");
        let kind = if rng.chance(0.4) { "phpmysql" } else { rng.pick(&catalog::TYPES).0 };
        let dc = *rng.pick(&DC_BAG);
        let span = (hi - lo).max(1) * 86_400;
        let date_end = today + lo * 86_400 + rng.below(span as u64) as i64;
        let term = *rng.pick(&TERMS);
        let date_start = date_end - term * 30 * 86_400 - rng.below(86_400) as i64;
        let server = State::take_id(&mut st.next.server);
        let inst = Instance {
            id,
            name: name.clone(),
            kind: kind.into(),
            size: (*rng.pick(&SIZE_BAG)).into(),
            datacenter_id: dc,
            quantity: *rng.pick(&QUANTITY_BAG),
            date_start,
            date_end,
            date_end_commitment: rng.chance(0.1).then_some(date_end - 30 * 86_400),
            need_upgrade: rng.chance(0.3),
            state: if rng.chance(0.85) { "running" } else { "halted" }.into(),
            user: State::take_id(&mut st.next.user),
            server_id: server,
            server_uuid: 100_000 + server,
            ftp_server: datacenter(dc).map(|d| d.ftp_server()).unwrap_or_default(),
            snapshot_profile: rng.chance(0.3).then_some(7),
            console: rng.chance(0.5),
        };
        let domain = format!("{project}-{owner}-{id}.{}", rng.pick(&TLDS));
        if demo && rng.chance(0.4) {
            st.zones.insert(domain.clone());
        }
        let n_vhosts = rng.below(4);
        for name in ["www", "@", "staging"].iter().take(n_vhosts as usize) {
            let fqdn = if *name == "@" { domain.clone() } else { format!("{name}.{domain}") };
            let vid = State::take_id(&mut st.next.vhost);
            st.vhosts_mut().insert(
                vid,
                Vhost {
                    id: vid,
                    name: fqdn,
                    paas_id: id,
                    state: "running".into(),
                    date_creation: date_start + 3600,
                },
            );
        }
        if inst.snapshot_profile.is_some() {
            for k in 0..rng.below(3) as i64 + 1 {
                let sid = State::take_id(&mut st.next.snapshot);
                st.snapshots.insert(
                    sid,
                    Snapshot {
                        id: sid,
                        name: format!("{name}-daily-{}", k + 1),
                        paas_id: id,
                        date_created: today - (k + 1) * 86_400,
                        size: 1_000_000 + rng.below(500_000_000) as i64,
                    },
                );
            }
        }
        st.instances.insert(id, inst);
    }
}
