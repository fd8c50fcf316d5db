//! People who sign in (tài khoản): users with a role and a scope, argon2 password hashes,
//! sessions as random tokens stored only as hashes, and sign-in slowed after failures
//! ([`crate::domain::throttle`]: per account and address, and per address; never a lock).
//!
//! Nothing secret is logged: passwords and tokens never reach a log line, only user ids.

use std::collections::{BTreeSet, HashMap};

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use sha2::{Digest, Sha256};
use tramyte_shared::policy::{Principal, Role, Scope};

use crate::domain::unit;
use crate::store::{Store, StoreError, account, now_millis};

/// How long a session lasts (phones go offline for weeks; they keep their session).
pub const SESSION_MILLIS: i64 = 60 * 24 * 60 * 60 * 1000;
/// Shortest password accepted.
pub const MIN_PASSWORD_CHARS: usize = 8;

/// What can go wrong with accounts.
#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    #[error("wrong user name or password")]
    WrongCredentials,
    #[error("too many failed sign-ins from this address; try again in {retry_after_secs} s")]
    Throttled { retry_after_secs: i64 },
    #[error("this account is disabled")]
    Disabled,
    #[error("the session is not valid (expired, revoked or unknown); sign in again")]
    InvalidSession,
    #[error("no user {0}")]
    UnknownUser(String),
    #[error("user {0} already exists")]
    Exists(String),
    #[error("user id `{0}` must be 3 to 64 letters, digits, . _ - or @")]
    BadUserId(String),
    #[error("a password needs at least {MIN_PASSWORD_CHARS} characters")]
    WeakPassword,
    #[error("no unit {0} (import units first: tramyte units import FILE)")]
    UnknownUnit(String),
    #[error("password hashing failed: {0}")]
    Hashing(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<sqlx::Error> for AccountError {
    fn from(err: sqlx::Error) -> Self {
        AccountError::Store(StoreError::Query(err))
    }
}

/// A user as shown to administrators and in a session (a REST type).
pub use tramyte_shared::rest::User;

/// What it takes to add a user.
#[derive(Debug, Clone)]
pub struct NewUser {
    pub id: String,
    pub display_name: String,
    pub role: Role,
    pub person: Option<String>,
    pub units: Vec<String>,
    pub password: String,
}

/// A signed-in session, as every authenticated request and websocket sees it.
#[derive(Debug, Clone)]
pub struct Session {
    pub user: User,
    pub principal: Principal,
    pub token_hash: String,
    pub device: String,
    pub expires_at: i64,
}

fn check_user_id(id: &str) -> Result<(), AccountError> {
    let ok = (3..=64).contains(&id.chars().count())
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '@'));
    if ok {
        Ok(())
    } else {
        Err(AccountError::BadUserId(id.chars().take(64).collect()))
    }
}

/// Hashes a password with argon2id and a random salt (on a blocking thread: it is slow on
/// purpose).
pub async fn hash_password(password: &str) -> Result<String, AccountError> {
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(AccountError::WeakPassword);
    }
    let password = password.to_owned();
    tokio::task::spawn_blocking(move || {
        let mut salt = [0u8; 16];
        getrandom::fill(&mut salt).map_err(|err| AccountError::Hashing(err.to_string()))?;
        let salt =
            SaltString::encode_b64(&salt).map_err(|err| AccountError::Hashing(err.to_string()))?;
        Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .map(|hash| hash.to_string())
            .map_err(|err| AccountError::Hashing(err.to_string()))
    })
    .await
    .map_err(|err| AccountError::Hashing(err.to_string()))?
}

async fn verify_password(password: &str, stored: &str) -> bool {
    let (password, stored) = (password.to_owned(), stored.to_owned());
    tokio::task::spawn_blocking(move || {
        PasswordHash::new(&stored).is_ok_and(|hash| {
            Argon2::default()
                .verify_password(password.as_bytes(), &hash)
                .is_ok()
        })
    })
    .await
    .unwrap_or(false)
}

/// A password hash nobody's password matches, verified for unknown users so a wrong user name
/// takes as long as a wrong password.
const DECOY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0c2FsdA$8sVfOXFs+4Yy2kYHbqfJm0k1D2Wm8JNrFh3V0g8sAxE";

