//! Profiles and follows.

use std::collections::HashSet;

use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter, QuerySelect,
};

use super::{Domain, Profile, is_unique_violation, now_ms};
use crate::db::entities::{follows, users};
use crate::error::{Error, Result};

impl Domain {
    pub async fn profile(&self, viewer: Option<i64>, username: &str) -> Result<Profile> {
        let user = self
            .user_by_username(username)
            .await?
            .ok_or(Error::NotFound("profile"))?;
        let following = match viewer {
            Some(viewer) => !self.followed_among(viewer, &[user.id]).await?.is_empty(),
            None => false,
        };
        Ok(profile_of(user, following))
    }

    pub async fn follow(&self, viewer: i64, username: &str) -> Result<Profile> {
        let user = self
            .user_by_username(username)
            .await?
            .ok_or(Error::NotFound("profile"))?;
        if user.id == viewer {
            return Err(Error::field("username", "you cannot follow yourself"));
        }
        let followee = user.id;
        let inserted = self
            .in_transaction(|txn| {
                Box::pin(async move {
                    follows::ActiveModel {
                        follower_id: Set(viewer),
                        followee_id: Set(followee),
                        created_at: Set(now_ms()),
                    }
                    .insert(txn)
                    .await
                })
            })
            .await;
        match inserted {
            // Already following (perhaps from a concurrent request): nothing to change.
            Ok(_) => {}
            Err(err) if is_unique_violation(&err) => {}
            Err(err) => return Err(err.into()),
        }
        Ok(profile_of(user, true))
    }

    pub async fn unfollow(&self, viewer: i64, username: &str) -> Result<Profile> {
        let user = self
            .user_by_username(username)
            .await?
            .ok_or(Error::NotFound("profile"))?;
        follows::Entity::delete_many()
            .filter(follows::Column::FollowerId.eq(viewer))
            .filter(follows::Column::FolloweeId.eq(user.id))
            .exec(&self.db)
            .await?;
        Ok(profile_of(user, false))
    }

    /// Which of `candidates` the viewer follows: one indexed primary-key lookup.
    pub(crate) async fn followed_among(
        &self,
        viewer: i64,
        candidates: &[i64],
    ) -> Result<HashSet<i64>> {
        if candidates.is_empty() {
            return Ok(HashSet::new());
        }
        let rows: Vec<i64> = follows::Entity::find()
            .select_only()
            .column(follows::Column::FolloweeId)
            .filter(follows::Column::FollowerId.eq(viewer))
            .filter(follows::Column::FolloweeId.is_in(candidates.iter().copied()))
            .into_tuple()
            .all(&self.db)
            .await?;
        Ok(rows.into_iter().collect())
    }

    /// Profiles of `ids` as the viewer sees them.
    pub(crate) async fn profiles_of(
        &self,
        viewer: Option<i64>,
        ids: &[i64],
    ) -> Result<std::collections::HashMap<i64, Profile>> {
        let mut unique: Vec<i64> = ids.to_vec();
        unique.sort_unstable();
        unique.dedup();
        if unique.is_empty() {
            return Ok(Default::default());
        }
        let followed = match viewer {
            Some(viewer) => self.followed_among(viewer, &unique).await?,
            None => HashSet::new(),
        };
        let authors = users::Entity::find()
            .filter(users::Column::Id.is_in(unique.iter().copied()))
            .all(&self.db)
            .await?;
        Ok(authors
            .into_iter()
            .map(|u| {
                let following = followed.contains(&u.id);
                (u.id, profile_of(u, following))
            })
            .collect())
    }
}

pub(crate) fn profile_of(user: users::Model, following: bool) -> Profile {
    Profile {
        username: user.username,
        bio: user.bio,
        image: user.image,
        following,
    }
}
