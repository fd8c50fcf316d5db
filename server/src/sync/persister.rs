//! The persister task: group commits of the chunks the hub emits, each chunk reported
//! persisted only after its commit.

use super::*;

/// A persist the hub asked for, waiting for its turn in a group commit.
pub(super) struct QueuedPersist {
    pub(super) ticket: Ticket,
    /// The document as it is after this chunk, read on the hub task; scored by the persister.
    pub(super) facts: Option<tramyte_shared::summary::Facts>,
    pub(super) job: PersistJob,
}

/// Chunks stored in one transaction at most.
pub(super) const MAX_GROUP: usize = 256;

/// With fewer chunks than this waiting, a group waits [`COMMIT_WINDOW`] for more before it
/// commits: at moderate rates (phones' pace, or the official JavaScript clients, 1,000–1,800
/// changes/s here) groups were small and each change paid a commit and its wake-ups of its own.
/// Measured (docs/measurements.md): 1 ms below 8 took server CPU per change 0.36–0.39 → 0.23 ms
/// with our paced clients and 0.53 → 0.29 ms with the official `raw` clients; 4 ms below 32 then
/// took the `raw` clients' 0.295–0.304 → 0.217–0.229 ms on SQLite (0.251 → 0.207–0.212 on
/// PostgreSQL), with more changes acknowledged per second and p95 no higher; unchanged at full
/// speed, where groups are large anyway. A change's acknowledgement waits at most this much
/// longer: nothing beside a phone network's round trip.
const WINDOW_BELOW: usize = 32;
/// How long a small group waits for more chunks (see [`WINDOW_BELOW`]).
const COMMIT_WINDOW: Duration = Duration::from_millis(4);

/// Takes what is queued into `group`, up to [`MAX_GROUP`].
fn drain(queue: &mut mpsc::UnboundedReceiver<QueuedPersist>, group: &mut Vec<QueuedPersist>) {
    while group.len() < MAX_GROUP {
        match queue.try_recv() {
            Ok(more) => group.push(more),
            Err(_) => break,
        }
    }
}

/// Group commits under way at once: SQLite has one writer (more would only queue on
/// [`with_write_pool!`](crate::with_write_pool)); PostgreSQL overlaps two (measured on two
/// cores: four gave lower throughput and a higher p95).
pub(super) fn group_commits(store: &Store) -> usize {
    if store.is_postgres() { 2 } else { 1 }
}

/// Stores the chunks the hub emits. While a group commit is under way, newly emitted chunks
/// queue; the next group takes all of them (up to [`MAX_GROUP`], after a short wait when they are
/// few: [`COMMIT_WINDOW`]) in one transaction, and only
/// after it commits is each one reported [`Input::Persisted`] to the hub. If a group fails, each
/// of its chunks is stored again alone, so one refused chunk (a foreign actor) fails only
/// itself, exactly as if it had been stored alone in the first place.
pub(super) struct Persister {
    pub(super) store: Store,
    pub(super) node: String,
    pub(super) catalogs: CatalogCache,
    pub(super) commands: mpsc::Sender<Command>,
    pub(super) tracker: TaskTracker,
    pub(super) metrics: Arc<SyncMetrics>,
}

impl Persister {
    pub(super) async fn run(self, mut queue: mpsc::UnboundedReceiver<QueuedPersist>) {
        let this = Arc::new(self);
        let slots = Arc::new(tokio::sync::Semaphore::new(group_commits(&this.store)));
        loop {
            let Ok(slot) = slots.clone().acquire_owned().await else {
                return;
            };
            let Some(first) = queue.recv().await else {
                return;
            };
            let mut group = vec![first];
            drain(&mut queue, &mut group);
            if group.len() < WINDOW_BELOW {
                // Few waiting: a moment more lets a commit carry what arrives meanwhile.
                tokio::time::sleep(COMMIT_WINDOW).await;
                drain(&mut queue, &mut group);
            }
            let persister = this.clone();
            this.tracker.spawn(async move {
                persister.store_group(group).await;
                drop(slot);
            });
        }
    }

    async fn store_group(&self, group: Vec<QueuedPersist>) {
        let mut tickets = Vec::with_capacity(group.len());
        let mut jobs = Vec::with_capacity(group.len());
        for QueuedPersist {
            ticket,
            facts,
            mut job,
        } in group
        {
            if let Some(facts) = &facts {
                let summary = self.catalogs.summarize(&self.store, facts).await;
                job.summary = Some(SummaryRecord::of(&summary));
                // Only assessments and rosters name files: other documents cost no statement.
                if facts.kind != tramyte_shared::summary::Kind::Json {
                    job.files = Some(facts.files.iter().cloned().collect());
                }
            }
            tickets.push((job.id, ticket));
            jobs.push(job);
        }
        let now = crate::store::now_millis();
        let commit_started = Instant::now();
        let results: Vec<Result<(), String>> =
            match document::persist(&self.store, &jobs, &self.node, now).await {
                Ok(()) => {
                    self.metrics.committed(jobs.len(), commit_started.elapsed());
                    vec![Ok(()); jobs.len()]
                }
                Err(err) if jobs.len() == 1 => vec![Err(err.to_string())],
                Err(_) => {
                    let mut results = Vec::with_capacity(jobs.len());
                    for job in &jobs {
                        let result = document::persist(
                            &self.store,
                            std::slice::from_ref(job),
                            &self.node,
                            now,
                        )
                        .await
                        .map_err(|err| err.to_string());
                        results.push(result);
                    }
                    results
                }
            };
        for ((document, ticket), result) in tickets.into_iter().zip(results) {
            let input = match result {
                Ok(()) => Input::Persisted { document, ticket },
                Err(error) => Input::PersistFailed {
                    document,
                    ticket,
                    error,
                },
            };
            if self.commands.send(Command::Input(input)).await.is_err() {
                return;
            }
        }
    }
}
