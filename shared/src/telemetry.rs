//! Logs: JSON lines through `tracing`, each carrying the Lambda request id of its invocation (the
//! runtime opens a span with `requestId` around every invocation). Level from `RUST_LOG` or
//! `AWS_LAMBDA_LOG_LEVEL`, default `info`.

use tracing_subscriber::filter::{LevelFilter, Targets};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

/// The log filter for `level`: a level (`info`, Lambda's `WARN`, `FATAL` as `error`) or `target=level`
/// directives (`shared=debug,warn`); targets no directive names log at `info`, and so does everything
/// when `level` does not parse. Directives by target only: span and field filters (and the regex
/// engine they bring) are not worth their size in every bootstrap.
fn log_filter(level: &str) -> Targets {
    let level = level.to_ascii_lowercase().replace("fatal", "error");
    // An empty directive would name the empty target, a prefix of every target, at `trace`.
    let directives: Vec<&str> = level.split(',').map(str::trim).filter(|d| !d.is_empty()).collect();
    if directives.is_empty() {
        return Targets::new().with_default(LevelFilter::INFO);
    }
    match directives.join(",").parse::<Targets>() {
        Ok(targets) if targets.default_level().is_some() => targets,
        Ok(targets) => targets.with_default(LevelFilter::INFO),
        Err(_) => Targets::new().with_default(LevelFilter::INFO),
    }
}

pub fn init_json_logs() {
    let _ = tracing_subscriber::fmt()
        .json()
        .with_target(false)
        .with_current_span(false)
        .with_span_list(true)
        .flatten_event(true)
        .finish()
        .with(log_filter(&crate::config::log_level()))
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
            .with_writer(move || writer.clone())
            .finish()
            .with(log_filter("info"));
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

    fn passes(filter: &Targets, target: &str, level: tracing::Level) -> bool {
        filter.would_enable(target, &level)
    }

    #[test]
    fn reads_lambda_levels_and_target_directives() {
        use tracing::Level;
        let warn = log_filter("WARN");
        assert!(passes(&warn, "shared", Level::WARN) && !passes(&warn, "shared", Level::INFO));
        let fatal = log_filter("FATAL");
        assert!(passes(&fatal, "shared", Level::ERROR) && !passes(&fatal, "shared", Level::WARN));
        let mixed = log_filter("shared=debug,warn");
        assert!(passes(&mixed, "shared::store", Level::DEBUG));
        assert!(!passes(&mixed, "aws_smithy_runtime", Level::INFO));
        assert!(passes(&mixed, "aws_smithy_runtime", Level::WARN));
        let one_target = log_filter("shared=debug");
        assert!(passes(&one_target, "shared", Level::DEBUG) && passes(&one_target, "aws_config", Level::INFO));
        for nonsense in ["", "loud", "shared=loud", "=info,"] {
            let filter = log_filter(nonsense);
            assert!(passes(&filter, "shared", Level::INFO), "{nonsense:?}");
            assert!(!passes(&filter, "shared", Level::DEBUG), "{nonsense:?}");
        }
    }
}
