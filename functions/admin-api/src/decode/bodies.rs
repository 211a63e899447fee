//! The admin API's JSON bodies as use-case commands: one serde struct per body, of [`Field`]s, that
//! refuses unknown fields (`shared::http::object_body`), then each field parsed by its domain type
//! (`Tier`, `Note`, dates, `BasePcr`...), every error collected into one 422.

use super::no_query;
use lambda_http::Request;
use serde::{Deserialize, Deserializer};
use serde_json::Value;
use shared::auth::Admin;
use shared::domain::dates::parse_date;
use shared::domain::money::Cents;
use shared::domain::partner::{CompanyName, Email, IdentityError, Note, PartnerId, ProfileFields};
use shared::domain::pcr::{BasePcr, Momentum};
use shared::domain::subscription::{CancelEffective, SettingsChange, MAX_PAUSE_MONTHS};
use shared::domain::tier::Tier;
use shared::domain::tier_change::TierChangeRequest;
use shared::error::AppError;
use shared::http::body::{self, object_body, ConfirmBody, Confirmed, Field, FieldErrors, Text};
use shared::http::header_str;
use shared::stripe::client::{Collection, FirstPayment};
use shared::usecases::billing_start::StartBillingCommand;
use shared::usecases::cancellation::CancelCommand;
use shared::usecases::invoice_actions::{MarkPaidCommand, RefundCommand, RefundRequestId};
use shared::usecases::pause::PauseCommand;
use shared::usecases::renewals::renewal_months;
use shared::usecases::subscription_settings::SettingsCommand;
use shared::usecases::tier_change::ChangeTierCommand;

/// Free text an admin writes: `None` when blank (`shared::http::is_blank`, the descriptions' rule).
fn note(text: &str) -> Result<Option<Note>, IdentityError> {
    match body::is_blank(text) {
        true => Ok(None),
        false => Note::parse(text).map(Some),
    }
}

/// A reason that must not be blank: "must not be empty: {why}" when it is.
fn required_reason(f: &mut FieldErrors, reason: Field<Text>, why: &str) -> Option<Note> {
    let reason = f.parsed("reason", reason, true, note);
    if matches!(reason, Some(None)) {
        f.fail("reason", format!("must not be empty: {why}"));
    }
    reason.flatten()
}

/// A string or null (null clears): anything else is "must be a string or null, got a number".
struct TextOrNull(String);

impl<'de> Deserialize<'de> for TextOrNull {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match Value::deserialize(d)? {
            Value::String(text) => Ok(TextOrNull(text)),
            other => Err(serde::de::Error::custom(format!(
                "must be a string or null, got {}",
                body::kind(&other)
            ))),
        }
    }
}

/// A whole number of cents (`100`, or `100.0`): anything else is "must be a whole number of cents".
struct WholeCents(i64);

impl<'de> Deserialize<'de> for WholeCents {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match Value::deserialize(d)? {
            Value::Number(n) if n.is_i64() => Ok(WholeCents(n.as_i64().unwrap_or_default())),
            other => Err(serde::de::Error::custom(format!(
                "must be a whole number of cents, got {}",
                body::kind(&other)
            ))),
        }
    }
}

#[derive(Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
struct ChangeTierBody {
    engagement_tier: Field<Text>,
    subscription_start_date: Field<Text>,
    subscription_end_date: Field<Text>,
    reason: Field<Text>,
    expected_version: Field<u64>,
}

