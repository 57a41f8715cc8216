//! The response body as the client receives it, counting the bytes sent. When hyper
//! drops it (the body was sent, or the client went away) the request is over: its
//! figures are recorded and its access-log line written.

use crate::access_log::Entry;
use crate::http::{Body, BodyError};
use crate::metrics::{Exchange, ServerStats};
use bytes::Bytes;
use http_body::{Frame, SizeHint};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Instant;

pub struct MeteredBody {
    inner: Body,
    sent: u64,
    started: Instant,
    status: u16,
    request_bytes: u64,
    stats: Arc<ServerStats>,
    log: Option<Box<Entry>>,
}

impl MeteredBody {
    /// Wraps `response`'s body; the request arrived at `started`.
    pub fn wrap(
        mut response: http::Response<Body>,
        started: Instant,
        request_bytes: u64,
        stats: Arc<ServerStats>,
        mut log: Option<Box<Entry>>,
    ) -> http::Response<MeteredBody> {
        if let Some(entry) = &mut log {
            entry.response_head(&mut response);
        }
        let status = response.status().as_u16();
        response.map(|inner| MeteredBody {
            inner,
            sent: 0,
            started,
            status,
            request_bytes,
            stats,
            log,
        })
    }
}

impl http_body::Body for MeteredBody {
    type Data = Bytes;
    type Error = BodyError;

    fn poll_frame(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, BodyError>>> {
        let this = self.get_mut();
        let polled = Pin::new(&mut this.inner).poll_frame(cx);
        if let Poll::Ready(Some(Ok(frame))) = &polled {
            if let Some(data) = frame.data_ref() {
                this.sent += data.len() as u64;
            }
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

impl Drop for MeteredBody {
    fn drop(&mut self) {
        let exchange = Exchange {
            status: self.status,
            duration: self.started.elapsed(),
            request_bytes: self.request_bytes,
            response_bytes: self.sent,
        };
        self.stats.record(&exchange);
        if let Some(entry) = &self.log {
            entry.write(&exchange);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::BodyExt;

    #[tokio::test]
    async fn bytes_sent_are_recorded_when_the_body_is_dropped() {
        let stats = Arc::new(ServerStats::default());
        let response = http::Response::builder().status(202).body(Body::from("hello")).unwrap();
        let metered = MeteredBody::wrap(response, Instant::now(), 7, stats.clone(), None);
        assert_eq!(stats.snapshot().count, 0, "nothing is recorded before the body is done");
        let collected = metered.into_body().collect().await.unwrap().to_bytes();
        assert_eq!(collected, "hello");
        let snapshot = stats.snapshot();
        assert_eq!(snapshot.count, 1);
        assert_eq!(snapshot.codes, vec![(202, 1)]);
        assert_eq!((snapshot.request_bytes, snapshot.response_bytes), (7, 5));
    }

    #[tokio::test]
    async fn an_abandoned_body_still_counts_the_request() {
        let stats = Arc::new(ServerStats::default());
        let response = http::Response::new(Body::from("never read"));
        drop(MeteredBody::wrap(response, Instant::now(), 0, stats.clone(), None));
        let snapshot = stats.snapshot();
        assert_eq!((snapshot.count, snapshot.response_bytes), (1, 0));
    }
}
