//! SDDL, the Security Descriptor Definition Language, as Windows and Samba write it.
//!
//! Rendering follows their conventions: the two-letter SID aliases (domain-relative ones resolved
//! against the object's domain, EA/SA/EK/RO against the forest root), access rights as letter
//! pairs in bit order (`CCDCLCSWRPWPDTLOCRSDRCWDWO`) or hex when they cannot be, lowercase GUIDs.
//! Parsing accepts what Windows writes (numeric masks in hex, decimal or octal; lowercase `s-`).
//!
//! ACEs that SDDL cannot express exactly (unknown types, callback and conditional ACEs, flag bits
//! without a name) are written in an extension of ours, `(0xTT;0xFF;HEX)` — type, flags, and the
//! body after the ACE header in hex — which the parser reads back to the same bytes. Windows will
//! not parse it; the product writes descriptors to AD in binary, never as SDDL.

use std::fmt::Write as _;

use uuid::Uuid;

use super::ace::{self, Ace, AceBody, Acl};
use super::sid::Sid;
use super::{SdError, SecurityDescriptor};

/// The SIDs the domain-relative aliases are resolved against.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SidContext {
    /// The object's domain SID (DA, DU, DC, LA, …).
    pub domain: Option<Sid>,
    /// The forest root domain's SID (EA, SA, EK, RO). `None`: the same as `domain`.
    pub forest_root: Option<Sid>,
}

impl SidContext {
    /// A single-domain forest.
    pub fn single(domain: Sid) -> SidContext {
        SidContext { domain: Some(domain), forest_root: None }
    }
    fn forest(&self) -> Option<&Sid> {
        self.forest_root.as_ref().or(self.domain.as_ref())
    }
}

