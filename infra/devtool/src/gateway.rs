//! A local stand-in for the stack's API Gateway (HTTP API, payload format 2.0): the HTTP functions
//! behind the routes `template.yaml` gives them, on one port, for `make dev` (the production paths on
//! one origin: `/console/`, `/admin/*`, `/api/*`, `/portal/*`, `/webhooks/stripe`), the console's
//! browser tests, and the API fuzzing of `make test` and `make check-api`.
//!
//! Each request becomes the JSON event API Gateway would send (the body base64-encoded as API Gateway
//! does for anything that is not text, so the functions' base64 path is exercised too), is read by
//! lambda_http exactly as in Lambda, and answered by the function's own handler. Routes are chosen as
//! API Gateway chooses them: the fewest path parameters first, a function's `ANY /prefix/{proxy+}`
//! catch-all last; a request no route takes answers 404 `{"message":"Not Found"}`, as API Gateway does.

use base64::Engine;
use lambda_http::{Body, Response};
use shared::runtime::HttpFunction;
use shared::secrets::SecretReader;
use shared::testing::routes::{template_catch_alls, template_routes};
use std::collections::HashMap;
use std::sync::Arc;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

type Error = Box<dyn std::error::Error + Send + Sync>;

/// The largest request API Gateway passes on (10 MB); larger ones are cut off here.
const MAX_REQUEST_BYTES: usize = 10 * 1024 * 1024;

struct Functions {
    admin: admin_api::App,
    portal: partner_portal::PortalFunction,
    webhook: stripe_webhook::Receiver,
}

/// One route of the template: its function, method and path segments (`{name}` matches any one).
struct Route {
    function: &'static str,
    method: String,
    key: String,
    segments: Vec<String>,
}

impl Route {
    fn parameters(&self) -> usize {
        self.segments.iter().filter(|s| s.starts_with('{')).count()
    }

    /// The path parameters when `path` is this route's.
    fn matches(&self, method: &str, path: &[&str]) -> Option<HashMap<String, String>> {
        if let Some(prefix) = self
            .segments
            .split_last()
            .and_then(|(last, prefix)| (last == "{proxy+}").then_some(prefix))
        {
            // `ANY /prefix/{proxy+}`: any method, the prefix and at least one segment more.
            let matched =
                (self.method == "ANY" && path.len() > prefix.len() && path.iter().zip(prefix).all(|(a, b)| a == b))
                    .then(|| HashMap::from([("proxy".to_owned(), path[prefix.len()..].join("/"))]));
            return matched;
        }
        if self.method != method || self.segments.len() != path.len() {
            return None;
        }
        let mut parameters = HashMap::new();
        for (template, actual) in self.segments.iter().zip(path) {
            if let Some(name) = template.strip_prefix('{').and_then(|t| t.strip_suffix('}')) {
                if actual.is_empty() {
                    return None;
                }
                parameters.insert(name.to_owned(), percent_decode(actual));
            } else if template != actual {
                return None;
            }
        }
        Some(parameters)
    }
}

/// Serves the HTTP functions on 127.0.0.1:`port` until killed.
pub async fn serve(port: u16) -> Result<(), Error> {
    shared::telemetry::init_json_logs();
    let sdk = shared::config::aws_sdk_config().await;
    let secrets = SecretReader::from_sdk_config(&sdk);
    let functions = Arc::new(Functions {
        admin: admin_api::App::from_env(&sdk, &secrets).await?,
        portal: partner_portal::PortalFunction::from_env(&sdk, &secrets).await?,
        webhook: stripe_webhook::Receiver::from_env(&sdk, &secrets).await?,
    });
    let mut routes = Vec::new();
    for function in [
        "AdminApiFunction",
        "PartnerPortalFunction",
        "StripeWebhookFunction",
        "ConsoleFunction",
    ] {
        for key in template_routes(function)
            .into_iter()
            .chain(template_catch_alls(function))
        {
            let (method, path) = key.split_once(' ').unwrap_or(("GET", &key));
            routes.push(Route {
                function,
                method: method.to_owned(),
                segments: path.trim_start_matches('/').split('/').map(str::to_owned).collect(),
                key: key.clone(),
            });
        }
    }
    // API Gateway prefers the route with the fewest parameters (`/admin/invoices/export.csv` over
    // `/admin/invoices/{id}`), and a greedy `{proxy+}` catch-all last.
    routes.sort_by_key(|route| (route.segments.iter().any(|s| s == "{proxy+}"), route.parameters()));
    let routes = Arc::new(routes);
    let listener = TcpListener::bind(("127.0.0.1", port)).await?;
    println!("local API gateway on http://127.0.0.1:{port} ({} routes)", routes.len());
    loop {
        let (socket, _) = listener.accept().await?;
        let (functions, routes) = (Arc::clone(&functions), Arc::clone(&routes));
        tokio::spawn(async move {
            if let Err(err) = connection(socket, &functions, &routes).await {
                eprintln!("gateway: {err}");
            }
        });
    }
}

