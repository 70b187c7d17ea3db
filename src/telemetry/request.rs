//! Which request a task is serving (its id and route), for log lines written far from the HTTP
//! layer: the slow-statement log names the request a statement ran for.

use std::sync::{Arc, OnceLock};

tokio::task_local! {
    static REQUEST: Arc<RequestContext>;
}

#[derive(Debug, Default)]
pub struct RequestContext {
    pub id: String,
    route: OnceLock<String>,
}

impl RequestContext {
    /// The route template (`/api/articles/{slug}`), once the router has matched one.
    pub fn route(&self) -> Option<&str> {
        self.route.get().map(String::as_str)
    }
}

/// Runs `future` as the request with id `id`.
pub async fn scope<F: Future>(id: String, future: F) -> F::Output {
    let context = Arc::new(RequestContext {
        id,
        route: OnceLock::new(),
    });
    REQUEST.scope(context, future).await
}

/// Records the matched route of the request this task serves, if it serves one.
pub fn set_route(route: &str) {
    let _ = REQUEST.try_with(|request| request.route.set(route.to_owned()));
}

/// The request this task serves; `None` outside one (a job, start-up).
pub fn current() -> Option<Arc<RequestContext>> {
    REQUEST.try_with(Arc::clone).ok()
}