/// Adds a user with a role, units and a password.
pub async fn add_user(store: &Store, new: &NewUser) -> Result<(), AccountError> {
    check_user_id(&new.id)?;
    for code in &new.units {
        if !crate::store::unit::exists(store, code).await? {
            return Err(AccountError::UnknownUnit(code.clone()));
        }
    }
    let hash = hash_password(&new.password).await?;
    let now = now_millis();
    let row = account::NewUserRow {
        id: &new.id,
        display_name: &new.display_name,
        role: new.role.as_str(),
        person: new.person.as_deref(),
        password_hash: &hash,
        units: &new.units,
    };
    let inserted = account::insert_user(store, &row, now).await?;
    if inserted == 0 {
        return Err(AccountError::Exists(new.id.clone()));
    }
    tracing::info!(user = %new.id, role = new.role.as_str(), "user added");
    Ok(())
}

/// Adds a person who signs documents but cannot sign in (no password, disabled), attached to
/// `unit`, unless the id exists; an administrator may enable them and give them a password.
/// The demo's fictional station staff are such people, so that every signature has a name.
pub async fn add_person_without_sign_in(
    store: &Store,
    id: &str,
    display_name: &str,
    role: Role,
    unit: &str,
) -> Result<(), AccountError> {
    check_user_id(id)?;
    account::insert_person(store, id, display_name, role.as_str(), unit, now_millis()).await?;
    Ok(())
}

/// Every user, by id.
pub async fn list_users(store: &Store) -> Result<Vec<User>, AccountError> {
    let rows = account::users(store).await?;
    // Grouped once: every user's units in one pass, not a scan of all pairs per user.
    let mut units: HashMap<String, Vec<String>> = HashMap::new();
    for (user, unit) in account::user_units(store).await? {
        units.entry(user).or_default().push(unit);
    }
    Ok(rows
        .into_iter()
        .map(|columns| {
            let units = units.remove(&columns.0).unwrap_or_default();
            user_of(columns, units)
        })
        .collect())
}

/// A user from their stored columns and units.
fn user_of(
    (id, display_name, role, person, disabled): account::UserColumns,
    units: Vec<String>,
) -> User {
    User {
        units,
        role: Role::parse(&role).unwrap_or(Role::VillageHealthWorker),
        id,
        display_name,
        person,
        disabled,
    }
}

/// The display names of the users among `ids` whom `viewer` may know by name: themselves and
/// people whose scope shares a commune with theirs ([`Scope::overlaps`]). Ids of nobody, and of
/// people outside the viewer's communes, are left out (the app shows them as they are).
pub async fn display_names_for(
    store: &Store,
    viewer: &Principal,
    ids: &[String],
) -> Result<std::collections::BTreeMap<String, String>, AccountError> {
    let mut names = display_names(store, ids).await?;
    if viewer.scope == Scope::All {
        return Ok(names);
    }
    let users: Vec<String> = names.keys().cloned().collect();
    for id in users {
        if id == viewer.user {
            continue;
        }
        let role = crate::store::account::role_of(store, &id).await?;
        let scope = match role.as_deref().and_then(Role::parse) {
            Some(Role::SystemAdmin) => Scope::All,
            _ => Scope::Communes(unit::communes_of_user(store, &id).await?),
        };
        if !viewer.scope.overlaps(&scope) {
            names.remove(&id);
        }
    }
    Ok(names)
}

/// The display names of the users among `ids`; ids of nobody are left out.
pub async fn display_names(
    store: &Store,
    ids: &[String],
) -> Result<std::collections::BTreeMap<String, String>, AccountError> {
    if ids.is_empty() {
        return Ok(std::collections::BTreeMap::new());
    }
    let list = serde_json::to_string(ids).unwrap_or_else(|_| "[]".to_owned());
    let rows = account::display_names(store, &list).await?;
    Ok(rows.into_iter().collect())
}