/// One request as it arrived.
struct Incoming {
    method: String,
    target: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

async fn connection(mut socket: TcpStream, functions: &Functions, routes: &[Route]) -> Result<(), Error> {
    let Some(incoming) = read_request(&mut socket).await? else {
        return Ok(());
    };
    let (status, headers, body) = answer(&incoming, functions, routes).await;
    let reason = lambda_http::http::StatusCode::from_u16(status)
        .ok()
        .and_then(|s| s.canonical_reason())
        .unwrap_or("Unknown");
    let mut head = format!("HTTP/1.1 {status} {reason}\r\n");
    for (name, value) in &headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str(&format!("content-length: {}\r\nconnection: close\r\n\r\n", body.len()));
    socket.write_all(head.as_bytes()).await?;
    socket.write_all(&body).await?;
    socket.shutdown().await?;
    Ok(())
}

type Answer = (u16, Vec<(String, String)>, Vec<u8>);

fn gateway_answer(status: u16, message: &str) -> Answer {
    let body = serde_json::json!({ "message": message }).to_string().into_bytes();
    (status, vec![("content-type".into(), "application/json".into())], body)
}

async fn answer(incoming: &Incoming, functions: &Functions, routes: &[Route]) -> Answer {
    let (raw_path, raw_query) = match incoming.target.split_once('?') {
        Some((path, query)) => (path, query),
        None => (incoming.target.as_str(), ""),
    };
    let path: Vec<&str> = raw_path.trim_start_matches('/').split('/').collect();
    let Some((route, parameters)) = routes
        .iter()
        .find_map(|route| route.matches(&incoming.method, &path).map(|p| (route, p)))
    else {
        return gateway_answer(404, "Not Found");
    };
    let event = api_gateway_event(incoming, route, parameters, raw_path, raw_query);
    let request = match lambda_http::request::from_str(&event.to_string()) {
        Ok(request) => request,
        // API Gateway answers a request it cannot pass on itself; it never reaches the function.
        Err(_) => return gateway_answer(400, "Bad Request"),
    };
    let response = match route.function {
        "AdminApiFunction" => functions.admin.respond(&request).await,
        "PartnerPortalFunction" => functions.portal.respond(&request).await,
        "ConsoleFunction" => console::respond(&request),
        _ => functions.webhook.respond(&request).await,
    };
    encode(response)
}

/// The payload-2.0 event API Gateway sends for `incoming` on `route`.
fn api_gateway_event(
    incoming: &Incoming,
    route: &Route,
    parameters: HashMap<String, String>,
    raw_path: &str,
    raw_query: &str,
) -> serde_json::Value {
    let (headers, cookies) = headers_and_cookies(&incoming.headers);
    let query = query_parameters(raw_query);
    let (body, base64) = event_body(&incoming.body, &headers);
    let now = jiff::Timestamp::now();
    let mut event = serde_json::json!({
        "version": "2.0",
        "routeKey": route.key,
        "rawPath": raw_path,
        "rawQueryString": raw_query,
        "headers": headers,
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "local",
            "domainName": "127.0.0.1",
            "domainPrefix": "127",
            "http": {
                "method": incoming.method,
                "path": raw_path,
                "protocol": "HTTP/1.1",
                "sourceIp": "127.0.0.1",
                "userAgent": headers.get("user-agent").cloned().unwrap_or_default(),
            },
            "requestId": shared::ids::next_id().to_string(),
            "routeKey": route.key,
            "stage": "$default",
            "time": now.strftime("%d/%b/%Y:%H:%M:%S +0000").to_string(),
            "timeEpoch": now.as_millisecond(),
        },
        "isBase64Encoded": base64,
    });
    if !cookies.is_empty() {
        event["cookies"] = serde_json::json!(cookies);
    }
    if !query.is_empty() {
        event["queryStringParameters"] = serde_json::json!(query);
    }
    if !parameters.is_empty() {
        event["pathParameters"] = serde_json::json!(parameters);
    }
    if let Some(body) = body {
        event["body"] = serde_json::Value::String(body);
    }
    event
}

