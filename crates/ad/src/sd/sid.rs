//! Security identifiers: binary form (MS-DTYP 2.4.2.2) and the `S-1-…` string form.

use std::fmt;

use super::SdError;

/// A SID: revision, 48-bit identifier authority, up to 255 sub-authorities.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Sid {
    /// Always 1 in practice; kept as read.
    pub revision: u8,
    /// The identifier authority (48 bits, big-endian on the wire).
    pub authority: u64,
    /// Sub-authorities (little-endian on the wire); the last is the RID for account SIDs.
    pub sub_authorities: Vec<u32>,
}

impl Sid {
    /// A revision-1 SID.
    pub fn new(authority: u64, sub_authorities: Vec<u32>) -> Sid {
        Sid { revision: 1, authority, sub_authorities }
    }

    /// Length in bytes of the binary form.
    pub fn len(&self) -> usize {
        8 + 4 * self.sub_authorities.len()
    }

    /// Never empty: a SID has at least its 8-byte header.
    pub fn is_empty(&self) -> bool {
        false
    }

    /// Reads a SID at the start of `buf`; returns it and its length.
    pub fn decode(buf: &[u8], at: usize) -> Result<(Sid, usize), SdError> {
        let header = buf.get(at..at + 8).ok_or(SdError::Truncated { what: "SID", offset: at })?;
        let revision = header[0];
        let count = usize::from(header[1]);
        let mut authority = 0u64;
        for b in &header[2..8] {
            authority = (authority << 8) | u64::from(*b);
        }
        let subs = buf
            .get(at + 8..at + 8 + 4 * count)
            .ok_or(SdError::Truncated { what: "SID sub-authorities", offset: at })?;
        let sub_authorities = subs.chunks_exact(4).map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect();
        Ok((Sid { revision, authority, sub_authorities }, 8 + 4 * count))
    }

    /// Appends the binary form. More than 255 sub-authorities cannot be written; callers build
    /// SIDs by parsing, which refuses them.
    pub fn encode(&self, out: &mut Vec<u8>) {
        out.push(self.revision);
        out.push(u8::try_from(self.sub_authorities.len()).unwrap_or(u8::MAX));
        out.extend_from_slice(&self.authority.to_be_bytes()[2..8]);
        for s in self.sub_authorities.iter().take(255) {
            out.extend_from_slice(&s.to_le_bytes());
        }
    }

    /// The binary form.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut v = Vec::with_capacity(self.len());
        self.encode(&mut v);
        v
    }

    /// Parses `S-1-5-21-…` (the authority in decimal, or hex with 0x as Windows allows).
    pub fn parse(text: &str) -> Result<Sid, SdError> {
        let bad = || SdError::BadSid { text: text.chars().take(80).collect() };
        let rest = text.strip_prefix("S-").or_else(|| text.strip_prefix("s-")).ok_or_else(bad)?;
        let mut parts = rest.split('-');
        let revision: u8 = parts.next().and_then(|p| p.parse().ok()).ok_or_else(bad)?;
        let auth_text = parts.next().ok_or_else(bad)?;
        let authority = match auth_text.strip_prefix("0x").or_else(|| auth_text.strip_prefix("0X")) {
            Some(hex) => u64::from_str_radix(hex, 16).map_err(|_| bad())?,
            None => auth_text.parse::<u64>().map_err(|_| bad())?,
        };
        if authority >= 1 << 48 {
            return Err(bad());
        }
        let mut sub_authorities = Vec::new();
        for p in parts {
            if p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()) {
                return Err(bad());
            }
            sub_authorities.push(p.parse::<u32>().map_err(|_| bad())?);
            if sub_authorities.len() > 15 {
                // MS-DTYP: at most 15 sub-authorities.
                return Err(bad());
            }
        }
        Ok(Sid { revision, authority, sub_authorities })
    }

    /// The last sub-authority (the RID of an account), when there are at least two.
    pub fn rid(&self) -> Option<u32> {
        if self.sub_authorities.len() > 1 { self.sub_authorities.last().copied() } else { None }
    }

    /// `domain` followed by `rid`.
    pub fn with_rid(domain: &Sid, rid: u32) -> Sid {
        let mut s = domain.clone();
        s.sub_authorities.push(rid);
        s
    }

    /// Whether this SID is `domain` plus one more sub-authority.
    pub fn is_in_domain(&self, domain: &Sid) -> bool {
        self.revision == domain.revision
            && self.authority == domain.authority
            && self.sub_authorities.len() == domain.sub_authorities.len() + 1
            && self.sub_authorities.starts_with(&domain.sub_authorities)
    }
}

impl fmt::Display for Sid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Windows writes authorities of 2^32 and above in hex.
        if self.authority >= 1 << 32 {
            write!(f, "S-{}-0x{:012X}", self.revision, self.authority)?;
        } else {
            write!(f, "S-{}-{}", self.revision, self.authority)?;
        }
        for s in &self.sub_authorities {
            write!(f, "-{s}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn binary_and_text_round_trip() {
        let s = Sid::parse("S-1-5-21-1671423763-2276532626-3852812502-1105").unwrap();
        assert_eq!(s.to_string(), "S-1-5-21-1671423763-2276532626-3852812502-1105");
        let bytes = s.to_bytes();
        assert_eq!(bytes.len(), s.len());
        assert_eq!(&bytes[..8], &[1, 5, 0, 0, 0, 0, 0, 5]);
        let (back, n) = Sid::decode(&bytes, 0).unwrap();
        assert_eq!((back, n), (s.clone(), 28));
        assert_eq!(s.rid(), Some(1105));
        let domain = Sid::parse("S-1-5-21-1671423763-2276532626-3852812502").unwrap();
        assert!(s.is_in_domain(&domain));
        assert!(!domain.is_in_domain(&domain));
        assert_eq!(Sid::with_rid(&domain, 1105), s);
    }

    #[test]
    fn bad_text_and_truncated_bytes_are_errors() {
        for t in [
            "",
            "S-",
            "S-1",
            "X-1-5",
            "S-1-5-",
            "S-1-5-x",
            "S-1-281474976710656-1",
            "S-1-5-1-2-3-4-5-6-7-8-9-10-11-12-13-14-15-16",
        ] {
            assert!(Sid::parse(t).is_err(), "{t}");
        }
        assert!(Sid::decode(&[1, 2, 0, 0, 0, 0, 0, 5, 1, 0, 0, 0], 0).is_err());
        assert_eq!(Sid::parse("S-1-0x10000000000-5").unwrap().to_string(), "S-1-0x010000000000-5");
    }
}
