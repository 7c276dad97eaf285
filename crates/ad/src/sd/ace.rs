//! ACEs and ACLs: binary form (MS-DTYP 2.4.4, 2.4.5), and the operations the engine needs.

use uuid::Uuid;

use super::SdError;
use super::sid::Sid;

/// ACCESS_ALLOWED_ACE_TYPE.
pub const ACCESS_ALLOWED: u8 = 0x00;
/// ACCESS_DENIED_ACE_TYPE.
pub const ACCESS_DENIED: u8 = 0x01;
/// SYSTEM_AUDIT_ACE_TYPE.
pub const SYSTEM_AUDIT: u8 = 0x02;
/// SYSTEM_ALARM_ACE_TYPE.
pub const SYSTEM_ALARM: u8 = 0x03;
/// ACCESS_ALLOWED_OBJECT_ACE_TYPE.
pub const ACCESS_ALLOWED_OBJECT: u8 = 0x05;
/// ACCESS_DENIED_OBJECT_ACE_TYPE.
pub const ACCESS_DENIED_OBJECT: u8 = 0x06;
/// SYSTEM_AUDIT_OBJECT_ACE_TYPE.
pub const SYSTEM_AUDIT_OBJECT: u8 = 0x07;
/// SYSTEM_ALARM_OBJECT_ACE_TYPE.
pub const SYSTEM_ALARM_OBJECT: u8 = 0x08;

/// OBJECT_INHERIT_ACE.
pub const OBJECT_INHERIT: u8 = 0x01;
/// CONTAINER_INHERIT_ACE.
pub const CONTAINER_INHERIT: u8 = 0x02;
/// NO_PROPAGATE_INHERIT_ACE.
pub const NO_PROPAGATE_INHERIT: u8 = 0x04;
/// INHERIT_ONLY_ACE.
pub const INHERIT_ONLY: u8 = 0x08;
/// INHERITED_ACE: a copy the DC made from a parent's inheritable ACE.
pub const INHERITED: u8 = 0x10;
/// SUCCESSFUL_ACCESS_ACE_FLAG (audit).
pub const SUCCESSFUL_ACCESS: u8 = 0x40;
/// FAILED_ACCESS_ACE_FLAG (audit).
pub const FAILED_ACCESS: u8 = 0x80;

/// ACE_OBJECT_TYPE_PRESENT.
pub const OBJECT_TYPE_PRESENT: u32 = 0x1;
/// ACE_INHERITED_OBJECT_TYPE_PRESENT.
pub const INHERITED_OBJECT_TYPE_PRESENT: u32 = 0x2;

/// ADS_RIGHT_DS_CONTROL_ACCESS: an extended right (the object type names which).
pub const RIGHT_CONTROL_ACCESS: u32 = 0x0000_0100;
/// ADS_RIGHT_DS_WRITE_PROP: write a property (the object type names which).
pub const RIGHT_WRITE_PROPERTY: u32 = 0x0000_0020;
/// ADS_RIGHT_DS_READ_PROP.
pub const RIGHT_READ_PROPERTY: u32 = 0x0000_0010;

/// What follows the 4-byte ACE header.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum AceBody {
    /// Types 0–3: mask and SID.
    Basic {
        /// Access mask.
        mask: u32,
        sid: Sid,
        /// Bytes after the SID up to the ACE size (padding or application data), kept verbatim.
        extra: Vec<u8>,
    },
    /// Types 5–8: mask, object flags, optional GUIDs, SID.
    Object {
        /// Access mask.
        mask: u32,
        /// The object flags as read (bits 0 and 1 say which GUIDs follow).
        object_flags: u32,
        /// The right, property or property set (ACE_OBJECT_TYPE_PRESENT).
        object_type: Option<Uuid>,
        /// The object class the ACE is inherited to (ACE_INHERITED_OBJECT_TYPE_PRESENT).
        inherited_object_type: Option<Uuid>,
        sid: Sid,
        /// Bytes after the SID up to the ACE size, kept verbatim.
        extra: Vec<u8>,
    },
    /// Any other type (callback, conditional, mandatory label, resource attribute, …): the bytes
    /// after the header, kept byte for byte.
    Raw(Vec<u8>),
}

