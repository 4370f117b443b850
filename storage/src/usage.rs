//! Usage counters: how many credits each user (and each group's shared
//! budget) was charged per day, with race-free charge and refund.
//!
//! | tree | key | value |
//! | --- | --- | --- |
//! | `usage` | platform, user, day | the credits, u32 big-endian |
//!
//! A group's shared budget is counted under the user `chat:CHAT` of its
//! platform ([`UserKey::chat_budget`]); no user id of a platform starts so.
//!
//! Each charge and refund also moves the store's total in `meta` (see
//! `marker.rs`), in the same transaction.
//!
//! A day is a count of days since the Unix epoch; the caller decides which
//! clock and time zone define it. A count that returns to 0 is removed.

use sled::transaction::{ConflictableTransactionError, TransactionalTree};
use sled::Transactional;

use crate::{
    codec,
    error::StoreError,
    identity::UserKey,
    keys::{self, KeyReader},
    marker::{self, CHARGES_KEY},
    store::{from_transaction, tree},
    SledStore,
};

/// One user's count of one day, for copying it elsewhere.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UsageExport {
    pub user: UserKey,
    /// Days since the Unix epoch.
    pub day: u32,
    pub count: u32,
}

fn usage_key(user: &UserKey, day: u32) -> Vec<u8> {
    keys::user(user).u32(day).into_bytes()
}

fn decode_count(key: &[u8], bytes: Option<&[u8]>) -> Result<u32, StoreError> {
    bytes.map_or(Ok(0), |bytes| codec::from_u32(tree::USAGE, key, bytes))
}

type Failed = ConflictableTransactionError<StoreError>;
use ConflictableTransactionError::Abort;

/// Writes a count; a count of 0 is removed.
fn set_count(usage: &TransactionalTree, key: &[u8], count: u32) -> Result<(), Failed> {
    if count == 0 {
        usage.remove(key)?;
    } else {
        usage.insert(key, &count.to_be_bytes())?;
    }
    Ok(())
}

/// Moves the total of charges by `delta`, never below 0.
fn add_charges(meta: &TransactionalTree, delta: i64) -> Result<(), Failed> {
    let total = match meta.get(CHARGES_KEY)? {
        Some(bytes) => marker::from_u64(CHARGES_KEY, &bytes).map_err(Abort)?,
        None => 0,
    };
    meta.insert(
        CHARGES_KEY,
        &total.saturating_add_signed(delta).to_be_bytes(),
    )?;
    Ok(())
}

impl SledStore {
    /// Charges one generation if the user is below `limit` that day: the new
    /// count, or `None` when the limit is reached. Concurrent charges never
    /// exceed the limit. The store's total of charges (see `marker.rs`)
    /// moves in the same transaction.
    pub fn try_charge(
        &self,
        user: &UserKey,
        day: u32,
        limit: u32,
    ) -> Result<Option<u32>, StoreError> {
        self.try_charge_n(user, day, limit, 1)
    }

    /// Charges `amount` credits if the user's count that day stays within
    /// `limit`: the new count, or `None` (nothing charged) when it would
    /// not. Concurrent charges never pass the limit.
    pub fn try_charge_n(
        &self,
        user: &UserKey,
        day: u32,
        limit: u32,
        amount: u32,
    ) -> Result<Option<u32>, StoreError> {
        let key = usage_key(user, day);
        (&self.usage, &self.meta)
            .transaction(|(usage, meta)| {
                let current = usage.get(&key)?;
                let count = decode_count(&key, current.as_deref()).map_err(Abort)?;
                let Some(new) = count.checked_add(amount).filter(|new| *new <= limit) else {
                    return Ok(None);
                };
                if amount == 0 {
                    return Ok(Some(count));
                }
                set_count(usage, &key, new)?;
                add_charges(meta, i64::from(amount))?;
                Ok(Some(new))
            })
            .map_err(from_transaction)
    }

    /// Gives one charge back (a generation that failed on our side); never goes below 0.
    pub fn refund(&self, user: &UserKey, day: u32) -> Result<(), StoreError> {
        self.refund_n(user, day, 1)
    }

    /// Gives `amount` credits back; never goes below 0.
    pub fn refund_n(&self, user: &UserKey, day: u32, amount: u32) -> Result<(), StoreError> {
        let key = usage_key(user, day);
        (&self.usage, &self.meta)
            .transaction(|(usage, meta)| {
                let current = usage.get(&key)?;
                let count = decode_count(&key, current.as_deref()).map_err(Abort)?;
                let back = amount.min(count);
                if back == 0 {
                    return Ok(());
                }
                set_count(usage, &key, count - back)?;
                add_charges(meta, -i64::from(back))?;
                Ok(())
            })
            .map_err(from_transaction)
    }

    /// Every user's count of every day, in key order.
    pub fn export_usage(&self) -> impl Iterator<Item = Result<UsageExport, StoreError>> + '_ {
        self.usage.iter().map(|entry| {
            let (key, bytes) = entry?;
            let mut reader = KeyReader::new(&key);
            let (user, day) = match (reader.text(), reader.text(), reader.u32()) {
                (Some(platform), Some(user), Some(day)) if reader.is_done() => {
                    (UserKey::new(platform, user), day)
                }
                _ => return Err(codec::corrupt(tree::USAGE, &key, "not a usage key")),
            };
            Ok(UsageExport {
                user,
                day,
                count: codec::from_u32(tree::USAGE, &key, &bytes)?,
            })
        })
    }

    /// How many generations the user was charged that day.
    pub fn usage(&self, user: &UserKey, day: u32) -> Result<u32, StoreError> {
        let key = usage_key(user, day);
        decode_count(&key, self.usage.get(&key)?.as_deref())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_counter_that_is_not_four_bytes_is_corrupt_not_a_panic() {
        let store = SledStore::temporary().unwrap();
        let user = UserKey::new("telegram", "1");
        store.usage.insert(usage_key(&user, 3), "x").unwrap();

        let charged = store.try_charge(&user, 3, 10);

        assert!(
            matches!(charged, Err(StoreError::Corrupt { tree: "usage", .. })),
            "{charged:?}"
        );
    }
}