enum Alias {
    WellKnown(&'static str),
    Domain(u32),
    Forest(u32),
}

/// Samba's and Windows' alias table, in their lookup order.
const ALIASES: &[(&str, Alias)] = &[
    ("WD", Alias::WellKnown("S-1-1-0")),
    ("CO", Alias::WellKnown("S-1-3-0")),
    ("CG", Alias::WellKnown("S-1-3-1")),
    ("OW", Alias::WellKnown("S-1-3-4")),
    ("NU", Alias::WellKnown("S-1-5-2")),
    ("IU", Alias::WellKnown("S-1-5-4")),
    ("SU", Alias::WellKnown("S-1-5-6")),
    ("AN", Alias::WellKnown("S-1-5-7")),
    ("ED", Alias::WellKnown("S-1-5-9")),
    ("PS", Alias::WellKnown("S-1-5-10")),
    ("AU", Alias::WellKnown("S-1-5-11")),
    ("RC", Alias::WellKnown("S-1-5-12")),
    ("SY", Alias::WellKnown("S-1-5-18")),
    ("LS", Alias::WellKnown("S-1-5-19")),
    ("NS", Alias::WellKnown("S-1-5-20")),
    ("WR", Alias::WellKnown("S-1-5-33")),
    ("BA", Alias::WellKnown("S-1-5-32-544")),
    ("BU", Alias::WellKnown("S-1-5-32-545")),
    ("BG", Alias::WellKnown("S-1-5-32-546")),
    ("PU", Alias::WellKnown("S-1-5-32-547")),
    ("AO", Alias::WellKnown("S-1-5-32-548")),
    ("SO", Alias::WellKnown("S-1-5-32-549")),
    ("PO", Alias::WellKnown("S-1-5-32-550")),
    ("BO", Alias::WellKnown("S-1-5-32-551")),
    ("RE", Alias::WellKnown("S-1-5-32-552")),
    ("RU", Alias::WellKnown("S-1-5-32-554")),
    ("RD", Alias::WellKnown("S-1-5-32-555")),
    ("NO", Alias::WellKnown("S-1-5-32-556")),
    ("MU", Alias::WellKnown("S-1-5-32-558")),
    ("LU", Alias::WellKnown("S-1-5-32-559")),
    ("IS", Alias::WellKnown("S-1-5-32-568")),
    ("CY", Alias::WellKnown("S-1-5-32-569")),
    ("ER", Alias::WellKnown("S-1-5-32-573")),
    ("CD", Alias::WellKnown("S-1-5-32-574")),
    ("RA", Alias::WellKnown("S-1-5-32-575")),
    ("ES", Alias::WellKnown("S-1-5-32-576")),
    ("MS", Alias::WellKnown("S-1-5-32-577")),
    ("HA", Alias::WellKnown("S-1-5-32-578")),
    ("AA", Alias::WellKnown("S-1-5-32-579")),
    ("RM", Alias::WellKnown("S-1-5-32-580")),
    ("UD", Alias::WellKnown("S-1-5-84-0-0-0-0-0")),
    ("AC", Alias::WellKnown("S-1-15-2-1")),
    ("LW", Alias::WellKnown("S-1-16-4096")),
    ("ME", Alias::WellKnown("S-1-16-8192")),
    ("MP", Alias::WellKnown("S-1-16-8448")),
    ("HI", Alias::WellKnown("S-1-16-12288")),
    ("SI", Alias::WellKnown("S-1-16-16384")),
    ("AS", Alias::WellKnown("S-1-18-1")),
    ("SS", Alias::WellKnown("S-1-18-2")),
    ("RO", Alias::Forest(498)),
    ("LA", Alias::Domain(500)),
    ("LG", Alias::Domain(501)),
    ("DA", Alias::Domain(512)),
    ("DU", Alias::Domain(513)),
    ("DG", Alias::Domain(514)),
    ("DC", Alias::Domain(515)),
    ("DD", Alias::Domain(516)),
    ("CA", Alias::Domain(517)),
    ("SA", Alias::Forest(518)),
    ("EA", Alias::Forest(519)),
    ("PA", Alias::Domain(520)),
    ("CN", Alias::Domain(522)),
    ("AP", Alias::Domain(525)),
    ("KA", Alias::Domain(526)),
    ("EK", Alias::Forest(527)),
    ("RS", Alias::Domain(553)),
];

const ACE_TYPES: &[(&str, u8)] = &[
    ("AU", ace::SYSTEM_AUDIT),
    ("AL", ace::SYSTEM_ALARM),
    ("OA", ace::ACCESS_ALLOWED_OBJECT),
    ("OD", ace::ACCESS_DENIED_OBJECT),
    ("OU", ace::SYSTEM_AUDIT_OBJECT),
    ("OL", ace::SYSTEM_ALARM_OBJECT),
    ("A", ace::ACCESS_ALLOWED),
    ("D", ace::ACCESS_DENIED),
];

const ACE_FLAGS: &[(&str, u8)] = &[
    ("OI", ace::OBJECT_INHERIT),
    ("CI", ace::CONTAINER_INHERIT),
    ("NP", ace::NO_PROPAGATE_INHERIT),
    ("IO", ace::INHERIT_ONLY),
    ("ID", ace::INHERITED),
    ("SA", ace::SUCCESSFUL_ACCESS),
    ("FA", ace::FAILED_ACCESS),
];

/// Access rights by name, in the order Windows and Samba write them.
pub const RIGHTS: &[(&str, u32)] = &[
    ("CC", 0x0000_0001),
    ("DC", 0x0000_0002),
    ("LC", 0x0000_0004),
    ("SW", 0x0000_0008),
    ("RP", 0x0000_0010),
    ("WP", 0x0000_0020),
    ("DT", 0x0000_0040),
    ("LO", 0x0000_0080),
    ("CR", 0x0000_0100),
    ("SD", 0x0001_0000),
    ("RC", 0x0002_0000),
    ("WD", 0x0004_0000),
    ("WO", 0x0008_0000),
    ("GA", 0x1000_0000),
    ("GX", 0x2000_0000),
    ("GW", 0x4000_0000),
    ("GR", 0x8000_0000),
];

/// File rights names, used only for an exact whole-mask match (as Windows and Samba do).
const FILE_RIGHTS: &[(&str, u32)] =
    &[("FA", 0x001F_01FF), ("FR", 0x0012_0089), ("FW", 0x0012_0116), ("FX", 0x0012_00A0)];

/// DACL flags; the SACL's are the same bits shifted left by one.
const ACL_FLAGS: &[(&str, u16)] =
    &[("P", super::SE_DACL_PROTECTED), ("AR", super::SE_DACL_AUTO_INHERIT_REQ), ("AI", super::SE_DACL_AUTO_INHERITED)];

/// The SDDL form of a SID: its alias when it has one, else `S-1-…`.
pub fn render_sid(sid: &Sid, ctx: &SidContext) -> String {
    let text = sid.to_string();
    let rid = sid.rid();
    for (code, alias) in ALIASES {
        let hit = match alias {
            Alias::WellKnown(s) => *s == text,
            Alias::Domain(r) => rid == Some(*r) && ctx.domain.as_ref().is_some_and(|d| sid.is_in_domain(d)),
            Alias::Forest(r) => rid == Some(*r) && ctx.forest().is_some_and(|d| sid.is_in_domain(d)),
        };
        if hit {
            return (*code).to_string();
        }
    }
    text
}

/// The SDDL form of an access mask.
pub fn render_rights(mask: u32) -> String {
    if let Some((name, _)) = RIGHTS.iter().find(|(_, m)| *m == mask) {
        return (*name).to_string();
    }
    let mut rest = mask;
    let mut out = String::new();
    for (name, bit) in RIGHTS {
        if rest & bit != 0 {
            out.push_str(name);
            rest &= !bit;
        }
    }
    if rest == 0 {
        return out;
    }
    if let Some((name, _)) = FILE_RIGHTS.iter().find(|(_, m)| *m == mask) {
        return (*name).to_string();
    }
    format!("0x{mask:x}")
}

fn render_ace_flags(flags: u8) -> Option<String> {
    let mut rest = flags;
    let mut out = String::new();
    for (name, bit) in ACE_FLAGS {
        if rest & bit != 0 {
            out.push_str(name);
            rest &= !bit;
        }
    }
    (rest == 0).then_some(out)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

/// Whether standard SDDL can say everything this ACE holds (otherwise it is written in our
/// exact extension form).
fn expressible(a: &Ace) -> bool {
    let sid_ok = |sid: &Sid| sid.revision == 1 && sid.sub_authorities.len() <= 15;
    match &a.body {
        AceBody::Basic { sid, extra, .. } => extra.is_empty() && sid_ok(sid),
        AceBody::Object { object_flags, sid, extra, .. } => {
            extra.is_empty()
                && sid_ok(sid)
                && object_flags & !(ace::OBJECT_TYPE_PRESENT | ace::INHERITED_OBJECT_TYPE_PRESENT) == 0
        }
        AceBody::Raw(_) => false,
    }
}

/// The SDDL form of one ACE, with its parentheses.
pub fn render_ace(a: &Ace, ctx: &SidContext) -> String {
    let type_name = ACE_TYPES.iter().find(|(_, t)| *t == a.ace_type).map(|(n, _)| *n).filter(|_| expressible(a));
    let flags = render_ace_flags(a.flags);
    match (&a.body, type_name, flags) {
        (AceBody::Basic { mask, sid, .. }, Some(t), Some(f)) => {
            format!("({t};{f};{};;;{})", render_rights(*mask), render_sid(sid, ctx))
        }
        (AceBody::Object { mask, object_type, inherited_object_type, sid, .. }, Some(t), Some(f)) => {
            let g = |u: &Option<Uuid>| u.map(|u| u.hyphenated().to_string()).unwrap_or_default();
            format!(
                "({t};{f};{};{};{};{})",
                render_rights(*mask),
                g(object_type),
                g(inherited_object_type),
                render_sid(sid, ctx)
            )
        }
        _ => {
            let mut bytes = Vec::new();
            a.encode(&mut bytes);
            format!("(0x{:02x};0x{:02x};{})", a.ace_type, a.flags, hex(bytes.get(4..).unwrap_or_default()))
        }
    }
}

fn render_acl(acl: &Acl, flags: u16, ctx: &SidContext) -> String {
    let mut out = String::new();
    for (name, bit) in ACL_FLAGS {
        if flags & bit != 0 {
            out.push_str(name);
        }
    }
    for a in &acl.aces {
        out.push_str(&render_ace(a, ctx));
    }
    out
}

/// Renders a whole descriptor.
pub fn render(sd: &SecurityDescriptor, ctx: &SidContext) -> String {
    let mut out = String::new();
    if let Some(o) = &sd.owner {
        out.push_str("O:");
        out.push_str(&render_sid(o, ctx));
    }
    if let Some(g) = &sd.group {
        out.push_str("G:");
        out.push_str(&render_sid(g, ctx));
    }
    if sd.control & super::SE_DACL_PRESENT != 0 {
        out.push_str("D:");
        match &sd.dacl {
            Some(acl) => out.push_str(&render_acl(acl, sd.control, ctx)),
            None => out.push_str("NO_ACCESS_CONTROL"),
        }
    }
    if sd.control & super::SE_SACL_PRESENT != 0 {
        out.push_str("S:");
        match &sd.sacl {
            Some(acl) => out.push_str(&render_acl(acl, sd.control >> 1, ctx)),
            None => out.push_str("NO_ACCESS_CONTROL"),
        }
    }
    out
}

/// A cursor over ASCII SDDL.
struct Cursor<'a> {
    s: &'a [u8],
    pos: usize,
}

impl<'a> Cursor<'a> {
    fn err(&self, message: impl Into<String>) -> SdError {
        SdError::Sddl { position: self.pos, message: message.into() }
    }
    fn peek(&self) -> Option<u8> {
        self.s.get(self.pos).copied()
    }
    fn eat(&mut self, prefix: &str) -> bool {
        if self.s[self.pos..].starts_with(prefix.as_bytes()) {
            self.pos += prefix.len();
            true
        } else {
            false
        }
    }
    fn skip_space(&mut self) {
        while self.peek().is_some_and(|b| b.is_ascii_whitespace()) {
            self.pos += 1;
        }
    }
    fn at_section(&self) -> bool {
        matches!(self.s.get(self.pos..self.pos + 2), Some([b'O' | b'G' | b'D' | b'S', b':']))
    }
}

fn parse_sid_at(c: &mut Cursor<'_>, ctx: &SidContext) -> Result<Sid, SdError> {
    let rest = &c.s[c.pos..];
    if rest.len() >= 2 && rest[0].eq_ignore_ascii_case(&b'S') && rest[1] == b'-' {
        let mut len =
            2 + rest[2..].iter().take_while(|b| b.is_ascii_hexdigit() || matches!(b, b'-' | b'x' | b'X')).count();
        // "…-1234D:" — the D belongs to the next section, not to the SID.
        if len > 2 && rest[len - 1] == b'D' && rest.get(len) == Some(&b':') {
            len -= 1;
        }
        let text = std::str::from_utf8(&rest[..len]).map_err(|_| c.err("not ASCII"))?;
        let sid = Sid::parse(text).map_err(|_| c.err(format!("'{text}' is not a SID")))?;
        c.pos += len;
        return Ok(sid);
    }
    let code = rest.get(..2).ok_or_else(|| c.err("expected a SID or a two-letter alias"))?;
    let (name, alias) = ALIASES
        .iter()
        .find(|(n, _)| n.as_bytes() == code)
        .ok_or_else(|| c.err(format!("unknown SID alias '{}'", String::from_utf8_lossy(code))))?;
    let sid = match alias {
        Alias::WellKnown(s) => Sid::parse(s)?,
        Alias::Domain(r) => Sid::with_rid(
            ctx.domain.as_ref().ok_or_else(|| c.err(format!("the alias {name} needs the domain SID")))?,
            *r,
        ),
        Alias::Forest(r) => Sid::with_rid(
            ctx.forest().ok_or_else(|| c.err(format!("the alias {name} needs the forest root's SID")))?,
            *r,
        ),
    };
    c.pos += 2;
    Ok(sid)
}

fn parse_rights(field: &str, c: &Cursor<'_>) -> Result<u32, SdError> {
    let numeric = if let Some(h) = field.strip_prefix("0x").or_else(|| field.strip_prefix("0X")) {
        Some(u32::from_str_radix(h, 16))
    } else if field.len() > 1 && field.starts_with('0') {
        Some(u32::from_str_radix(&field[1..], 8))
    } else if !field.is_empty() && field.bytes().all(|b| b.is_ascii_digit()) {
        Some(field.parse::<u32>())
    } else {
        None
    };
    if let Some(n) = numeric {
        return n.map_err(|_| c.err(format!("bad numeric access mask '{field}'")));
    }
    let mut mask = 0u32;
    let mut rest = field.trim_start_matches(' ');
    while !rest.is_empty() {
        let (name, bits) = RIGHTS
            .iter()
            .chain(FILE_RIGHTS)
            .find(|(n, _)| rest.starts_with(n))
            .ok_or_else(|| c.err(format!("unknown access right in '{field}'")))?;
        mask |= bits;
        rest = rest[name.len()..].trim_start_matches(' ');
    }
    Ok(mask)
}

fn parse_guid(field: &str, c: &Cursor<'_>) -> Result<Option<Uuid>, SdError> {
    if field.is_empty() {
        return Ok(None);
    }
    if field.len() != 36 {
        return Err(c.err(format!("'{field}' is not a GUID")));
    }
    Uuid::parse_str(field).map(Some).map_err(|_| c.err(format!("'{field}' is not a GUID")))
}

fn unhex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len()).step_by(2).map(|i| text.get(i..i + 2).and_then(|h| u8::from_str_radix(h, 16).ok())).collect()
}

