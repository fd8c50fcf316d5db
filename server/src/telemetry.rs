//! Logging through `tracing`: readable text by default, JSON lines on request.

use tracing_subscriber::EnvFilter;

use crate::config::LogFormat;

/// Installs the global subscriber. The filter comes from `TRAMYTE_LOG` (then `RUST_LOG`),
/// defaulting to `info` for tramyte and `warn` for libraries.
pub fn init(format: LogFormat) {
    let filter = std::env::var("TRAMYTE_LOG")
        .or_else(|_| std::env::var("RUST_LOG"))
        .ok()
        .and_then(|spec| EnvFilter::try_new(spec).ok())
        .unwrap_or_else(|| EnvFilter::new("warn,tramyte_server=info,tramyte=info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let result = match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().try_init(),
    };
    // A subscriber may already be installed (tests): keep that one.
    drop(result);
}
