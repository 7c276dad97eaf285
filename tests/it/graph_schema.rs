//! Conformance: every Graph response the simulator serves is checked against Microsoft's schema
//! (tests/fixtures/graph-v1-subset.yaml, a copy of the reference with its source line). Unknown
//! properties fail, except `@odata.*` annotations and on open types (group, administrativeUnit);
//! `id` of entities and `value` of collections are required; non-nullable properties may not be
//! null; items of a directoryObject collection are checked against the type their `@odata.type`
//! names.

use serde_json::Value;

use crate::tenant::{GA, HIA, Sim, TENANT, VIA_GROUP};

pub struct Schema {
    doc: Value,
}

impl Schema {
    pub fn load() -> Schema {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/graph-v1-subset.yaml");
        let text = std::fs::read_to_string(path).unwrap();
        Schema { doc: serde_yaml_ng::from_str(&text).unwrap() }
    }

    fn named(&self, name: &str) -> &Value {
        let s = &self.doc["components"]["schemas"][name];
        assert!(!s.is_null(), "no schema named {name}");
        s
    }

    /// Properties of a type including its base types; whether it is open; whether it is an entity.
    fn properties(&self, name: &str) -> (serde_json::Map<String, Value>, bool, bool) {
        let mut props = serde_json::Map::new();
        let mut open = false;
        let mut entity = false;
        let mut current = Some(name.to_string());
        while let Some(n) = current {
            let s = self.named(&n);
            if let Some(p) = s["properties"].as_object() {
                for (k, v) in p {
                    props.entry(k.clone()).or_insert(v.clone());
                }
            }
            open |= s["x-openType"].as_bool().unwrap_or(false);
            entity |= n == "microsoft.graph.entity";
            current = s["x-baseType"].as_str().map(String::from);
        }
        (props, open, entity)
    }

    /// Errors of `value` against the named type.
    pub fn check_type(&self, name: &str, value: &Value, path: &str, errors: &mut Vec<String>) {
        let schema = self.named(name);
        if let Some(options) = schema["enum"].as_array() {
            if !options.contains(value) {
                errors.push(format!("{path}: {value} is not one of {name}'s values"));
            }
            return;
        }
        let Some(obj) = value.as_object() else {
            errors.push(format!("{path}: expected a {name} object, got {value}"));
            return;
        };
        let (props, open, entity) = self.properties(name);
        if entity && !obj.contains_key("id") {
            errors.push(format!("{path}: required property 'id' of {name} is missing"));
        }
        for (k, v) in obj {
            if k.starts_with("@odata.") {
                continue;
            }
            match props.get(k) {
                Some(p) => self.check_property(p, v, &format!("{path}.{k}"), errors),
                None if open => {}
                None => errors.push(format!("{path}: unknown property '{k}' on {name}")),
            }
        }
    }

