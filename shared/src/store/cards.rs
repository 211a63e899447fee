//! The copy of a partner's card on file (`domain::card`): one item beside the profile
//! (`PARTNER#<id>` / `CARD`), written with one conditional `PutItem` that never lets an older copy
//! replace a newer one. It is not part of the profile: the profile's versioned writes would carry an
//! old copy back over a newer one.

use super::items::{from_item, string_attr, to_item};
use super::keys::{partner_pk, timestamp_key, CARD_SK, PK, SK};
use super::{dynamo_error, Store, StoreError};
use crate::domain::card::CardRecord;
use crate::domain::partner::PartnerId;

/// The attribute that orders copies (`timestamp_key` of `as_of`: fixed width, so strings compare as
/// instants do).
const AS_OF_KEY: &str = "as_of_key";

impl Store {
    /// The partner's card copy, if any.
    pub async fn card_record(&self, partner_id: &PartnerId) -> Result<Option<CardRecord>, StoreError> {
        match self.get_item(partner_pk(partner_id), CARD_SK).await? {
            Some(mut item) => {
                for key in [PK, SK, AS_OF_KEY] {
                    item.remove(key);
                }
                Ok(Some(from_item(item)?))
            }
            None => Ok(None),
        }
    }

    /// Keeps `record` as the partner's card copy unless a newer one is kept; whether it was kept.
    #[tracing::instrument(skip(self, record), err(Display))]
    pub async fn keep_card_record(&self, partner_id: &PartnerId, record: &CardRecord) -> Result<bool, StoreError> {
        let mut item = to_item(record)?;
        item.insert(PK.to_owned(), string_attr(partner_pk(partner_id)));
        item.insert(SK.to_owned(), string_attr(CARD_SK));
        item.insert(AS_OF_KEY.to_owned(), string_attr(timestamp_key(record.as_of)));
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(pk) OR #as_of <= :as_of")
            .expression_attribute_names("#as_of", AS_OF_KEY)
            .expression_attribute_values(":as_of", string_attr(timestamp_key(record.as_of)))
            .send()
            .await;
        match result {
            Ok(_) => Ok(true),
            Err(err)
                if matches!(
                    err.as_service_error(),
                    Some(aws_sdk_dynamodb::operation::put_item::PutItemError::ConditionalCheckFailedException(_))
                ) =>
            {
                Ok(false)
            }
            Err(err) => Err(dynamo_error(err)),
        }
    }
}
