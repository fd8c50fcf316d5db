//! Administration (quản trị) for provincial and system administrators: users (add with a
//! generated password shown once, disable, enable, new password) and organisation units (CSV
//! import validated whole by the server, CSV export). Needs the network.
//!
//! The page offers only what the administrator manages: roles up to their own, the units of
//! their subtree (as the server lists them), the users attached there; the server refuses
//! anything else, and its reason is shown.

use leptos::prelude::*;
use tramyte_shared::policy::Role;

use crate::api::{self, ManagedUnit, ManagedUser};
use crate::i18n::use_i18n;
use crate::page::{api_problem, role_name};
use crate::session::use_session;

/// The roles `own` may give: none above its own.
fn roles_up_to(own: Option<Role>) -> Vec<Role> {
    let rank = |role: Role| Role::ALL.iter().position(|r| *r == role);
    Role::ALL
        .into_iter()
        .filter(|r| own.is_some_and(|own| rank(*r) <= rank(own)))
        .collect()
}

/// A password of 14 letters and digits (no look-alikes), from the browser's random source.
fn generate_password() -> String {
    const ALPHABET: &[u8] = b"abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut bytes = [0u8; 14];
    let crypto = web_sys::window().and_then(|w| w.crypto().ok());
    if let Some(crypto) = crypto {
        let _ = crypto.get_random_values_with_u8_array(&mut bytes);
    }
    bytes
        .iter()
        .map(|b| ALPHABET[usize::from(*b) % ALPHABET.len()] as char)
        .collect()
}

/// `/admin`.
#[component]
pub fn AdminPage() -> impl IntoView {
    let i18n = use_i18n();
    let own_role = use_session()
        .me
        .with_untracked(|me| me.as_ref().map(|m| m.user.role));
    let roles = roles_up_to(own_role);
    let users = RwSignal::new(Vec::<ManagedUser>::new());
    let managed_units = RwSignal::new(None::<Vec<ManagedUnit>>);
    let problem = RwSignal::new(None::<String>);
    let notice = RwSignal::new(None::<String>);
    let reload = move || {
        leptos::task::spawn_local(async move {
            match api::users().await {
                Ok(list) => users.set(list),
                Err(err) => problem.set(Some(api_problem(i18n, &err))),
            }
            match api::units().await {
                Ok(list) => managed_units.set(Some(list)),
                Err(err) => problem.set(Some(api_problem(i18n, &err))),
            }
        });
    };
    reload();
    // The add-user form.
    let id = RwSignal::new(String::new());
    let name = RwSignal::new(String::new());
    let role = RwSignal::new(Role::StationStaff);
    let units = RwSignal::new(String::new());
    let add = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let user = ManagedUser {
            id: id.get_untracked().trim().to_owned(),
            display_name: name.get_untracked().trim().to_owned(),
            role: role.get_untracked(),
            person: None,
            disabled: false,
            units: units
                .get_untracked()
                .split([',', ' '])
                .filter(|u| !u.is_empty())
                .map(str::to_owned)
                .collect(),
        };
        let unknown: Vec<String> = managed_units.with_untracked(|known| {
            let Some(known) = known else {
                return Vec::new();
            };
            user.units
                .iter()
                .filter(|code| !known.iter().any(|u| &u.code == *code))
                .cloned()
                .collect()
        });
        if !unknown.is_empty() {
            problem.set(Some(format!(
                "{}: {}",
                i18n.pick("Không phải đơn vị bạn quản lý", "Not a unit you manage"),
                unknown.join(", ")
            )));
            return;
        }
        let password = generate_password();
        leptos::task::spawn_local(async move {
            match api::add_user(&user, &password).await {
                Ok(()) => {
                    notice.set(Some(format!(
                        "{} {} — {}: {password}",
                        i18n.pick("Đã thêm", "Added"),
                        user.id,
                        i18n.pick("mật khẩu (chỉ hiện một lần)", "password (shown once)")
                    )));
                    problem.set(None);
                    id.set(String::new());
                    name.set(String::new());
                    units.set(String::new());
                    reload();
                }
                Err(err) => problem.set(Some(api_problem(i18n, &err))),
            }
        });
    };
    let csv = RwSignal::new(String::new());
    let import = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let text = csv.get_untracked();
        leptos::task::spawn_local(async move {
            match api::import_units(&text).await {
                Ok(n) => {
                    notice.set(Some(format!(
                        "{} {n}",
                        i18n.pick("Đã nhập đơn vị:", "Units imported:")
                    )));
                    problem.set(None);
                    csv.set(String::new());
                    reload();
                }
                Err(err) => problem.set(Some(api_problem(i18n, &err))),
            }
        });
    };
    view! {
        <nav class="crumbs"><a href="/">{i18n.pick_fn("← Trang chính", "← Home")}</a></nav>
        <section class="card">
            <h1>{i18n.pick_fn("Quản trị", "Administration")}</h1>
            <Show when=move || notice.with(Option::is_some)>
                <p class="notice" role="status" data-testid="admin-notice">{move || notice.get()}</p>
            </Show>
            {crate::page::problem_line(problem.read_only(), "error", "alert")}
            <h2>{i18n.pick_fn("Thêm người dùng", "Add a user")}</h2>
            <form class="form" on:submit=add>
                <label><span>{i18n.pick_fn("Tên đăng nhập mới", "New user name")}</span>
                    <input type="text" required autocapitalize="none" prop:value=move || id.get()
                        on:input=move |ev| id.set(event_target_value(&ev))/></label>
                <label><span>{i18n.pick_fn("Họ và tên", "Full name")}</span>
                    <input type="text" required prop:value=move || name.get()
                        on:input=move |ev| name.set(event_target_value(&ev))/></label>
                <label><span>{i18n.pick_fn("Vai trò", "Role")}</span>
                    <select on:change=move |ev| { if let Some(r) = Role::parse(&event_target_value(&ev)) { role.set(r) } }>
                        {roles.into_iter().map(|r| view! {
                            <option value=r.as_str() selected=r == Role::StationStaff>{move || role_name(i18n, r)}</option>
                        }).collect_view()}
                    </select></label>
                <label><span>{i18n.pick_fn("Mã đơn vị (cách nhau bởi dấu phẩy)", "Unit codes (comma separated)")}</span>
                    <input type="text" list="managed-units" prop:value=move || units.get()
                        on:input=move |ev| units.set(event_target_value(&ev))/></label>
                <datalist id="managed-units">
                    {move || managed_units.get().unwrap_or_default().into_iter().map(|u| view! {
                        <option value=u.code.clone()>{format!("{} ({})", u.name, u.kind)}</option>
                    }).collect_view()}
                </datalist>
                <button type="submit">{i18n.pick_fn("Thêm người dùng", "Add the user")}</button>
            </form>
        </section>
        <section class="card">
            <h2>{i18n.pick_fn("Người dùng", "Users")}</h2>
            <ul class="overview-rows" data-testid="users">
                <For each=move || users.get() key=|u| (u.id.clone(), u.disabled) let:user>
                    <UserRow user=user notice=notice problem=problem on_change=reload/>
                </For>
            </ul>
        </section>
        <section class="card">
            <h2>{i18n.pick_fn("Đơn vị", "Units")}</h2>
            <p><a href="/api/units" download="units.csv">{i18n.pick_fn("Tải danh sách đơn vị (CSV)", "Download the units (CSV)")}</a></p>
            <form class="form" on:submit=import>
                <label><span>{i18n.pick_fn("Nhập đơn vị từ CSV (code,kind,name,parent,unit_type,covers)", "Import units from CSV (code,kind,name,parent,unit_type,covers)")}</span>
                    <textarea rows="6" prop:value=move || csv.get() on:input=move |ev| csv.set(event_target_value(&ev))></textarea></label>
                <button type="submit">{i18n.pick_fn("Nhập", "Import")}</button>
            </form>
        </section>
    }
}

