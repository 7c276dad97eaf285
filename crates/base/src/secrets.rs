//! Secrets: a type that never prints, and the one lookup order every command uses.
//!
//! Order (ARCHITECTURE.md, "CLI contract"): environment variable → OS keyring → a prompt when
//! standard input is a terminal → an error naming the variable to set (exit 2). Secrets are never
//! command-line flags, never written to settings, logs or audit records.

use std::fmt;

use crate::diagnose::{Diagnose, Exit};

/// A secret string (password or token). `Debug` and `Display` print `[redacted]`, it has no
/// `Serialize`, and its memory is overwritten when dropped, so it cannot leak through logs,
/// JSON output or panic messages by accident.
#[derive(Clone, PartialEq, Eq, zeroize::Zeroize, zeroize::ZeroizeOnDrop)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret value.
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    /// The value, for the one call that needs it (an LDAP bind, a token request).
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// True when the secret is the empty string.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret([redacted])")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

/// Which secret a command needs: the environment variable that supplies it, its keyring entry,
/// and the prompt shown on a terminal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SecretKind {
    /// The environment variable, e.g. `WRITEBACK_AD_PASSWORD`.
    pub env_var: &'static str,
    /// The keyring entry's user name (the service is always [`KEYRING_SERVICE`]).
    pub keyring_user: &'static str,
    /// The prompt text.
    pub prompt: &'static str,
}

/// The keyring service name all entries are stored under.
pub const KEYRING_SERVICE: &str = "writeback-wizard";

/// The on-premises account's password (`--ad-user`).
pub const AD_PASSWORD: SecretKind = SecretKind {
    env_var: "WRITEBACK_AD_PASSWORD",
    keyring_user: "ad-password",
    prompt: "Password for the Active Directory account: ",
};

/// The AD DS connector account's password (the canary check binds as it).
pub const CONNECTOR_PASSWORD: SecretKind = SecretKind {
    env_var: "WRITEBACK_CONNECTOR_PASSWORD",
    keyring_user: "connector-password",
    prompt: "Password for the AD DS connector account: ",
};

/// A Microsoft Graph access token for headless use.
pub const ENTRA_TOKEN: SecretKind = SecretKind {
    env_var: "WRITEBACK_ENTRA_TOKEN",
    keyring_user: "entra-token",
    prompt: "Microsoft Graph access token: ",
};

/// The administrator's password for Cloud Sync's writeback switch: from the environment
/// only, for one run (never the keyring, never a file).
pub const CLOUDSYNC_PASSWORD_ENV: &str = "WRITEBACK_CLOUDSYNC_PASSWORD";

/// A secret from the environment alone (empty is missing).
pub fn from_env_only(var: &str) -> Option<Secret> {
    std::env::var(var).ok().filter(|v| !v.is_empty()).map(Secret::new)
}

/// Where secrets are kept between runs. The OS keyring in production; a map in tests.
pub trait SecretStore: Send + Sync {
    /// The stored secret, or `None` when there is no entry.
    fn get(&self, user: &str) -> Result<Option<Secret>, SecretError>;
    /// Stores or replaces a secret.
    fn set(&self, user: &str, secret: &Secret) -> Result<(), SecretError>;
    /// Deletes an entry; deleting a missing entry is not an error.
    fn delete(&self, user: &str) -> Result<(), SecretError>;
}

/// The operating system's keyring (Windows Credential Manager, macOS Keychain, Linux kernel
/// keyutils), through the `keyring` crate.
#[derive(Debug, Default, Clone, Copy)]
pub struct KeyringStore;

impl KeyringStore {
    fn entry(user: &str) -> Result<keyring::Entry, SecretError> {
        keyring::Entry::new(KEYRING_SERVICE, user)
            .map_err(|e| SecretError::Keyring { entry: user.to_string(), detail: e.to_string() })
    }
}

