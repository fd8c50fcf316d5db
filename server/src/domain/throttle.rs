//! Sign-in throttling (hạn chế đăng nhập sai): delays that grow with failed sign-ins, counted
//! per (account, address) and per address across accounts, never a lock on the account.
//!
//! Why not a lock: a lock on the account after N failures lets anyone lock every reviewer out
//! by typing wrong passwords for them. Here a stranger's failures delay only the stranger's
//! address: the person at their own address signs in as usual. One address trying one
//! password on many accounts is slowed by its own counter ([`PER_ADDRESS`]).
//!
//! The counters live in the database (`sign_in_throttle`), so every node sharing it counts the
//! same failures. An attempt *claims* its counters before the password is checked, as if it
//! were going to fail (a compare-and-set on each row's `generation`), so a burst of parallel
//! attempts cannot all slip through before the first failure is recorded; a right password
//! gives the claim back. A refused attempt changes nothing and says when to come back
//! ([`Throttled::retry_after_secs`], the HTTP `Retry-After`).

use std::net::IpAddr;

use crate::store::throttle::{self, Counts, ThrottleKey};
use crate::store::{Store, StoreError};

/// How failures turn into delays.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rule {
    /// Failures that cost nothing (typos).
    pub free_failures: i64,
    /// The wait after the first failure beyond those; each further failure doubles it.
    pub first_delay_millis: i64,
    /// The longest wait.
    pub max_delay_millis: i64,
}

/// Per account and address: 3 free failures, then 1 s, 2 s, 4 s… up to 15 minutes.
pub const PER_ACCOUNT_AND_ADDRESS: Rule = Rule {
    free_failures: 3,
    first_delay_millis: 1_000,
    max_delay_millis: 15 * 60 * 1000,
};

/// Per address, across accounts: 10 free failures, then 1 s, 2 s, 4 s… up to 15 minutes.
/// More generous than per account because people behind one address (a station's router, a
/// mobile operator's NAT) share it.
pub const PER_ADDRESS: Rule = Rule {
    free_failures: 10,
    first_delay_millis: 1_000,
    max_delay_millis: 15 * 60 * 1000,
};

/// Failures are forgotten once this long has passed since the last one (and its wait is over).
pub const FORGET_AFTER_MILLIS: i64 = 60 * 60 * 1000;

/// How often an attempt retries a claim that another attempt changed under it.
const CLAIM_TRIES: usize = 4;

impl Rule {
    /// The wait after the `failures`-th failure in a row.
    pub fn delay_millis(&self, failures: i64) -> i64 {
        let beyond = failures - self.free_failures;
        if beyond <= 0 {
            return 0;
        }
        let doublings = u32::try_from(beyond - 1).unwrap_or(u32::MAX).min(40);
        self.first_delay_millis
            .saturating_mul(1_i64 << doublings)
            .min(self.max_delay_millis)
    }
}

/// One counter as stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Counter {
    pub failures: i64,
    pub last_failure_at: i64,
    /// No attempt is taken before this time (milliseconds since the epoch).
    pub next_allowed_at: i64,
}

impl Counter {
    /// The counter as it counts at `now`: forgotten once long quiet.
    pub fn at(self, now: i64) -> Counter {
        if now - self.last_failure_at >= FORGET_AFTER_MILLIS && self.next_allowed_at <= now {
            Counter::default()
        } else {
            self
        }
    }

    /// The counter once an attempt at `now` has failed.
    pub fn failed(self, rule: &Rule, now: i64) -> Counter {
        let failures = self.at(now).failures + 1;
        Counter {
            failures,
            last_failure_at: now,
            next_allowed_at: now + rule.delay_millis(failures),
        }
    }

    /// Whole seconds to wait at `now` before the next attempt (0: none).
    pub fn wait_secs(&self, now: i64) -> i64 {
        let millis = self.at(now).next_allowed_at - now;
        if millis <= 0 {
            0
        } else {
            (millis + 999) / 1000
        }
    }
}

