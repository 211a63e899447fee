//! Refund reservations left behind: a refund reserves what it gives back before asking Stripe and
//! records or releases it after; a Lambda that dies in between (killed at its timeout) leaves the
//! reservation held, and the invoice shows less left to refund than it has. The reconciliation
//! releases reservations older than [`STALE_RESERVATION`]: it finds an invoice through the index of
//! reservations by its newest reservation's time, so it looks at it once that one is stale too. If Stripe did make that refund, its
//! webhook records it (taking its amount off what is left then), so the invoice ends right either
//! way; in between, Stripe itself refuses a refund beyond what the payment has left.

use super::error::UseCaseError;
use crate::store::Store;
use jiff::{SignedDuration, Timestamp};

/// How old a reservation must be to be released: far beyond the admin API's 29-second timeout, so
/// a refund still running never loses its reservation.
pub const STALE_RESERVATION: SignedDuration = SignedDuration::from_mins(15);

/// How many invoices one run looks at.
pub const MAX_INVOICES_PER_RUN: u16 = 100;

/// Releases the stale refund reservations; how many were released.
#[tracing::instrument(skip_all)]
pub async fn release_stale_refund_reservations(store: &Store, now: Timestamp) -> Result<u32, UseCaseError> {
    let cutoff = now - STALE_RESERVATION;
    let mut released = 0;
    for invoice in store.stale_refund_reservations(cutoff, MAX_INVOICES_PER_RUN).await? {
        let (stale, live): (Vec<_>, Vec<_>) = invoice.reservations.iter().partition(|r| r.at < cutoff);
        for reservation in stale {
            tracing::warn!(
                invoice_id = invoice.invoice_id,
                request = reservation.request,
                reserved_at = %reservation.at,
                "releasing a refund reservation its request left behind"
            );
            store
                .release_refund(
                    &invoice.partner_id,
                    &invoice.invoice_id,
                    reservation.amount,
                    &reservation.request,
                )
                .await?;
            released += 1;
        }
        if live.is_empty() {
            store
                .forget_reserved_invoice(&invoice.partner_id, &invoice.invoice_id, &invoice.index_key)
                .await?;
        }
    }
    Ok(released)
}
