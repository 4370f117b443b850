//! Where the bot may fetch from. A result link comes from the service's
//! answer, so a hostile or broken service could point it at the bot's own
//! machine, its network, or the cloud's metadata endpoint. Every URL (the
//! first and each redirect hop) must be http or https and name the service
//! itself, a host the operator allowed (`RESULT_HOSTS`), or a public address;
//! names are checked on the addresses they resolve to, at connect time, so
//! DNS cannot swap a public address for a private one in between.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;

use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use url::{Host, Url};

/// Redirects followed before a fetch is given up.
pub(crate) const MAX_REDIRECTS: usize = 5;

/// Why a URL was not fetched: permanent, shown in the log.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Refusal(pub String);

/// A host (and maybe only one port of it) that may be fetched from whatever
/// address it has.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Trusted {
    /// As `url` normalises it: lowercase, IDNA, IPv6 without brackets.
    host: String,
    /// `None`: any port.
    port: Option<u16>,
}

impl Trusted {
    fn allows(&self, host: &str, port: Option<u16>) -> bool {
        self.host == host && self.port.is_none_or(|p| Some(p) == port)
    }
}

/// The rules of one service: cheap to clone, shared by the resolver and the
/// redirect policy of its HTTP clients.
#[derive(Debug, Clone)]
pub(crate) struct FetchGuard {
    trusted: Arc<Vec<Trusted>>,
}

impl FetchGuard {
    /// The service at `base` and the operator's extra hosts (`name` or
    /// `name:port`; entries that are not a host are skipped).
    pub(crate) fn new(base: &Url, extra: &[String]) -> Self {
        let mut trusted = Vec::new();
        if let Some(host) = base.host() {
            trusted.push(Trusted {
                host: host_key(&host),
                port: base.port_or_known_default(),
            });
        }
        trusted.extend(extra.iter().filter_map(|entry| parse_host_entry(entry)));
        FetchGuard {
            trusted: Arc::new(trusted),
        }
    }

    /// Checks a URL before any connection: scheme, trusted host and port, or
    /// (for an address written in the URL, which no resolver sees) a public
    /// address. A name not trusted is checked again when it is resolved.
    pub(crate) fn check_url(&self, url: &Url) -> Result<(), Refusal> {
        if !matches!(url.scheme(), "http" | "https") {
            return Err(Refusal(format!(
                "the link's scheme `{}` is not http or https",
                url.scheme()
            )));
        }
        let host = url
            .host()
            .ok_or_else(|| Refusal("the link names no host".to_owned()))?;
        let key = host_key(&host);
        let port = url.port_or_known_default();
        if self.trusted.iter().any(|t| t.allows(&key, port)) {
            return Ok(());
        }
        if self.trusted.iter().any(|t| t.host == key) {
            return Err(Refusal(format!(
                "{key} is allowed only on its own port, not {}",
                port.map_or_else(|| "none".to_owned(), |p| p.to_string())
            )));
        }
        match host {
            Host::Ipv4(ip) => public_or_refusal(IpAddr::V4(ip)),
            Host::Ipv6(ip) => public_or_refusal(IpAddr::V6(ip)),
            Host::Domain(_) => Ok(()),
        }
    }

    /// Whether a name may resolve to any address (the service's, an allowed
    /// host's), or to public ones only.
    fn trusts_name(&self, name: &str) -> bool {
        let name = name.trim_end_matches('.').to_ascii_lowercase();
        self.trusted.iter().any(|t| t.host == name)
    }

    /// The addresses of `name` the bot may connect to; a refusal when none.
    pub(crate) fn filter_addrs(
        &self,
        name: &str,
        addrs: Vec<SocketAddr>,
    ) -> Result<Vec<SocketAddr>, Refusal> {
        if self.trusts_name(name) {
            return Ok(addrs);
        }
        let mut refused = None;
        let allowed: Vec<SocketAddr> = addrs
            .into_iter()
            .filter(|addr| match non_public(addr.ip()) {
                Some(class) => {
                    refused.get_or_insert((addr.ip(), class));
                    false
                }
                None => true,
            })
            .collect();
        match (allowed.is_empty(), refused) {
            (false, _) => Ok(allowed),
            (true, Some((ip, class))) => Err(Refusal(format!(
                "{name} resolves to {ip}, a {class} address"
            ))),
            (true, None) => Err(Refusal(format!("{name} resolves to no address"))),
        }
    }