/// The headers as API Gateway passes them (repeated ones joined with commas), and the cookies apart.
fn headers_and_cookies(incoming: &[(String, String)]) -> (HashMap<String, String>, Vec<String>) {
    let mut headers: HashMap<String, String> = HashMap::new();
    let mut cookies = Vec::new();
    for (name, value) in incoming {
        if name == "cookie" {
            cookies.extend(value.split(';').map(|c| c.trim().to_owned()));
            continue;
        }
        headers
            .entry(name.clone())
            .and_modify(|joined| {
                joined.push(',');
                joined.push_str(value);
            })
            .or_insert_with(|| value.clone());
    }
    (headers, cookies)
}

/// The query's parameters, decoded, repeated ones joined with commas.
fn query_parameters(raw_query: &str) -> HashMap<String, String> {
    let mut query: HashMap<String, String> = HashMap::new();
    for (name, value) in form_urlencoded_pairs(raw_query) {
        query
            .entry(name)
            .and_modify(|joined| {
                joined.push(',');
                joined.push_str(&value);
            })
            .or_insert(value);
    }
    query
}

/// The body as the event carries it: text as it is, anything else base64-encoded (`true`).
fn event_body(body: &[u8], headers: &HashMap<String, String>) -> (Option<String>, bool) {
    let content_type = headers
        .get("content-type")
        .map(|t| t.to_ascii_lowercase())
        .unwrap_or_default();
    let textual = ["text/", "json", "xml", "javascript", "x-www-form-urlencoded"]
        .iter()
        .any(|kind| content_type.contains(kind));
    match std::str::from_utf8(body) {
        _ if body.is_empty() => (None, false),
        Ok(text) if textual => (Some(text.to_owned()), false),
        _ => (Some(base64::engine::general_purpose::STANDARD.encode(body)), true),
    }
}

fn encode(response: Response<Body>) -> Answer {
    let status = response.status().as_u16();
    let headers = response
        .headers()
        .iter()
        .filter_map(|(name, value)| Some((name.as_str().to_owned(), value.to_str().ok()?.to_owned())))
        .collect();
    let body = match response.into_body() {
        Body::Empty => Vec::new(),
        Body::Text(text) => text.into_bytes(),
        Body::Binary(bytes) => bytes,
        _ => Vec::new(),
    };
    (status, headers, body)
}

async fn read_request(socket: &mut TcpStream) -> Result<Option<Incoming>, Error> {
    let mut buffer = Vec::new();
    let mut chunk = [0u8; 16 * 1024];
    let header_end = loop {
        let n = socket.read(&mut chunk).await?;
        if n == 0 {
            return Ok(None);
        }
        buffer.extend_from_slice(&chunk[..n]);
        if let Some(at) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
            break at + 4;
        }
        if buffer.len() > MAX_REQUEST_BYTES {
            return Ok(None);
        }
    };
    let head = String::from_utf8_lossy(&buffer[..header_end]).to_string();
    let mut lines = head.lines();
    let mut first = lines.next().unwrap_or_default().split_whitespace();
    let (method, target) = (
        first.next().unwrap_or_default().to_owned(),
        first.next().unwrap_or("/").to_owned(),
    );
    let headers: Vec<(String, String)> = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let length = headers
        .iter()
        .find(|(k, _)| k == "content-length")
        .and_then(|(_, v)| v.parse::<usize>().ok())
        .unwrap_or(0)
        .min(MAX_REQUEST_BYTES);
    while buffer.len() < header_end + length {
        let n = socket.read(&mut chunk).await?;
        if n == 0 {
            break;
        }
        buffer.extend_from_slice(&chunk[..n]);
    }
    let end = buffer.len().min(header_end + length);
    Ok(Some(Incoming {
        method,
        target,
        headers,
        body: buffer[header_end..end].to_vec(),
    }))
}

fn form_urlencoded_pairs(query: &str) -> Vec<(String, String)> {
    query
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            (
                percent_decode(&name.replace('+', " ")),
                percent_decode(&value.replace('+', " ")),
            )
        })
        .collect()
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let escaped = (bytes[i] == b'%' && i + 2 < bytes.len())
            .then(|| std::str::from_utf8(&bytes[i + 1..i + 3]).ok())
            .flatten()
            .and_then(|hex| u8::from_str_radix(hex, 16).ok());
        match escaped {
            Some(byte) => {
                out.push(byte);
                i += 3;
            }
            None => {
                out.push(bytes[i]);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}
