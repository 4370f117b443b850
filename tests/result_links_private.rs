//! Result links to private, link-local (cloud metadata), shared and other
//! non-public addresses are refused before any connection. To prove it
//! without sending a packet toward such an address even if the check broke,
//! this test binary routes every proxied request to a listener on loopback
//! (`ALL_PROXY` and friends, read when the HTTP client is built): a request
//! that got past the check would land there and be counted. One test only,
//! since the environment is the whole process's.

mod backend_support;

use std::net::TcpListener;

use backend_support::*;
use sorabot::backend::{AuthStyle, BackendError, Dialect, MediaRef, TaskId};

#[tokio::test]
async fn links_to_private_and_link_local_addresses_are_refused_unconnected() {
    let trap = TcpListener::bind("127.0.0.1:0").expect("bind a port");
    trap.set_nonblocking(true).expect("non-blocking");
    let proxy = format!("http://{}", trap.local_addr().expect("an address"));
    for var in [
        "ALL_PROXY",
        "all_proxy",
        "HTTP_PROXY",
        "http_proxy",
        "HTTPS_PROXY",
        "https_proxy",
    ] {
        std::env::set_var(var, &proxy);
    }
    for var in ["NO_PROXY", "no_proxy"] {
        std::env::remove_var(var);
    }
    let mut config = client_config(
        "https://relay.example/sora",
        Dialect::OpenAi,
        AuthStyle::Raw,
    );
    config.result_hosts = vec!["trap.invalid".to_owned()];
    let backend = connect(&config);

    // The trap works: an allowed link goes to it (and, were the proxy not
    // used, to a name that resolves nowhere).
    let allowed = tokio::spawn({
        let backend = backend.clone();
        async move {
            let _ = backend
                .download(
                    &TaskId("video_1".into()),
                    &MediaRef::Url("http://trap.invalid/x.mp4".into()),
                )
                .await;
        }
    });
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    let caught = loop {
        match trap.accept() {
            Ok(connection) => break connection,
            Err(_) if std::time::Instant::now() < deadline => {
                tokio::time::sleep(std::time::Duration::from_millis(2)).await
            }
            Err(error) => panic!("the proxy trap caught nothing: {error}"),
        }
    };
    drop(caught);
    allowed.abort();

    let links = [
        ("http://10.0.0.8/files/x.mp4", "private"),
        ("http://172.20.1.1:8080/x.mp4", "private"),
        ("https://192.168.1.10/x.mp4", "private"),
        ("http://169.254.169.254/latest/meta-data/", "link-local"),
        ("http://[fe80::1]/x.mp4", "link-local"),
        ("http://[fd00:ec2::254]/latest/", "private (ULA)"),
        ("http://[::ffff:10.1.2.3]/x.mp4", "private"),
        ("http://[::ffff:169.254.169.254]/", "link-local"),
        ("http://100.100.100.200/latest/meta-data/", "shared (CGNAT)"),
        ("http://0.0.0.0:8080/", "unspecified"),
        ("http://[::1]:8080/", "loopback"),
        ("http://127.0.0.1:9200/_cat/indices", "loopback"),
        ("http://224.0.0.1/", "multicast"),
        ("http://192.0.2.1/x.mp4", "documentation"),
    ];
    for (url, class) in links {
        let result = backend
            .download(&TaskId("video_1".into()), &MediaRef::Url(url.to_owned()))
            .await;
        match result {
            Err(BackendError::Refused { reason }) => {
                assert!(reason.contains(class), "{url}: {reason}")
            }
            other => panic!("{url} was not refused: {other:?}"),
        }
    }

    assert!(
        trap.accept().is_err(),
        "a request left for a refused address"
    );
}
