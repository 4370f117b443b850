//! API key check of every API route: `Authorization: Bearer KEY` or
//! `Authorization: KEY`, with the key or one of the extra keys.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::Response;

use super::config::AuthMode;
use super::relays;
use super::state::SimState;

/// Whether an `Authorization` value is exactly what the mode wants.
fn accepts(mode: AuthMode, key: &str, authorization: &str) -> bool {
    match mode {
        AuthMode::Bearer => authorization.strip_prefix("Bearer ") == Some(key),
        AuthMode::Raw => authorization == key,
    }
}

/// Middleware answering 401 unless the key is presented as configured.
pub async fn require_key(State(state): State<Arc<SimState>>, req: Request, next: Next) -> Response {
    let authorization = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let config = &state.config;
    let authorized = authorization.as_deref().is_some_and(|v| {
        std::iter::once(&config.key)
            .chain(&config.extra_keys)
            .any(|key| accepts(config.auth, key, v))
    });
    if authorized {
        next.run(req).await
    } else {
        relays::unauthorized(&state, authorization.as_deref())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modes_are_exact() {
        assert!(accepts(AuthMode::Bearer, "k", "Bearer k"));
        assert!(!accepts(AuthMode::Bearer, "k", "k"));
        assert!(!accepts(AuthMode::Bearer, "k", "Bearer k2"));
        assert!(!accepts(AuthMode::Bearer, "k", "bearer k"));
        assert!(accepts(AuthMode::Raw, "k", "k"));
        assert!(!accepts(AuthMode::Raw, "k", "Bearer k"));
    }
}
