//! The GraphQL API: the same domain services as REST, through async-graphql.
//!
//! `POST /graphql` executes; `GET /graphql` executes queries given as parameters and otherwise
//! serves the GraphiQL IDE from vendored assets.

mod budget;
mod document;
mod error;
mod ide;
mod loaders;
mod order;
mod rate_limits;
mod schema;
mod types;

use std::net::IpAddr;
use std::sync::Arc;

use async_graphql::dataloader::DataLoader;
use async_graphql::parser::types::{ExecutableDocument, OperationType};
use async_graphql::{EmptySubscription, Schema, SchemaBuilder};
use axum::body::Bytes;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Extension, Json, Router};

use crate::cache::tracking;
use crate::config::{GraphqlSettings, Settings};
use crate::domain::Domain;
use crate::domain::oauth_clients::Scope;
use crate::error::Error;
use crate::http::answer_cache::AnswerSlot;
use crate::http::auth::{Viewer, app_token, is_anonymous};
use crate::http::body::{read_json, starts_as_object};
use crate::http::extract::QueryParams;
use crate::http::rate_limit::{self, ClientIp, UNKNOWN_CLIENT};
use crate::state::AppState;
use budget::ResponseBudget;
use loaders::{ArticleBodies, LatestComments};
use schema::{MutationRoot, QueryRoot};
use types::AppCredential;

pub type QuireSchema = Schema<QueryRoot, MutationRoot, EmptySubscription>;

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
    domain: Domain,
    settings: Arc<Settings>,
    schema: QuireSchema,
}

