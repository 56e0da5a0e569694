//! The six clients of the API's usage page (the seed document: Python, PHP, Node, Perl, Ruby, C)
//! talk to our server.
//!
//! Each peer is the seed's snippet made runnable, in `tests/peers/gandi_client.*`. It takes the
//! server URL (and optionally the API key) on the command line, calls `version.info(key)` and
//! `paas.list(key)`, and prints one `name=value` line per field, with the XML-RPC type visible:
//! `1` (int), `"text"` (string), `true` (boolean), `nil`, `dateTime:YYYYMMDDTHH:MM:SS`. A fault
//! prints `fault=CODE "STRING"` and exits 2. So a struct, an array, ints, strings, a boolean, a
//! nil and dateTimes all have to cross, in both directions (the key goes out as a string).
//!
//! The peers are installed by `.ci/install-peers` (run by `.ci/run`). A missing peer fails its
//! tests with a message saying so; it is never skipped.
//!
//! What the peers talk to is set up in one place, [`serve`]: the sandbox with the seed's dataset.
//! The unusual-values scenario uses a small fake on our [`Server`] instead, since the sandbox never
//! sends such values.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::{Arc, OnceLock};

use gandish::sandbox::{self, Dataset, RunningSandbox, SandboxConfig};
use gandish::xmlrpc::{DateTime, Fault, Methods, Server, ServerConfig, Struct, Value};

/// The seed's placeholder API key, which the fake accepts.
const APIKEY: &str = "my 24-character API key";

const INSTALL_HINT: &str = "install the peers with `.ci/install-peers` (as root; it is what CI runs)";

// ---------------------------------------------------------------------------------------------
// The server the peers talk to
// ---------------------------------------------------------------------------------------------

/// The server every seed scenario runs against, and its URL (the seed's `/xmlrpc/` path): the
/// sandbox with the seed's dataset, so the peers see exactly what `gandish sandbox --dataset seed`
/// serves. (`seed_instance` below is the seed page's answer, which the sandbox must reproduce.)
fn serve() -> (RunningSandbox, String) {
    let sandbox = sandbox::start(SandboxConfig {
        listen: "127.0.0.1:0".into(),
        dataset: Dataset::Seed,
        ..SandboxConfig::default()
    })
    .expect("start the sandbox on a loopback port");
    let url = sandbox.url();
    assert!(url.ends_with("/xmlrpc/"), "{url}");
    (sandbox, url)
}

#[test]
fn the_sandbox_serves_exactly_the_seed_page_instance() {
    let (sandbox, url) = serve();
    let client = gandish::xmlrpc::Client::new(&url, Default::default()).unwrap();
    let list = client.call("paas.list", &[APIKEY.into()]).unwrap();
    assert_eq!(list, Value::Array(vec![seed_instance()]));
    sandbox.shutdown();
}

/// Our server with a fake of `version.info` and `paas.list` that lists `instances`.
fn serve_instances(instances: Vec<Value>) -> (Server, String) {
    let mut methods = Methods::new();
    methods.add("version.info", |params| {
        check_key(&params)?;
        Ok(Value::Struct(Struct::new().with("api_version", "3.3.42")))
    });
    methods.add("paas.list", move |params| {
        check_key(&params)?;
        Ok(Value::Array(instances.clone()))
    });
    let server = Server::bind("127.0.0.1:0", Arc::new(methods), ServerConfig::default())
        .expect("bind a loopback port for the test server");
    let url = server.url("/xmlrpc/");
    (server, url)
}

/// The fault Gandi gives for a wrong key (the key is the first parameter of every call).
fn check_key(params: &[Value]) -> Result<(), Fault> {
    match params.first().and_then(Value::as_str) {
        Some(key) if key == APIKEY => Ok(()),
        _ => Err(Fault::new(510150, "Error on object : OBJECT_ACCOUNT (CAUSE_NORIGHT) [Invalid API key]")),
    }
}

fn dt(year: u16, month: u8, day: u8, hour: u8, minute: u8, second: u8) -> Value {
    Value::DateTime(DateTime::new(year, month, day, hour, minute, second).unwrap())
}

/// The one instance of the seed's `api.paas.list(apikey)` example, member for member.
fn seed_instance() -> Value {
    Value::Struct(
        Struct::new()
            .with("catalog_name", "phpmysql_m")
            .with("data_disk_additional_size", 0)
            .with("datacenter_id", 1)
            .with("date_end", dt(2011, 10, 14, 14, 36, 30))
            .with("date_end_commitment", Value::Nil)
            .with("date_start", dt(2011, 9, 14, 14, 36, 30))
            .with("id", 1)
            .with("name", "Mon PaaS")
            .with("need_upgrade", true)
            .with("servers", vec![Value::Struct(Struct::new().with("id", 1))])
            .with("size", "m")
            .with("state", "running")
            .with("type", "phpmysql"),
    )
}

