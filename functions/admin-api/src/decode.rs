//! Turns request bodies and query strings into domain values, naming every field that is wrong.

use lambda_http::Request;
use serde_json::{Map, Value};
use shared::auth::Admin;
use shared::domain::dates::BusinessCalendar;
use shared::domain::dates::{parse_date, CalendarDate};
use shared::domain::history_and_audit::HistoryEventType;
use shared::domain::invoice::InvoiceStatus;
use shared::domain::money::Cents;
use shared::domain::partner::{CompanyName, Email, Note, PartnerId, ProfileFields, SubscriptionStatus};
use shared::domain::pcr::{BasePcr, Momentum};
use shared::domain::subscription::MAX_PAUSE_MONTHS;
use shared::domain::subscription::{CancelEffective, SettingsChange};
use shared::domain::tier::Tier;
use shared::domain::tier_change::TierChangeRequest;
use shared::error::AppError;
use shared::http::{self as edge, only_known_params, page_request};
use shared::store::{InvoiceFilter, PageRequest, PartnerFilter};
use shared::stripe::client::Collection;
use shared::usecases::billing_start::StartBillingCommand;
use shared::usecases::cancellation::CancelCommand;
use shared::usecases::dashboard::{DashboardRequest, SortBy, Tab};
use shared::usecases::error::FieldError;
use shared::usecases::invoice_actions::{MarkPaidCommand, RefundCommand, RefundRequestId};
use shared::usecases::pause::PauseCommand;
use shared::usecases::renewals::renewal_months;
use shared::usecases::subscription_settings::SettingsCommand;
use shared::usecases::tier_changes::ChangeTierCommand;

/// JSON does not tell `27.0` from `27`: a whole number written with a fraction is read as the integer
/// (so `{"months": 27.0}` means 27 months), anything else stays as it is.
fn whole_number_as_integer(value: Value) -> Value {
    /// 2^53 - 1, the largest integer every JSON reader holds exactly (the descriptions' maximum).
    const MAX_SAFE_INTEGER: f64 = 9_007_199_254_740_991.0;
    match value.as_f64() {
        Some(number) if value.is_f64() && number.fract() == 0.0 && number.abs() <= MAX_SAFE_INTEGER => {
            Value::from(number as i64)
        }
        _ => value,
    }
}

/// A JSON object's fields, read one by one; every problem is collected, then reported together.
struct Fields {
    map: Map<String, Value>,
    errors: Vec<FieldError>,
}

impl Fields {
    fn of(req: &Request) -> Result<Fields, AppError> {
        match edge::parse_json::<Value>(req)? {
            Value::Object(map) => Ok(Fields {
                map,
                errors: Vec::new(),
            }),
            _ => Err(AppError::invalid("body", "must be a JSON object")),
        }
    }

    fn fail(&mut self, field: &str, message: impl ToString) {
        self.errors.push(FieldError::new(field, message));
    }

    /// A string field; `None` when absent or null (an error too when `required`).
    fn string(&mut self, field: &str, required: bool) -> Option<String> {
        match self.map.get(field) {
            Some(Value::String(s)) => Some(s.clone()),
            None | Some(Value::Null) if required => {
                self.fail(field, "is required");
                None
            }
            None | Some(Value::Null) => None,
            Some(other) => {
                self.fail(field, format!("must be a string, got {}", kind(other)));
                None
            }
        }
    }

    /// A field parsed from its string form.
    fn parsed<T, E: ToString>(
        &mut self,
        field: &str,
        required: bool,
        parse: impl FnOnce(&str) -> Result<T, E>,
    ) -> Option<T> {
        let text = self.string(field, required)?;
        parse(&text).map_err(|e| self.fail(field, e)).ok()
    }

    /// A field parsed from its JSON value with serde (numbers and the like).
    fn value<T: serde::de::DeserializeOwned>(&mut self, field: &str, required: bool) -> Option<T> {
        match self.map.get(field).cloned() {
            None | Some(Value::Null) => {
                if required {
                    self.fail(field, "is required");
                }
                None
            }
            Some(value) => serde_json::from_value(whole_number_as_integer(value))
                .map_err(|e| self.fail(field, e))
                .ok(),
        }
    }

