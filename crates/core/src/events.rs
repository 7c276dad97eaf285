//! The sync server's writeback events explained: each event, by its id — and for ADSync 6329 by
//! the sub-code in its message — mapped to what happened, the usual cause and what to do, from
//! Microsoft's tables (reference/writeback-events.csv, with its sources), newest first and grouped.

use serde::Serialize;

use crate::sync_engine::WinEvent;

/// Microsoft's event tables, as extracted (the file's first lines name the pages and commits).
const CATALOGUE: &str = include_str!("../../../reference/writeback-events.csv");

/// One row of the catalogue.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Known {
    /// `31009`, or `6329/0x80230619` for a 6329 variant, or `hr=…` where no event id is given.
    pub key: String,
    pub source: String,
    pub meaning: String,
    pub cause: String,
    pub remedy: String,
    pub source_doc: String,
}

/// The catalogue's rows (the comment lines skipped).
pub fn catalogue() -> Vec<Known> {
    let body: String = CATALOGUE.lines().filter(|l| !l.starts_with('#')).map(|l| format!("{l}\n")).collect();
    let mut reader = csv::ReaderBuilder::new().has_headers(true).flexible(true).from_reader(body.as_bytes());
    reader
        .records()
        .filter_map(Result::ok)
        .map(|r| {
            let field = |i: usize| r.get(i).unwrap_or_default().trim().to_string();
            Known {
                key: field(0),
                source: field(1),
                meaning: field(3),
                cause: field(4),
                remedy: field(5),
                source_doc: field(6),
            }
        })
        .collect()
}

/// An event with what Microsoft says of it.
#[derive(Debug, Clone, Serialize)]
pub struct Explained {
    pub id: u32,
    pub provider: String,
    pub time: String,
    pub level: Option<String>,
    pub message: String,
    /// The catalogue row that matched (its key says whether by id or by sub-code).
    pub known: Option<Known>,
}

/// Events with the same catalogue row, newest first.
#[derive(Debug, Clone, Serialize)]
pub struct Group {
    pub key: String,
    pub count: usize,
    pub newest: String,
    pub meaning: String,
    pub remedy: String,
}

/// What `diagnose` answers.
#[derive(Debug, Clone, Serialize)]
pub struct Diagnosis {
    /// Newest first.
    pub events: Vec<Explained>,
    /// By catalogue row, the group with the newest event first; events no row knows are under
    /// their bare id.
    pub groups: Vec<Group>,
    /// The users the events name, each checked against its DC (when one is reachable).
    pub users: Vec<NamedUser>,
    /// Why the users were not checked, when they were not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub users_not_checked: Option<String>,
}

/// A user an event names (by user principal name), and what its DC says of it.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct NamedUser {
    pub name: String,
    /// How many events name it, and the newest one's time.
    pub events: usize,
    pub newest: String,
    /// Its DN, when a connected forest holds it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dn: Option<String>,
    /// Under one of writeback's scopes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub in_scope: Option<bool>,
    /// adminCount=1.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub protected: Option<bool>,
    /// The connector account's access to it now, as Windows decides it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reachable: Option<bool>,
    /// Its password is younger than its policy's minimum age.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub password_too_young: Option<bool>,
    /// What the checks say, in words.
    pub verdict: String,
}

/// The user principal names in an event's message: `name@domain.tld`, with the characters a UPN
/// may hold, and a dot in the domain part.
pub fn upns(message: &str) -> Vec<String> {
    let ok = |c: char| c.is_alphanumeric() || "._-+'".contains(c);
    let mut out: Vec<String> = Vec::new();
    for word in message.split(|c: char| c.is_whitespace() || ",;:()[]<>\"=/\\".contains(c)) {
        let word = word.trim_matches(|c: char| c == '.' || c == '\'');
        let Some((local, domain)) = word.split_once('@') else { continue };
        let good = !local.is_empty()
            && local.chars().all(ok)
            && domain.contains('.')
            && !domain.starts_with('.')
            && domain.chars().all(|c| c.is_alphanumeric() || c == '.' || c == '-');
        if good && !out.iter().any(|u| u.eq_ignore_ascii_case(word)) {
            out.push(word.to_string());
        }
    }
    out
}

/// The users `events` name, with how many events name each and the newest one's time, most
/// recently named first.
pub fn named(events: &[Explained]) -> Vec<NamedUser> {
    let mut out: Vec<NamedUser> = Vec::new();
    for e in events {
        for upn in upns(&e.message) {
            match out.iter_mut().find(|u| u.name.eq_ignore_ascii_case(&upn)) {
                Some(u) => u.events += 1,
                None => out.push(NamedUser {
                    name: upn,
                    events: 1,
                    newest: e.time.clone(),
                    dn: None,
                    in_scope: None,
                    protected: None,
                    reachable: None,
                    password_too_young: None,
                    verdict: "not checked".into(),
                }),
            }
        }
    }
    out
}

