//! `tramyte user …`: add, list, disable, enable users (người dùng) and reset passwords.

use std::io::Write;

use tramyte_shared::policy::Role;

use super::{io, open};
use crate::config::UserCommand;
use crate::domain::account::{self, NewUser};

/// Runs `tramyte user …`.
pub async fn user(command: UserCommand, out: &mut impl Write) -> Result<(), String> {
    match command {
        UserCommand::Add {
            id,
            name,
            role,
            unit,
            person,
            password_stdin,
            database,
        } => {
            let role = Role::parse(&role).ok_or_else(|| {
                let roles: Vec<&str> = Role::ALL.iter().map(|r| r.as_str()).collect();
                format!("role `{role}` is not one of {}", roles.join(", "))
            })?;
            let (password, generated) = password(password_stdin)?;
            let store = open(&database.url()).await?;
            let new = NewUser {
                id: id.clone(),
                display_name: name,
                role,
                person,
                units: unit,
                password: password.clone(),
            };
            let result = account::add_user(&store, &new).await;
            store.close().await;
            result.map_err(|err| err.to_string())?;
            writeln!(out, "added {id} ({})", role.as_str()).map_err(io)?;
            if generated {
                writeln!(out, "password: {password}").map_err(io)?;
            }
        }
        UserCommand::List { database } => {
            let store = open(&database.url()).await?;
            let result = account::list_users(&store).await;
            store.close().await;
            for user in result.map_err(|err| err.to_string())? {
                let state = if user.disabled { "disabled" } else { "active" };
                writeln!(
                    out,
                    "{}\t{}\t{}\t{}\t{}",
                    user.id,
                    user.role.as_str(),
                    state,
                    user.units.join(","),
                    user.display_name
                )
                .map_err(io)?;
            }
        }
        UserCommand::Disable { id, database } => {
            let store = open(&database.url()).await?;
            let result = account::set_disabled(&store, &id, true).await;
            store.close().await;
            result.map_err(|err| err.to_string())?;
            writeln!(out, "disabled {id}; their sessions have ended").map_err(io)?;
        }
        UserCommand::Enable { id, database } => {
            let store = open(&database.url()).await?;
            let result = account::set_disabled(&store, &id, false).await;
            store.close().await;
            result.map_err(|err| err.to_string())?;
            writeln!(out, "enabled {id}").map_err(io)?;
        }
        UserCommand::ResetPassword {
            id,
            password_stdin,
            database,
        } => {
            let (password, generated) = password(password_stdin)?;
            let store = open(&database.url()).await?;
            let result = account::reset_password(&store, &id, &password).await;
            store.close().await;
            result.map_err(|err| err.to_string())?;
            writeln!(out, "new password set for {id}; their sessions have ended").map_err(io)?;
            if generated {
                writeln!(out, "password: {password}").map_err(io)?;
            }
        }
    }
    Ok(())
}

/// The password to set: the first line of stdin, or a generated one (and whether it was).
fn password(from_stdin: bool) -> Result<(String, bool), String> {
    if from_stdin {
        let mut line = String::new();
        std::io::stdin()
            .read_line(&mut line)
            .map_err(|err| format!("cannot read the password: {err}"))?;
        return Ok((line.trim_end_matches(['\r', '\n']).to_owned(), false));
    }
    Ok((account::generate_password()?, true))
}
