//! AD's diagnostic text: the bind sub-code in it, and that sub-code in words. Pure (std only):
//! the fuzz target `ad_diagnostic` compiles this file on its own.

/// AD's bind failure sub-codes (the `data XXX` in the diagnostic text of result 49), in words.
/// Source: Microsoft, "Common Active Directory bind errors" (LDAP result 49 sub-codes).
pub fn bind_subcode_words(subcode: &str) -> Option<(&'static str, &'static str)> {
    Some(match subcode.to_ascii_lowercase().as_str() {
        "525" => ("the user does not exist", "Check the user name; use DOMAIN\\user, the UPN or the full DN."),
        "52e" => (
            "the user name or password is wrong",
            "Check the password (and the user name: AD answers the same for an unknown user).",
        ),
        "530" => ("the account may not log on at this time", "Ask a domain admin to widen the account's logon hours."),
        "531" => (
            "the account may not log on from this computer",
            "Ask a domain admin to add this server to the account's 'Log on to' list.",
        ),
        "532" => ("the password has expired", "Change the account's password, then try again."),
        "533" => {
            ("the account is disabled", "Enable the account in Active Directory Users and Computers, or use another.")
        }
        "701" => ("the account has expired", "Ask a domain admin to extend the account's expiry date."),
        "773" => (
            "the password must be changed before the first logon",
            "Log on once interactively (or reset the password) so the 'must change password' flag clears.",
        ),
        "775" => (
            "the account is locked out",
            "Wait for the lockout to expire or ask a domain admin to unlock it, then try again.",
        ),
        _ => return None,
    })
}

/// Extracts AD's sub-code from a diagnostic text such as
/// `80090308: LdapErr: DSID-0C09041C, comment: AcceptSecurityContext error, data 52e, v4563`.
pub fn diagnostic_subcode(text: &str) -> Option<String> {
    let start = text.find("data ")? + "data ".len();
    let code: String = text[start..].chars().take_while(|c| c.is_ascii_hexdigit()).collect();
    (!code.is_empty()).then_some(code.to_ascii_lowercase())
}