pub fn router(state: &AppState) -> Router<AppState> {
    let schema = schema(state.domain.clone(), &state.settings.graphql);
    let graphql = GraphqlState {
        domain: state.domain.clone(),
        settings: state.settings.clone(),
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
async fn get_endpoint(
    State(state): State<GraphqlState>,
    client: Option<Extension<ClientIp>>,
    headers: HeaderMap,
    params: QueryParams,
) -> Response {
    let Some(query) = params.get("query") else {
        return ide::page().await;
    };
    let mut request = async_graphql::Request::new(query);
    if let Some(name) = params.get("operationName").filter(|name| !name.is_empty()) {
        request = request.operation_name(name);
    }
    if let Some(variables) = params.get("variables").filter(|v| !v.is_empty()) {
        match serde_json::from_str(variables) {
            Ok(variables) => request = request.variables(variables),
            Err(_) => return refuse("BAD_REQUEST", "`variables` must be a JSON object"),
        }
    }
    let client = client.map_or(UNKNOWN_CLIENT, |Extension(ClientIp(ip))| ip);
    run(&state, &headers, client, request, Method::GET).await
}

/// `POST /graphql`: one request as one JSON object (`application/json`).
async fn post_endpoint(State(state): State<GraphqlState>, request: Request) -> Response {
    let headers = request.headers().clone();
    let client = request
        .extensions()
        .get::<ClientIp>()
        .map_or(UNKNOWN_CLIENT, |client| client.0);
    let body = match read_json(request, state.settings.body_timeout).await {
        Ok(body) => body,
        Err(err) => {
            let code = match err.status() {
                StatusCode::BAD_REQUEST => "BAD_REQUEST",
                StatusCode::PAYLOAD_TOO_LARGE => "REQUEST_TOO_LARGE",
                StatusCode::REQUEST_TIMEOUT => "REQUEST_TIMEOUT",
                _ => "UNSUPPORTED_MEDIA_TYPE",
            };
            return error::request_error(err.status(), code, err.message());
        }
    };
    // One operation per request: a batch (a JSON array) would multiply every limit.
    if !starts_as_object(&body) {
        return refuse(
            "BAD_REQUEST",
            "the body must be one JSON object like {\"query\": \"...\"}; batches are not supported",
        );
    }
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
    run(&state, &headers, client, request, Method::POST).await
}

async fn run(
    state: &GraphqlState,
    headers: &HeaderMap,
    client: IpAddr,
    mut request: async_graphql::Request,
    method: Method,
) -> Response {
    let limits = &state.settings.graphql;
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
    let (operation, writes, executed) = match parse(&mut request, limits) {
        Ok(parsed) => parsed,
        Err(refusal) => return *refusal,
    };
    let operation_name = request.operation_name.clone();
    // Whatever operation the name selects: a GET (a link, a prefetch, an image tag) can never
    // carry a document that could write.
    if method == Method::GET && writes {
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
    let domain = &state.domain;
    let spent = match &executed {
        Some(document) => {
            match rate_limits::spend(domain, headers, client, document, operation_name.as_deref())
                .await
            {
                Ok(decision) => decision,
                Err(err) => return error::request_failure(err),
            }
        }
        None => None,
    };
    let mut response = answer(state, headers, request, executed, operation, method).await;
    if let Some(decision) = spent.filter(rate_limit::worth_reporting) {
        rate_limit::add_headers(response.headers_mut(), &decision);
    }
    response
}

/// The request's document, parsed here (and kept for execution) so that syntax errors get
/// their code and introspection can be refused with a reason (async-graphql would answer
/// `__schema: null`): its operation's type, whether it could write, and the document. A
/// refusal is the answer to send.
fn parse(
    request: &mut async_graphql::Request,
    limits: &GraphqlSettings,
) -> Result<(Option<OperationType>, bool, Option<ExecutableDocument>), Box<Response>> {
    let operation_name = request.operation_name.clone();
    let refusal = match request.parsed_query() {
        Err(err) => error::with_code(err, "GRAPHQL_PARSE_FAILED"),
        // Each field costs at least 1, so this is over the complexity limit too.
        Ok(document)
            if document::expanded_field_count(document)
                .is_some_and(|count| count > limits.max_complexity as u64) =>
        {
            error::too_complex(limits)
        }
        Ok(document) if !limits.introspection && document::asks_for_introspection(document) => {
            let error = async_graphql::ServerError::new(
                "introspection is disabled on this server (QUIRE_GRAPHQL_INTROSPECTION)",
                None,
            );
            error::with_code(error, "INTROSPECTION_DISABLED")
        }
        Ok(parsed) => {
            return Ok((
                document::operation_type(parsed, operation_name.as_deref()),
                document::has_non_query(parsed),
                Some(parsed.clone()),
            ));
        }
    };
    Err(Box::new(
        Json(async_graphql::Response::from_errors(vec![refusal])).into_response(),
    ))
}

/// Runs a parsed, admitted operation (or answers it from the anonymous answer cache).
async fn answer(
    state: &GraphqlState,
    headers: &HeaderMap,
    request: async_graphql::Request,
    executed: Option<ExecutableDocument>,
    operation: Option<OperationType>,
    method: Method,
) -> Response {
    let limits = &state.settings.graphql;
    let operation_name = request.operation_name.clone();
    let domain = &state.domain;
    let viewer = match Viewer::resolve(domain, &state.settings, &method, headers).await {
        Ok(viewer) => viewer,
        Err(err) => return error::request_failure(err),
    };
    if let (Viewer::App(_), Some(document)) = (viewer, &executed)
        && let Err(err) = app_may_run(viewer, document, operation_name.as_deref())
    {
        return error::request_failure(err);
    }
    // An anonymous query's answer depends on the data alone, so it is kept whole, as REST's
    // anonymous responses are, with the versions of what it read: a write is seen at once.
    let slot = anonymous_answer_slot(domain, headers, &request, operation);
    if let Some(slot) = &slot
        && let Some(answer) = slot.get().await
    {
        for article in answer.viewed {
            domain.views.record(article, None);
        }
        return json_response(answer.body);
    }
    let viewer_id = viewer.optional().ok().flatten();
    let budget = Arc::new(ResponseBudget::new(limits.max_response_bytes));
    let mut request = request;
    if let Some(token) = app_token(headers) {
        request = request.data(AppCredential(token.to_owned()));
    }
    let request = request
        .data(viewer)
        .data(budget.clone())
        .data(DataLoader::new(
            ArticleBodies::new(domain.clone(), budget.clone()),
            tracking::spawn,
        ))
        .data(DataLoader::new(
            LatestComments::new(domain.clone(), viewer_id, budget.clone()),
            tracking::spawn,
        ));
    let (mut response, tracked) = tracking::track(state.schema.execute(request)).await;
    if let Some(executed) = &executed {
        order::order_like_query(&mut response.data, executed, operation_name.as_deref());
    }
    response.errors = error::add_codes(std::mem::take(&mut response.errors), limits);
    let answer = match serde_json::to_vec(&response) {
        Ok(answer) => Bytes::from(answer),
        Err(err) => return error::request_failure(Error::Internal(err.into())),
    };
    if answer.len() > limits.max_response_bytes {
        return Json(async_graphql::Response::from_errors(vec![
            error::too_large(limits),
        ]))
        .into_response();
    }
    // Answers with errors are not kept: an internal error must not outlive its cause.
    if let Some(slot) = slot
        && response.errors.is_empty()
    {
        slot.put(answer.clone(), tracked).await;
    }
    json_response(answer)
}

/// Where an anonymous query's answer is kept whole (see [`answer`]); `None` for anything else.
fn anonymous_answer_slot(
    domain: &Domain,
    headers: &HeaderMap,
    request: &async_graphql::Request,
    operation: Option<OperationType>,
) -> Option<AnswerSlot> {
    if !is_anonymous(headers) || operation != Some(OperationType::Query) {
        return None;
    }
    let variables = serde_json::to_vec(&request.variables).unwrap_or_default();
    let operation_name = request.operation_name.as_deref().unwrap_or_default();
    let what = crate::cache::digest(&[
        request.query.as_bytes(),
        operation_name.as_bytes(),
        &variables,
    ]);
    Some(AnswerSlot::find(
        &domain.core.cache,
        &format!("graphql:{what}"),
    ))
}

/// What an application's token needs for an operation, as on REST: `read` for a query,
/// `write` for a mutation, and `profile` for the account itself (`me`, `updateUser`).
fn app_may_run(
    viewer: Viewer,
    document: &ExecutableDocument,
    operation_name: Option<&str>,
) -> Result<(), Error> {
    match document::operation_type(document, operation_name) {
        Some(OperationType::Mutation) => viewer.needs(Scope::Write)?,
        _ => viewer.needs(Scope::Read)?,
    }
    let fields = document::root_field_names(document, operation_name);
    if fields.contains(&"resendVerification") {
        return Err(Error::Forbidden(
            "an application's token cannot send mail about the account",
        ));
    }
    if fields
        .iter()
        .any(|name| ["me", "updateUser"].contains(name))
    {
        viewer.needs(Scope::Profile)?;
    }
    Ok(())
}

fn json_response(answer: Bytes) -> Response {
    ([(header::CONTENT_TYPE, "application/json")], answer).into_response()
}
