//! The server's REST API, as the app uses it: sign in and out, who am I, the documents in my
//! scope, a field's history. Same origin; the session travels in the `HttpOnly` cookie the
//! server sets at sign-in.

use serde::{Deserialize, Serialize, de::DeserializeOwned};
use tramyte_shared::rest::{DocumentList, Imported, TargetList, UnitList, UserList};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{
    ReadableStreamDefaultReader, ReadableStreamReadResult, Request, RequestCredentials,
    RequestInit, Response,
};

/// Why a call failed, as the interface tells it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApiError {
    /// No answer: offline, or the server is down.
    Unreachable,
    /// Not signed in, or the session ended.
    Unauthorized(String),
    /// Too many attempts: the server takes the next one after `retry_after_secs` seconds
    /// (its `Retry-After`).
    Throttled {
        message: String,
        retry_after_secs: u64,
    },
    /// The server refused or failed, with its own message.
    Refused { status: u16, message: String },
    /// The server said yes, but its answer could not be read (cut off on the way, or not of
    /// the form this app expects): the decoder's words, for the console, not the interface.
    Unreadable(String),
}

impl ApiError {
    /// An answer that could not be read, for `err` (what the decoder said).
    fn unreadable(err: impl std::fmt::Display) -> ApiError {
        ApiError::Unreadable(err.to_string())
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ApiError::Unreachable => f.write_str("unreachable"),
            ApiError::Unauthorized(m) | ApiError::Throttled { message: m, .. } => f.write_str(m),
            ApiError::Refused { status, message } => write!(f, "{status}: {message}"),
            ApiError::Unreadable(detail) => write!(f, "unreadable answer: {detail}"),
        }
    }
}

/// A user, as `/api/me` describes them.
pub use tramyte_shared::rest::User;

/// Who is signed in.
pub use tramyte_shared::rest::Me;

/// One document in the caller's scope (`GET /api/documents`).
pub use tramyte_shared::rest::DocumentRow;

/// One change of one field (`GET /api/documents/{id}/history`).
pub type HistoryRow = tramyte_shared::rest::AuditRow;

#[derive(Deserialize)]
struct ErrorBody {
    #[serde(default)]
    message: String,
}

async fn call(method: &str, path: &str, body: Option<String>) -> Result<String, ApiError> {
    call_typed(method, path, body, "application/json").await
}

async fn call_typed(
    method: &str,
    path: &str,
    body: Option<String>,
    content_type: &str,
) -> Result<String, ApiError> {
    let body = body.map(|b| JsValue::from_str(&b));
    let (status, text, retry_after) = send(method, path, body.as_ref(), content_type).await?;
    if (200..300).contains(&status) {
        return Ok(text);
    }
    Err(refusal(status, text, retry_after))
}

/// One request: the status, the body as text and `Retry-After`; `Unreachable` when nothing
/// answered.
async fn send(
    method: &str,
    path: &str,
    body: Option<&JsValue>,
    content_type: &str,
) -> Result<(u16, String, Option<String>), ApiError> {
    answer_parts(fetch(method, path, body, content_type).await?).await
}

/// One request's response, its body unread; `Unreachable` when nothing answered.
async fn fetch(
    method: &str,
    path: &str,
    body: Option<&JsValue>,
    content_type: &str,
) -> Result<Response, ApiError> {
    let init = RequestInit::new();
    init.set_method(method);
    init.set_credentials(RequestCredentials::SameOrigin);
    if let Some(body) = body {
        init.set_body(body);
    }
    let request = Request::new_with_str_and_init(path, &init).map_err(|_| ApiError::Unreachable)?;
    if body.is_some() {
        let _ = request.headers().set("content-type", content_type);
    }
    let window = web_sys::window().ok_or(ApiError::Unreachable)?;
    let response = JsFuture::from(window.fetch_with_request(&request))
        .await
        .map_err(|_| ApiError::Unreachable)?;
    response.dyn_into().map_err(|_| ApiError::Unreachable)
}

/// A `GET` answer's bytes as they came: no round trip through a JavaScript string, which
/// costs a large answer (the overview of 10,000 communes) tens of milliseconds.
async fn get_bytes(path: &str) -> Result<Vec<u8>, ApiError> {
    let response = get_response(path).await?;
    let mut bytes = Vec::new();
    Body::Whole(response).read_into(&mut bytes).await?;
    Ok(bytes)
}

