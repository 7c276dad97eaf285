//! The security-descriptor codec against a real DC: every object's nTSecurityDescriptor, all
//! naming contexts, round-trips byte for byte; our SDDL equals Samba's rendering of the same
//! bytes; Samba's SDDL (and the schema's defaultSecurityDescriptor strings, Windows' own SDDL)
//! parse to the same content.

use std::collections::BTreeMap;
use std::io::Write;

use base64::Engine;
use ldap3::Scope;
use writeback_ad::sd::{SecurityDescriptor, Sid, SidContext};
use writeback_ad::{AdConnection, sd_flags_control};

use crate::support::LabDc;

/// Control bits SDDL cannot express.
fn sd_defaulted_bits() -> u16 {
    use writeback_ad::sd::{SE_DACL_DEFAULTED, SE_GROUP_DEFAULTED, SE_OWNER_DEFAULTED, SE_SACL_DEFAULTED};
    SE_OWNER_DEFAULTED | SE_GROUP_DEFAULTED | SE_DACL_DEFAULTED | SE_SACL_DEFAULTED
}

async fn all_descriptors(conn: &mut AdConnection, base: &str, flags: u8) -> BTreeMap<String, Vec<u8>> {
    let entries = conn
        .search_with(base, Scope::Subtree, "(objectClass=*)", &["nTSecurityDescriptor"], vec![sd_flags_control(flags)])
        .await
        .unwrap();
    entries
        .into_iter()
        .filter_map(|mut e| e.bin_attrs.remove("nTSecurityDescriptor").and_then(|mut v| v.pop()).map(|sd| (e.dn, sd)))
        .collect()
}

/// The same SDDL with the letter pairs of each rights field sorted. Samba 4.17 (Debian 12) writes
/// rights in an older order (`RPWPCRCCDC…`); Windows and current Samba write them in bit order
/// (`CCDCLCSW…`), as we do. Everything else must match to the character.
fn normalize_rights(sddl: &str) -> String {
    let mut out = String::new();
    let mut rest = sddl;
    while let Some(open) = rest.find('(') {
        out.push_str(&rest[..=open]);
        rest = &rest[open + 1..];
        let close = rest.find(')').unwrap_or(rest.len());
        let mut fields: Vec<String> = rest[..close].split(';').map(String::from).collect();
        if fields.len() == 6 && !fields[2].starts_with("0x") && fields[2].len().is_multiple_of(2) {
            let mut pairs: Vec<&str> = (0..fields[2].len()).step_by(2).map(|i| &fields[2][i..i + 2]).collect();
            pairs.sort_unstable();
            fields[2] = pairs.concat();
        }
        out.push_str(&fields.join(";"));
        rest = &rest[close..];
    }
    out.push_str(rest);
    out
}

/// Samba's own SDDL for each descriptor (its Python bindings, /usr/bin/python3).
fn samba_sddl(sds: &BTreeMap<String, Vec<u8>>, domain: &Sid) -> BTreeMap<String, String> {
    let script = r#"
import sys, base64
from samba.dcerpc import security
from samba.ndr import ndr_unpack
dom = security.dom_sid(sys.argv[1])
for line in sys.stdin:
    dn, b64 = line.rstrip("\n").split("\t")
    sd = ndr_unpack(security.descriptor, base64.b64decode(b64))
    print(dn + "\t" + sd.as_sddl(dom))
"#;
    let mut child = std::process::Command::new("/usr/bin/python3")
        .args(["-c", script, &domain.to_string()])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = String::new();
    for (dn, sd) in sds {
        input.push_str(&format!("{dn}\t{}\n", base64::engine::general_purpose::STANDARD.encode(sd)));
    }
    let mut stdin = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || stdin.write_all(input.as_bytes()));
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap().unwrap();
    assert!(out.status.success());
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| l.split_once('\t').map(|(a, b)| (a.to_string(), b.to_string())).unwrap())
        .collect()
}