impl SecretStore for KeyringStore {
    fn get(&self, user: &str) -> Result<Option<Secret>, SecretError> {
        match Self::entry(user)?.get_password() {
            Ok(value) => Ok(Some(Secret::new(value))),
            Err(keyring::Error::NoEntry) => Ok(None),
            Err(e) => Err(SecretError::Keyring { entry: user.to_string(), detail: e.to_string() }),
        }
    }

    fn set(&self, user: &str, secret: &Secret) -> Result<(), SecretError> {
        Self::entry(user)?
            .set_password(secret.expose())
            .map_err(|e| SecretError::Keyring { entry: user.to_string(), detail: e.to_string() })
    }

    fn delete(&self, user: &str) -> Result<(), SecretError> {
        match Self::entry(user)?.delete_credential() {
            Ok(()) | Err(keyring::Error::NoEntry) => Ok(()),
            Err(e) => Err(SecretError::Keyring { entry: user.to_string(), detail: e.to_string() }),
        }
    }
}

/// An in-memory store, for tests and for a session that must not touch the OS keyring.
#[derive(Debug, Default)]
pub struct MemoryStore(std::sync::Mutex<std::collections::HashMap<String, Secret>>);

impl SecretStore for MemoryStore {
    fn get(&self, user: &str) -> Result<Option<Secret>, SecretError> {
        Ok(self.0.lock().map_err(|_| SecretError::Poisoned)?.get(user).cloned())
    }
    fn set(&self, user: &str, secret: &Secret) -> Result<(), SecretError> {
        self.0.lock().map_err(|_| SecretError::Poisoned)?.insert(user.to_string(), secret.clone());
        Ok(())
    }
    fn delete(&self, user: &str) -> Result<(), SecretError> {
        self.0.lock().map_err(|_| SecretError::Poisoned)?.remove(user);
        Ok(())
    }
}

/// Asks a person for a secret. The terminal implementation reads without echo.
pub trait Prompter {
    /// Whether a person can be asked at all (standard input is a terminal).
    fn can_prompt(&self) -> bool;
    /// Asks and returns the answer.
    fn prompt(&self, text: &str) -> Result<Secret, SecretError>;
}

/// Prompts on the controlling terminal, without echo.
#[derive(Debug, Default, Clone, Copy)]
pub struct TerminalPrompter;

impl Prompter for TerminalPrompter {
    fn can_prompt(&self) -> bool {
        use std::io::IsTerminal;
        std::io::stdin().is_terminal()
    }
    fn prompt(&self, text: &str) -> Result<Secret, SecretError> {
        rpassword::prompt_password(text).map(Secret::new).map_err(|e| SecretError::Prompt { detail: e.to_string() })
    }
}

/// Looks a secret up in the contract's order. `env` is the environment lookup (injected so tests
/// do not depend on the process environment).
pub fn resolve(
    kind: SecretKind,
    env: &dyn Fn(&str) -> Option<String>,
    store: &dyn SecretStore,
    prompter: &dyn Prompter,
) -> Result<Secret, SecretError> {
    if let Some(value) = env(kind.env_var) {
        if value.is_empty() {
            return Err(SecretError::Empty { env_var: kind.env_var });
        }
        return Ok(Secret::new(value));
    }
    match store.get(kind.keyring_user) {
        Ok(Some(secret)) if !secret.is_empty() => return Ok(secret),
        Ok(_) => {}
        // A broken keyring must not stop someone who can still type the secret.
        Err(e) => tracing::warn!(entry = kind.keyring_user, error = %e, "keyring lookup failed"),
    }
    if prompter.can_prompt() {
        let secret = prompter.prompt(kind.prompt)?;
        if secret.is_empty() {
            return Err(SecretError::Empty { env_var: kind.env_var });
        }
        return Ok(secret);
    }
    Err(SecretError::Missing { env_var: kind.env_var })
}