/// `{engagement_tier, subscription_start_date?, subscription_end_date?, reason?, expected_version?}`
pub fn change_tier(req: &Request, partner_id: PartnerId, admin: &Admin) -> Result<ChangeTierCommand, AppError> {
    let (body, mut f) = object_body::<ChangeTierBody>(req, false)?;
    let tier = f.parsed("engagement_tier", body.engagement_tier, true, str::parse::<Tier>);
    let start = f.parsed(
        "subscription_start_date",
        body.subscription_start_date,
        false,
        parse_date,
    );
    let end = f.parsed("subscription_end_date", body.subscription_end_date, false, parse_date);
    let reason = f.parsed("reason", body.reason, false, note).flatten();
    let expected_version = f.value("expected_version", body.expected_version, false);
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

#[derive(Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
struct ProfileBody {
    company_name: Field<Text>,
    primary_email: Field<Text>,
    base_pcr_score: Field<BasePcr>,
    momentum_modifier: Field<Momentum>,
}

/// `{company_name, primary_email, base_pcr_score, momentum_modifier?}`
pub fn profile_fields(req: &Request) -> Result<ProfileFields, AppError> {
    let (body, mut f) = object_body::<ProfileBody>(req, false)?;
    let company_name = f.parsed("company_name", body.company_name, true, CompanyName::parse);
    let primary_email = f.parsed("primary_email", body.primary_email, true, Email::parse);
    let base_pcr_score = f.value("base_pcr_score", body.base_pcr_score, true);
    let momentum_modifier = f.value("momentum_modifier", body.momentum_modifier, false);
    f.finish(|| {
        Some(ProfileFields {
            company_name: company_name?,
            primary_email: primary_email?,
            base_pcr_score: base_pcr_score?,
            momentum_modifier: momentum_modifier.unwrap_or_default(),
        })
    })
}

#[derive(Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
struct RenewalBody {
    partner_ids: Field<Vec<String>>,
    months: Field<i64>,
}

/// `{partner_ids: [..], months?}`
pub fn renewal(req: &Request) -> Result<(Vec<String>, u8), AppError> {
    const MAX_IDS: usize = 100;
    let (body, mut f) = object_body::<RenewalBody>(req, false)?;
    let ids = f.value("partner_ids", body.partner_ids, true);
    let months = f.value("months", body.months, false);
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
    f.finish(|| Some((ids?, months?)))
}

#[derive(Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
struct CancelBody {
    effective: Field<Text>,
    reason: Field<Text>,
    refund_unused: Field<bool>,
}

/// `{effective: "immediately"|"term_end", reason?, refund_unused?}`
pub fn cancellation(req: &Request, partner_id: PartnerId, admin: &Admin) -> Result<CancelCommand, AppError> {
    let (body, mut f) = object_body::<CancelBody>(req, false)?;
    let effective = f.parsed("effective", body.effective, true, |text| match text {
        "immediately" => Ok(CancelEffective::Immediately),
        "term_end" => Ok(CancelEffective::TermEnd),
        other => Err(format!("must be immediately or term_end, got {other:?}")),
    });
    let reason = f.parsed("reason", body.reason, false, note).flatten();
    let refund_unused = f.value("refund_unused", body.refund_unused, false);
    if refund_unused == Some(true) && effective == Some(CancelEffective::TermEnd) {
        f.fail("refund_unused", "applies only to effective immediately");
    }
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

#[derive(Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
struct PauseBody {
    months: Field<i64>,
    reason: Field<Text>,
}

/// `{months: 1..=6, reason?}`
pub fn pause(req: &Request, partner_id: PartnerId, admin: &Admin) -> Result<PauseCommand, AppError> {
    let (body, mut f) = object_body::<PauseBody>(req, false)?;
    let months = match f.value("months", body.months, true) {
        Some(m) => u8::try_from(m)
            .ok()
            .filter(|m| (1..=MAX_PAUSE_MONTHS).contains(m))
            .or_else(|| {
                f.fail("months", format!("must be a whole number from 1 to {MAX_PAUSE_MONTHS}"));
                None
            }),
        None => None,
    };
    let reason = f.parsed("reason", body.reason, false, note).flatten();
    f.finish(|| {
        Some(PauseCommand {
            partner_id,
            months: Some(months?),
            reason,
            actor: admin.actor(),
        })
    })
}

#[derive(Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
struct ResumeBody {
    reason: Field<Text>,
}

/// `{reason?}`
pub fn resume(req: &Request, partner_id: PartnerId, admin: &Admin) -> Result<PauseCommand, AppError> {
    let (body, mut f) = object_body::<ResumeBody>(req, false)?;
    let reason = f.parsed("reason", body.reason, false, note).flatten();
    f.finish(|| {
        Some(PauseCommand {
            partner_id,
            months: None,
            reason,
            actor: admin.actor(),
        })
    })
}

#[derive(Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
struct SettingsBody {
    auto_renewal: Field<bool>,
    subscription_notes: Field<TextOrNull>,
    expected_version: Field<u64>,
}

/// `{auto_renewal?, subscription_notes?, expected_version?}`
pub fn settings(req: &Request, partner_id: PartnerId, admin: &Admin) -> Result<SettingsCommand, AppError> {
    let (body, mut f) = object_body::<SettingsBody>(req, false)?;
    let auto_renewal = f.value("auto_renewal", body.auto_renewal, false);
    let notes_given = !matches!(body.subscription_notes, Field::Absent);
    // `None`: an error; `Some(None)`: unchanged; `Some(Some(None))`: cleared.
    let notes = match body.subscription_notes {
        Field::Given(TextOrNull(text)) => note(&text).map(Some).map_err(|e| f.fail("subscription_notes", e)).ok(),
        Field::Null => Some(Some(None)),
        Field::Absent => Some(None),
        Field::Wrong(why) => {
            f.fail("subscription_notes", why);
            Some(None)
        }
    };
    let expected_version = f.value("expected_version", body.expected_version, false);
    if auto_renewal.is_none() && !notes_given {
        f.fail("body", "give auto_renewal or subscription_notes");
    }
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

#[derive(Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
struct BillingBody {
    tier: Field<Text>,
    collection: Field<Text>,
}

/// `{tier: "gold"|"platinum", collection?}`
pub fn billing_start(req: &Request, partner_id: PartnerId, admin: &Admin) -> Result<StartBillingCommand, AppError> {
    let (body, mut f) = object_body::<BillingBody>(req, false)?;
    let tier = f.parsed("tier", body.tier, true, |text| match text.parse::<Tier>() {
        Ok(tier) if tier.is_paid() => Ok(tier),
        Ok(_) => Err("billing needs a paid tier: gold or platinum".to_owned()),
        Err(e) => Err(e.to_string()),
    });
    let collection = f.parsed("collection", body.collection, false, |text| match text {
        "charge_automatically" => Ok(Collection::ChargeAutomatically),
        "send_invoice" => Ok(Collection::SendInvoice),
        other => Err(format!("must be charge_automatically or send_invoice, got {other:?}")),
    });
    f.finish(|| {
        Some(StartBillingCommand {
            partner_id,
            tier: tier?,
            collection: collection.unwrap_or(Collection::ChargeAutomatically),
            first_payment: FirstPayment::SavedMethod,
            actor: admin.actor(),
        })
    })
}

/// `{confirm: true}`: an erasure is confirmed explicitly.
pub fn erasure(req: &Request) -> Result<Confirmed, AppError> {
    no_query(req)?;
    let (body, mut f) = object_body::<ConfirmBody>(req, false)?;
    let confirm = f.value("confirm", body.confirm, true);
    if confirm == Some(false) {
        f.fail("confirm", "must be true: an erasure is confirmed explicitly");
    }
    f.finish(|| confirm.filter(|c| *c).map(|_| Confirmed))
}

#[derive(Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
struct EmptyBody {}

/// What the path names (`value`), for a route without query parameters whose body is none at all or
/// `{}` (a body of only whitespace is not JSON: 400).
pub fn no_body<T>(req: &Request, value: T) -> Result<T, AppError> {
    no_query(req)?;
    let (EmptyBody {}, f) = object_body::<EmptyBody>(req, true)?;
    f.finish(|| Some(value))
}

#[derive(Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
struct MarkPaidBody {
    reason: Field<Text>,
    restore_tier: Field<bool>,
}

/// `{reason, restore_tier?: false}`
pub fn mark_paid(req: &Request, invoice_id: &str, admin: &Admin) -> Result<MarkPaidCommand, AppError> {
    no_query(req)?;
    let (body, mut f) = object_body::<MarkPaidBody>(req, false)?;
    let reason = required_reason(&mut f, body.reason, "say why the invoice is paid outside Stripe");
    let restore_tier = f.value("restore_tier", body.restore_tier, false);
    f.finish(|| {
        Some(MarkPaidCommand {
            invoice_id: invoice_id.to_owned(),
            reason: reason?,
            restore_tier: restore_tier.unwrap_or(false),
            actor: admin.actor(),
        })
    })
}

#[derive(Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
struct RefundBody {
    reason: Field<Text>,
    amount_cents: Field<WholeCents>,
}

/// `{reason, amount_cents?}`: all that is left to refund without an amount; an `Idempotency-Key`
/// header makes a retried request the same refund.
pub fn refund(req: &Request, invoice_id: &str, admin: &Admin) -> Result<RefundCommand, AppError> {
    no_query(req)?;
    let (body, mut f) = object_body::<RefundBody>(req, false)?;
    let reason = required_reason(&mut f, body.reason, "say why the money goes back");
    let amount = f.value("amount_cents", body.amount_cents, false).map(|WholeCents(a)| a);
    if amount.is_some_and(|a| a <= 0) {
        f.fail("amount_cents", "must be at least 1 (a cent)");
    }
    let idempotency_key = header_str(req, "idempotency-key").and_then(|key| {
        RefundRequestId::parse(key)
            .map_err(|why| f.fail("Idempotency-Key", why))
            .ok()
    });
    f.finish(|| {
        Some(RefundCommand {
            invoice_id: invoice_id.to_owned(),
            amount: amount.map(Cents),
            reason: reason?,
            actor: admin.actor(),
            idempotency_key,
        })
    })
}

#[cfg(test)]
mod tests {
    use super::{mark_paid, profile_fields, refund};
    use proptest::prelude::*;
    use shared::auth::Admin;
    use shared::error::AppError;
    use shared::http::body::{is_blank, NOT_BLANK_PATTERN};
    use shared::testing::texts::white_space_texts;

    fn description() -> String {
        std::fs::read_to_string(shared::testing::repo_file("infra/api/admin-api.openapi.yaml")).unwrap()
    }

    /// The quoted `pattern` of every line of the description that describes `field`.
    fn described_patterns(field: &str) -> Vec<String> {
        description()
            .lines()
            .filter(|line| line.trim_start().starts_with(&format!("{field}: {{")))
            .filter_map(|line| Some(line.split_once("pattern: '")?.1.split_once('\'')?.0.to_owned()))
            .collect()
    }

    fn request(path: &str, body: serde_json::Value) -> lambda_http::Request {
        lambda_http::http::Request::builder()
            .method("POST")
            .uri(format!("https://admin.example.test{path}"))
            .header("content-type", "application/json")
            .body(lambda_http::Body::from(body.to_string()))
            .unwrap()
    }

    /// Whether `field` is among the errors of a decoder's answer.
    fn refused<T>(answer: Result<T, AppError>, field: &str) -> bool {
        match answer {
            Ok(_) => false,
            Err(AppError::Invalid(errors)) => errors.iter().any(|e| e.field == field),
            Err(other) => panic!("{other}"),
        }
    }

    #[test]
    fn the_description_writes_the_one_not_blank_pattern() {
        assert_eq!(
            described_patterns("reason"),
            [NOT_BLANK_PATTERN; 2],
            "mark-paid's and refund's"
        );
        let [company] = &described_patterns("company_name")[..] else {
            panic!("one company_name pattern")
        };
        // Trimmed of white space, at least one character, and no control character (`CompanyName`).
        let white = NOT_BLANK_PATTERN.trim_start_matches("[^").trim_end_matches(']');
        let control = r"\x00-\x1F\x7F-\x9F";
        assert_eq!(
            *company,
            format!("^[{white}]*[^{white}{control}](?:[^{control}]*[^{white}{control}])?[{white}]*$")
        );
        // `control` is exactly what `char::is_control` is (and `white`, `is_blank`'s white space:
        // `shared::http::body`'s own test), so the properties below may read the pattern through them.
        for c in (0..=u32::from(char::MAX)).filter_map(char::from_u32) {
            assert_eq!(c.is_control(), c <= '\x1F' || ('\x7F'..='\u{9F}').contains(&c), "{c:?}");
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 1_000, ..ProptestConfig::default() })]

        /// Mark-paid's and refund's reasons: refused as blank exactly when the pattern refuses them.
        #[test]
        fn a_reason_is_refused_as_blank_exactly_when_the_descriptions_pattern_refuses_it(reason in white_space_texts()) {
            let admitted = !is_blank(&reason);
            let admin = Admin { id: "a".into() };
            let body = serde_json::json!({"reason": reason});
            let marked = mark_paid(&request("/admin/invoices/in_1/mark-paid", body.clone()), "in_1", &admin);
            prop_assert_eq!(refused(marked, "reason"), !admitted, "mark-paid {:?}", reason);
            let refunded = refund(&request("/admin/invoices/in_1/refund", body), "in_1", &admin);
            prop_assert_eq!(refused(refunded, "reason"), !admitted, "refund {:?}", reason);
        }

        /// A company name: refused exactly when the description's pattern refuses it (nothing but
        /// white space, or a control character once the white space around it is taken off).
        #[test]
        fn a_company_name_is_refused_exactly_when_the_descriptions_pattern_refuses_it(name in white_space_texts()) {
            let inside = name.trim();
            let admitted = !inside.is_empty() && !inside.chars().any(char::is_control);
            let body = serde_json::json!({"company_name": name, "primary_email": "a@b.co", "base_pcr_score": 80});
            let answer = profile_fields(&request("/admin/partners/p1", body));
            prop_assert_eq!(refused(answer, "company_name"), !admitted, "{:?}", name);
        }
    }
}