/// A response's text when it is a success, else the error it says.
async fn answer_text(response: Response) -> Result<String, ApiError> {
    let (status, text, retry_after) = answer_parts(response).await?;
    if (200..300).contains(&status) {
        return Ok(text);
    }
    Err(refusal(status, text, retry_after))
}

/// A response's status, its body as text and its `Retry-After`.
async fn answer_parts(response: Response) -> Result<(u16, String, Option<String>), ApiError> {
    let text = match response.text() {
        Ok(promise) => JsFuture::from(promise)
            .await
            .ok()
            .and_then(|t| t.as_string())
            .unwrap_or_default(),
        Err(_) => String::new(),
    };
    let retry_after = response.headers().get("retry-after").ok().flatten();
    Ok((response.status(), text, retry_after))
}

/// A failed answer as the interface tells it.
fn refusal(status: u16, text: String, retry_after: Option<String>) -> ApiError {
    let message = serde_json::from_str::<ErrorBody>(&text)
        .map(|b| b.message)
        .unwrap_or(text);
    match status {
        401 => ApiError::Unauthorized(message),
        429 => ApiError::Throttled {
            message,
            retry_after_secs: retry_after.and_then(|v| v.trim().parse().ok()).unwrap_or(1),
        },
        // A service worker or proxy answering for a server that is gone.
        502..=504 => ApiError::Unreachable,
        _ => ApiError::Refused { status, message },
    }
}

/// A request body as JSON (our own types always encode).
fn json(body: &impl Serialize) -> String {
    serde_json::to_string(body).unwrap_or_default()
}

fn parse<T: DeserializeOwned>(text: &str) -> Result<T, ApiError> {
    serde_json::from_str(text).map_err(ApiError::unreadable)
}

/// Signs in; the server sets the session cookie.
pub async fn sign_in(user: &str, password: &str, device: &str) -> Result<Me, ApiError> {
    let body = tramyte_shared::rest::SignIn {
        user: user.to_owned(),
        password: password.to_owned(),
        device: Some(device.to_owned()),
    };
    parse(&call("POST", "/api/session", Some(json(&body))).await?)
}

/// Ends the session on the server.
pub async fn sign_out() -> Result<(), ApiError> {
    call("DELETE", "/api/session", None).await.map(drop)
}

/// Who is signed in.
pub async fn me() -> Result<Me, ApiError> {
    parse(&call("GET", "/api/me", None).await?)
}

/// Documents of the list decoded in one task (see [`documents`]).
const DOCUMENTS_PER_TASK: usize = 1_000;

/// The documents in the caller's scope, as the session keeps them: without their points per
/// criterion, which only the overview and the reports read (from their own answers). The points
/// are skipped while decoding, not built and dropped: for a reviewer of 10,000 communes they
/// are half of the list's 4.9 MB and most of the time to decode it on the page's thread. Read
/// as bytes, like the overview's answer (no JavaScript string of it), and decoded
/// [`DOCUMENTS_PER_TASK`] at a time, a task each, so that a reviewer's 20,000 documents do not
/// hold the page (a scroll, a click) for one long task.
pub async fn documents() -> Result<Vec<DocumentRow>, ApiError> {
    /// How the server's answer begins (compact JSON, the documents its only field).
    const OPENING: &[u8] = b"{\"documents\":[";
    let mut bytes = get_bytes("/api/documents").await?;
    if !bytes.starts_with(OPENING) {
        return serde_json::from_slice::<DocumentList<Vec<Listed>>>(&bytes)
            .map(|list| list.documents.into_iter().map(Listed::into_row).collect())
            .map_err(ApiError::unreadable);
    }
    let mut documents = Vec::new();
    let mut next = Some(OPENING.len());
    while let Some(at) = next {
        let (part, after) = tramyte_shared::rest::overview_parts::read_more::<Listed>(
            &mut bytes,
            at,
            DOCUMENTS_PER_TASK,
        )
        .map_err(ApiError::unreadable)?;
        documents.extend(part.into_iter().map(Listed::into_row));
        next = after;
        if next.is_some() {
            crate::platform::next_task().await;
        }
    }
    Ok(documents)
}

