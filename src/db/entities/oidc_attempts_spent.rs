use sea_orm::entity::prelude::*;

/// An OpenID Connect sign-in attempt whose callback already ran: presented again, it is
/// refused. Kept until the attempt would have expired anyway.
#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "oidc_attempts_spent")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub attempt_id: String,
    pub expires_at: i64,
}

impl ActiveModelBehavior for ActiveModel {}