    /// The resolver for the service's HTTP clients.
    pub(crate) fn resolver(&self) -> Arc<GuardedResolver> {
        Arc::new(GuardedResolver {
            guard: self.clone(),
        })
    }

    /// The redirect policy for the service's HTTP clients: each hop checked
    /// like the first URL, at most `MAX_REDIRECTS`, a loop refused.
    pub(crate) fn redirect_policy(&self) -> reqwest::redirect::Policy {
        let guard = self.clone();
        reqwest::redirect::Policy::custom(move |attempt| {
            if attempt.previous().len() > MAX_REDIRECTS {
                return attempt.error(Refusal(format!(
                    "the link redirects more than {MAX_REDIRECTS} times"
                )));
            }
            if attempt.previous().contains(attempt.url()) {
                return attempt.error(Refusal("the link redirects in a loop".to_owned()));
            }
            match guard.check_url(attempt.url()) {
                Ok(()) => attempt.follow(),
                Err(refusal) => attempt.error(Refusal(format!("a redirect: {refusal}"))),
            }
        })
    }
}

/// Resolves names through the system, keeping only addresses the guard allows.
pub(crate) struct GuardedResolver {
    guard: FetchGuard,
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let guard = self.guard.clone();
        let name = name.as_str().to_owned();
        Box::pin(async move {
            let found: Vec<SocketAddr> =
                tokio::net::lookup_host((name.as_str(), 0)).await?.collect();
            let allowed = guard.filter_addrs(&name, found)?;
            let addrs: Addrs = Box::new(allowed.into_iter());
            Ok(addrs)
        })
    }
}

/// The refusal of a reqwest error, wherever it sits in the cause chain.
pub(crate) fn refusal_in(error: &(dyn std::error::Error + 'static)) -> Option<Refusal> {
    let mut cause = Some(error);
    while let Some(error) = cause {
        if let Some(refusal) = error.downcast_ref::<Refusal>() {
            return Some(refusal.clone());
        }
        cause = error.source();
    }
    None
}

/// Whether `entry` is a `RESULT_HOSTS` entry: `name` or `name:port`.
pub fn is_host_entry(entry: &str) -> bool {
    parse_host_entry(entry).is_some()
}

/// `name` or `name:port` (an IPv6 address in brackets) as a trusted host.
fn parse_host_entry(entry: &str) -> Option<Trusted> {
    let entry = entry.trim();
    if entry.is_empty() || entry.contains(['/', '@', '?', '#']) {
        return None;
    }
    let url = Url::parse(&format!("http://{entry}")).ok()?;
    if !url.username().is_empty() || url.password().is_some() {
        return None;
    }
    Some(Trusted {
        host: host_key(&url.host()?),
        // `url` drops a port that is the scheme's default: keep what was written.
        port: url.port().or_else(|| entry.ends_with(":80").then_some(80)),
    })
}

fn host_key(host: &Host<&str>) -> String {
    match host {
        Host::Domain(name) => name.trim_end_matches('.').to_ascii_lowercase(),
        Host::Ipv4(ip) => ip.to_string(),
        Host::Ipv6(ip) => ip.to_string(),
    }
}

fn public_or_refusal(ip: IpAddr) -> Result<(), Refusal> {
    match non_public(ip) {
        Some(class) => Err(Refusal(format!("{ip} is a {class} address"))),
        None => Ok(()),
    }
}

/// What kind of address this is when it is not a public one.
pub fn non_public(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(ip) => non_public_v4(ip),
        IpAddr::V6(ip) => non_public_v6(ip),
    }
}

