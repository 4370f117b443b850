//! Composite key encoding: components that cannot collide, sort like the tuples they encode, and allow prefix scans.
//!
//! A text component is its UTF-8 bytes with every `0x00` escaped as
//! `0x00 0xFF`, followed by the terminator `0x00 0x01`. No encoded text
//! contains the terminator, so one component cannot run into the next
//! (`("a\0", "b")` and `("a", "\0b")` differ), and the key of a whole tuple
//! prefix (one owner) is a byte prefix of exactly that owner's keys. Because
//! the terminator sorts below every escaped or plain byte, byte order of the
//! keys equals the tuple order of the components. Numbers are fixed-width
//! big-endian, so they sort numerically and need no terminator.

use crate::identity::UserKey;

const ESCAPE_AFTER_NUL: u8 = 0xFF;
const TERMINATOR_AFTER_NUL: u8 = 0x01;

/// A key being built, one component at a time.
#[derive(Debug, Default, Clone)]
pub(crate) struct KeyBuf(Vec<u8>);

impl KeyBuf {
    pub(crate) fn new() -> Self {
        Self::default()
    }

    pub(crate) fn text(mut self, s: &str) -> Self {
        for &byte in s.as_bytes() {
            self.0.push(byte);
            if byte == 0 {
                self.0.push(ESCAPE_AFTER_NUL);
            }
        }
        self.0.extend_from_slice(&[0, TERMINATOR_AFTER_NUL]);
        self
    }

    pub(crate) fn u32(mut self, n: u32) -> Self {
        self.0.extend_from_slice(&n.to_be_bytes());
        self
    }

    pub(crate) fn u64(mut self, n: u64) -> Self {
        self.0.extend_from_slice(&n.to_be_bytes());
        self
    }

    pub(crate) fn into_bytes(self) -> Vec<u8> {
        self.0
    }
}

/// A key being read back into its components, in the order they were
/// written; for exporting the trees whose values do not repeat their key.
/// Each read is `None` when the key does not hold that component there.
#[derive(Debug, Clone)]
pub(crate) struct KeyReader<'a> {
    rest: &'a [u8],
}

impl<'a> KeyReader<'a> {
    pub(crate) fn new(key: &'a [u8]) -> Self {
        KeyReader { rest: key }
    }

    /// The next text component, unescaped.
    pub(crate) fn text(&mut self) -> Option<String> {
        let mut text = Vec::new();
        let mut at = 0;
        while let Some(&byte) = self.rest.get(at) {
            if byte != 0 {
                text.push(byte);
                at += 1;
                continue;
            }
            match self.rest.get(at + 1) {
                Some(&ESCAPE_AFTER_NUL) => text.push(0),
                Some(&TERMINATOR_AFTER_NUL) => {
                    self.rest = &self.rest[at + 2..];
                    return String::from_utf8(text).ok();
                }
                _ => return None,
            }
            at += 2;
        }
        None
    }

    pub(crate) fn u32(&mut self) -> Option<u32> {
        let (head, rest) = self.rest.split_first_chunk::<4>()?;
        self.rest = rest;
        Some(u32::from_be_bytes(*head))
    }

    /// Whether every byte of the key was read.
    pub(crate) fn is_done(&self) -> bool {
        self.rest.is_empty()
    }
}

/// The key prefix shared by every record of one user.
pub(crate) fn user(user: &UserKey) -> KeyBuf {
    KeyBuf::new().text(&user.platform).text(&user.user)
}

/// A key as readable text for error messages and logs.
pub(crate) fn render(key: &[u8]) -> String {
    key.escape_ascii().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn encode(parts: &[String]) -> Vec<u8> {
        parts
            .iter()
            .fold(KeyBuf::new(), |key, part| key.text(part))
            .into_bytes()
    }

    /// Few characters, NULs among them, so that near-collisions are common.
    fn tricky_text() -> impl Strategy<Value = String> {
        prop_oneof!["[\\x00\\x01a\\x{FF}]{0,4}", any::<String>()]
    }

    fn tuple() -> impl Strategy<Value = Vec<String>> {
        proptest::collection::vec(tricky_text(), 2)
    }

    proptest! {
        #[test]
        fn different_tuples_never_share_a_key(a in tuple(), b in tuple()) {
            prop_assert_eq!(a == b, encode(&a) == encode(&b));
        }

        #[test]
        fn keys_sort_like_their_tuples(a in tuple(), b in tuple()) {
            prop_assert_eq!(a.cmp(&b), encode(&a).cmp(&encode(&b)));
        }

        #[test]
        fn a_key_reads_back_as_the_tuple_it_encodes(a in tuple(), day in any::<u32>()) {
            let key = a.iter().fold(KeyBuf::new(), |key, part| key.text(part)).u32(day).into_bytes();
            let mut reader = KeyReader::new(&key);
            let read: Vec<String> = a.iter().filter_map(|_| reader.text()).collect();
            prop_assert_eq!(&read, &a);
            prop_assert_eq!(reader.u32(), Some(day));
            prop_assert!(reader.is_done());
        }

        #[test]
        fn a_users_prefix_matches_only_that_users_keys(a in tuple(), b in tuple(), rest in tricky_text()) {
            let prefix = encode(&a);
            let other = encode(&[b[0].clone(), b[1].clone(), rest]);
            prop_assert_eq!(a == b, other.starts_with(&prefix));
        }
    }

    #[test]
    fn a_nul_inside_a_component_does_not_split_it() {
        let left = encode(&["a\0".into(), "b".into()]);
        let right = encode(&["a".into(), "\0b".into()]);
        assert_ne!(left, right);
    }

    #[test]
    fn a_cut_off_key_reads_as_nothing_not_a_panic() {
        let key = KeyBuf::new().text("abc").into_bytes();
        assert_eq!(KeyReader::new(&key[..key.len() - 1]).text(), None);
        assert_eq!(KeyReader::new(b"a\0\x07").text(), None);
        assert_eq!(KeyReader::new(&[1, 2]).u32(), None);
    }

    #[test]
    fn numbers_sort_numerically() {
        let small = KeyBuf::new().u64(255).into_bytes();
        let large = KeyBuf::new().u64(256).into_bytes();
        assert!(small < large);
    }
}
