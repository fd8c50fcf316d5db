//! The hub task: owns the sans-IO `Hub` and carries out its outputs (frames to connections,
//! loads, persists to the persister, compaction).

use super::persister::QueuedPersist;
use super::*;

/// The hub task's state.
pub(super) struct HubDriver {
    pub(super) hub: Hub,
    /// To the persister task (unbounded like the tasks it replaces: the hub never waits).
    pub(super) persists: mpsc::UnboundedSender<QueuedPersist>,
    pub(super) commands: mpsc::Sender<Command>,
    pub(super) connections: HashMap<ConnId, Outlet>,
    pub(super) who: HashMap<ConnId, Who>,
    pub(super) in_memory: HashSet<DocumentId>,
    pub(super) catalogs: CatalogCache,
    pub(super) store: Store,
    pub(super) tracker: TaskTracker,
    pub(super) started: Instant,
    pub(super) health: Arc<HubHealth>,
    pub(super) metrics: Arc<SyncMetrics>,
}

impl HubDriver {
    pub(super) async fn run(
        mut self,
        receiver: &mut mpsc::Receiver<Command>,
        shutdown: CancellationToken,
    ) {
        match document::actor_bindings(&self.store).await {
            Ok(bindings) => {
                for (actor, user) in bindings {
                    self.hub.bind_actor(actor, user);
                }
            }
            // The storage still refuses a foreign actor when it stores the change.
            Err(err) => tracing::error!(error = %err, "could not load actor bindings"),
        }
        let mut tick = tokio::time::interval(Duration::from_secs(1));
        loop {
            self.health.beat();
            tokio::select! {
                command = receiver.recv() => match command {
                    Some(Command::Register { conn, outbound, who }) => {
                        self.connections.insert(conn, outbound);
                        self.who.insert(conn, who);
                    }
                    Some(Command::Frame(input, permit)) => {
                        self.handle(input);
                        drop(permit);
                    }
                    Some(Command::EndSessions(hashes)) => {
                        let ended: Vec<ConnId> = self
                            .who
                            .iter()
                            .filter(|(_, who)| who.token_hash.as_ref().is_some_and(|h| hashes.contains(h)))
                            .map(|(conn, _)| *conn)
                            .collect();
                        for conn in ended {
                            let reason = "your session ended (signed out, expired or disabled); sign in again".to_owned();
                            self.handle(Input::Kick { conn, reason });
                        }
                    }
                    Some(Command::Input(input)) => self.handle(input),
                    Some(Command::RemoteChange(document)) => self.fetch_remote(document),
                    Some(Command::RemoteChangeAll) => {
                        let documents: Vec<DocumentId> = self.in_memory.iter().copied().collect();
                        for document in documents {
                            self.fetch_remote(document);
                        }
                    }
                    None => break,
                },
                _ = tick.tick() => {
                    let now_ms = i64::try_from(self.started.elapsed().as_millis()).unwrap_or(i64::MAX);
                    self.handle(Input::Tick { now_ms });
                }
                () = shutdown.cancelled(), if self.connections.is_empty() => break,
            }
        }
    }

    fn handle(&mut self, input: Input) {
        if let Input::Disconnected { conn } = &input {
            self.connections.remove(conn);
            self.who.remove(conn);
        }
        if tracing::enabled!(tracing::Level::TRACE) {
            let text: String = match &input {
                Input::Frame { conn, frame, .. } => {
                    let kind = Message::decode(frame).map(|m| m.type_name().to_owned());
                    format!("frame from {}: {kind:?}", conn.0)
                }
                other => format!("{other:?}").chars().take(160).collect(),
            };
            tracing::trace!(input = %text, "hub input");
        }
        let remote = match &input {
            Input::RemoteChunks { document, .. } => Some(*document),
            _ => None,
        };
        let mut queue = vec![input];
        while let Some(input) = queue.pop() {
            for output in self.hub.handle(input) {
                if let Some(more) = self.carry_out(output) {
                    queue.push(more);
                }
            }
        }
        if let Some(document) = remote {
            self.refresh_summary(document);
        }
        self.metrics.set_documents(self.hub.documents_in_memory());
    }

    /// Writes the summary of a document that merged another node's chunks: that node stored
    /// the summary of its own copy, this one may hold changes it had not seen.
    fn refresh_summary(&mut self, document: DocumentId) {
        let Some(facts) = self.facts_of(&document) else {
            return;
        };
        let (store, catalogs) = (self.store.clone(), self.catalogs.clone());
        self.tracker.spawn(async move {
            let record = SummaryRecord::of(&catalogs.summarize(&store, &facts).await);
            let files: Vec<String> = facts.files.iter().cloned().collect();
            let named = (facts.kind != tramyte_shared::summary::Kind::Json).then_some(&files[..]);
            let refreshed = crate::domain::summary::refresh(&store, document, &record, named).await;
            if let Err(err) = refreshed {
                tracing::warn!(%document, error = %err, "could not refresh a summary");
            }
        });
    }

    /// What a summary needs of a document in memory; the people behind unsigned changes made
    /// after a submission are named from the hub's actor bindings.
    fn facts_of(&mut self, document: &DocumentId) -> Option<tramyte_shared::summary::Facts> {
        let mut facts = tramyte_shared::summary::read_facts(self.hub.document_mut(document)?);
        crate::domain::summary::name_devices(&mut facts, |actor| self.hub.actor_user(actor));
        Some(facts)
    }

