//! An axum application whose every request is recorded in tally.
//!
//! ```sh
//! tally serve &                                        # a tally server on :7878
//! cargo run -p tally-tower --example axum_app          # this app on :3000
//! curl -H 'x-user-id: ada' localhost:3000/users/42
//! tally query requests                                 # /users/{id}: 1 request
//! ```
//!
//! `TALLY_URL` names the tally server (default `http://127.0.0.1:7878`) and `TALLY_KEY`
//! its API key, if it has keys; `TALLY_DB=path` stores into a tally database opened in
//! this process instead. Ctrl-C delivers what is queued and prints the counts.

use axum::Router;
use axum::extract::Path;
use axum::http::HeaderName;
use axum::routing::{get, post};
use tally_tower::{Config, EmbeddedSink, HttpSink, Recorder};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let config = Config::for_project("example-shop")
        .user_header(HeaderName::from_static("x-user-id"))
        .session_header(HeaderName::from_static("x-session-id"));
    let recorder = match std::env::var("TALLY_DB") {
        Ok(path) => Recorder::start(config, EmbeddedSink::new(tally_api::Analytics::open(path)?)),
        Err(_) => {
            let url =
                std::env::var("TALLY_URL").unwrap_or_else(|_| "http://127.0.0.1:7878".to_owned());
            let mut sink = HttpSink::new(&url);
            if let Ok(key) = std::env::var("TALLY_KEY") {
                sink = sink.key(key);
            }
            Recorder::start(config, sink)
        }
    };
    let app = Router::new()
        .route(
            "/users/{id}",
            get(|Path(id): Path<u64>| async move { format!("user {id}") }),
        )
        .route("/orders", post(|| async { "created" }))
        // `layer` (not a wrapper around the router) so that each request's route
        // template, axum's `MatchedPath`, is known when it is recorded.
        .layer(recorder.layer());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:3000").await?;
    println!("listening on http://{}", listener.local_addr()?);
    axum::serve(listener, app)
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await?;
    let stats = tokio::task::spawn_blocking(move || recorder.shutdown()).await?;
    println!("{stats:?}");
    Ok(())
}
