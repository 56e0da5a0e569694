//! TLS with an extra CA file (`--ca-file`): the certificates it lists are trusted as roots in
//! addition to Mozilla's public roots, and each is also accepted as its own trust anchor when a
//! server presents exactly it, as curl's `--cacert` and Python's `cafile` do.
//!
//! webpki, which rustls verifies with, refuses a CA certificate presented as a server's own
//! (`CaUsedAsEndEntity`), and `openssl req -x509` marks its certificates CA:TRUE by default: the
//! usual certificate of a local test server or an internal proxy would be refused even when listed.
//! [`CaFileVerifier`] runs webpki first and overrides only that refusal (and `UnknownIssuer`, for a
//! listed certificate whose issuer is not listed), only for a certificate byte for byte equal to
//! one in the file, and still checks the host name. webpki checks the validity period before it
//! raises either refusal, so an expired listed certificate stays refused. The handshake itself
//! proves that the server holds the listed certificate's key. There is no way to turn
//! verification off.
//!
//! ureq cannot take a custom verifier through its `TlsConfig`, so [`CaFileConnector`] takes the
//! place of ureq's rustls connector in the agent's connector chain when a CA file is given.

use std::fmt;
use std::io::{Read as _, Write as _};
use std::path::Path;
use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::{WebPkiServerVerifier, verify_server_name};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::server::ParsedCertificate;
use rustls::{CertificateError, ClientConnection, DigitallySignedStruct, RootCertStore, StreamOwned};
use ureq::unversioned::transport::time::Duration as UreqDuration;
use ureq::unversioned::transport::{
    Buffers, ConnectionDetails, Connector, Either, LazyBuffers, NextTimeout, Transport, TransportAdapter,
};

/// The certificates of a CA file, each checked to be usable as a trust anchor.
pub(crate) fn read_ca_file(path: &Path) -> Result<Vec<CertificateDer<'static>>, String> {
    let shown = path.display();
    let pem = std::fs::read(path).map_err(|e| format!("cannot read CA file {shown}: {e}"))?;
    let mut certs = Vec::new();
    for item in ureq::tls::parse_pem(&pem) {
        match item {
            Ok(ureq::tls::PemItem::Certificate(c)) => certs.push(CertificateDer::from(c.der().to_vec())),
            Ok(_) => {}
            Err(e) => return Err(format!("CA file {shown} is not valid PEM: {e}")),
        }
    }
    if certs.is_empty() {
        return Err(format!("CA file {shown} holds no PEM certificate"));
    }
    // rustls silently skips roots it cannot parse; check each one here so a broken file is reported.
    let mut store = RootCertStore::empty();
    for (i, c) in certs.iter().enumerate() {
        store
            .add(c.clone())
            .map_err(|e| format!("certificate {} in CA file {shown} is unusable: {e}", i + 1))?;
    }
    Ok(certs)
}

/// webpki's verification against the public roots and the CA file, plus the certificates of the
/// CA file accepted as their own trust anchors (see the module documentation).
#[derive(Debug)]
pub(crate) struct CaFileVerifier {
    webpki: Arc<WebPkiServerVerifier>,
    listed: Vec<CertificateDer<'static>>,
}

impl CaFileVerifier {
    /// A verifier trusting the public roots and `listed`.
    pub(crate) fn new(
        listed: Vec<CertificateDer<'static>>,
        provider: Arc<rustls::crypto::CryptoProvider>,
    ) -> Result<CaFileVerifier, String> {
        let mut roots = RootCertStore::empty();
        roots.add_parsable_certificates(webpki_root_certs::TLS_SERVER_ROOT_CERTS.iter().cloned());
        roots.add_parsable_certificates(listed.iter().cloned());
        let webpki = WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider)
            .build()
            .map_err(|e| format!("cannot set up certificate verification: {e}"))?;
        Ok(CaFileVerifier { webpki, listed })
    }
}

/// Whether webpki's refusal is one that a listed certificate overrides: it is a CA certificate,
/// or its issuer is unknown. Both are raised only after the validity period was checked.
fn overridable(e: &rustls::Error) -> bool {
    match e {
        rustls::Error::InvalidCertificate(CertificateError::UnknownIssuer) => true,
        rustls::Error::InvalidCertificate(CertificateError::Other(other)) => {
            matches!(other.0.downcast_ref::<webpki::Error>(), Some(webpki::Error::CaUsedAsEndEntity))
        }
        _ => false,
    }
}