/// A [`DocumentRow`] as listed, but for its points per criterion (see [`documents`]).
#[derive(Deserialize)]
struct Listed {
    id: String,
    #[serde(default)]
    url: String,
    kind: String,
    #[serde(default)]
    commune: Option<String>,
    #[serde(default)]
    commune_name: Option<String>,
    #[serde(default)]
    round: Option<i32>,
    #[serde(default)]
    catalog: Option<String>,
    #[serde(default)]
    status: Option<String>,
    #[serde(default)]
    self_total: Option<tramyte_shared::points::Points>,
    #[serde(default)]
    review_total: Option<tramyte_shared::points::Points>,
    #[serde(default)]
    verdict: Option<String>,
    #[serde(default)]
    open_conflicts: i32,
    #[serde(default)]
    changed_after_submission: Option<tramyte_shared::assessment::ChangedAfterSubmission>,
    #[serde(default)]
    last_change_at: Option<i64>,
    #[serde(default)]
    last_change_by: Option<String>,
}

impl Listed {
    /// Every field named (no `..`): a field added to [`DocumentRow`] fails to build here
    /// until it is listed above too.
    fn into_row(self) -> DocumentRow {
        DocumentRow {
            id: self.id,
            url: self.url,
            kind: self.kind,
            commune: self.commune,
            commune_name: self.commune_name,
            round: self.round,
            catalog: self.catalog,
            status: self.status,
            self_total: self.self_total,
            review_total: self.review_total,
            verdict: self.verdict,
            open_conflicts: self.open_conflicts,
            changed_after_submission: self.changed_after_submission,
            criteria: Vec::new(),
            last_change_at: self.last_change_at,
            last_change_by: self.last_change_by,
        }
    }
}

/// The assessments of one commune in the caller's scope.
pub async fn assessments_of(commune: &str) -> Result<Vec<DocumentRow>, ApiError> {
    let commune = js_sys::encode_uri_component(commune);
    let path = format!("/api/documents?kind=assessment&commune={commune}");
    parse::<DocumentList>(&call("GET", &path, None).await?).map(|d| d.documents)
}

/// People's display names for user ids (`GET /api/names`); ids of nobody are left out.
pub async fn names(ids: &[String]) -> Result<std::collections::BTreeMap<String, String>, ApiError> {
    let list = js_sys::encode_uri_component(&ids.join(","));
    parse::<tramyte_shared::rest::Names>(
        &call("GET", &format!("/api/names?ids={list}"), None).await?,
    )
    .map(|n| n.names)
}

/// Every change of one field (a dotted path such as `items.TC2.self_score`).
pub async fn history(document: &str, path: &str) -> Result<Vec<HistoryRow>, ApiError> {
    let path = js_sys::encode_uri_component(path);
    parse(
        &call(
            "GET",
            &format!("/api/documents/{document}/history?path={path}"),
            None,
        )
        .await?,
    )
}

/// Progress of one reviewing unit against one kind of target (`reach` or `maintain`).
pub use tramyte_shared::rest::TargetProgress;

/// The reviewer's overview of one round (`GET /api/overview?round=`).
pub type Overview = tramyte_shared::rest::Overview<Vec<DocumentRow>>;

/// Rows of the overview decoded before the first frame: the first screen of a tall window
/// (2,160 px at 36 px a row is 60) and the rows kept around it, with room to spare.
pub const FIRST_ROWS: usize = 100;

/// Bytes read into the body before the first rows are looked for again, when they were not
/// whole in what had arrived.
const FIRST_ROWS_RETRY_BYTES: usize = 16 * 1024;

/// The overview of a round, for reviewers, as its answer arrives: the answer with its first
/// [`FIRST_ROWS`] rows decoded as soon as the bytes that hold them have come (the documents
/// come last in the answer, after its 82 KB head for 10,000 communes), and the rest of the
/// body still arriving ([`Arriving`]). So the first screen does not wait for the other 4.9 MB
/// to arrive and be copied into the app.
pub async fn overview(round: u16) -> Result<(Overview, Arriving), ApiError> {
    let response = get_response(&format!("/api/overview?round={round}")).await?;
    let mut body = Body::of(response);
    let mut bytes = Vec::new();
    let mut tried = 0;
    loop {
        let more = body.read_into(&mut bytes).await?;
        if more && bytes.len() < tried + FIRST_ROWS_RETRY_BYTES {
            continue;
        }
        tried = bytes.len();
        match tramyte_shared::rest::overview_parts::read_first(&bytes, FIRST_ROWS) {
            Ok((overview, next)) => {
                crate::platform::mark("overview:first-rows");
                let body = more.then_some(body);
                return Ok((overview, Arriving { bytes, next, body }));
            }
            // The first rows are not all there yet.
            Err(err) if more && err.is_eof() => {}
            Err(err) => return Err(ApiError::unreadable(err)),
        }
    }
}