fn parse_ace(c: &mut Cursor<'_>, ctx: &SidContext) -> Result<Ace, SdError> {
    let start = c.pos;
    c.pos += 1; // '('
    let close = c.s[c.pos..].iter().position(|b| *b == b')').ok_or_else(|| c.err("an ACE without its closing ')'"))?;
    let inner = std::str::from_utf8(&c.s[c.pos..c.pos + close]).map_err(|_| c.err("not ASCII"))?;
    let fields: Vec<&str> = inner.split(';').collect();
    if let [t, f, body] = fields.as_slice() {
        // Our extension: (0xTT;0xFF;HEX)
        let parse_hex_u8 = |s: &str| s.strip_prefix("0x").and_then(|h| u8::from_str_radix(h, 16).ok());
        let (Some(ace_type), Some(flags), Some(body)) = (parse_hex_u8(t), parse_hex_u8(f), unhex(body)) else {
            return Err(c.err("an ACE needs six fields: type;flags;rights;object;inherited object;SID"));
        };
        let mut bytes = vec![ace_type, flags, 0, 0];
        bytes.extend_from_slice(&body);
        let size = u16::try_from(bytes.len()).map_err(|_| c.err("ACE too long"))?;
        bytes[2..4].copy_from_slice(&size.to_le_bytes());
        let (a, _) = Ace::decode(&bytes, 0).map_err(|e| c.err(format!("bad raw ACE: {e}")))?;
        c.pos += close + 1;
        return Ok(a);
    }
    if fields.len() != 6 {
        return Err(SdError::Sddl {
            position: start,
            message: format!(
                "an ACE needs six fields (type;flags;rights;object;inherited object;SID), found {}; conditional and resource ACEs are not supported",
                fields.len()
            ),
        });
    }
    let ace_type = ACE_TYPES
        .iter()
        .find(|(n, _)| *n == fields[0])
        .map(|(_, t)| *t)
        .ok_or_else(|| c.err(format!("unknown ACE type '{}'", fields[0])))?;
    let mut flags = 0u8;
    let mut rest = fields[1];
    while !rest.is_empty() {
        let (name, bit) = ACE_FLAGS
            .iter()
            .find(|(n, _)| rest.starts_with(n))
            .ok_or_else(|| c.err(format!("unknown ACE flag in '{}'", fields[1])))?;
        flags |= bit;
        rest = &rest[name.len()..];
    }
    let mask = parse_rights(fields[2], c)?;
    let object_type = parse_guid(fields[3], c)?;
    let inherited_object_type = parse_guid(fields[4], c)?;
    let mut sub = Cursor { s: fields[5].as_bytes(), pos: 0 };
    let sid = parse_sid_at(&mut sub, ctx).map_err(|e| match e {
        SdError::Sddl { message, .. } => c.err(message),
        other => other,
    })?;
    if sub.pos != fields[5].len() {
        return Err(c.err(format!("garbage after the SID in '{}'", fields[5])));
    }
    let body = if ace::is_object_type(ace_type) {
        let object_flags = u32::from(object_type.is_some()) * ace::OBJECT_TYPE_PRESENT
            + u32::from(inherited_object_type.is_some()) * ace::INHERITED_OBJECT_TYPE_PRESENT;
        AceBody::Object { mask, object_flags, object_type, inherited_object_type, sid, extra: Vec::new() }
    } else {
        if object_type.is_some() || inherited_object_type.is_some() {
            return Err(c.err(format!("ACE type '{}' takes no object GUIDs", fields[0])));
        }
        AceBody::Basic { mask, sid, extra: Vec::new() }
    };
    c.pos += close + 1;
    Ok(Ace { ace_type, flags, body })
}