/// Never asks (a token is not typed: without one, a sign-in follows).
#[derive(Debug, Default, Clone, Copy)]
pub struct NeverPrompt;

impl Prompter for NeverPrompt {
    fn can_prompt(&self) -> bool {
        false
    }
    fn prompt(&self, _: &str) -> Result<Secret, SecretError> {
        Err(SecretError::Prompt { detail: "not asked".into() })
    }
}

/// A Graph token brought by the administrator: WRITEBACK_ENTRA_TOKEN, else the keyring's
/// `entra-token`, through the same lookup as the passwords; an empty variable counts as none.
/// `None` when neither holds one (then a sign-in is needed).
pub fn brought_token(env: &dyn Fn(&str) -> Option<String>, store: &dyn SecretStore) -> Option<Secret> {
    let env = |name: &str| env(name).filter(|v| !v.is_empty());
    resolve(ENTRA_TOKEN, &env, store, &NeverPrompt).ok()
}

/// Looks a secret up in the real environment, the OS keyring and the terminal.
pub fn resolve_default(kind: SecretKind) -> Result<Secret, SecretError> {
    resolve(kind, &|name| std::env::var(name).ok(), &KeyringStore, &TerminalPrompter)
}

/// The variable that holds one forest's password: `WRITEBACK_AD_PASSWORD_` and the forest's DNS
/// name upper-cased, dots (and hyphens, which no shell takes in a name) as underscores:
/// `WRITEBACK_AD_PASSWORD_SOUTH_CORP_TEST`.
pub fn forest_env_var(forest: &str) -> String {
    let name: String = forest
        .trim_end_matches('.')
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_uppercase() } else { '_' })
        .collect();
    format!("{}_{name}", AD_PASSWORD.env_var)
}

/// The keyring entry that holds one forest's password: `ad-password/south.corp.test`.
pub fn forest_keyring_user(forest: &str) -> String {
    format!("{}/{}", AD_PASSWORD.keyring_user, forest.trim_end_matches('.').to_ascii_lowercase())
}

/// One forest's Enterprise Admin password: `WRITEBACK_AD_PASSWORD_<FOREST>`, else
/// `WRITEBACK_AD_PASSWORD`, else the keyring's `ad-password/<forest>`, else a prompt naming the
/// forest. Never another forest's keyring entry: a password goes only to the forest it is for.
pub fn resolve_forest(
    forest: &str,
    env: &dyn Fn(&str) -> Option<String>,
    store: &dyn SecretStore,
    prompter: &dyn Prompter,
) -> Result<Secret, SecretError> {
    let own = forest_env_var(forest);
    for var in [own.as_str(), AD_PASSWORD.env_var] {
        if let Some(value) = env(var) {
            if value.is_empty() {
                return Err(SecretError::ForestEmpty { env_var: var.to_string() });
            }
            return Ok(Secret::new(value));
        }
    }
    let entry = forest_keyring_user(forest);
    match store.get(&entry) {
        Ok(Some(secret)) if !secret.is_empty() => return Ok(secret),
        Ok(_) => {}
        Err(e) => tracing::warn!(entry = %entry, error = %e, "keyring lookup failed"),
    }
    if prompter.can_prompt() {
        let secret = prompter.prompt(&format!("Password for the Active Directory account of forest {forest}: "))?;
        if secret.is_empty() {
            return Err(SecretError::ForestEmpty { env_var: own });
        }
        return Ok(secret);
    }
    Err(SecretError::ForestMissing { forest: forest.to_string(), env_var: own })
}

/// [`resolve_forest`] in the real environment, the OS keyring and the terminal.
pub fn resolve_forest_default(forest: &str) -> Result<Secret, SecretError> {
    resolve_forest(forest, &|name| std::env::var(name).ok(), &KeyringStore, &TerminalPrompter)
}

