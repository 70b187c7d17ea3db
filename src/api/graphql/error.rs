//! The domain error as GraphQL errors with `extensions.code`, and codes for the errors
//! async-graphql raises itself (syntax, validation, limits, argument coercion).

use std::sync::Arc;

use async_graphql::extensions::{
    Extension, ExtensionContext, ExtensionFactory, NextExecute, NextParseQuery, NextValidation,
};
use async_graphql::parser::types::{ExecutableDocument, Selection, SelectionSet};
use async_graphql::{
    ErrorExtensions, Response, ServerError, ServerResult, ValidationResult, Value, Variables,
};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response as HttpResponse};
use serde_json::json;

use crate::error::Error;

const INTERNAL_MESSAGE: &str = "internal server error";

impl ErrorExtensions for Error {
    fn extend(&self) -> async_graphql::Error {
        let (message, code) = match self {
            Error::Validation(fields) => {
                let summary = fields
                    .iter()
                    .map(|(field, messages)| format!("{field} {}", messages.join(", ")))
                    .collect::<Vec<_>>()
                    .join("; ");
                (format!("invalid input: {summary}"), "BAD_USER_INPUT")
            }
            Error::Unauthorized(reason) => ((*reason).to_owned(), "UNAUTHENTICATED"),
            Error::Forbidden(reason) => ((*reason).to_owned(), "FORBIDDEN"),
            Error::NotFound(what) => (format!("{what} not found"), "NOT_FOUND"),
            Error::Internal(err) => {
                tracing::error!(error = %format!("{err:#}"), "internal error");
                (INTERNAL_MESSAGE.to_owned(), "INTERNAL_SERVER_ERROR")
            }
        };
        async_graphql::Error::new(message).extend_with(|_, extensions| {
            extensions.set("code", code);
            if let Error::Validation(fields) = self {
                let fields: async_graphql::indexmap::IndexMap<_, _> = fields
                    .iter()
                    .map(|(field, messages)| {
                        let messages = messages.iter().cloned().map(Value::from).collect();
                        (async_graphql::Name::new(field), Value::List(messages))
                    })
                    .collect();
                extensions.set("fields", Value::Object(fields));
            }
        })
    }
}

/// An unexpected failure before execution (the viewer's token could not be checked).
pub(super) fn internal_response(err: Error) -> HttpResponse {
    if let Error::Internal(err) = &err {
        tracing::error!(error = %format!("{err:#}"), "internal error");
    }
    (
        StatusCode::INTERNAL_SERVER_ERROR,
        axum::Json(json!({ "errors": [{ "message": INTERNAL_MESSAGE,
            "extensions": { "code": "INTERNAL_SERVER_ERROR" } }] })),
    )
        .into_response()
}

/// Gives every error async-graphql raises on its own a code, as resolvers' errors have:
/// `GRAPHQL_PARSE_FAILED`, `QUERY_TOO_DEEP` and `QUERY_TOO_COMPLEX` (the limits, with a
/// message naming them), `GRAPHQL_VALIDATION_FAILED` (unknown fields, wrong argument types,
/// introspection when it is off) and `BAD_USER_INPUT` (an argument value that does not fit
/// its type, found while executing).
#[derive(Clone)]
pub(super) struct ErrorCodes {
    pub max_depth: usize,
    pub max_complexity: usize,
    /// async-graphql answers `__schema: null` when introspection is off; say why instead.
    pub introspection: bool,
}

/// Whether any field of the document (fragments included) is `__schema` or `__type`.
fn asks_for_introspection(document: &ExecutableDocument) -> bool {
    fn in_set(set: &SelectionSet) -> bool {
        set.items.iter().any(|item| match &item.node {
            Selection::Field(field) => {
                matches!(field.node.name.node.as_str(), "__schema" | "__type")
                    || in_set(&field.node.selection_set.node)
            }
            Selection::InlineFragment(fragment) => in_set(&fragment.node.selection_set.node),
            Selection::FragmentSpread(_) => false,
        })
    }
    document
        .operations
        .iter()
        .any(|(_, operation)| in_set(&operation.node.selection_set.node))
        || document
            .fragments
            .values()
            .any(|fragment| in_set(&fragment.node.selection_set.node))
}

impl ExtensionFactory for ErrorCodes {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(self.clone())
    }
}

impl ErrorCodes {
    /// async-graphql's limit errors say neither the limit nor how to stay under it.
    fn explain(&self, mut error: ServerError) -> ServerError {
        match error.message.as_str() {
            "Query is nested too deep." => {
                error.message = format!(
                    "the query is nested deeper than {} levels (QUIRE_GRAPHQL_MAX_DEPTH)",
                    self.max_depth
                );
                with_code(error, "QUERY_TOO_DEEP")
            }
            "Query is too complex." => {
                error.message = format!(
                    "the query costs more than {} (QUIRE_GRAPHQL_MAX_COMPLEXITY): every field \
                     costs 1 and a list multiplies its fields by its `first`; ask for fewer \
                     fields, fewer aliases or smaller pages",
                    self.max_complexity
                );
                with_code(error, "QUERY_TOO_COMPLEX")
            }
            _ => with_code(error, "GRAPHQL_VALIDATION_FAILED"),
        }
    }
}

fn with_code(mut error: ServerError, code: &str) -> ServerError {
    let extensions = error.extensions.get_or_insert_with(Default::default);
    if extensions.get("code").is_none() {
        extensions.set("code", code);
    }
    error
}

#[async_graphql::async_trait::async_trait]
impl Extension for ErrorCodes {
    async fn parse_query(
        &self,
        ctx: &ExtensionContext<'_>,
        query: &str,
        variables: &Variables,
        next: NextParseQuery<'_>,
    ) -> ServerResult<ExecutableDocument> {
        let document = next
            .run(ctx, query, variables)
            .await
            .map_err(|e| with_code(e, "GRAPHQL_PARSE_FAILED"))?;
        if !self.introspection && asks_for_introspection(&document) {
            let error = ServerError::new(
                "introspection is disabled on this server (QUIRE_GRAPHQL_INTROSPECTION)",
                None,
            );
            return Err(with_code(error, "INTROSPECTION_DISABLED"));
        }
        Ok(document)
    }

    async fn validation(
        &self,
        ctx: &ExtensionContext<'_>,
        next: NextValidation<'_>,
    ) -> Result<ValidationResult, Vec<ServerError>> {
        next.run(ctx)
            .await
            .map_err(|errors| errors.into_iter().map(|e| self.explain(e)).collect())
    }

    async fn execute(
        &self,
        ctx: &ExtensionContext<'_>,
        operation_name: Option<&str>,
        next: NextExecute<'_>,
    ) -> Response {
        let mut response = next.run(ctx, operation_name).await;
        response.errors = std::mem::take(&mut response.errors)
            .into_iter()
            .map(|e| with_code(e, "BAD_USER_INPUT"))
            .collect();
        response
    }
}