fn non_public_v4(ip: Ipv4Addr) -> Option<&'static str> {
    let [a, b, c, _] = ip.octets();
    Some(match (a, b, c) {
        (0, ..) => "unspecified",
        (127, ..) => "loopback",
        (10, ..) | (172, 16..=31, _) | (192, 168, _) => "private",
        (169, 254, _) => "link-local",
        (100, 64..=127, _) => "shared (CGNAT)",
        (192, 0, 0) => "protocol-assignment",
        (192, 0, 2) | (198, 51, 100) | (203, 0, 113) => "documentation",
        (198, 18..=19, _) => "benchmarking",
        (224..=239, ..) => "multicast",
        (240..=255, ..) => "reserved or broadcast",
        _ => return None,
    })
}

fn non_public_v6(ip: Ipv6Addr) -> Option<&'static str> {
    if let Some(v4) = embedded_v4(ip) {
        return non_public_v4(v4);
    }
    let segments = ip.segments();
    Some(match segments {
        [0, 0, 0, 0, 0, 0, 0, 0] => "unspecified",
        [0, 0, 0, 0, 0, 0, 0, 1] => "loopback",
        [0x100, 0, 0, 0, ..] => "discard",
        [0x2001, 0xdb8, ..] => "documentation",
        [first, ..] if first & 0xfe00 == 0xfc00 => "private (ULA)",
        [first, ..] if first & 0xffc0 == 0xfe80 => "link-local",
        [first, ..] if first & 0xffc0 == 0xfec0 => "site-local",
        [first, ..] if first & 0xff00 == 0xff00 => "multicast",
        _ => return None,
    })
}