impl ServerCertVerifier for CaFileVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        match self.webpki.verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now) {
            Err(e) if overridable(&e) && self.listed.iter().any(|c| c == end_entity) => {
                verify_server_name(&ParsedCertificate::try_from(end_entity)?, server_name)?;
                Ok(ServerCertVerified::assertion())
            }
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.webpki.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.webpki.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.webpki.supported_verify_schemes()
    }
}

/// The TLS step of ureq's connector chain, with a [`CaFileVerifier`]. It does what ureq's own
/// rustls connector does, with this one rustls configuration.
pub(crate) struct CaFileConnector {
    config: Arc<rustls::ClientConfig>,
}

impl fmt::Debug for CaFileConnector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CaFileConnector").finish_non_exhaustive()
    }
}

impl CaFileConnector {
    /// A connector that trusts the public roots and the certificates of the CA file at `path`.
    pub(crate) fn new(path: &Path) -> Result<CaFileConnector, String> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let verifier = CaFileVerifier::new(read_ca_file(path)?, provider.clone())?;
        let config = rustls::ClientConfig::builder_with_provider(provider)
            .with_protocol_versions(rustls::ALL_VERSIONS)
            .map_err(|e| format!("cannot set up TLS: {e}"))?
            .dangerous() // the verifier is webpki's, widened only as the module documentation says
            .with_custom_certificate_verifier(Arc::new(verifier))
            .with_no_client_auth();
        Ok(CaFileConnector { config: Arc::new(config) })
    }
}

impl<In: Transport> Connector<In> for CaFileConnector {
    type Out = Either<In, CaFileTransport>;

    fn connect(
        &self,
        details: &ConnectionDetails,
        chained: Option<In>,
    ) -> Result<Option<Self::Out>, ureq::Error> {
        let Some(transport) = chained else {
            return Err(ureq::Error::ConnectionFailed);
        };
        if !details.needs_tls() || transport.is_tls() {
            return Ok(Some(Either::A(transport)));
        }
        let host = details.uri.host().unwrap_or_default().trim_start_matches('[').trim_end_matches(']');
        let name = ServerName::try_from(host)
            .map_err(|_| ureq::Error::Tls("the URL's host is not a valid TLS server name"))?
            .to_owned();
        let mut conn = ClientConnection::new(self.config.clone(), name)?;
        let mut sock = TransportAdapter::new(transport.boxed(), details.current_time.clone());
        sock.set_timeout(remaining(details));
        conn.complete_io(&mut sock)?;
        let buffers =
            LazyBuffers::new(details.config.input_buffer_size(), details.config.output_buffer_size());
        Ok(Some(Either::B(CaFileTransport { buffers, stream: StreamOwned { conn, sock } })))
    }
}

/// The connection budget left for the handshake: `details.timeout` counts from `details.now`.
fn remaining(details: &ConnectionDetails) -> NextTimeout {
    use ureq::unversioned::transport::time::Instant;
    let mut t = details.timeout;
    if let (UreqDuration::Exact(limit), Instant::Exact(start), Instant::Exact(now)) =
        (t.after, details.now, (details.current_time)())
    {
        t.after = UreqDuration::Exact(limit.saturating_sub(now.saturating_duration_since(start)));
    }
    t
}

/// A TLS connection made by [`CaFileConnector`].
pub(crate) struct CaFileTransport {
    buffers: LazyBuffers,
    stream: StreamOwned<ClientConnection, TransportAdapter>,
}

impl fmt::Debug for CaFileTransport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CaFileTransport").finish_non_exhaustive()
    }
}

impl Transport for CaFileTransport {
    fn buffers(&mut self) -> &mut dyn Buffers {
        &mut self.buffers
    }

    fn transmit_output(&mut self, amount: usize, timeout: NextTimeout) -> Result<(), ureq::Error> {
        self.stream.get_mut().set_timeout(timeout);
        let output = &self.buffers.output()[..amount];
        self.stream.write_all(output)?;
        Ok(())
    }

    fn await_input(&mut self, timeout: NextTimeout) -> Result<bool, ureq::Error> {
        self.stream.get_mut().set_timeout(timeout);
        let input = self.buffers.input_append_buf();
        let amount = self.stream.read(input)?;
        self.buffers.input_appended(amount);
        Ok(amount > 0)
    }

    fn is_open(&mut self) -> bool {
        self.stream.get_mut().get_mut().is_open()
    }

    fn is_tls(&self) -> bool {
        true
    }
}
