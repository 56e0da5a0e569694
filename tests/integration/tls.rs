//! TLS end to end through `gandish call`: an HTTPS XML-RPC server on loopback with a
//! certificate from a throwaway CA made in the test. Untrusted and wrong-name certificates are
//! refused with exit status 4 and a message naming the problem; `--ca-file` is the only way to
//! extend trust (a self-signed certificate listed in it is its own trust anchor, its host name
//! and validity period still checked), and no switch turns verification off.

use crate::common;

use std::process::Command;

use common::{PyServer, TestPki, assert_no_key, gandish, stderr, stdout};

const KEY: &str = "tls-KEY-5f2c9a0e7b1d4c3a";

/// `echo` returns its parameters and counts the calls; `calls` returns that count (without
/// counting itself), so a test can prove a refused call never reached the server's handler.
const SETUP: &str = "CALLS = [0]\n\
    def echo(*a):\n    CALLS[0] += 1\n    return list(a)\n\
    server.register_function(echo, 'echo')\n\
    server.register_function(lambda: CALLS[0], 'calls')";

/// How many times the server's `echo` ran, asked over a trusted connection.
fn calls_so_far(url: &str, ca: &std::path::Path) -> String {
    let o = gandish(&["call", "--raw", "--url", url, "--ca-file", ca.to_str().unwrap(), "calls"], &[]);
    assert!(o.status.success(), "{o:?}");
    stdout(&o)
}

#[test]
fn a_certificate_from_an_unknown_ca_exits_4_naming_the_problem() {
    let pki = TestPki::generate("IP:127.0.0.1,DNS:localhost");
    let py = PyServer::xmlrpc_tls(SETUP, &pki.server_cert, &pki.server_key);
    for host in ["127.0.0.1", "localhost"] {
        let url = format!("https://{host}:{}/RPC2", py.port);
        let o = gandish(&["call", "--url", &url, "echo", "1"], &[("GANDI_API_KEY", KEY)]);
        assert_eq!(o.status.code(), Some(4), "{o:?}");
        let err = stderr(&o);
        assert!(err.starts_with("error: TLS error with "), "{err}");
        assert!(err.contains("invalid peer certificate: UnknownIssuer"), "{err}");
        assert_eq!(stdout(&o), "");
        assert_no_key(&o, KEY);
    }
    // The handshake failed before anything was sent: the handler never ran.
    let url = format!("https://127.0.0.1:{}/RPC2", py.port);
    assert_eq!(calls_so_far(&url, &pki.ca_cert), "0\n");
}

#[test]
fn the_ca_file_makes_the_same_server_trusted() {
    let pki = TestPki::generate("IP:127.0.0.1,DNS:localhost");
    let py = PyServer::xmlrpc_tls(SETUP, &pki.server_cert, &pki.server_key);
    let ca = pki.ca_cert.to_str().unwrap();
    for host in ["127.0.0.1", "localhost"] {
        let url = format!("https://{host}:{}/RPC2", py.port);
        let o = gandish(
            &["call", "--url", &url, "--ca-file", ca, "echo", "\"over tls\""],
            &[("GANDI_API_KEY", KEY)],
        );
        assert!(o.status.success(), "{o:?}");
        // The key went first (as every Gandi call expects) and is redacted in the echo.
        assert_eq!(stdout(&o), "[\n  \"[REDACTED]\",\n  \"over tls\"\n]\n");
        assert_eq!(stderr(&o), "");
        assert_no_key(&o, KEY);
    }
    assert_eq!(calls_so_far(&format!("https://127.0.0.1:{}/RPC2", py.port), &pki.ca_cert), "2\n");
}

#[test]
fn a_certificate_for_another_host_name_is_refused_even_with_its_ca() {
    let pki = TestPki::generate("DNS:other.example");
    let py = PyServer::xmlrpc_tls(SETUP, &pki.server_cert, &pki.server_key);
    let ca = pki.ca_cert.to_str().unwrap();
    for host in ["127.0.0.1", "localhost"] {
        let url = format!("https://{host}:{}/RPC2", py.port);
        let o = gandish(&["call", "--url", &url, "--ca-file", ca, "echo", "1"], &[("GANDI_API_KEY", KEY)]);
        assert_eq!(o.status.code(), Some(4), "{o:?}");
        let err = stderr(&o);
        assert!(err.contains(&format!("certificate not valid for name \"{host}\"")), "{err}");
        assert!(err.contains("other.example"), "the message names the names the certificate holds: {err}");
        assert_no_key(&o, KEY);
    }
}

