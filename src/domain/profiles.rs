//! Profiles and follows.

use super::core::Core;
use std::collections::{HashMap, HashSet};

use sea_orm::sea_query::{Expr, ExprTrait, Query, UnionType};

use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter,
};

use serde_json::json;

use super::cache_keys::{self as keys, Kind, Write};
use super::webhooks::{self, Event};
use super::{Profile, is_unique_violation, now_ms, sorted_unique};
use crate::db::entities::{favorites, follows, users};
use crate::error::{Error, Result};

/// Profiles: how users are shown to others, and follows.
#[derive(Clone)]
pub struct Profiles {
    pub(crate) core: Core,
}

impl Profiles {
    pub fn new(core: Core) -> Self {
        Profiles { core }
    }

    /// The shared profile comes from the cache; the viewer's `following` flag is overlaid.
    pub async fn profile(&self, viewer: Option<i64>, username: &str) -> Result<Profile> {
        let mut profile = self
            .core
            .cached(Kind::Profile, keys::user_profile(username), || async {
                let user = self
                    .core
                    .user_by_username(username)
                    .await?
                    .ok_or(Error::NotFound("profile"))?;
                Ok(profile_of(user, false))
            })
            .await?;
        if let Some(viewer) = viewer {
            profile.following = self
                .viewer_flags(viewer, &[], &[profile.id])
                .await?
                .following
                .contains(&profile.id);
        }
        Ok(profile)
    }

    pub async fn follow(&self, viewer: i64, username: &str) -> Result<Profile> {
        let user = self
            .core
            .user_by_username(username)
            .await?
            .ok_or(Error::NotFound("profile"))?;
        if user.id == viewer {
            return Err(Error::field("username", "you cannot follow yourself"));
        }
        let followee = user.id;
        let inserted = self
            .core
            .in_transaction(|txn| {
                let username = user.username.clone();
                Box::pin(async move {
                    follows::ActiveModel {
                        follower_id: Set(viewer),
                        followee_id: Set(followee),
                        created_at: Set(now_ms()),
                    }
                    .insert(txn)
                    .await?;
                    let data = || json!({"profile": {"username": username}});
                    webhooks::emit(txn, (followee, viewer), Event::ProfileFollowed, data).await
                })
            })
            .await;
        match inserted {
            Ok(_) => {
                self.core
                    .invalidate(Write::Follow { follower: viewer })
                    .await
            }
            // Already following (perhaps from a concurrent request): nothing to change.
            Err(err) if is_unique_violation(&err) => {}
            Err(err) => return Err(err.into()),
        }
        Ok(profile_of(user, true))
    }

    pub async fn unfollow(&self, viewer: i64, username: &str) -> Result<Profile> {
        let user = self
            .core
            .user_by_username(username)
            .await?
            .ok_or(Error::NotFound("profile"))?;
        follows::Entity::delete_many()
            .filter(follows::Column::FollowerId.eq(viewer))
            .filter(follows::Column::FolloweeId.eq(user.id))
            .exec(&self.core.db)
            .await?;
        self.core
            .invalidate(Write::Follow { follower: viewer })
            .await;
        Ok(profile_of(user, false))
    }

    /// Shared (viewer-independent) profiles of `ids`.
    pub(crate) async fn profiles_of(&self, ids: &[i64]) -> Result<HashMap<i64, Profile>> {
        let unique = sorted_unique(ids);
        if unique.is_empty() {
            return Ok(HashMap::new());
        }
        let authors = users::Entity::find()
            .filter(users::Column::Id.is_in(unique.iter().copied()))
            .all(&self.core.db)
            .await?;
        Ok(authors
            .into_iter()
            .map(|u| (u.id, profile_of(u, false)))
            .collect())
    }

    /// The viewer's favorites among `article_ids` and followees among `author_ids`, in one
    /// query over two primary-key ranges.
    pub(crate) async fn viewer_flags(
        &self,
        viewer: i64,
        article_ids: &[i64],
        author_ids: &[i64],
    ) -> Result<ViewerFlags> {
        let (article_ids, author_ids) = (sorted_unique(article_ids), sorted_unique(author_ids));
        if article_ids.is_empty() && author_ids.is_empty() {
            return Ok(ViewerFlags::default());
        }
        self.core
            .cached(
                Kind::Viewer,
                keys::viewer_flags(viewer, &article_ids, &author_ids),
                || self.query_viewer_flags(viewer, &article_ids, &author_ids),
            )
            .await
    }

    async fn query_viewer_flags(
        &self,
        viewer: i64,
        article_ids: &[i64],
        author_ids: &[i64],
    ) -> Result<ViewerFlags> {
        let mut flags = ViewerFlags::default();
        let mut favorites_query = Query::select()
            .expr_as(Expr::cust("'f'"), "flag")
            .expr_as(Expr::col(favorites::Column::ArticleId), "id")
            .from(favorites::Entity)
            .and_where(Expr::col(favorites::Column::UserId).eq(viewer))
            .and_where(Expr::col(favorites::Column::ArticleId).is_in(article_ids.iter().copied()))
            .take();
        let follows_query = Query::select()
            .expr_as(Expr::cust("'u'"), "flag")
            .expr_as(Expr::col(follows::Column::FolloweeId), "id")
            .from(follows::Entity)
            .and_where(Expr::col(follows::Column::FollowerId).eq(viewer))
            .and_where(Expr::col(follows::Column::FolloweeId).is_in(author_ids.iter().copied()))
            .take();
        let query = match (article_ids.is_empty(), author_ids.is_empty()) {
            (true, true) => return Ok(flags),
            (false, true) => favorites_query,
            (true, false) => follows_query,
            (false, false) => favorites_query.union(UnionType::All, follows_query).take(),
        };
        for row in self.core.db.query_all(&query).await? {
            let flag: String = row.try_get("", "flag")?;
            let id: i64 = row.try_get("", "id")?;
            if flag == "f" {
                flags.favorited.insert(id);
            } else {
                flags.following.insert(id);
            }
        }
        Ok(flags)
    }
}

#[derive(Debug, Default, serde::Serialize, serde::Deserialize)]
pub(crate) struct ViewerFlags {
    pub favorited: HashSet<i64>,
    pub following: HashSet<i64>,
}

pub(crate) fn profile_of(user: users::Model, following: bool) -> Profile {
    Profile {
        id: user.id,
        username: user.username,
        bio: user.bio,
        image: user.image,
        following,
    }
}
