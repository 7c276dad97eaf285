//! Windows security descriptors: the self-relative binary form AD stores in
//! `nTSecurityDescriptor`, and SDDL, both exact.
//!
//! Pure code (std, `uuid`, `thiserror` only), no I/O: the fuzz targets compile this module on its
//! own. docs/security-descriptors.md explains the format and why the codec is our own.
//!
//! Decoding keeps everything needed to write the same bytes back: the order the parts stood in,
//! any gap between them, padding inside ACEs, slack at the end of ACLs, reserved fields, and
//! unknown ACE types byte for byte. So `encode(decode(x)) == x` for every descriptor a DC returns,
//! and a change to the DACL changes only the DACL's bytes (and the offsets after it).

pub mod ace;
pub mod private;
pub mod sddl;
pub mod sid;

pub use ace::{Ace, AceBody, Acl};
pub use sddl::SidContext;
pub use sid::Sid;

/// SE_OWNER_DEFAULTED.
pub const SE_OWNER_DEFAULTED: u16 = 0x0001;
/// SE_GROUP_DEFAULTED.
pub const SE_GROUP_DEFAULTED: u16 = 0x0002;
/// SE_DACL_PRESENT.
pub const SE_DACL_PRESENT: u16 = 0x0004;
/// SE_DACL_DEFAULTED.
pub const SE_DACL_DEFAULTED: u16 = 0x0008;
/// SE_SACL_PRESENT.
pub const SE_SACL_PRESENT: u16 = 0x0010;
/// SE_SACL_DEFAULTED.
pub const SE_SACL_DEFAULTED: u16 = 0x0020;
/// SE_DACL_AUTO_INHERIT_REQ.
pub const SE_DACL_AUTO_INHERIT_REQ: u16 = 0x0100;
/// SE_SACL_AUTO_INHERIT_REQ.
pub const SE_SACL_AUTO_INHERIT_REQ: u16 = 0x0200;
/// SE_DACL_AUTO_INHERITED.
pub const SE_DACL_AUTO_INHERITED: u16 = 0x0400;
/// SE_SACL_AUTO_INHERITED.
pub const SE_SACL_AUTO_INHERITED: u16 = 0x0800;
/// SE_DACL_PROTECTED: the DACL blocks inheritance.
pub const SE_DACL_PROTECTED: u16 = 0x1000;
/// SE_SACL_PROTECTED.
pub const SE_SACL_PROTECTED: u16 = 0x2000;
/// SE_RM_CONTROL_VALID.
pub const SE_RM_CONTROL_VALID: u16 = 0x4000;
/// SE_SELF_RELATIVE: always set in the stored form.
pub const SE_SELF_RELATIVE: u16 = 0x8000;

const HEADER_LEN: usize = 20;

/// Why bytes or text are not a security descriptor.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SdError {
    /// The bytes end before a part does.
    #[error("the security descriptor is truncated: the {what} at byte {offset} runs past the end")]
    Truncated {
        what: &'static str,
        /// Where it starts.
        offset: usize,
    },
    /// An ACE size that is not a multiple of 4 or too small.
    #[error("an ACE at byte {offset} declares size {size}, which is not a positive multiple of 4")]
    BadAceSize {
        /// The size read.
        size: usize,
        /// Where the ACE starts.
        offset: usize,
    },
    /// An ACL smaller than its header.
    #[error("an ACL at byte {offset} declares size {size}, smaller than its header")]
    BadAclSize {
        /// The size read.
        size: usize,
        /// Where the ACL starts.
        offset: usize,
    },
    /// Two parts share bytes, or a part starts inside the header.
    #[error("the {what} at byte {offset} overlaps another part of the security descriptor")]
    Overlap { what: &'static str, offset: usize },
    /// Not a SID.
    #[error("'{text}' is not a SID")]
    BadSid {
        /// The text, shortened.
        text: String,
    },
    /// SDDL that cannot be parsed.
    #[error("SDDL error at character {position}: {message}")]
    Sddl {
        /// Character index.
        position: usize,
        /// What was expected.
        message: String,
    },
}

/// Which part of a descriptor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Part {
    Owner,
    Group,
    Sacl,
    Dacl,
}

/// Where the parts stood in the bytes read: their order, the gap before each, and trailing bytes.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
struct Layout {
    order: Vec<(Part, Vec<u8>)>,
    trailing: Vec<u8>,
}

/// A security descriptor.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SecurityDescriptor {
    /// Always 1 in practice; kept as read.
    pub revision: u8,
    /// The resource-manager control byte (Sbz1), kept as read.
    pub sbz1: u8,
    /// Control flags (SE_*).
    pub control: u16,
    /// Owner SID.
    pub owner: Option<Sid>,
    /// Primary group SID.
    pub group: Option<Sid>,
    /// System ACL (auditing).
    pub sacl: Option<Acl>,
    /// Discretionary ACL (access).
    pub dacl: Option<Acl>,
    layout: Layout,
}

impl SecurityDescriptor {
    /// An empty self-relative descriptor.
    pub fn new() -> SecurityDescriptor {
        SecurityDescriptor {
            revision: 1,
            sbz1: 0,
            control: SE_SELF_RELATIVE,
            owner: None,
            group: None,
            sacl: None,
            dacl: None,
            layout: Layout::default(),
        }
    }

