//! The GraphQL API: every query and mutation, their errors, parity with REST, the batched
//! statement count, the limits, the schema snapshot and the IDE.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::support::{PASSWORD, Response, TestApp, recorded_sql, unique};

/// Runs one GraphQL operation; the variables may be `Value::Null`.
async fn gql(app: &TestApp, token: Option<&str>, query: &str, variables: Value) -> Response {
    let response = app
        .post(
            "/graphql",
            token,
            json!({ "query": query, "variables": variables }),
        )
        .await;
    assert_eq!(response.status, StatusCode::OK, "{}", response.text);
    response
}

/// The `data` of a response that must have no errors.
#[track_caller]
fn data(response: &Response) -> &Value {
    assert!(
        response.body.get("errors").is_none(),
        "unexpected errors: {}",
        response.text
    );
    &response.body["data"]
}

/// The code of the only error of a response.
#[track_caller]
fn error_code(response: &Response) -> &str {
    let errors = response.body["errors"]
        .as_array()
        .unwrap_or_else(|| panic!("no errors: {}", response.text));
    assert_eq!(errors.len(), 1, "{}", response.text);
    errors[0]["extensions"]["code"]
        .as_str()
        .unwrap_or_else(|| panic!("no code: {}", response.text))
}

/// The messages an error gives for `field` under `extensions.fields`.
#[track_caller]
fn field_errors<'r>(response: &'r Response, field: &str) -> &'r Vec<Value> {
    assert_eq!(error_code(response), "BAD_USER_INPUT", "{}", response.text);
    response.body["errors"][0]["extensions"]["fields"][field]
        .as_array()
        .unwrap_or_else(|| panic!("no error for `{field}`: {}", response.text))
}

const REGISTER: &str = "mutation($input: RegisterInput!) {
  register(input: $input) { email username bio image token }
}";

/// Registers through GraphQL; returns (username, token).
async fn register(app: &TestApp) -> (String, String) {
    let username = unique("gql");
    let response = gql(
        app,
        None,
        REGISTER,
        json!({ "input": { "username": username, "email": format!("{username}@example.com"), "password": PASSWORD } }),
    )
    .await;
    let token = data(&response)["register"]["token"]
        .as_str()
        .unwrap()
        .to_owned();
    (username, token)
}

const CREATE_ARTICLE: &str = "mutation($input: CreateArticleInput!) {
  createArticle(input: $input) { slug title description body tagList favorited favoritesCount author { username following } }
}";

