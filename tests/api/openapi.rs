//! The OpenAPI document and the docs pages: every operation of the official RealWorld spec is
//! there with compatible shapes, every documented operation is routed, and Swagger UI is
//! served from this server alone.

use reqwest::StatusCode;
use serde_json::Value;

use crate::support::TestApp;

pub const METHODS: [&str; 5] = ["get", "post", "put", "patch", "delete"];

fn official_spec() -> Value {
    let text = include_str!("../realworld/openapi.yml");
    yaml_serde::from_str(text).expect("the official spec is YAML")
}

/// Follows `$ref`s (`#/components/...`) within `document`.
fn resolve<'a>(document: &'a Value, value: &'a Value) -> &'a Value {
    match value.get("$ref").and_then(Value::as_str) {
        Some(reference) => {
            let pointer = reference.trim_start_matches('#');
            resolve(document, document.pointer(pointer).expect(reference))
        }
        None => value,
    }
}

/// The property names of the JSON schema of `holder`'s `application/json` content.
fn json_properties(document: &Value, holder: &Value) -> Vec<String> {
    let holder = resolve(document, holder);
    let Some(schema) = holder.pointer("/content/application~1json/schema") else {
        return vec![];
    };
    let schema = resolve(document, schema);
    let mut names: Vec<String> = schema["properties"]
        .as_object()
        .map(|properties| properties.keys().cloned().collect())
        .unwrap_or_default();
    names.sort();
    names
}

/// The success response (the lowest 2xx) of an operation.
fn success(operation: &Value) -> (&str, &Value) {
    operation["responses"]
        .as_object()
        .unwrap()
        .iter()
        .filter(|(status, _)| status.starts_with('2'))
        .min_by_key(|(status, _)| status.as_str())
        .map(|(status, response)| (status.as_str(), response))
        .expect("a success response")
}

#[tokio::test]
async fn the_document_covers_every_official_operation_with_compatible_shapes() {
    let app = TestApp::spawn().await;
    let ours = app.get("/api/openapi.json", None).await;
    assert_eq!(ours.status, StatusCode::OK);
    let ours = ours.body;
    assert!(ours["openapi"].as_str().unwrap().starts_with("3.1"));
    let official = official_spec();
    let mut checked = 0;
    for (path, item) in official["paths"].as_object().unwrap() {
        for method in METHODS {
            let Some(theirs) = item.get(method) else {
                continue;
            };
            let mine = ours["paths"][format!("/api{path}")]
                .get(method)
                .unwrap_or_else(|| panic!("{method} /api{path} is not documented"));
            assert_eq!(
                mine["operationId"], theirs["operationId"],
                "{method} {path}"
            );
            // Success: the same envelope (`user`, `article`, `articles` + `articlesCount`...).
            let (their_status, their_success) = success(theirs);
            let (my_status, my_success) = success(mine);
            let their_keys = json_properties(&official, their_success);
            let my_keys = json_properties(&ours, my_success);
            assert_eq!(
                my_keys, their_keys,
                "{method} {path}: {my_status} vs {their_status}"
            );
            // A request body: the same envelope and every field the official one names.
            if let Some(their_body) = theirs.get("requestBody") {
                let my_body = mine
                    .get("requestBody")
                    .unwrap_or_else(|| panic!("{method} {path} documents no body"));
                let their_envelope = json_properties(&official, their_body);
                assert_eq!(
                    json_properties(&ours, my_body),
                    their_envelope,
                    "{method} {path}"
                );
                let field_names = |document: &Value, body: &Value| -> Vec<String> {
                    let schema = resolve(
                        document,
                        resolve(document, body)
                            .pointer("/content/application~1json/schema")
                            .unwrap(),
                    );
                    let inner = resolve(document, &schema["properties"][&their_envelope[0]]);
                    let mut names: Vec<String> = inner["properties"]
                        .as_object()
                        .map(|p| p.keys().cloned().collect())
                        .unwrap_or_default();
                    names.sort();
                    names
                };
                let mine = field_names(&ours, my_body);
                for field in field_names(&official, their_body) {
                    assert!(mine.contains(&field), "{method} {path}: body field {field}");
                }
            }
            // Errors are documented, in RealWorld's shape.
            let default = resolve(&ours, &mine["responses"]["default"]);
            let error = resolve(
                &ours,
                default
                    .pointer("/content/application~1json/schema")
                    .unwrap(),
            );
            assert!(
                error["properties"].get("errors").is_some(),
                "{method} {path}"
            );
            checked += 1;
        }
    }
    assert_eq!(checked, 19, "every official operation was compared");

    // The page size's bounds are part of the contract (a fuzzer or a client generator reads them).
    for path in ["/api/articles", "/api/articles/feed"] {
        let parameters = ours["paths"][path]["get"]["parameters"].as_array().unwrap();
        let limit = parameters.iter().find(|p| p["name"] == "limit").unwrap();
        let schema = &limit["schema"];
        assert_eq!(
            (schema["minimum"].as_f64(), schema["maximum"].as_f64()),
            (Some(1.0), Some(100.0)),
            "{path}: {limit}"
        );
    }
}

