//! Access control: `Authorization: Bearer KEY`, scopes per route, and the projects a
//! key may read and write.
//!
//! While no key is active the API is open (and the server listens on loopback only);
//! once one is, every route but the public ones needs a key whose scope fits: `ingest`
//! for the `POST` routes, `read` for the `GET` data routes, `admin` for everything.

use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use tally_store::{ApiKeyRecord, Filter, KeyScope};

use super::AppState;
use super::error::ApiError;

/// What a route asks of its caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Anyone (health, the dashboard's pages and assets).
    Public,
    /// A key with scope `read` or `admin`.
    Read,
    /// A key with scope `ingest` or `admin`.
    Ingest,
    /// A key with scope `admin`.
    Admin,
}

impl Access {
    /// The scopes that pass; empty for a public route.
    pub fn scopes(self) -> &'static [KeyScope] {
        match self {
            Access::Public => &[],
            Access::Read => &[KeyScope::Read, KeyScope::Admin],
            Access::Ingest => &[KeyScope::Ingest, KeyScope::Admin],
            Access::Admin => &[KeyScope::Admin],
        }
    }
}

/// Who is calling, as the handlers see it.
#[derive(Debug, Clone)]
pub enum Principal {
    /// No key is configured: the API is open.
    Open,
    /// The caller's key.
    Key(ApiKeyRecord),
}

impl Principal {
    fn projects(&self) -> Option<&[String]> {
        match self {
            Principal::Key(key) if !key.projects.is_empty() => Some(&key.projects),
            _ => None,
        }
    }

    /// The filter a read may use: a key limited to projects reads only those, and must
    /// name one unless it has exactly one.
    ///
    /// # Errors
    /// 403 when the project asked is not the key's, or when the key has several and
    /// none was asked.
    pub fn read_filter(&self, mut filter: Filter) -> Result<Filter, ApiError> {
        filter.project = self.project(filter.project.take(), "read")?;
        Ok(filter)
    }

    /// The one project a request works in: the one `asked`, which must be the key's,
    /// or the key's only one; `None` (every project) for a key not limited to projects
    /// that asked none.
    ///
    /// # Errors
    /// 403 when the project asked is not the key's, or when the key has several and
    /// none was asked; `verb` says what the key may not do (`read`, `use`).
    pub fn project(&self, asked: Option<String>, verb: &str) -> Result<Option<String>, ApiError> {
        let Some(projects) = self.projects() else {
            return Ok(asked);
        };
        match (asked, projects) {
            (Some(asked), _) if projects.contains(&asked) => Ok(Some(asked)),
            (Some(asked), _) => Err(ApiError::forbidden(
                "forbidden_project",
                format!(
                    "this key may not {verb} project {asked:?}; allowed: {}",
                    projects.join(", ")
                ),
            )),
            (None, [only]) => Ok(Some(only.clone())),
            (None, _) => Err(ApiError::forbidden(
                "project_required",
                format!(
                    "this key is limited to several projects: add ?project= with one of {}",
                    projects.join(", ")
                ),
            )),
        }
    }

    /// Whether the key is limited to projects.
    pub fn is_limited(&self) -> bool {
        self.projects().is_some()
    }

    /// The projects a write may touch (`None`: any).
    pub fn allowed_projects(&self) -> Option<Vec<String>> {
        self.projects().map(<[String]>::to_vec)
    }
}

/// The state the access middleware of one route needs.
#[derive(Debug, Clone)]
pub struct Gate {
    pub state: AppState,
    pub access: Access,
}

/// The key in `Authorization: Bearer KEY`.
fn bearer(headers: &HeaderMap) -> Result<Option<String>, ApiError> {
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return Ok(None);
    };
    let malformed = || {
        unauthorized(
            "malformed_authorization",
            "the Authorization header must be `Bearer KEY`",
        )
    };
    let text = value.to_str().map_err(|_| malformed())?;
    let (scheme, key) = text.split_once(' ').ok_or_else(malformed)?;
    if !scheme.eq_ignore_ascii_case("bearer") || key.trim().is_empty() {
        return Err(malformed());
    }
    Ok(Some(key.trim().to_owned()))
}

fn unauthorized(code: &'static str, message: &str) -> ApiError {
    ApiError::new(StatusCode::UNAUTHORIZED, code, message)
}

/// The middleware in front of every route: decides who the caller is and whether the
/// route lets them in, then hands a [`Principal`] to the handler.
pub async fn require(State(gate): State<Gate>, mut request: Request, next: Next) -> Response {
    if gate.access == Access::Public {
        return next.run(request).await;
    }
    match principal(&gate, request.headers()).await {
        Ok(principal) => {
            request.extensions_mut().insert(principal);
            next.run(request).await
        }
        Err(error) => {
            // Read what the client sends before refusing, so the refusal reaches it on a
            // connection still in order. Nothing of it is kept (a limit of 0): a refused
            // caller holds no memory of its body.
            let _ = super::ingest::read_up_to(request.into_body(), 0, 0).await;
            let mut response = error.into_response();
            if response.status() == StatusCode::UNAUTHORIZED {
                response.headers_mut().insert(
                    header::WWW_AUTHENTICATE,
                    header::HeaderValue::from_static("Bearer"),
                );
            }
            response
        }
    }
}

/// What the key store says about a request's key.
enum Verdict {
    Open,
    Missing,
    Invalid,
    Key(ApiKeyRecord),
}

async fn principal(gate: &Gate, headers: &HeaderMap) -> Result<Principal, ApiError> {
    let token = bearer(headers)?;
    let analytics = gate.state.analytics.clone();
    let always = gate.state.keys_always_required;
    let verdict = tokio::task::spawn_blocking(move || -> crate::Result<Verdict> {
        if !(always || analytics.any_active_key()?) {
            return Ok(Verdict::Open);
        }
        Ok(match token {
            None => Verdict::Missing,
            Some(token) => analytics
                .authenticate(&token)?
                .map_or(Verdict::Invalid, Verdict::Key),
        })
    })
    .await??;
    let key = match verdict {
        Verdict::Open => return Ok(Principal::Open),
        Verdict::Key(key) => key,
        Verdict::Missing => {
            return Err(unauthorized(
                "missing_key",
                "this server requires an API key: send `Authorization: Bearer KEY` (keys come from `tally keys create`)",
            ));
        }
        Verdict::Invalid => {
            return Err(unauthorized(
                "invalid_key",
                "the API key is not valid (unknown or revoked)",
            ));
        }
    };
    let scopes = gate.access.scopes();
    if !scopes.contains(&key.scope) {
        let wanted: Vec<_> = scopes.iter().map(|s| s.as_str()).collect();
        return Err(ApiError::forbidden(
            "forbidden_scope",
            format!(
                "this route needs a key with scope {}; this key has scope {}",
                wanted.join(" or "),
                key.scope.as_str()
            ),
        ));
    }
    Ok(Principal::Key(key))
}