/// An attempt refused for now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Throttled {
    /// Seconds until the next attempt is taken (at least 1).
    pub retry_after_secs: i64,
}

/// What a client's address counts as: an IPv4 address, or the /64 network of an IPv6 address
/// (one household or phone gets a whole /64).
pub fn address_key(ip: IpAddr) -> String {
    match ip.to_canonical() {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => {
            let s = v6.segments();
            format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
        }
    }
}

/// Which counter.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Key {
    /// `account` (per account and address) or `address` (per address).
    scope: &'static str,
    /// The user name as typed (at most 64 characters); empty for the per-address counter.
    account: String,
    address: String,
}

impl Key {
    fn rule(&self) -> &'static Rule {
        if self.scope == "address" {
            &PER_ADDRESS
        } else {
            &PER_ACCOUNT_AND_ADDRESS
        }
    }
}

/// A counter this attempt claimed, and how to give it back.
#[derive(Debug, Clone)]
struct Claimed {
    key: Key,
    /// The row before the claim (`None`: there was none).
    before: Option<Counter>,
    /// The row's generation after the claim.
    generation: i64,
}

/// The counters an attempt claimed; pass to [`succeeded`] when the password was right.
#[derive(Debug)]
#[must_use = "a right password gives the claim back with `succeeded`"]
pub struct Attempt {
    claims: Vec<Claimed>,
}

impl Key {
    /// The row's key as the store names it.
    fn stored(&self) -> ThrottleKey<'_> {
        ThrottleKey {
            scope: self.scope,
            account: &self.account,
            address: &self.address,
        }
    }
}

impl From<Counter> for Counts {
    fn from(counter: Counter) -> Counts {
        Counts {
            failures: counter.failures,
            last_failure_at: counter.last_failure_at,
            next_allowed_at: counter.next_allowed_at,
        }
    }
}

async fn read(store: &Store, key: &Key) -> Result<Option<(Counter, i64)>, StoreError> {
    Ok(throttle::read(store, &key.stored())
        .await?
        .map(|(counts, generation)| {
            (
                Counter {
                    failures: counts.failures,
                    last_failure_at: counts.last_failure_at,
                    next_allowed_at: counts.next_allowed_at,
                },
                generation,
            )
        }))
}

/// Writes `counter` if the row is still at `generation` (`None`: still absent). Returns the
/// new generation, or `None` when someone else changed it first.
async fn compare_and_set(
    store: &Store,
    key: &Key,
    generation: Option<i64>,
    counter: Counter,
) -> Result<Option<i64>, StoreError> {
    let written =
        throttle::compare_and_set(store, &key.stored(), generation, counter.into()).await?;
    Ok(written.then(|| generation.map_or(0, |g| g + 1)))
}

/// Claims one counter at `now`, or says how long to wait.
async fn claim_one(
    store: &Store,
    key: Key,
    now: i64,
) -> Result<Result<Claimed, Throttled>, StoreError> {
    for _ in 0..CLAIM_TRIES {
        let row = read(store, &key).await?;
        let before = row.map(|(counter, _)| counter);
        let current = before.unwrap_or_default();
        let wait = current.wait_secs(now);
        if wait > 0 {
            return Ok(Err(Throttled {
                retry_after_secs: wait,
            }));
        }
        let claimed = current.failed(key.rule(), now);
        if let Some(generation) = compare_and_set(store, &key, row.map(|(_, g)| g), claimed).await?
        {
            return Ok(Ok(Claimed {
                key,
                before,
                generation,
            }));
        }
    }
    // Others kept changing it: this many attempts at once are a burst anyway.
    Ok(Err(Throttled {
        retry_after_secs: 1,
    }))
}

/// Gives a claim back: the row as it was if nobody claimed it since, else one failure less.
async fn give_back(store: &Store, claim: &Claimed) -> Result<(), StoreError> {
    throttle::give_back(
        store,
        &claim.key.stored(),
        claim.generation,
        claim.before.map(Counts::from),
    )
    .await
}

