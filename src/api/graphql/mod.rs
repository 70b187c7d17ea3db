//! The GraphQL API: the same domain services as REST, through async-graphql.
//!
//! `POST /graphql` executes; `GET /graphql` executes queries given as parameters and otherwise
//! serves the GraphiQL IDE from vendored assets.

mod document;
mod error;
mod ide;
mod loaders;
mod schema;
mod types;

use async_graphql::dataloader::DataLoader;
use async_graphql::parser::types::OperationType;
use async_graphql::{EmptySubscription, Schema, SchemaBuilder};
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};

use crate::api::bearer_token;
use crate::app::AppState;
use crate::cache::{Kind, keys};
use crate::config::GraphqlSettings;
use crate::domain::Domain;
use crate::error::Error;
use loaders::{ArticleBodies, LatestComments};
use schema::{MutationRoot, QueryRoot};

pub type QuireSchema = Schema<QueryRoot, MutationRoot, EmptySubscription>;

/// Who is asking. A token that fails verification is kept as such: operations that do not
/// need a viewer (`login`, `register`) still work, every other one answers `UNAUTHENTICATED`
/// (as REST answers 401 wherever a bad token is sent).
#[derive(Debug, Clone, Copy)]
pub(crate) enum Viewer {
    Anonymous,
    User(i64),
    Rejected(&'static str),
}

impl Viewer {
    /// The viewer's id, if signed in; an error if the token was bad.
    pub(crate) fn optional(self) -> Result<Option<i64>, Error> {
        match self {
            Viewer::Anonymous => Ok(None),
            Viewer::User(id) => Ok(Some(id)),
            Viewer::Rejected(reason) => Err(Error::Unauthorized(reason)),
        }
    }

    /// The viewer's id; an error unless signed in.
    pub(crate) fn required(self) -> Result<i64, Error> {
        self.optional()?.ok_or(Error::Unauthorized(
            "sign in first: send `Authorization: Token <jwt>`",
        ))
    }
}

fn builder() -> SchemaBuilder<QueryRoot, MutationRoot, EmptySubscription> {
    Schema::build(QueryRoot, MutationRoot, EmptySubscription)
}

/// The schema in SDL, as `quire schema` prints it. Needs no database.
pub fn sdl() -> String {
    builder().finish().sdl()
}

/// The executable schema, with the limits of `settings`.
pub fn schema(domain: Domain, settings: &GraphqlSettings) -> QuireSchema {
    let mut builder = builder()
        .data(domain)
        .limit_depth(settings.max_depth)
        .limit_complexity(settings.max_complexity);
    if !settings.introspection {
        builder = builder.disable_introspection();
    }
    builder.finish()
}

#[derive(Clone)]
struct GraphqlState {
    app: AppState,
    schema: QuireSchema,
}

pub fn router(state: &AppState) -> Router<AppState> {
    let schema = schema(state.domain.clone(), &state.settings.graphql);
    let graphql = GraphqlState {
        app: state.clone(),
        schema,
    };
    Router::new()
        .route(
            "/graphql",
            get(get_endpoint).post(post_endpoint).with_state(graphql),
        )
        .route("/graphql/assets/{file}", get(ide::asset))
}

/// A request-level refusal (the body is not a GraphQL request at all): HTTP 400.
fn refuse(code: &str, message: &str) -> Response {
    error::request_error(StatusCode::BAD_REQUEST, code, message)
}

/// `GET /graphql`: with a `query` parameter, runs it (queries only, as GraphQL over HTTP
/// prescribes, so that a link or a prefetch can never write); without one, the IDE.
async fn get_endpoint(State(state): State<GraphqlState>, headers: HeaderMap, uri: Uri) -> Response {
    let params: Vec<(String, String)> =
        form_urlencoded::parse(uri.query().unwrap_or_default().as_bytes())
            .into_owned()
            .collect();
    let param = |name: &str| {
        params
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.clone())
    };
    let Some(query) = param("query") else {
        return ide::page().await;
    };
    let mut request = async_graphql::Request::new(query);
    if let Some(name) = param("operationName").filter(|name| !name.is_empty()) {
        request = request.operation_name(name);
    }
    if let Some(variables) = param("variables").filter(|v| !v.is_empty()) {
        match serde_json::from_str(&variables) {
            Ok(variables) => request = request.variables(variables),
            Err(_) => return refuse("BAD_REQUEST", "`variables` must be a JSON object"),
        }
    }
    run(&state, &headers, request, Method::GET).await
}

