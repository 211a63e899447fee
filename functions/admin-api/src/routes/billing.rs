//! `POST /admin/partners/{id}/billing`: start a partner's Stripe subscription.

use super::Answered;
use crate::{App, Billing};
use jiff::Timestamp;
use serde::Serialize;
use shared::http::Answer;
use shared::usecases::billing_start::{start_billing, BillingStartOutcome, StartBillingCommand};
use shared::usecases::views::PartnerView;

/// What the admin is told while the paid tier waits for the first payment.
const AWAITING_FIRST_PAYMENT: &str = "the paid tier is granted when the first invoice is paid";

/// 201 with the partner when the tier is granted; 202, saying so, while it waits for the first payment.
#[derive(Serialize)]
pub(super) struct BillingStarted {
    partner: PartnerView,
    #[serde(skip_serializing_if = "Option::is_none")]
    pending: Option<&'static str>,
}

impl Answer for BillingStarted {
    fn status(&self) -> u16 {
        match self.pending {
            Some(_) => 202,
            None => 201,
        }
    }
}

/// `POST /admin/partners/{id}/billing`
pub(super) async fn start(
    app: &App,
    billing: &Billing,
    command: StartBillingCommand,
    now: Timestamp,
) -> Answered<BillingStarted> {
    let outcome = Box::pin(start_billing(
        &app.store,
        &billing.stripe,
        &billing.prices,
        &app.calendar,
        command,
        now,
    ))
    .await?;
    let today = app.calendar.today(now);
    Ok(match outcome {
        BillingStartOutcome::AwaitingFirstPayment { partner, .. } => BillingStarted {
            partner: PartnerView::new(partner, today),
            pending: Some(AWAITING_FIRST_PAYMENT),
        },
        BillingStartOutcome::Granted(partner) => BillingStarted {
            partner: PartnerView::new(partner, today),
            pending: None,
        },
    })
}
