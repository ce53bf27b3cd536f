//! The OpenAPI 3.1 document served at `GET /api/v1/openapi.json`, generated from
//! [`crate::api::operations`] (the same table that builds the router). Every schema in it is
//! derived from the Rust type the handler reads or writes (`utoipa`'s `ToSchema` and
//! `IntoParams`), with the constraints the server enforces written on the type; see
//! [`crate::api::schema`]. Only what JSON Schema cannot say on a Rust field is added here:
//! fields that exclude each other ([`refine`]).

use serde_json::{Map, Value, json};

use crate::api::operations;
use crate::api::schema::{Expiry, Payload, Role, Schemas, Timestamp, TokenId, UserName};
use crate::errors::ErrorBody;

fn reason(status: u16) -> &'static str {
    axum::http::StatusCode::from_u16(status)
        .ok()
        .and_then(|s| s.canonical_reason())
        .unwrap_or("")
}

fn reference(payload: &Payload) -> Value {
    json!({"$ref": format!("#/components/schemas/{}", (payload.name)())})
}

fn to_value<T: serde::Serialize>(v: &T) -> Value {
    serde_json::to_value(v).unwrap_or(Value::Null)
}

/// The whole document.
pub fn document() -> Value {
    let error = Payload::of::<ErrorBody<'static>>();
    let mut schemas: Schemas = Vec::new();
    for payload in [
        error,
        Payload::of::<TokenId>(),
        Payload::of::<UserName>(),
        Payload::of::<Role>(),
        Payload::of::<Timestamp>(),
        Payload::of::<Expiry>(),
    ] {
        (payload.collect)(&mut schemas);
    }
    let mut paths = Map::new();
    for op in operations() {
        let mut o = Map::new();
        o.insert("summary".into(), json!(op.summary));
        o.insert("tags".into(), json!([op.tag]));
        o.insert(
            "operationId".into(),
            json!(format!("{} {}", op.method, op.path)),
        );
        let params: Vec<Value> = op
            .params
            .iter()
            .flat_map(|p| p())
            .map(|p| to_value(&p))
            .collect();
        if !params.is_empty() {
            o.insert("parameters".into(), Value::Array(params));
        }
        if let Some(req) = &op.request {
            (req.payload.collect)(&mut schemas);
            let mut body = json!({"required": req.required,
                "content": {"application/json": {"schema": reference(&req.payload)}}});
            if !req.required {
                body["description"] = json!("May be left out: an empty body means every default.");
            }
            o.insert("requestBody".into(), body);
        }
        if op.path == "/api/v1/usage" {
            // `application/vnd.tollgate.usage-report` (what the edge sends) is accepted too.
            o.insert("requestBody".into(), json!({"required": true,
                "description": "A signed usage report (tollgate_shared::usage), as application/octet-stream or application/vnd.tollgate.usage-report.",
                "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}}));
        }
        if op.auth {
            o.insert("security".into(), json!([{"bearer": []}]));
        }
        let mut responses = Map::new();
        let (status, payloads) = &op.response;
        for p in payloads {
            (p.collect)(&mut schemas);
        }
        let ok = match (payloads.as_slice(), op.path) {
            ([one], _) => json!({"description": reason(*status),
                "content": {"application/json": {"schema": reference(one)}}}),
            ([_, _, ..], _) => json!({"description": reason(*status),
                "content": {"application/json": {"schema": {"oneOf": payloads.iter().map(reference).collect::<Vec<_>>()}}}}),
            ([], "/api/v1/revocations") => {
                json!({"description": "The signed list document (full or delta).",
                "headers": {"ETag": {"schema": {"type": "string"}}, "Cache-Control": {"schema": {"type": "string"}}},
                "content": {"application/vnd.tollgate.revocations": {"schema": {"type": "string", "format": "binary"}}}})
            }
            ([], "/metrics") => {
                json!({"description": reason(*status), "content": {"text/plain": {"schema": {"type": "string"}}}})
            }
            ([], "/api/v1/openapi.json") => {
                json!({"description": reason(*status), "content": {"application/json": {"schema": {"type": "object"}}}})
            }
            ([], _) => json!({"description": reason(*status)}),
        };
        responses.insert(status.to_string(), ok);
        if op.path == "/api/v1/revocations" {
            responses.insert(
                "304".into(),
                json!({"description": "Not Modified: the list held (If-None-Match or ?since=) is current."}),
            );
        }
        for e in op.errors {
            responses.insert(
                e.to_string(),
                json!({"description": reason(*e), "content": {"application/json": {"schema": reference(&error)}}}),
            );
        }
        o.insert("responses".into(), Value::Object(responses));
        let entry = paths
            .entry(op.path.to_owned())
            .or_insert_with(|| Value::Object(Map::new()));
        if let Some(item) = entry.as_object_mut() {
            item.insert(op.method.as_str().to_ascii_lowercase(), Value::Object(o));
        }
    }
    let mut components = Map::new();
    for (name, schema) in schemas {
        components.entry(name).or_insert_with(|| to_value(&schema));
    }
    refine(&mut components);
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "Tollgate admin API",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Users, roles and the token lifecycle; the signed revocation list the edge consumes."
        },
        "paths": paths,
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": components
        }
    })
}

