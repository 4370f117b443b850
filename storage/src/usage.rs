//! Usage counters: how many generations each user was charged per day, with race-free charge and refund.
//!
//! | tree | key | value |
//! | --- | --- | --- |
//! | `usage` | platform, user, day | the count, u32 big-endian |
//!
//! A day is a count of days since the Unix epoch; the caller decides which
//! clock and time zone define it. A count that returns to 0 is removed.

use crate::{
    codec,
    error::StoreError,
    identity::UserKey,
    keys,
    store::{tree, update_atomically},
    Store,
};

fn usage_key(user: &UserKey, day: u32) -> Vec<u8> {
    keys::user(user).u32(day).into_bytes()
}

fn decode_count(key: &[u8], bytes: Option<&[u8]>) -> Result<u32, StoreError> {
    bytes.map_or(Ok(0), |bytes| codec::from_u32(tree::USAGE, key, bytes))
}

fn encode_count(count: u32) -> Option<Vec<u8>> {
    (count > 0).then(|| count.to_be_bytes().to_vec())
}

impl Store {
    /// Charges one generation if the user is below `limit` that day: the new
    /// count, or `None` when the limit is reached. Concurrent charges never
    /// exceed the limit.
    pub fn try_charge(
        &self,
        user: &UserKey,
        day: u32,
        limit: u32,
    ) -> Result<Option<u32>, StoreError> {
        let key = usage_key(user, day);
        update_atomically(&self.usage, &key, |current| {
            let count = decode_count(&key, current)?;
            if count >= limit {
                return Ok((current.map(<[u8]>::to_vec), None));
            }
            Ok((encode_count(count + 1), Some(count + 1)))
        })
    }

    /// Gives one charge back (a generation that failed on our side); never goes below 0.
    pub fn refund(&self, user: &UserKey, day: u32) -> Result<(), StoreError> {
        let key = usage_key(user, day);
        update_atomically(&self.usage, &key, |current| {
            let count = decode_count(&key, current)?;
            Ok((encode_count(count.saturating_sub(1)), ()))
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
        let store = Store::temporary().unwrap();
        let user = UserKey::new("telegram", "1");
        store.usage.insert(usage_key(&user, 3), "x").unwrap();

        let charged = store.try_charge(&user, 3, 10);

        assert!(
            matches!(charged, Err(StoreError::Corrupt { tree: "usage", .. })),
            "{charged:?}"
        );
    }
}
