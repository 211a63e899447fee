//! `GET /admin/tiers`: the tier catalog.

use serde::Serialize;
use shared::domain::tier::{self, TierInfo};
use shared::http::Answer;

#[derive(Serialize)]
pub(super) struct Tiers {
    tiers: Vec<TierCard>,
}

/// A tier as the catalog says it, with its price written out (`$3,600.00`).
#[derive(Serialize)]
struct TierCard {
    #[serde(flatten)]
    info: &'static TierInfo,
    monthly_price: String,
}

impl Answer for Tiers {}

/// `GET /admin/tiers`
pub(super) async fn catalog() -> Tiers {
    let tiers = tier::catalog()
        .into_iter()
        .map(|info| TierCard {
            monthly_price: info.monthly_price_cents.to_string(),
            info,
        })
        .collect();
    Tiers { tiers }
}
