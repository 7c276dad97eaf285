//! Does the tenant hold a licence that carries Entra ID P1 or P2? Decided by service plan ID, never
//! by SKU name: names are renamed, and some mislead (`O365_BUSINESS_PREMIUM` is Business
//! *Standard*, with no P1).

use std::sync::OnceLock;

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The AAD_PREMIUM service plan (Entra ID P1).
pub const AAD_PREMIUM: &str = "41781fb2-bc02-4b7c-bd55-b576c07bb09d";
/// The AAD_PREMIUM_P2 service plan (Entra ID P2).
pub const AAD_PREMIUM_P2: &str = "eec0eb4f-6444-4f95-aba0-50c24d67f998";

/// Microsoft's product names and service plans (a subset of "Product names and service plan
/// identifiers for licensing"); the file keeps its source line.
const CSV: &str = include_str!("data/licensing-subset.csv");

/// One row of the licence table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KnownSku {
    pub part_number: String,
    pub sku_id: String,
    /// The product's display name.
    pub product_name: String,
    /// Whether it carries Entra ID P1.
    pub grants_p1: bool,
    /// Whether it carries Entra ID P2.
    pub grants_p2: bool,
}

/// The table, parsed once.
pub fn known_skus() -> &'static [KnownSku] {
    static TABLE: OnceLock<Vec<KnownSku>> = OnceLock::new();
    TABLE.get_or_init(|| {
        CSV.lines()
            .filter(|l| !l.starts_with('#') && !l.starts_with("skuPartNumber,"))
            .filter_map(|l| {
                let f: Vec<&str> = l.split(',').collect();
                (f.len() >= 6).then(|| KnownSku {
                    part_number: f[0].to_string(),
                    sku_id: f[1].to_ascii_lowercase(),
                    product_name: f[2].to_string(),
                    grants_p1: f[4] == "true",
                    grants_p2: f[5] == "true",
                })
            })
            .collect()
    })
}

fn known(sku_id: &str) -> Option<&'static KnownSku> {
    known_skus().iter().find(|k| k.sku_id.eq_ignore_ascii_case(sku_id))
}

/// A service plan entry of a subscribed SKU (Graph's `servicePlanInfo`).
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ServicePlan {
    service_plan_id: Option<String>,
    service_plan_name: Option<String>,
    provisioning_status: Option<String>,
}

/// A subscribed SKU (Graph's `subscribedSku`), the fields the verdict reads.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
struct SubscribedSku {
    sku_id: Option<String>,
    sku_part_number: Option<String>,
    capability_status: Option<String>,
    #[serde(default)]
    service_plans: Vec<ServicePlan>,
}

/// A SKU that grants the licence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Grant {
    pub sku_part_number: String,
    pub sku_id: String,
    /// The product's name, when the table knows it.
    pub product_name: Option<String>,
    /// AAD_PREMIUM or AAD_PREMIUM_P2.
    pub service_plan_name: String,
    /// Enabled or Warning.
    pub capability_status: String,
    /// A SKU for meeting rooms or shared devices (Teams Rooms, Teams Shared Devices): it carries
    /// P1 for the device's account, not for people.
    pub for_devices: bool,
}

/// The SKUs that carry Entra ID P1 for a room or a shared device, by part-number family (as the
/// licence table names them: MEETING_ROOM*, Microsoft_Teams_Rooms_*, MCOCAP*).
pub fn for_devices(part_number: &str) -> bool {
    ["MEETING_ROOM", "Microsoft_Teams_Rooms", "MCOCAP"].iter().any(|p| part_number.starts_with(p))
}

/// A SKU that does not count, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NotCounted {
    pub sku_part_number: String,
    /// The product's name, when the table knows it.
    pub product_name: Option<String>,
    /// Why it does not count.
    pub why: String,
}