#[test]
fn trust_is_not_extended_by_the_environment() {
    // Only the explicit --ca-file flag adds a CA: the variables OpenSSL-based tools read do not
    // make an untrusted server trusted behind the user's back.
    let pki = TestPki::generate("IP:127.0.0.1");
    let py = PyServer::xmlrpc_tls(SETUP, &pki.server_cert, &pki.server_key);
    let url = format!("https://127.0.0.1:{}/RPC2", py.port);
    let ca = pki.ca_cert.to_str().unwrap();
    let dir = pki.dir.to_str().unwrap();
    let env =
        [("SSL_CERT_FILE", ca), ("SSL_CERT_DIR", dir), ("CURL_CA_BUNDLE", ca), ("REQUESTS_CA_BUNDLE", ca)];
    let o = gandish(&["call", "--raw", "--url", &url, "echo", "1"], &env);
    assert_eq!(o.status.code(), Some(4), "{o:?}");
    assert!(stderr(&o).contains("UnknownIssuer"), "{}", stderr(&o));
}

#[test]
fn no_option_turns_certificate_verification_off() {
    let o = gandish(&["call", "--help"], &[]);
    assert!(o.status.success(), "{o:?}");
    let help = stdout(&o).to_lowercase();
    // The one "insecure" option is about plain http:// to remote hosts, not about certificates.
    assert!(help.contains("--allow-insecure-http"), "{help}");
    for needle in
        ["--insecure ", "--insecure\n", "-k,", "no-verify", "skip-verify", "danger", "accept-invalid"]
    {
        assert!(!help.contains(needle), "help offers {needle:?}:\n{help}");
    }
    // And the flags people reach for are refused as unknown (usage error), not honoured.
    let pki = TestPki::generate("IP:127.0.0.1");
    let py = PyServer::xmlrpc_tls(SETUP, &pki.server_cert, &pki.server_key);
    let url = format!("https://127.0.0.1:{}/RPC2", py.port);
    for flag in ["--insecure", "-k", "--no-verify", "--allow-insecure-http"] {
        let o = gandish(&["call", "--raw", flag, "--url", &url, "echo", "1"], &[]);
        if flag == "--allow-insecure-http" {
            // Accepted, but it is about plain http:// only: the certificate is still checked.
            assert_eq!(o.status.code(), Some(4), "{flag}: {o:?}");
            assert!(stderr(&o).contains("UnknownIssuer"), "{}", stderr(&o));
        } else {
            assert_eq!(o.status.code(), Some(2), "{flag}: {o:?}");
        }
    }
}

/// A self-signed server certificate (no CA: the certificate is its own issuer) for 127.0.0.1,
/// made with the openssl command in `dir`; returns (certificate, key).
fn self_signed(dir: &std::path::Path, ca_flag: &str) -> (std::path::PathBuf, std::path::PathBuf) {
    let (cert, key) = (dir.join(format!("self-{ca_flag}.pem")), dir.join(format!("self-{ca_flag}.key")));
    let out = Command::new("openssl")
        .args(["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"])
        .args(["-days", "2", "-subj", "/CN=gandish self-signed"])
        .args(["-addext", "subjectAltName=IP:127.0.0.1"])
        .args(["-addext", &format!("basicConstraints=critical,{ca_flag}")])
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .output()
        .expect("the openssl command is needed");
    assert!(out.status.success(), "openssl: {}", String::from_utf8_lossy(&out.stderr));
    (cert, key)
}

#[test]
fn a_self_signed_certificate_is_refused_unless_given_as_the_ca_file() {
    let pki = TestPki::generate("IP:127.0.0.1"); // for its temporary directory
    let (cert, key) = self_signed(&pki.dir, "CA:FALSE");
    let py = PyServer::xmlrpc_tls(SETUP, &cert, &key);
    let url = format!("https://127.0.0.1:{}/RPC2", py.port);
    let o = gandish(&["call", "--url", &url, "echo", "1"], &[("GANDI_API_KEY", KEY)]);
    assert_eq!(o.status.code(), Some(4), "{o:?}");
    assert!(stderr(&o).contains("invalid peer certificate: UnknownIssuer"), "{}", stderr(&o));
    assert_no_key(&o, KEY);
    let o = gandish(&["call", "--raw", "--url", &url, "--ca-file", cert.to_str().unwrap(), "echo", "1"], &[]);
    assert!(o.status.success(), "{o:?}");
    assert_eq!(stdout(&o), "[\n  1\n]\n");
}

