//! Short codes people read aloud and type on phones: pairing codes and the
//! reference codes residents get for their reports.
//!
//! Ten characters from 31 (no 0/O or 1/I/L), shown as `K7QF2-M3XDA`: about
//! 49.5 bits, drawn without bias from a cryptographic source, so a code cannot
//! be guessed, and is not a sequence number.

/// The characters a code is made of.
pub const ALPHABET: &[u8] = b"ABCDEFGHJKMNPQRSTUVWXYZ23456789";
/// Characters in a code, not counting the dash.
pub const LENGTH: usize = 10;

/// A new code from a source of random bytes. Bytes at or above the largest
/// multiple of the alphabet's size are skipped, so every character is equally
/// likely.
pub fn generate(mut random_byte: impl FnMut() -> u8) -> String {
    let limit = (256 / ALPHABET.len() * ALPHABET.len()) as u8;
    let mut code = String::with_capacity(LENGTH + 1);
    while code.len() < LENGTH + 1 {
        if code.len() == LENGTH / 2 {
            code.push('-');
        }
        let byte = random_byte();
        if byte < limit {
            code.push(ALPHABET[usize::from(byte) % ALPHABET.len()] as char);
        }
    }
    code
}

/// A typed code in its canonical form, or `None` if it cannot be one. Case,
/// spaces and dashes do not matter.
pub fn normalise(typed: &str) -> Option<String> {
    let plain: Vec<u8> = typed
        .bytes()
        .filter(|b| !matches!(b, b' ' | b'-' | b'\t'))
        .map(|b| b.to_ascii_uppercase())
        .collect();
    if plain.len() != LENGTH || !plain.iter().all(|b| ALPHABET.contains(b)) {
        return None;
    }
    let plain = String::from_utf8(plain).ok()?;
    Some(format!("{}-{}", &plain[..LENGTH / 2], &plain[LENGTH / 2..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_have_the_readable_shape_and_skip_biased_bytes() {
        let mut bytes = [255u8, 254, 248, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 30].into_iter();
        let code = generate(|| bytes.next().unwrap());
        assert_eq!(code, "ABCDE-FGHJK", "255, 254 and 248 are skipped");
        assert_eq!(bytes.next(), Some(30), "nothing more was drawn");
    }

    #[test]
    fn every_character_is_equally_likely() {
        let mut counts = [0u32; 31];
        let mut n = 0u8;
        for _ in 0..248 {
            let code = generate(|| {
                n = n.wrapping_add(1);
                n
            });
            for c in code.bytes().filter(|b| *b != b'-') {
                counts[ALPHABET.iter().position(|a| *a == c).unwrap()] += 1;
            }
        }
        let (min, max) = (counts.iter().min().unwrap(), counts.iter().max().unwrap());
        assert!(max - min <= 1, "{counts:?}");
    }

    #[test]
    fn typed_codes_are_read_loosely_but_not_wrongly() {
        assert_eq!(normalise("k7qf2 m3xda").as_deref(), Some("K7QF2-M3XDA"));
        assert_eq!(normalise("K7QF2-M3XDA").as_deref(), Some("K7QF2-M3XDA"));
        assert_eq!(normalise("K7QF2-M3XD"), None, "too short");
        assert_eq!(normalise("K7QF2-M3XD0"), None, "0 is not in the alphabet");
        assert_eq!(normalise("K7QF2-M3XDÄ"), None);
        assert_eq!(normalise(""), None);
    }
}
