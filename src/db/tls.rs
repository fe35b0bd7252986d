//! TLS to PostgreSQL, driven by `DATABASE_URL` as libpq reads it: `sslmode` `disable`,
//! `prefer` (the default: TLS when the server offers it, unverified), `require` (TLS, not
//! verified — verified against `sslrootcert` when one is given, as libpq does), `verify-ca`
//! (the chain, not the host name) and `verify-full` (chain and host name), with `sslrootcert`
//! (a PEM file of CA certificates; the Mozilla roots when absent). rustls, no OpenSSL.

use std::path::PathBuf;
use std::sync::Arc;

use diesel::ConnectionError;
use diesel_async::AsyncPgConnection;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{
    CertificateError, ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme,
};

/// `sslmode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SslMode {
    Disable,
    Prefer,
    Require,
    VerifyCa,
    VerifyFull,
}

/// How to connect: the URL without the TLS parameters, and those parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub url: String,
    pub mode: SslMode,
    pub root_cert: Option<PathBuf>,
}

fn bad(message: String) -> ConnectionError {
    ConnectionError::BadConnection(message)
}

/// Reads `sslmode` and `sslrootcert` out of a `postgres://` URL (other parameters stay).
pub fn target(url: &str) -> Result<Target, String> {
    let Ok(mut parsed) = url::Url::parse(url) else {
        // A key=value connection string: passed through, TLS as tokio-postgres reads it.
        return Ok(Target {
            url: url.to_string(),
            mode: SslMode::Prefer,
            root_cert: None,
        });
    };
    let mut mode = SslMode::Prefer;
    let mut root_cert = None;
    let mut kept: Vec<(String, String)> = Vec::new();
    for (k, v) in parsed.query_pairs() {
        match k.as_ref() {
            "sslmode" => {
                mode = match v.as_ref() {
                    "disable" => SslMode::Disable,
                    "allow" | "prefer" => SslMode::Prefer,
                    "require" => SslMode::Require,
                    "verify-ca" => SslMode::VerifyCa,
                    "verify-full" => SslMode::VerifyFull,
                    other => {
                        return Err(format!(
                            "DATABASE_URL: sslmode={other} is not one of disable, prefer, \
                             require, verify-ca, verify-full"
                        ))
                    }
                }
            }
            "sslrootcert" => root_cert = Some(PathBuf::from(v.as_ref())),
            _ => kept.push((k.into_owned(), v.into_owned())),
        }
    }
    if kept.is_empty() {
        parsed.set_query(None);
    } else {
        parsed.query_pairs_mut().clear().extend_pairs(kept);
    }
    if matches!(mode, SslMode::VerifyCa | SslMode::VerifyFull) || root_cert.is_some() {
        if let Some(path) = &root_cert {
            if !path.is_file() {
                return Err(format!(
                    "DATABASE_URL: sslrootcert {} is not a readable file",
                    path.display()
                ));
            }
        }
    }
    Ok(Target {
        url: parsed.to_string(),
        mode,
        root_cert,
    })
}

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

fn roots(path: Option<&PathBuf>) -> Result<RootCertStore, ConnectionError> {
    let mut store = RootCertStore::empty();
    match path {
        Some(p) => {
            let fail = |e: &dyn std::fmt::Display| {
                bad(format!("DATABASE_URL: sslrootcert {}: {e}", p.display()))
            };
            for c in CertificateDer::pem_file_iter(p).map_err(|e| fail(&e))? {
                store.add(c.map_err(|e| fail(&e))?).map_err(|e| fail(&e))?;
            }
            if store.is_empty() {
                return Err(bad(format!(
                    "DATABASE_URL: sslrootcert {} holds no certificate",
                    p.display()
                )));
            }
        }
        None => store.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned()),
    }
    Ok(store)
}

/// Checks less than `verify-full`: the handshake's signatures always, the certificate chain
/// only with `chain` (`verify-ca`, or `require` with a root certificate), the host name never.
#[derive(Debug)]
struct Relaxed {
    webpki: Arc<WebPkiServerVerifier>,
    chain: bool,
}