#[test]
fn a_self_signed_ca_certificate_from_openssl_req_x509_is_trusted_as_its_own_anchor() {
    // `openssl req -x509` marks certificates CA:TRUE by default. Listed in --ca-file, such a
    // certificate is accepted as the server's own, as curl --cacert and Python's cafile accept it
    // (webpki alone refuses it with CaUsedAsEndEntity).
    let pki = TestPki::generate("IP:127.0.0.1");
    let (cert, key) = self_signed(&pki.dir, "CA:TRUE");
    let py = PyServer::xmlrpc_tls(SETUP, &cert, &key);
    let url = format!("https://127.0.0.1:{}/RPC2", py.port);
    let ca = cert.to_str().unwrap();
    let o =
        gandish(&["call", "--url", &url, "--ca-file", ca, "echo", "\"pinned\""], &[("GANDI_API_KEY", KEY)]);
    assert!(o.status.success(), "{o:?}");
    assert_eq!(stdout(&o), "[\n  \"[REDACTED]\",\n  \"pinned\"\n]\n");
    assert_eq!(stderr(&o), "");
    assert_no_key(&o, KEY);
    // Listed among other certificates (a bundle), it is matched all the same.
    let bundle = pki.dir.join("bundle.pem");
    let pem = [std::fs::read(&pki.ca_cert).unwrap(), std::fs::read(&cert).unwrap()].concat();
    std::fs::write(&bundle, pem).unwrap();
    let o =
        gandish(&["call", "--raw", "--url", &url, "--ca-file", bundle.to_str().unwrap(), "echo", "2"], &[]);
    assert!(o.status.success(), "{o:?}");
    assert_eq!(stdout(&o), "[\n  2\n]\n");

    // Without it, or with another CA file, it is not trusted.
    let other = pki.ca_cert.to_str().unwrap();
    for ca_file in [&[][..], &["--ca-file", other][..]] {
        let o = gandish(&[&["call", "--raw", "--url", &url][..], ca_file, &["echo", "1"]].concat(), &[]);
        assert_eq!(o.status.code(), Some(4), "{o:?}");
        assert!(
            stderr(&o).contains("invalid peer certificate: Other(OtherError(CaUsedAsEndEntity))"),
            "{o:?}"
        );
    }
    assert_eq!(calls_so_far(&url, &cert), "2\n");
}

#[test]
fn a_listed_self_signed_certificate_is_still_refused_for_another_host_name() {
    let pki = TestPki::generate("IP:127.0.0.1");
    let (cert, key) = self_signed(&pki.dir, "CA:TRUE"); // valid for IP:127.0.0.1 only
    let py = PyServer::xmlrpc_tls(SETUP, &cert, &key);
    let url = format!("https://localhost:{}/RPC2", py.port);
    let o = gandish(
        &["call", "--url", &url, "--ca-file", cert.to_str().unwrap(), "echo", "1"],
        &[("GANDI_API_KEY", KEY)],
    );
    assert_eq!(o.status.code(), Some(4), "{o:?}");
    let err = stderr(&o);
    assert!(err.starts_with("error: TLS error with "), "{err}");
    assert!(err.contains("certificate not valid for name \"localhost\""), "{err}");
    assert!(err.contains("127.0.0.1"), "the message names what the certificate holds: {err}");
    assert_no_key(&o, KEY);
    // Refused during the handshake: the handler never ran.
    assert_eq!(calls_so_far(&format!("https://127.0.0.1:{}/RPC2", py.port), &cert), "0\n");
}

#[test]
fn an_expired_listed_self_signed_certificate_is_refused() {
    // The exact match does not skip the validity period. `openssl req -x509` cannot back-date a
    // certificate; `openssl ca -selfsign` can.
    let pki = TestPki::generate("IP:127.0.0.1");
    let d = &pki.dir;
    let (cert, key, csr) = (d.join("expired.pem"), d.join("expired.key"), d.join("expired.csr"));
    std::fs::write(d.join("index.txt"), "").unwrap();
    std::fs::write(d.join("serial"), "01\n").unwrap();
    let cnf = d.join("ca.cnf");
    std::fs::write(
        &cnf,
        format!(
            "[ca]\ndefault_ca = d\n[d]\ndatabase = {0}/index.txt\nnew_certs_dir = {0}\nserial = {0}/serial\n\
             default_md = sha256\npolicy = p\ncopy_extensions = copy\n[p]\ncommonName = supplied\n",
            d.display()
        ),
    )
    .unwrap();
    let run = |cmd: &mut Command| {
        let out = cmd.output().expect("the openssl command is needed");
        assert!(out.status.success(), "{cmd:?}: {}", String::from_utf8_lossy(&out.stderr));
    };
    run(Command::new("openssl")
        .args(["req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"])
        .args(["-subj", "/CN=gandish expired", "-addext", "basicConstraints=critical,CA:TRUE"])
        .args(["-addext", "subjectAltName=IP:127.0.0.1"])
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&csr));
    run(Command::new("openssl")
        .args(["ca", "-batch", "-notext", "-selfsign", "-startdate", "20200101000000Z"])
        .args(["-enddate", "20200201000000Z", "-config"])
        .arg(&cnf)
        .arg("-keyfile")
        .arg(&key)
        .arg("-in")
        .arg(&csr)
        .arg("-out")
        .arg(&cert));
    let py = PyServer::xmlrpc_tls(SETUP, &cert, &key);
    let url = format!("https://127.0.0.1:{}/RPC2", py.port);
    let o = gandish(&["call", "--raw", "--url", &url, "--ca-file", cert.to_str().unwrap(), "echo", "1"], &[]);
    assert_eq!(o.status.code(), Some(4), "{o:?}");
    assert!(stderr(&o).contains("invalid peer certificate: certificate expired"), "{}", stderr(&o));
}