fn parse_acl(c: &mut Cursor<'_>, ctx: &SidContext) -> Result<(Option<Acl>, u16), SdError> {
    let mut flags = 0u16;
    // Windows tolerates white space between the parts (the schema has "D: (A;…)").
    c.skip_space();
    if c.eat("NO_ACCESS_CONTROL") {
        return Ok((None, 0));
    }
    loop {
        match ACL_FLAGS.iter().find(|(n, _)| c.s[c.pos..].starts_with(n.as_bytes())) {
            Some((name, bit)) if !c.at_section() => {
                flags |= bit;
                c.pos += name.len();
            }
            _ => break,
        }
    }
    let mut aces = Vec::new();
    c.skip_space();
    while c.peek() == Some(b'(') {
        aces.push(parse_ace(c, ctx)?);
        c.skip_space();
    }
    // Windows: revision 4 when the ACL holds object ACEs, else 2.
    let revision =
        if aces.iter().any(|a| ace::is_object_type(a.ace_type)) { ace::ACL_REVISION_DS } else { ace::ACL_REVISION };
    Ok((Some(Acl { revision, sbz1: 0, sbz2: 0, aces, slack: Vec::new() }), flags))
}

/// Parses a whole descriptor.
pub fn parse(text: &str, ctx: &SidContext) -> Result<SecurityDescriptor, SdError> {
    if !text.is_ascii() {
        let position = text.chars().position(|ch| !ch.is_ascii()).unwrap_or(0);
        return Err(SdError::Sddl { position, message: "SDDL is ASCII".into() });
    }
    let mut c = Cursor { s: text.as_bytes(), pos: 0 };
    let mut sd = SecurityDescriptor::new();
    let mut seen = [false; 4];
    while c.pos < c.s.len() {
        if c.peek().is_some_and(|b| b.is_ascii_whitespace()) {
            c.pos += 1;
            continue;
        }
        if !c.at_section() {
            return Err(c.err("expected O:, G:, D: or S:"));
        }
        let section = c.s[c.pos];
        let index = match section {
            b'O' => 0,
            b'G' => 1,
            b'D' => 2,
            _ => 3,
        };
        if std::mem::replace(&mut seen[index], true) {
            return Err(c.err(format!("'{}:' given twice", section as char)));
        }
        c.pos += 2;
        match section {
            b'O' => sd.owner = Some(parse_sid_at(&mut c, ctx)?),
            b'G' => sd.group = Some(parse_sid_at(&mut c, ctx)?),
            b'D' => {
                let (acl, flags) = parse_acl(&mut c, ctx)?;
                sd.dacl = acl;
                sd.control |= super::SE_DACL_PRESENT | flags;
            }
            _ => {
                let (acl, flags) = parse_acl(&mut c, ctx)?;
                sd.sacl = acl;
                sd.control |= super::SE_SACL_PRESENT | (flags << 1);
            }
        }
    }
    Ok(sd)
}

