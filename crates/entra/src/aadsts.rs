//! AADSTS error codes in plain words, with what to do. Source: Microsoft Entra authentication and
//! authorization error codes (learn.microsoft.com, "reference-error-codes").

/// (code, what happened, what to do).
const TABLE: &[(u32, &str, &str)] = &[
    (
        50034,
        "the account does not exist in this tenant",
        "Check the user name, and that you are signing in to the right tenant and cloud.",
    ),
    (
        50053,
        "the account is locked after too many failed sign-ins",
        "Wait, or ask another administrator to unlock the account in the Entra admin center.",
    ),
    (50055, "the password has expired", "Change the password at https://myaccount.microsoft.com, then sign in again."),
    (50057, "the account is disabled", "Use another account, or ask an administrator to enable this one."),
    (
        50076,
        "multi-factor authentication is required, which this sign-in method cannot do",
        "Sign in with the browser or a device code, which can do MFA.",
    ),
    (
        50079,
        "the account must register for multi-factor authentication",
        "Register at https://aka.ms/mfasetup, then sign in again.",
    ),
    (50126, "the user name or password is wrong", "Check both; the account must be a cloud account of this tenant."),
    (50173, "the saved sign-in was revoked (a password change or an administrator's revoke)", "Sign in again."),
    (
        53003,
        "Conditional Access blocked the sign-in",
        "Sign in from a device and place your Conditional Access policies allow, or ask an administrator to exclude this app.",
    ),
    (
        65001,
        "the app has not been given consent for the permissions it needs",
        "Have a Global Administrator grant admin consent to the app (see docs/entra.md), or sign in interactively as one.",
    ),
    (65004, "the sign-in was cancelled or consent declined", "Sign in again and accept."),
    (70000, "the sign-in was declined or the grant is no longer valid", "Start the sign-in again."),
    (70008, "the sign-in code or saved sign-in has expired", "Sign in again."),
    (
        70011,
        "a requested permission is not valid",
        "Check the client ID and the cloud; the app requests Microsoft Graph permissions only.",
    ),
    (70016, "the sign-in is still waiting for you in the browser", "Finish the sign-in on the device-login page."),
    (70018, "the device code was not recognised", "Start the sign-in again."),
    (
        70019,
        "the device code expired before the sign-in was finished",
        "Start the sign-in again and finish it within 15 minutes.",
    ),
    (90002, "the tenant was not found", "Check --tenant (a tenant ID or a verified domain) and --cloud."),
    (
        90094,
        "the app needs permissions only an administrator can grant",
        "Have a Global Administrator grant admin consent to the app (see docs/entra.md).",
    ),
    (
        700016,
        "the app (client ID) is not registered in this tenant",
        "Check --client-id, or register the app as docs/entra.md describes.",
    ),
    (
        7000218,
        "the app is not allowed to sign in as a public client",
        "In the app registration, under Authentication, set \"Allow public client flows\" to Yes.",
    ),
    (
        700025,
        "the app is a public client and must not send a secret",
        "Remove the client secret from the configuration.",
    ),
    (900144, "the request is missing a parameter", "Report this as a bug with the message above."),
];

/// The words and remedy for an AADSTS code, if known.
pub fn describe(code: u32) -> Option<(&'static str, &'static str)> {
    TABLE.iter().find(|(c, _, _)| *c == code).map(|(_, w, r)| (*w, *r))
}

/// Reads the AADSTS code from an Entra error description (`AADSTS50126: Error validating …`).
pub fn code_of(description: &str) -> Option<u32> {
    let start = description.find("AADSTS")? + "AADSTS".len();
    description[start..].chars().take_while(char::is_ascii_digit).collect::<String>().parse().ok()
}

/// The first line of an Entra description, without the trace and correlation ids.
pub fn first_line(description: &str) -> &str {
    description.split(['\r', '\n']).next().unwrap_or(description).trim()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_read_and_described() {
        let d = "AADSTS50126: Error validating credentials due to invalid username or password.\r\nTrace ID: x\r\nCorrelation ID: y";
        assert_eq!(code_of(d), Some(50126));
        assert_eq!(first_line(d), "AADSTS50126: Error validating credentials due to invalid username or password.");
        for code in [50076, 50126, 53003, 65001, 700016, 7000218, 70016, 70018, 70019, 70000, 50173] {
            assert!(describe(code).is_some(), "{code}");
        }
        assert_eq!(code_of("no code"), None);
    }
}
