//! Local development helper for `make dev`:
//!
//! ```text
//! devtool create-table          create TABLE_NAME with its indexes, and EVENT_BUS_NAME when set (no-op when they exist)
//! devtool seed FILE             load demo partners from FILE (infra/seed/demo-partners.json)
//! devtool stripe-demo FILE OUT  link the demo partners to Stripe customers (cus_demo_<id> for events/, and one
//!                               each at STRIPE_API_BASE); write partner -> customer to OUT
//! devtool token [SUB] [HOURS]   print an admin token signed with ADMIN_JWT_SECRET (default admin-local, 12)
//! devtool partner-token ID [SUB] [HOURS]  print a partner token for ID signed with PARTNER_JWT_SECRET
//! devtool bench-sweep [--due D] [--notices-only] N...  sweep tables of N partners with the same D (1,000)
//!                                      due (all of them renewal notices with --notices-only); requests, items
//!                                      read and times, and their ratios
//! devtool recount [--check] [--month YYYY-MM]  recount every counter from the items and repair drift; with
//!                               --check report drift without writing (--month: one month's history and days)
//! devtool bench-counts PARTNERS MONTHS...  the dashboard's and the metrics' requests at each history length
//! devtool gateway PORT          serve the HTTP functions behind their template routes, as API Gateway does
//! ```
//! AWS endpoint and credentials come from the usual variables (the local stack sets them).

use shared::auth::{mint_token, Role};
use shared::config;
use shared::store::{schema, Store};
use shared::usecases::seed::{link_demo_customers, load_demo_partners, DemoPartner};
use std::process::ExitCode;

mod bench;
mod bench_counts;
mod gateway;

type Error = Box<dyn std::error::Error + Send + Sync>;

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("devtool: {err}");
            ExitCode::FAILURE
        }
    }
}

async fn run(args: &[String]) -> Result<(), Error> {
    let words: Vec<&str> = args.iter().map(String::as_str).collect();
    match words.as_slice() {
        ["gateway", port] => gateway::serve(port.parse()?).await?,
        ["create-table"] => create_table().await?,
        ["seed", file] => seed(file).await?,
        ["stripe-demo", file, out] => stripe_demo(file, out).await?,
        ["token", rest @ ..] if rest.len() <= 2 => admin_token(rest).await?,
        ["partner-token", partner, rest @ ..] if rest.len() <= 2 => partner_token(partner, rest).await?,
        ["sample-tokens", dir] => sample_tokens(dir).await?,
        ["bench-counts", args @ ..] => bench_counts_command(args).await?,
        ["recount", args @ ..] => recount(args).await?,
        ["bench-sweep", args @ ..] => bench_sweep(args).await?,
        _ => {
            return Err(
                "usage: devtool create-table | seed FILE | stripe-demo FILE OUT | token [SUB] [HOURS] | partner-token PARTNER [SUB] [HOURS] | sample-tokens DIR | bench-sweep [--due N] [--notices-only] TOTAL..."
                    .into(),
            )
        }
    }
    Ok(())
}

/// `create-table`: the table with its indexes, and the event bus when one is named.
async fn create_table() -> Result<(), Error> {
    let sdk = config::aws_sdk_config().await;
    let store = Store::from_sdk_config(&sdk, config::table_name()?);
    schema::create_table(store.client(), store.table()).await?;
    println!("table {} is ready", store.table());
    if let Ok(name) = config::event_bus_name() {
        let bus = shared::bus::EventBus::from_sdk_config(&sdk, name);
        if bus.client().describe_event_bus().name(bus.name()).send().await.is_err() {
            bus.client().create_event_bus().name(bus.name()).send().await?;
        }
        println!("event bus {} is ready", bus.name());
    }
    Ok(())
}

/// `seed FILE`: the demo partners of `file`.
async fn seed(file: &str) -> Result<(), Error> {
    let partners: Vec<DemoPartner> = serde_json::from_str(&std::fs::read_to_string(file)?)?;
    let sdk = config::aws_sdk_config().await;
    let store = Store::from_sdk_config(&sdk, config::table_name()?);
    let count = load_demo_partners(&store, &config::business_calendar()?, &partners, jiff::Timestamp::now()).await?;
    println!("loaded {count} demo partners");
    Ok(())
}

/// `stripe-demo FILE OUT`: the demo partners linked to Stripe customers; partner -> customer to `out`.
async fn stripe_demo(file: &str, out: &str) -> Result<(), Error> {
    let partners: Vec<DemoPartner> = serde_json::from_str(&std::fs::read_to_string(file)?)?;
    let sdk = config::aws_sdk_config().await;
    let store = Store::from_sdk_config(&sdk, config::table_name()?);
    let now = jiff::Timestamp::now();
    link_demo_customers(&store, &partners, now).await?;
    // A customer at the local Stripe for each demo partner, made by the production client
    // and linked, so that subscriptions created there change the demo partner.
    let secrets = shared::secrets::SecretReader::from_sdk_config(&sdk);
    let stripe = shared::stripe::client::StripeApi::new(&config::stripe_settings(&mut secrets.session()).await?)?;
    let mut customers = serde_json::Map::new();
    for demo in &partners {
        let Some(partner) = store.get_partner(&demo.id).await? else {
            continue;
        };
        let customer = match &partner.stripe_customer_id {
            Some(id) => id.clone(),
            None => stripe.create_customer(&partner).await?,
        };
        store.link_customer(&customer, &partner.id, now).await?;
        customers.insert(partner.id.to_string(), serde_json::Value::String(customer));
    }
    std::fs::write(out, serde_json::to_string_pretty(&customers)?)?;
    println!("linked {} demo partners to Stripe customers ({out})", customers.len());
    Ok(())
}