/// One user.
pub async fn find_user(store: &Store, id: &str) -> Result<User, AccountError> {
    // Read by id: every signed-in request and websocket finds its user here.
    let Some(columns) = account::user(store, id).await? else {
        return Err(AccountError::UnknownUser(id.to_owned()));
    };
    let units = account::units_of_user(store, id).await?;
    Ok(user_of(columns, units))
}

/// Disables (or enables) a user. Disabling ends every session of theirs at once.
pub async fn set_disabled(store: &Store, id: &str, disabled: bool) -> Result<(), AccountError> {
    let changed = account::set_disabled(store, id, disabled, now_millis()).await?;
    if changed == 0 {
        return Err(AccountError::UnknownUser(id.to_owned()));
    }
    tracing::info!(user = %id, disabled, "user disabled flag changed");
    Ok(())
}

/// Sets a new password and ends the user's sessions.
pub async fn reset_password(store: &Store, id: &str, password: &str) -> Result<(), AccountError> {
    let hash = hash_password(password).await?;
    let changed = account::set_password(store, id, &hash, now_millis()).await?;
    if changed == 0 {
        return Err(AccountError::UnknownUser(id.to_owned()));
    }
    crate::domain::throttle::forget_account(store, id).await?;
    tracing::info!(user = %id, "password reset");
    Ok(())
}

/// Where a sign-in comes from when it is not over HTTP (the command line, tests): one address
/// of its own for throttling.
pub const LOCAL_ADDRESS: &str = "local";

/// Checks a user's password and opens a session; returns the token (shown once, stored hashed).
/// Throttled as an attempt from [`LOCAL_ADDRESS`].
pub async fn sign_in(
    store: &Store,
    id: &str,
    password: &str,
    device: &str,
) -> Result<(String, Session), AccountError> {
    sign_in_from(store, id, password, device, LOCAL_ADDRESS, now_millis()).await
}

/// Checks a user's password, as an attempt from `address` at time `at` (what throttling
/// counts; the session itself starts now), and opens a session.
/// Refused with [`AccountError::Throttled`] while this address must wait (after failures for
/// this account from it, or for many accounts from it); a right password then waits too, but
/// only at this address.
pub async fn sign_in_from(
    store: &Store,
    id: &str,
    password: &str,
    device: &str,
    address: &str,
    at: i64,
) -> Result<(String, Session), AccountError> {
    let started = now_millis();
    let attempt = match crate::domain::throttle::claim(store, id, address, at).await? {
        Ok(attempt) => attempt,
        Err(throttled) => {
            tracing::warn!(user = %id, %address, "sign-in throttled");
            return Err(AccountError::Throttled {
                retry_after_secs: throttled.retry_after_secs,
            });
        }
    };
    let row = account::credentials(store, id).await?;
    let (stored, disabled) = row.unwrap_or_else(|| (DECOY_HASH.to_owned(), false));
    if !verify_password(password, &stored).await {
        let answered = at + (now_millis() - started).max(0);
        crate::domain::throttle::failed(store, attempt, answered).await?;
        tracing::info!(user = %id, %address, "failed sign-in");
        return Err(AccountError::WrongCredentials);
    }
    crate::domain::throttle::succeeded(store, attempt).await?;
    if disabled {
        return Err(AccountError::Disabled);
    }
    let now = now_millis();
    let mut raw = [0u8; 32];
    getrandom::fill(&mut raw).map_err(|err| AccountError::Hashing(err.to_string()))?;
    let token = hex(&raw);
    let token_hash = hash_token(&token);
    let device: String = device.chars().take(120).collect();
    let expires_at = now + SESSION_MILLIS;
    account::insert_session(store, &token_hash, id, &device, now, expires_at).await?;
    tracing::info!(user = %id, "signed in");
    let session = authenticate_hash(store, &token_hash).await?;
    Ok((token, session))
}

/// The session a token opens, if it is valid now (not expired, not revoked, user enabled).
pub async fn authenticate(store: &Store, token: &str) -> Result<Session, AccountError> {
    authenticate_hash(store, &hash_token(token)).await
}

