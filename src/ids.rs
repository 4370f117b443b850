//! Job ids: short enough to type in a chat (`/status 7QK3M2XD`), distinct
//! enough from prompt words that a parser can tell them apart.

use std::fmt;

use rand::Rng;
use serde::{Deserialize, Serialize};

/// Crockford's base32 alphabet: no I, L, O or U to misread.
const ALPHABET: &[u8] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
const LEN: usize = 8;

/// The id of one job, e.g. `7QK3M2XD`: eight characters of Crockford base32
/// with at least one digit and one letter, so no ordinary word parses as one.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct JobId(String);

impl JobId {
    /// A fresh random id.
    pub fn generate() -> Self {
        let mut rng = rand::thread_rng();
        loop {
            let id: String = (0..LEN)
                .map(|_| ALPHABET[rng.gen_range(0..ALPHABET.len())] as char)
                .collect();
            if let Some(id) = JobId::parse(&id) {
                return id;
            }
        }
    }

    /// Reads an id as a user may type it: any case, with or without a
    /// leading `#`. Letters Crockford reads as digits (`O`→0, `I`/`L`→1) are
    /// mapped; anything else that is not an id gives `None`.
    pub fn parse(text: &str) -> Option<Self> {
        let text = text.trim().trim_start_matches('#');
        if text.chars().count() != LEN {
            return None;
        }
        let id: String = text
            .chars()
            .map(|c| match c.to_ascii_uppercase() {
                'O' => '0',
                'I' | 'L' => '1',
                c => c,
            })
            .collect();
        let valid = id.bytes().all(|b| ALPHABET.contains(&b))
            && id.bytes().any(|b| b.is_ascii_digit())
            && id.bytes().any(|b| b.is_ascii_alphabetic());
        valid.then_some(JobId(id))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for JobId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_ids_parse_back_to_themselves() {
        for _ in 0..1000 {
            let id = JobId::generate();
            assert_eq!(JobId::parse(id.as_str()), Some(id.clone()));
            assert_eq!(
                JobId::parse(&format!("#{}", id.as_str().to_lowercase())),
                Some(id)
            );
        }
    }

    #[test]
    fn ordinary_words_are_not_ids() {
        for word in [
            "sunshine",
            "12345678",
            "ABCDEFGH",
            "cat",
            "7QK3M2XD9",
            "7QK3-2XD",
        ] {
            assert_eq!(JobId::parse(word), None, "{word}");
        }
        assert_eq!(
            JobId::parse("7qk3m2xd").map(|i| i.to_string()),
            Some("7QK3M2XD".into())
        );
    }
}