/// `POST /graphql`: one request as JSON.
async fn post_endpoint(
    State(state): State<GraphqlState>,
    headers: HeaderMap,
    body: Result<Bytes, axum::extract::rejection::BytesRejection>,
) -> Response {
    let body = match body {
        Ok(body) => body,
        Err(rejection) if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            return error::request_error(
                StatusCode::PAYLOAD_TOO_LARGE,
                "REQUEST_TOO_LARGE",
                "request body is too large",
            );
        }
        Err(_) => return refuse("BAD_REQUEST", "could not read the request body"),
    };
    // One operation per request: a batch (a JSON array) would multiply every limit.
    let request: async_graphql::Request = match serde_json::from_slice(&body) {
        Ok(request) => request,
        Err(err) => {
            let message = format!(
                "the body must be one JSON object like {{\"query\": \"...\", \"variables\": {{}}}}: {}",
                err.to_string()
                    .split(" at line ")
                    .next()
                    .unwrap_or_default()
            );
            return refuse("BAD_REQUEST", &message);
        }
    };
    run(&state, &headers, request, Method::POST).await
}

async fn run(
    state: &GraphqlState,
    headers: &HeaderMap,
    mut request: async_graphql::Request,
    method: Method,
) -> Response {
    let limits = &state.app.settings.graphql;
    if request.query.len() > limits.max_query_bytes {
        return refuse(
            "QUERY_TOO_LARGE",
            &format!(
                "the query is {} bytes; the limit is {} (QUIRE_GRAPHQL_MAX_QUERY_BYTES)",
                request.query.len(),
                limits.max_query_bytes
            ),
        );
    }
    // Parsed here (and kept for execution): syntax errors get their code, and introspection
    // can be refused with a reason (async-graphql would answer `__schema: null`).
    let operation_name = request.operation_name.clone();
    let mut operation = None;
    let refusal = match request.parsed_query() {
        Err(err) => Some(error::with_code(err, "GRAPHQL_PARSE_FAILED")),
        // Each field costs at least 1, so this is over the complexity limit too.
        Ok(document)
            if document::expanded_field_count(document)
                .is_some_and(|count| count > limits.max_complexity as u64) =>
        {
            Some(error::too_complex(limits))
        }
        Ok(document) if !limits.introspection && document::asks_for_introspection(document) => {
            let error = async_graphql::ServerError::new(
                "introspection is disabled on this server (QUIRE_GRAPHQL_INTROSPECTION)",
                None,
            );
            Some(error::with_code(error, "INTROSPECTION_DISABLED"))
        }
        Ok(document) => {
            operation = document::operation_type(document, operation_name.as_deref());
            None
        }
    };
    if let Some(error) = refusal {
        return Json(async_graphql::Response::from_errors(vec![error])).into_response();
    }
    if method == Method::GET && operation == Some(OperationType::Mutation) {
        let mut refusal = error::request_error(
            StatusCode::METHOD_NOT_ALLOWED,
            "METHOD_NOT_ALLOWED",
            "mutations must be sent with POST",
        );
        refusal
            .headers_mut()
            .insert(header::ALLOW, HeaderValue::from_static("POST"));
        return refusal;
    }
    let domain = &state.app.domain;
    let viewer = match bearer_token(headers) {
        Ok(None) => Viewer::Anonymous,
        Ok(Some(token)) => match domain.authenticate(token).await {
            Ok(id) => Viewer::User(id),
            Err(Error::Unauthorized(reason)) => Viewer::Rejected(reason),
            Err(err) => return error::internal_response(err),
        },
        Err(Error::Unauthorized(reason)) => Viewer::Rejected(reason),
        Err(err) => return error::internal_response(err),
    };
    // An anonymous query's answer depends on the data alone, so it is cached whole, as REST's
    // anonymous responses are: keyed by the generations, a write is seen at once.
    let anonymous = matches!(viewer, Viewer::Anonymous) && !headers.contains_key(header::COOKIE);
    let cache_key = match (anonymous, operation) {
        (true, Some(OperationType::Query)) => domain.cache.generations().await.map(|g| {
            let variables = serde_json::to_vec(&request.variables).unwrap_or_default();
            let operation_name = request.operation_name.as_deref().unwrap_or_default();
            keys::graphql_response(&g, &request.query, operation_name, &variables)
        }),
        _ => None,
    };
    if let Some(key) = &cache_key
        && let Some(answer) = domain.cache.get(Kind::Response, key).await
    {
        return json_response(answer);
    }
    let viewer_id = viewer.optional().ok().flatten();
    let request = request
        .data(viewer)
        .data(DataLoader::new(
            ArticleBodies::new(domain.clone()),
            tokio::spawn,
        ))
        .data(DataLoader::new(
            LatestComments::new(domain.clone(), viewer_id),
            tokio::spawn,
        ));
    let mut response = state.schema.execute(request).await;
    response.errors = error::add_codes(std::mem::take(&mut response.errors), limits);
    let answer = match serde_json::to_vec(&response) {
        Ok(answer) => Bytes::from(answer),
        Err(err) => return error::internal_response(Error::Internal(err.into())),
    };
    // Answers with errors are not kept: an internal error must not outlive its cause.
    if let Some(key) = cache_key
        && response.errors.is_empty()
    {
        domain.cache.put(&key, answer.clone()).await;
    }
    json_response(answer)
}

fn json_response(answer: Bytes) -> Response {
    ([(header::CONTENT_TYPE, "application/json")], answer).into_response()
}
