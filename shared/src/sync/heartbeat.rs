//! Whether the connection to the server is alive, as a page can tell, and when to try again.
//!
//! Browsers neither send nor show websocket pings, and a connection whose network went away
//! silently can look open for minutes. So the client asks the server something it always
//! answers: a `request` for [`HEARTBEAT_DOCUMENT`], a document id that never exists, which the
//! hub answers with `doc-unavailable` at once, without touching storage. That is plain protocol
//! (automerge-repo's own clients may send it and get the same answer), so the official JS
//! client keeps working. A probe goes when nothing was heard for [`PROBE_AFTER_IDLE_MS`]; if no
//! frame arrives within the answer window the connection is dead: with a tick every
//! [`TICK_MS`], a connection that goes silent is given up within
//! `PROBE_AFTER_IDLE_MS + ANSWER_WITHIN_MS + 2 × TICK_MS` = 9 s.
//!
//! A slow link that is busy delivering one large frame hears nothing until the frame is whole;
//! giving up on it would start the same download again and again. So each give-up doubles the
//! answer window (up to [`MAX_ANSWER_WITHIN_MS`]) and a probe answered in time brings it back.
//!
//! Pure and clock-free: the driver passes the time (unix milliseconds) and a random number.

use super::document_id::DocumentId;

/// The document id of the heartbeat: 16 zero bytes, reserved (never created, never stored).
pub const HEARTBEAT_DOCUMENT: DocumentId = DocumentId::from_bytes([0; 16]);
/// How often the driver calls [`Heartbeat::tick`].
pub const TICK_MS: i64 = 1_000;
/// A probe goes after this long without a frame from the server.
pub const PROBE_AFTER_IDLE_MS: i64 = 3_000;
/// The answer window of a probe, at first and after an answer in time.
pub const ANSWER_WITHIN_MS: i64 = 4_000;
/// The widest answer window (a slow link delivering a large frame).
pub const MAX_ANSWER_WITHIN_MS: i64 = 60_000;
/// From opening the socket to the server's `peer` answer.
pub const CONNECT_WITHIN_MS: i64 = 10_000;
/// The first retry waits about this long; each failed attempt doubles it.
pub const FIRST_RETRY_MS: i64 = 1_000;
/// The longest wait between attempts.
pub const MAX_RETRY_MS: i64 = 30_000;

/// What the driver does after a tick.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Beat {
    /// Nothing.
    Wait,
    /// Send the heartbeat frame ([`super::client::Client::heartbeat`]).
    Probe,
    /// The connection is dead: drop the socket at once (do not wait for its close) and retry.
    Dead,
}

#[derive(Debug, Clone, Copy)]
struct Connection {
    opened_at: i64,
    ready: bool,
    last_heard: i64,
    probe_sent: Option<i64>,
}

/// The liveness of the current connection, and the retry schedule.
#[derive(Debug, Clone)]
pub struct Heartbeat {
    connection: Option<Connection>,
    answer_within: i64,
    failed_attempts: u32,
}

impl Default for Heartbeat {
    fn default() -> Self {
        Heartbeat::new()
    }
}

impl Heartbeat {
    /// No connection yet.
    pub fn new() -> Heartbeat {
        Heartbeat {
            connection: None,
            answer_within: ANSWER_WITHIN_MS,
            failed_attempts: 0,
        }
    }

    /// A socket is being opened.
    pub fn connecting(&mut self, now: i64) {
        self.connection = Some(Connection {
            opened_at: now,
            ready: false,
            last_heard: now,
            probe_sent: None,
        });
    }

    /// The server answered the handshake: the connection is up.
    pub fn ready(&mut self, now: i64) {
        if let Some(connection) = self.connection.as_mut() {
            connection.ready = true;
            connection.last_heard = now;
        }
        self.failed_attempts = 0;
    }

    /// A frame arrived from the server (any frame proves the connection alive).
    pub fn heard(&mut self, now: i64) {
        if let Some(connection) = self.connection.as_mut() {
            if let Some(sent) = connection.probe_sent.take()
                && now - sent < ANSWER_WITHIN_MS
            {
                self.answer_within = ANSWER_WITHIN_MS;
            }
            connection.last_heard = now;
        }
    }

    /// The connection ended (closed, dropped, or given up).
    pub fn closed(&mut self) {
        self.connection = None;
    }

    /// Whether the connection is open and answering.
    pub fn is_alive(&self) -> bool {
        self.connection.is_some_and(|c| c.ready)
    }

    /// The answer window now in force.
    pub fn answer_within(&self) -> i64 {
        self.answer_within
    }

    /// Called every [`TICK_MS`].
    pub fn tick(&mut self, now: i64) -> Beat {
        let Some(connection) = self.connection.as_mut() else {
            return Beat::Wait;
        };
        if !connection.ready {
            if now - connection.opened_at >= CONNECT_WITHIN_MS {
                self.connection = None;
                return Beat::Dead;
            }
            return Beat::Wait;
        }
        match connection.probe_sent {
            Some(sent) if now - sent >= self.answer_within => {
                self.connection = None;
                self.answer_within = (self.answer_within * 2).min(MAX_ANSWER_WITHIN_MS);
                Beat::Dead
            }
            Some(_) => Beat::Wait,
            None if now - connection.last_heard >= PROBE_AFTER_IDLE_MS => {
                connection.probe_sent = Some(now);
                Beat::Probe
            }
            None => Beat::Wait,
        }
    }

