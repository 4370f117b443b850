//! The error type of the storage boundary: everything that can go wrong reading or writing the store.

use thiserror::Error;

/// Why a store operation failed.
///
/// None of these is the chat user's doing: an adapter logs the cause chain and
/// shows an opaque reference, never this text.
#[derive(Debug, Error)]
pub enum StoreError {
    /// sled itself failed: I/O, a full disk, a damaged log, a second process holding the lock.
    #[error("the database failed")]
    Sled(#[from] sled::Error),

    /// A stored value does not decode. Names the tree and the key so the
    /// record can be found and repaired; the rest of the store stays usable.
    #[error("corrupt record in tree `{tree}` at key {key}: {detail}")]
    Corrupt {
        tree: &'static str,
        /// The key, rendered with non-printable bytes escaped.
        key: String,
        detail: String,
    },

    /// The database was written by a newer build; opening it could lose data.
    #[error("the database has schema version {found}, newer than version {supported} that this build supports")]
    SchemaTooNew { found: u32, supported: u32 },

    /// A step that upgrades the schema failed; the version stamp stays at `from`.
    #[error("migrating the database from schema version {from} failed")]
    Migration {
        from: u32,
        #[source]
        source: Box<StoreError>,
    },

    /// PostgreSQL failed or could not be reached (the pool's wait for a
    /// connection timed out, the server refused, a statement failed).
    #[error("the database failed")]
    Postgres(#[from] sqlx::Error),
    /// Applying this build's migrations to PostgreSQL failed.
    #[error("migrating the PostgreSQL database failed")]
    PgMigration(#[source] sqlx::migrate::MigrateError),
    /// `STORE_URL` is not a PostgreSQL URL this build can read.
    #[error("the store URL is not a valid postgres:// URL")]
    BadUrl,
    /// A value handed in could not be encoded as JSON (for example a map with non-string keys).
    #[error("could not encode a record for tree `{tree}`")]
    Encode {
        tree: &'static str,
        #[source]
        source: serde_json::Error,
    },
}

impl StoreError {
    /// Whether another process holds the sled database (a running bot):
    /// sled lets one process at a time open it.
    pub fn is_locked(&self) -> bool {
        matches!(self, StoreError::Sled(sled::Error::Io(error))
            if error.to_string().contains("could not acquire lock"))
    }
}
