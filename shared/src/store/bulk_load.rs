//! Bulk loads: profiles written in batches without history, for benchmarks and imports of partners
//! that have no past here.

use super::items::profile_item;
use super::{dynamo_error, Store, StoreError};
use crate::domain::partner::Partner;

impl Store {
    /// Writes profiles in batches of 25 without history (bulk loads for benchmarks and imports of
    /// partners that have no past here). Existing profiles with the same ids are replaced. The
    /// counters do not follow: `repair_counters` (`devtool recount`) afterwards.
    pub async fn load_profiles(&self, partners: &[Partner]) -> Result<(), StoreError> {
        use aws_sdk_dynamodb::types::{PutRequest, WriteRequest};
        for chunk in partners.chunks(25) {
            let mut requests = chunk
                .iter()
                .map(|p| {
                    let put = PutRequest::builder()
                        .set_item(Some(profile_item(p)?))
                        .build()
                        .map_err(|e| StoreError::Dynamo(e.to_string()))?;
                    Ok(WriteRequest::builder().put_request(put).build())
                })
                .collect::<Result<Vec<_>, StoreError>>()?;
            for attempt in 0..8 {
                let output = self
                    .client
                    .batch_write_item()
                    .request_items(self.table.clone(), requests)
                    .send()
                    .await
                    .map_err(dynamo_error)?;
                requests = output
                    .unprocessed_items
                    .and_then(|mut m| m.remove(&self.table))
                    .unwrap_or_default();
                if requests.is_empty() {
                    break;
                }
                tokio::time::sleep(std::time::Duration::from_millis(50 << attempt)).await;
            }
            if !requests.is_empty() {
                return Err(StoreError::Dynamo(format!(
                    "{} items stayed unprocessed",
                    requests.len()
                )));
            }
        }
        Ok(())
    }
}
