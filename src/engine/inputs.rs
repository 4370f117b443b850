//! A job's kept input images read back for the service (files under
//! `DATA_DIR`, blobs in the store, or links passed on as they are), and
//! whether they are all still kept (a `/retry` needs them).

use bytes::Bytes;

use super::{Engine, EngineError};
use crate::backend::ImageInput;
use crate::job::{Job, StoredImage};

impl Engine {
    /// The images as the service takes them. A file or a blob that is gone
    /// is `NotFound`; a store that cannot be read is another error.
    pub(super) async fn read_images(
        &self,
        images: &[StoredImage],
    ) -> std::io::Result<Vec<ImageInput>> {
        let mut inputs = Vec::with_capacity(images.len());
        for image in images {
            inputs.push(match image {
                StoredImage::Url(url) => ImageInput::Url(url.clone()),
                StoredImage::File { path, mime } => ImageInput::Bytes {
                    mime: mime.clone(),
                    data: Bytes::from(tokio::fs::read(path).await?),
                },
                StoredImage::Blob { key, mime } => ImageInput::Bytes {
                    mime: mime.clone(),
                    data: Bytes::from(self.read_blob(key).await?),
                },
            });
        }
        Ok(inputs)
    }

    async fn read_blob(&self, key: &str) -> std::io::Result<Vec<u8>> {
        match self.inner.store.blob(key).await {
            Ok(Some(bytes)) => Ok(bytes),
            Ok(None) => Err(std::io::Error::new(
                std::io::ErrorKind::NotFound,
                format!("no blob {key:?} in the store"),
            )),
            Err(error) => Err(std::io::Error::other(error)),
        }
    }

    /// Whether every image a job was given is still kept.
    pub(super) async fn inputs_kept(&self, job: &Job) -> Result<bool, EngineError> {
        if !job.request.kept_files().all(std::path::Path::exists) {
            return Ok(false);
        }
        for key in job.request.kept_blobs() {
            if !self.inner.store.has_blob(key).await? {
                return Ok(false);
            }
        }
        Ok(true)
    }
}
