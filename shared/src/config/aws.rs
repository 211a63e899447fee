//! The AWS SDK's configuration and HTTPS client.

use super::optional;

pub use aws_config::SdkConfig;

/// The AWS SDK configuration (region, credentials, endpoint) from the environment, on
/// [`aws_http_client`].
///
/// Lambda puts the region (`AWS_REGION`) and the role's credentials (`AWS_ACCESS_KEY_ID`,
/// `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`) in the environment, where the SDK's default chains
/// look first anyway. Reading them there directly skips building the rest of those chains at every
/// cold start (an STS client for web identity, with its endpoint rules parsed from JSON, and an IMDS
/// client): admin-api's init went from 3.82 to 2.81 million instructions (callgrind). Without them in
/// the environment (a developer's profile), the default chains are used.
pub async fn aws_sdk_config() -> aws_config::SdkConfig {
    let mut loader = aws_config::defaults(aws_config::BehaviorVersion::latest()).http_client(aws_http_client());
    if let Some(region) = optional("AWS_REGION") {
        loader = loader.region(aws_config::Region::new(region));
    }
    if optional("AWS_ACCESS_KEY_ID").is_some() && optional("AWS_SECRET_ACCESS_KEY").is_some() {
        loader = loader.credentials_provider(aws_config::environment::EnvironmentVariableCredentialsProvider::new());
    }
    loader.load().await
}

/// The roots AWS's service endpoints chain to: Amazon Trust Services' Amazon Root CA 1 to 4, and
/// Starfield Services Root G2, which cross-signs them.
pub const AWS_TRUST_ROOTS_PEM: &[u8] = include_bytes!("../../certs/aws-trust-services-roots.pem");

/// The SDK's HTTPS client, trusting [`AWS_TRUST_ROOTS_PEM`] only. The SDK's default loads the
/// system's whole CA store at every cold start (the bundle, then each file of the certificate
/// directory, every one parsed): about 7 ms of a 13 ms init, measured with `make bench`. These
/// functions talk to AWS endpoints only through this client (Stripe has its own, with compiled-in
/// roots), so AWS's five roots are all they need. `AWS_SDK_SYSTEM_ROOTS=true` trusts the system's
/// store again (the SDK's default), should an AWS endpoint ever chain to another root.
pub fn aws_http_client() -> aws_smithy_runtime_api::client::http::SharedHttpClient {
    use aws_smithy_http_client::tls::{rustls_provider::CryptoMode, Provider, TlsContext, TrustStore};
    let builder = aws_smithy_http_client::Builder::new().tls_provider(Provider::Rustls(CryptoMode::Ring));
    if optional("AWS_SDK_SYSTEM_ROOTS").as_deref() == Some("true") {
        // The escape hatch, should an AWS endpoint ever present a chain to another root.
        return builder.build_https();
    }
    let trust = TrustStore::empty()
        .with_native_roots(false)
        .with_pem_certificate(AWS_TRUST_ROOTS_PEM);
    match TlsContext::builder().with_trust_store(trust).build() {
        Ok(context) => builder.tls_context(context).build_https(),
        // Building the context cannot fail today; should it, the SDK's own default is still safe.
        Err(_) => builder.build_https(),
    }
}