    /// A field that may be absent (`None`), null (`Some(None)`) or a string.
    fn nullable_string(&mut self, field: &str) -> Option<Option<String>> {
        match self.map.get(field) {
            None => None,
            Some(Value::Null) => Some(None),
            Some(Value::String(s)) => Some(Some(s.clone())),
            Some(other) => {
                self.fail(field, format!("must be a string or null, got {}", kind(other)));
                None
            }
        }
    }

    /// Reports every field of the body that is not one of `known`.
    fn only<const N: usize>(&mut self, known: [&str; N]) {
        let unknown: Vec<String> = self
            .map
            .keys()
            .filter(|k| !known.contains(&k.as_str()))
            .cloned()
            .collect();
        for field in unknown {
            self.fail(&field, "is not a field of this request");
        }
    }

    fn finish<T>(self, value: impl FnOnce() -> Option<T>) -> Result<T, AppError> {
        match (self.errors.is_empty(), value()) {
            (true, Some(v)) => Ok(v),
            _ => Err(AppError::Invalid(self.errors)),
        }
    }
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// `{engagement_tier, subscription_start_date?, subscription_end_date?, reason?, expected_version?}`
pub fn change_tier(req: &Request, partner_id: PartnerId, admin: &Admin) -> Result<ChangeTierCommand, AppError> {
    let mut f = Fields::of(req)?;
    let tier = f.parsed("engagement_tier", true, str::parse::<Tier>);
    let start: Option<CalendarDate> = f.parsed("subscription_start_date", false, parse_date);
    let end: Option<CalendarDate> = f.parsed("subscription_end_date", false, parse_date);
    let reason = f.parsed("reason", false, |s| Note::parse_optional(Some(s))).flatten();
    let expected_version: Option<u64> = f.value("expected_version", false);
    f.only([
        "engagement_tier",
        "subscription_start_date",
        "subscription_end_date",
        "reason",
        "expected_version",
    ]);
    f.finish(|| {
        Some(ChangeTierCommand {
            partner_id,
            request: TierChangeRequest {
                tier: tier?,
                start,
                end,
                reason,
            },
            expected_version,
            actor: admin.actor(),
        })
    })
}

/// `{company_name, primary_email, base_pcr_score, momentum_modifier?}`
pub fn profile_fields(req: &Request) -> Result<ProfileFields, AppError> {
    let mut f = Fields::of(req)?;
    let company_name = f.parsed("company_name", true, CompanyName::parse);
    let primary_email = f.parsed("primary_email", true, Email::parse);
    let base_pcr_score: Option<BasePcr> = f.value("base_pcr_score", true);
    let momentum_modifier: Momentum = f.value("momentum_modifier", false).unwrap_or_default();
    f.only(["company_name", "primary_email", "base_pcr_score", "momentum_modifier"]);
    f.finish(|| {
        Some(ProfileFields {
            company_name: company_name?,
            primary_email: primary_email?,
            base_pcr_score: base_pcr_score?,
            momentum_modifier,
        })
    })
}

/// `?tier=&status=&limit=&cursor=`
pub fn partner_listing(req: &Request) -> Result<(PartnerFilter, PageRequest), AppError> {
    let query = edge::query(req)?;
    only_known_params(&query, &["tier", "status", "limit", "cursor"])?;
    let tier = match query.get("tier").filter(|t| !t.is_empty()) {
        Some(text) => Some(text.parse::<Tier>().map_err(|e| AppError::invalid("tier", e))?),
        None => None,
    };
    let status = match query.get("status").filter(|s| !s.is_empty()) {
        Some(text) => Some(SubscriptionStatus::parse(text).ok_or_else(|| {
            AppError::invalid(
                "status",
                format!("unknown status {text:?}: expected inactive, active, expired or cancelled"),
            )
        })?),
        None => None,
    };
    Ok((PartnerFilter { tier, status }, page_request(&query)?))
}

/// `?tier=gold`
pub fn preview_tier(req: &Request) -> Result<Tier, AppError> {
    let query = edge::query(req)?;
    only_known_params(&query, &["tier"])?;
    let text = query
        .get("tier")
        .ok_or_else(|| AppError::invalid("tier", "is required (free, gold or platinum)"))?;
    text.parse::<Tier>().map_err(|e| AppError::invalid("tier", e))
}

/// `?limit=&cursor=`
pub fn page_only(req: &Request) -> Result<PageRequest, AppError> {
    let query = edge::query(req)?;
    only_known_params(&query, &["limit", "cursor"])?;
    page_request(&query)
}

/// `?tab=&tier=&sort=&order=&limit=&cursor=` (and `event_type=`, `partner=` on the history tab)
pub fn dashboard(req: &Request) -> Result<(DashboardRequest, PageRequest), AppError> {
    let query = edge::query(req)?;
    only_known_params(
        &query,
        &[
            "tab",
            "tier",
            "sort",
            "order",
            "limit",
            "cursor",
            "event_type",
            "partner",
        ],
    )?;
    dashboard_from(&query).and_then(|request| Ok((request, page_request(&query)?)))
}

/// The export's query: the dashboard's, without paging.
pub fn export(req: &Request) -> Result<DashboardRequest, AppError> {
    let query = edge::query(req)?;
    only_known_params(&query, &["tab", "tier", "sort", "order", "event_type", "partner"])?;
    dashboard_from(&query)
}

fn dashboard_from(query: &std::collections::HashMap<String, String>) -> Result<DashboardRequest, AppError> {
    let mut errors = Vec::new();
    let get = |name: &str| query.get(name).map(String::as_str).filter(|v| !v.is_empty());
    let tab = match get("tab") {
        None => Some(Tab::Active),
        Some(text) => Tab::parse(text).or_else(|| {
            errors.push(FieldError::new(
                "tab",
                format!("unknown tab {text:?}: expected active, expiring, expired, cancelled or history"),
            ));
            None
        }),
    };
    let tier = match get("tier") {
        None => None,
        Some(text) => match text.parse::<Tier>() {
            Ok(tier) if tier.is_paid() => Some(tier),
            _ => {
                errors.push(FieldError::new(
                    "tier",
                    format!("must be gold or platinum, got {text:?}"),
                ));
                None
            }
        },
    };
    let sort = match get("sort") {
        None | Some("end_date") => SortBy::EndDate,
        Some("company_name") => SortBy::CompanyName,
        Some(other) => {
            errors.push(FieldError::new(
                "sort",
                format!("must be end_date or company_name, got {other:?}"),
            ));
            SortBy::EndDate
        }
    };
    let descending = match get("order") {
        None | Some("asc") => false,
        Some("desc") => true,
        Some(other) => {
            errors.push(FieldError::new("order", format!("must be asc or desc, got {other:?}")));
            false
        }
    };
    let event_type = get("event_type").and_then(|text| {
        HistoryEventType::parse(text).or_else(|| {
            errors.push(FieldError::new("event_type", format!("unknown event type {text:?}")));
            None
        })
    });
    let partner_id = get("partner").and_then(|text| {
        PartnerId::parse(text)
            .map_err(|e| errors.push(FieldError::new("partner", e)))
            .ok()
    });
    if tab != Some(Tab::History) && (get("event_type").is_some() || get("partner").is_some()) {
        errors.push(FieldError::new(
            "tab",
            "event_type and partner filter the history tab only",
        ));
    }
    match tab {
        Some(tab) if errors.is_empty() => Ok(DashboardRequest {
            tab,
            tier,
            sort,
            descending,
            event_type,
            partner_id,
        }),
        _ => Err(AppError::Invalid(errors)),
    }
}

/// `{partner_ids: [..], months?}`
pub fn renewal(req: &Request) -> Result<(Vec<String>, u8), AppError> {
    const MAX_IDS: usize = 100;
    let mut f = Fields::of(req)?;
    let ids: Option<Vec<String>> = f.value("partner_ids", true);
    let months: Option<i64> = f.value("months", false);
    if let Some(ids) = &ids {
        if ids.is_empty() || ids.len() > MAX_IDS {
            f.fail("partner_ids", format!("must list 1 to {MAX_IDS} partner ids"));
        }
        for (i, id) in ids.iter().enumerate() {
            if let Err(e) = PartnerId::parse(id) {
                f.fail(&format!("partner_ids[{i}]"), e);
            }
        }
    }
    let months = renewal_months(months).map_err(|message| f.fail("months", message)).ok();
    f.only(["partner_ids", "months"]);
    f.finish(|| Some((ids?, months?)))
}

/// `{effective: "immediately"|"term_end", reason?}`
pub fn cancellation(req: &Request, partner_id: PartnerId, admin: &Admin) -> Result<CancelCommand, AppError> {
    let mut f = Fields::of(req)?;
    let effective = f.parsed("effective", true, |text| match text {
        "immediately" => Ok(CancelEffective::Immediately),
        "term_end" => Ok(CancelEffective::TermEnd),
        other => Err(format!("must be immediately or term_end, got {other:?}")),
    });
    let reason = f.parsed("reason", false, |s| Note::parse_optional(Some(s))).flatten();
    let refund_unused: Option<bool> = f.value("refund_unused", false);
    if refund_unused == Some(true) && effective == Some(CancelEffective::TermEnd) {
        f.fail("refund_unused", "applies only to effective immediately");
    }
    f.only(["effective", "reason", "refund_unused"]);
    f.finish(|| {
        Some(CancelCommand {
            partner_id,
            effective: effective?,
            reason,
            refund_unused: refund_unused.unwrap_or(false),
            actor: admin.actor(),
        })
    })
}

/// `{months: 1..=6, reason?}` for a pause; `{reason?}` for a resume (`pause` false).
pub fn pause(req: &Request, partner_id: PartnerId, admin: &Admin, pause: bool) -> Result<PauseCommand, AppError> {
    let mut f = Fields::of(req)?;
    let months = if pause {
        let months: Option<i64> = f.value("months", true);
        match months.map(|m| u8::try_from(m).ok().filter(|m| (1..=MAX_PAUSE_MONTHS).contains(m))) {
            Some(Some(m)) => Some(m),
            Some(None) => {
                f.fail("months", format!("must be a whole number from 1 to {MAX_PAUSE_MONTHS}"));
                None
            }
            None => None,
        }
    } else {
        None
    };
    let reason = f.parsed("reason", false, |s| Note::parse_optional(Some(s))).flatten();
    if pause {
        f.only(["months", "reason"]);
    } else {
        f.only(["reason"]);
    }
    f.finish(|| {
        Some(PauseCommand {
            partner_id,
            months: if pause { Some(months?) } else { None },
            reason,
            actor: admin.actor(),
        })
    })
}

/// `{auto_renewal?, subscription_notes?, expected_version?}`
pub fn settings(req: &Request, partner_id: PartnerId, admin: &Admin) -> Result<SettingsCommand, AppError> {
    let mut f = Fields::of(req)?;
    let auto_renewal: Option<bool> = f.value("auto_renewal", false);
    let notes = match f.nullable_string("subscription_notes") {
        Some(Some(text)) => Note::parse_optional(Some(&text))
            .map(Some)
            .map_err(|e| f.fail("subscription_notes", e))
            .ok(),
        Some(None) => Some(Some(None)),
        None => Some(None),
    };
    let expected_version: Option<u64> = f.value("expected_version", false);
    if auto_renewal.is_none() && !f.map.contains_key("subscription_notes") {
        f.fail("body", "give auto_renewal or subscription_notes");
    }
    f.only(["auto_renewal", "subscription_notes", "expected_version"]);
    f.finish(|| {
        Some(SettingsCommand {
            partner_id,
            change: SettingsChange {
                auto_renewal,
                subscription_notes: notes?,
            },
            expected_version,
            actor: admin.actor(),
        })
    })
}

pub fn billing_start(req: &Request, partner_id: PartnerId, admin: &Admin) -> Result<StartBillingCommand, AppError> {
    let mut f = Fields::of(req)?;
    let tier = f.parsed("tier", true, |text| match text.parse::<Tier>() {
        Ok(tier) if tier.is_paid() => Ok(tier),
        Ok(_) => Err("billing needs a paid tier: gold or platinum".to_owned()),
        Err(e) => Err(e.to_string()),
    });
    let collection = f.parsed("collection", false, |text| match text {
        "charge_automatically" => Ok(Collection::ChargeAutomatically),
        "send_invoice" => Ok(Collection::SendInvoice),
        other => Err(format!("must be charge_automatically or send_invoice, got {other:?}")),
    });
    f.only(["tier", "collection"]);
    f.finish(|| {
        Some(StartBillingCommand {
            partner_id,
            tier: tier?,
            collection: collection.unwrap_or(Collection::ChargeAutomatically),
            first_payment: shared::stripe::client::FirstPayment::SavedMethod,
            actor: admin.actor(),
        })
    })
}

/// A route without query parameters.
pub fn no_query(req: &Request) -> Result<(), AppError> {
    only_known_params(&edge::query(req)?, &[])
}

/// `{confirm: true}`: an erasure is confirmed explicitly.
pub fn erasure(req: &Request) -> Result<(), AppError> {
    no_query(req)?;
    let mut f = Fields::of(req)?;
    let confirm: Option<bool> = f.value("confirm", true);
    if confirm == Some(false) {
        f.fail("confirm", "must be true: an erasure is confirmed explicitly");
    }
    f.only(["confirm"]);
    f.finish(|| confirm.filter(|c| *c).map(drop))
}

/// `?status=&partner_id=&from=&to=` (dates `YYYY-MM-DD` in the business time zone, both inclusive),
/// and `limit`/`cursor` where the route pages.
pub fn invoice_listing(
    req: &Request,
    calendar: &BusinessCalendar,
    paged: bool,
) -> Result<(InvoiceFilter, PageRequest), AppError> {
    let query = edge::query(req)?;
    let known: &[&str] = if paged {
        &["status", "partner_id", "from", "to", "limit", "cursor"]
    } else {
        &["status", "partner_id", "from", "to"]
    };
    only_known_params(&query, known)?;
    let mut errors = Vec::new();
    let given = |name: &str| query.get(name).map(String::as_str).filter(|v| !v.is_empty());
    let status = given("status").and_then(|text| {
        InvoiceStatus::parse(text)
            .ok_or_else(|| {
                errors.push(FieldError::new(
                    "status",
                    format!("unknown status {text:?}: expected pending, paid, failed or refunded"),
                ))
            })
            .ok()
    });
    let partner_id = given("partner_id").and_then(|text| {
        PartnerId::parse(text)
            .map_err(|e| errors.push(FieldError::new("partner_id", e)))
            .ok()
    });
    let mut date = |name: &str| {
        given(name).and_then(|text| parse_date(text).map_err(|e| errors.push(FieldError::new(name, e))).ok())
    };
    let (from, to) = (date("from"), date("to"));
    if let (Some(from), Some(to)) = (from, to) {
        if from > to {
            errors.push(FieldError::new("to", format!("must not be before from ({from})")));
        }
    }
    let mut instant = |name: &str, day: Option<CalendarDate>| {
        day.and_then(|d| {
            calendar
                .start_of(d)
                .map_err(|e| errors.push(FieldError::new(name, e)))
                .ok()
        })
    };
    let from = instant("from", from);
    let before = instant("to", to.and_then(|d| d.tomorrow().ok()));
    let page = if paged {
        page_request(&query)?
    } else {
        PageRequest { limit: 1, cursor: None }
    };
    if !errors.is_empty() {
        return Err(AppError::Invalid(errors));
    }
    Ok((
        InvoiceFilter {
            status,
            partner_id,
            from,
            before,
        },
        page,
    ))
}

/// No body at all, or `{}` (a body of only whitespace is not JSON: 400).
pub fn empty_body(req: &Request) -> Result<(), AppError> {
    no_query(req)?;
    if req.body().as_ref().is_empty() {
        return Ok(());
    }
    let f = Fields::of(req)?;
    match f.map.keys().next() {
        Some(field) => Err(AppError::invalid(field.as_str(), "is not a field of this request")),
        None => Ok(()),
    }
}

/// `{reason, restore_tier?: false}`
pub fn mark_paid(req: &Request, invoice_id: &str, admin: &Admin) -> Result<MarkPaidCommand, AppError> {
    no_query(req)?;
    let mut f = Fields::of(req)?;
    let reason = f.parsed("reason", true, |s| Note::parse_optional(Some(s)));
    if matches!(reason, Some(None)) {
        f.fail(
            "reason",
            "must not be empty: say why the invoice is paid outside Stripe",
        );
    }
    let restore_tier: Option<bool> = f.value("restore_tier", false);
    f.only(["reason", "restore_tier"]);
    f.finish(|| {
        Some(MarkPaidCommand {
            invoice_id: invoice_id.to_owned(),
            reason: reason.flatten()?,
            restore_tier: restore_tier.unwrap_or(false),
            actor: admin.actor(),
        })
    })
}

/// `{reason, amount_cents?}`: all that is left to refund without an amount.
pub fn refund(req: &Request, invoice_id: &str, admin: &Admin) -> Result<RefundCommand, AppError> {
    no_query(req)?;
    let mut f = Fields::of(req)?;
    let reason = f.parsed("reason", true, |s| Note::parse_optional(Some(s)));
    if matches!(reason, Some(None)) {
        f.fail("reason", "must not be empty: say why the money goes back");
    }
    let amount: Option<i64> = match f.map.get("amount_cents").cloned().map(whole_number_as_integer) {
        Some(Value::Number(n)) if n.is_i64() => n.as_i64(),
        None | Some(Value::Null) => None,
        Some(other) => {
            f.fail(
                "amount_cents",
                format!("must be a whole number of cents, got {}", kind(&other)),
            );
            None
        }
    };
    if amount.is_some_and(|a| a <= 0) {
        f.fail("amount_cents", "must be at least 1 (a cent)");
    }
    f.only(["reason", "amount_cents"]);
    // `Idempotency-Key`: a retried request with the same key is the same refund.
    let idempotency_key = match edge::header_str(req, "idempotency-key") {
        None => None,
        Some(key) => match RefundRequestId::parse(key) {
            Ok(key) => Some(key),
            Err(why) => {
                f.fail("Idempotency-Key", why);
                None
            }
        },
    };
    f.finish(|| {
        Some(RefundCommand {
            invoice_id: invoice_id.to_owned(),
            amount: amount.map(Cents),
            reason: reason.flatten()?,
            actor: admin.actor(),
            idempotency_key,
        })
    })
}

/// The longest window `GET /admin/metrics` reads.
pub const MAX_METRICS_DAYS: i32 = 366;

/// `?from=&to=` (business days, both inclusive): by default this month up to today.
pub fn metrics_window(req: &Request, today: CalendarDate) -> Result<(CalendarDate, CalendarDate), AppError> {
    let query = edge::query(req)?;
    only_known_params(&query, &["from", "to"])?;
    let mut errors = Vec::new();
    let mut date = |name: &str| {
        query
            .get(name)
            .filter(|v| !v.is_empty())
            .and_then(|text| parse_date(text).map_err(|e| errors.push(FieldError::new(name, e))).ok())
    };
    let (from, to) = (date("from"), date("to"));
    let to = to.unwrap_or(today);
    let from = from.unwrap_or_else(|| to.first_of_month());
    if from > to {
        errors.push(FieldError::new("to", format!("must not be before from ({from})")));
    } else if (to - from).get_days() >= MAX_METRICS_DAYS {
        errors.push(FieldError::new(
            "from",
            format!("a window covers at most {MAX_METRICS_DAYS} days"),
        ));
    }
    if errors.is_empty() {
        Ok((from, to))
    } else {
        Err(AppError::Invalid(errors))
    }
}

#[cfg(test)]
mod tests {
    use super::whole_number_as_integer;
    use serde_json::json;

    #[test]
    fn whole_numbers_with_a_fraction_read_as_integers_and_nothing_else_changes() {
        assert_eq!(whole_number_as_integer(json!(27.0)), json!(27));
        assert_eq!(whole_number_as_integer(json!(-3.0)), json!(-3));
        assert_eq!(
            whole_number_as_integer(json!(9_007_199_254_740_991.0)),
            json!(9_007_199_254_740_991_i64)
        );
        assert_eq!(whole_number_as_integer(json!(27.5)), json!(27.5));
        assert_eq!(
            whole_number_as_integer(json!(2.0e26)),
            json!(2.0e26),
            "beyond exact integers"
        );
        assert_eq!(whole_number_as_integer(json!("27")), json!("27"));
        assert_eq!(whole_number_as_integer(json!(27)), json!(27));
    }
}
