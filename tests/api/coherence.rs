//! The cache under a storm: writers and readers race on every instance, then every anonymous
//! and signed-in answer must equal what an instance without a cache answers from the database.

use std::sync::{Arc, Mutex};

use rand::Rng;
use rand::seq::IndexedRandom;
use serde_json::json;

use crate::caching::redis_url;
use crate::support::{TestApp, unique};

/// What the writers have named so far: every slug and username ever used (a renamed or deleted
/// one must then answer 404 everywhere, as the database does).
#[derive(Default)]
struct Seen {
    slugs: Vec<String>,
    usernames: Vec<String>,
}

struct Writer {
    token: String,
    username: String,
}

/// Rounds 1 and 3 only change what lists already show (favorites, comments and follows; then
/// profiles), so that entries the previous check cached must be invalidated by exactly those
/// writes.
const ROUNDS: usize = 4;
const TASKS: usize = 6;
const STEPS: usize = 25;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn racing_writes_and_reads_never_leave_a_stale_answer() {
    // Two instances share the cache through Redis; without Redis one instance is coherent.
    let mut instances = vec![];
    match redis_url() {
        Some(redis) => {
            let (a, b) = TestApp::spawn_pair(&[("redis_url", redis.as_str())]).await;
            instances.push(a);
            instances.push(b);
        }
        None => instances.push(TestApp::spawn().await),
    }
    let oracle = instances[0].beside(&[("cache_enabled", "false")]).await;
    let instances = Arc::new(instances);
    let tags: Vec<String> = (0..4).map(|i| unique(&format!("t{i}"))).collect();
    let seen = Arc::new(Mutex::new(Seen::default()));
    let mut users = vec![];
    for _ in 0..4 {
        let (name, token) = instances[0].user().await;
        seen.lock().unwrap().usernames.push(name.clone());
        users.push(Writer {
            token,
            username: name,
        });
    }
    for (i, user) in users.iter().enumerate() {
        let slug = instances[0]
            .article(&user.token, &format!("Storm {i}"), &[tags[i % 4].as_str()])
            .await;
        seen.lock().unwrap().slugs.push(slug);
    }
    for (i, user) in users.iter().enumerate() {
        let next = &users[(i + 1) % users.len()].username;
        let follow = format!("/api/profiles/{next}/follow");
        instances[0]
            .post(&follow, Some(&user.token), json!({}))
            .await;
    }
    let users = Arc::new(users);

    for round in 0..ROUNDS {
        let mut tasks = vec![];
        for task in 0..TASKS {
            let (instances, seen, users, tags) =
                (instances.clone(), seen.clone(), users.clone(), tags.clone());
            tasks.push(tokio::spawn(async move {
                for step in 0..STEPS {
                    storm_step(&instances, &seen, &users, &tags, (round, task, step)).await;
                }
            }));
        }
        for task in tasks {
            task.await.expect("a storm task panicked");
        }

        // Quiet now: every answer must be the database's.
        let (slugs, usernames) = {
            let seen = seen.lock().unwrap();
            (seen.slugs.clone(), seen.usernames.clone())
        };
        // On a server database other tests write too, through instances whose caches are not
        // these: there only what this test's data alone decides is compared.
        let mut paths = vec!["/api/articles/feed?limit=100".to_owned()];
        if database_is_private() {
            paths.extend(
                ["/api/articles", "/api/articles?limit=100", "/api/tags"].map(String::from),
            );
        }
        paths.extend(tags.iter().map(|t| format!("/api/articles?tag={t}")));
        for name in &usernames {
            paths.push(format!("/api/articles?author={name}"));
            paths.push(format!("/api/articles?favorited={name}"));
            paths.push(format!("/api/profiles/{name}"));
        }
        for slug in &slugs {
            paths.push(format!("/api/articles/{slug}"));
            paths.push(format!("/api/articles/{slug}/comments"));
        }
        for instance in instances.iter() {
            for path in &paths {
                for token in [None, Some(users[0].token.as_str())] {
                    let truth = oracle.get(path, token).await;
                    let cached = instance.get(path, token).await;
                    assert_eq!(cached.status, truth.status, "round {round}: {path}");
                    assert!(
                        cached.body == truth.body,
                        "round {round}: {path} with token {}: {}",
                        token.is_some(),
                        difference(&cached.text, &truth.text)
                    );
                }
            }
            for tag in &tags {
                let query = json!({
                    "query": "query($tag: String) { articles(tag: $tag, first: 50) { edges { node { slug body favoritesCount tagList author { username bio } comments(first: 5) { body author { username } } } } } }",
                    "variables": {"tag": tag},
                });
                let truth = oracle.post("/graphql", None, query.clone()).await;
                let cached = instance.post("/graphql", None, query).await;
                assert_eq!(cached.body, truth.body, "round {round}: GraphQL, tag {tag}");
            }
        }
    }
}