/// Why a secret could not be had.
#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    /// Nothing supplied it and there is no terminal to ask on.
    #[error(
        "no secret was supplied: {env_var} is not set, the OS keyring has no entry, and standard input is not a terminal to ask on"
    )]
    Missing {
        /// The variable that would supply it.
        env_var: &'static str,
    },
    /// An empty value was supplied.
    #[error("the secret supplied through {env_var} (or typed at the prompt) is empty")]
    Empty {
        /// The variable that would supply it.
        env_var: &'static str,
    },
    /// Nothing supplied a forest's password.
    #[error(
        "no password was supplied for forest {forest}: neither {env_var} nor WRITEBACK_AD_PASSWORD is set, the OS keyring has no entry ad-password/{forest}, and standard input is not a terminal to ask on"
    )]
    ForestMissing { forest: String, env_var: String },
    /// A forest's password was supplied empty.
    #[error("the password supplied through {env_var} (or typed at the prompt) is empty")]
    ForestEmpty { env_var: String },
    /// The OS keyring failed.
    #[error("the OS keyring failed for entry '{entry}': {detail}")]
    Keyring {
        /// The entry's user name.
        entry: String,
        /// The keyring's own message.
        detail: String,
    },
    /// Reading from the terminal failed.
    #[error("could not read the secret from the terminal: {detail}")]
    Prompt { detail: String },
    /// A lock was poisoned by a panic in another thread.
    #[error("the in-memory secret store is unusable after a panic")]
    Poisoned,
}