/// Claims the counters of an attempt to sign in as `account` from `address` at `now`: first
/// the address's, then the account's at that address. Refused (and nothing claimed) while
/// either still has to wait.
pub async fn claim(
    store: &Store,
    account: &str,
    address: &str,
    now: i64,
) -> Result<Result<Attempt, Throttled>, StoreError> {
    let address_key = Key {
        scope: "address",
        account: String::new(),
        address: address.to_owned(),
    };
    let account_key = Key {
        scope: "account",
        account: account.chars().take(64).collect(),
        address: address.to_owned(),
    };
    // Read both first, so a refusal says the longer wait and claims nothing.
    let mut wait = 0;
    for key in [&address_key, &account_key] {
        if let Some((counter, _)) = read(store, key).await? {
            wait = wait.max(counter.wait_secs(now));
        }
    }
    if wait > 0 {
        return Ok(Err(Throttled {
            retry_after_secs: wait,
        }));
    }
    let by_address = match claim_one(store, address_key, now).await? {
        Ok(claimed) => claimed,
        Err(throttled) => return Ok(Err(throttled)),
    };
    match claim_one(store, account_key, now).await? {
        Ok(by_account) => Ok(Ok(Attempt {
            claims: vec![by_address, by_account],
        })),
        Err(throttled) => {
            give_back(store, &by_address).await?;
            Ok(Err(throttled))
        }
    }
}

/// The password was right: the account's failures at this address are forgotten, and the
/// address's counter is given back what this attempt claimed (earlier failures from the
/// address stay: signing in to one's own account does not clear a spray on others).
pub async fn succeeded(store: &Store, attempt: Attempt) -> Result<(), StoreError> {
    for claim in &attempt.claims {
        if claim.key.scope == "account" {
            throttle::forget(store, &claim.key.stored()).await?;
        } else {
            give_back(store, claim).await?;
        }
    }
    Ok(())
}