/// `token [SUB] [HOURS]`: an admin token.
async fn admin_token(rest: &[&str]) -> Result<(), Error> {
    let sub = rest.first().copied().unwrap_or("admin-local");
    let hours: u64 = rest.get(1).map(|h| h.parse()).transpose()?.unwrap_or(12);
    let exp = jiff::Timestamp::now().as_second() as u64 + hours * 3_600;
    let (key, rules) = (signing_key(Role::Admin).await?, config::token_rules(Role::Admin)?);
    println!("{}", mint_token(&key, &rules, sub, Role::Admin, None, exp)?);
    Ok(())
}

/// `partner-token ID [SUB] [HOURS]`: a partner token for `partner`.
async fn partner_token(partner: &str, rest: &[&str]) -> Result<(), Error> {
    let partner = shared::domain::partner::PartnerId::parse(partner)?;
    let sub = rest.first().copied().unwrap_or("partner-user-local");
    let hours: u64 = rest.get(1).map(|h| h.parse()).transpose()?.unwrap_or(12);
    let exp = jiff::Timestamp::now().as_second() as u64 + hours * 3_600;
    let (key, rules) = (signing_key(Role::Partner).await?, config::token_rules(Role::Partner)?);
    println!("{}", mint_token(&key, &rules, sub, Role::Partner, Some(&partner), exp)?);
    Ok(())
}

/// `sample-tokens DIR`: the API samples' tokens, signed afresh with the local keys (each role its
/// own), for as long as a token may live (12 h by default).
async fn sample_tokens(dir: &str) -> Result<(), Error> {
    let admin = (signing_key(Role::Admin).await?, config::token_rules(Role::Admin)?);
    let partner = (signing_key(Role::Partner).await?, config::token_rules(Role::Partner)?);
    let rules = admin.1.clone();
    let keys = |role: Role| match role {
        Role::Admin => admin.clone(),
        Role::Partner => partner.clone(),
    };
    let exp = jiff::Timestamp::now().as_second() as u64 + rules.max_lifetime.as_secs().max(0) as u64;
    let mut count = 0;
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("").to_owned();
        if !(name.starts_with("admin-") || name.starts_with("portal-")) || !name.ends_with(".json") {
            continue;
        }
        let mut event: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&path)?)?;
        shared::testing::remint_sample_token(&mut event, &keys, exp)?;
        std::fs::write(&path, serde_json::to_string_pretty(&event)? + "\n")?;
        count += 1;
    }
    println!(
        "signed the tokens of {count} samples in {dir} for {} h",
        rules.max_lifetime.as_hours()
    );
    Ok(())
}

/// `bench-counts PARTNERS MONTHS...`
async fn bench_counts_command(args: &[&str]) -> Result<(), Error> {
    let (partners, months) = args.split_first().ok_or("bench-counts PARTNERS MONTHS...")?;
    let months: Vec<i64> = months.iter().map(|m| m.parse()).collect::<Result<_, _>>()?;
    bench_counts::counts_scaling(&months, partners.parse()?).await
}

/// `recount [--check] [--month YYYY-MM]`: every counter recounted (or only checked); drift with
/// `--check` fails.
async fn recount(args: &[&str]) -> Result<(), Error> {
    let sdk = config::aws_sdk_config().await;
    let store = Store::from_sdk_config(&sdk, config::table_name()?);
    let request = shared::usecases::recount::RecountRequest::parse_args(args)?;
    let report = shared::usecases::recount::recount(&store, &request).await?;
    println!("{}", serde_json::to_string(&report)?);
    if !report.drifted.is_empty() && request.check_only {
        return Err(format!("{} counter(s) drifted", report.drifted.len()).into());
    }
    Ok(())
}

/// `bench-sweep [--due D] [--notices-only] N...`
async fn bench_sweep(args: &[&str]) -> Result<(), Error> {
    let notices_only = args.contains(&"--notices-only");
    let due = match args.iter().position(|a| *a == "--due") {
        Some(at) => args.get(at + 1).ok_or("--due needs a number")?.parse()?,
        None => 1_000,
    };
    let totals: Vec<usize> = args
        .iter()
        .enumerate()
        .filter(|(i, a)| !a.starts_with("--") && (*i == 0 || args[i - 1] != "--due"))
        .map(|(_, t)| t.parse())
        .collect::<Result<_, _>>()?;
    if totals.is_empty() {
        return Err("bench-sweep needs at least one table size".into());
    }
    bench::sweep_scaling(&totals, due, notices_only).await
}

/// The token signing key, read as the functions read it.
/// The local key that signs `role`'s tokens.
async fn signing_key(role: Role) -> Result<shared::config::Secret, shared::config::ConfigError> {
    let secrets = shared::secrets::SecretReader::from_sdk_config(&config::aws_sdk_config().await);
    config::token_signing_key(role, &mut secrets.session()).await
}
