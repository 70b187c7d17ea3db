//! `quire seed`: a realistic data set inserted in bulk, for demos and benchmarks.
//!
//! Popularity is skewed (a few authors, tags and articles draw most activity), bodies are
//! ~2 KB of markdown, and every seeded user signs in with the password `password123`. Rows are
//! generated in batches and loaded in bulk (`load`), with ids reserved up front; the maintained
//! list counts are set from the rows at the end, and the planner's statistics refreshed.

mod load;

use std::collections::{HashMap, HashSet};
use std::time::Instant;

use rand::Rng;
use rand::seq::IndexedRandom;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QuerySelect,
};

use crate::auth::password;
use crate::db::counts;
use crate::db::entities::tags;
use crate::domain::input::slugify;
use load::{Cell, load, load_keyed};

pub const SEED_PASSWORD: &str = "password123";

#[derive(clap::Args, Debug, Clone)]
pub struct SeedOptions {
    #[arg(long, default_value_t = 1_000)]
    pub users: usize,
    #[arg(long, default_value_t = 20_000)]
    pub articles: usize,
    #[arg(long, default_value_t = 50_000)]
    pub favorites: usize,
    #[arg(long, default_value_t = 10_000)]
    pub follows: usize,
    #[arg(long, default_value_t = 40_000)]
    pub comments: usize,
}

/// Rows generated and loaded at a time: a million articles never sit in memory at once.
const BATCH: usize = 20_000;

const WORDS: &[&str] = &[
    "rust", "async", "database", "cache", "latency", "design", "service", "pattern", "query",
    "index", "stream", "server", "client", "memory", "thread", "schema", "deploy", "scale",
    "error", "testing", "release", "feature", "network", "storage", "protocol", "compiler",
    "runtime", "kernel", "vector", "graph", "search", "render", "budget", "team", "product",
    "writing", "garden", "coffee", "travel", "music", "history", "science", "ocean", "mountain",
];
const TAGS: &[&str] = &[
    "programming",
    "rust",
    "webdev",
    "databases",
    "devops",
    "career",
    "productivity",
    "design",
    "security",
    "performance",
    "testing",
    "javascript",
    "python",
    "go",
    "cloud",
    "linux",
    "opensource",
    "ai",
    "writing",
    "books",
    "travel",
    "music",
    "photography",
    "cooking",
    "science",
    "history",
    "startups",
    "management",
    "health",
    "gaming",
];
const NAMES: &[&str] = &[
    "alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi", "ivan", "judy", "mallory",
    "niaj", "olivia", "peggy", "rupert", "sybil", "trent", "victor", "walter", "yara",
];

/// Index into `len` items skewed towards the front (roughly quadratic popularity).
fn skewed(rng: &mut impl Rng, len: usize) -> usize {
    let u: f64 = rng.random();
    ((u * u * len as f64) as usize).min(len - 1)
}

fn sentence(rng: &mut impl Rng, words: usize) -> String {
    let mut text: Vec<&str> = (0..words).map(|_| *WORDS.choose(rng).unwrap()).collect();
    let first = text[0].to_owned();
    let mut capitalised = first[..1].to_uppercase();
    capitalised.push_str(&first[1..]);
    text[0] = &capitalised;
    format!("{}.", text.join(" "))
}

fn markdown_body(rng: &mut impl Rng) -> String {
    let mut body = String::with_capacity(2_200);
    while body.len() < 2_000 {
        body.push_str("## ");
        body.push_str(&sentence(rng, 4));
        body.push_str("\n\n");
        for _ in 0..4 {
            let words = rng.random_range(8..16);
            body.push_str(&sentence(rng, words));
            body.push(' ');
        }
        body.push_str("\n\n- ");
        body.push_str(&sentence(rng, 6));
        body.push_str("\n- `");
        body.push_str(WORDS.choose(rng).unwrap());
        body.push_str("()`\n\n");
    }
    body
}

