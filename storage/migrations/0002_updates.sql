-- The update inbox (see storage/src/updates.rs): updates pushed to a
-- webhook, stored before the push is answered, de-duplicated by update id,
-- claimed under leases; and the fingerprint of the webhook last set.

CREATE TABLE updates (
    platform        bytea   NOT NULL,
    update_id       bigint  NOT NULL,
    -- The update as the platform sent it; gone once finished.
    payload         bytea,
    received_ms     bigint  NOT NULL,
    claimed_by      text,
    lease_until_ms  bigint,
    -- Handed on: kept only to recognise a repeated push, until swept.
    done            boolean NOT NULL DEFAULT false,
    PRIMARY KEY (platform, update_id)
);
CREATE INDEX updates_pending ON updates (platform, update_id) WHERE NOT done;

CREATE TABLE webhooks (
    platform     bytea PRIMARY KEY,
    fingerprint  text  NOT NULL
);