/// One ACE from its SDDL form (as [`render_ace`] writes it, numeric SIDs or aliases of `ctx`).
pub fn parse_one_ace(text: &str, ctx: &SidContext) -> Result<Ace, SdError> {
    parse(&format!("D:{text}"), ctx)?
        .dacl
        .and_then(|d| d.aces.into_iter().next())
        .ok_or_else(|| SdError::Sddl { position: 0, message: format!("{text} holds no ACE") })
}

/// ACE lists kept on disk (the journal, the grant record) as SDDL with numeric SIDs: exact,
/// readable by a person, parseable without a domain, and decoded once, where they are loaded.
/// Use with `#[serde(with = "crate::sd::sddl::persisted")]`.
pub mod persisted {
    use serde::de::Error as _;
    use serde::{Deserialize, Deserializer, Serializer};

    use super::{Ace, SidContext, parse_one_ace, render_ace};

    /// The text of one persisted ACE.
    pub fn text(a: &Ace) -> String {
        render_ace(a, &SidContext::default())
    }

    /// Reads one persisted ACE.
    pub fn read(t: &str) -> Result<Ace, String> {
        parse_one_ace(t, &SidContext::default()).map_err(|e| format!("the ACE {t} is not SDDL: {e}"))
    }

    /// Writes the list as SDDL strings.
    pub fn serialize<S: Serializer>(aces: &[Ace], s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(aces.iter().map(text))
    }