    fn check_property(&self, p: &Value, v: &Value, path: &str, errors: &mut Vec<String>) {
        if v.is_null() {
            if p["x-nullable"] == Value::Bool(false) {
                errors.push(format!("{path}: null, but the property is not nullable"));
            }
            return;
        }
        if let Some(r) = p["$ref"].as_str() {
            let target = r.trim_start_matches("#/components/schemas/");
            if target == "microsoft.graph.directoryObject" {
                match v["@odata.type"].as_str() {
                    Some(t) => self.check_type(t.trim_start_matches('#'), v, path, errors),
                    None => errors.push(format!("{path}: a directoryObject item without @odata.type")),
                }
            } else {
                self.check_type(target, v, path, errors);
            }
            return;
        }
        match p["type"].as_str() {
            Some("string") => match v.as_str() {
                None => errors.push(format!("{path}: expected a string, got {v}")),
                Some(s) => match p["format"].as_str() {
                    Some("uuid") if uuid::Uuid::parse_str(s).is_err() => {
                        errors.push(format!("{path}: '{s}' is not a uuid"))
                    }
                    Some("date-time")
                        if time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339).is_err() =>
                    {
                        errors.push(format!("{path}: '{s}' is not an RFC 3339 date-time"))
                    }
                    _ => {}
                },
            },
            Some("boolean") if !v.is_boolean() => errors.push(format!("{path}: expected a boolean, got {v}")),
            Some("integer")
                if !(v.is_i64()
                    && (p["format"] != "int32" || v.as_i64().is_some_and(|n| i32::try_from(n).is_ok()))) =>
            {
                errors.push(format!("{path}: expected an integer, got {v}"))
            }
            Some("array") => match v.as_array() {
                None => errors.push(format!("{path}: expected an array, got {v}")),
                Some(items) => {
                    for (i, item) in items.iter().enumerate() {
                        self.check_property(&p["items"], item, &format!("{path}[{i}]"), errors);
                    }
                }
            },
            Some("object") => {
                let props = p["properties"].as_object().cloned().unwrap_or_default();
                let Some(obj) = v.as_object() else {
                    errors.push(format!("{path}: expected an object"));
                    return;
                };
                if props.contains_key("value") && !obj.contains_key("value") {
                    errors.push(format!("{path}: a collection without 'value'"));
                }
                for (k, item) in obj {
                    match props.get(k) {
                        Some(ps) => self.check_property(ps, item, &format!("{path}.{k}"), errors),
                        None if k.starts_with("@odata.") => {}
                        None => errors.push(format!("{path}: unknown property '{k}'")),
                    }
                }
            }
            _ => {}
        }
    }

    /// Errors of a 200 response body for `GET template` (a path of the reference).
    pub fn check_response(&self, template: &str, body: &Value) -> Vec<String> {
        let schema = &self.doc["paths"][template]["get"]["responses"]["200"]["content"]["application/json"]["schema"];
        assert!(!schema.is_null(), "no GET 200 schema for {template}");
        let mut errors = Vec::new();
        self.check_property(schema, body, template, &mut errors);
        errors
    }
}

#[test]
fn the_validator_can_fail() {
    let s = Schema::load();
    let role = serde_json::json!({"@odata.type": "#microsoft.graph.directoryRole", "id": "x", "displayName": "r", "roleTemplateId": "t"});
    let ok = serde_json::json!({"value": [role.clone()]});
    assert!(s.check_response("/me/memberOf", &ok).is_empty());
    let mut extra = role.clone();
    extra["madeUp"] = Value::Bool(true);
    assert!(
        s.check_response("/me/memberOf", &serde_json::json!({"value": [extra]}))[0]
            .contains("unknown property 'madeUp'")
    );
    let mut group = serde_json::json!({"@odata.type": "#microsoft.graph.group", "id": "g"});
    group["dynamicOnOpenType"] = Value::Bool(true);
    assert!(
        s.check_response("/me/memberOf", &serde_json::json!({"value": [group]})).is_empty(),
        "group is an open type"
    );
    let no_id = serde_json::json!({"value": [{"@odata.type": "#microsoft.graph.directoryRole"}]});
    assert!(s.check_response("/me/memberOf", &no_id)[0].contains("'id'"));
    let untyped = serde_json::json!({"value": [{"id": "x"}]});
    assert!(s.check_response("/me/memberOf", &untyped)[0].contains("without @odata.type"));
    assert!(s.check_response("/me/memberOf", &serde_json::json!({}))[0].contains("without 'value'"));
    let bad_org = serde_json::json!({"value": [{"id": "o", "verifiedDomains": null, "onPremisesSyncEnabled": "yes"}]});
    let errs = s.check_response("/organization", &bad_org);
    assert!(
        errs.iter().any(|e| e.contains("not nullable")) && errs.iter().any(|e| e.contains("expected a boolean")),
        "{errs:?}"
    );
    let bad_date = serde_json::json!({"value": [{"id": "o", "onPremisesLastSyncDateTime": "yesterday"}]});
    assert!(s.check_response("/organization", &bad_date)[0].contains("RFC 3339"));
    let bad_enum = serde_json::json!({"value": [{"id": "o", "mobileDeviceManagementAuthority": "mdm"}]});
    assert!(s.check_response("/organization", &bad_enum)[0].contains("not one of"));
}