    /// How long to wait before the next attempt to connect: exponential backoff from
    /// [`FIRST_RETRY_MS`] to [`MAX_RETRY_MS`], with jitter (between half and all of it, from
    /// `random` in `[0, 1)`) so that phones that lost the same network do not all come back at
    /// the same moment. Counts the attempt.
    pub fn next_retry(&mut self, random: f64) -> i64 {
        let exponent = self.failed_attempts.min(16);
        self.failed_attempts = self.failed_attempts.saturating_add(1);
        let full = FIRST_RETRY_MS
            .saturating_mul(1_i64 << exponent)
            .min(MAX_RETRY_MS);
        let random = if random.is_finite() {
            random.clamp(0.0, 1.0)
        } else {
            0.5
        };
        full / 2 + (full as f64 / 2.0 * random) as i64
    }

    /// The network is back: the next attempt waits the shortest time again.
    pub fn reset_backoff(&mut self) {
        self.failed_attempts = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Ticks from `from` to `to` (inclusive) every [`TICK_MS`]; the beats that were not `Wait`.
    fn run(heartbeat: &mut Heartbeat, from: i64, to: i64) -> Vec<(i64, Beat)> {
        (0..)
            .map(|i| from + i * TICK_MS)
            .take_while(|t| *t <= to)
            .filter_map(|t| match heartbeat.tick(t) {
                Beat::Wait => None,
                beat => Some((t, beat)),
            })
            .collect()
    }

    #[test]
    fn a_connection_that_goes_silent_is_given_up_within_ten_seconds() {
        let mut heartbeat = Heartbeat::new();
        heartbeat.connecting(0);
        heartbeat.ready(500);
        // The last frame arrives between two ticks, then nothing ever again.
        heartbeat.heard(1_001);
        let beats = run(&mut heartbeat, 1_000, 30_000);
        assert_eq!(beats[0], (5_000, Beat::Probe));
        assert_eq!(beats[1], (9_000, Beat::Dead));
        assert!(beats[1].0 - 1_001 < 10_000);
        assert_eq!(beats.len(), 2, "nothing after the give-up");
        assert!(!heartbeat.is_alive());
    }

    #[test]
    fn a_connection_that_answers_is_kept_with_one_probe_per_quiet_spell() {
        let mut heartbeat = Heartbeat::new();
        heartbeat.connecting(0);
        heartbeat.ready(0);
        let mut probes = 0;
        for t in (1..=60).map(|i| i * TICK_MS) {
            match heartbeat.tick(t) {
                Beat::Probe => {
                    probes += 1;
                    heartbeat.heard(t + 150);
                }
                Beat::Dead => panic!("given up at {t}"),
                Beat::Wait => {}
            }
        }
        assert!(heartbeat.is_alive());
        assert_eq!(probes, 15, "one probe every 4 s of a quiet minute");
    }

    #[test]
    fn a_handshake_that_never_comes_is_given_up() {
        let mut heartbeat = Heartbeat::new();
        heartbeat.connecting(0);
        assert_eq!(run(&mut heartbeat, 0, 20_000), vec![(10_000, Beat::Dead)]);
    }

    #[test]
    fn a_slow_link_gets_a_wider_window_after_each_give_up_and_the_normal_one_once_it_answers() {
        let mut heartbeat = Heartbeat::new();
        for expected in [4_000, 8_000, 16_000, 32_000, 60_000, 60_000] {
            assert_eq!(heartbeat.answer_within(), expected);
            heartbeat.connecting(0);
            heartbeat.ready(0);
            let beats = run(&mut heartbeat, 0, 200_000);
            assert_eq!(
                beats,
                vec![(3_000, Beat::Probe), (3_000 + expected, Beat::Dead)]
            );
        }
        heartbeat.connecting(0);
        heartbeat.ready(0);
        assert_eq!(heartbeat.tick(3_000), Beat::Probe);
        heartbeat.heard(3_200);
        assert_eq!(heartbeat.answer_within(), ANSWER_WITHIN_MS);
    }

    #[test]
    fn retries_back_off_exponentially_with_jitter_and_start_over_once_connected() {
        let mut heartbeat = Heartbeat::new();
        let lowest: Vec<i64> = (0..7).map(|_| heartbeat.next_retry(0.0)).collect();
        assert_eq!(
            lowest,
            vec![500, 1_000, 2_000, 4_000, 8_000, 15_000, 15_000]
        );
        assert_eq!(heartbeat.next_retry(0.999_999), 29_999);
        heartbeat.connecting(0);
        heartbeat.ready(10);
        assert_eq!(heartbeat.next_retry(1.0), 1_000);
        heartbeat.reset_backoff();
        assert_eq!(heartbeat.next_retry(f64::NAN), 750);
    }
}