/// The password was wrong (found out at `now`): the claims stand as failures, their waits
/// counted from now rather than from the claim (checking a password takes a while; a free
/// failure still costs no wait). Forgets counters long quiet.
pub async fn failed(store: &Store, attempt: Attempt, now: i64) -> Result<(), StoreError> {
    let claims: Vec<(ThrottleKey<'_>, i64)> = attempt
        .claims
        .iter()
        .map(|claim| (claim.key.stored(), claim.generation))
        .collect();
    throttle::stand_as_failures(store, &claims, now, now - FORGET_AFTER_MILLIS).await
}

/// Forgets an account's failures at every address (its password was just set anew).
pub async fn forget_account(store: &Store, account: &str) -> Result<(), StoreError> {
    throttle::forget_account(store, account).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_grow_from_the_free_failures_on_and_stop_at_the_maximum() {
        let waits: Vec<i64> = (1..=15)
            .map(|n| PER_ACCOUNT_AND_ADDRESS.delay_millis(n) / 1000)
            .collect();
        assert_eq!(
            waits,
            [0, 0, 0, 1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 900, 900]
        );
        assert_eq!(PER_ADDRESS.delay_millis(10), 0);
        assert_eq!(PER_ADDRESS.delay_millis(11), 1000);
        assert_eq!(PER_ADDRESS.delay_millis(i64::MAX), 15 * 60 * 1000);
    }

    #[test]
    fn a_counter_waits_then_is_forgotten_after_a_quiet_hour() {
        let rule = &PER_ACCOUNT_AND_ADDRESS;
        let mut counter = Counter::default();
        for at in 0..4 {
            assert_eq!(counter.wait_secs(at), 0);
            counter = counter.failed(rule, at);
        }
        assert_eq!(counter.failures, 4);
        assert_eq!(counter.wait_secs(3), 1, "the fourth failure costs a second");
        assert_eq!(counter.wait_secs(1_003), 0);
        counter = counter.failed(rule, 1_003);
        assert_eq!(counter.wait_secs(1_003), 2);
        let later = 1_003 + FORGET_AFTER_MILLIS;
        assert_eq!(counter.at(later), Counter::default());
        assert_eq!(counter.failed(rule, later).failures, 1);
    }

    #[test]
    fn ipv6_clients_count_by_their_64_and_mapped_ipv4_as_ipv4() {
        let a: IpAddr = "2001:db8:1:2:aaaa::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:bbbb::9".parse().unwrap();
        assert_eq!(address_key(a), address_key(b));
        assert_eq!(address_key(a), "2001:db8:1:2::/64");
        let mapped: IpAddr = "::ffff:10.0.0.7".parse().unwrap();
        assert_eq!(address_key(mapped), "10.0.0.7");
    }

    async fn store() -> Store {
        let store = Store::connect("sqlite::memory:").await.unwrap();
        store.migrate().await.unwrap();
        store
    }

    #[tokio::test]
    async fn a_strangers_failures_delay_only_the_strangers_address() {
        let store = store().await;
        let now = 1_000_000;
        for _ in 0..4 {
            let attempt = claim(&store, "lan", "203.0.113.9", now)
                .await
                .unwrap()
                .unwrap();
            failed(&store, attempt, now).await.unwrap();
        }
        let refused = claim(&store, "lan", "203.0.113.9", now).await.unwrap();
        assert_eq!(refused.unwrap_err().retry_after_secs, 1);
        // Lan, at her own address, is not delayed, and her success gives nothing away.
        let attempt = claim(&store, "lan", "198.51.100.4", now)
            .await
            .unwrap()
            .unwrap();
        succeeded(&store, attempt).await.unwrap();
        let attempt = claim(&store, "lan", "198.51.100.4", now)
            .await
            .unwrap()
            .unwrap();
        succeeded(&store, attempt).await.unwrap();
        // The stranger's wait grows: 1 s, then 2 s after the next failure.
        let attempt = claim(&store, "lan", "203.0.113.9", now + 1_000)
            .await
            .unwrap()
            .unwrap();
        failed(&store, attempt, now + 1_000).await.unwrap();
        let refused = claim(&store, "lan", "203.0.113.9", now + 1_000)
            .await
            .unwrap();
        assert_eq!(refused.unwrap_err().retry_after_secs, 2);
    }

    #[tokio::test]
    async fn a_wait_counts_from_when_the_failure_was_answered_and_free_failures_cost_none() {
        let store = store().await;
        let now = 2_000_000;
        // Three free failures, each answered half a second after its claim: no wait.
        for n in 0..3 {
            let at = now + n;
            let attempt = claim(&store, "lan", "203.0.113.9", at)
                .await
                .unwrap()
                .unwrap();
            failed(&store, attempt, at + 500).await.unwrap();
        }
        // The fourth, answered at +600, makes the next attempt wait a second from then.
        let attempt = claim(&store, "lan", "203.0.113.9", now + 100)
            .await
            .unwrap()
            .unwrap();
        failed(&store, attempt, now + 600).await.unwrap();
        let wait = |at| {
            let store = store.clone();
            async move { claim(&store, "lan", "203.0.113.9", at).await.unwrap().err() }
        };
        assert_eq!(
            wait(now + 700).await,
            Some(Throttled {
                retry_after_secs: 1
            })
        );
        assert_eq!(
            wait(now + 1_500).await,
            Some(Throttled {
                retry_after_secs: 1
            })
        );
        assert_eq!(wait(now + 1_600).await, None);
    }

    #[tokio::test]
    async fn one_address_trying_many_accounts_is_slowed_across_them() {
        let store = store().await;
        let now = 5_000_000;
        for n in 0..PER_ADDRESS.free_failures + 1 {
            let attempt = claim(&store, &format!("user{n}"), "203.0.113.9", now)
                .await
                .unwrap()
                .unwrap();
            failed(&store, attempt, now).await.unwrap();
        }
        let refused = claim(&store, "someone.else", "203.0.113.9", now)
            .await
            .unwrap();
        assert_eq!(refused.unwrap_err().retry_after_secs, 1);
        // Another address is not.
        let attempt = claim(&store, "someone.else", "198.51.100.4", now)
            .await
            .unwrap();
        assert!(attempt.is_ok());
    }
}
