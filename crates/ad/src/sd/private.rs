//! Whether a Windows folder (or file) is private to the machine's administrators, decided from
//! its security descriptor alone, so the rule is tested on every platform: owned by Administrators
//! or SYSTEM, and no other SID may write to it, delete it or change its permissions or owner.

use super::ace::{ACCESS_ALLOWED, ACCESS_ALLOWED_OBJECT};

/// ACCESS_ALLOWED_CALLBACK_ACE_TYPE.
const ACCESS_ALLOWED_CALLBACK: u8 = 0x09;
use super::{AceBody, SecurityDescriptor, Sid};

/// BUILTIN\Administrators.
pub const ADMINISTRATORS: &str = "S-1-5-32-544";
/// NT AUTHORITY\SYSTEM.
pub const SYSTEM: &str = "S-1-5-18";

pub use writeback_base::platform::STATE_FOLDER_SDDL;

/// File rights that change a folder, what is in it, or who may: write data or add a file, append
/// or add a folder, write extended attributes, delete a child, write attributes, delete, change
/// the DACL, take ownership, and the generic write and all.
const CHANGES: u32 = 0x0000_0002
    | 0x0000_0004
    | 0x0000_0010
    | 0x0000_0040
    | 0x0000_0100
    | 0x0001_0000
    | 0x0004_0000
    | 0x0008_0000
    | 0x4000_0000
    | 0x1000_0000;

/// Who must own what is checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Owner<'a> {
    /// A folder: Administrators, SYSTEM, or the administrator running the tool (`me`: an older
    /// version made the folder with its maker as owner). A folder someone else made first is
    /// theirs.
    Folder { me: Option<&'a Sid> },
    /// A file in a folder that passed: whoever made it (only administrators may make files there,
    /// and Windows gives new files their maker as owner).
    FileInside { me: Option<&'a Sid> },
}

/// Whether `sd` keeps the object to Administrators and SYSTEM; the reason when it does not.
pub fn private_to_administrators(sd: &SecurityDescriptor, owner: Owner<'_>) -> Result<(), String> {
    let me = match owner {
        Owner::Folder { me } | Owner::FileInside { me } => me,
    };
    // The account running the tool is an administrator (it runs elevated): what it may do, it
    // may do anyway.
    let trusted = |sid: &Sid| {
        let s = sid.to_string();
        s == ADMINISTRATORS || s == SYSTEM || Some(sid) == me
    };
    if let Owner::Folder { .. } = owner {
        match &sd.owner {
            Some(o) if trusted(o) => {}
            Some(o) => return Err(format!("it is owned by {o}, not by Administrators, SYSTEM or you")),
            None => return Err("it has no owner".into()),
        }
    }
    let Some(dacl) = &sd.dacl else {
        return Err("it has no DACL (everyone may do everything)".into());
    };
    for ace in &dacl.aces {
        let allows = matches!(ace.ace_type, ACCESS_ALLOWED | ACCESS_ALLOWED_OBJECT | ACCESS_ALLOWED_CALLBACK);
        let (mask, sid) = match &ace.body {
            AceBody::Basic { mask, sid, .. } | AceBody::Object { mask, sid, .. } => (*mask, sid),
            // An allow whose trustee cannot be read is not one we can vouch for.
            AceBody::Raw(_) if allows => {
                return Err(format!("it holds an ACE of type {} it cannot read", ace.ace_type));
            }
            AceBody::Raw(_) => continue,
        };
        if allows && !trusted(sid) && mask & CHANGES != 0 {
            return Err(format!("{sid} may change it (access mask {mask:#x})"));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sd::sddl;

    fn sd(text: &str) -> SecurityDescriptor {
        sddl::parse(text, &sddl::SidContext::default()).unwrap()
    }

    #[test]
    fn the_state_folder_as_created_is_private() {
        let folder = Owner::Folder { me: None };
        assert_eq!(private_to_administrators(&sd(STATE_FOLDER_SDDL), folder), Ok(()));
        // Others may read: reading is not changing.
        assert_eq!(private_to_administrators(&sd("O:SYG:SYD:P(A;OICI;FA;;;SY)(A;OICI;FR;;;BU)"), folder), Ok(()));
        // Made by the administrator running it (an older version did so): theirs to keep.
        let me = Sid::parse("S-1-5-21-1-2-3-500").unwrap();
        let mine = sd("O:S-1-5-21-1-2-3-500G:SYD:P(A;OICI;FA;;;BA)(A;OICI;FA;;;SY)");
        assert_eq!(private_to_administrators(&mine, Owner::Folder { me: Some(&me) }), Ok(()));
        // A file inside is its maker's (another administrator's, too); only its DACL counts.
        let other_admin = sd("O:S-1-5-21-1-2-3-501G:SYD:(A;;FA;;;BA)(A;;FA;;;SY)(A;;FA;;;S-1-5-21-1-2-3-500)");
        assert_eq!(private_to_administrators(&other_admin, Owner::FileInside { me: Some(&me) }), Ok(()));
        assert!(private_to_administrators(&other_admin, Owner::Folder { me: None }).is_err());
        let open = sd("O:S-1-5-21-1-2-3-500D:(A;;FA;;;BU)");
        assert!(private_to_administrators(&open, Owner::FileInside { me: Some(&me) }).is_err());
    }

    #[test]
    fn a_folder_a_user_made_or_may_change_is_refused() {
        // What a standard user gets creating it under ProgramData: owner themselves, and Users
        // may add files and folders (inherited from ProgramData).
        let planted = "O:S-1-5-21-1-2-3-1001G:S-1-5-21-1-2-3-513D:AI(A;OICIID;FA;;;SY)(A;OICIID;FA;;;BA)(A;OICIID;0x1200a9;;;BU)(A;CIID;DCLCRPCR;;;BU)(A;OICIIOID;GA;;;CO)";
        let me = Sid::parse("S-1-5-21-1-2-3-500").unwrap();
        let folder = Owner::Folder { me: Some(&me) };
        let why = private_to_administrators(&sd(planted), folder).unwrap_err();
        assert!(why.contains("owned by S-1-5-21-1-2-3-1001"), "{why}");
        let why = private_to_administrators(&sd("O:BAG:SYD:(A;OICI;FA;;;BA)(A;CI;0x4;;;BU)"), folder).unwrap_err();
        assert!(why.contains("S-1-5-32-545"), "{why}");
        for ace in ["(A;;WD;;;WD)", "(A;;WO;;;AU)", "(A;;SD;;;BU)", "(A;;GW;;;IU)", "(A;;GA;;;CO)"] {
            let text = format!("O:BAG:SYD:P(A;OICI;FA;;;BA){ace}");
            assert!(private_to_administrators(&sd(&text), folder).is_err(), "{text}");
            assert!(private_to_administrators(&sd(&text), Owner::FileInside { me: Some(&me) }).is_err(), "{text}");
        }
        assert!(private_to_administrators(&sd("O:BAG:SY"), folder).is_err(), "no DACL at all");
    }
}
