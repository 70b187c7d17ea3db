//! Traces sent to an OpenTelemetry collector over OTLP/HTTP (protobuf) when
//! `QUIRE_OTLP_ENDPOINT` is set: a span per request and per job run, and at
//! `QUIRE_TRACE_LEVEL=debug` one per database statement (SeaORM's own spans). The SDK batches
//! finished spans and exports them from a thread of its own, off the request path.
//!
//! Without an endpoint no layer wants spans, so `info_span!` costs a request one disabled
//! callsite check and nothing is recorded.

use std::time::Duration;

use opentelemetry::KeyValue;
use opentelemetry::propagation::TextMapPropagator;
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_http::{Bytes, HeaderExtractor, HttpClient, HttpError, Request, Response};
use opentelemetry_otlp::{Protocol, WithExportConfig, WithHttpConfig};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::SdkTracerProvider;
use tracing::{Level, Subscriber};
use tracing_opentelemetry::OpenTelemetrySpanExt;
use tracing_subscriber::Layer;
use tracing_subscriber::filter::{EnvFilter, FilterExt, filter_fn};
use tracing_subscriber::registry::LookupSpan;

use crate::config::TraceLevel;

/// How long one export may take before the batch is given up.
const EXPORT_TIMEOUT: Duration = Duration::from_secs(10);

/// The layer that turns spans into OpenTelemetry spans, and the provider to shut down (which
/// exports what is still batched) before the process ends.
pub fn layer<S>(
    endpoint: &str,
    level: TraceLevel,
) -> anyhow::Result<(impl Layer<S> + use<S>, SdkTracerProvider)>
where
    S: Subscriber + for<'span> LookupSpan<'span>,
{
    let exporter = opentelemetry_otlp::SpanExporter::builder()
        .with_http()
        .with_http_client(OnRuntime {
            client: reqwest::Client::builder().timeout(EXPORT_TIMEOUT).build()?,
            runtime: tokio::runtime::Handle::current(),
        })
        .with_protocol(Protocol::HttpBinary)
        .with_endpoint(traces_url(endpoint))
        .with_timeout(EXPORT_TIMEOUT)
        .build()?;
    let provider = SdkTracerProvider::builder()
        .with_batch_exporter(exporter)
        .with_resource(resource())
        .build();
    let tracer = provider.tracer("quire");
    let layer = tracing_opentelemetry::layer()
        .with_tracer(tracer)
        .with_filter(spans_at(level));
    Ok((layer, provider))
}

/// Like `OTEL_EXPORTER_OTLP_ENDPOINT`: the collector's base URL, traces under `/v1/traces`.
fn traces_url(endpoint: &str) -> String {
    format!("{}/v1/traces", endpoint.trim_end_matches('/'))
}

/// `OTEL_SERVICE_NAME` and `OTEL_RESOURCE_ATTRIBUTES` are honoured; the name defaults to `quire`.
fn resource() -> Resource {
    let name = std::env::var("OTEL_SERVICE_NAME").unwrap_or_else(|_| "quire".to_owned());
    Resource::builder()
        .with_service_name(name)
        .with_attribute(KeyValue::new("service.version", env!("CARGO_PKG_VERSION")))
        .build()
}

/// Quire's spans at the level asked for, SeaORM's statement spans at `debug`, and from any
/// crate only warnings and errors as span events (an info event per request would double the
/// request log in the trace).
fn spans_at<S>(level: TraceLevel) -> impl tracing_subscriber::layer::Filter<S>
where
    S: Subscriber + for<'span> LookupSpan<'span>,
{
    let directives = match level {
        TraceLevel::Info => "warn,quire=info",
        TraceLevel::Debug => "warn,quire=debug,sea_orm=info",
    };
    EnvFilter::new(directives).and(filter_fn(|meta| {
        meta.is_span() || *meta.level() <= Level::WARN
    }))
}

/// A request that carries a W3C `traceparent` continues the caller's trace.
pub fn continue_callers_trace(span: &tracing::Span, headers: &axum::http::HeaderMap) {
    if span.is_disabled() || !headers.contains_key("traceparent") {
        return;
    }
    let parent = TraceContextPropagator::new().extract(&HeaderExtractor(headers));
    // Fails only when the span is already closed or not recorded: then there is nothing to link.
    let _ = span.set_parent(parent);
}

/// Names an exported span after it has started (`otel.name` only names one that has not).
pub fn rename(span: &tracing::Span, name: String) {
    use opentelemetry::trace::TraceContextExt;
    span.context().span().update_name(name);
}

/// The exporter's HTTP client: our reqwest (rustls, so `https://` collectors work) on the
/// server's Tokio runtime. The SDK exports from a plain thread, so each request is spawned onto
/// the runtime and awaited from there.
#[derive(Debug)]
struct OnRuntime {
    client: reqwest::Client,
    runtime: tokio::runtime::Handle,
}

#[async_trait::async_trait]
impl HttpClient for OnRuntime {
    async fn send_bytes(&self, request: Request<Bytes>) -> Result<Response<Bytes>, HttpError> {
        let request = reqwest::Request::try_from(request)?;
        let client = self.client.clone();
        let (status, body) = self
            .runtime
            .spawn(async move {
                let response = client.execute(request).await?;
                let status = response.status();
                Ok::<_, reqwest::Error>((status, response.bytes().await?))
            })
            .await??;
        Ok(Response::builder().status(status).body(body)?)
    }
}
