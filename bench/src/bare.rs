//! The `bare` target: a minimal axum server answering the ceiling scenario's request with the
//! same body as Quire, started by the benchmark in a process of its own, so that `ceiling` is
//! measured in the same run against what the machine can serve at all.

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use axum::Router;
use axum::extract::Query;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::serve::ListenerExt;

/// The running bare server; stopped when dropped.
pub struct BareServer {
    child: Child,
    pub base: String,
}

impl Drop for BareServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts this executable as the bare server on a free loopback port, once it answers.
pub async fn start() -> anyhow::Result<BareServer> {
    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    let child = Command::new(std::env::current_exe()?)
        .args(["--serve-bare", &format!("127.0.0.1:{port}")])
        .stdout(Stdio::null())
        .spawn()?;
    let server = BareServer {
        child,
        base: format!("http://127.0.0.1:{port}"),
    };
    for _ in 0..100 {
        if tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_ok()
        {
            return Ok(server);
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    anyhow::bail!("the bare server did not start on port {port}")
}

/// Serves `GET /bench/ceiling?bytes=N` on `listen` until killed.
pub async fn serve(listen: &str) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind(listen).await?.tap_io(|tcp| {
        let _ = tcp.set_nodelay(true);
    });
    let app = Router::new().route("/bench/ceiling", get(ceiling));
    axum::serve(listener, app).await?;
    Ok(())
}

#[derive(serde::Deserialize)]
struct Size {
    bytes: Option<usize>,
}

/// The body Quire's `/bench/ceiling` answers: `{"pad":"xxx…"}` of the size asked for.
async fn ceiling(Query(size): Query<Size>) -> impl IntoResponse {
    const PREFIX: &[u8] = br#"{"pad":""#;
    const SUFFIX: &[u8] = br#""}"#;
    let bytes = size
        .bytes
        .unwrap_or(1024)
        .clamp(PREFIX.len() + SUFFIX.len(), 1 << 20);
    let mut body = Vec::with_capacity(bytes);
    body.extend_from_slice(PREFIX);
    body.resize(bytes - SUFFIX.len(), b'x');
    body.extend_from_slice(SUFFIX);
    ([(header::CONTENT_TYPE, "application/json")], body)
}