/// What every peer prints for the seed's data.
const SEED_OUTPUT: &str = r#"api_version="3.3.42"
paas.count=1
paas[0].id=1
paas[0].name="Mon PaaS"
paas[0].size="m"
paas[0].date_end=dateTime:20111014T14:36:30
paas[0].date_end_commitment=nil
paas[0].need_upgrade=true
paas[0].servers[0].id=1
"#;

/// What a peer prints for the wrong-key fault.
fn wrong_key_output(peer: Peer) -> &'static str {
    match peer {
        // xmlrpc-c puts the server's faultString in its env after a prefix of its own.
        Peer::C => {
            "fault=510150 \"RPC failed at server.  Error on object : OBJECT_ACCOUNT (CAUSE_NORIGHT) \
             [Invalid API key]\"\n"
        }
        _ => "fault=510150 \"Error on object : OBJECT_ACCOUNT (CAUSE_NORIGHT) [Invalid API key]\"\n",
    }
}

/// An instance with values the seed's does not have: ids past 32 bits (sent as `<i8>`),
/// non-ASCII text and XML markup characters in a string, `false`, and a dateTime where the seed
/// has nil.
fn unusual_instance() -> Value {
    Value::Struct(
        Struct::new()
            .with("date_end", dt(2038, 1, 19, 3, 14, 8))
            .with("date_end_commitment", dt(1999, 12, 31, 23, 59, 59))
            .with("id", 5_000_000_000i64)
            .with("name", "Café <b>&amp;</b> ☕ 'ok'")
            .with("need_upgrade", false)
            .with("servers", vec![Value::Struct(Struct::new().with("id", -4_000_000_000i64))])
            .with("size", "xxl"),
    )
}

/// What a peer prints for [`unusual_instance`], given how it shows an `<i8>` value.
fn unusual_output(i8_positive: &str, i8_negative: &str) -> String {
    format!(
        r#"api_version="3.3.42"
paas.count=1
paas[0].id={i8_positive}
paas[0].name="Café <b>&amp;</b> ☕ 'ok'"
paas[0].size="xxl"
paas[0].date_end=dateTime:20380119T03:14:08
paas[0].date_end_commitment=dateTime:19991231T23:59:59
paas[0].need_upgrade=false
paas[0].servers[0].id={i8_negative}
"#
    )
}

// ---------------------------------------------------------------------------------------------
// The peers
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Copy, Debug)]
enum Peer {
    /// `xmlrpc.client` (the seed's `xmlrpclib`).
    Python,
    /// The npm `xmlrpc` package, in `tests/peers/node/node_modules`.
    Node,
    /// `xmlrpc/client` (Debian ruby-xmlrpc).
    Ruby,
    /// `RPC::XML` (Debian librpc-xml-perl); the seed's CPAN `XML::RPC` is in no reachable registry.
    Perl,
    /// PHP's xmlrpc extension (Debian php-xmlrpc), the codec of PEAR XML_RPC2's default backend.
    Php,
    /// xmlrpc-c with the curl transport (Debian libxmlrpc-core-c3-dev), compiled by the test.
    C,
}

fn peers_dir() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/peers"))
}

impl Peer {
    /// The command that runs this peer's client (for C, after compiling it once).
    fn command(self) -> Command {
        let script = |ext: &str| peers_dir().join(format!("gandi_client.{ext}"));
        match self {
            Peer::Python => with_arg("python3", script("py")),
            Peer::Node => with_arg("node", script("js")),
            Peer::Ruby => with_arg("ruby", script("rb")),
            Peer::Perl => with_arg("perl", script("pl")),
            Peer::Php => with_arg("php", script("php")),
            Peer::C => Command::new(c_client()),
        }
    }

    /// Runs the client against `url` with `key`.
    fn run(self, url: &str, key: &str) -> Output {
        let mut cmd = self.command();
        // Gandi's dateTimes are Paris local time; the Node package turns a zoneless dateTime into
        // a local-time Date, so the peers run in that zone, as a French user's would.
        cmd.arg(url).arg(key).env("LC_ALL", "C.UTF-8").env("TZ", "Europe/Paris");
        cmd.output()
            .unwrap_or_else(|e| panic!("cannot start the {self:?} peer ({cmd:?}): {e}; {INSTALL_HINT}"))
    }
}