/// One access control entry.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Ace {
    /// The ACE type.
    pub ace_type: u8,
    /// Inheritance and audit flags.
    pub flags: u8,
    /// Type-specific content.
    pub body: AceBody,
}

fn guid_at(buf: &[u8], at: usize) -> Result<Uuid, SdError> {
    let b = buf.get(at..at + 16).ok_or(SdError::Truncated { what: "ACE object GUID", offset: at })?;
    let mut arr = [0u8; 16];
    arr.copy_from_slice(b);
    // AD stores GUIDs as Data1, Data2, Data3 little-endian, Data4 as bytes.
    Ok(Uuid::from_bytes_le(arr))
}

fn u32_at(buf: &[u8], at: usize, what: &'static str) -> Result<u32, SdError> {
    let b = buf.get(at..at + 4).ok_or(SdError::Truncated { what, offset: at })?;
    Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
}

/// Whether `ace_type` is one of the object ACE types (5–8).
pub fn is_object_type(ace_type: u8) -> bool {
    (ACCESS_ALLOWED_OBJECT..=SYSTEM_ALARM_OBJECT).contains(&ace_type)
}

impl Ace {
    /// An allow ACE for an extended right or property on objects of one class (an object ACE).
    pub fn object_allow(
        flags: u8,
        mask: u32,
        object_type: Option<Uuid>,
        inherited_object_type: Option<Uuid>,
        sid: Sid,
    ) -> Ace {
        let object_flags = u32::from(object_type.is_some()) * OBJECT_TYPE_PRESENT
            + u32::from(inherited_object_type.is_some()) * INHERITED_OBJECT_TYPE_PRESENT;
        Ace {
            ace_type: ACCESS_ALLOWED_OBJECT,
            flags,
            body: AceBody::Object { mask, object_flags, object_type, inherited_object_type, sid, extra: Vec::new() },
        }
    }

    /// Reads the ACE at `at`; returns it and its size.
    pub fn decode(buf: &[u8], at: usize) -> Result<(Ace, usize), SdError> {
        let header = buf.get(at..at + 4).ok_or(SdError::Truncated { what: "ACE header", offset: at })?;
        let ace_type = header[0];
        let flags = header[1];
        let size = usize::from(u16::from_le_bytes([header[2], header[3]]));
        if size < 4 || !size.is_multiple_of(4) {
            return Err(SdError::BadAceSize { size, offset: at });
        }
        let end = at + size;
        let ace_bytes = buf.get(..end).ok_or(SdError::Truncated { what: "ACE", offset: at })?;
        let body = match ace_type {
            ACCESS_ALLOWED..=SYSTEM_ALARM => {
                let mask = u32_at(ace_bytes, at + 4, "ACE mask")?;
                let (sid, n) = Sid::decode(ace_bytes, at + 8)?;
                AceBody::Basic { mask, sid, extra: ace_bytes[at + 8 + n..end].to_vec() }
            }
            t if is_object_type(t) => {
                let mask = u32_at(ace_bytes, at + 4, "ACE mask")?;
                let object_flags = u32_at(ace_bytes, at + 8, "ACE object flags")?;
                let mut pos = at + 12;
                let object_type = if object_flags & OBJECT_TYPE_PRESENT != 0 {
                    let g = guid_at(ace_bytes, pos)?;
                    pos += 16;
                    Some(g)
                } else {
                    None
                };
                let inherited_object_type = if object_flags & INHERITED_OBJECT_TYPE_PRESENT != 0 {
                    let g = guid_at(ace_bytes, pos)?;
                    pos += 16;
                    Some(g)
                } else {
                    None
                };
                let (sid, n) = Sid::decode(ace_bytes, pos)?;
                AceBody::Object {
                    mask,
                    object_flags,
                    object_type,
                    inherited_object_type,
                    sid,
                    extra: ace_bytes[pos + n..end].to_vec(),
                }
            }
            _ => AceBody::Raw(ace_bytes[at + 4..end].to_vec()),
        };
        Ok((Ace { ace_type, flags, body }, size))
    }