/// The licence verdict (`licences` and `entra check`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LicenceVerdict {
    /// A P1- or P2-bearing SKU is usable.
    pub eligible: bool,
    /// The SKUs that make it so.
    pub granted_by: Vec<Grant>,
    /// Grace periods, provisioning still under way.
    pub warnings: Vec<String>,
    /// One sentence: why eligible or not.
    pub reason: String,
    /// The other SKUs, and why they do not count.
    pub not_counted: Vec<NotCounted>,
}

/// Why the input is not a list of subscribed SKUs.
#[derive(Debug, thiserror::Error)]
#[error("not a list of subscribedSku objects ({detail}); give Graph's {{\"value\": [...]}} answer or a bare array")]
pub struct LicenceInputError {
    /// The parser's message.
    pub detail: String,
}

/// Decides from Graph's `/subscribedSkus` answer (`{"value": [...]}`) or a bare array.
pub fn verdict_from_json(input: &Value) -> Result<LicenceVerdict, LicenceInputError> {
    let list = match input {
        Value::Array(_) => input.clone(),
        Value::Object(o) => {
            o.get("value").cloned().ok_or_else(|| LicenceInputError { detail: "an object without \"value\"".into() })?
        }
        _ => return Err(LicenceInputError { detail: "neither an object nor an array".into() }),
    };
    let skus: Vec<SubscribedSku> =
        serde_json::from_value(list).map_err(|e| LicenceInputError { detail: e.to_string() })?;
    Ok(decide(&skus))
}

