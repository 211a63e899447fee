//! Logs: JSON lines through `tracing`, each carrying the Lambda request id of its invocation (the
//! runtime opens a span with `requestId` around every invocation). Level from `RUST_LOG` or
//! `AWS_LAMBDA_LOG_LEVEL`, default `info`.
//!
//! async-stripe's webhook module logs an error for every signed event its typed parser does not know
//! (Stripe API version drift, which we handle from the raw fields): those lines are switched off;
//! stripe-webhook logs `typed=false` with the event instead.

use tracing_subscriber::EnvFilter;

pub fn init_json_logs() {
    let level = crate::config::log_level();
    let directives = format!("{level},stripe_webhook=off");
    let _ = tracing_subscriber::fmt()
        .json()
        .with_env_filter(EnvFilter::try_new(&directives).unwrap_or_else(|_| EnvFilter::new("info,stripe_webhook=off")))
        .with_target(false)
        .with_current_span(false)
        .with_span_list(true)
        .flatten_event(true)
        .try_init();
}
