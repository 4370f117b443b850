//! The bot's own links to results too large for a chat: the path
//! `/media/JOB/N.mp4?exp=..&sig=..`, signed with HMAC-SHA256 over the file
//! and its expiry, and the file each names under `DATA_DIR/links`, kept
//! until the expiry and swept after. Nothing here serves HTTP; the binary's
//! server asks [`Links::verify`] which file a request may have.

use std::path::{Path, PathBuf};
use std::time::Duration;

use hmac::{Hmac, Mac};
use secrecy::{ExposeSecret, SecretString};
use sha2::Sha256;

use crate::clock::now_ms;
use crate::ids::JobId;

type HmacSha256 = Hmac<Sha256>;

/// Bytes of a signature (SHA-256), written as twice as many hex digits.
const SIG_BYTES: usize = 32;
/// The most results one job has (images); an index above is no link of ours.
const MAX_INDEX: usize = 99;
/// The most digits an expiry in unix seconds has for the next few millennia.
const MAX_EXP_DIGITS: usize = 12;

/// The operator's settings for the bot's own links (`PUBLIC_BASE_URL`,
/// `LINK_SECRET`, `LINK_TTL_HOURS`).
#[derive(Debug, Clone)]
pub struct LinkSettings {
    /// The public http(s) address of `HTTP_LISTEN` (the operator's TLS
    /// proxy in front of it); links are this plus `/media/...`.
    pub base_url: url::Url,
    /// The HMAC key; never in a link, a log or a message.
    pub secret: SecretString,
    /// How long a link works, and its file is kept.
    pub ttl: Duration,
}

/// Why a request for a linked file is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum LinkError {
    /// The path or query is not one of ours (a bad job id, index, expiry).
    #[error("not a link of this bot")]
    Malformed,
    /// The signature does not match: tampered with, or another bot's.
    #[error("the link's signature does not match")]
    BadSignature,
    /// A genuine link past its expiry.
    #[error("the link has expired")]
    Expired,
}

/// A file a verified link names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkedFile {
    pub job: JobId,
    pub index: usize,
    /// Unix seconds after which the link no longer works.
    pub exp: u64,
    pub path: PathBuf,
}

/// Signs and checks the bot's links, and names their files.
#[derive(Clone)]
pub struct Links {
    settings: LinkSettings,
    dir: PathBuf,
}

impl std::fmt::Debug for Links {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Links")
            .field("base_url", &self.settings.base_url.as_str())
            .field("ttl", &self.settings.ttl)
            .field("dir", &self.dir)
            .finish_non_exhaustive()
    }
}

impl Links {
    /// Links with `settings`, their files under `data_dir/links`.
    pub fn new(settings: LinkSettings, data_dir: &Path) -> Self {
        Links {
            settings,
            dir: links_dir(data_dir),
        }
    }

    /// How long a link works.
    pub fn ttl(&self) -> Duration {
        self.settings.ttl
    }

    /// The expiry, in unix seconds, of a link made now.
    pub fn expiry_from_now(&self) -> u64 {
        (now_ms() / 1000).saturating_add(self.settings.ttl.as_secs())
    }

    /// The signed path and query of result `index` of `job` until `exp`:
    /// `/media/JOB/N.mp4?exp=EXP&sig=HEX`.
    pub fn sign(&self, job: &JobId, index: usize, exp: u64) -> String {
        let sig = hex(&self.mac(job.as_str(), index, exp).finalize().into_bytes());
        format!("/media/{job}/{index}.mp4?exp={exp}&sig={sig}")
    }

    /// The whole URL a chat member opens: the public base and the signed path.
    pub fn url(&self, job: &JobId, index: usize, exp: u64) -> String {
        let base = self.settings.base_url.as_str().trim_end_matches('/');
        format!("{base}{}", self.sign(job, index, exp))
    }

    /// Checks a request's path segments (`JOB`, `N.mp4`) and query values
    /// (`exp`, `sig`) strictly, the signature in constant time, then the
    /// expiry against the clock; gives the file they name.
    pub fn verify(
        &self,
        job: &str,
        file: &str,
        exp: Option<&str>,
        sig: Option<&str>,
    ) -> Result<LinkedFile, LinkError> {
        let parsed_job = JobId::parse(job)
            .filter(|id| id.as_str() == job)
            .ok_or(LinkError::Malformed)?;
        let index = parse_index(file).ok_or(LinkError::Malformed)?;
        let exp = exp.and_then(parse_exp).ok_or(LinkError::Malformed)?;
        let sig = sig.and_then(unhex).ok_or(LinkError::BadSignature)?;
        self.mac(job, index, exp)
            .verify_slice(&sig)
            .map_err(|_| LinkError::BadSignature)?;
        if exp.saturating_mul(1000) <= now_ms() {
            return Err(LinkError::Expired);
        }
        let path = self.file_path(&parsed_job, index, exp);
        Ok(LinkedFile {
            job: parsed_job,
            index,
            exp,
            path,
        })
    }

