//! Logs: JSON lines through `tracing`, each carrying the Lambda request id of its invocation (the
//! runtime opens a span with `requestId` around every invocation). Level from `RUST_LOG` or
//! `AWS_LAMBDA_LOG_LEVEL`, default `info`.
//!
//! async-stripe's webhook crate logs a warning for every signed event its typed parser does not know
//! (Stripe API version drift, which we handle from the raw fields): its modules
//! (`stripe_webhook::generated`, `stripe_webhook::webhook`) are switched off, and stripe-webhook
//! logs `typed=false` with the event instead. Our stripe-webhook function's library has the same
//! crate name (`stripe_webhook`): only those two modules are silenced, never its own lines.

use tracing_subscriber::EnvFilter;

/// The directives that silence async-stripe's webhook parsing warnings.
const QUIET_STRIPE_PARSER: &str = "stripe_webhook::generated=off,stripe_webhook::webhook=off";

/// The log filter for `level` (a level or directives).
fn log_filter(level: &str) -> EnvFilter {
    EnvFilter::try_new(format!("{level},{QUIET_STRIPE_PARSER}"))
        .unwrap_or_else(|_| EnvFilter::new(format!("info,{QUIET_STRIPE_PARSER}")))
}

pub fn init_json_logs() {
    let _ = tracing_subscriber::fmt()
        .json()
        .with_env_filter(log_filter(&crate::config::log_level()))
        .with_target(false)
        .with_current_span(false)
        .with_span_list(true)
        .flatten_event(true)
        .try_init();
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;
    use std::sync::{Arc, Mutex};

    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<u8>>>);

    impl Write for Captured {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            if let Ok(mut all) = self.0.lock() {
                all.extend_from_slice(buf);
            }
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn the_webhook_functions_own_lines_pass_and_the_stripe_parsers_do_not() {
        let captured = Captured::default();
        let writer = captured.clone();
        let subscriber = tracing_subscriber::fmt()
            .json()
            .with_env_filter(log_filter("info"))
            .with_writer(move || writer.clone())
            .finish();
        tracing::subscriber::with_default(subscriber, || {
            tracing::info!(target: "stripe_webhook", "our delivery line");
            tracing::warn!(target: "stripe_webhook::generated", "parser drift");
            tracing::error!(target: "stripe_webhook::webhook", "parser error");
            tracing::debug!(target: "stripe_webhook", "below the level");
        });
        let text = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
        assert!(text.contains("our delivery line"), "{text}");
        assert!(!text.contains("parser drift"));
        assert!(!text.contains("parser error"));
        assert!(!text.contains("below the level"));
    }
}
