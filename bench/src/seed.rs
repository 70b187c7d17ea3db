//! Seeds any RealWorld server through its public API only, with skewed popularity.

use std::collections::{HashMap, HashSet};

use anyhow::{Context, bail};
use futures::{StreamExt, TryStreamExt, stream};
use rand::Rng;
use serde::Serialize;
use serde_json::{Value, json};

/// Requests in flight while seeding.
const SEED_CONCURRENCY: usize = 16;
pub const PASSWORD: &str = "bench-password-1";
const TAGS: &[&str] = &[
    "programming",
    "rust",
    "webdev",
    "databases",
    "devops",
    "career",
    "design",
    "security",
    "performance",
    "testing",
    "javascript",
    "python",
    "cloud",
    "linux",
    "opensource",
    "writing",
    "books",
    "travel",
    "music",
    "science",
];
const WORDS: &[&str] = &[
    "rust", "async", "database", "cache", "latency", "design", "service", "pattern", "query",
    "index", "stream", "server", "client", "memory", "thread", "schema", "deploy", "scale",
];

#[derive(Debug, Clone, Serialize)]
pub struct SeedSize {
    pub users: usize,
    pub articles: usize,
    pub follows: usize,
    pub favorites: usize,
    pub comments: usize,
}

impl Default for SeedSize {
    fn default() -> Self {
        SeedSize {
            users: 200,
            articles: 2_000,
            follows: 2_000,
            favorites: 5_000,
            comments: 4_000,
        }
    }
}

impl SeedSize {
    pub fn quick() -> Self {
        SeedSize {
            users: 30,
            articles: 200,
            follows: 150,
            favorites: 300,
            comments: 200,
        }
    }
}

#[derive(Clone)]
pub struct User {
    pub username: String,
    pub email: String,
    pub token: String,
}

/// What the scenarios draw from.
#[derive(Clone)]
pub struct Fixture {
    pub users: Vec<User>,
    pub slugs: Vec<String>,
    /// The most used tags, most used first.
    pub top_tags: Vec<String>,
    pub landmarks: Landmarks,
}

/// The places in the data set the size scenarios aim at.
#[derive(Clone, Debug)]
pub struct Landmarks {
    /// `articlesCount` of the whole list.
    pub total: u64,
    /// The least used tag.
    pub rare_tag: String,
    /// An author with many articles and a user with many favorites.
    pub author: String,
    pub fan: String,
    /// An article with many comments, the one the burst writes to.
    pub hot_slug: String,
}

/// Index skewed towards the front: a few items draw most of the activity.
fn skewed(rng: &mut impl Rng, len: usize) -> usize {
    let u: f64 = rng.random();
    ((u * u * len as f64) as usize).min(len - 1)
}

fn words(rng: &mut impl Rng, count: usize) -> String {
    (0..count)
        .map(|_| WORDS[rng.random_range(0..WORDS.len())])
        .collect::<Vec<_>>()
        .join(" ")
}

async fn post(
    client: &reqwest::Client,
    url: String,
    token: Option<&str>,
    body: Value,
) -> anyhow::Result<Value> {
    let mut request = client.post(&url).json(&body);
    if let Some(token) = token {
        request = request.header("Authorization", format!("Token {token}"));
    }
    let response = request
        .send()
        .await
        .with_context(|| format!("POST {url}"))?;
    let status = response.status();
    let text = response.text().await?;
    if !status.is_success() {
        bail!("POST {url} answered {status}: {text}");
    }
    Ok(serde_json::from_str(&text).unwrap_or(Value::Null))
}

/// Registers `count` users named after the run.
async fn register(
    client: &reqwest::Client,
    api: &str,
    run: &str,
    count: usize,
) -> anyhow::Result<Vec<User>> {
    stream::iter(0..count)
        .map(|i| async move {
            let username = format!("bench{run}{i}");
            let email = format!("{username}@bench.example.com");
            let body =
                json!({"user": {"username": &username, "email": &email, "password": PASSWORD}});
            let answer = post(client, format!("{api}/users"), None, body).await?;
            let token = answer["user"]["token"]
                .as_str()
                .context("register returned no token")?
                .to_owned();
            Ok::<_, anyhow::Error>(User {
                username,
                email,
                token,
            })
        })
        .buffered(SEED_CONCURRENCY)
        .try_collect()
        .await
}