    /// Where the file of a link is kept: `DATA_DIR/links/JOB-N-EXP.mp4`.
    pub fn file_path(&self, job: &JobId, index: usize, exp: u64) -> PathBuf {
        self.dir.join(format!("{job}-{index}-{exp}.mp4"))
    }

    /// The directory of the linked files.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The MAC over what a link names: `JOB/N.mp4` and its expiry.
    fn mac(&self, job: &str, index: usize, exp: u64) -> HmacSha256 {
        let key = self.settings.secret.expose_secret().as_bytes();
        let mut mac = HmacSha256::new_from_slice(key).expect("HMAC takes a key of any length");
        mac.update(format!("{job}/{index}.mp4\n{exp}").as_bytes());
        mac
    }
}

/// A fresh random key for the links: 32 random bytes in hex.
pub fn random_secret() -> String {
    use rand::RngCore;
    let mut key = [0u8; SIG_BYTES];
    rand::rngs::OsRng.fill_bytes(&mut key);
    hex(&key)
}

/// `DATA_DIR/links`.
pub fn links_dir(data_dir: &Path) -> PathBuf {
    data_dir.join("links")
}

/// The expiry in the name of a linked file (`JOB-N-EXP.mp4`), if it is one.
pub fn file_expiry(name: &str) -> Option<u64> {
    let stem = name.strip_suffix(".mp4")?;
    let mut parts = stem.split('-');
    let (job, index, exp) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() || JobId::parse(job).is_none_or(|id| id.as_str() != job) {
        return None;
    }
    digits(index, 2)?;
    parse_exp(exp)
}

/// `N.mp4` with N a plain decimal within the results a job may have.
fn parse_index(file: &str) -> Option<usize> {
    let text = digits(file.strip_suffix(".mp4")?, 2)?;
    let index: usize = text.parse().ok()?;
    (index <= MAX_INDEX && (text.len() == 1 || !text.starts_with('0'))).then_some(index)
}

fn parse_exp(text: &str) -> Option<u64> {
    digits(text, MAX_EXP_DIGITS)?.parse().ok()
}