#[tokio::test]
async fn every_descriptor_of_a_lab_dc_round_trips_and_matches_sambas_sddl() {
    let lab = LabDc::up();
    let mut conn = lab.admin().await;
    let root = conn.root_dse().await.unwrap();
    let domain_entry = conn.read("DC=lab,DC=example,DC=test", &["objectSid"]).await.unwrap().unwrap();
    let (domain, _) = Sid::decode(&domain_entry.bin_attrs["objectSid"][0], 0).unwrap();
    let ctx = SidContext::single(domain.clone());
    let contexts = &root["namingContexts"];
    assert!(contexts.len() >= 3, "{contexts:?}");

    let mut total = 0;
    let mut mismatches = Vec::new();
    for nc in contexts {
        // 0xF: owner, group, DACL and SACL; 0x4: the DACL alone, as the engine reads it.
        for flags in [0x0f_u8, 0x04] {
            let sds = all_descriptors(&mut conn, nc, flags).await;
            assert!(!sds.is_empty(), "{nc}");
            let samba = samba_sddl(&sds, &domain);
            for (dn, bytes) in &sds {
                total += 1;
                let sd = SecurityDescriptor::decode(bytes).unwrap_or_else(|e| panic!("{dn}: {e}"));
                assert_eq!(&sd.encode(), bytes, "decode→encode is not the identity for {dn}");
                let ours = sd.to_sddl(&ctx);
                let theirs = &samba[dn];
                if normalize_rights(&ours) != normalize_rights(theirs) {
                    mismatches.push(format!("{dn}\n  ours:  {ours}\n  samba: {theirs}"));
                }
                let mut parsed = SecurityDescriptor::from_sddl(theirs, &ctx)
                    .unwrap_or_else(|e| panic!("{dn}: Samba's SDDL does not parse: {e}\n{theirs}"));
                // SDDL carries neither ACL revisions nor the *_DEFAULTED control bits; take them
                // from the bytes.
                let defaulted = sd_defaulted_bits();
                parsed.control |= sd.control & defaulted;
                if let (Some(p), Some(d)) = (parsed.sacl.as_mut(), sd.sacl.as_ref()) {
                    p.revision = d.revision;
                }
                if let (Some(p), Some(d)) = (parsed.dacl.as_mut(), sd.dacl.as_ref()) {
                    p.revision = d.revision;
                }
                assert!(
                    parsed.same_content(&sd),
                    "{dn}: Samba's SDDL parses to other content\n  sddl: {theirs}\n  control {:#06x} vs {:#06x}\n  owner {:?} vs {:?}\n  group {:?} vs {:?}\n  sacl {:?}\n  vs   {:?}",
                    parsed.control,
                    sd.control,
                    parsed.owner,
                    sd.owner,
                    parsed.group,
                    sd.group,
                    parsed.sacl,
                    sd.sacl
                );
                assert_eq!(&parsed.encode(), bytes, "{dn}: Samba's SDDL does not give the DC's bytes");
            }
        }
    }
    assert!(total > 1000, "only {total} descriptors read");
    assert!(
        mismatches.is_empty(),
        "{} of {total} SDDL strings differ from Samba's:\n{}",
        mismatches.len(),
        mismatches.iter().take(5).cloned().collect::<Vec<_>>().join("\n")
    );

    // Windows' own SDDL: every classSchema's defaultSecurityDescriptor parses, and renders back
    // to the same content.
    let schema_nc = root["schemaNamingContext"][0].clone();
    let classes = conn
        .search(&schema_nc, Scope::OneLevel, "(defaultSecurityDescriptor=*)", &["defaultSecurityDescriptor"])
        .await
        .unwrap();
    assert!(classes.len() > 100);
    for c in &classes {
        let text = &c.attrs["defaultSecurityDescriptor"][0];
        let sd = SecurityDescriptor::from_sddl(text, &ctx).unwrap_or_else(|e| panic!("{}: {e}\n{text}", c.dn));
        let again = SecurityDescriptor::from_sddl(&sd.to_sddl(&ctx), &ctx).unwrap();
        assert!(again.same_content(&sd), "{}", c.dn);
    }

    // The fuzz corpus is real descriptors from this DC: refresh it with WRITEBACK_UPDATE_CORPUS=1.
    if std::env::var_os("WRITEBACK_UPDATE_CORPUS").is_some() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus/sd_decode");
        std::fs::create_dir_all(&dir).unwrap();
        let sds = all_descriptors(&mut conn, "DC=lab,DC=example,DC=test", 0x0f).await;
        let mut distinct: Vec<Vec<u8>> = sds.into_values().collect();
        distinct.sort();
        distinct.dedup();
        for (i, sd) in distinct.iter().step_by((distinct.len() / 40).max(1)).enumerate() {
            std::fs::write(dir.join(format!("lab-{i:03}.bin")), sd).unwrap();
        }
        let sddl_dir = dir.with_file_name("sddl_parse");
        std::fs::create_dir_all(&sddl_dir).unwrap();
        for (i, c) in classes.iter().step_by(8).enumerate() {
            std::fs::write(sddl_dir.join(format!("schema-{i:03}.sddl")), &c.attrs["defaultSecurityDescriptor"][0])
                .unwrap();
        }
    }
}

/// The in-tree corpus (real descriptors from a lab DC) decodes and round-trips.
#[test]
fn the_fuzz_corpus_round_trips() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus/sd_decode");
    let mut n = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let bytes = std::fs::read(entry.unwrap().path()).unwrap();
        let sd = SecurityDescriptor::decode(&bytes).unwrap();
        assert_eq!(sd.encode(), bytes);
        n += 1;
    }
    assert!(n >= 20, "{n} corpus files");
}