#[tokio::test]
async fn every_graph_response_of_the_simulator_matches_microsofts_schema() {
    let schema = Schema::load();
    let sim = Sim::hybrid().await;
    let ga = sim.access(GA).await;
    let hia = sim.access(HIA).await;
    let group_user = sim.access(VIA_GROUP).await;
    let pim = sim.access(("pim@contosohybrid.onmicrosoft.com", "Prv-Passw0rd!")).await;
    let user_read = sim.user_read_token(GA).await;
    let calls: Vec<(&str, &String, String)> = vec![
        ("/me", &ga, "/v1.0/me".into()),
        ("/me", &ga, "/v1.0/me?$select=id,displayName,onPremisesSyncEnabled,accountEnabled,userType".into()),
        ("/me/memberOf", &ga, "/v1.0/me/memberOf".into()),
        ("/me/memberOf", &group_user, "/v1.0/me/memberOf".into()),
        ("/me/memberOf", &hia, "/v1.0/me/memberOf/microsoft.graph.directoryRole?$count=true".into()),
        ("/roleManagement/directory/roleAssignments", &ga, "/v1.0/roleManagement/directory/roleAssignments".into()),
        ("/roleManagement/directory/roleAssignments", &ga, "/v1.0/roleManagement/directory/roleAssignments?$filter=principalId%20eq%20'0a000000-0000-4000-8000-000000000001'".into()),
        ("/organization", &ga, "/v1.0/organization".into()),
        ("/organization", &user_read, "/v1.0/organization".into()),
        ("/subscribedSkus", &ga, "/v1.0/subscribedSkus".into()),
        ("/directory/onPremisesSynchronization", &ga, "/v1.0/directory/onPremisesSynchronization".into()),
        ("/directory/onPremisesSynchronization/{id}", &ga, format!("/v1.0/directory/onPremisesSynchronization/{TENANT}")),
        ("/domains", &ga, "/v1.0/domains".into()),
        ("/roleManagement/directory/roleEligibilityScheduleInstances", &ga, "/v1.0/roleManagement/directory/roleEligibilityScheduleInstances".into()),
        ("/roleManagement/directory/roleEligibilityScheduleInstances", &pim, "/v1.0/roleManagement/directory/roleEligibilityScheduleInstances?$filter=principalId%20eq%20'0a000000-0000-4000-8000-000000000009'".into()),
    ];
    let mut failures = Vec::new();
    for (template, token, url) in &calls {
        let (status, _, body) = sim.graph(token, url).await;
        assert_eq!(status, reqwest::StatusCode::OK, "{url}: {body}");
        for e in schema.check_response(template, &body) {
            failures.push(format!("{url}: {e}"));
        }
    }
    // The default tenant's SKU and organisation too.
    let plain = Sim::start(writeback_lab::tenant::Fixture::default()).await;
    let info = plain.running.info().clone();
    let (_, body) = plain
        .token_request(&[
            ("grant_type", "password"),
            ("client_id", "c"),
            ("username", &info.admin_upn),
            ("password", &info.admin_password),
            ("scope", crate::tenant::ALL_SCOPES),
        ])
        .await;
    let token = body["access_token"].as_str().unwrap().to_string();
    for (template, url) in [
        ("/subscribedSkus", "/v1.0/subscribedSkus"),
        ("/organization", "/v1.0/organization"),
        ("/me/memberOf", "/v1.0/me/memberOf"),
    ] {
        let (_, _, body) = plain.graph(&token, url).await;
        failures.extend(schema.check_response(template, &body).into_iter().map(|e| format!("default {url}: {e}")));
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