/// A `GET` answer that is a success, its body unread; the error it says otherwise.
async fn get_response(path: &str) -> Result<Response, ApiError> {
    let response = fetch("GET", path, None, "").await?;
    if !response.ok() {
        return Err(answer_text(response)
            .await
            .err()
            .unwrap_or(ApiError::Unreachable));
    }
    Ok(response)
}

/// A response's body read as it arrives, a chunk at a time, or read whole where the browser
/// gives no stream.
enum Body {
    Stream(ReadableStreamDefaultReader),
    Whole(Response),
    Ended,
}

impl Body {
    fn of(response: Response) -> Body {
        match response.body() {
            Some(stream) => Body::Stream(stream.get_reader().unchecked_into()),
            None => Body::Whole(response),
        }
    }

    /// Appends the next bytes of the body to `bytes`: `false` when the body has ended.
    async fn read_into(&mut self, bytes: &mut Vec<u8>) -> Result<bool, ApiError> {
        let chunk: js_sys::Uint8Array = match self {
            Body::Stream(reader) => {
                let read: ReadableStreamReadResult = JsFuture::from(reader.read())
                    .await
                    .map_err(|_| ApiError::Unreachable)?
                    .unchecked_into();
                if read.get_done().unwrap_or(true) {
                    *self = Body::Ended;
                    return Ok(false);
                }
                read.get_value().unchecked_into()
            }
            Body::Whole(response) => {
                let promise = response.array_buffer().map_err(|_| ApiError::Unreachable)?;
                let buffer = JsFuture::from(promise)
                    .await
                    .map_err(|_| ApiError::Unreachable)?;
                *self = Body::Ended;
                js_sys::Uint8Array::new(&buffer)
            }
            Body::Ended => return Ok(false),
        };
        let at = bytes.len();
        bytes.resize(at + chunk.length() as usize, 0);
        chunk.copy_to(&mut bytes[at..]);
        Ok(true)
    }
}

/// An overview answer whose first rows are decoded ([`overview`]) and whose other bytes may
/// still be arriving.
pub struct Arriving {
    bytes: Vec<u8>,
    /// Where the row after the first rows starts (`None`: there is none).
    next: Option<usize>,
    /// The rest of the body, `None` once it has all arrived.
    body: Option<Body>,
}

impl Arriving {
    /// Waits for the rest of the answer: the rows still to decode ([`Rest`], `None` when there
    /// are none), and the whole answer's bytes when they are at most `keep_up_to`, to keep for
    /// offline use without encoding them again.
    pub async fn arrived(
        mut self,
        keep_up_to: usize,
    ) -> Result<(Option<Rest>, Option<Vec<u8>>), ApiError> {
        if let Some(mut body) = self.body.take() {
            while body.read_into(&mut self.bytes).await? {}
        }
        let kept = (self.bytes.len() <= keep_up_to).then(|| self.bytes.clone());
        crate::platform::mark("overview:bytes");
        let rest = self.next.map(|at| Rest {
            bytes: self.bytes,
            at,
        });
        Ok((rest, kept))
    }
}

/// The rows of an overview answer not decoded yet: its bytes and where the next row starts.
pub struct Rest {
    bytes: Vec<u8>,
    at: usize,
}

impl Rest {
    /// Decodes the next rows, at most `max`, and what is left after them (`None`: nothing).
    pub fn next(mut self, max: usize) -> Result<(Vec<DocumentRow>, Option<Rest>), ApiError> {
        match tramyte_shared::rest::overview_parts::read_more(&mut self.bytes, self.at, max) {
            Ok((rows, None)) => Ok((rows, None)),
            Ok((rows, Some(at))) => Ok((rows, Some(Rest { at, ..self }))),
            Err(err) => Err(ApiError::unreadable(err)),
        }
    }
}

/// Progress against the year's targets month by month, for reviewers.
pub async fn overview_months(round: u16) -> Result<Vec<MonthProgress>, ApiError> {
    parse(&call("GET", &format!("/api/overview/months?round={round}"), None).await?)
}

pub use tramyte_shared::rest::MonthProgress;

