-- Several instances on one database (see storage/src/coordination.rs):
-- each unfinished job is held by one instance under a lease in the
-- database's time, and every write of it is fenced by its attempt number;
-- the places toward the service and the queue are read from here; one
-- token bucket paces every instance's requests to the service.

ALTER TABLE jobs
    -- The instance that may change the job, until `lease_until`.
    ADD COLUMN lease_holder  text,
    ADD COLUMN lease_until   timestamptz,
    -- Raised by every claim: a write carrying an older number is refused.
    ADD COLUMN attempt       bigint  NOT NULL DEFAULT 0,
    -- Holds one of the places toward the service (`MAX_IN_FLIGHT`).
    ADD COLUMN holds_slot    boolean NOT NULL DEFAULT false,
    -- Waits in the queue for a place.
    ADD COLUMN waiting       boolean NOT NULL DEFAULT false;
CREATE INDEX jobs_waiting ON jobs (created_ms, id) WHERE waiting;
CREATE INDEX jobs_holding_slot ON jobs (id) WHERE holds_slot;
CREATE INDEX jobs_by_holder ON jobs (lease_holder) WHERE active;

CREATE TABLE rate_buckets (
    name          text PRIMARY KEY,
    tokens        double precision NOT NULL,
    refilled_at   timestamptz      NOT NULL,
    -- Nobody asks the service before this (it answered 429).
    paused_until  timestamptz
);