/// `text` if it is 1 to `max` ASCII digits, nothing else.
fn digits(text: &str, max: usize) -> Option<&str> {
    let ok = !text.is_empty() && text.len() <= max && text.bytes().all(|b| b.is_ascii_digit());
    ok.then_some(text)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Lower-case hex of exactly a signature's length.
fn unhex(text: &str) -> Option<Vec<u8>> {
    if text.len() != SIG_BYTES * 2 {
        return None;
    }
    let digit = |c: u8| match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        _ => None,
    };
    text.as_bytes()
        .chunks(2)
        .map(|pair| Some(digit(pair[0])? << 4 | digit(pair[1])?))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn links(secret: &str) -> Links {
        let settings = LinkSettings {
            base_url: "https://bot.example.com/".parse().unwrap(),
            secret: SecretString::from(secret.to_owned()),
            ttl: Duration::from_secs(72 * 3600),
        };
        Links::new(settings, Path::new("/data"))
    }

    /// The parts of a signed path: job, file, exp, sig.
    fn parts(signed: &str) -> (String, String, String, String) {
        let (path, query) = signed.split_once('?').unwrap();
        let mut segments = path.trim_start_matches("/media/").split('/');
        let (job, file) = (segments.next().unwrap(), segments.next().unwrap());
        let (exp, sig) = query.split_once("&sig=").unwrap();
        (
            job.into(),
            file.into(),
            exp.trim_start_matches("exp=").into(),
            sig.into(),
        )
    }

    #[tokio::test(start_paused = true)]
    async fn a_signed_link_verifies_and_names_its_kept_file() {
        let links = links("a-secret-of-enough-length");
        let job = JobId::parse("7QK3M2XD").unwrap();
        let exp = links.expiry_from_now();

        let signed = links.sign(&job, 1, exp);
        let (j, f, e, s) = parts(&signed);
        let file = links.verify(&j, &f, Some(&e), Some(&s)).unwrap();

        assert!(signed.starts_with("/media/7QK3M2XD/1.mp4?exp="), "{signed}");
        assert!(
            !signed.contains("a-secret"),
            "the secret is not in the link"
        );
        assert_eq!(file.index, 1);
        assert_eq!(
            file.path,
            Path::new(&format!("/data/links/7QK3M2XD-1-{exp}.mp4"))
        );
        assert_eq!(
            links.url(&job, 1, exp),
            format!("https://bot.example.com{signed}")
        );
        assert_eq!(file_expiry(&format!("7QK3M2XD-1-{exp}.mp4")), Some(exp));
    }

    #[tokio::test(start_paused = true)]
    async fn a_tampered_link_or_another_secret_is_refused() {
        let links = links("a-secret-of-enough-length");
        let job = JobId::parse("7QK3M2XD").unwrap();
        let exp = links.expiry_from_now();
        let (j, f, e, s) = parts(&links.sign(&job, 0, exp));
        let later = (exp + 3600).to_string();
        let mut flipped = s.clone().into_bytes();
        flipped[0] = if flipped[0] == b'0' { b'1' } else { b'0' };
        let flipped = String::from_utf8(flipped).unwrap();

        let refused = |job: &str, file: &str, exp: &str, sig: Option<&str>| {
            links.verify(job, file, Some(exp), sig).unwrap_err()
        };
        assert_eq!(refused(&j, &f, &e, Some(&flipped)), LinkError::BadSignature);
        assert_eq!(refused(&j, &f, &later, Some(&s)), LinkError::BadSignature);
        assert_eq!(refused(&j, "1.mp4", &e, Some(&s)), LinkError::BadSignature);
        assert_eq!(
            refused("7QK3M2XE", &f, &e, Some(&s)),
            LinkError::BadSignature
        );
        assert_eq!(refused(&j, &f, &e, None), LinkError::BadSignature);
        assert_eq!(
            refused(&j, &f, &e, Some(&s.to_uppercase())),
            LinkError::BadSignature
        );
        let other = links_with_other_secret();
        assert_eq!(
            other.verify(&j, &f, Some(&e), Some(&s)).unwrap_err(),
            LinkError::BadSignature
        );
    }

    fn links_with_other_secret() -> Links {
        links("another-secret-of-enough-length")
    }

    #[tokio::test(start_paused = true)]
    async fn a_link_stops_working_after_its_ttl() {
        let links = links("a-secret-of-enough-length");
        let job = JobId::parse("7QK3M2XD").unwrap();
        let (j, f, e, s) = parts(&links.sign(&job, 0, links.expiry_from_now()));
        assert!(links.verify(&j, &f, Some(&e), Some(&s)).is_ok());

        tokio::time::advance(links.ttl() - Duration::from_secs(2)).await;
        assert!(links.verify(&j, &f, Some(&e), Some(&s)).is_ok());

        tokio::time::advance(Duration::from_secs(2)).await;
        assert_eq!(
            links.verify(&j, &f, Some(&e), Some(&s)).unwrap_err(),
            LinkError::Expired
        );
    }

    #[tokio::test(start_paused = true)]
    async fn paths_that_are_not_exactly_ours_are_refused_before_any_file_is_named() {
        let links = links("a-secret-of-enough-length");
        let job = JobId::parse("7QK3M2XD").unwrap();
        let (_, _, e, s) = parts(&links.sign(&job, 0, links.expiry_from_now()));
        for (job, file, exp) in [
            ("..", "0.mp4", e.as_str()),
            ("7qk3m2xd", "0.mp4", e.as_str()),
            ("#7QK3M2XD", "0.mp4", e.as_str()),
            ("7QK3M2XD", "../0.mp4", e.as_str()),
            ("7QK3M2XD", "00.mp4", e.as_str()),
            ("7QK3M2XD", "+0.mp4", e.as_str()),
            ("7QK3M2XD", "0.mp4.mp4", e.as_str()),
            ("7QK3M2XD", "100.mp4", e.as_str()),
            ("7QK3M2XD", "0.mov", e.as_str()),
            ("7QK3M2XD", "0.mp4", "-1"),
            ("7QK3M2XD", "0.mp4", "1e9"),
            ("7QK3M2XD", "0.mp4", "9999999999999"),
        ] {
            assert_eq!(
                links.verify(job, file, Some(exp), Some(&s)).unwrap_err(),
                LinkError::Malformed,
                "{job}/{file}?exp={exp}"
            );
        }
        assert_eq!(file_expiry("../7QK3M2XD-0-1.mp4"), None);
        assert_eq!(file_expiry("7QK3M2XD-0-1-2.mp4"), None);
        assert_eq!(file_expiry("7QK3M2XD-0.mp4"), None);
    }
}