/// A commune below a criterion's minimum, in a report.
pub use tramyte_shared::rest::BelowMinimum;

/// One criterion across the communes of a report, and the 6-monthly or yearly report
/// (`GET /api/reports?year=&period=h1|year`).
pub use tramyte_shared::rest::{CriterionReport as CriterionRow, Report};

/// A report, for reviewers.
pub async fn report(year: u16, period: &str) -> Result<Report, ApiError> {
    parse(
        &call(
            "GET",
            &format!("/api/reports?year={year}&period={period}"),
            None,
        )
        .await?,
    )
}

/// A user as administrators see them.
pub type ManagedUser = User;

/// Every user (administrators).
pub async fn users() -> Result<Vec<ManagedUser>, ApiError> {
    parse::<UserList>(&call("GET", "/api/users", None).await?).map(|u| u.users)
}

/// Adds a user with a password (administrators).
pub async fn add_user(user: &ManagedUser, password: &str) -> Result<(), ApiError> {
    let body = tramyte_shared::rest::AddUser {
        id: user.id.clone(),
        display_name: user.display_name.clone(),
        role: user.role,
        person: user.person.clone(),
        units: user.units.clone(),
        password: password.to_owned(),
    };
    call("POST", "/api/users", Some(json(&body)))
        .await
        .map(drop)
}

/// Disables or enables a user (their sessions end at once when disabled).
pub async fn set_disabled(id: &str, disabled: bool) -> Result<(), ApiError> {
    let action = if disabled { "disable" } else { "enable" };
    let id = js_sys::encode_uri_component(id);
    call("POST", &format!("/api/users/{id}/{action}"), None)
        .await
        .map(drop)
}

/// Sets a new password (the user's sessions end).
pub async fn reset_password(id: &str, password: &str) -> Result<(), ApiError> {
    let id = js_sys::encode_uri_component(id);
    let body = tramyte_shared::rest::NewPassword {
        password: password.to_owned(),
    };
    call(
        "POST",
        &format!("/api/users/{id}/password"),
        Some(json(&body)),
    )
    .await
    .map(drop)
}

/// An organisation unit the administrator manages (`GET /api/units?format=json`).
pub use tramyte_shared::rest::ManagedUnit;

/// The units the administrator manages (their province's subtree; all for a system
/// administrator).
pub async fn units() -> Result<Vec<ManagedUnit>, ApiError> {
    parse::<UnitList>(&call("GET", "/api/units?format=json", None).await?).map(|u| u.units)
}

/// Imports organisation units from CSV (validated whole by the server).
pub async fn import_units(csv: &str) -> Result<usize, ApiError> {
    let text = call_typed("POST", "/api/units", Some(csv.to_owned()), "text/csv").await?;
    parse::<Imported>(&text).map(|i| i.imported)
}

/// One commune's yearly target (`reach` the criteria or `maintain` them), with a local minimum
/// total when stricter than the national rule: as set, and as listed.
pub use tramyte_shared::rest::{Target, TargetKind, TargetRow};

/// The targets a unit set for a year.
pub async fn targets(unit: &str, year: u16) -> Result<Vec<TargetRow>, ApiError> {
    let unit = js_sys::encode_uri_component(unit);
    parse::<TargetList>(
        &call(
            "GET",
            &format!("/api/targets?unit={unit}&year={year}"),
            None,
        )
        .await?,
    )
    .map(|t| t.targets)
}

/// Replaces the targets a unit set for a year.
pub async fn set_targets(unit: &str, year: u16, targets: &[Target]) -> Result<(), ApiError> {
    let unit = js_sys::encode_uri_component(unit);
    let body = tramyte_shared::rest::PutTargets {
        targets: targets.to_vec(),
    };
    call(
        "PUT",
        &format!("/api/targets?unit={unit}&year={year}"),
        Some(json(&body)),
    )
    .await
    .map(drop)
}

/// What opening a round did: assessments and rosters counted apart (the counts of
/// [`tramyte_shared::rest::OpenedRound`]; the app refetches the overview instead of reading
/// its document list).
pub type OpenedRound = tramyte_shared::rest::OpenedCounts;

/// Opens a round for every commune in the caller's scope (idempotent), on the newest revision
/// of `catalog` the caller may use.
pub async fn open_round(round: u16, catalog: &str) -> Result<OpenedRound, ApiError> {
    open_round_on(round, catalog, None).await
}

