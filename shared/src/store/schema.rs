//! The table's definition, for local stacks and tests (template.yaml declares the same for AWS).

use super::keys::{EXPIRES_AT, INDEXES, PK, SK};
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType, Projection, ProjectionType,
    ScalarAttributeType, StreamSpecification, StreamViewType, TimeToLiveSpecification,
};
use aws_sdk_dynamodb::Client;

fn key(name: &str, key_type: KeyType) -> Result<KeySchemaElement, aws_sdk_dynamodb::error::BuildError> {
    KeySchemaElement::builder()
        .attribute_name(name)
        .key_type(key_type)
        .build()
}

fn string_attribute(name: &str) -> Result<AttributeDefinition, aws_sdk_dynamodb::error::BuildError> {
    AttributeDefinition::builder()
        .attribute_name(name)
        .attribute_type(ScalarAttributeType::S)
        .build()
}

/// Creates the table with its indexes, stream and TTL. An existing table is left as it is.
pub async fn create_table(client: &Client, table: &str) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    if client.describe_table().table_name(table).send().await.is_ok() {
        return Ok(());
    }
    let mut attributes = vec![string_attribute(PK)?, string_attribute(SK)?];
    let mut indexes = Vec::new();
    for (name, pk, sk) in INDEXES {
        attributes.push(string_attribute(pk)?);
        attributes.push(string_attribute(sk)?);
        indexes.push(
            GlobalSecondaryIndex::builder()
                .index_name(name)
                .key_schema(key(pk, KeyType::Hash)?)
                .key_schema(key(sk, KeyType::Range)?)
                .projection(Projection::builder().projection_type(ProjectionType::All).build())
                .build()?,
        );
    }
    client
        .create_table()
        .table_name(table)
        .billing_mode(BillingMode::PayPerRequest)
        .key_schema(key(PK, KeyType::Hash)?)
        .key_schema(key(SK, KeyType::Range)?)
        .set_attribute_definitions(Some(attributes))
        .set_global_secondary_indexes(Some(indexes))
        .stream_specification(
            StreamSpecification::builder()
                .stream_enabled(true)
                .stream_view_type(StreamViewType::NewImage)
                .build()?,
        )
        .send()
        .await?;
    client
        .update_time_to_live()
        .table_name(table)
        .time_to_live_specification(
            TimeToLiveSpecification::builder()
                .enabled(true)
                .attribute_name(EXPIRES_AT)
                .build()?,
        )
        .send()
        .await?;
    Ok(())
}
