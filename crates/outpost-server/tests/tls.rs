//! HTTPS with rustls: a real TLS handshake on loopback with a certificate the test generates,
//! plain HTTP refused on the TLS port, and a clear error for a missing certificate.

use std::sync::Arc;
use std::time::Duration;

use outpost_server::config::{Config, TlsConfig};
use outpost_server::db::Db;
use outpost_server::{admin, serve_with, AppState};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

async fn state(dir: &tempfile::TempDir, tls: TlsConfig) -> AppState {
    let db = Db::connect(&format!("sqlite://{}", dir.path().join("o.db").display()))
        .await
        .unwrap();
    let master_key = outpost_server::secrets::MasterKey::generate().unwrap();
    admin::init(&db, &master_key, "Acme", "admin@acme.example", "Admin")
        .await
        .unwrap();
    let config = Config {
        bind: "127.0.0.1:0".parse().unwrap(),
        tls: Some(tls),
        ..Config::default()
    };
    AppState::new(db, config, master_key).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serves_https_with_the_configured_certificate() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let dir = tempfile::tempdir().unwrap();
    let cert =
        rcgen::generate_simple_self_signed(vec!["localhost".to_owned(), "127.0.0.1".to_owned()])
            .unwrap();
    let (cert_path, key_path) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
    std::fs::write(&cert_path, cert.cert.pem()).unwrap();
    std::fs::write(&key_path, cert.signing_key.serialize_pem()).unwrap();

    let handle = axum_server::Handle::new();
    let server = tokio::spawn(serve_with(
        state(
            &dir,
            TlsConfig {
                cert: cert_path,
                key: key_path,
            },
        )
        .await,
        handle.clone(),
    ));
    let addr = tokio::time::timeout(Duration::from_secs(10), handle.listening())
        .await
        .unwrap()
        .expect("listening");

    let mut roots = rustls::RootCertStore::empty();
    roots.add(cert.cert.der().clone()).unwrap();
    let client = rustls::ClientConfig::builder()
        .with_root_certificates(roots)
        .with_no_client_auth();
    let connector = tokio_rustls::TlsConnector::from(Arc::new(client));
    let tcp = TcpStream::connect(addr).await.unwrap();
    let name = rustls::pki_types::ServerName::try_from("localhost").unwrap();
    let mut tls = connector.connect(name, tcp).await.expect("TLS handshake");
    tls.write_all(b"GET /health HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut response = String::new();
    tls.read_to_string(&mut response).await.unwrap();
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    assert!(response.ends_with("ok"), "{response}");

    // Plain HTTP on the TLS port gets no HTTP answer.
    let mut plain = TcpStream::connect(addr).await.unwrap();
    plain
        .write_all(b"GET /health HTTP/1.1\r\nHost: localhost\r\n\r\n")
        .await
        .unwrap();
    let mut buf = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(5), plain.read_to_end(&mut buf)).await;
    assert!(!String::from_utf8_lossy(&buf).contains("200 OK"));

    handle.shutdown();
    let _ = server.await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_certificate_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let tls = TlsConfig {
        cert: dir.path().join("missing.pem"),
        key: dir.path().join("missing-key.pem"),
    };
    let err = serve_with(state(&dir, tls).await, axum_server::Handle::new())
        .await
        .unwrap_err();
    let message = err.to_string();
    assert!(
        message.contains("cannot load TLS certificate") && message.contains("missing.pem"),
        "{message}"
    );
}