impl Diagnose for SecretError {
    fn code(&self) -> &'static str {
        match self {
            SecretError::Missing { .. } => "SECRET-MISSING",
            SecretError::Empty { .. } | SecretError::ForestEmpty { .. } => "SECRET-EMPTY",
            SecretError::ForestMissing { .. } => "SECRET-MISSING",
            SecretError::Keyring { .. } => "SECRET-KEYRING",
            SecretError::Prompt { .. } => "SECRET-PROMPT",
            SecretError::Poisoned => "SECRET-INTERNAL",
        }
    }
    fn remedy(&self) -> String {
        match self {
            SecretError::Missing { env_var } | SecretError::Empty { env_var } => format!(
                "Set the environment variable {env_var} (never a command-line flag), or run the command on a terminal to be asked."
            ),
            SecretError::ForestMissing { forest, env_var } => format!(
                "Set {env_var} (or WRITEBACK_AD_PASSWORD, for every forest), store it with `writeback-wizard secret set ad-password --forest {forest}`, or run on a terminal to be asked; never a command-line flag."
            ),
            SecretError::ForestEmpty { env_var } => format!("Set {env_var} to the password, or leave it unset to be asked."),
            SecretError::Keyring { .. } => {
                "Check that the OS keyring is unlocked and reachable, or supply the secret through its environment variable.".into()
            }
            SecretError::Prompt { .. } => {
                "Run the command on an interactive terminal, or supply the secret through its environment variable.".into()
            }
            SecretError::Poisoned => "Restart the program.".into(),
        }
    }
    fn exit(&self) -> Exit {
        match self {
            SecretError::Missing { .. }
            | SecretError::Empty { .. }
            | SecretError::Prompt { .. }
            | SecretError::ForestMissing { .. }
            | SecretError::ForestEmpty { .. } => Exit::Usage,
            SecretError::Keyring { .. } | SecretError::Poisoned => Exit::Failed,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_secret_is_wiped_on_drop_by_zeroize() {
        fn wiped_on_drop<T: zeroize::ZeroizeOnDrop>() {}
        wiped_on_drop::<Secret>();
        let mut s = Secret::new("hunter2");
        zeroize::Zeroize::zeroize(&mut s);
        assert!(s.is_empty());
    }

    #[test]
    fn a_brought_token_is_the_variable_else_the_keyring_and_empty_is_none() {
        let store = MemoryStore::default();
        let none = |_: &str| None;
        let empty = |_: &str| Some(String::new());
        let set = |_: &str| Some("from-env".to_string());
        assert!(brought_token(&none, &store).is_none());
        assert!(brought_token(&empty, &store).is_none());
        store.set("entra-token", &Secret::new("from-keyring")).unwrap();
        assert_eq!(brought_token(&empty, &store).unwrap().expose(), "from-keyring", "empty is missing: keyring next");
        assert_eq!(brought_token(&set, &store).unwrap().expose(), "from-env");
    }
    use std::cell::Cell;

    struct FakePrompter {
        tty: bool,
        answer: &'static str,
        asked: Cell<u32>,
    }
    impl Prompter for FakePrompter {
        fn can_prompt(&self) -> bool {
            self.tty
        }
        fn prompt(&self, _text: &str) -> Result<Secret, SecretError> {
            self.asked.set(self.asked.get() + 1);
            Ok(Secret::new(self.answer))
        }
    }
    fn prompter(tty: bool) -> FakePrompter {
        FakePrompter { tty, answer: "typed-Secret-9", asked: Cell::new(0) }
    }

    #[test]
    fn a_forests_password_is_its_variable_then_the_shared_one_then_its_keyring_entry_then_a_prompt() {
        assert_eq!(forest_env_var("south.corp-x.test."), "WRITEBACK_AD_PASSWORD_SOUTH_CORP_X_TEST");
        assert_eq!(forest_keyring_user("South.Corp.Test"), "ad-password/south.corp.test");
        let store = MemoryStore::default();
        let vars = |own: bool, shared: bool| {
            move |name: &str| match name {
                "WRITEBACK_AD_PASSWORD_SOUTH_CORP_TEST" if own => Some("own".to_string()),
                "WRITEBACK_AD_PASSWORD" if shared => Some("shared".to_string()),
                _ => None,
            }
        };
        let p = prompter(false);
        assert_eq!(resolve_forest("south.corp.test", &vars(true, true), &store, &p).unwrap().expose(), "own");
        assert_eq!(resolve_forest("south.corp.test", &vars(false, true), &store, &p).unwrap().expose(), "shared");
        // Another forest's entry, or the single-forest one, is never sent to this forest's DC.
        store.set("ad-password", &Secret::new("single")).unwrap();
        store.set("ad-password/corp.example", &Secret::new("corp")).unwrap();
        let e = resolve_forest("south.corp.test", &vars(false, false), &store, &p).unwrap_err();
        assert_eq!(e.code(), "SECRET-MISSING");
        assert!(e.to_string().contains("WRITEBACK_AD_PASSWORD_SOUTH_CORP_TEST"), "{e}");
        assert!(e.remedy().contains("secret set ad-password --forest south.corp.test"), "{}", e.remedy());
        store.set("ad-password/south.corp.test", &Secret::new("kept")).unwrap();
        assert_eq!(resolve_forest("south.corp.test", &vars(false, false), &store, &p).unwrap().expose(), "kept");
        let asked = prompter(true);
        let empty = MemoryStore::default();
        assert_eq!(resolve_forest("x.test", &vars(false, false), &empty, &asked).unwrap().expose(), "typed-Secret-9");
        assert_eq!(asked.asked.get(), 1);
    }

    #[test]
    fn secret_never_prints() {
        let s = Secret::new("hunter2-Very-Secret");
        assert_eq!(format!("{s}"), "[redacted]");
        assert!(!format!("{s:?}").contains("hunter2"));
        assert!(!format!("{:?}", Some(&s)).contains("hunter2"));
        assert!(!format!("{:#?}", vec![s.clone()]).contains("hunter2"));
        let r: Result<(), Secret> = Err(s.clone());
        assert!(!format!("{r:?}").contains("hunter2"));
        assert_eq!(s.expose(), "hunter2-Very-Secret");
    }

    #[test]
    fn secret_in_a_panic_message_is_redacted() {
        let s = Secret::new("panic-Leak-42");
        let caught = std::panic::catch_unwind(|| {
            let r: Result<(), Secret> = std::hint::black_box(Err(s));
            r.unwrap();
        });
        let payload = caught.err().and_then(|p| p.downcast::<String>().ok()).map(|b| *b);
        let text = payload.unwrap_or_default();
        assert!(text.contains("[redacted]"), "{text}");
        assert!(!text.contains("panic-Leak-42"), "{text}");
    }

    #[test]
    fn environment_wins_over_keyring_and_prompt() {
        let store = MemoryStore::default();
        store.set(AD_PASSWORD.keyring_user, &Secret::new("from-keyring")).unwrap();
        let p = prompter(true);
        let env = |name: &str| (name == "WRITEBACK_AD_PASSWORD").then(|| "from-env".to_string());
        let s = resolve(AD_PASSWORD, &env, &store, &p).unwrap();
        assert_eq!(s.expose(), "from-env");
        assert_eq!(p.asked.get(), 0);
    }

    #[test]
    fn keyring_is_used_before_the_prompt() {
        let store = MemoryStore::default();
        store.set(AD_PASSWORD.keyring_user, &Secret::new("from-keyring")).unwrap();
        let p = prompter(true);
        let s = resolve(AD_PASSWORD, &|_| None, &store, &p).unwrap();
        assert_eq!(s.expose(), "from-keyring");
        assert_eq!(p.asked.get(), 0);
    }

    #[test]
    fn prompt_is_used_on_a_terminal() {
        let p = prompter(true);
        let s = resolve(CONNECTOR_PASSWORD, &|_| None, &MemoryStore::default(), &p).unwrap();
        assert_eq!(s.expose(), "typed-Secret-9");
        assert_eq!(p.asked.get(), 1);
    }

    #[test]
    fn missing_without_terminal_names_the_variable_and_exits_2() {
        let p = prompter(false);
        let err = resolve(ENTRA_TOKEN, &|_| None, &MemoryStore::default(), &p).unwrap_err();
        assert_eq!(err.exit(), Exit::Usage);
        assert!(err.to_string().contains("WRITEBACK_ENTRA_TOKEN"));
        assert!(err.remedy().contains("WRITEBACK_ENTRA_TOKEN"));
        assert_eq!(p.asked.get(), 0);
    }

    #[test]
    fn empty_environment_value_is_an_error_not_a_password() {
        let env = |_: &str| Some(String::new());
        let err = resolve(AD_PASSWORD, &env, &MemoryStore::default(), &prompter(true)).unwrap_err();
        assert_eq!(err.code(), "SECRET-EMPTY");
    }

    /// The real OS keyring (Linux: the kernel's keyutils; the test command runs the suite in a
    /// `keyctl session`).
    #[test]
    fn os_keyring_round_trip_and_delete() {
        let store = KeyringStore;
        let user = format!("test-entry-{}", std::process::id());
        store.delete(&user).unwrap();
        assert!(store.get(&user).unwrap().is_none());
        store.set(&user, &Secret::new("kept-in-the-keyring")).unwrap();
        assert_eq!(store.get(&user).unwrap().unwrap().expose(), "kept-in-the-keyring");
        let found = resolve(AD_PASSWORD, &|_| None, &store, &prompter(false));
        assert!(found.is_err(), "a different entry is not found");
        store.delete(&user).unwrap();
        assert!(store.get(&user).unwrap().is_none());
    }

    #[test]
    fn memory_store_round_trip_and_delete() {
        let store = MemoryStore::default();
        assert!(store.get("x").unwrap().is_none());
        store.set("x", &Secret::new("v")).unwrap();
        assert_eq!(store.get("x").unwrap().unwrap().expose(), "v");
        store.delete("x").unwrap();
        store.delete("x").unwrap();
        assert!(store.get("x").unwrap().is_none());
    }
}
