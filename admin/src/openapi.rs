//! The OpenAPI 3.1 document served at `GET /api/v1/openapi.json`, generated from
//! [`crate::api::operations`] (the same table that builds the router) plus the schemas below.

use serde_json::{Map, Value, json};

use crate::api::operations;

fn reason(status: u16) -> &'static str {
    axum::http::StatusCode::from_u16(status)
        .ok()
        .and_then(|s| s.canonical_reason())
        .unwrap_or("")
}

/// The whole document.
pub fn document() -> Value {
    let mut paths = Map::new();
    for op in operations() {
        let mut o = Map::new();
        o.insert("summary".into(), json!(op.summary));
        o.insert("tags".into(), json!([op.tag]));
        o.insert(
            "operationId".into(),
            json!(format!("{} {}", op.method, op.path)),
        );
        let mut params: Vec<Value> = op
            .query
            .iter()
            .map(|(name, ty, desc)| json!({"name": name, "in": "query", "required": false, "description": desc, "schema": {"type": ty}}))
            .collect();
        for segment in op.path.split('/').filter(|s| s.starts_with('{')) {
            let name = segment.trim_matches(|c| c == '{' || c == '}');
            params.push(
                json!({"name": name, "in": "path", "required": true, "schema": {"type": "string"}}),
            );
        }
        if !params.is_empty() {
            o.insert("parameters".into(), Value::Array(params));
        }
        if let Some(req) = op.request {
            o.insert(
                "requestBody".into(),
                json!({"required": true, "content": {"application/json": {"schema": {"$ref": format!("#/components/schemas/{req}")}}}}),
            );
        }
        if op.auth {
            o.insert("security".into(), json!([{"bearer": []}]));
        }
        let mut responses = Map::new();
        let (status, schema) = op.response;
        let ok = match (schema, op.path) {
            (Some(s), _) => json!({"description": reason(status),
                "content": {"application/json": {"schema": {"$ref": format!("#/components/schemas/{s}")}}}}),
            (None, "/api/v1/revocations") => {
                json!({"description": "The signed list document (full or delta); 304 when current.",
                "headers": {"ETag": {"schema": {"type": "string"}}, "Cache-Control": {"schema": {"type": "string"}}},
                "content": {"application/vnd.tollgate.revocations": {"schema": {"type": "string", "format": "binary"}}}})
            }
            (None, "/metrics") => {
                json!({"description": reason(status), "content": {"text/plain": {"schema": {"type": "string"}}}})
            }
            (None, "/api/v1/openapi.json") => {
                json!({"description": reason(status), "content": {"application/json": {"schema": {"type": "object"}}}})
            }
            (None, _) => json!({"description": reason(status)}),
        };
        responses.insert(status.to_string(), ok);
        if op.path == "/api/v1/revocations" {
            responses.insert("304".into(), json!({"description": "Not Modified"}));
        }
        for e in op.errors {
            responses.insert(
                e.to_string(),
                json!({"description": reason(*e), "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}),
            );
        }
        o.insert("responses".into(), Value::Object(responses));
        let entry = paths
            .entry(op.path.to_owned())
            .or_insert_with(|| Value::Object(Map::new()));
        entry
            .as_object_mut()
            .expect("path items are objects")
            .insert(op.method.as_str().to_ascii_lowercase(), Value::Object(o));
    }
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
            "schemas": schemas()
        }
    })
}

fn string() -> Value {
    json!({"type": "string"})
}

fn strings() -> Value {
    json!({"type": "array", "items": {"type": "string"}})
}

fn nullable_string() -> Value {
    json!({"type": ["string", "null"]})
}

fn object(required: &[&str], properties: Value) -> Value {
    json!({"type": "object", "additionalProperties": false, "required": required, "properties": properties})
}