#[component]
fn UserRow(
    user: ManagedUser,
    notice: RwSignal<Option<String>>,
    problem: RwSignal<Option<String>>,
    on_change: impl Fn() + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let i18n = use_i18n();
    let id = user.id.clone();
    let toggle = {
        let id = id.clone();
        let disabled = user.disabled;
        move |_| {
            let id = id.clone();
            leptos::task::spawn_local(async move {
                match api::set_disabled(&id, !disabled).await {
                    Ok(()) => on_change(),
                    Err(err) => problem.set(Some(api_problem(i18n, &err))),
                }
            });
        }
    };
    let reset = {
        let id = id.clone();
        move |_| {
            let id = id.clone();
            let password = generate_password();
            leptos::task::spawn_local(async move {
                match api::reset_password(&id, &password).await {
                    Ok(()) => notice.set(Some(format!(
                        "{id} — {}: {password}",
                        i18n.pick(
                            "mật khẩu mới (chỉ hiện một lần)",
                            "new password (shown once)"
                        )
                    ))),
                    Err(err) => problem.set(Some(api_problem(i18n, &err))),
                }
            });
        }
    };
    let role = user.role;
    view! {
        <li class:left=user.disabled data-user=user.id.clone()>
            <strong>{user.display_name.clone()}</strong>
            <span class="hint">{user.id.clone()}" · "{move || role_name(i18n, role)}" · "{user.units.join(", ")}</span>
            <button type="button" class="secondary small" on:click=toggle>
                {move || if user.disabled { i18n.pick("Mở khoá", "Enable") } else { i18n.pick("Khoá", "Disable") }}
            </button>
            <button type="button" class="secondary small" on:click=reset>
                {i18n.pick_fn("Đặt mật khẩu mới", "New password")}
            </button>
        </li>
    }
}