async fn create_article(app: &TestApp, token: &str, title: &str, tags: &[&str]) -> String {
    let response = gql(
        app,
        Some(token),
        CREATE_ARTICLE,
        json!({ "input": { "title": title, "description": "about it", "body": format!("body of {title}"), "tagList": tags } }),
    )
    .await;
    data(&response)["createArticle"]["slug"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn accounts_register_log_in_read_and_update_themselves() {
    let app = TestApp::spawn().await;
    let (username, token) = register(&app).await;
    let email = format!("{username}@example.com");

    let me = gql(
        &app,
        Some(&token),
        "{ me { email username bio image token } }",
        Value::Null,
    )
    .await;
    let me = &data(&me)["me"];
    assert_eq!(me["username"], username.as_str());
    assert_eq!(me["email"], email.as_str());
    assert_eq!(me["bio"], "");

    let login = "mutation($input: LoginInput!) { login(input: $input) { username token } }";
    let signed_in = gql(
        &app,
        None,
        login,
        json!({ "input": { "email": email.to_uppercase(), "password": PASSWORD } }),
    )
    .await;
    let fresh = data(&signed_in)["login"]["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let wrong = gql(
        &app,
        None,
        login,
        json!({ "input": { "email": email, "password": "not-the-password" } }),
    )
    .await;
    assert_eq!(error_code(&wrong), "UNAUTHENTICATED");
    assert!(wrong.body["data"].is_null());

    let update =
        "mutation($input: UpdateUserInput!) { updateUser(input: $input) { username bio image } }";
    let updated = gql(
        &app,
        Some(&fresh),
        update,
        json!({ "input": { "bio": "I write.", "image": "https://example.com/me.png" } }),
    )
    .await;
    assert_eq!(data(&updated)["updateUser"]["bio"], "I write.");
    let rest = app.get("/api/user", Some(&token)).await;
    assert_eq!(rest.body["user"]["bio"], "I write.");
    assert_eq!(rest.body["user"]["image"], "https://example.com/me.png");

    // Error paths: field errors carry the field names REST uses.
    let empty = gql(&app, Some(&token), update, json!({ "input": {} })).await;
    assert!(!field_errors(&empty, "user").is_empty());
    let bad_image = gql(
        &app,
        Some(&token),
        update,
        json!({ "input": { "image": "javascript:alert(1)" } }),
    )
    .await;
    field_errors(&bad_image, "image");
    let taken = gql(&app, None, REGISTER, json!({ "input": { "username": username.to_uppercase(), "email": email, "password": PASSWORD } })).await;
    assert_eq!(
        field_errors(&taken, "username")[0],
        "has already been taken"
    );
    field_errors(&taken, "email");
    let invalid = gql(
        &app,
        None,
        REGISTER,
        json!({ "input": { "username": " ", "email": "nope", "password": "short" } }),
    )
    .await;
    for field in ["username", "email", "password"] {
        field_errors(&invalid, field);
    }
    let anonymous = gql(&app, None, "{ me { username } }", Value::Null).await;
    assert_eq!(error_code(&anonymous), "UNAUTHENTICATED");
    let forged = gql(&app, Some("not.a.jwt"), "{ me { username } }", Value::Null).await;
    assert_eq!(error_code(&forged), "UNAUTHENTICATED");
    let unauthenticated_update = gql(&app, None, update, json!({ "input": { "bio": "x" } })).await;
    assert_eq!(error_code(&unauthenticated_update), "UNAUTHENTICATED");
    // A stale token does not stand in the way of signing in again.
    let relogin = gql(
        &app,
        Some("not.a.jwt"),
        login,
        json!({ "input": { "email": email, "password": PASSWORD } }),
    )
    .await;
    data(&relogin);
}

#[tokio::test]
async fn articles_are_created_read_updated_favorited_and_deleted() {
    let app = TestApp::spawn().await;
    let (author, token) = register(&app).await;
    let (_, reader) = register(&app).await;
    let tag = unique("t");

    let created = gql(
        &app,
        Some(&token),
        CREATE_ARTICLE,
        json!({ "input": { "title": "GraphQL Hello", "description": "d", "body": "b", "tagList": [tag, "alpha"] } }),
    )
    .await;
    let article = &data(&created)["createArticle"];
    let slug = article["slug"].as_str().unwrap().to_owned();
    assert!(slug.starts_with("graphql-hello"));
    assert_eq!(article["tagList"], json!(["alpha", tag]));
    assert_eq!(article["author"]["username"], author.as_str());
    assert_eq!(article["favoritesCount"], 0);

    let read = "query($slug: String!) { article(slug: $slug) { slug title body favorited favoritesCount } }";
    let fetched = gql(&app, None, read, json!({ "slug": slug })).await;
    assert_eq!(data(&fetched)["article"]["body"], "b");

    let favorite =
        "mutation($slug: String!) { favorite(slug: $slug) { favorited favoritesCount } }";
    let favored = gql(&app, Some(&reader), favorite, json!({ "slug": slug })).await;
    assert_eq!(
        data(&favored)["favorite"],
        json!({ "favorited": true, "favoritesCount": 1 })
    );
    let again = gql(&app, Some(&reader), favorite, json!({ "slug": slug })).await;
    assert_eq!(data(&again)["favorite"]["favoritesCount"], 1);
    let seen = gql(&app, Some(&reader), read, json!({ "slug": slug })).await;
    assert_eq!(data(&seen)["article"]["favorited"], true);
    let unfavorite =
        "mutation($slug: String!) { unfavorite(slug: $slug) { favorited favoritesCount } }";
    let unfavored = gql(&app, Some(&reader), unfavorite, json!({ "slug": slug })).await;
    assert_eq!(
        data(&unfavored)["unfavorite"],
        json!({ "favorited": false, "favoritesCount": 0 })
    );

    let update = "mutation($slug: String!, $input: UpdateArticleInput!) {
      updateArticle(slug: $slug, input: $input) { slug title body tagList }
    }";
    let forbidden = gql(
        &app,
        Some(&reader),
        update,
        json!({ "slug": slug, "input": { "body": "mine now" } }),
    )
    .await;
    assert_eq!(error_code(&forbidden), "FORBIDDEN");
    let updated = gql(
        &app,
        Some(&token),
        update,
        json!({ "slug": slug, "input": { "title": "GraphQL Renamed", "tagList": ["beta"] } }),
    )
    .await;
    let updated = &data(&updated)["updateArticle"];
    assert!(
        updated["slug"]
            .as_str()
            .unwrap()
            .starts_with("graphql-renamed")
    );
    assert_eq!(updated["body"], "b");
    assert_eq!(updated["tagList"], json!(["beta"]));
    let new_slug = updated["slug"].as_str().unwrap().to_owned();
    let old = gql(&app, None, read, json!({ "slug": slug })).await;
    assert_eq!(error_code(&old), "NOT_FOUND");
    assert!(old.body["data"]["article"].is_null());

    // Error paths.
    let blank = gql(
        &app,
        Some(&token),
        CREATE_ARTICLE,
        json!({ "input": { "title": " ", "description": "", "body": "x" } }),
    )
    .await;
    field_errors(&blank, "title");
    field_errors(&blank, "description");
    let anonymous = gql(
        &app,
        None,
        CREATE_ARTICLE,
        json!({ "input": { "title": "t", "description": "d", "body": "b" } }),
    )
    .await;
    assert_eq!(error_code(&anonymous), "UNAUTHENTICATED");
    let missing = gql(
        &app,
        Some(&reader),
        favorite,
        json!({ "slug": "no-such-article" }),
    )
    .await;
    assert_eq!(error_code(&missing), "NOT_FOUND");
    let nul = gql(&app, None, read, json!({ "slug": "a\u{0}b" })).await;
    assert_eq!(error_code(&nul), "NOT_FOUND");
    let empty_update = gql(
        &app,
        Some(&token),
        update,
        json!({ "slug": new_slug, "input": {} }),
    )
    .await;
    field_errors(&empty_update, "article");

    let delete = "mutation($slug: String!) { deleteArticle(slug: $slug) }";
    let not_yours = gql(&app, Some(&reader), delete, json!({ "slug": new_slug })).await;
    assert_eq!(error_code(&not_yours), "FORBIDDEN");
    let deleted = gql(&app, Some(&token), delete, json!({ "slug": new_slug })).await;
    assert_eq!(data(&deleted)["deleteArticle"], true);
    let gone = gql(&app, Some(&token), delete, json!({ "slug": new_slug })).await;
    assert_eq!(error_code(&gone), "NOT_FOUND");
    assert_eq!(
        app.get(&format!("/api/articles/{new_slug}"), None)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn comments_profiles_and_follows() {
    let app = TestApp::spawn().await;
    let (author, token) = register(&app).await;
    let (fan, fan_token) = register(&app).await;
    let slug = create_article(&app, &token, "Commented", &[]).await;

    let add = "mutation($slug: String!, $body: String!) { addComment(slug: $slug, body: $body) { id body createdAt author { username } } }";
    let first = gql(
        &app,
        Some(&fan_token),
        add,
        json!({ "slug": slug, "body": "first!" }),
    )
    .await;
    let first = data(&first)["addComment"].clone();
    assert_eq!(first["author"]["username"], fan.as_str());
    let second = gql(
        &app,
        Some(&token),
        add,
        json!({ "slug": slug, "body": "thanks" }),
    )
    .await;
    let second_id = data(&second)["addComment"]["id"].as_i64().unwrap();
    let blank = gql(
        &app,
        Some(&token),
        add,
        json!({ "slug": slug, "body": "  " }),
    )
    .await;
    field_errors(&blank, "body");
    let nowhere = gql(
        &app,
        Some(&token),
        add,
        json!({ "slug": "no-such-article", "body": "x" }),
    )
    .await;
    assert_eq!(error_code(&nowhere), "NOT_FOUND");
    let anonymous = gql(&app, None, add, json!({ "slug": slug, "body": "x" })).await;
    assert_eq!(error_code(&anonymous), "UNAUTHENTICATED");

    let thread = gql(&app, None, "query($slug: String!) { comments(slug: $slug) { id body } article(slug: $slug) { comments(first: 1) { body } } }", json!({ "slug": slug })).await;
    let thread = data(&thread);
    assert_eq!(thread["comments"][0]["body"], "thanks", "newest first");
    assert_eq!(thread["comments"][1]["id"], first["id"]);
    assert_eq!(thread["article"]["comments"], json!([{ "body": "thanks" }]));

    let delete = "mutation($slug: String!, $id: ID!) { deleteComment(slug: $slug, id: $id) }";
    let not_yours = gql(
        &app,
        Some(&fan_token),
        delete,
        json!({ "slug": slug, "id": second_id }),
    )
    .await;
    assert_eq!(error_code(&not_yours), "FORBIDDEN");
    let not_a_number = gql(
        &app,
        Some(&token),
        delete,
        json!({ "slug": slug, "id": "x1" }),
    )
    .await;
    assert_eq!(error_code(&not_a_number), "NOT_FOUND");
    // The id as REST gives it (a number) or as a string, as GraphQL IDs usually are.
    let as_string = json!({ "slug": slug, "id": second_id.to_string() });
    let deleted = gql(&app, Some(&token), delete, as_string).await;
    assert_eq!(data(&deleted)["deleteComment"], true);
    let gone = gql(
        &app,
        Some(&token),
        delete,
        json!({ "slug": slug, "id": second_id }),
    )
    .await;
    assert_eq!(error_code(&gone), "NOT_FOUND");

    let profile = "query($username: String!) { profile(username: $username) { username bio image following } }";
    let follow =
        "mutation($username: String!) { follow(username: $username) { username following } }";
    let unfollow =
        "mutation($username: String!) { unfollow(username: $username) { username following } }";
    let before = gql(
        &app,
        Some(&fan_token),
        profile,
        json!({ "username": author }),
    )
    .await;
    assert_eq!(data(&before)["profile"]["following"], false);
    let followed = gql(
        &app,
        Some(&fan_token),
        follow,
        json!({ "username": author }),
    )
    .await;
    assert_eq!(data(&followed)["follow"]["following"], true);
    let after = gql(
        &app,
        Some(&fan_token),
        profile,
        json!({ "username": author.to_uppercase() }),
    )
    .await;
    assert_eq!(
        data(&after)["profile"],
        json!({ "username": author, "bio": "", "image": "", "following": true })
    );
    let comment_author = gql(&app, Some(&fan_token), "query($slug: String!) { article(slug: $slug) { author { following } comments { author { username following } } } }", json!({ "slug": slug })).await;
    assert_eq!(
        data(&comment_author)["article"]["author"]["following"],
        true
    );
    let unfollowed = gql(
        &app,
        Some(&fan_token),
        unfollow,
        json!({ "username": author }),
    )
    .await;
    assert_eq!(data(&unfollowed)["unfollow"]["following"], false);

    let yourself = gql(&app, Some(&fan_token), follow, json!({ "username": fan })).await;
    field_errors(&yourself, "username");
    let nobody = gql(
        &app,
        Some(&fan_token),
        follow,
        json!({ "username": unique("nobody") }),
    )
    .await;
    assert_eq!(error_code(&nobody), "NOT_FOUND");
    let anonymous = gql(&app, None, follow, json!({ "username": author })).await;
    assert_eq!(error_code(&anonymous), "UNAUTHENTICATED");
    let missing = gql(&app, None, profile, json!({ "username": unique("nobody") })).await;
    assert_eq!(error_code(&missing), "NOT_FOUND");
    assert!(missing.body["data"]["profile"].is_null());
}

const PAGE: &str =
    "query($tag: String, $author: String, $favoritedBy: String, $first: Int!, $after: String) {
  articles(tag: $tag, author: $author, favoritedBy: $favoritedBy, first: $first, after: $after) {
    totalCount
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    edges { cursor node { slug } }
  }
}";

fn slugs(connection: &Value) -> Vec<String> {
    connection["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["slug"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn lists_page_with_cursors_filter_and_feed() {
    let app = TestApp::spawn().await;
    let (author, token) = register(&app).await;
    let (fan, fan_token) = register(&app).await;
    let tag = unique("page");
    let mut created = Vec::new();
    for i in 0..5 {
        created.push(create_article(&app, &token, &format!("Paged {i}"), &[&tag]).await);
    }
    created.reverse(); // newest first

    // Articles written or deleted between pages shift nothing: cursors are positions.
    let mut seen = Vec::new();
    let mut after = Value::Null;
    let mut later = String::new();
    for (page_number, expected_next) in [true, true, false].into_iter().enumerate() {
        let page = gql(
            &app,
            None,
            PAGE,
            json!({ "tag": tag, "first": 2, "after": after }),
        )
        .await;
        let connection = &data(&page)["articles"];
        assert_eq!(connection["totalCount"], 5 + page_number.min(1));
        assert_eq!(connection["pageInfo"]["hasNextPage"], expected_next);
        assert_eq!(connection["pageInfo"]["hasPreviousPage"], !after.is_null());
        let edges = connection["edges"].as_array().unwrap();
        assert_eq!(
            connection["pageInfo"]["endCursor"],
            edges.last().unwrap()["cursor"]
        );
        seen.extend(slugs(connection));
        after = connection["pageInfo"]["endCursor"].clone();
        if page_number == 0 {
            later = create_article(&app, &token, "Paged later", &[&tag]).await;
        }
    }
    assert_eq!(seen, created);
    // The item a cursor names may be gone: the next page still follows it.
    let cursor_of_second = {
        let page = gql(&app, None, PAGE, json!({ "tag": tag, "first": 3 })).await;
        data(&page)["articles"]["edges"][2]["cursor"].clone()
    };
    app.delete(&format!("/api/articles/{}", created[1]), Some(&token))
        .await;
    let after_deleted = gql(
        &app,
        None,
        PAGE,
        json!({ "tag": tag, "first": 10, "after": cursor_of_second }),
    )
    .await;
    assert_eq!(
        slugs(&data(&after_deleted)["articles"]),
        created[2..].to_vec()
    );
    // From here on: the five articles there are now, newest first.
    let created: Vec<String> = std::iter::once(later)
        .chain(created.into_iter().filter(|slug| *slug != seen[1]))
        .collect();

    let by_author = gql(&app, None, PAGE, json!({ "author": author, "first": 10 })).await;
    assert_eq!(slugs(&data(&by_author)["articles"]), created);
    gql(
        &app,
        Some(&fan_token),
        "mutation($slug: String!) { favorite(slug: $slug) { slug } }",
        json!({ "slug": created[3] }),
    )
    .await;
    let favorites = gql(&app, None, PAGE, json!({ "favoritedBy": fan, "first": 10 })).await;
    assert_eq!(
        slugs(&data(&favorites)["articles"]),
        vec![created[3].clone()]
    );
    let nobody = gql(
        &app,
        None,
        PAGE,
        json!({ "author": unique("nobody"), "first": 10 }),
    )
    .await;
    assert_eq!(data(&nobody)["articles"]["totalCount"], 0);

    let profile_page = gql(&app, None, "query($u: String!) { profile(username: $u) { articles(first: 3) { totalCount edges { node { slug } } } } }", json!({ "u": author })).await;
    let profile_articles = &data(&profile_page)["profile"]["articles"];
    assert_eq!(profile_articles["totalCount"], 5);
    assert_eq!(slugs(profile_articles), created[..3].to_vec());

    let feed = "query($first: Int!) { feed(first: $first) { totalCount edges { node { slug author { following } } } } }";
    let empty = gql(&app, Some(&fan_token), feed, json!({ "first": 10 })).await;
    assert_eq!(data(&empty)["feed"]["totalCount"], 0);
    gql(
        &app,
        Some(&fan_token),
        "mutation($u: String!) { follow(username: $u) { following } }",
        json!({ "u": author }),
    )
    .await;
    let full = gql(&app, Some(&fan_token), feed, json!({ "first": 2 })).await;
    let full = &data(&full)["feed"];
    assert_eq!(full["totalCount"], 5);
    assert_eq!(slugs(full), created[..2].to_vec());
    assert_eq!(full["edges"][0]["node"]["author"]["following"], true);
    let anonymous = gql(&app, None, feed, json!({ "first": 2 })).await;
    assert_eq!(error_code(&anonymous), "UNAUTHENTICATED");

    let tags = gql(&app, None, "{ tags }", Value::Null).await;
    assert!(
        data(&tags)["tags"]
            .as_array()
            .unwrap()
            .contains(&json!(tag))
    );

    let bad_cursor = gql(
        &app,
        None,
        PAGE,
        json!({ "first": 2, "after": "not-a-cursor" }),
    )
    .await;
    field_errors(&bad_cursor, "after");
    let too_many = gql(&app, None, PAGE, json!({ "first": 101 })).await;
    field_errors(&too_many, "first");
    let negative = gql(&app, None, PAGE, json!({ "first": -1 })).await;
    field_errors(&negative, "first");
    let wrong_type = gql(&app, None, PAGE, json!({ "first": "ten" })).await;
    assert!(wrong_type.body["data"].is_null());
    assert!(wrong_type.body["errors"][0]["extensions"]["code"].is_string());
}

#[tokio::test]
async fn an_article_has_the_same_values_through_rest_and_graphql() {
    let app = TestApp::spawn().await;
    let (author, token) = register(&app).await;
    let (_, viewer) = register(&app).await;
    let tag = unique("parity");
    let slug = create_article(&app, &token, "Parity", &[&tag, "zeta", "alpha"]).await;
    create_article(&app, &token, "Parity Two", &[&tag]).await;
    app.post(
        &format!("/api/articles/{slug}/favorite"),
        Some(&viewer),
        json!({}),
    )
    .await;
    app.post(
        &format!("/api/profiles/{author}/follow"),
        Some(&viewer),
        json!({}),
    )
    .await;
    app.post(
        &format!("/api/articles/{slug}/comments"),
        Some(&viewer),
        json!({ "comment": { "body": "same everywhere" } }),
    )
    .await;
    app.put(
        "/api/user",
        Some(&token),
        json!({ "user": { "bio": "bio", "image": "https://example.com/a.png" } }),
    )
    .await;

    let fields = "slug title description body tagList createdAt updatedAt favorited favoritesCount author { username bio image following }";
    for token in [None, Some(viewer.as_str())] {
        let rest = app.get(&format!("/api/articles/{slug}"), token).await;
        let graphql = gql(
            &app,
            token,
            &format!("query($slug: String!) {{ article(slug: $slug) {{ {fields} }} }}"),
            json!({ "slug": slug }),
        )
        .await;
        assert_eq!(
            data(&graphql)["article"],
            rest.body["article"],
            "viewer {token:?}"
        );

        // Lists: the same order and values (REST lists leave the body out).
        let rest_list = app.get(&format!("/api/articles?tag={tag}"), token).await;
        let graphql_list = gql(&app, token, &format!("query($tag: String) {{ articles(tag: $tag) {{ totalCount edges {{ node {{ {fields} }} }} }} }}"), json!({ "tag": tag })).await;
        let connection = &data(&graphql_list)["articles"];
        assert_eq!(connection["totalCount"], rest_list.body["articlesCount"]);
        let rest_articles = rest_list.body["articles"].as_array().unwrap();
        assert_eq!(rest_articles.len(), 2);
        for (rest_article, edge) in rest_articles
            .iter()
            .zip(connection["edges"].as_array().unwrap())
        {
            let mut node = edge["node"].clone();
            let body = node.as_object_mut().unwrap().remove("body").unwrap();
            assert!(body.as_str().unwrap().starts_with("body of Parity"));
            assert_eq!(&node, rest_article);
        }

        let rest_comments = app
            .get(&format!("/api/articles/{slug}/comments"), token)
            .await;
        let graphql_comments = gql(&app, token, "query($slug: String!) { comments(slug: $slug) { id createdAt updatedAt body author { username bio image following } } }", json!({ "slug": slug })).await;
        assert_eq!(
            data(&graphql_comments)["comments"],
            rest_comments.body["comments"]
        );

        let rest_profile = app.get(&format!("/api/profiles/{author}"), token).await;
        let graphql_profile = gql(
            &app,
            token,
            "query($u: String!) { profile(username: $u) { username bio image following } }",
            json!({ "u": author }),
        )
        .await;
        assert_eq!(
            data(&graphql_profile)["profile"],
            rest_profile.body["profile"]
        );
    }
    let rest_tags = app.get("/api/tags", None).await;
    let graphql_tags = gql(&app, None, "{ tags }", Value::Null).await;
    assert_eq!(data(&graphql_tags)["tags"], rest_tags.body["tags"]);
}

const NESTED_PAGE: &str = "query($tag: String!, $first: Int!) {
  articles(tag: $tag, first: $first) {
    totalCount
    edges { node {
      slug title body tagList favorited favoritesCount createdAt
      author { username following }
      comments(first: 5) { id body author { username following } }
    } }
  }
}";

#[tokio::test]
async fn a_nested_page_runs_the_same_few_statements_whatever_its_size() {
    // Without the cache, so that every statement a page needs is actually run.
    let (app, statements) = TestApp::spawn_recording_with(&[("cache_enabled", "false")]).await;
    let mut writers = Vec::new();
    for _ in 0..3 {
        writers.push(register(&app).await);
    }
    let (_, viewer) = register(&app).await;
    let tag = unique("nested");
    for i in 0..20 {
        let (_, token) = &writers[i % writers.len()];
        let slug = create_article(&app, token, &format!("Nested {i}"), &[&tag, "common"]).await;
        for c in 0..6 {
            let (_, commenter) = &writers[(i + c) % writers.len()];
            let path = format!("/api/articles/{slug}/comments");
            let body = json!({ "comment": { "body": format!("comment {c}") } });
            assert_eq!(
                app.post(&path, Some(commenter), body).await.status,
                StatusCode::OK
            );
        }
        if i % 2 == 0 {
            app.post(
                &format!("/api/articles/{slug}/favorite"),
                Some(&viewer),
                json!({}),
            )
            .await;
        }
    }
    let followed = &writers[0].0;
    app.post(
        &format!("/api/profiles/{followed}/follow"),
        Some(&viewer),
        json!({}),
    )
    .await;

    let mut counts = Vec::new();
    for first in [1, 2, 20] {
        statements.lock().unwrap().clear();
        let page = gql(
            &app,
            Some(&viewer),
            NESTED_PAGE,
            json!({ "tag": tag, "first": first }),
        )
        .await;
        let run = statements.lock().unwrap().len();
        let edges = data(&page)["articles"]["edges"].as_array().unwrap().clone();
        assert_eq!(edges.len(), first as usize);
        for edge in &edges {
            let node = &edge["node"];
            let comments = node["comments"].as_array().unwrap();
            assert_eq!(comments.len(), 5, "{node}");
            assert_eq!(comments[0]["body"], "comment 5", "newest first");
            assert!(node["body"].as_str().unwrap().starts_with("body of Nested"));
            let following = node["author"]["username"] == followed.as_str();
            assert_eq!(node["author"]["following"], following);
            for comment in comments {
                let following = comment["author"]["username"] == followed.as_str();
                assert_eq!(comment["author"]["following"], following);
            }
        }
        let favorited = edges
            .iter()
            .filter(|e| e["node"]["favorited"] == true)
            .count();
        // Newest first: articles 19, 18, ...; the viewer favorited the even ones.
        assert_eq!(favorited, first as usize / 2);
        counts.push(run);
    }
    // The token's user; count, ids, cards, tags, authors, flags; body sizes, bodies; comments,
    // their authors, their authors' flags.
    assert!(
        counts.iter().all(|&n| n == counts[0]),
        "statements per page size: {counts:?}"
    );
    assert!(
        counts[0] <= 12,
        "{} statements: {:#?}",
        counts[0],
        statements.lock().unwrap()
    );
}

#[tokio::test]
async fn a_cached_nested_page_runs_no_sql_but_a_viewers_token_check() {
    let (app, statements) = TestApp::spawn_recording().await;
    let (_, token) = register(&app).await;
    let (_, viewer) = register(&app).await;
    let tag = unique("cachedpage");
    for i in 0..3 {
        let slug = create_article(&app, &token, &format!("Cached page {i}"), &[&tag]).await;
        let body = json!({ "comment": { "body": "cached comment" } });
        app.post(
            &format!("/api/articles/{slug}/comments"),
            Some(&viewer),
            body,
        )
        .await;
    }
    let variables = json!({ "tag": tag, "first": 20 });
    // A token is checked against the database unless the account cache is shared (Redis).
    let token_check = usize::from(crate::caching::redis_url().is_none());
    for (token, expected) in [(None, 0), (Some(viewer.as_str()), token_check)] {
        let first = gql(&app, token, NESTED_PAGE, variables.clone()).await;
        statements.lock().unwrap().clear();
        let again = gql(&app, token, NESTED_PAGE, variables.clone()).await;
        assert_eq!(again.body, first.body);
        let run = recorded_sql(&statements);
        assert_eq!(run.len(), expected, "{run:#?}");
    }
}

#[tokio::test]
async fn anonymous_answers_are_cached_whole_and_never_stale() {
    let (app, statements) = TestApp::spawn_recording().await;
    let (_, token) = register(&app).await;
    let tag = unique("whole");
    create_article(&app, &token, "Whole one", &[&tag]).await;
    let list =
        "query($tag: String) { articles(tag: $tag) { totalCount edges { node { title } } } }";
    let variables = json!({ "tag": tag });
    let first = gql(&app, None, list, variables.clone()).await;
    assert_eq!(data(&first)["articles"]["totalCount"], 1);

    statements.lock().unwrap().clear();
    let hit = gql(&app, None, list, variables.clone()).await;
    assert_eq!(hit.text, first.text);
    assert!(statements.lock().unwrap().is_empty(), "a hit ran SQL");
    let other = gql(&app, None, list, json!({ "tag": unique("other") })).await;
    assert_eq!(
        data(&other)["articles"]["totalCount"],
        0,
        "variables are part of the key"
    );

    // A write through either API is seen by the very next anonymous read.
    create_article(&app, &token, "Whole two", &[&tag]).await;
    let after_write = gql(&app, None, list, variables.clone()).await;
    assert_eq!(data(&after_write)["articles"]["totalCount"], 2);
    let slug = app.article(&token, "Whole three", &[&tag]).await;
    let after_rest_write = gql(&app, None, list, variables.clone()).await;
    assert_eq!(data(&after_rest_write)["articles"]["totalCount"], 3);
    let thread = "query($slug: String!) { article(slug: $slug) { comments { body } } }";
    gql(&app, None, thread, json!({ "slug": slug })).await;
    let body = json!({ "comment": { "body": "fresh" } });
    app.post(
        &format!("/api/articles/{slug}/comments"),
        Some(&token),
        body,
    )
    .await;
    let commented = gql(&app, None, thread, json!({ "slug": slug })).await;
    assert_eq!(data(&commented)["article"]["comments"][0]["body"], "fresh");

    // Answers with errors are not kept.
    let missing = json!({ "slug": unique("missing") });
    gql(&app, None, thread, missing.clone()).await;
    statements.lock().unwrap().clear();
    let again = gql(&app, None, thread, missing).await;
    assert_eq!(error_code(&again), "NOT_FOUND");
    assert!(!statements.lock().unwrap().is_empty());
}

#[tokio::test]
async fn hostile_queries_are_refused_with_clear_errors() {
    let app = TestApp::spawn().await;

    // Deep nesting.
    let mut selection = "slug".to_owned();
    for _ in 0..5 {
        selection =
            format!("author {{ articles(first: 1) {{ edges {{ node {{ {selection} }} }} }} }}");
    }
    let deep = gql(
        &app,
        None,
        &format!("{{ articles(first: 1) {{ edges {{ node {{ {selection} }} }} }} }}"),
        Value::Null,
    )
    .await;
    assert_eq!(error_code(&deep), "QUERY_TOO_DEEP", "{}", deep.text);
    assert!(deep.body["data"].is_null());

    // Fan-out through aliases.
    let aliases: String = (0..50)
        .map(|i| {
            format!("a{i}: articles(first: 100) {{ edges {{ node {{ slug title body }} }} }} ")
        })
        .collect();
    let wide = gql(&app, None, &format!("{{ {aliases} }}"), Value::Null).await;
    assert_eq!(error_code(&wide), "QUERY_TOO_COMPLEX", "{}", wide.text);
    assert!(
        wide.body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("QUIRE_GRAPHQL_MAX_COMPLEXITY")
    );

    // A fragment bomb: a few hundred bytes that expand to 2^40 fields.
    let fragments: String = (0..40)
        .map(|i| {
            format!(
                "fragment F{i} on Query {{ tags ...F{n} ...F{n} }} ",
                n = i + 1
            )
        })
        .collect();
    let bomb = format!("query {{ ...F0 }} {fragments} fragment F40 on Query {{ tags }}");
    let exploded = gql(&app, None, &bomb, Value::Null).await;
    assert_eq!(
        error_code(&exploded),
        "QUERY_TOO_COMPLEX",
        "{}",
        exploded.text
    );
    let cycle =
        "query { ...A } fragment A on Query { tags ...B } fragment B on Query { tags ...A }";
    let cyclic = gql(&app, None, cycle, Value::Null).await;
    assert_eq!(
        error_code(&cyclic),
        "GRAPHQL_VALIDATION_FAILED",
        "{}",
        cyclic.text
    );

    // Fan-out of a cheap field that runs its own query each time.
    let lookups: String = (0..600).map(|i| format!("t{i}: tags ")).collect();
    let many = gql(&app, None, &format!("{{ {lookups} }}"), Value::Null).await;
    assert_eq!(error_code(&many), "QUERY_TOO_COMPLEX", "{}", many.text);

    // Password guesses (or argon2 work) multiplied by aliases.
    let guesses: String = (0..3)
        .map(|i| format!("g{i}: login(input: {{ email: \"x@example.com\", password: \"guess{i}-guess\" }}) {{ token }} "))
        .collect();
    let burst = gql(
        &app,
        None,
        &format!("mutation {{ {guesses} }}"),
        Value::Null,
    )
    .await;
    assert_eq!(error_code(&burst), "QUERY_TOO_COMPLEX", "{}", burst.text);

    // A query text over the size limit, and bodies that are not one GraphQL request.
    let huge: String = (0..3000).map(|i| format!("t{i}: tags ")).collect();
    let large = app
        .post(
            "/graphql",
            None,
            json!({ "query": format!("{{ {huge} }}") }),
        )
        .await;
    assert_eq!(large.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        large.body["errors"][0]["extensions"]["code"],
        "QUERY_TOO_LARGE"
    );
    let batch = app
        .post(
            "/graphql",
            None,
            json!([{ "query": "{ tags }" }, { "query": "{ tags }" }]),
        )
        .await;
    assert_eq!(batch.status, StatusCode::BAD_REQUEST);
    assert_eq!(batch.body["errors"][0]["extensions"]["code"], "BAD_REQUEST");
    let not_json = app
        .raw(
            app.client
                .post(app.url("/graphql"))
                .header("content-type", "application/json")
                .body("{ tags }"),
        )
        .await;
    assert_eq!(not_json.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        not_json.body["errors"][0]["extensions"]["code"],
        "BAD_REQUEST"
    );
    let syntax = gql(&app, None, "{ articles { ", Value::Null).await;
    assert_eq!(error_code(&syntax), "GRAPHQL_PARSE_FAILED");
    let unknown = gql(&app, None, "{ users { password } }", Value::Null).await;
    assert_eq!(error_code(&unknown), "GRAPHQL_VALIDATION_FAILED");

    // The nested page the API is for stays well inside the limits at its largest size.
    let largest = gql(
        &app,
        None,
        NESTED_PAGE,
        json!({ "tag": "none", "first": 100 }),
    )
    .await;
    data(&largest);
}

const INTROSPECTION: &str = "query IntrospectionQuery {
  __schema {
    queryType { name } mutationType { name } subscriptionType { name }
    types { ...FullType }
    directives { name description locations args { ...InputValue } }
  }
}
fragment FullType on __Type {
  kind name description
  fields(includeDeprecated: true) { name description args { ...InputValue } type { ...TypeRef } isDeprecated deprecationReason }
  inputFields { ...InputValue }
  interfaces { ...TypeRef }
  enumValues(includeDeprecated: true) { name description isDeprecated deprecationReason }
  possibleTypes { ...TypeRef }
}
fragment InputValue on __InputValue { name description type { ...TypeRef } defaultValue }
fragment TypeRef on __Type {
  kind name
  ofType { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name } } } } } } }
}";

