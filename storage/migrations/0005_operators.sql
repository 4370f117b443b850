-- What operators decide about users (see storage/src/operators.rs): bans,
-- and credits granted to a user for one day on top of DAILY_QUOTA.

CREATE TABLE bans (
    platform  bytea  NOT NULL,
    owner     bytea  NOT NULL,
    record    json   NOT NULL,
    PRIMARY KEY (platform, owner)
);

CREATE TABLE grants (
    platform  bytea    NOT NULL,
    owner     bytea    NOT NULL,
    -- Days since the Unix epoch.
    day       integer NOT NULL,
    credits   bigint  NOT NULL CHECK (credits >= 0),
    PRIMARY KEY (platform, owner, day)
);