fn schemas() -> Value {
    let time = json!({"type": "string", "format": "date-time"});
    let expiry = json!({"type": "string", "description": "YYYY-MM-DD (midnight UTC) or RFC 3339"});
    json!({
        "Error": object(&["error"], json!({"error": object(&["code", "message"], json!({"code": string(), "message": string()}))})),
        "Health": object(&["status"], json!({"status": string()})),
        "Login": object(&["username", "password"], json!({"username": string(), "password": string()})),
        "CreateToken": object(&["name"], json!({
            "name": {"type": "string", "minLength": 1, "maxLength": 64},
            "description": {"type": "string", "maxLength": 256},
            "expires_at": expiry,
            "ttl_seconds": {"type": "integer", "minimum": 1},
            "roles": strings(),
            "user": string()
        })),
        "PatchToken": object(&[], json!({
            "description": {"type": "string", "maxLength": 256},
            "expires_at": expiry,
            "ttl_seconds": {"type": "integer", "minimum": 1},
            "enabled": {"type": "boolean"}
        })),
        "Regenerate": object(&[], json!({
            "grace_seconds": {"type": "integer", "minimum": 0, "maximum": 604800},
            "expires_at": expiry,
            "ttl_seconds": {"type": "integer", "minimum": 1}
        })),
        "TokenRecord": object(&["id", "name", "description", "owner", "kind", "roles", "created_at", "created_by", "expires_at", "enabled", "state"], json!({
            "id": {"type": "string", "pattern": "^[0-9a-f]{32}$"},
            "name": string(), "description": string(), "owner": string(),
            "kind": {"type": "string", "enum": ["session", "personal", "service"]},
            "roles": strings(), "created_at": time, "created_by": string(), "expires_at": time,
            "enabled": {"type": "boolean"},
            "state": {"type": "string", "enum": ["active", "disabled", "expired", "grace", "revoked"]},
            "revoked_at": nullable_string(), "revoked_by": nullable_string(), "grace_until": nullable_string(),
            "last_used_at": nullable_string(), "replaces": nullable_string(), "replaced_by": nullable_string()
        })),
        "Minted": object(&["token", "record"], json!({"token": string(), "record": {"$ref": "#/components/schemas/TokenRecord"}})),
        "Regenerated": object(&["token", "record", "previous"], json!({
            "token": string(),
            "record": {"$ref": "#/components/schemas/TokenRecord"},
            "previous": {"$ref": "#/components/schemas/TokenRecord"}
        })),
        "TokenPage": object(&["tokens", "next_cursor"], json!({
            "tokens": {"type": "array", "items": {"$ref": "#/components/schemas/TokenRecord"}},
            "next_cursor": nullable_string()
        })),
        "TokenBatch": object(&["tokens", "missing"], json!({
            "tokens": {"type": "array", "items": {"$ref": "#/components/schemas/TokenRecord"}},
            "missing": strings()
        })),
        "CreateUser": object(&["name"], json!({
            "name": string(), "password": string(), "roles": strings(),
            "service_account": {"type": "boolean"}, "active": {"type": "boolean"}
        })),
        "PatchUser": object(&[], json!({
            "roles": strings(), "add_roles": strings(), "remove_roles": strings(),
            "active": {"type": "boolean"}, "service_account": {"type": "boolean"}, "password": string()
        })),
        "UserRecord": object(&["name", "roles", "active", "service_account", "has_password", "created_at", "updated_at"], json!({
            "name": string(), "roles": strings(), "active": {"type": "boolean"},
            "service_account": {"type": "boolean"}, "manager": nullable_string(),
            "has_password": {"type": "boolean"}, "created_at": time, "updated_at": time
        })),
        "UserPage": object(&["users", "next_cursor"], json!({
            "users": {"type": "array", "items": {"$ref": "#/components/schemas/UserRecord"}},
            "next_cursor": nullable_string()
        })),
        "Me": object(&["user", "token"], json!({
            "user": {"$ref": "#/components/schemas/UserRecord"},
            "token": object(&["id", "name", "kind", "roles", "created_at", "expires_at"], json!({
                "id": string(), "name": string(), "kind": string(), "roles": strings(), "created_at": time, "expires_at": time
            }))
        })),
        "AuditEvent": object(&["id", "at", "action", "outcome"], json!({
            "id": {"type": "integer"}, "at": time, "actor": nullable_string(), "action": string(),
            "target": nullable_string(), "subject": nullable_string(),
            "outcome": {"type": "string", "enum": ["success", "denied", "failure"]}, "detail": nullable_string()
        })),
        "AuditPage": object(&["events", "next_cursor"], json!({
            "events": {"type": "array", "items": {"$ref": "#/components/schemas/AuditEvent"}},
            "next_cursor": nullable_string()
        }))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

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
        assert_eq!(doc["paths"].as_object().unwrap().len(), 14);
    }
}
