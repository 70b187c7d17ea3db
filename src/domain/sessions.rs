//! Browser sessions: sign in with a cookie, who the cookie belongs to, sign out.

use super::users::{Credentials, SignedIn};
use crate::domain::accounts::Accounts;
use crate::error::Result;

impl Accounts {
    /// Checks the credentials and starts a session; returns the user and the session id.
    pub async fn start_session(&self, credentials: Credentials) -> Result<(SignedIn, String)> {
        let user = self.check_credentials(credentials).await?;
        let id = self.sessions.start(user.id).await?;
        Ok((self.current_user(user.id).await?, id))
    }

    /// Starts a session for a user who proved who they are elsewhere (an OpenID Connect
    /// provider); returns the session id.
    pub async fn start_session_for(&self, user_id: i64) -> Result<String> {
        self.sessions.start(user_id).await
    }

    /// The user of session `id`, or `None` when it ended, expired, or started before the user's
    /// last password change or "log out everywhere".
    pub async fn session_user(&self, id: &str) -> Result<Option<i64>> {
        let Some((user_id, started_ms)) = self.sessions.user(id).await? else {
            return Ok(None);
        };
        match self.account(user_id).await {
            Ok(user) if started_ms >= user.tokens_valid_after => Ok(Some(user.id)),
            Ok(_) | Err(crate::error::Error::Unauthorized(_)) => Ok(None),
            Err(err) => Err(err),
        }
    }

    pub async fn end_session(&self, id: &str) -> Result<()> {
        self.sessions.end(id).await
    }
}
