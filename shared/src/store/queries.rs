//! Reading pages of an index: the query builder (partition, sort-key bounds, filters) and the paging
//! that follows DynamoDB's pages and turns its keys into opaque cursors.

use super::cursor::{self, InvalidCursor, Key};
use super::items::{from_item, string_attr, Item};
use super::keys::{PK, SK};
use super::{dynamo_error, Store, StoreError};
use aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder;
use aws_sdk_dynamodb::types::AttributeValue;
use serde::de::DeserializeOwned;

/// One page of a listing.
#[derive(Debug, Clone, PartialEq)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// Present when more may follow: pass it back as `cursor`.
    pub next_cursor: Option<String>,
}

/// How many rows and from where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageRequest {
    pub limit: u16,
    pub cursor: Option<String>,
}

/// A query on one partition of an index: optional sort-key bounds and filters.
#[derive(Debug, Clone)]
pub(super) struct IndexQuery {
    index: &'static str,
    pk_attr: &'static str,
    sk_attr: &'static str,
    pk: String,
    sk_from: Option<String>,
    sk_below: Option<String>,
    filters: Vec<&'static str>,
    values: Item,
    ascending: bool,
}

impl IndexQuery {
    pub(super) fn new(
        index: &'static str,
        pk_attr: &'static str,
        sk_attr: &'static str,
        pk: impl Into<String>,
    ) -> IndexQuery {
        IndexQuery {
            index,
            pk_attr,
            sk_attr,
            pk: pk.into(),
            sk_from: None,
            sk_below: None,
            filters: Vec::new(),
            values: Item::new(),
            ascending: true,
        }
    }

    pub(super) fn filter(mut self, expression: &'static str, name: &str, value: AttributeValue) -> IndexQuery {
        self.filters.push(expression);
        self.values.insert(name.to_owned(), value);
        self
    }

    pub(super) fn sort_key_from(mut self, lower: String) -> IndexQuery {
        self.sk_from = Some(lower);
        self
    }

    pub(super) fn sort_key_below(mut self, upper: String) -> IndexQuery {
        self.sk_below = Some(upper);
        self
    }

    pub(super) fn descending(mut self, descending: bool) -> IndexQuery {
        self.ascending = !descending;
        self
    }

    /// Whether a sort key lies inside the query's key condition.
    fn sort_key_within_bounds(&self, sk: &str) -> bool {
        match (&self.sk_from, &self.sk_below) {
            (Some(from), Some(below)) => from.as_str() <= sk && sk <= below.as_str(),
            (Some(from), None) => from.as_str() <= sk,
            (None, Some(below)) => sk < below.as_str(),
            (None, None) => true,
        }
    }

    pub(super) fn request(&self, store: &Store) -> QueryFluentBuilder {
        let mut values = self.values.clone();
        values.insert(":pk".into(), string_attr(&self.pk));
        let key_condition = match (&self.sk_from, &self.sk_below) {
            (Some(from), Some(below)) => {
                values.insert(":from".into(), string_attr(from));
                values.insert(":below".into(), string_attr(below));
                format!("{} = :pk AND {} BETWEEN :from AND :below", self.pk_attr, self.sk_attr)
            }
            (Some(from), None) => {
                values.insert(":from".into(), string_attr(from));
                format!("{} = :pk AND {} >= :from", self.pk_attr, self.sk_attr)
            }
            (None, Some(below)) => {
                values.insert(":below".into(), string_attr(below));
                format!("{} = :pk AND {} < :below", self.pk_attr, self.sk_attr)
            }
            (None, None) => format!("{} = :pk", self.pk_attr),
        };
        store
            .client
            .query()
            .table_name(&store.table)
            .index_name(self.index)
            .key_condition_expression(key_condition)
            .set_filter_expression((!self.filters.is_empty()).then(|| self.filters.join(" AND ")))
            .set_expression_attribute_values(Some(values))
            .scan_index_forward(self.ascending)
    }
}

impl Store {
    /// One page of an index query, following DynamoDB pages until `limit` rows pass the filter
    /// (or a few round trips have been made).
    pub(super) async fn query_page<T: DeserializeOwned>(
        &self,
        query: &IndexQuery,
        page: &PageRequest,
    ) -> Result<Page<T>, StoreError> {
        const MAX_ROUND_TRIPS: usize = 8;
        let mut start = page
            .cursor
            .as_deref()
            .map(|c| {
                cursor::decode(
                    c,
                    &[PK, SK, query.pk_attr, query.sk_attr],
                    &[(query.pk_attr, &query.pk)],
                )
            })
            .transpose()?;
        if let Some(key) = &start {
            let sk = key
                .get(query.sk_attr)
                .and_then(|v| v.as_s().ok())
                .map(String::as_str)
                .unwrap_or("");
            if !query.sort_key_within_bounds(sk) {
                // DynamoDB refuses a start key outside the key condition; that is the caller's cursor.
                return Err(InvalidCursor.into());
            }
        }
        let mut items = Vec::new();
        for _ in 0..MAX_ROUND_TRIPS {
            let remaining = usize::from(page.limit) - items.len();
            let (rows, next) = self
                .fetch_page(query, start.take(), Some(i32::try_from(remaining).unwrap_or(i32::MAX)))
                .await?;
            items.extend(rows);
            start = next;
            if start.is_none() || items.len() >= usize::from(page.limit) {
                break;
            }
        }
        Ok(Page {
            items,
            next_cursor: start.as_ref().and_then(cursor::encode),
        })
    }

    /// One DynamoDB page of an index query from `start` (at most `limit` items read): its rows and
    /// the key the next page starts at.
    pub(super) async fn fetch_page<T: DeserializeOwned>(
        &self,
        query: &IndexQuery,
        start: Option<Key>,
        limit: Option<i32>,
    ) -> Result<(Vec<T>, Option<Key>), StoreError> {
        let output = query
            .request(self)
            .set_limit(limit)
            .set_exclusive_start_key(start)
            .send()
            .await
            .map_err(dynamo_error)?;
        let rows = output
            .items
            .unwrap_or_default()
            .into_iter()
            .map(from_item)
            .collect::<Result<_, _>>()?;
        Ok((rows, output.last_evaluated_key))
    }

    /// Every row of an index query (for sorting in memory and exports), up to `max` rows.
    pub(super) async fn query_all<T: DeserializeOwned>(
        &self,
        query: &IndexQuery,
        max: usize,
    ) -> Result<Vec<T>, StoreError> {
        let mut items = Vec::new();
        let mut start = None;
        loop {
            let (rows, next) = self.fetch_page(query, start.take(), None).await?;
            items.extend(rows);
            start = next;
            if start.is_none() || items.len() >= max {
                items.truncate(max);
                return Ok(items);
            }
        }
    }

    /// How many rows an index query matches.
    pub(super) async fn query_count(&self, query: &IndexQuery) -> Result<u64, StoreError> {
        let mut count = 0u64;
        let mut start = None;
        loop {
            let output = query
                .request(self)
                .select(aws_sdk_dynamodb::types::Select::Count)
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(dynamo_error)?;
            count += u64::try_from(output.count).unwrap_or(0);
            start = output.last_evaluated_key;
            if start.is_none() {
                return Ok(count);
            }
        }
    }
}