impl ServerCertVerifier for Relaxed {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        if !self.chain {
            return Ok(ServerCertVerified::assertion());
        }
        match self
            .webpki
            .verify_server_cert(end_entity, intermediates, server_name, ocsp, now)
        {
            Err(rustls::Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) => Ok(ServerCertVerified::assertion()),
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

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.webpki.supported_verify_schemes()
    }
}

fn client_config(t: &Target) -> Result<ClientConfig, ConnectionError> {
    let p = provider();
    let builder = ClientConfig::builder_with_provider(p.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| bad(format!("TLS: {e}")))?;
    let verify = match t.mode {
        SslMode::VerifyCa | SslMode::VerifyFull => true,
        // libpq: `require` with a root certificate verifies the chain, as verify-ca.
        SslMode::Require => t.root_cert.is_some(),
        SslMode::Prefer | SslMode::Disable => false,
    };
    // Without verification the chain is never looked at; the verifier then only checks the
    // handshake's signatures, for which the built-in roots do.
    let roots = roots(t.root_cert.as_ref().filter(|_| verify))?;
    let webpki = WebPkiServerVerifier::builder_with_provider(Arc::new(roots), p)
        .build()
        .map_err(|e| bad(format!("TLS: {e}")))?;
    let config = if t.mode == SslMode::VerifyFull {
        builder.with_webpki_verifier(webpki)
    } else {
        builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(Relaxed {
                webpki,
                chain: verify,
            }))
    }
    .with_no_client_auth();
    Ok(config)
}

fn mode_name(m: SslMode) -> &'static str {
    match m {
        SslMode::Disable => "disable",
        SslMode::Prefer => "prefer",
        SslMode::Require => "require",
        SslMode::VerifyCa => "verify-ca",
        SslMode::VerifyFull => "verify-full",
    }
}

/// Opens a connection to `t` as its `sslmode` says.
pub async fn connect(t: &Target) -> Result<AsyncPgConnection, ConnectionError> {
    let mut cfg: tokio_postgres::Config = t
        .url
        .parse()
        .map_err(|e| bad(format!("DATABASE_URL: {e}")))?;
    if t.mode == SslMode::Disable {
        let (client, conn) = cfg
            .connect(tokio_postgres::NoTls)
            .await
            .map_err(|e| bad(format!("cannot connect: {e}")))?;
        return AsyncPgConnection::try_from_client_and_connection(client, conn).await;
    }
    cfg.ssl_mode(match t.mode {
        SslMode::Prefer => tokio_postgres::config::SslMode::Prefer,
        _ => tokio_postgres::config::SslMode::Require,
    });
    let tls = tokio_postgres_rustls::MakeRustlsConnect::new(client_config(t)?);
    let (client, conn) = cfg.connect(tls).await.map_err(|e| {
        let mut detail = e.to_string();
        let mut source = std::error::Error::source(&e);
        while let Some(s) = source {
            detail.push_str(": ");
            detail.push_str(&s.to_string());
            source = s.source();
        }
        bad(format!(
            "cannot connect with DATABASE_URL sslmode={}{}: {detail}",
            mode_name(t.mode),
            t.root_cert
                .as_ref()
                .map(|p| format!(" sslrootcert={}", p.display()))
                .unwrap_or_default()
        ))
    })?;
    AsyncPgConnection::try_from_client_and_connection(client, conn).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tls_parameters_are_read_and_removed() {
        let t =
            target("postgres://u:p@db:5432/app?sslmode=verify-full&application_name=x").unwrap();
        assert_eq!(t.mode, SslMode::VerifyFull);
        assert_eq!(t.url, "postgres://u:p@db:5432/app?application_name=x");
        let t = target("postgres://u@db/app").unwrap();
        assert_eq!(t.mode, SslMode::Prefer);
        let t = target("postgres://u@db/app?sslmode=disable").unwrap();
        assert_eq!(
            (t.mode, t.url.as_str()),
            (SslMode::Disable, "postgres://u@db/app")
        );
        assert!(target("postgres://u@db/app?sslmode=sometimes")
            .unwrap_err()
            .contains("sslmode"));
        assert!(
            target("postgres://u@db/app?sslmode=verify-ca&sslrootcert=/nonexistent.pem")
                .unwrap_err()
                .contains("sslrootcert")
        );
    }
}
