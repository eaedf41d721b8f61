//! Secrets and codes, drawn from the operating system's cryptographic source.

use beatbook_core::code;

pub fn random_bytes<const N: usize>() -> [u8; N] {
    let mut bytes = [0u8; N];
    getrandom::fill(&mut bytes).expect("the operating system provides randomness");
    bytes
}

/// A new code such as `K7QF2-M3XDA` (see `beatbook_core::code`).
pub fn new_code() -> String {
    let mut pool = random_bytes::<32>().into_iter();
    code::generate(|| {
        pool.next().unwrap_or_else(|| {
            pool = random_bytes::<32>().into_iter();
            pool.next().unwrap_or(0)
        })
    })
}

/// A device token: 32 random bytes as hex.
pub fn new_token() -> String {
    hex(&random_bytes::<32>())
}

/// Bytes as lower-case hex.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_readable_and_compared_loosely() {
        let made = new_code();
        assert_eq!(made.len(), 11);
        assert!(made
            .chars()
            .all(|c| c == '-' || code::ALPHABET.contains(&(c as u8))));
        assert_eq!(
            code::normalise(&made.to_lowercase().replace('-', " ")).as_deref(),
            Some(made.as_str())
        );
        assert_eq!(new_token().len(), 64);
        assert_ne!(new_token(), new_token());
    }
}