#[tokio::test]
async fn introspection_serves_the_ide_and_can_be_switched_off() {
    let app = TestApp::spawn().await;
    let schema = gql(&app, None, INTROSPECTION, Value::Null).await;
    assert_eq!(data(&schema)["__schema"]["queryType"]["name"], "Query");

    let closed = TestApp::spawn_with(&[("graphql_introspection", "false")]).await;
    let refused = gql(&closed, None, INTROSPECTION, Value::Null).await;
    assert_eq!(error_code(&refused), "INTROSPECTION_DISABLED");
    assert!(refused.body["data"].is_null());
    let by_type = gql(
        &closed,
        None,
        "{ tags ... on Query { __type(name: \"Article\") { name } } }",
        Value::Null,
    )
    .await;
    assert_eq!(error_code(&by_type), "INTROSPECTION_DISABLED");
    let still_works = gql(&closed, None, "{ tags }", Value::Null).await;
    data(&still_works);
}

#[tokio::test]
async fn the_ide_is_served_from_quire_itself() {
    let app = TestApp::spawn().await;
    let sources = regex::Regex::new(r#"(?:src|href)="([^"]+)""#).unwrap();
    // Browsers resolve the page's assets against its address, with or without the slash.
    for page_path in ["/graphql", "/graphql/"] {
        let page = app.get(page_path, None).await;
        assert_eq!(page.status, StatusCode::OK);
        assert!(
            page.headers["content-type"]
                .to_str()
                .unwrap()
                .starts_with("text/html")
        );
        let policy = page.headers["content-security-policy"].to_str().unwrap();
        assert!(
            policy.contains("script-src 'self'") && policy.contains("frame-ancestors 'none'"),
            "{policy}"
        );
        assert!(
            !page.text.contains("http://")
                && !page.text.contains("https://")
                && !page.text.contains("//cdn"),
            "the page loads something from elsewhere"
        );
        let assets: Vec<String> = sources
            .captures_iter(&page.text)
            .map(|c| c[1].to_owned())
            .collect();
        assert_eq!(assets.len(), 5, "{assets:?}");
        let base = reqwest::Url::parse(&app.url(page_path)).unwrap();
        for asset in assets {
            let response = app.raw(app.client.get(base.join(&asset).unwrap())).await;
            assert_eq!(response.status, StatusCode::OK, "{page_path}: {asset}");
            let content_type = response.headers["content-type"].to_str().unwrap();
            assert!(
                content_type.starts_with("text/javascript") || content_type.starts_with("text/css"),
                "{asset}: {content_type}"
            );
            assert!(!response.text.is_empty());
        }
    }
    let missing = app.get("/graphql/assets/nope.js", None).await;
    missing.assert_error(StatusCode::NOT_FOUND);
}

#[test]
fn the_committed_schema_snapshot_is_what_quire_schema_prints() {
    let printed = std::process::Command::new(env!("CARGO_BIN_EXE_quire"))
        .arg("schema")
        .output()
        .expect("quire schema runs");
    assert!(printed.status.success());
    let snapshot = include_str!("../../schema.graphql");
    assert!(
        String::from_utf8_lossy(&printed.stdout) == snapshot,
        "the GraphQL schema changed: review it, then run `cargo run -- schema > schema.graphql`"
    );
}

#[tokio::test]
async fn queries_can_be_sent_with_get_but_mutations_cannot() {
    let app = TestApp::spawn().await;
    let (username, token) = register(&app).await;
    let query = "query Who($u: String!) { profile(username: $u) { username } }";
    let variables = json!({ "u": username }).to_string();
    let url = reqwest::Url::parse_with_params(
        &app.url("/graphql"),
        [
            ("query", query),
            ("variables", &variables),
            ("operationName", "Who"),
        ],
    )
    .unwrap();
    let answered = app.raw(app.client.get(url)).await;
    assert_eq!(answered.status, StatusCode::OK, "{}", answered.text);
    assert_eq!(data(&answered)["profile"]["username"], username.as_str());

    let me =
        reqwest::Url::parse_with_params(&app.url("/graphql"), [("query", "{ me { username } }")])
            .unwrap();
    let signed_in = app
        .raw(
            app.client
                .get(me)
                .header("Authorization", format!("Token {token}")),
        )
        .await;
    assert_eq!(data(&signed_in)["me"]["username"], username.as_str());

    let mutation = "mutation { deleteArticle(slug: \"anything\") }";
    let url = reqwest::Url::parse_with_params(&app.url("/graphql"), [("query", mutation)]).unwrap();
    let refused = app
        .raw(
            app.client
                .get(url)
                .header("Authorization", format!("Token {token}")),
        )
        .await;
    assert_eq!(
        refused.status,
        StatusCode::METHOD_NOT_ALLOWED,
        "{}",
        refused.text
    );
    assert_eq!(
        refused.body["errors"][0]["extensions"]["code"],
        "METHOD_NOT_ALLOWED"
    );
    assert_eq!(refused.headers["allow"], "POST");
}
