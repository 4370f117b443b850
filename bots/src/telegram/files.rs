//! Downloads of files people send (photos above all): `getFile`, then the
//! bytes from `{api}/file/bot{TOKEN}/{path}`, capped at the Bot API's 20 MB.
//! That URL holds the token, so it never leaves this module: the core gets
//! the bytes.

use std::time::Duration;

use bytes::{Bytes, BytesMut};
use futures::StreamExt;
use teloxide::net::Download;
use teloxide::prelude::*;
use teloxide::types::FileId;

use super::errors::Scrubber;

/// The largest file `getFile` serves on the public Bot API.
pub const DOWNLOAD_LIMIT: u64 = 20 * 1024 * 1024;

/// Why a file could not be fetched.
#[derive(Debug, thiserror::Error)]
pub enum FileError {
    #[error("the file has {0} bytes, over the download limit")]
    TooLarge(u64),
    #[error("the download took too long")]
    TimedOut,
    /// The API or the network failed (text scrubbed of the token).
    #[error("{0}")]
    Failed(String),
}

/// Fetches a file's bytes, refusing more than `max` (its announced size first,
/// then what actually arrives).
pub async fn download(
    bot: &Bot,
    file_id: &str,
    announced: Option<u64>,
    max: u64,
    timeout: Duration,
    scrub: &Scrubber,
) -> Result<Bytes, FileError> {
    if let Some(size) = announced.filter(|s| *s > max) {
        return Err(FileError::TooLarge(size));
    }
    let fetch = async {
        let file = bot
            .get_file(FileId(file_id.to_owned()))
            .await
            .map_err(|e| FileError::Failed(scrub.describe(&e)))?;
        if u64::from(file.meta.size) > max {
            return Err(FileError::TooLarge(u64::from(file.meta.size)));
        }
        let mut stream = bot.download_file_stream(&file.path);
        let mut data = BytesMut::new();
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(|e| FileError::Failed(scrub.describe(&e.without_url())))?;
            if (data.len() + chunk.len()) as u64 > max {
                return Err(FileError::TooLarge((data.len() + chunk.len()) as u64));
            }
            data.extend_from_slice(&chunk);
        }
        Ok(data.freeze())
    };
    tokio::time::timeout(timeout, fetch)
        .await
        .map_err(|_| FileError::TimedOut)?
}