    /// Reads the list, refusing any string that is not one ACE.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Ace>, D::Error> {
        Vec::<String>::deserialize(d)?.iter().map(|t| read(t).map_err(D::Error::custom)).collect()
    }

    /// A table of them by DN (the grant record, and the settings' `[granted]` of older versions).
    /// Use with `#[serde(with = "crate::sd::sddl::persisted::table")]`.
    pub mod table {
        use std::collections::BTreeMap;

        use serde::de::Error as _;
        use serde::{Deserialize, Deserializer, Serializer};

        use super::{Ace, read, text};

        pub fn serialize<S: Serializer>(table: &BTreeMap<String, Vec<Ace>>, s: S) -> Result<S::Ok, S::Error> {
            s.collect_map(table.iter().map(|(dn, aces)| (dn, aces.iter().map(text).collect::<Vec<_>>())))
        }

        pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<BTreeMap<String, Vec<Ace>>, D::Error> {
            BTreeMap::<String, Vec<String>>::deserialize(d)?
                .into_iter()
                .map(|(dn, texts)| {
                    let aces = texts.iter().map(|t| read(t)).collect::<Result<Vec<_>, _>>();
                    aces.map(|a| (dn.clone(), a)).map_err(|e| D::Error::custom(format!("[granted] of {dn}: {e}")))
                })
                .collect()
        }
    }
}
