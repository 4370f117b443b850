//! Images that come with a command (attached, or on the message it replies
//! to): checked for size, kind and dimensions, then kept so a retry or a
//! restart still has them: under `DATA_DIR/inputs` with a sled store, as a
//! blob in the store with PostgreSQL (where any instance may submit or
//! retry the job, so a file on one machine would not do).

use bytes::Bytes;
use sorabot_storage::Store;

use super::Refusal;
use crate::chat::{Attachment, AttachmentKind, Incoming};
use crate::clock::now_ms;
use crate::engine::{Engine, EngineError};
use crate::ids::JobId;
use crate::job::StoredImage;
use crate::media::{self, BadImage};

/// The image types a link may be taken on trust for (its bytes are fetched
/// by the service, not by us).
const LINKED_IMAGE_TYPES: [&str; 3] = ["image/png", "image/jpeg", "image/webp"];

/// An attachment that passed its first checks.
enum Intake<'a> {
    /// Bytes the chat gave us, to check and keep.
    Bytes(&'a Bytes),
    /// A public link the service fetches itself.
    Link(&'a str),
}

impl Engine {
    /// Checks and keeps the images that came with the message, or else the
    /// image of the message it replies to.
    pub(super) async fn take_images(
        &self,
        msg: &Incoming,
    ) -> Result<Result<Vec<StoredImage>, Refusal>, EngineError> {
        let mut attachments: Vec<&Attachment> = msg.attachments.iter().collect();
        if attachments.is_empty() {
            if let Some(reply) = msg
                .reply_media
                .as_ref()
                .filter(|a| a.kind == AttachmentKind::Image)
            {
                attachments.push(reply);
            }
        }
        let mut images = Vec::new();
        for (index, attachment) in attachments.into_iter().enumerate() {
            match self.check_image(attachment) {
                Ok(Intake::Bytes(data)) => {
                    let facts = media::check_image(data, self.inner.limits.max_image_side);
                    match facts {
                        Ok(facts) => images.push(self.keep_image(data, facts.mime, index).await?),
                        Err(bad) => return Ok(Err(self.bad_image(bad))),
                    }
                }
                Ok(Intake::Link(url)) => images.push(StoredImage::Url(url.to_owned())),
                Err(refusal) => return Ok(Err(refusal)),
            }
        }
        Ok(Ok(images))
    }

    /// The checks an attachment passes before its bytes are read.
    fn check_image<'a>(&self, attachment: &'a Attachment) -> Result<Intake<'a>, Refusal> {
        if attachment.kind != AttachmentKind::Image {
            return Err(self.bad_image(BadImage::NotAnImage));
        }
        let max = self.inner.limits.max_input_image_bytes;
        let size = attachment
            .data
            .as_ref()
            .map(|d| d.len() as u64)
            .or(attachment.size)
            .unwrap_or(0);
        if size > max {
            return Err(Refusal::ImageTooLarge {
                max_mb: max / 1_048_576,
            });
        }
        match (&attachment.data, &attachment.public_url) {
            (Some(data), _) => Ok(Intake::Bytes(data)),
            (None, Some(url)) => {
                let image_mime = attachment
                    .mime
                    .as_deref()
                    .is_some_and(|m| LINKED_IMAGE_TYPES.contains(&m));
                if !image_mime {
                    return Err(self.bad_image(BadImage::NotAnImage));
                }
                let max_side = self.inner.limits.max_image_side;
                if let Some((width, height)) = attachment.pixels {
                    if !(1..=max_side).contains(&width) || !(1..=max_side).contains(&height) {
                        return Err(self.bad_image(BadImage::Dimensions { width, height }));
                    }
                }
                Ok(Intake::Link(url))
            }
            (None, None) => Err(self.bad_image(BadImage::NotAnImage)),
        }
    }

    fn bad_image(&self, bad: BadImage) -> Refusal {
        Refusal::BadImage {
            bad,
            max_side: self.inner.limits.max_image_side,
        }
    }

    /// Keeps an input image: in the store when the store is shared (see
    /// [`inputs_go_in_the_store`]), else under `DATA_DIR/inputs`. Either
    /// way it is named `ID-N.EXT` (see [`StoredImage::blob_key`]).
    async fn keep_image(
        &self,
        data: &Bytes,
        mime: &str,
        index: usize,
    ) -> Result<StoredImage, EngineError> {
        let name = format!("{}-{index}.{}", JobId::generate(), media::extension(mime));
        if inputs_go_in_the_store(&self.inner.store) {
            let key = StoredImage::blob_key(&name);
            self.inner.store.put_blob_at(&key, data, now_ms()).await?;
            return Ok(StoredImage::Blob {
                key,
                mime: mime.to_owned(),
            });
        }
        let dir = self.inner.limits.inputs_dir();
        tokio::fs::create_dir_all(&dir).await?;
        let path = dir.join(name);
        tokio::fs::write(&path, data).await?;
        Ok(StoredImage::File {
            path,
            mime: mime.to_owned(),
        })
    }
}

/// Whether input images are kept in the store rather than as files: with
/// PostgreSQL, whose instances share the store but not a disk. A sled
/// store serves one process on one machine, whose `DATA_DIR` is enough.
pub(crate) fn inputs_go_in_the_store(store: &Store) -> bool {
    store.backend() == "postgres"
}