async fn get(client: &reqwest::Client, url: String, token: Option<&str>) -> anyhow::Result<Value> {
    let mut request = client.get(&url);
    if let Some(token) = token {
        request = request.header("Authorization", format!("Token {token}"));
    }
    let response = request.send().await.with_context(|| format!("GET {url}"))?;
    let status = response.status();
    let text = response.text().await?;
    if !status.is_success() {
        bail!("GET {url} answered {status}: {text}");
    }
    Ok(serde_json::from_str(&text).unwrap_or(Value::Null))
}

/// Six random letters that keep this run's names apart from every earlier run's.
fn run_tag() -> String {
    let mut rng = rand::rng();
    (0..6)
        .map(|_| (b'a' + rng.random_range(0..26u8)) as char)
        .collect()
}

pub async fn seed(
    client: &reqwest::Client,
    base: &str,
    size: &SeedSize,
) -> anyhow::Result<Fixture> {
    let api = format!("{base}/api");
    let run = run_tag();

    let users = register(client, &api, &run, size.users).await?;

    let mut tag_uses: HashMap<&str, usize> = HashMap::new();
    let mut plans = Vec::with_capacity(size.articles);
    {
        let mut rng = rand::rng();
        for i in 0..size.articles {
            let author = skewed(&mut rng, users.len());
            let mut tags = HashSet::new();
            for _ in 0..rng.random_range(1..=3) {
                tags.insert(TAGS[skewed(&mut rng, TAGS.len())]);
            }
            for tag in &tags {
                *tag_uses.entry(tag).or_default() += 1;
            }
            let title = format!("{} {run} {i}", words(&mut rng, 4));
            let description = words(&mut rng, 10);
            let mut body = String::with_capacity(2_100);
            while body.len() < 2_000 {
                body.push_str(&words(&mut rng, 12));
                body.push_str(".\n\n");
            }
            let tags: Vec<&str> = tags.into_iter().collect();
            plans.push((author, json!({"article": {"title": title, "description": description, "body": body, "tagList": tags}})));
        }
    }
    let slugs: Vec<String> = stream::iter(plans)
        .map(|(author, body)| {
            let (api, users) = (&api, &users);
            async move {
                let answer = post(
                    client,
                    format!("{api}/articles"),
                    Some(&users[author].token),
                    body,
                )
                .await?;
                Ok::<_, anyhow::Error>(
                    answer["article"]["slug"]
                        .as_str()
                        .context("no slug")?
                        .to_owned(),
                )
            }
        })
        .buffered(SEED_CONCURRENCY)
        .try_collect()
        .await?;

    let (follows, favorites, comments) = {
        let mut rng = rand::rng();
        let mut follows = HashSet::new();
        let cap = size.follows.min(users.len() * (users.len() - 1));
        while follows.len() < cap {
            let (a, b) = (
                rng.random_range(0..users.len()),
                skewed(&mut rng, users.len()),
            );
            if a != b {
                follows.insert((a, b));
            }
        }
        let mut favorites = HashSet::new();
        let cap = size.favorites.min(users.len() * slugs.len());
        while favorites.len() < cap {
            favorites.insert((
                rng.random_range(0..users.len()),
                skewed(&mut rng, slugs.len()),
            ));
        }
        let comments: Vec<(usize, usize, String)> = (0..size.comments)
            .map(|_| {
                (
                    rng.random_range(0..users.len()),
                    skewed(&mut rng, slugs.len()),
                    words(&mut rng, 15),
                )
            })
            .collect();
        (follows, favorites, comments)
    };

    stream::iter(follows)
        .map(|(a, b)| {
            post(
                client,
                format!("{api}/profiles/{}/follow", users[b].username),
                Some(&users[a].token),
                json!({}),
            )
        })
        .buffer_unordered(SEED_CONCURRENCY)
        .try_collect::<Vec<_>>()
        .await?;
    stream::iter(favorites)
        .map(|(u, a)| {
            post(
                client,
                format!("{api}/articles/{}/favorite", slugs[a]),
                Some(&users[u].token),
                json!({}),
            )
        })
        .buffer_unordered(SEED_CONCURRENCY)
        .try_collect::<Vec<_>>()
        .await?;
    stream::iter(comments)
        .map(|(u, a, body)| {
            post(
                client,
                format!("{api}/articles/{}/comments", slugs[a]),
                Some(&users[u].token),
                json!({"comment": {"body": body}}),
            )
        })
        .buffer_unordered(SEED_CONCURRENCY)
        .try_collect::<Vec<_>>()
        .await?;

    let mut top: Vec<(&str, usize)> = tag_uses.into_iter().collect();
    top.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    let rare_tag = top.last().map(|(t, _)| (*t).to_owned()).unwrap_or_default();
    let top_tags = top.into_iter().take(5).map(|(t, _)| t.to_owned()).collect();
    let total = get(client, format!("{api}/articles?limit=1"), None).await?["articlesCount"]
        .as_u64()
        .unwrap_or(size.articles as u64);
    // Index 0 is the most popular author, fan and article of the skewed draws above.
    let landmarks = Landmarks {
        total,
        rare_tag,
        author: users[0].username.clone(),
        fan: users[0].username.clone(),
        hot_slug: slugs[0].clone(),
    };
    Ok(Fixture {
        users,
        slugs,
        top_tags,
        landmarks,
    })
}

