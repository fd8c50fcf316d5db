//! What the hub hears from outside: sessions that ended (their sockets close) and, on
//! PostgreSQL, other nodes' stored chunks (`NOTIFY tramyte_chunks`).

use super::*;

/// How often connections are checked against revoked and expired sessions.
pub(super) const SESSION_CHECK: Duration = Duration::from_secs(2);

/// Closes the connections of sessions that were revoked (sign-out, disabled user, new password,
/// on any node or from the command line) or that expired.
pub(super) async fn watch_sessions(
    store: Store,
    commands: mpsc::Sender<Command>,
    shutdown: CancellationToken,
) {
    let mut since = crate::store::now_millis();
    let mut interval = tokio::time::interval(SESSION_CHECK);
    loop {
        tokio::select! {
            _ = interval.tick() => {}
            () = shutdown.cancelled() => return,
        }
        let now = crate::store::now_millis();
        match crate::domain::account::sessions_ended_since(&store, since, now).await {
            Ok(hashes) => {
                since = now;
                if !hashes.is_empty() && commands.send(Command::EndSessions(hashes)).await.is_err()
                {
                    return;
                }
            }
            Err(err) => tracing::warn!(error = %err, "could not check for ended sessions"),
        }
    }
}

/// Listens for other nodes' `NOTIFY tramyte_chunks` and tells the hub task.
pub(super) async fn listen_for_other_nodes(
    pool: sqlx::PgPool,
    node: String,
    commands: mpsc::Sender<Command>,
    shutdown: CancellationToken,
) {
    let mut listener = loop {
        match sqlx::postgres::PgListener::connect_with(&pool).await {
            Ok(mut listener) => match listener.listen(document::CHUNKS_CHANNEL).await {
                Ok(()) => {
                    // Clients may have opened documents before this node was listening: what
                    // other nodes stored meanwhile is read now.
                    if commands.send(Command::RemoteChangeAll).await.is_err() {
                        return;
                    }
                    break listener;
                }
                Err(err) => tracing::warn!(error = %err, "cannot LISTEN for other nodes; retrying"),
            },
            Err(err) => {
                tracing::warn!(error = %err, "cannot connect a listener for other nodes; retrying")
            }
        }
        tokio::select! {
            () = tokio::time::sleep(Duration::from_secs(2)) => {}
            () = shutdown.cancelled() => return,
        }
    };
    loop {
        tokio::select! {
            notification = listener.recv() => match notification {
                Ok(notification) => {
                    let mut parts = notification.payload().split(' ');
                    let (Some(from), Some(id)) = (parts.next(), parts.next()) else { continue };
                    if from == node {
                        continue;
                    }
                    if let Ok(document) = DocumentId::parse(id)
                        && commands.send(Command::RemoteChange(document)).await.is_err()
                    {
                        return;
                    }
                }
                // PgListener reconnects by itself on the next `recv`; notifications sent while it
                // was away are lost, so once it has had a moment to reconnect, every document in
                // memory is read again.
                Err(err) => {
                    tracing::warn!(error = %err, "listening for other nodes failed");
                    let commands = commands.clone();
                    tokio::spawn(async move {
                        tokio::time::sleep(Duration::from_secs(1)).await;
                        let _ = commands.send(Command::RemoteChangeAll).await;
                    });
                }
            },
            () = shutdown.cancelled() => return,
        }
    }
}