async fn authenticate_hash(store: &Store, token_hash: &str) -> Result<Session, AccountError> {
    let row = account::valid_session(store, token_hash, now_millis()).await?;
    let Some((user_id, device, expires_at)) = row else {
        return Err(AccountError::InvalidSession);
    };
    let user = find_user(store, &user_id).await?;
    let principal = principal_of(store, &user).await?;
    Ok(Session {
        user,
        principal,
        token_hash: token_hash.to_owned(),
        device,
        expires_at,
    })
}

/// Ends a session.
pub async fn sign_out(store: &Store, token_hash: &str) -> Result<(), AccountError> {
    account::revoke_session(store, token_hash, now_millis()).await?;
    Ok(())
}

/// Sessions revoked, or expired, in `[since, now)`: their connections must close.
pub async fn sessions_ended_since(
    store: &Store,
    since: i64,
    now: i64,
) -> Result<Vec<String>, StoreError> {
    account::sessions_ended_between(store, since, now).await
}

/// What the policy needs to know about a user.
pub async fn principal_of(store: &Store, user: &User) -> Result<Principal, AccountError> {
    let scope = if user.role == Role::SystemAdmin {
        Scope::All
    } else {
        let communes: BTreeSet<String> = unit::communes_of_user(store, &user.id).await?;
        Scope::Communes(communes)
    };
    Ok(Principal {
        user: user.id.clone(),
        role: user.role,
        scope,
        person: user.person.clone(),
    })
}