    /// Carries out one output; returns an input to feed back at once (a dropped connection).
    fn carry_out(&mut self, output: Output) -> Option<Input> {
        if tracing::enabled!(tracing::Level::TRACE) {
            let text: String = match &output {
                Output::Send { conn, frame } => {
                    let kind = Message::decode(frame).map(|m| m.type_name().to_owned());
                    format!("send to {}: {kind:?}", conn.0)
                }
                other => format!("{other:?}").chars().take(160).collect(),
            };
            tracing::trace!(output = %text, "hub output");
        }
        match output {
            Output::Send { conn, frame } => {
                let outlet = self.connections.get(&conn)?;
                let len = frame.len();
                let queued = outlet.queued.load(Ordering::Relaxed);
                // Over its memory budget (one frame always fits an empty queue), or full (a
                // peer that does not read), or gone: drop it; its task closes with an error.
                let over = queued > 0 && queued + len > self.max_connection_memory();
                // Counted before it is queued: the socket task subtracts it once taken.
                outlet.queued.fetch_add(len, Ordering::Relaxed);
                if over || outlet.sender.try_send(Outbound::Frame(frame)).is_err() {
                    if let Some(outlet) = self.connections.remove(&conn)
                        && !outlet.sender.is_closed()
                    {
                        self.metrics.refused("too_slow");
                    }
                    return Some(Input::Disconnected { conn });
                }
            }
            Output::Close { conn, reason } => {
                if let Some(outlet) = self.connections.remove(&conn) {
                    let _ = outlet.sender.try_send(Outbound::Close(reason));
                }
            }
            Output::Refused { reason, .. } => self.metrics.refused(reason),
            Output::PanicContained { document, message } => {
                self.metrics.panic_contained();
                let document = document.map(|d| d.to_string()).unwrap_or_default();
                tracing::error!(%document, %message, "a panic was contained: the document was dropped from memory and its peers closed");
            }
            Output::Load { document } => {
                self.in_memory.insert(document);
                let (store, commands) = (self.store.clone(), self.commands.clone());
                self.tracker.spawn(async move {
                    let outcome = match document::load(&store, document).await {
                        Ok(Some(chunks)) => LoadOutcome::Found(chunks),
                        Ok(None) => LoadOutcome::NotFound,
                        Err(err) => LoadOutcome::Failed(err.to_string()),
                    };
                    let _ = commands
                        .send(Command::Input(Input::Loaded { document, outcome }))
                        .await;
                });
            }
            Output::Persist {
                document,
                ticket,
                chunk,
                created,
                sender,
                changes,
                new_actors,
            } => {
                // Read here, on the hub task, from the document as it is after this change;
                // scored and stored in the persist's own transaction.
                let facts = self.facts_of(&document);
                let who = self.who.get(&sender).cloned().unwrap_or(Who {
                    user: OPEN_MODE_USER.to_owned(),
                    device: "unknown".to_owned(),
                    token_hash: None,
                });
                let created =
                    created.then(|| (DocumentKind::Json, format!("{} ({})", who.user, who.device)));
                let job = PersistJob {
                    id: document,
                    chunk,
                    created,
                    provenance: Provenance {
                        user: who.user,
                        device: who.device,
                        changes,
                        new_actors,
                    },
                    summary: None,
                    files: None,
                    on_revision: None,
                };
                let queued = QueuedPersist { ticket, facts, job };
                if let Err(mpsc::error::SendError(queued)) = self.persists.send(queued) {
                    // The persister is gone (stopping): this change is not stored.
                    return Some(Input::PersistFailed {
                        document,
                        ticket: queued.ticket,
                        error: "the server is stopping".to_owned(),
                    });
                }
            }
            Output::Compact {
                document,
                ticket,
                snapshot,
                replaces,
            } => {
                let (store, commands) = (self.store.clone(), self.commands.clone());
                self.tracker.spawn(async move {
                    let input =
                        match document::compact(&store, document, &snapshot, &replaces).await {
                            Ok(()) => Input::Persisted { document, ticket },
                            Err(err) => Input::PersistFailed {
                                document,
                                ticket,
                                error: err.to_string(),
                            },
                        };
                    let _ = commands.send(Command::Input(input)).await;
                });
            }
            Output::Evicted { document } => {
                self.in_memory.remove(&document);
            }
            Output::Problem { document, message } => {
                let document = document.map(|d| d.to_string()).unwrap_or_default();
                tracing::error!(%document, %message, "sync problem");
            }
        }
        None
    }

    fn max_connection_memory(&self) -> usize {
        usize::try_from(self.hub.config().limits.sync_message.memory_budget).unwrap_or(usize::MAX)
    }

    /// Loads the chunks another node stored, if this node has the document in memory.
    fn fetch_remote(&mut self, document: DocumentId) {
        if !self.in_memory.contains(&document) {
            return;
        }
        let (store, commands) = (self.store.clone(), self.commands.clone());
        self.tracker.spawn(async move {
            match document::load(&store, document).await {
                Ok(Some(chunks)) => {
                    let _ = commands
                        .send(Command::Input(Input::RemoteChunks { document, chunks }))
                        .await;
                }
                Ok(None) => {}
                Err(err) => {
                    tracing::warn!(%document, error = %err, "could not load another node's change")
                }
            }
        });
    }
}
