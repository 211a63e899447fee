//! Lambda entry point for partner-portal: the SDK clients are built once per cold start; configuration and
//! secrets are read then and again when they are due or were refused (`shared::secrets`).

use lambda_http::Error;
use shared::runtime::Reloading;

#[tokio::main]
async fn main() -> Result<(), Error> {
    shared::telemetry::init_json_logs();
    Reloading::from_env(|sdk, secrets| async move { partner_portal::PortalFunction::from_env(&sdk, &secrets).await })
        .await?
        .run_http()
        .await
}
