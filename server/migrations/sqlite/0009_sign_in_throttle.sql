-- Sign-in throttling without account locks: one counter per (account as typed, address) and one
-- per address across accounts (scope 'address', account ''). Each failure makes the next
-- attempt wait longer (server/src/throttle.rs); `generation` lets an attempt claim a counter
-- with a compare-and-set, on any node.
CREATE TABLE sign_in_throttle (
    scope            TEXT NOT NULL,     -- 'account' | 'address'
    account          TEXT NOT NULL,     -- the user name as typed; '' for scope 'address'
    address          TEXT NOT NULL,     -- IPv4 address, or an IPv6 address's /64
    failures         BIGINT NOT NULL,
    last_failure_at  BIGINT NOT NULL,
    next_allowed_at  BIGINT NOT NULL,   -- no attempt is taken before this time
    generation       BIGINT NOT NULL,
    PRIMARY KEY (scope, account, address)
);
CREATE INDEX sign_in_throttle_last_failure ON sign_in_throttle (last_failure_at);

-- The lock's failures (5 within 15 minutes locked the account) are no longer read.
DROP TABLE sign_in_failures;
