//! RealWorld's JSON shapes. Requests accept every field as optional so that a missing field is
//! reported by validation with its name; fields the server owns are never read.

use std::marker::PhantomData;

use serde::de::{Deserializer, MapAccess, Visitor, value::MapAccessDeserializer};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::api::timestamp;
use crate::domain::Profile;
use crate::domain::articles::{Article, ArticlePage, Comment};
use crate::domain::users::SignedIn;

#[derive(Deserialize, ToSchema)]
#[serde(bound(deserialize = "T: Deserialize<'de>"))]
pub struct UserEnvelope<T> {
    #[serde(default, deserialize_with = "object")]
    pub user: Option<T>,
}

#[derive(Deserialize, ToSchema)]
#[serde(bound(deserialize = "T: Deserialize<'de>"))]
pub struct ResetEnvelope<T> {
    #[serde(default, deserialize_with = "object")]
    pub reset: Option<T>,
}

#[derive(Deserialize, ToSchema)]
#[serde(bound(deserialize = "T: Deserialize<'de>"))]
pub struct ArticleEnvelope<T> {
    #[serde(default, deserialize_with = "object")]
    pub article: Option<T>,
}

#[derive(Deserialize, ToSchema)]
#[serde(bound(deserialize = "T: Deserialize<'de>"))]
pub struct CommentEnvelope<T> {
    #[serde(default, deserialize_with = "object")]
    pub comment: Option<T>,
}

/// An envelope's content must be a JSON object (or null, reported as missing): serde would
/// otherwise accept an array for a struct, filling its fields by position.
fn object<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    struct ObjectOrNull<T>(PhantomData<T>);

    impl<'de, T: Deserialize<'de>> Visitor<'de> for ObjectOrNull<T> {
        type Value = Option<T>;

        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("a JSON object")
        }

        fn visit_unit<E>(self) -> Result<Self::Value, E> {
            Ok(None)
        }

        fn visit_none<E>(self) -> Result<Self::Value, E> {
            Ok(None)
        }

        fn visit_some<D2: Deserializer<'de>>(self, inner: D2) -> Result<Self::Value, D2::Error> {
            inner.deserialize_map(self)
        }

        fn visit_map<M: MapAccess<'de>>(self, map: M) -> Result<Self::Value, M::Error> {
            T::deserialize(MapAccessDeserializer::new(map)).map(Some)
        }
    }

    deserializer.deserialize_option(ObjectOrNull(PhantomData))
}

/// Every field is required; a missing one is reported by name (422).
#[derive(Deserialize, ToSchema)]
#[schema(as = NewUser)]
pub struct RegisterBody {
    pub username: Option<String>,
    pub email: Option<String>,
    pub password: Option<String>,
}

#[derive(Deserialize, ToSchema)]
#[schema(as = LoginUser)]
pub struct LoginBody {
    pub email: Option<String>,
    pub password: Option<String>,
}

/// Only the fields sent change; an empty `password` leaves it unchanged.
#[derive(Deserialize, ToSchema)]
#[schema(as = UpdateUser)]
pub struct UpdateUserBody {
    pub username: Option<String>,
    pub email: Option<String>,
    pub password: Option<String>,
    pub bio: Option<String>,
    pub image: Option<String>,
}

/// `title`, `description` and `body` are required on creation; on update only the fields sent
/// change (`tagList` replaces the tags).
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = NewArticle)]
pub struct ArticleBody {
    pub title: Option<String>,
    pub description: Option<String>,
    pub body: Option<String>,
    pub tag_list: Option<Vec<String>>,
}

#[derive(Deserialize, ToSchema)]
#[schema(as = NewComment)]
pub struct CommentBody {
    pub body: Option<String>,
}

#[derive(Serialize, ToSchema)]
#[schema(as = User)]
#[serde(rename_all = "camelCase")]
pub struct UserJson {
    pub email: String,
    pub token: String,
    pub username: String,
    pub bio: String,
    pub image: String,
    /// Whether the owner of `email` proved it (the link mailed at sign-up and at every change).
    pub email_verified: bool,
}

impl From<SignedIn> for UserJson {
    fn from(u: SignedIn) -> Self {
        UserJson {
            email: u.email,
            token: u.token,
            username: u.username,
            bio: u.bio,
            image: u.image,
            email_verified: u.email_verified,
        }
    }
}

#[derive(Serialize, ToSchema)]
#[schema(as = Profile)]
pub struct ProfileJson {
    pub username: String,
    pub bio: String,
    pub image: String,
    pub following: bool,
}

impl From<Profile> for ProfileJson {
    fn from(p: Profile) -> Self {
        ProfileJson {
            username: p.username,
            bio: p.bio,
            image: p.image,
            following: p.following,
        }
    }
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = Article)]
pub struct ArticleJson {
    pub slug: String,
    pub title: String,
    pub description: String,
    /// Present on single-article responses only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
    pub tag_list: Vec<String>,
    pub created_at: String,
    pub updated_at: String,
    pub favorited: bool,
    pub favorites_count: i64,
    pub author: ProfileJson,
}

impl From<Article> for ArticleJson {
    fn from(a: Article) -> Self {
        ArticleJson {
            slug: a.slug,
            title: a.title,
            description: a.description,
            body: a.body,
            tag_list: a.tags,
            created_at: timestamp(a.created_at),
            updated_at: timestamp(a.updated_at),
            favorited: a.favorited,
            favorites_count: a.favorites_count,
            author: a.author.into(),
        }
    }
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = MultipleArticlesResponse)]
pub struct ArticlesJson {
    pub articles: Vec<ArticleJson>,
    pub articles_count: u64,
}

impl From<ArticlePage> for ArticlesJson {
    fn from(page: ArticlePage) -> Self {
        ArticlesJson {
            articles: page.articles.into_iter().map(Into::into).collect(),
            articles_count: page.total,
        }
    }
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = Comment)]
pub struct CommentJson {
    pub id: i64,
    pub created_at: String,
    pub updated_at: String,
    pub body: String,
    pub author: ProfileJson,
}

impl From<Comment> for CommentJson {
    fn from(c: Comment) -> Self {
        CommentJson {
            id: c.id,
            created_at: timestamp(c.created_at),
            updated_at: timestamp(c.updated_at),
            body: c.body,
            author: c.author.into(),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct UserResponse {
    pub user: UserJson,
}

#[derive(Serialize, ToSchema)]
pub struct ProfileResponse {
    pub profile: ProfileJson,
}

#[derive(Serialize, ToSchema)]
pub struct SingleArticleResponse {
    pub article: ArticleJson,
}

#[derive(Serialize, ToSchema)]
pub struct SingleCommentResponse {
    pub comment: CommentJson,
}

#[derive(Serialize, ToSchema)]
pub struct MultipleCommentsResponse {
    pub comments: Vec<CommentJson>,
}

#[derive(Serialize, ToSchema)]
pub struct TagsResponse {
    pub tags: Vec<String>,
}
