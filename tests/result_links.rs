//! Result links are fetched only from the service, an allowed host or a
//! public address: a link (or a redirect) to another port on the bot's own
//! machine is refused before any connection to it, and so is a redirect loop.
//! A listener on the refused address proves that nothing connected to it.

mod backend_support;

use std::net::TcpListener;

use backend_support::*;
use sorabot::backend::{AuthStyle, BackendError, Dialect, MediaRef, TaskId};

/// A port on loopback that counts who connects to it (without serving them).
struct Trap {
    listener: TcpListener,
}

impl Trap {
    fn new() -> Trap {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind a port");
        listener.set_nonblocking(true).expect("non-blocking");
        Trap { listener }
    }

    fn port(&self) -> u16 {
        self.listener.local_addr().expect("an address").port()
    }

    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port())
    }

    /// Connections made so far: a connect that completed sits in the
    /// listener's queue whether or not anyone accepted it.
    fn connections(&self) -> usize {
        let mut count = 0;
        while self.listener.accept().is_ok() {
            count += 1;
        }
        count
    }
}

async fn download_error(backend: &dyn sorabot::backend::Backend, url: &str) -> BackendError {
    match backend
        .download(&TaskId("task_1".into()), &MediaRef::Url(url.to_owned()))
        .await
    {
        Ok(download) => panic!("{url} was fetched: {download:?}"),
        Err(error) => error,
    }
}

fn assert_refused(error: &BackendError, words: &str) {
    match error {
        BackendError::Refused { reason } => assert!(reason.contains(words), "{reason}"),
        other => panic!("expected a refusal saying {words:?}, got {other:?}"),
    }
    assert!(!error.is_transient(), "a refusal is not retried");
}

#[tokio::test]
async fn a_result_at_another_port_of_the_services_loopback_host_is_refused_unconnected() {
    let (_sim, backend) = native(|_| {}).await;
    let trap = Trap::new();

    let error = download_error(&*backend, &trap.url("/internal/admin")).await;

    assert_refused(&error, "own port");
    assert_eq!(trap.connections(), 0);
}

#[tokio::test]
async fn a_name_that_resolves_to_loopback_is_refused_at_resolution() {
    let (_sim, backend) = native(|_| {}).await;
    let trap = Trap::new();

    let error = download_error(
        &*backend,
        &format!("http://localhost:{}/x.mp4", trap.port()),
    )
    .await;

    assert_refused(&error, "loopback");
    assert_eq!(trap.connections(), 0);
}

#[tokio::test]
async fn a_redirect_from_the_service_to_loopback_is_refused_unconnected() {
    let trap = Trap::new();
    let target = trap.url("/latest/meta-data/");
    let service = Stub::start(move |_| {
        StubResponse::new(302, "text/plain", "moved").with_header("location", &target)
    })
    .await;
    let backend = connect(&client_config(
        &service.base_url,
        Dialect::Native,
        AuthStyle::Bearer,
    ));

    let error = download_error(&*backend, &service.url("/files/task_1.mp4")).await;

    assert_refused(&error, "a redirect");
    assert_eq!(service.received().len(), 1, "the service was asked once");
    assert_eq!(trap.connections(), 0);
}

#[tokio::test]
async fn a_redirect_from_the_simulator_to_loopback_is_refused_unconnected() {
    let (sim, backend) = native(|_| {}).await;
    let trap = Trap::new();
    sim.push_fault_for("/files/", sorabot_sim::Fault::Redirect(trap.url("/x.mp4")));

    let error = download_error(&*backend, &format!("{}/files/task_1.mp4", sim.base_url())).await;

    assert_refused(&error, "own port");
    assert_eq!(trap.connections(), 0);
}

#[tokio::test]
async fn a_redirect_loop_is_a_permanent_error() {
    let service = Stub::start(|request| {
        let next = if request.path == "/a" { "/b" } else { "/a" };
        StubResponse::new(302, "text/plain", "moved").with_header("location", next)
    })
    .await;
    let backend = connect(&client_config(
        &service.base_url,
        Dialect::Native,
        AuthStyle::Bearer,
    ));

    let error = download_error(&*backend, &service.url("/a")).await;

    assert_refused(&error, "loop");
    assert_eq!(service.received().len(), 2);
}

#[tokio::test]
async fn a_chain_of_redirects_is_cut_after_a_few_hops() {
    let service = Stub::start(|request| {
        let hop: u32 = request.path.trim_start_matches("/hop").parse().unwrap_or(0);
        StubResponse::new(302, "text/plain", "moved")
            .with_header("location", &format!("/hop{}", hop + 1))
    })
    .await;
    let backend = connect(&client_config(
        &service.base_url,
        Dialect::Native,
        AuthStyle::Bearer,
    ));

    let error = download_error(&*backend, &service.url("/hop0")).await;

    assert_refused(&error, "redirects more than");
    assert!(
        service.received().len() <= 6,
        "{}",
        service.received().len()
    );
}

#[tokio::test]
async fn only_http_and_https_links_are_fetched() {
    let (_sim, backend) = native(|_| {}).await;
    for url in [
        "file:///etc/passwd",
        "ftp://127.0.0.1/x.mp4",
        "gopher://example.com/",
    ] {
        let error = download_error(&*backend, url).await;
        assert_refused(&error, "not http or https");
    }
}

#[tokio::test]
async fn a_loopback_host_listed_in_result_hosts_is_fetched() {
    let sim = start_sim(sorabot_sim::Style::Native, |_| {}).await;
    let cdn = Stub::start(|_| StubResponse::new(200, "video/mp4", SAMPLE_MP4)).await;
    let cdn_host = cdn.base_url.trim_start_matches("http://").to_owned();
    let mut config = client_config(&sim.base_url(), Dialect::Native, AuthStyle::Bearer);
    config.result_hosts = vec![cdn_host];
    let backend = connect(&config);

    let download = backend
        .download(
            &TaskId("task_1".into()),
            &MediaRef::Url(cdn.url("/result.mp4")),
        )
        .await
        .expect("an allowed host is fetched");

    assert!(read_all(download).await == SAMPLE_MP4);
    assert_eq!(cdn.received().len(), 1);
    assert_eq!(cdn.received()[0].header("authorization"), None);
}
