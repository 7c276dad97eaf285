//! Random passwords that pass AD's complexity rule, from an injected random source.

use rand::Rng;
use rand::seq::SliceRandom;

use crate::secrets::Secret;

const LOWER: &[u8] = b"abcdefghijkmnopqrstuvwxyz";
const UPPER: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ";
const DIGITS: &[u8] = b"23456789";
// No quotes, backslash, space or shell metacharacters: the lab's password files are meant to be
// pasted into prompts and `$(cat …)` without surprises.
const SYMBOLS: &[u8] = b"!#%+,-.:=@^_~";

/// A password of `len` characters (at least 8) with characters from all four ASCII categories,
/// so it satisfies Windows' complexity rule and any length policy up to `len`. It contains no
/// 3-character run of any name only by chance (1 in millions for typical names); callers that
/// must be sure check it with the policy tester.
pub fn generate(rng: &mut impl Rng, len: usize) -> Secret {
    let len = len.max(8);
    let classes = [LOWER, UPPER, DIGITS, SYMBOLS];
    let mut chars: Vec<u8> = classes.iter().map(|set| set[rng.random_range(0..set.len())]).collect();
    let all: Vec<u8> = classes.concat();
    while chars.len() < len {
        chars.push(all[rng.random_range(0..all.len())]);
    }
    chars.shuffle(rng);
    Secret::new(String::from_utf8_lossy(&chars).into_owned())
}

/// A password from the operating system's random source.
pub fn generate_os(len: usize) -> Secret {
    generate(&mut rand::rng(), len)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn every_class_is_present_and_length_holds() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(7);
        for len in [1usize, 8, 14, 24, 64] {
            for _ in 0..200 {
                let p = generate(&mut rng, len);
                let s = p.expose();
                assert_eq!(s.len(), len.max(8));
                assert!(s.bytes().any(|b| b.is_ascii_lowercase()), "{s}");
                assert!(s.bytes().any(|b| b.is_ascii_uppercase()), "{s}");
                assert!(s.bytes().any(|b| b.is_ascii_digit()), "{s}");
                assert!(s.bytes().any(|b| SYMBOLS.contains(&b)), "{s}");
            }
        }
    }

    #[test]
    fn same_seed_same_password_other_seed_other_password() {
        let a = generate(&mut rand::rngs::StdRng::seed_from_u64(1), 20);
        let b = generate(&mut rand::rngs::StdRng::seed_from_u64(1), 20);
        let c = generate(&mut rand::rngs::StdRng::seed_from_u64(2), 20);
        assert_eq!(a, b);
        assert_ne!(a, c);
    }
}