fn with_arg(program: &str, arg: PathBuf) -> Command {
    let mut cmd = Command::new(program);
    cmd.arg(arg);
    cmd
}

/// Compiles `tests/peers/gandi_client.c` against xmlrpc-c once per test run; returns the binary.
fn c_client() -> PathBuf {
    static BINARY: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    BINARY.get_or_init(compile_c_client).clone().unwrap_or_else(|e| panic!("{e}; {INSTALL_HINT}"))
}

fn compile_c_client() -> Result<PathBuf, String> {
    let config = Command::new("xmlrpc-c-config")
        .args(["client", "--cflags", "--libs"])
        .output()
        .map_err(|e| format!("xmlrpc-c-config (Debian libxmlrpc-core-c3-dev) is not available: {e}"))?;
    if !config.status.success() {
        return Err(format!("xmlrpc-c-config failed: {}", String::from_utf8_lossy(&config.stderr)));
    }
    let flags = String::from_utf8_lossy(&config.stdout).into_owned();
    let out_dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("peers");
    std::fs::create_dir_all(&out_dir).map_err(|e| format!("cannot create {}: {e}", out_dir.display()))?;
    let binary = out_dir.join("gandi_client");
    let gcc = Command::new("gcc")
        .args(["-Wall", "-Wextra", "-Werror", "-o"])
        .arg(&binary)
        .arg(peers_dir().join("gandi_client.c"))
        .args(flags.split_whitespace())
        .output()
        .map_err(|e| format!("cannot run gcc: {e}"))?;
    if !gcc.status.success() {
        return Err(format!("compiling the C peer failed:\n{}", String::from_utf8_lossy(&gcc.stderr)));
    }
    Ok(binary)
}

// ---------------------------------------------------------------------------------------------
// The checks
// ---------------------------------------------------------------------------------------------

/// Runs `peer` against `url` with `key` and asserts its exit code and exact output.
fn assert_peer(peer: Peer, url: &str, key: &str, want_code: i32, want_stdout: &str) {
    let out = peer.run(url, key);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.code() == Some(want_code) && stdout == want_stdout,
        "the {peer:?} peer exited with {:?} (want {want_code}); if it could not load its XML-RPC \
         library, {INSTALL_HINT}\n--- stdout:\n{stdout}--- want:\n{want_stdout}--- stderr:\n{stderr}",
        out.status.code(),
    );
}

/// The seed's two calls: every type of the seed's `paas.list` answer reaches the peer intact.
fn reads_the_seed_example(peer: Peer) {
    let (server, url) = serve();
    assert_peer(peer, &url, APIKEY, 0, SEED_OUTPUT);
    server.shutdown();
}

/// A wrong key gives Gandi's fault, which the peer's library reports as a fault.
fn gets_the_wrong_key_fault(peer: Peer) {
    let (server, url) = serve();
    assert_peer(peer, &url, "not the 24-character key", 2, wrong_key_output(peer));
    server.shutdown();
}

/// `<i8>`, non-ASCII and markup characters, `false` and more dateTimes reach the peer intact.
fn reads_unusual_values(peer: Peer) {
    let (server, url) = serve_instances(vec![unusual_instance()]);
    let want = match peer {
        // The npm xmlrpc package has no 64-bit integers: it hands an <i8> over as a string.
        Peer::Node => unusual_output("\"5000000000\"", "\"-4000000000\""),
        // PHP's xmlrpc extension (xmlrpc-epi) does not know <i8>: it silently yields NULL. So does
        // PEAR XML_RPC2, the seed's PHP client, which decodes with this extension when loaded.
        Peer::Php => unusual_output("nil", "nil"),
        _ => unusual_output("5000000000", "-4000000000"),
    };
    assert_peer(peer, &url, APIKEY, 0, &want);
    server.shutdown();
}

macro_rules! peer_tests {
    ($($module:ident => $peer:expr),* $(,)?) => {$(
        mod $module {
            use super::*;

            #[test]
            fn reads_the_seed_example() {
                super::reads_the_seed_example($peer);
            }

            #[test]
            fn gets_the_wrong_key_fault() {
                super::gets_the_wrong_key_fault($peer);
            }

            #[test]
            fn reads_unusual_values() {
                super::reads_unusual_values($peer);
            }
        }
    )*};
}

peer_tests! {
    python => Peer::Python,
    node => Peer::Node,
    ruby => Peer::Ruby,
    perl => Peer::Perl,
    php => Peer::Php,
    c => Peer::C,
}