/// Opens a round on a chosen revision of a criteria set (`None`: the newest the caller may use).
pub async fn open_round_on(
    round: u16,
    catalog: &str,
    revision: Option<u32>,
) -> Result<OpenedRound, ApiError> {
    let body = tramyte_shared::rest::OpenRound {
        round,
        catalog: catalog.to_owned(),
        revision,
        communes: None,
        zones: Default::default(),
    };
    parse(&call("POST", "/api/rounds", Some(json(&body))).await?)
}

/// What moving a round's open assessments to a newer revision did.
pub use tramyte_shared::rest::MovedRound;

/// Moves the round's open assessments of `catalog` in the caller's scope to `revision` (`None`:
/// the newest the caller may use).
pub async fn move_round(
    round: u16,
    catalog: &str,
    revision: Option<u32>,
) -> Result<MovedRound, ApiError> {
    let body = tramyte_shared::rest::MoveRound {
        round,
        catalog: catalog.to_owned(),
        revision,
        communes: None,
    };
    parse(&call("POST", "/api/rounds/move", Some(json(&body))).await?)
}

/// One revision of a criteria set as listed, and a problem of an indicator sheet at its cell.
pub use tramyte_shared::rest::{CatalogSummary, SheetProblem};

/// Every revision of every criteria set the caller may use (`GET /api/catalogs?all=true`).
pub async fn catalogs() -> Result<Vec<CatalogSummary>, ApiError> {
    parse::<tramyte_shared::rest::CatalogList>(&call("GET", "/api/catalogs?all=true", None).await?)
        .map(|l| l.catalogs)
}

/// One revision of a criteria set, read through the one catalog parser, with its source as the
/// server sent it (to keep for offline use).
pub async fn catalog(
    code: &str,
    revision: u32,
) -> Result<(tramyte_shared::catalog::Catalog, String), ApiError> {
    let code = js_sys::encode_uri_component(code);
    let text = call(
        "GET",
        &format!("/api/catalogs/{code}?revision={revision}"),
        None,
    )
    .await?;
    let catalog = read_catalog(&text)?;
    Ok((catalog, text))
}

/// A catalog from its JSON, through [`tramyte_shared::catalog::parse_catalog`].
fn read_catalog(json: &str) -> Result<tramyte_shared::catalog::Catalog, ApiError> {
    tramyte_shared::catalog::parse_catalog(json)
        .map_err(|err| ApiError::unreadable(format!("criteria set: {err}")))
}

/// What the server made of an uploaded indicator sheet: valid (`T`), or every problem.
#[derive(Debug, Clone, PartialEq)]
pub enum SheetAnswer<T> {
    Valid(T),
    Problems(Vec<SheetProblem>),
}

/// The XLSX media type.
const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// Sends an indicator sheet as it was picked (the browser reads the file, not the wasm).
async fn send_sheet(path: &str, file: &web_sys::File) -> Result<SheetAnswer<String>, ApiError> {
    let (status, text, retry_after) = send("POST", path, Some(file.as_ref()), XLSX).await?;
    match status {
        200..300 => Ok(SheetAnswer::Valid(text)),
        422 => parse::<tramyte_shared::rest::SheetRefused>(&text)
            .map(|refused| SheetAnswer::Problems(refused.problems)),
        _ => Err(refusal(status, text, retry_after)),
    }
}

/// `POST /api/catalogs/preview`: the criteria set as it will be scored, or every problem.
pub async fn preview_sheet(
    file: &web_sys::File,
) -> Result<SheetAnswer<tramyte_shared::catalog::Catalog>, ApiError> {
    Ok(match send_sheet("/api/catalogs/preview", file).await? {
        SheetAnswer::Valid(text) => {
            let body: serde_json::Value = parse(&text)?;
            SheetAnswer::Valid(read_catalog(&body["catalog"].to_string())?)
        }
        SheetAnswer::Problems(problems) => SheetAnswer::Problems(problems),
    })
}

/// `POST /api/catalogs`: publishes the sheet as the next revision of its code.
pub async fn publish_sheet(file: &web_sys::File) -> Result<SheetAnswer<CatalogSummary>, ApiError> {
    Ok(match send_sheet("/api/catalogs", file).await? {
        SheetAnswer::Valid(text) => SheetAnswer::Valid(parse(&text)?),
        SheetAnswer::Problems(problems) => SheetAnswer::Problems(problems),
    })
}