/// SQLite gives each test a database of its own; PostgreSQL and MySQL suites share one.
fn database_is_private() -> bool {
    std::env::var("QUIRE_TEST_DATABASE_URL").map_or(true, |url| url.is_empty())
}

/// Where two answers part, with some context: whole pages are too long to read in a failure.
fn difference(cached: &str, truth: &str) -> String {
    let at = cached
        .bytes()
        .zip(truth.bytes())
        .position(|(a, b)| a != b)
        .unwrap_or(cached.len().min(truth.len()));
    let from = at.saturating_sub(300);
    let excerpt = |text: &str| {
        text.get(from..(at + 100).min(text.len()))
            .unwrap_or(text)
            .to_owned()
    };
    format!(
        "cached …{}… but the database …{}…",
        excerpt(cached),
        excerpt(truth)
    )
}

/// One random write or read on a random instance. Writes that lose a race end in a 4xx, never
/// a 5xx.
async fn storm_step(
    instances: &[TestApp],
    seen: &Mutex<Seen>,
    users: &[Writer],
    tags: &[String],
    (round, task, step): (usize, usize, usize),
) {
    let (app, user, slug, tag, choice, fan) = {
        let mut rng = rand::rng();
        let seen = seen.lock().unwrap();
        (
            instances.choose(&mut rng).unwrap(),
            users.choose(&mut rng).unwrap(),
            seen.slugs.choose(&mut rng).unwrap().clone(),
            tags.choose(&mut rng).unwrap().clone(),
            match round {
                1 => *[5, 6, 8, 10, 12, 19, 20, 21].choose(&mut rng).unwrap(),
                3 => *[13, 14, 16, 18].choose(&mut rng).unwrap(),
                _ => rng.random_range(0..22),
            },
            seen.usernames.choose(&mut rng).unwrap().clone(),
        )
    };
    let token = Some(user.token.as_str());
    let article = format!("/api/articles/{slug}");
    let label = format!("{round}.{task}.{step}");
    let response = match choice {
        0 | 1 => {
            let body = json!({"article": {"title": format!("Storm {label}"), "description": "d", "body": "b", "tagList": [tag]}});
            let created = app.post("/api/articles", token, body).await;
            if let Some(slug) = created.body["article"]["slug"].as_str() {
                seen.lock().unwrap().slugs.push(slug.to_owned());
            }
            created
        }
        2 => {
            let changes =
                json!({"article": {"title": format!("Renamed {label}"), "tagList": [tag]}});
            let updated = app.put(&article, token, changes).await;
            if let Some(slug) = updated.body["article"]["slug"].as_str() {
                seen.lock().unwrap().slugs.push(slug.to_owned());
            }
            updated
        }
        3 => {
            let changes = json!({"article": {"body": format!("body {label}")}});
            app.put(&article, token, changes).await
        }
        4 => app.delete(&article, token).await,
        5..=7 => {
            app.post(&format!("{article}/favorite"), token, json!({}))
                .await
        }
        8 | 9 => app.delete(&format!("{article}/favorite"), token).await,
        10 | 11 => {
            let comment = json!({"comment": {"body": format!("comment {label}")}});
            app.post(&format!("{article}/comments"), token, comment)
                .await
        }
        12 => {
            let thread = app.get(&format!("{article}/comments"), None).await;
            match thread.body["comments"][0]["id"].as_i64() {
                Some(id) => app.delete(&format!("{article}/comments/{id}"), token).await,
                None => thread,
            }
        }
        13 if step % 5 == 0 => {
            let username = unique("renamed");
            let renamed = app
                .put("/api/user", token, json!({"user": {"username": username}}))
                .await;
            if renamed.status.is_success() {
                seen.lock().unwrap().usernames.push(username);
            }
            renamed
        }
        13 => {
            let bio = json!({"user": {"bio": format!("bio {label}"), "image": format!("https://example.com/{label}.png")}});
            app.put("/api/user", token, bio).await
        }
        20 => {
            app.post(&format!("/api/profiles/{fan}/follow"), token, json!({}))
                .await
        }
        21 => {
            app.delete(&format!("/api/profiles/{fan}/follow"), token)
                .await
        }
        14 => app.get(&format!("/api/articles?tag={tag}"), None).await,
        15 => {
            app.get(&format!("/api/articles?favorited={fan}"), None)
                .await
        }
        16 => {
            app.get(&format!("/api/profiles/{}", user.username), None)
                .await
        }
        17 => app.get(&format!("{article}/comments"), None).await,
        18 => app.get(&article, None).await,
        _ => app.get("/api/articles", None).await,
    };
    assert!(
        response.status.is_success() || response.status.is_client_error(),
        "step {label} answered {}: {}",
        response.status,
        response.text
    );
}
