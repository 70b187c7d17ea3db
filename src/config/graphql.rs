//! The GraphQL API's limits and switches.

use anyhow::bail;

/// Limits and switches of the GraphQL API.
#[derive(Debug, Clone)]
pub struct GraphqlSettings {
    /// Schema introspection (`__schema`, `__type`): on in development, off in production
    /// unless `QUIRE_GRAPHQL_INTROSPECTION` says otherwise.
    pub introspection: bool,
    /// The deepest field nesting a query may have.
    pub max_depth: usize,
    /// The highest cost a query may have: every field costs 1, list fields multiply their
    /// children by the page size asked for.
    pub max_complexity: usize,
    /// The longest query text accepted, in bytes.
    pub max_query_bytes: usize,
    /// The largest answer produced, in bytes: execution stops with `RESPONSE_TOO_LARGE` past it.
    pub max_response_bytes: usize,
}

impl GraphqlSettings {
    /// `max_query_bytes` comes with the body limit it must fit under.
    pub(super) fn parse(
        introspection: bool,
        max_depth: usize,
        max_complexity: usize,
        (max_query_bytes, max_body_bytes): (usize, usize),
        max_response_bytes: usize,
    ) -> anyhow::Result<Self> {
        if !(2..=64).contains(&max_depth) {
            bail!("QUIRE_GRAPHQL_MAX_DEPTH must be between 2 and 64");
        }
        if max_complexity < 10 {
            bail!("QUIRE_GRAPHQL_MAX_COMPLEXITY must be at least 10");
        }
        if !(256..=max_body_bytes).contains(&max_query_bytes) {
            bail!("QUIRE_GRAPHQL_MAX_QUERY_BYTES must be between 256 and QUIRE_MAX_BODY_BYTES");
        }
        Ok(GraphqlSettings {
            introspection,
            max_depth,
            max_complexity,
            max_query_bytes,
            max_response_bytes,
        })
    }
}
