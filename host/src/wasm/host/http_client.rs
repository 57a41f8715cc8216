//! `weir:filter/http-client`: outbound calls to the URLs the filter's config allows.

use crate::http::Body;
use crate::wasm::bindings::weir::filter::http_client::{Host, IncomingResponse, OutgoingRequest};
use crate::wasm::http_policy::MAX_CALL_TIME;
use crate::wasm::store_state::HostState;
use http_body_util::BodyExt;
use std::time::Duration;

/// The most response body a guest receives from one call.
const MAX_RESPONSE_BODY: usize = 4 << 20;

impl Host for HostState {
    async fn call(&mut self, request: OutgoingRequest) -> wasmtime::Result<Result<IncomingResponse, String>> {
        if !self.http.allows(&request.url) {
            return Ok(Err(format!(
                "{} is not in this filter's allowedUrls; outbound calls go only there",
                request.url
            )));
        }
        let client = match self.http.client() {
            Ok(client) => client,
            Err(e) => return Ok(Err(e)),
        };
        let mut builder = http::Request::builder()
            .method(request.method.as_str())
            .uri(request.url.as_str());
        for (name, value) in &request.headers {
            builder = builder.header(name.as_str(), value.as_str());
        }
        let outgoing = match builder.body(Body::from(bytes::Bytes::from(request.body))) {
            Ok(r) => r,
            Err(e) => return Ok(Err(format!("bad outgoing request: {e}"))),
        };
        let limit = request
            .timeout_millis
            .map_or(MAX_CALL_TIME, |ms| Duration::from_millis(ms.into()).min(MAX_CALL_TIME));
        let exchange = async {
            let response = client.request(outgoing).await.map_err(|e| e.to_string())?;
            let (parts, body) = response.into_parts();
            let body = http_body_util::Limited::new(body, MAX_RESPONSE_BODY)
                .collect()
                .await
                .map_err(|e| format!("reading the response failed: {e}"))?
                .to_bytes();
            let headers = parts
                .headers
                .iter()
                .map(|(n, v)| {
                    (
                        n.as_str().to_string(),
                        String::from_utf8_lossy(v.as_bytes()).into_owned(),
                    )
                })
                .collect();
            Ok(IncomingResponse {
                status: parts.status.as_u16(),
                headers,
                body: body.to_vec(),
            })
        };
        let started = std::time::Instant::now();
        let result = match tokio::time::timeout(limit, exchange).await {
            Ok(result) => result,
            Err(_) => Err(format!("{} did not answer within {limit:?}", request.url)),
        };
        self.waited += started.elapsed();
        Ok(result)
    }
}