    /// Appends the binary form. The size field covers everything written, `extra` included.
    pub fn encode(&self, out: &mut Vec<u8>) {
        let start = out.len();
        out.extend_from_slice(&[self.ace_type, self.flags, 0, 0]);
        match &self.body {
            AceBody::Basic { mask, sid, extra } => {
                out.extend_from_slice(&mask.to_le_bytes());
                sid.encode(out);
                out.extend_from_slice(extra);
            }
            AceBody::Object { mask, object_flags, object_type, inherited_object_type, sid, extra } => {
                out.extend_from_slice(&mask.to_le_bytes());
                out.extend_from_slice(&object_flags.to_le_bytes());
                for g in [object_type, inherited_object_type].into_iter().flatten() {
                    out.extend_from_slice(&g.to_bytes_le());
                }
                sid.encode(out);
                out.extend_from_slice(extra);
            }
            AceBody::Raw(bytes) => out.extend_from_slice(bytes),
        }
        // Pad to a multiple of 4, as the size must be (only ever needed for ACEs built here).
        while !(out.len() - start).is_multiple_of(4) {
            out.push(0);
        }
        let size = u16::try_from(out.len() - start).unwrap_or(u16::MAX);
        out[start + 2..start + 4].copy_from_slice(&size.to_le_bytes());
    }

    /// The trustee, for the types that have one.
    pub fn sid(&self) -> Option<&Sid> {
        match &self.body {
            AceBody::Basic { sid, .. } | AceBody::Object { sid, .. } => Some(sid),
            AceBody::Raw(_) => None,
        }
    }

    /// The access mask, for the types that have one.
    pub fn mask(&self) -> Option<u32> {
        match &self.body {
            AceBody::Basic { mask, .. } | AceBody::Object { mask, .. } => Some(*mask),
            AceBody::Raw(_) => None,
        }
    }

    /// Object type and inherited object type (both `None` for non-object ACEs).
    pub fn object_types(&self) -> (Option<Uuid>, Option<Uuid>) {
        match &self.body {
            AceBody::Object { object_type, inherited_object_type, .. } => (*object_type, *inherited_object_type),
            _ => (None, None),
        }
    }

    /// Copied from a parent by the DC (INHERITED_ACE).
    pub fn is_inherited(&self) -> bool {
        self.flags & INHERITED != 0
    }

    /// An explicit or inherited deny ACE.
    pub fn is_deny(&self) -> bool {
        matches!(self.ace_type, ACCESS_DENIED | ACCESS_DENIED_OBJECT)
    }

    /// Same meaning: type, trustee, mask, object types and flags equal, ignoring INHERITED_ACE
    /// and any padding. An inherited copy of an ACE means the same as the ACE.
    pub fn same_meaning(&self, other: &Ace) -> bool {
        self.ace_type == other.ace_type
            && (self.flags & !INHERITED) == (other.flags & !INHERITED)
            && self.sid() == other.sid()
            && self.mask() == other.mask()
            && self.object_types() == other.object_types()
            && match (&self.body, &other.body) {
                (AceBody::Raw(a), AceBody::Raw(b)) => a == b,
                (AceBody::Raw(_), _) | (_, AceBody::Raw(_)) => false,
                _ => true,
            }
    }
}

/// ACL_REVISION: only basic ACE types.
pub const ACL_REVISION: u8 = 2;
/// ACL_REVISION_DS: object ACEs allowed.
pub const ACL_REVISION_DS: u8 = 4;

/// An access control list.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Acl {
    /// 2, or 4 when it may hold object ACEs.
    pub revision: u8,
    /// Reserved byte after the revision, kept as read.
    pub sbz1: u8,
    /// Reserved word at the end of the header, kept as read.
    pub sbz2: u16,
    /// The ACEs in order.
    pub aces: Vec<Ace>,
    /// Bytes between the last ACE and the declared ACL size, kept verbatim.
    pub slack: Vec<u8>,
}

impl Acl {
    /// An empty ACL of the given revision.
    pub fn new(revision: u8) -> Acl {
        Acl { revision, sbz1: 0, sbz2: 0, aces: Vec::new(), slack: Vec::new() }
    }

