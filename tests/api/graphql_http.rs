//! GraphQL over HTTP: a GET never writes, answers keep the query's field order, and one
//! request cannot make the server hold an unbounded answer.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::support::{TestApp, unique};

async fn get_graphql(
    app: &TestApp,
    query: &str,
    operation: Option<&str>,
) -> crate::support::Response {
    let mut params = vec![("query", query.to_owned())];
    if let Some(name) = operation {
        params.push(("operationName", name.to_owned()));
    }
    app.raw(app.client.get(app.url("/graphql")).query(&params))
        .await
}

#[tokio::test]
async fn no_get_ever_runs_a_mutation() {
    let app = TestApp::spawn().await;
    let (_, token) = app.user().await;
    let slug = app.article(&token, &unique("Kept"), &[]).await;
    let delete = format!("deleteArticle(slug: \"{slug}\")");
    for (query, operation) in [
        (format!("mutation {{ {delete} }}"), None),
        (format!("mutation M {{ {delete} }}"), None),
        (format!("mutation M {{ {delete} }}"), Some("M")),
        (
            format!("query Q {{ tags }} mutation M {{ {delete} }}"),
            Some("Q"),
        ),
        (
            format!("query Q {{ tags }} mutation M {{ {delete} }}"),
            Some("M"),
        ),
        (
            format!("query Q {{ tags }} mutation M {{ {delete} }}"),
            None,
        ),
        (
            format!("mutation M {{ {delete} }} query Q {{ tags }}"),
            Some("Q"),
        ),
    ] {
        let response = app
            .raw(
                app.client
                    .get(app.url("/graphql"))
                    .header("authorization", format!("Token {token}"))
                    .query(&[
                        ("query", query.as_str()),
                        ("operationName", operation.unwrap_or("")),
                    ]),
            )
            .await;
        assert_eq!(
            response.status,
            StatusCode::METHOD_NOT_ALLOWED,
            "{query}: {}",
            response.text
        );
        assert_eq!(
            response.body["errors"][0]["extensions"]["code"],
            "METHOD_NOT_ALLOWED"
        );
    }
    assert_eq!(
        app.get(&format!("/api/articles/{slug}"), None).await.status,
        StatusCode::OK,
        "the article survived every GET"
    );
    // Queries still run over GET, named or not.
    let named = get_graphql(&app, "query Q { tags }", None).await;
    assert!(named.body["data"]["tags"].is_array(), "{}", named.text);
}

/// The order of the keys of `data` in the answer's text.
fn key_order(text: &str, keys: &[&str]) -> Vec<usize> {
    keys.iter()
        .map(|key| text.find(&format!("\"{key}\":")).unwrap_or(usize::MAX))
        .collect()
}

#[tokio::test]
async fn top_level_fields_answer_in_the_order_asked() {
    let app = TestApp::spawn().await;
    let (username, token) = app.user().await;
    app.article(&token, &unique("Ordered"), &["order"]).await;
    let orders: [&[&str]; 4] = [
        &["tags", "articles", "profile"],
        &["profile", "tags", "articles"],
        &["articles", "profile", "tags"],
        &["zz: tags", "aa: tags", "mm: tags"],
    ];
    for fields in orders {
        let selection: Vec<String> = fields
            .iter()
            .map(|f| match *f {
                "articles" => "articles(first: 1) { totalCount }".to_owned(),
                "profile" => format!("profile(username: \"{username}\") {{ username }}"),
                other => other.to_owned(),
            })
            .collect();
        let query = format!("{{ {} }}", selection.join(" "));
        let names: Vec<&str> = fields
            .iter()
            .map(|f| f.split(':').next().unwrap().trim())
            .collect();
        // Twice anonymously (the second from the answer cache), then signed in.
        for auth in [None, None, Some(token.as_str())] {
            let response = app.post("/graphql", auth, json!({ "query": query })).await;
            assert!(response.body.get("errors").is_none(), "{}", response.text);
            let positions = key_order(&response.text, &names);
            let mut sorted = positions.clone();
            sorted.sort();
            assert_eq!(positions, sorted, "{query}: {}", response.text);
        }
    }
}

#[tokio::test]
async fn aliases_cannot_make_an_unbounded_answer() {
    // A small limit, so that a few long articles reach it.
    let app = TestApp::spawn_with(&[("graphql_max_response_bytes", "200000")]).await;
    let (_, token) = app.user().await;
    let tag = unique("long");
    let body = "x".repeat(40_000);
    for i in 0..4 {
        let response = app
            .post(
                "/api/articles",
                Some(&token),
                json!({"article": {"title": format!("Long {i}"), "description": "d", "body": body, "tagList": [tag]}}),
            )
            .await;
        assert_eq!(response.status, StatusCode::CREATED);
    }
    let page = format!("articles(tag: \"{tag}\", first: 100) {{ nodes {{ body }} }}");
    // One page of 160 KB fits.
    let one = app
        .post(
            "/graphql",
            None,
            json!({ "query": format!("{{ {page} }}") }),
        )
        .await;
    assert!(
        one.body.get("errors").is_none(),
        "{}",
        &one.text[..200.min(one.text.len())]
    );
    // Six aliases of it would be 960 KB: refused with a clear code, not built.
    let aliased: Vec<String> = (0..6).map(|i| format!("a{i}: {page}")).collect();
    let many = app
        .post(
            "/graphql",
            None,
            json!({ "query": format!("{{ {} }}", aliased.join(" ")) }),
        )
        .await;
    assert_eq!(many.status, StatusCode::OK);
    let codes: Vec<&Value> = many.body["errors"]
        .as_array()
        .unwrap_or_else(|| panic!("no errors: {} bytes", many.text.len()))
        .iter()
        .map(|e| &e["extensions"]["code"])
        .collect();
    assert!(
        codes.iter().all(|c| *c == "RESPONSE_TOO_LARGE"),
        "{codes:?}"
    );
    assert!(many.text.len() < 400_000, "{} bytes", many.text.len());
}