    /// Decodes the self-relative binary form.
    pub fn decode(bytes: &[u8]) -> Result<SecurityDescriptor, SdError> {
        let h = bytes.get(..HEADER_LEN).ok_or(SdError::Truncated { what: "header", offset: 0 })?;
        let revision = h[0];
        let sbz1 = h[1];
        let control = u16::from_le_bytes([h[2], h[3]]);
        let offset = |i: usize| u32::from_le_bytes([h[4 + 4 * i], h[5 + 4 * i], h[6 + 4 * i], h[7 + 4 * i]]) as usize;
        let mut parts: Vec<(Part, usize)> =
            [(Part::Owner, offset(0)), (Part::Group, offset(1)), (Part::Sacl, offset(2)), (Part::Dacl, offset(3))]
                .into_iter()
                .filter(|(_, o)| *o != 0)
                .collect();
        parts.sort_by_key(|(_, o)| *o);
        let mut sd = SecurityDescriptor {
            revision,
            sbz1,
            control,
            owner: None,
            group: None,
            sacl: None,
            dacl: None,
            layout: Layout::default(),
        };
        let mut pos = HEADER_LEN;
        for (part, at) in parts {
            let what = match part {
                Part::Owner => "owner SID",
                Part::Group => "group SID",
                Part::Sacl => "SACL",
                Part::Dacl => "DACL",
            };
            if at < pos {
                return Err(SdError::Overlap { what, offset: at });
            }
            let gap = bytes.get(pos..at).ok_or(SdError::Truncated { what, offset: at })?.to_vec();
            let len = match part {
                Part::Owner | Part::Group => {
                    let (sid, n) = Sid::decode(bytes, at)?;
                    if part == Part::Owner {
                        sd.owner = Some(sid)
                    } else {
                        sd.group = Some(sid)
                    }
                    n
                }
                Part::Sacl | Part::Dacl => {
                    let (acl, n) = Acl::decode(bytes, at)?;
                    if part == Part::Sacl {
                        sd.sacl = Some(acl)
                    } else {
                        sd.dacl = Some(acl)
                    }
                    n
                }
            };
            sd.layout.order.push((part, gap));
            pos = at + len;
        }
        sd.layout.trailing = bytes.get(pos..).map(<[u8]>::to_vec).unwrap_or_default();
        Ok(sd)
    }

    /// Encodes the self-relative binary form: the parts in the order they were read (owner,
    /// group, SACL, DACL for a new descriptor), with the gaps that stood between them.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(256);
        out.extend_from_slice(&[self.revision, self.sbz1]);
        out.extend_from_slice(&self.control.to_le_bytes());
        out.extend_from_slice(&[0u8; 16]);
        let mut order: Vec<(Part, &[u8])> = self.layout.order.iter().map(|(p, g)| (*p, g.as_slice())).collect();
        for p in [Part::Owner, Part::Group, Part::Sacl, Part::Dacl] {
            if !order.iter().any(|(q, _)| *q == p) {
                order.push((p, &[]));
            }
        }
        for (part, gap) in order {
            let present = match part {
                Part::Owner => self.owner.is_some(),
                Part::Group => self.group.is_some(),
                Part::Sacl => self.sacl.is_some(),
                Part::Dacl => self.dacl.is_some(),
            };
            if !present {
                continue;
            }
            out.extend_from_slice(gap);
            let offset = u32::try_from(out.len()).unwrap_or(u32::MAX);
            let slot = 4 + 4 * match part {
                Part::Owner => 0,
                Part::Group => 1,
                Part::Sacl => 2,
                Part::Dacl => 3,
            };
            out[slot..slot + 4].copy_from_slice(&offset.to_le_bytes());
            match part {
                Part::Owner => self.owner.iter().for_each(|s| s.encode(&mut out)),
                Part::Group => self.group.iter().for_each(|s| s.encode(&mut out)),
                Part::Sacl => self.sacl.iter().for_each(|a| a.encode(&mut out)),
                Part::Dacl => self.dacl.iter().for_each(|a| a.encode(&mut out)),
            }
        }
        out.extend_from_slice(&self.layout.trailing);
        out
    }

    /// Whether the DACL blocks inheritance (SE_DACL_PROTECTED).
    pub fn dacl_protected(&self) -> bool {
        self.control & SE_DACL_PROTECTED != 0
    }

    /// Renders SDDL (`O:…G:…D:…S:…`), with aliases resolved against `ctx`.
    pub fn to_sddl(&self, ctx: &SidContext) -> String {
        sddl::render(self, ctx)
    }

    /// Parses SDDL. The result has the canonical layout (owner, group, SACL, DACL).
    pub fn from_sddl(text: &str, ctx: &SidContext) -> Result<SecurityDescriptor, SdError> {
        sddl::parse(text, ctx)
    }

    /// Same content, ignoring where the parts stood in the bytes.
    pub fn same_content(&self, other: &SecurityDescriptor) -> bool {
        self.revision == other.revision
            && self.control == other.control
            && self.owner == other.owner
            && self.group == other.group
            && self.sacl == other.sacl
            && self.dacl == other.dacl
    }
}

impl Default for SecurityDescriptor {
    fn default() -> Self {
        SecurityDescriptor::new()
    }
}

#[cfg(test)]
mod tests;
