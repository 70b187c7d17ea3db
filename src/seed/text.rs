//! The seed's made-up content: words, tags, names, skewed popularity, markdown bodies.

use rand::Rng;
use rand::seq::IndexedRandom;

pub(super) const WORDS: &[&str] = &[
    "rust", "async", "database", "cache", "latency", "design", "service", "pattern", "query",
    "index", "stream", "server", "client", "memory", "thread", "schema", "deploy", "scale",
    "error", "testing", "release", "feature", "network", "storage", "protocol", "compiler",
    "runtime", "kernel", "vector", "graph", "search", "render", "budget", "team", "product",
    "writing", "garden", "coffee", "travel", "music", "history", "science", "ocean", "mountain",
];
pub(super) const TAGS: &[&str] = &[
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
pub(super) const NAMES: &[&str] = &[
    "alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi", "ivan", "judy", "mallory",
    "niaj", "olivia", "peggy", "rupert", "sybil", "trent", "victor", "walter", "yara",
];

/// Index into `len` items skewed towards the front (roughly quadratic popularity).
pub(super) fn skewed(rng: &mut impl Rng, len: usize) -> usize {
    let u: f64 = rng.random();
    ((u * u * len as f64) as usize).min(len - 1)
}

pub(super) fn sentence(rng: &mut impl Rng, words: usize) -> String {
    let mut text: Vec<&str> = (0..words).map(|_| *WORDS.choose(rng).unwrap()).collect();
    let first = text[0].to_owned();
    let mut capitalised = first[..1].to_uppercase();
    capitalised.push_str(&first[1..]);
    text[0] = &capitalised;
    format!("{}.", text.join(" "))
}

pub(super) fn markdown_body(rng: &mut impl Rng) -> String {
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
