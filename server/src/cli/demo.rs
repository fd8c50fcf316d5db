//! `tramyte demo`: load the illustrative demo data and print its accounts.

use std::io::Write;

use super::{io, open};
use crate::config::DatabaseArgs;
use crate::store::now_millis;

/// Runs `tramyte demo`: loads what is missing of the demo and prints its accounts.
pub async fn demo(database: &DatabaseArgs, out: &mut impl Write) -> Result<(), String> {
    let store = open(&database.url()).await?;
    let result = crate::demo::load(&store, true, now_millis()).await;
    store.close().await;
    let loaded = result.map_err(|err| format!("loading the demo: {err}"))?;
    print_demo(&loaded, out)
}

/// Prints what loading the demo did and the demo accounts with their passwords.
pub fn print_demo(loaded: &crate::demo::Loaded, out: &mut impl Write) -> Result<(), String> {
    writeln!(
        out,
        "Demo data (round {}: Thanh Hóa's district of Thiệu Hóa, 13 communes, and Hà Nội's Long Biên, 14 wards; this year's round: 8 communes under Thanh Hóa reviewed by a regional health centre; fictional people, illustrative codes and names): {} documents created",
        crate::demo::ROUND,
        loaded.documents
    )
    .map_err(io)?;
    if loaded.accounts.is_empty() {
        return Ok(());
    }
    writeln!(
        out,
        "Demo accounts (passwords shown once; `tramyte demo` sets new ones):"
    )
    .map_err(io)?;
    for account in &loaded.accounts {
        writeln!(
            out,
            "  {:<16} {:<22} {}",
            account.user,
            account.role.as_str(),
            account.password
        )
        .map_err(io)?;
    }
    Ok(())
}
