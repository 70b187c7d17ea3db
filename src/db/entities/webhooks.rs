use sea_orm::entity::prelude::*;

/// A subscription: events about its owner's articles and profile, POSTed to `url` signed with
/// `secret`. `events` is a comma-separated list; a subscription that kept failing is disabled
/// with the reason in `disabled_reason`.
#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "webhooks")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub user_id: i64,
    pub url: String,
    pub events: String,
    pub secret: String,
    pub enabled: bool,
    pub disabled_reason: Option<String>,
    pub created_at: i64,
}

impl ActiveModelBehavior for ActiveModel {}
