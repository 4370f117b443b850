//! How to reach the Sora service: base URL, key, dialect, auth style, models,
//! timeouts. Built once at start-up; the key stays a `SecretString`.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use url::Url;

/// Which of the seeds' API shapes the service speaks (`SORA_API_STYLE`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Dialect {
    /// Seed 000 §3: `/v1/videos/generations`, `/v1/characters`, remix, `/v1/videos/tasks/{id}`.
    Native,
    /// Seed 001 §4 and the OpenAI videos format: `/v1/videos`, `/content`, images.
    OpenAi,
    /// Seed 000 §2 and seed 001 §1: `/v1/chat/completions`, streamed.
    Chat,
}

impl FromStr for Dialect {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "native" => Ok(Dialect::Native),
            "openai" => Ok(Dialect::OpenAi),
            "chat" => Ok(Dialect::Chat),
            other => Err(format!(
                "unknown API style `{other}` (use native, openai or chat)"
            )),
        }
    }
}

impl fmt::Display for Dialect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Dialect::Native => "native",
            Dialect::OpenAi => "openai",
            Dialect::Chat => "chat",
        })
    }
}

/// How the key goes in the `Authorization` header (`SORA_AUTH`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum AuthStyle {
    /// `Authorization: Bearer KEY` (seed 000).
    Bearer,
    /// `Authorization: KEY` (seed 001).
    Raw,
}

impl FromStr for AuthStyle {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "bearer" => Ok(AuthStyle::Bearer),
            "raw" => Ok(AuthStyle::Raw),
            other => Err(format!("unknown auth style `{other}` (use bearer or raw)")),
        }
    }
}

/// Everything needed to talk to one Sora service.
#[derive(Debug, Clone)]
pub struct SoraConfig {
    /// Scheme, host, port and any path prefix (seed 001 services sit under `/sora`).
    pub base_url: Url,
    pub api_key: SecretString,
    pub dialect: Dialect,
    pub auth: AuthStyle,
    /// The video model as the service names it (`sora-2`, or `sora_video2`
    /// whose chat dialect takes options as name suffixes).
    pub video_model: String,
    /// The picture model (`sora_image`).
    pub image_model: String,
    pub connect_timeout: Duration,
    /// Total time for one ordinary call.
    pub request_timeout: Duration,
    /// Longest silence inside a long answer (a download, a streamed chat).
    pub stream_idle_timeout: Duration,
    /// Longest a synchronous generation (images, non-streamed chat) may take.
    pub generation_timeout: Duration,
    /// Keep the service's watermark on videos (seed 001's `watermark`), when
    /// the operator chose; unset: the service's default.
    pub watermark: Option<bool>,
    /// How often a task that a chat answer hands over (seed 000 §2: "returns
    /// JSON holding the task id") is polled while the answer's job waits.
    pub task_poll: Duration,
    /// Hosts besides the service a result link may point at even when they
    /// are not public (`RESULT_HOSTS`): `name` (any port) or `name:port`.
    pub result_hosts: Vec<String>,
}

impl SoraConfig {
    /// A configuration with the defaults: native dialect, bearer auth, `sora-2`.
    pub fn new(base_url: Url, api_key: impl Into<String>) -> Self {
        SoraConfig {
            base_url,
            api_key: SecretString::from(api_key.into()),
            dialect: Dialect::Native,
            auth: AuthStyle::Bearer,
            video_model: "sora-2".to_owned(),
            image_model: "sora_image".to_owned(),
            connect_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(60),
            stream_idle_timeout: Duration::from_secs(120),
            generation_timeout: Duration::from_secs(30 * 60),
            watermark: None,
            task_poll: Duration::from_secs(5),
            result_hosts: Vec::new(),
        }
    }

    pub fn with_dialect(mut self, dialect: Dialect, auth: AuthStyle) -> Self {
        self.dialect = dialect;
        self.auth = auth;
        self
    }

    pub fn with_video_model(mut self, model: impl Into<String>) -> Self {
        self.video_model = model.into();
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dialects_and_auth_styles_parse_case_insensitively() {
        assert_eq!("OpenAI".parse::<Dialect>(), Ok(Dialect::OpenAi));
        assert_eq!(" chat ".parse::<Dialect>(), Ok(Dialect::Chat));
        assert!("grpc"
            .parse::<Dialect>()
            .unwrap_err()
            .contains("native, openai or chat"));
        assert_eq!("RAW".parse::<AuthStyle>(), Ok(AuthStyle::Raw));
    }

    #[test]
    fn debug_output_hides_the_key() {
        let config = SoraConfig::new(Url::parse("http://127.0.0.1:1").unwrap(), "sk-very-secret");
        assert!(!format!("{config:?}").contains("sk-very-secret"));
    }
}