/// A fixture for a server whose data is already there (`quire seed` at a million articles,
/// which the API would take hours to load): `users` new users to sign in as, who follow the
/// most prolific authors of the newest page, and the landmarks found by asking the API.
pub async fn discover(
    client: &reqwest::Client,
    base: &str,
    users: usize,
) -> anyhow::Result<Fixture> {
    let api = format!("{base}/api");
    let run = run_tag();
    let users = register(client, &api, &run, users).await?;
    let newest = get(client, format!("{api}/articles?limit=100"), None).await?;
    let total = newest["articlesCount"]
        .as_u64()
        .context("no articlesCount")?;
    let articles = newest["articles"].as_array().context("no articles")?;
    anyhow::ensure!(
        !articles.is_empty(),
        "the server holds no articles: seed it first"
    );
    let slugs: Vec<String> = articles
        .iter()
        .filter_map(|a| a["slug"].as_str().map(str::to_owned))
        .collect();
    let mut authors: Vec<String> = articles
        .iter()
        .filter_map(|a| a["author"]["username"].as_str().map(str::to_owned))
        .collect();
    authors.sort();
    authors.dedup();
    let count = |query: String| {
        let api = &api;
        async move {
            let page = get(client, format!("{api}/articles?{query}&limit=1"), None).await?;
            Ok::<_, anyhow::Error>(page["articlesCount"].as_u64().unwrap_or(0))
        }
    };
    let mut by_articles = Vec::new();
    let mut by_favorites = Vec::new();
    for author in &authors {
        by_articles.push((count(format!("author={author}")).await?, author.clone()));
        by_favorites.push((count(format!("favorited={author}")).await?, author.clone()));
    }
    by_articles.sort_by(|a, b| b.cmp(a));
    by_favorites.sort_by(|a, b| b.cmp(a));
    let tags = get(client, format!("{api}/tags"), None).await?;
    let mut tag_counts = Vec::new();
    for tag in tags["tags"].as_array().context("no tags")? {
        let tag = tag.as_str().unwrap_or_default().to_owned();
        tag_counts.push((count(format!("tag={tag}")).await?, tag));
    }
    tag_counts.sort_by(|a, b| b.cmp(a));
    for user in &users {
        for (_, author) in by_articles.iter().take(10) {
            let path = format!("{api}/profiles/{author}/follow");
            post(client, path, Some(&user.token), json!({})).await?;
        }
    }
    let landmarks = Landmarks {
        total,
        rare_tag: tag_counts
            .last()
            .map(|(_, t)| t.clone())
            .unwrap_or_default(),
        author: by_articles[0].1.clone(),
        fan: by_favorites[0].1.clone(),
        // `quire seed` gives the newest articles the most comments.
        hot_slug: slugs[0].clone(),
    };
    Ok(Fixture {
        users,
        top_tags: tag_counts.into_iter().take(5).map(|(_, t)| t).collect(),
        slugs,
        landmarks,
    })
}