    /// Reads the ACL at `at`; returns it and its declared size.
    pub fn decode(buf: &[u8], at: usize) -> Result<(Acl, usize), SdError> {
        let h = buf.get(at..at + 8).ok_or(SdError::Truncated { what: "ACL header", offset: at })?;
        let revision = h[0];
        let sbz1 = h[1];
        let size = usize::from(u16::from_le_bytes([h[2], h[3]]));
        let count = usize::from(u16::from_le_bytes([h[4], h[5]]));
        let sbz2 = u16::from_le_bytes([h[6], h[7]]);
        if size < 8 {
            return Err(SdError::BadAclSize { size, offset: at });
        }
        let acl_bytes = buf.get(..at + size).ok_or(SdError::Truncated { what: "ACL", offset: at })?;
        // Each ACE is at least 8 bytes here: no count can make us allocate beyond the input.
        let mut aces = Vec::with_capacity(count.min((size - 8) / 8));
        let mut pos = at + 8;
        for _ in 0..count {
            let (ace, n) = Ace::decode(acl_bytes, pos)?;
            aces.push(ace);
            pos += n;
        }
        let slack = acl_bytes[pos..].to_vec();
        Ok((Acl { revision, sbz1, sbz2, aces, slack }, size))
    }

    /// Appends the binary form.
    pub fn encode(&self, out: &mut Vec<u8>) {
        let start = out.len();
        out.extend_from_slice(&[self.revision, self.sbz1, 0, 0]);
        let count = u16::try_from(self.aces.len()).unwrap_or(u16::MAX);
        out.extend_from_slice(&count.to_le_bytes());
        out.extend_from_slice(&self.sbz2.to_le_bytes());
        for ace in self.aces.iter().take(usize::from(u16::MAX)) {
            ace.encode(out);
        }
        out.extend_from_slice(&self.slack);
        let size = u16::try_from(out.len() - start).unwrap_or(u16::MAX);
        out[start + 2..start + 4].copy_from_slice(&size.to_le_bytes());
    }

    /// Whether an explicit (not inherited) ACE with the same meaning is present.
    pub fn contains_explicit(&self, wanted: &Ace) -> bool {
        self.aces.iter().any(|a| !a.is_inherited() && a.same_meaning(wanted))
    }

    /// Whether any ACE, explicit or inherited, has the same meaning.
    pub fn contains(&self, wanted: &Ace) -> bool {
        self.aces.iter().any(|a| a.same_meaning(wanted))
    }

    /// Inserts an explicit ACE where the canonical order puts it (explicit deny, explicit allow,
    /// inherited), keeping the order of what is there: a deny goes after the explicit denies
    /// that lead the list, anything else before the first inherited ACE. Raises the revision to
    /// ACL_REVISION_DS for an object ACE. Returns the index used.
    pub fn insert_canonical(&mut self, ace: Ace) -> usize {
        if is_object_type(ace.ace_type) && self.revision < ACL_REVISION_DS {
            self.revision = ACL_REVISION_DS;
        }
        let first_inherited = self.aces.iter().position(Ace::is_inherited).unwrap_or(self.aces.len());
        let index = if ace.is_deny() {
            self.aces[..first_inherited].iter().position(|a| !a.is_deny()).unwrap_or(first_inherited)
        } else {
            first_inherited
        };
        self.aces.insert(index, ace);
        index
    }

    /// Removes every explicit ACE byte-for-byte equal to `ace`; returns how many.
    pub fn remove_exact(&mut self, ace: &Ace) -> usize {
        let before = self.aces.len();
        self.aces.retain(|a| a.is_inherited() || a != ace);
        before - self.aces.len()
    }

    /// Removes the first explicit ACE byte-for-byte equal to `ace`; whether there was one.
    pub fn remove_one_exact(&mut self, ace: &Ace) -> bool {
        match self.aces.iter().position(|a| !a.is_inherited() && a == ace) {
            Some(i) => {
                self.aces.remove(i);
                true
            }
            None => false,
        }
    }

    /// How many explicit ACEs are byte-for-byte equal to `ace`.
    pub fn count_exact(&self, ace: &Ace) -> usize {
        self.aces.iter().filter(|a| !a.is_inherited() && *a == ace).count()
    }

    /// Whether the order is canonical: explicit denies, explicit allows, then inherited ACEs.
    pub fn is_canonical(&self) -> bool {
        let rank = |a: &Ace| {
            if a.is_inherited() {
                2
            } else if a.is_deny() {
                0
            } else {
                1
            }
        };
        self.aces.windows(2).all(|w| rank(&w[0]) <= rank(&w[1]))
    }
}