fn decide(skus: &[SubscribedSku]) -> LicenceVerdict {
    let mut granted_by = Vec::new();
    let mut warnings = Vec::new();
    let mut not_counted = Vec::new();
    for sku in skus {
        let part = sku.sku_part_number.clone().unwrap_or_else(|| "(unnamed)".into());
        let sku_id = sku.sku_id.clone().unwrap_or_default();
        let product = known(&sku_id).map(|k| k.product_name.clone());
        let status = sku.capability_status.clone().unwrap_or_default();
        let premium: Vec<&ServicePlan> = sku
            .service_plans
            .iter()
            .filter(|p| {
                p.service_plan_id
                    .as_deref()
                    .is_some_and(|id| id.eq_ignore_ascii_case(AAD_PREMIUM) || id.eq_ignore_ascii_case(AAD_PREMIUM_P2))
            })
            .collect();
        let label = product.clone().map(|p| format!("{part} ({p})")).unwrap_or_else(|| part.clone());
        if premium.is_empty() {
            let why = match product.as_deref() {
                Some(p) => format!("{p} includes no Microsoft Entra ID P1 or P2 service plan"),
                None => "it includes no Microsoft Entra ID P1 or P2 service plan".into(),
            };
            not_counted.push(NotCounted { sku_part_number: part, product_name: product, why });
            continue;
        }
        if !matches!(status.as_str(), "Enabled" | "Warning") {
            not_counted.push(NotCounted {
                sku_part_number: part,
                product_name: product,
                why: format!("its subscription is {status} (only Enabled, or Warning during a grace period, count)"),
            });
            continue;
        }
        let usable: Vec<&&ServicePlan> = premium
            .iter()
            .filter(|p| p.provisioning_status.as_deref().is_some_and(|s| s == "Success" || s.starts_with("Pending")))
            .collect();
        let Some(plan) = usable.iter().find(|p| p.provisioning_status.as_deref() == Some("Success")).or(usable.first())
        else {
            let states: Vec<String> =
                premium.iter().map(|p| p.provisioning_status.clone().unwrap_or_default()).collect();
            not_counted.push(NotCounted {
                sku_part_number: part,
                product_name: product,
                why: format!(
                    "its Entra ID service plan is {} (Disabled and ErrorStatus do not count)",
                    states.join("/")
                ),
            });
            continue;
        };
        let plan_name = plan.service_plan_name.clone().unwrap_or_else(|| {
            if plan.service_plan_id.as_deref().is_some_and(|id| id.eq_ignore_ascii_case(AAD_PREMIUM_P2)) {
                "AAD_PREMIUM_P2".into()
            } else {
                "AAD_PREMIUM".into()
            }
        });
        if status == "Warning" {
            warnings.push(format!(
                "{label} is in its grace period (capabilityStatus Warning): renew it before it is suspended"
            ));
        }
        if let Some(s) = plan.provisioning_status.as_deref().filter(|s| s.starts_with("Pending")) {
            warnings.push(format!("{label}'s {plan_name} plan is still being provisioned ({s}); writeback may not work until it is Success"));
        }
        let devices = for_devices(&part);
        if devices {
            warnings.push(format!(
                "{label} carries Entra ID P1 for meeting rooms and shared devices, not for people: it is counted, but the users who reset their passwords need a user licence that includes Entra ID P1 or P2"
            ));
        }
        granted_by.push(Grant {
            for_devices: devices,
            sku_part_number: part,
            sku_id,
            product_name: product,
            service_plan_name: plan_name,
            capability_status: status,
        });
    }
    let eligible = !granted_by.is_empty();
    if eligible && granted_by.iter().all(|g| g.for_devices) {
        warnings.push("every licence that carries Entra ID P1 here is for meeting rooms or shared devices: add a user licence that includes Entra ID P1 or P2 for the people who will use writeback".into());
    }
    let reason = if eligible {
        let names: Vec<String> =
            granted_by.iter().map(|g| g.product_name.clone().unwrap_or_else(|| g.sku_part_number.clone())).collect();
        format!("password writeback is licensed through {}", names.join(", "))
    } else if skus.is_empty() {
        "the tenant has no subscriptions: password writeback needs a licence that includes Microsoft Entra ID P1 or P2 (for example Entra ID P1, EMS E3, Microsoft 365 E3 or Business Premium)".into()
    } else {
        "no subscription carries a usable Microsoft Entra ID P1 or P2 plan: add one (for example Entra ID P1, EMS E3, Microsoft 365 E3 or Business Premium); each SKU that does not count is listed with the reason".into()
    };
    LicenceVerdict { eligible, granted_by, warnings, reason, not_counted }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn sku(part: &str, status: &str, plans: &[(&str, &str)]) -> Value {
        let sku_id = known_skus()
            .iter()
            .find(|k| k.part_number == part)
            .map(|k| k.sku_id.clone())
            .unwrap_or_else(|| "00000000-0000-0000-0000-000000000000".into());
        json!({
            "skuId": sku_id, "skuPartNumber": part, "capabilityStatus": status,
            "servicePlans": plans.iter().map(|(id, st)| json!({"servicePlanId": id, "servicePlanName": if *id == AAD_PREMIUM { "AAD_PREMIUM" } else if *id == AAD_PREMIUM_P2 { "AAD_PREMIUM_P2" } else { "OTHER" }, "provisioningStatus": st})).collect::<Vec<_>>()
        })
    }

    #[test]
    fn room_and_shared_device_skus_count_and_are_flagged() {
        let rooms = sku("MEETING_ROOM", "Enabled", &[(AAD_PREMIUM, "Success")]);
        let v = verdict_from_json(&json!([rooms.clone()])).unwrap();
        assert!(v.eligible && v.granted_by[0].for_devices);
        assert!(v.warnings.iter().any(|w| w.contains("meeting rooms and shared devices, not for people")), "{v:?}");
        assert!(v.warnings.iter().any(|w| w.starts_with("every licence that carries Entra ID P1 here")), "{v:?}");
        let both =
            verdict_from_json(&json!([rooms, sku("AAD_PREMIUM", "Enabled", &[(AAD_PREMIUM, "Success")])])).unwrap();
        assert!(!both.warnings.iter().any(|w| w.starts_with("every licence")), "{both:?}");
        let families: Vec<&str> =
            known_skus().iter().filter(|k| for_devices(&k.part_number)).map(|k| k.product_name.as_str()).collect();
        assert!(
            families.len() >= 9 && families.iter().all(|n| n.contains("Teams Rooms") || n.contains("Shared Devices")),
            "{families:?}"
        );
    }

    #[test]
    fn the_table_is_loaded_with_its_traps() {
        let t = known_skus();
        assert!(t.len() > 60);
        let std = t.iter().find(|k| k.part_number == "O365_BUSINESS_PREMIUM").unwrap();
        assert_eq!(std.product_name, "Microsoft 365 Business Standard");
        assert!(!std.grants_p1);
        assert!(t.iter().find(|k| k.part_number == "SPB").unwrap().grants_p1);
    }

    #[test]
    fn every_licence_the_seed_names() {
        // Azure AD Premium P1/P2, EMS E3/E5 (and A3/A5), Microsoft 365 E3/A3, E5/A5, F1, Business (Premium).
        for part in [
            "AAD_PREMIUM",
            "AAD_PREMIUM_P2",
            "EMS",
            "EMSPREMIUM",
            "EMS_EDU_FACULTY",
            "SPE_E3",
            "M365EDU_A3_FACULTY",
            "SPE_E5",
            "M365EDU_A5_FACULTY",
            "M365_F1",
            "SPB",
        ] {
            let k = known_skus()
                .iter()
                .find(|k| k.part_number == part)
                .unwrap_or_else(|| panic!("{part} not in the table"));
            let mut plans = vec![(AAD_PREMIUM, "Success")];
            if k.grants_p2 {
                plans.push((AAD_PREMIUM_P2, "Success"));
            }
            let v = verdict_from_json(&json!([sku(part, "Enabled", &plans)])).unwrap();
            assert!(v.eligible, "{part}: {v:?}");
            assert_eq!(v.granted_by[0].sku_part_number, part);
            assert_eq!(v.granted_by[0].product_name.as_deref(), Some(k.product_name.as_str()));
        }
    }

    #[test]
    fn traps_and_states() {
        // Business Standard, Office 365 E3/E5: no P1.
        for part in ["O365_BUSINESS_PREMIUM", "ENTERPRISEPACK", "ENTERPRISEPREMIUM"] {
            let v = verdict_from_json(
                &json!({"value": [sku(part, "Enabled", &[("113feb6c-3fe4-4440-bddc-54d774bf0318", "Success")])]}),
            )
            .unwrap();
            assert!(!v.eligible, "{part}");
            assert!(v.not_counted[0].why.contains("no Microsoft Entra ID P1 or P2"), "{v:?}");
        }
        let v = verdict_from_json(&json!([sku("O365_BUSINESS_PREMIUM", "Enabled", &[])])).unwrap();
        assert!(v.not_counted[0].why.starts_with("Microsoft 365 Business Standard includes no"));
        // Grace period and pending provisioning: eligible with warnings.
        let v = verdict_from_json(&json!([sku("EMS", "Warning", &[(AAD_PREMIUM, "PendingActivation")])])).unwrap();
        assert!(v.eligible);
        assert_eq!(v.warnings.len(), 2);
        assert!(v.warnings[0].contains("grace period") && v.warnings[1].contains("PendingActivation"));
        // Suspended, Disabled plan, ErrorStatus: not counted, each with its reason.
        for (status, plan) in
            [("Suspended", "Success"), ("LockedOut", "Success"), ("Enabled", "Disabled"), ("Enabled", "ErrorStatus")]
        {
            let v = verdict_from_json(&json!([sku("AAD_PREMIUM", status, &[(AAD_PREMIUM, plan)])])).unwrap();
            assert!(!v.eligible, "{status}/{plan}");
            assert!(v.not_counted[0].why.contains(if status == "Enabled" { plan } else { status }), "{v:?}");
        }
        // P2 wins the wording; no SKUs at all; bad input.
        let v = verdict_from_json(&json!([sku(
            "AAD_PREMIUM_P2",
            "Enabled",
            &[(AAD_PREMIUM, "Success"), (AAD_PREMIUM_P2, "Success")]
        )]))
        .unwrap();
        assert!(v.reason.ends_with("P1") || v.reason.ends_with("P2"));
        assert!(!verdict_from_json(&json!([])).unwrap().eligible);
        assert!(verdict_from_json(&json!({"skus": []})).is_err());
        assert!(verdict_from_json(&json!("x")).is_err());
    }
}