#[tokio::test]
async fn every_documented_operation_is_routed() {
    let app = TestApp::spawn().await;
    let ours = app.get("/api/openapi.json", None).await.body;
    let mut operations = 0;
    for (path, item) in ours["paths"].as_object().unwrap() {
        let concrete = path
            .replace("{slug}", "no-such-article")
            .replace("{username}", "nobody")
            .replace("{id}", "1");
        for method in METHODS {
            if item.get(method).is_none() {
                continue;
            }
            let request = app
                .client
                .request(method.to_uppercase().parse().unwrap(), app.url(&concrete));
            let response = app
                .raw(
                    request
                        .header("content-type", "application/json")
                        .body("{}"),
                )
                .await;
            assert_ne!(
                response.status,
                StatusCode::METHOD_NOT_ALLOWED,
                "{method} {path}"
            );
            assert!(
                !response.text.contains("no such route"),
                "{method} {path} is not routed"
            );
            operations += 1;
        }
    }
    assert!(operations >= 34, "{operations} operations documented");
}

#[tokio::test]
async fn swagger_ui_is_served_from_this_server_alone() {
    let app = TestApp::spawn().await;
    for path in ["/docs", "/docs/"] {
        let page = app.raw(app.client.get(app.url(path))).await;
        assert_eq!(page.status, StatusCode::OK, "{path}");
        assert!(
            page.text.contains("<base href=\"/docs/\">"),
            "{}",
            page.text
        );
        let policy = page.headers["content-security-policy"].to_str().unwrap();
        assert!(policy.contains("default-src 'none'") && policy.contains("connect-src 'self'"));
    }
    let initializer = app
        .raw(app.client.get(app.url("/docs/swagger-initializer.js")))
        .await;
    assert_eq!(initializer.status, StatusCode::OK);
    assert!(initializer.text.contains("/api/openapi.json"));
    assert!(
        initializer.text.contains("\"validatorUrl\":\"none\"")
            || initializer.text.contains("validatorUrl: \"none\"")
            || initializer.text.contains("\"none\""),
        "{}",
        initializer.text
    );
    for asset in ["swagger-ui.css", "swagger-ui-bundle.js"] {
        let file = app
            .raw(app.client.get(app.url(&format!("/docs/{asset}"))))
            .await;
        assert_eq!(file.status, StatusCode::OK, "{asset}");
    }
    let missing = app.raw(app.client.get(app.url("/docs/nothing.js"))).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn the_oauth_endpoints_are_described_and_no_json_answer_is_free_form() {
    let app = TestApp::spawn().await;
    let document = app.get("/api/openapi.json", None).await.body;
    let paths = &document["paths"];
    for (path, method) in [
        ("/oauth/authorize", "get"),
        ("/oauth/authorize", "post"),
        ("/oauth/login", "post"),
        ("/oauth/token", "post"),
        ("/oauth/revoke", "post"),
        ("/oauth/introspect", "post"),
        ("/.well-known/oauth-authorization-server", "get"),
        ("/api/user", "patch"),
        ("/api/articles/{slug}", "patch"),
        ("/api/webhooks/{id}", "patch"),
    ] {
        assert!(
            paths[path].get(method).is_some(),
            "{method} {path} is not described"
        );
    }
    // Every JSON answer names its shape: a schema with properties, or a reference to one.
    for (path, item) in paths.as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            for (status, response) in operation["responses"].as_object().unwrap() {
                let Some(schema) = response.pointer("/content/application~1json/schema") else {
                    continue;
                };
                let schema = resolve(&document, schema);
                assert!(
                    schema.get("properties").is_some() || schema.get("items").is_some(),
                    "{method} {path} {status} is documented as free-form JSON: {schema}"
                );
            }
        }
    }
}