/// What the derived schemas cannot say.
///
/// - Objects the server writes never carry a field their type does not declare, and every
///   request type refuses unknown fields (`deny_unknown_fields`, which `utoipa` already turns
///   into `additionalProperties: false`): so every object schema is closed.
/// - Bodies that must change something (`nothing_to_change`): `minProperties: 1`. (utoipa 5.5's
///   `#[schema(min_properties = ...)]` writes `maxProperties` instead, so it is set here.)
/// - Fields that exclude each other, as the server checks them: `expires_at` and `ttl_seconds`
///   ([`crate::rules::expiry::resolve`], `conflicting_expiry`); a user's `roles` and
///   `add_roles`/`remove_roles` (`conflicting_fields`); a service account and a password
///   (`password_not_allowed`), and a person without one (`password_required`).
fn refine(schemas: &mut Map<String, Value>) {
    for schema in schemas.values_mut() {
        close(schema);
    }
    let not_both = |a: &str, b: &str| json!({"not": {"required": [a, b]}});
    let rules = [
        (
            "CreateToken",
            vec![
                not_both("expires_at", "ttl_seconds"),
                // `create_service_account: true` names the account to create in `user`.
                json!({"anyOf": [
                    {"not": {"required": ["create_service_account"]}},
                    {"properties": {"create_service_account": {"const": false}}},
                    {"required": ["user"]}
                ]}),
            ],
        ),
        ("PatchToken", vec![not_both("expires_at", "ttl_seconds")]),
        ("Regenerate", vec![not_both("expires_at", "ttl_seconds")]),
        (
            "PatchUser",
            vec![
                not_both("roles", "add_roles"),
                not_both("roles", "remove_roles"),
                json!({"not": {"required": ["service_account", "password"],
                    "properties": {"service_account": {"const": true}}}}),
            ],
        ),
        // A person has a password, a service account none (`password_required`,
        // `password_not_allowed`).
        (
            "CreateUser",
            vec![json!({"oneOf": [
                {"required": ["password"], "properties": {"service_account": {"const": false}}},
                {"required": ["service_account"], "properties": {"service_account": {"const": true}},
                    "not": {"required": ["password"]}}
            ]})],
        ),
    ];
    for name in ["PatchToken", "PatchUser"] {
        if let Some(Value::Object(schema)) = schemas.get_mut(name) {
            schema.insert("minProperties".into(), json!(1));
        }
    }
    for (name, all_of) in rules {
        if let Some(Value::Object(schema)) = schemas.get_mut(name) {
            schema.insert("allOf".into(), Value::Array(all_of));
        }
    }
}

