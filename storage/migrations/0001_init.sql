-- sorabot's records in PostgreSQL: the same records as the sled trees
-- (see storage/src/*.rs), one table each. Records are JSON text (`json`,
-- not `jsonb`, which refuses the escaped NUL a prompt may hold), written and
-- read by the store as opaque values. Identities from the chat platforms are
-- bytes: they are not ours, and PostgreSQL's text cannot hold every string.

CREATE TABLE jobs (
    id          text PRIMARY KEY,
    platform    bytea    NOT NULL,
    owner       bytea    NOT NULL,
    created_ms  bigint  NOT NULL,
    -- Unfinished: carried on after a restart, by whichever instance holds it.
    active      boolean NOT NULL,
    job         json   NOT NULL
);
CREATE INDEX jobs_by_owner ON jobs (platform, owner, created_ms DESC, id);
CREATE INDEX jobs_active ON jobs (created_ms, id) WHERE active;

CREATE TABLE messages (
    platform  bytea NOT NULL,
    chat      bytea NOT NULL,
    message   bytea NOT NULL,
    job_id    text NOT NULL,
    role      text NOT NULL,
    PRIMARY KEY (platform, chat, message)
);

CREATE TABLE characters (
    platform  bytea  NOT NULL,
    owner     bytea  NOT NULL,
    -- The lowercased name: names are unique per user regardless of case.
    name_key  bytea  NOT NULL,
    record    json NOT NULL,
    PRIMARY KEY (platform, owner, name_key)
);

CREATE TABLE settings (
    platform  bytea  NOT NULL,
    owner     bytea  NOT NULL,
    record    json NOT NULL,
    PRIMARY KEY (platform, owner)
);

CREATE TABLE usage (
    platform  bytea    NOT NULL,
    owner     bytea    NOT NULL,
    -- Days since the Unix epoch.
    day       integer NOT NULL,
    count     integer NOT NULL CHECK (count >= 0),
    PRIMARY KEY (platform, owner, day)
);

CREATE TABLE durations (
    key   text   PRIMARY KEY,
    -- Seconds, oldest first; the last few hundred.
    secs  real[] NOT NULL
);

CREATE TABLE blobs (
    key    text  PRIMARY KEY,
    bytes  bytea NOT NULL
);
