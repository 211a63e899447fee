//! Logs: JSON lines through `tracing`, each carrying the Lambda request id of its invocation (the
//! runtime opens a span with `requestId` around every invocation). Level from `RUST_LOG` or
//! `AWS_LAMBDA_LOG_LEVEL`, default `info`.

use tracing_subscriber::EnvFilter;

/// The log filter for `level` (a level or directives; `info` when they do not parse).
fn log_filter(level: &str) -> EnvFilter {
    EnvFilter::try_new(level).unwrap_or_else(|_| EnvFilter::new("info"))
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
    fn lines_at_or_above_the_level_pass_whatever_their_target() {
        let captured = Captured::default();
        let writer = captured.clone();
        let subscriber = tracing_subscriber::fmt()
            .json()
            .with_env_filter(log_filter("info"))
            .with_writer(move || writer.clone())
            .finish();
        tracing::subscriber::with_default(subscriber, || {
            tracing::info!(target: "stripe_webhook", "our delivery line");
            tracing::warn!(target: "stripe_webhook::webhook", "a warning");
            tracing::debug!(target: "stripe_webhook", "below the level");
        });
        let text = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
        assert!(text.contains("our delivery line"), "{text}");
        assert!(text.contains("a warning"), "{text}");
        assert!(!text.contains("below the level"));
    }
}
