//! Who may call a route, declared where the route is: every REST router group carries its
//! [`Access`] as a `route_layer`, and the viewer extractor (`auth`) enforces it. A handler that reads
//! the viewer on a route that declares no access refuses every request (500, logged), which
//! the test walking every documented operation finds.

use axum::Extension;

/// What a route lets each kind of credential do. A signed-in user (by token or by the session
/// cookie, CSRF-checked) may call every route; an application's OAuth2 token only what the
/// route's access grants it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Articles, profiles, comments, webhooks, reports: an application needs `read` to GET
    /// and `write` for anything else.
    Content,
    /// The account itself (its e-mail): as [`Access::Content`], and `profile` too.
    Account,
    /// The account's credentials, sign-ins and authorizations: never an application's token.
    UserOnly,
}

impl Access {
    /// This access as a `route_layer`: every route of the router it is put on declares it.
    pub fn layer(self) -> Extension<Access> {
        Extension(self)
    }
}