pub async fn run(db: &DatabaseConnection, options: &SeedOptions) -> anyhow::Result<()> {
    anyhow::ensure!(options.users >= 2, "--users must be at least 2");
    let started = Instant::now();
    let mut rng = rand::rng();
    // A run tag keeps usernames, e-mails and slugs unique when seeding the same database twice.
    let run_tag: String = (0..4)
        .map(|_| (b'a' + rng.random_range(0..26u8)) as char)
        .collect();
    let now = chrono::Utc::now().timestamp_millis();
    let year_ms = 365 * 24 * 3_600 * 1_000_i64;
    let hash = password::hash(SEED_PASSWORD.to_owned()).await?;

    let mut user_ids = Vec::with_capacity(options.users);
    for first in (0..options.users).step_by(BATCH) {
        let rows = (first..options.users.min(first + BATCH))
            .map(|i| {
                let name = format!("{}{i}_{run_tag}", NAMES[i % NAMES.len()]);
                let bio = format!("I write about {}.", WORDS[name.len() % WORDS.len()]);
                let key = name.to_lowercase();
                let cells = vec![
                    Cell::from(key.clone()),
                    Cell::from(format!("{}@seed.example.com", name.to_lowercase())),
                    Cell::from(name),
                    Cell::from(hash.clone()),
                    Cell::from(bio),
                    Cell::from(String::new()),
                    Cell::from(now - year_ms),
                    Cell::from(now - year_ms),
                ];
                (key, cells)
            })
            .collect();
        let columns = [
            "username_key",
            "email",
            "username",
            "password_hash",
            "bio",
            "image",
            "created_at",
            "updated_at",
        ];
        user_ids.extend(load_keyed(db, "users", "username_key", &columns, rows).await?);
    }
    let tag_ids = seed_tags(db).await?;

    // Favorites are drawn first so that articles carry their final favorites_count.
    let article_count = options.articles;
    let mut favorite_pairs: HashSet<(usize, usize)> = HashSet::new();
    if article_count > 0 {
        let cap = options.favorites.min(options.users * article_count);
        while favorite_pairs.len() < cap {
            favorite_pairs.insert((
                rng.random_range(0..options.users),
                skewed(&mut rng, article_count),
            ));
        }
    }
    let mut favorite_counts = vec![0_i64; article_count];
    for (_, article) in &favorite_pairs {
        favorite_counts[*article] += 1;
    }

    // Articles, newest with the lowest index so that popular ones are also recent, each with
    // 1-4 tags from a skewed pool.
    let mut article_ids = Vec::with_capacity(article_count);
    let mut article_created = Vec::with_capacity(article_count);
    for first in (0..article_count).step_by(BATCH) {
        let batch = first..article_count.min(first + BATCH);
        let mut rows = Vec::with_capacity(batch.len());
        let mut tags_chosen = Vec::with_capacity(batch.len());
        for index in batch {
            let created = now
                - (index as i64 * year_ms / article_count.max(1) as i64)
                - rng.random_range(0..1_000);
            article_created.push(created);
            let title = sentence(&mut rng, 5);
            let slug = format!("{}-{run_tag}{index}", slugify(&title));
            let cells = vec![
                Cell::from(slug.clone()),
                Cell::from(title.trim_end_matches('.').to_owned()),
                Cell::from(sentence(&mut rng, 12)),
                Cell::from(markdown_body(&mut rng)),
                Cell::from(user_ids[skewed(&mut rng, user_ids.len())]),
                Cell::from(favorite_counts[index]),
                Cell::from(created),
                Cell::from(created),
            ];
            rows.push((slug, cells));
            let chosen: HashSet<&str> = (0..rng.random_range(1..=4))
                .map(|_| TAGS[skewed(&mut rng, TAGS.len())])
                .collect();
            tags_chosen.push((created, chosen));
        }
        let columns = [
            "slug",
            "title",
            "description",
            "body",
            "author_id",
            "favorites_count",
            "created_at",
            "updated_at",
        ];
        let ids = load_keyed(db, "articles", "slug", &columns, rows).await?;
        let mut links = Vec::new();
        for (id, (created, chosen)) in ids.iter().zip(tags_chosen) {
            for tag in chosen {
                links.push(vec![
                    Cell::from(*id),
                    Cell::from(tag_ids[tag]),
                    Cell::from(created),
                ]);
            }
        }
        load(
            db,
            "article_tags",
            &["article_id", "tag_id", "created_at"],
            links,
        )
        .await?;
        article_ids.extend(ids);
    }

    let favorite_pairs: Vec<(usize, usize)> = favorite_pairs.into_iter().collect();
    for batch in favorite_pairs.chunks(BATCH * 5) {
        let rows = batch
            .iter()
            .map(|(user, article)| {
                vec![
                    Cell::from(user_ids[*user]),
                    Cell::from(article_ids[*article]),
                    Cell::from(now),
                    Cell::from(article_created[*article]),
                ]
            })
            .collect();
        let columns = ["user_id", "article_id", "created_at", "article_created_at"];
        load(db, "favorites", &columns, rows).await?;
    }

    // Follows: popular authors gain most followers; nobody follows themselves.
    let mut follow_pairs = HashSet::new();
    let follow_cap = options.follows.min(options.users * (options.users - 1));
    while follow_pairs.len() < follow_cap {
        let follower = rng.random_range(0..options.users);
        let followee = skewed(&mut rng, options.users);
        if follower != followee {
            follow_pairs.insert((follower, followee));
        }
    }
    let follow_pairs: Vec<(usize, usize)> = follow_pairs.into_iter().collect();
    for batch in follow_pairs.chunks(BATCH * 5) {
        let rows = batch
            .iter()
            .map(|(a, b)| {
                vec![
                    Cell::from(user_ids[*a]),
                    Cell::from(user_ids[*b]),
                    Cell::from(now),
                ]
            })
            .collect();
        load(
            db,
            "follows",
            &["follower_id", "followee_id", "created_at"],
            rows,
        )
        .await?;
    }

    let mut remaining = if article_count > 0 {
        options.comments
    } else {
        0
    };
    while remaining > 0 {
        let batch = remaining.min(BATCH * 5);
        remaining -= batch;
        let rows = (0..batch)
            .map(|_| {
                let article = skewed(&mut rng, article_count);
                let created = now - rng.random_range(0..year_ms);
                let words = rng.random_range(6..30);
                vec![
                    Cell::from(article_ids[article]),
                    Cell::from(user_ids[rng.random_range(0..user_ids.len())]),
                    Cell::from(sentence(&mut rng, words)),
                    Cell::from(created),
                    Cell::from(created),
                ]
            })
            .collect();
        let columns = [
            "article_id",
            "author_id",
            "body",
            "created_at",
            "updated_at",
        ];
        load(db, "comments", &columns, rows).await?;
    }

    counts::recount(db).await?;
    load::analyze(db).await?;
    eprintln!(
        "seeded {} users, {} articles, {} favorites, {} follows, {} comments in {:.1}s (password: {SEED_PASSWORD})",
        options.users,
        article_count,
        favorite_pairs.len(),
        follow_pairs.len(),
        if article_count > 0 {
            options.comments
        } else {
            0
        },
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// The seed's tags (those already there are kept), by name.
async fn seed_tags(db: &DatabaseConnection) -> anyhow::Result<HashMap<&'static str, i64>> {
    let tag_rows = TAGS.iter().map(|t| tags::ActiveModel {
        name: Set((*t).to_owned()),
        ..Default::default()
    });
    tags::Entity::insert_many(tag_rows)
        .on_conflict(
            sea_orm::sea_query::OnConflict::column(tags::Column::Name)
                .do_nothing_on([tags::Column::Name])
                .to_owned(),
        )
        .exec_without_returning(db)
        .await?;
    let ids: HashMap<String, i64> = tags::Entity::find()
        .select_only()
        .column(tags::Column::Name)
        .column(tags::Column::Id)
        .filter(tags::Column::Name.is_in(TAGS.iter().copied()))
        .into_tuple::<(String, i64)>()
        .all(db)
        .await?
        .into_iter()
        .collect();
    Ok(TAGS.iter().map(|t| (*t, ids[*t])).collect())
}