/// Sets `additionalProperties: false` on an object schema with properties (and on those nested
/// in it) that says nothing about extra properties.
fn close(schema: &mut Value) {
    match schema {
        Value::Object(map) => {
            if map.contains_key("properties") && !map.contains_key("additionalProperties") {
                map.insert("additionalProperties".into(), Value::Bool(false));
            }
            for v in map.values_mut() {
                close(v);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(close),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::extract::parse;
    use crate::api::token_actions::{PatchToken, Regenerate};
    use crate::api::tokens::{CreateToken, MAX_IDS};
    use crate::api::users::{CreateUser, PatchUser};
    use crate::auth::PASSWORD_LEN;
    use crate::rules::text::{MAX_DESCRIPTION_CHARS, MAX_NAME_CHARS};
    use crate::rules::tokens::MAX_GRACE_SECONDS;

    fn schema(doc: &Value, name: &str) -> Value {
        doc["components"]["schemas"][name].clone()
    }

    #[test]
    fn every_reference_resolves() {
        let doc = document();
        let text = doc.to_string();
        let schemas = doc["components"]["schemas"].as_object().unwrap();
        for part in text.split("#/components/schemas/").skip(1) {
            let name: String = part
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric())
                .collect();
            assert!(schemas.contains_key(&name), "missing schema {name}");
        }
        assert_eq!(doc["paths"].as_object().unwrap().len(), 18);
        let operations: usize = doc["paths"]
            .as_object()
            .unwrap()
            .values()
            .map(|item| item.as_object().unwrap().len())
            .sum();
        assert_eq!(operations, operations_count());
    }

    fn operations_count() -> usize {
        crate::api::operations().len()
    }

    /// Each `{name}` of a path template is a path parameter declared by a type, and nothing else is.
    #[test]
    fn path_parameters_match_the_templates() {
        let doc = document();
        for (path, item) in doc["paths"].as_object().unwrap() {
            let mut wanted: Vec<&str> = path
                .split('/')
                .filter(|s| s.starts_with('{'))
                .map(|s| s.trim_matches(|c| c == '{' || c == '}'))
                .collect();
            wanted.sort();
            for (method, op) in item.as_object().unwrap() {
                let empty = Vec::new();
                let mut declared: Vec<&str> = op["parameters"]
                    .as_array()
                    .unwrap_or(&empty)
                    .iter()
                    .filter(|p| p["in"] == "path")
                    .map(|p| {
                        assert_eq!(p["required"], true, "{method} {path}");
                        p["name"].as_str().unwrap()
                    })
                    .collect();
                declared.sort();
                assert_eq!(declared, wanted, "{method} {path}");
            }
        }
    }

    /// Every type a handler reads (`Body<T>`, `Params<T>`, `Path<T>`...) or answers
    /// (`Json<T>`, `Json(T {`) is in the document: a handler cannot take or give a shape the
    /// document does not describe.
    #[test]
    fn every_type_a_handler_uses_is_documented() {
        let doc = document();
        let text = doc.to_string();
        let sources = [
            include_str!("api/audit.rs"),
            include_str!("api/login.rs"),
            include_str!("api/me.rs"),
            include_str!("api/revocations.rs"),
            include_str!("api/system.rs"),
            include_str!("api/token_actions.rs"),
            include_str!("api/tokens.rs"),
            include_str!("api/users.rs"),
        ];
        let schemas = doc["components"]["schemas"].as_object().unwrap();
        let params: Vec<String> = doc["paths"]
            .as_object()
            .unwrap()
            .values()
            .flat_map(|item| item.as_object().unwrap().values())
            .flat_map(|op| op["parameters"].as_array().cloned().unwrap_or_default())
            .map(|p| p["name"].as_str().unwrap().to_owned())
            .collect();
        let mut seen = 0;
        for source in sources {
            for marker in [
                "Body<",
                "OptionalBody<",
                "UncheckedBody<",
                "Params<",
                "Path<",
                "Json<",
                "Json(",
            ] {
                for part in source.split(marker).skip(1) {
                    let name: String = part
                        .chars()
                        .take_while(|c| c.is_ascii_alphanumeric() || *c == ':')
                        .collect();
                    let name = name
                        .split("::")
                        .find(|s| s.starts_with(|c: char| c.is_ascii_uppercase()))
                        .unwrap_or_default()
                        .to_owned();
                    // Lowercase: a variable (`Json(b)`), not a type; `T`: the extractors' own code.
                    if name.is_empty()
                        || !name.starts_with(|c: char| c.is_ascii_uppercase())
                        || name == "T"
                    {
                        continue;
                    }
                    seen += 1;
                    let documented = schemas.contains_key(&name)
                        || name == "ErrorBody"
                        || match name.as_str() {
                            "ListQuery" | "UserQuery" | "AuditQuery" | "TokenPath" | "UserPath" => {
                                !params.is_empty()
                            }
                            "AuditRecord" => schemas.contains_key("AuditEvent"),
                            // The document itself.
                            "Value" => source.contains("crate::openapi::document()"),
                            _ => false,
                        };
                    assert!(documented, "{marker}{name} is not in the document");
                }
            }
        }
        assert!(seen > 20, "the scan found only {seen} types");
        // The query and path types each bring their fields.
        for name in [
            "include_revoked",
            "ids",
            "kind",
            "since",
            "actor",
            "id",
            "name",
        ] {
            assert!(params.iter().any(|p| p == name), "parameter {name}");
        }
        assert!(text.contains("TokenBatch"));
    }

    #[test]
    fn constraints_match_the_server() {
        let doc = document();
        let create = schema(&doc, "CreateToken");
        assert_eq!(create["properties"]["name"]["maxLength"], MAX_NAME_CHARS);
        assert_eq!(
            create["properties"]["description"]["maxLength"],
            MAX_DESCRIPTION_CHARS
        );
        assert_eq!(create["additionalProperties"], false);
        assert_eq!(create["required"], json!(["name"]));
        let regenerate = schema(&doc, "Regenerate");
        assert_eq!(
            regenerate["properties"]["grace_seconds"]["maximum"],
            MAX_GRACE_SECONDS
        );
        for body in ["PatchToken", "PatchUser"] {
            assert_eq!(schema(&doc, body)["minProperties"], 1, "{body}");
        }
        assert!(!doc.to_string().contains("maxProperties"));
        let user = schema(&doc, "CreateUser");
        assert_eq!(
            user["properties"]["password"]["minLength"],
            *PASSWORD_LEN.start()
        );
        assert_eq!(
            user["properties"]["password"]["maxLength"],
            *PASSWORD_LEN.end()
        );
        assert_eq!(
            schema(&doc, "TokenId")["pattern"],
            crate::api::schema::TOKEN_ID_PATTERN
        );
        let list = &doc["paths"]["/api/v1/tokens"]["get"];
        let ids = list["parameters"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["name"] == "ids")
            .unwrap();
        assert!(
            ids["schema"]["pattern"]
                .as_str()
                .unwrap()
                .contains(&format!("{{0,{}}}", MAX_IDS - 1))
        );
        let answers = &list["responses"]["200"]["content"]["application/json"]["schema"]["oneOf"];
        assert_eq!(answers.as_array().unwrap().len(), 2);
        // Optional fields of request bodies are not nullable: the server refuses `null`.
        for body in [
            "CreateToken",
            "PatchToken",
            "Regenerate",
            "CreateUser",
            "PatchUser",
        ] {
            let s = schema(&doc, body);
            for (field, p) in s["properties"].as_object().unwrap() {
                assert!(!p.to_string().contains("null"), "{body}.{field}: {p}");
            }
        }
        // Records say which of their fields may be null.
        let record = schema(&doc, "TokenRecord");
        assert!(
            record["properties"]["revoked_at"]
                .to_string()
                .contains("null")
        );
        assert_eq!(record["additionalProperties"], false);
        let kinds = &record["properties"]["kind"]["enum"];
        assert_eq!(kinds, &json!(["session", "personal", "service"]));
        assert_eq!(
            doc["paths"]["/api/v1/tokens/{id}/regenerate"]["post"]["requestBody"]["required"],
            false
        );
    }

    /// What the document says of request bodies, the server does: `null` for an optional field
    /// and unknown fields are refused with a code.
    #[test]
    fn request_bodies_refuse_null_and_unknown_fields() {
        let null = |r: Result<(), crate::errors::ApiError>| r.unwrap_err().code;
        assert_eq!(
            null(parse::<CreateToken>(br#"{"name": "a", "expires_at": null}"#).map(drop)),
            "invalid_body"
        );
        assert_eq!(
            null(parse::<PatchToken>(br#"{"description": null}"#).map(drop)),
            "invalid_body"
        );
        assert_eq!(
            null(parse::<Regenerate>(br#"{"grace_seconds": null}"#).map(drop)),
            "invalid_body"
        );
        assert_eq!(
            null(parse::<CreateUser>(br#"{"name": "a", "roles": null}"#).map(drop)),
            "invalid_body"
        );
        assert_eq!(
            null(parse::<PatchUser>(br#"{"x": 1}"#).map(drop)),
            "unknown_field"
        );
        let ok = parse::<CreateToken>(br#"{"name": "a", "ttl_seconds": 60}"#).unwrap();
        assert_eq!((ok.ttl_seconds, ok.expires_at), (Some(60), None));
    }
}