/// The IPv4 address inside an IPv6 one that carries it: mapped
/// (`::ffff:a.b.c.d`), compatible (`::a.b.c.d`), NAT64 (`64:ff9b::/96`),
/// 6to4 (`2002:AABB:CCDD::/48`).
fn embedded_v4(ip: Ipv6Addr) -> Option<Ipv4Addr> {
    let s = ip.segments();
    let low = |hi: u16, lo: u16| {
        let [a, b] = hi.to_be_bytes();
        let [c, d] = lo.to_be_bytes();
        Ipv4Addr::new(a, b, c, d)
    };
    match s {
        [0, 0, 0, 0, 0, 0xffff, hi, lo] => Some(low(hi, lo)),
        // `::` and `::1` are themselves, not IPv4-compatible addresses.
        [0, 0, 0, 0, 0, 0, hi, lo] if hi != 0 => Some(low(hi, lo)),
        [0x64, 0xff9b, 0, 0, 0, 0, hi, lo] => Some(low(hi, lo)),
        [0x2002, hi, lo, ..] => Some(low(hi, lo)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn guard(base: &str, extra: &[&str]) -> FetchGuard {
        let extra: Vec<String> = extra.iter().map(|s| (*s).to_owned()).collect();
        FetchGuard::new(&Url::parse(base).unwrap(), &extra)
    }

    fn check(guard: &FetchGuard, url: &str) -> Result<(), Refusal> {
        guard.check_url(&Url::parse(url).unwrap())
    }

    #[test]
    fn addresses_that_are_not_public_are_told_apart() {
        for ip in [
            "0.0.0.0",
            "127.0.0.1",
            "127.8.9.10",
            "10.1.2.3",
            "172.16.0.1",
            "172.31.255.255",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "100.127.255.254",
            "192.0.2.5",
            "198.51.100.7",
            "203.0.113.9",
            "198.18.0.1",
            "224.0.0.251",
            "239.255.255.250",
            "240.0.0.1",
            "255.255.255.255",
            "::",
            "::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "::ffff:169.254.169.254",
            "::127.0.0.1",
            "64:ff9b::7f00:1",
            "2002:a00:1::1",
            "fc00::1",
            "fd12:3456::1",
            "fe80::1",
            "febf::1",
            "fec0::1",
            "ff02::1",
            "2001:db8::1",
            "100::1",
        ] {
            let parsed: IpAddr = ip.parse().unwrap();
            assert!(non_public(parsed).is_some(), "{ip} passed as public");
        }
        for ip in [
            "8.8.8.8",
            "1.1.1.1",
            "172.15.0.1",
            "172.32.0.1",
            "100.63.255.255",
            "100.128.0.1",
            "169.253.0.1",
            "2606:4700::1111",
            "2a00:1450::1",
            "::ffff:8.8.8.8",
        ] {
            let parsed: IpAddr = ip.parse().unwrap();
            assert_eq!(non_public(parsed), None, "{ip} refused");
        }
    }

    #[test]
    fn only_http_and_https_are_fetched() {
        let guard = guard("https://relay.example/v1", &[]);
        for url in [
            "file:///etc/passwd",
            "ftp://relay.example/x.mp4",
            "gopher://relay.example/",
        ] {
            assert!(check(&guard, url).is_err(), "{url}");
        }
        assert!(check(&guard, "https://relay.example/files/x.mp4").is_ok());
        assert!(check(&guard, "http://cdn.example.com/x.mp4").is_ok());
    }

    #[test]
    fn a_service_on_loopback_allows_only_its_own_port() {
        let guard = guard("http://127.0.0.1:8080/sora", &[]);
        assert!(check(&guard, "http://127.0.0.1:8080/files/a.mp4").is_ok());
        let other = check(&guard, "http://127.0.0.1:9090/").unwrap_err();
        assert!(other.0.contains("own port"), "{other}");
        for url in [
            "http://127.0.0.2:8080/",
            "http://[::1]:8080/",
            "http://[::ffff:127.0.0.1]:8080/",
            "http://0.0.0.0:8080/",
            "http://2130706433:9999/",
            "http://0x7f.1:9999/",
            "http://10.0.0.5/x.mp4",
            "http://192.168.0.1/x.mp4",
            "http://169.254.169.254/latest/meta-data/",
            "http://[fe80::1]/x.mp4",
            "http://[fd00::1]/x.mp4",
            "http://100.64.1.1/x.mp4",
        ] {
            assert!(check(&guard, url).is_err(), "{url} passed");
        }
    }

    #[test]
    fn extra_hosts_may_be_named_with_or_without_a_port() {
        let guard = guard(
            "https://relay.example",
            &[
                "Files.Internal",
                "10.0.0.9:9000",
                " [fd00::2]:81 ",
                "bad/entry",
            ],
        );
        assert!(check(&guard, "http://files.internal:1234/x.mp4").is_ok());
        assert!(check(&guard, "http://10.0.0.9:9000/x.mp4").is_ok());
        assert!(check(&guard, "http://10.0.0.9:9001/x.mp4").is_err());
        assert!(check(&guard, "http://[fd00::2]:81/x.mp4").is_ok());
        assert!(guard.trusts_name("files.internal."));
        assert!(!guard.trusts_name("bad"));
        assert_eq!(
            parse_host_entry("cdn.local:80"),
            Some(Trusted {
                host: "cdn.local".into(),
                port: Some(80)
            })
        );
    }

    #[test]
    fn resolved_addresses_are_filtered_unless_the_name_is_trusted() {
        let guard = guard("http://localhost:8080", &[]);
        let addr = |s: &str| -> SocketAddr { s.parse().unwrap() };
        let mixed = vec![addr("127.0.0.1:0"), addr("93.184.216.34:0")];
        assert_eq!(
            guard.filter_addrs("cdn.example", mixed.clone()),
            Ok(vec![addr("93.184.216.34:0")])
        );
        let refused = guard
            .filter_addrs("evil.example", vec![addr("169.254.169.254:0")])
            .unwrap_err();
        assert!(refused.0.contains("link-local"), "{refused}");
        assert!(guard
            .filter_addrs("rebind.example", vec![addr("[::ffff:10.0.0.1]:0")])
            .is_err());
        assert_eq!(guard.filter_addrs("LOCALHOST", mixed.clone()), Ok(mixed));
    }

    #[test]
    fn a_refusal_is_found_in_a_cause_chain() {
        #[derive(Debug, thiserror::Error)]
        #[error("outer")]
        struct Outer(#[source] Box<dyn std::error::Error + Send + Sync>);
        let outer = Outer(Box::new(Refusal("nope".into())));
        assert_eq!(refusal_in(&outer), Some(Refusal("nope".into())));
        assert_eq!(refusal_in(&std::fmt::Error), None);
    }
}