/// The SHA-256 of a session token, in hex: what the database keeps.
pub fn hash_token(token: &str) -> String {
    hex(&Sha256::digest(token.as_bytes()))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A random password of 14 characters that people can read aloud (no 0/O, 1/l).
pub fn generate_password() -> Result<String, String> {
    const ALPHABET: &[u8] = b"abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut bytes = [0u8; 14];
    getrandom::fill(&mut bytes).map_err(|err| format!("no random source: {err}"))?;
    Ok(bytes
        .iter()
        .map(|b| char::from(ALPHABET[usize::from(*b) % ALPHABET.len()]))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn store() -> Store {
        let store = Store::connect("sqlite::memory:").await.unwrap();
        store.migrate().await.unwrap();
        crate::domain::unit::import(&store, "code,kind,name,parent,unit_type,covers\n38,province,Thanh Hóa,,,\n16024,commune,Xã Thiệu Vận,38,xa,\n")
            .await
            .unwrap();
        store
    }

    fn lan() -> NewUser {
        NewUser {
            id: "lan.tyt".into(),
            display_name: "Nguyễn Thị Lan (thử)".into(),
            role: Role::StationStaff,
            person: None,
            units: vec!["16024".into()],
            password: "mật-khẩu-dài".into(),
        }
    }

    #[tokio::test]
    async fn a_user_is_found_by_id_with_their_own_units_only() {
        let store = store().await;
        crate::domain::unit::import(
            &store,
            "code,kind,name,parent,unit_type,covers\n16025,commune,Xã Thiệu Giao,38,xa,\n",
        )
        .await
        .unwrap();
        add_user(&store, &lan()).await.unwrap();
        let two_units = NewUser {
            id: "minh.ttyt".into(),
            display_name: "Trần Văn Minh (thử)".into(),
            role: Role::Reviewer,
            units: vec!["16025".into(), "16024".into()],
            ..lan()
        };
        add_user(&store, &two_units).await.unwrap();
        let lan = find_user(&store, "lan.tyt").await.unwrap();
        assert_eq!(
            (lan.role, lan.units),
            (Role::StationStaff, vec!["16024".to_owned()])
        );
        let minh = find_user(&store, "minh.ttyt").await.unwrap();
        assert_eq!(minh.display_name, "Trần Văn Minh (thử)");
        assert_eq!(minh.units, vec!["16024".to_owned(), "16025".to_owned()]);
        assert!(matches!(
            find_user(&store, "nobody").await,
            Err(AccountError::UnknownUser(id)) if id == "nobody"
        ));
        // The list agrees with what is found one by one.
        let listed = list_users(&store).await.unwrap();
        assert_eq!(listed.len(), 2);
        for user in listed {
            assert_eq!(find_user(&store, &user.id).await.unwrap().units, user.units);
        }
    }

    #[tokio::test]
    async fn a_user_signs_in_and_the_session_carries_role_and_scope() {
        let store = store().await;
        add_user(&store, &lan()).await.unwrap();
        assert!(matches!(
            add_user(&store, &lan()).await,
            Err(AccountError::Exists(_))
        ));
        let (token, session) = sign_in(&store, "lan.tyt", "mật-khẩu-dài", "Điện thoại Lan")
            .await
            .unwrap();
        assert_eq!(session.principal.role, Role::StationStaff);
        assert!(session.principal.covers("16024"));
        let again = authenticate(&store, &token).await.unwrap();
        assert_eq!(again.user.id, "lan.tyt");
        let now = crate::store::now_millis();
        let stored = |key: String| {
            let store = store.clone();
            async move {
                crate::store::account::valid_session(&store, &key, now)
                    .await
                    .unwrap()
            }
        };
        assert!(
            stored(token.clone()).await.is_none(),
            "the token itself is never stored"
        );
        assert!(stored(hash_token(&token)).await.is_some(), "its hash is");
        sign_out(&store, &again.token_hash).await.unwrap();
        assert!(matches!(
            authenticate(&store, &token).await,
            Err(AccountError::InvalidSession)
        ));
    }

    #[tokio::test]
    async fn failures_delay_only_their_address_and_disabling_ends_sessions() {
        let store = store().await;
        add_user(&store, &lan()).await.unwrap();
        let (token, _) = sign_in(&store, "lan.tyt", "mật-khẩu-dài", "d")
            .await
            .unwrap();
        let stranger = "203.0.113.9";
        for _ in 0..crate::domain::throttle::PER_ACCOUNT_AND_ADDRESS.free_failures + 1 {
            assert!(matches!(
                sign_in_from(
                    &store,
                    "lan.tyt",
                    "sai-mật-khẩu",
                    "d",
                    stranger,
                    now_millis()
                )
                .await,
                Err(AccountError::WrongCredentials)
            ));
        }
        // At the stranger's address even the right password waits...
        let throttled = sign_in_from(
            &store,
            "lan.tyt",
            "mật-khẩu-dài",
            "d",
            stranger,
            now_millis(),
        )
        .await;
        assert!(
            matches!(
                throttled,
                Err(AccountError::Throttled {
                    retry_after_secs: 1
                })
            ),
            "{throttled:?}"
        );
        // ...but Lan, at her own, signs in.
        sign_in_from(
            &store,
            "lan.tyt",
            "mật-khẩu-dài",
            "d",
            "198.51.100.4",
            now_millis(),
        )
        .await
        .unwrap();
        // An unknown user gets the same answer as a wrong password.
        assert!(matches!(
            sign_in(&store, "nobody", "whatever-pass", "d").await,
            Err(AccountError::WrongCredentials)
        ));

        set_disabled(&store, "lan.tyt", true).await.unwrap();
        assert!(matches!(
            authenticate(&store, &token).await,
            Err(AccountError::InvalidSession)
        ));
        reset_password(&store, "lan.tyt", "mật-khẩu-mới-1")
            .await
            .unwrap();
        assert!(matches!(
            sign_in(&store, "lan.tyt", "mật-khẩu-mới-1", "d").await,
            Err(AccountError::Disabled)
        ));
        set_disabled(&store, "lan.tyt", false).await.unwrap();
        sign_in(&store, "lan.tyt", "mật-khẩu-mới-1", "d")
            .await
            .unwrap();
    }

    #[tokio::test]
    async fn bad_input_is_refused_clearly() {
        let store = store().await;
        let mut user = lan();
        user.password = "ngắn".into();
        assert!(matches!(
            add_user(&store, &user).await,
            Err(AccountError::WeakPassword)
        ));
        user = lan();
        user.id = "có dấu".into();
        assert!(matches!(
            add_user(&store, &user).await,
            Err(AccountError::BadUserId(_))
        ));
        user = lan();
        user.units = vec!["99999".into()];
        assert!(matches!(
            add_user(&store, &user).await,
            Err(AccountError::UnknownUnit(_))
        ));
    }
}