/// The catalogue row for `e`: a 6329's sub-code first (0x8023…, MMS(3040), ERROR_ACCESS_DENIED),
/// then the id; an `hr=` or `0x…` code named in any message where the tables key by it.
pub fn explain_one(rows: &[Known], e: &WinEvent) -> Option<Known> {
    let message = e.message.to_ascii_lowercase();
    let by_code = rows.iter().find(|r| {
        let key = r.key.to_ascii_lowercase();
        match key.split_once('/') {
            Some((id, sub)) => id == e.id.to_string() && message.contains(sub),
            None => {
                (key.starts_with("hr=") || key.starts_with("0x")) && message.contains(key.trim_start_matches("hr="))
            }
        }
    });
    by_code.or_else(|| rows.iter().find(|r| r.key == e.id.to_string())).cloned()
}

/// Explains and groups `events`.
pub fn diagnose(events: &[WinEvent]) -> Diagnosis {
    let rows = catalogue();
    let mut explained: Vec<Explained> = events
        .iter()
        .map(|e| Explained {
            id: e.id,
            provider: e.provider_name.clone(),
            time: e.time_created.clone(),
            level: e.level_display_name.clone(),
            message: e.message.clone(),
            known: explain_one(&rows, e),
        })
        .collect();
    // RFC 3339 times in UTC sort as text.
    explained.sort_by(|a, b| b.time.cmp(&a.time));
    let mut groups: Vec<Group> = Vec::new();
    for e in &explained {
        let key = e.known.as_ref().map(|k| k.key.clone()).unwrap_or_else(|| e.id.to_string());
        match groups.iter_mut().find(|g| g.key == key) {
            Some(g) => g.count += 1,
            None => groups.push(Group {
                key,
                count: 1,
                newest: e.time.clone(),
                meaning: e
                    .known
                    .as_ref()
                    .map(|k| k.meaning.clone())
                    .unwrap_or_else(|| "not in Microsoft's writeback event tables".into()),
                remedy: e.known.as_ref().map(|k| k.remedy.clone()).unwrap_or_default(),
            }),
        }
    }
    let users = named(&explained);
    Diagnosis { events: explained, groups, users, users_not_checked: None }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(id: u32, time: &str, message: &str) -> WinEvent {
        WinEvent {
            id,
            provider_name: "PasswordResetService".into(),
            time_created: time.into(),
            level_display_name: None,
            message: message.into(),
        }
    }

    #[test]
    fn every_row_of_microsofts_tables_is_read_with_its_remedy_and_source() {
        let rows = catalogue();
        assert!(rows.len() >= 50, "{}", rows.len());
        assert!(
            rows.iter().all(|r| !r.key.is_empty() && !r.meaning.is_empty() && !r.source_doc.is_empty()),
            "{rows:#?}"
        );
        assert!(rows.iter().any(|r| r.key == "33004" && r.meaning.starts_with("ADPermissionsError")));
    }

    #[test]
    fn a_6329_is_told_apart_by_its_sub_code_and_events_are_grouped_newest_first() {
        let events = [
            ev(
                6329,
                "2026-12-06T10:00:00Z",
                "BAIL: MMS(4924) 0x80230619: A restriction prevents the password from being changed",
            ),
            ev(33004, "2026-12-06T11:00:00Z", "ADPermissionsError for u@corp.example"),
            ev(
                6329,
                "2026-12-06T09:00:00Z",
                "password synchronization is not enabled on this management agent 0x8023061F",
            ),
            ev(33004, "2026-12-06T08:00:00Z", "ADPermissionsError for v@corp.example"),
            ev(4242, "2026-12-06T07:00:00Z", "something else"),
        ];
        let d = diagnose(&events);
        assert_eq!(d.events[0].id, 33004, "newest first");
        let keys: Vec<&str> = d.groups.iter().map(|g| g.key.as_str()).collect();
        assert_eq!(keys, vec!["33004", "6329/0x80230619", "6329/0x8023061f", "4242"]);
        assert_eq!(d.groups[0].count, 2);
        assert!(d.groups[3].meaning.contains("not in Microsoft's"));
        assert!(!d.groups[1].remedy.is_empty());
        // The users they name, most recently named first, each once.
        let names: Vec<(&str, usize)> = d.users.iter().map(|u| (u.name.as_str(), u.events)).collect();
        assert_eq!(names, vec![("u@corp.example", 1), ("v@corp.example", 1)]);
    }

    #[test]
    fn user_principal_names_are_read_out_of_messages() {
        assert_eq!(
            upns("ADPermissionsError (user anna.berg@corp.example.com, CN=Anna,DC=corp)"),
            vec!["anna.berg@corp.example.com"]
        );
        assert_eq!(
            upns("UserPrincipalName: 'o.brien@contoso.com'. Again O.Brien@contoso.com."),
            vec!["o.brien@contoso.com"]
        );
        assert!(upns("mail me at nobody@localhost, or @x.y, or a@.b").is_empty());
        assert!(upns("no user here: 0x80230619").is_empty());
    }
}
