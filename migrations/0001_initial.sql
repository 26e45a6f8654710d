-- 0001_initial.sql — the whole first schema of trade-tracker.
--
-- The migrator runs this file inside its own transaction (no BEGIN/COMMIT
-- here) and the app sets every PRAGMA (journal_mode, foreign_keys, ...).
-- The app validates every request first and answers 4xx itself; the
-- constraints below are the last line of defence, so a bug in the app cannot
-- store what API.md forbids.
--
-- Conventions
-- * Every ordinary table is STRICT. FTS5 tables are virtual tables and
--   cannot be.
-- * `id INTEGER PRIMARY KEY AUTOINCREMENT`: API.md says ids are never reused,
--   and without AUTOINCREMENT SQLite hands out max(rowid)+1 again after the
--   newest row is deleted.
-- * Timestamps (created_at, updated_at, change_log.at, idempotency times) are
--   exactly `YYYY-MM-DDTHH:MM:SS.sssZ` (UTC, always 3 fractional digits), e.g.
--   2025-05-12T08:30:00.123Z. One fixed width matters: the app compares and
--   sorts them as text (updated_since, keyset paging on updated_at), and
--   '…:00Z' would sort after '…:00.123Z'. Checked with
--   strftime('%Y-%m-%dT%H:%M:%fZ', x, '+0 days') IS x; the '+0 days'
--   modifier makes SQLite normalise the value, so 2025-02-30 or 24:00 fail.
-- * Calendar dates are checked with date(x, '+0 days') IS x. Plain
--   date('2025-02-30') returns '2025-02-30' unchanged in SQLite 3.40; the
--   modifier forces normalisation (to 2025-03-02), so impossible dates fail.
-- * Country codes: three upper-case ASCII letters (GLOB '[A-Z][A-Z][A-Z]');
--   the app checks the real ISO 3166-1 alpha-3 list (plus EUN).
-- * Tariff rates: integer hundredths of a percent (12.5 % = 1250), never REAL.
-- * No ON DELETE CASCADE anywhere: API.md §1 "Deleting something others still
--   reference -> 409 (no silent cascades)". The app checks references and
--   answers 409; with PRAGMA foreign_keys=ON a missed check still fails
--   (SQLITE_CONSTRAINT_FOREIGNKEY) instead of orphaning rows. Every
--   referencing column has an index so both the check and the FK
--   enforcement are index lookups.
-- * JSON columns are checked with json_valid/json_type in CHECKs. CHECKs
--   cannot hold subqueries, so the per-element rules (parties distinct
--   country codes, aliases strings, positions keyed by country codes) live
--   in AFTER INSERT / AFTER UPDATE OF triggers that RAISE(ABORT, ...)
--   (SQLITE_CONSTRAINT_TRIGGER). They run after the CHECKs, so the JSON is
--   known to be well-formed when json_each reads it.
--
-- Text length caps, in characters (length() of TEXT counts characters).
-- The same numbers belong in openapi.yaml (maxLength / maxItems):
--   negotiations.slug                         1..64, [a-z0-9-]
--   negotiations.title, rounds.title,
--   issues.title                              1..200
--   sources.title                             1..500  (executive order and
--                                             news headlines run long)
--   participants.name, rounds.city            1..200
--   participants.title, .organization,
--   sources.publisher, statements.speaker     ..200   (speaker 1..200)
--   participants.aliases                      at most 50 items, each 1..200
--   negotiations.parties                      2..50 distinct country codes
--   issues.positions                          at most 50 entries, each text 1..10000
--   tariff_measures.legal_basis               ..500
--   negotiations.summary, rounds.summary,
--   rounds.outcome, issues.description,
--   tariff_measures.scope, tariff_measures.notes,
--   statements.context                        ..10000
--   statements.text, issue_updates.note       1..10000
--   sources.url                               1..2048, http:// or https://
--   idempotency_keys.key                      1..255
--   change_log.request_id                     1..128 (the X-Request-ID rule)
--   change_log.actor                          1..200 (a token name)
-- Required texts must be non-empty; optional texts may be empty (the app may
-- normalise '' to null, the schema does not insist).

-- ---------------------------------------------------------------------------
-- sources — where facts come from
-- ---------------------------------------------------------------------------
CREATE TABLE sources (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    url           TEXT UNIQUE  -- many NULLs allowed: UNIQUE ignores NULL
                  CHECK (url IS NULL OR (length(url) BETWEEN 1 AND 2048
                         AND (url GLOB 'http://?*' OR url GLOB 'https://?*'))),
    title         TEXT NOT NULL CHECK (length(title) BETWEEN 1 AND 500),
    publisher     TEXT CHECK (length(publisher) <= 200),
    published_on  TEXT CHECK (date(published_on, '+0 days') IS published_on),
    created_at    TEXT NOT NULL CHECK (strftime('%Y-%m-%dT%H:%M:%fZ', created_at, '+0 days') IS created_at),
    updated_at    TEXT NOT NULL CHECK (strftime('%Y-%m-%dT%H:%M:%fZ', updated_at, '+0 days') IS updated_at),
    version       INTEGER NOT NULL DEFAULT 1 CHECK (version >= 1)
) STRICT;

CREATE INDEX sources_published_on ON sources (published_on, id);
CREATE INDEX sources_updated_at   ON sources (updated_at, id);

-- ---------------------------------------------------------------------------
-- negotiations — a track of talks between parties
-- ---------------------------------------------------------------------------
CREATE TABLE negotiations (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    slug        TEXT NOT NULL UNIQUE
                CHECK (length(slug) BETWEEN 1 AND 64 AND slug NOT GLOB '*[^a-z0-9-]*'),
    title       TEXT NOT NULL CHECK (length(title) BETWEEN 1 AND 200),
    -- JSON array of >= 2 distinct country codes, e.g. ["USA","CHN"];
    -- elements checked by the negotiations_parties_* triggers.
    parties     TEXT NOT NULL
                CHECK (json_valid(parties) AND json_type(parties) = 'array'
                       AND json_array_length(parties) BETWEEN 2 AND 50),
    status      TEXT NOT NULL DEFAULT 'active'
                CHECK (status IN ('active', 'paused', 'concluded', 'collapsed')),
    summary     TEXT CHECK (length(summary) <= 10000),
    started_on  TEXT CHECK (date(started_on, '+0 days') IS started_on),
    ended_on    TEXT CHECK (date(ended_on, '+0 days') IS ended_on),
    created_at  TEXT NOT NULL CHECK (strftime('%Y-%m-%dT%H:%M:%fZ', created_at, '+0 days') IS created_at),
    updated_at  TEXT NOT NULL CHECK (strftime('%Y-%m-%dT%H:%M:%fZ', updated_at, '+0 days') IS updated_at),
    version     INTEGER NOT NULL DEFAULT 1 CHECK (version >= 1),
    CHECK (ended_on IS NULL OR started_on IS NULL OR ended_on >= started_on)
) STRICT;

-- slug has its UNIQUE index (by-slug lookups). The `party` filter reads the
-- JSON with json_each; negotiations are few, so no index for it.
CREATE INDEX negotiations_status     ON negotiations (status, id);
CREATE INDEX negotiations_started_on ON negotiations (started_on, id);
CREATE INDEX negotiations_title      ON negotiations (title, id);
CREATE INDEX negotiations_updated_at ON negotiations (updated_at, id);

CREATE TRIGGER negotiations_parties_valid_insert AFTER INSERT ON negotiations
WHEN EXISTS (SELECT 1 FROM json_each(new.parties)
             WHERE type <> 'text' OR value NOT GLOB '[A-Z][A-Z][A-Z]')
  OR (SELECT count(DISTINCT value) FROM json_each(new.parties)) <> json_array_length(new.parties)
BEGIN
    SELECT RAISE(ABORT, 'negotiations.parties must be distinct three-letter country codes');
END;

CREATE TRIGGER negotiations_parties_valid_update AFTER UPDATE OF parties ON negotiations
WHEN EXISTS (SELECT 1 FROM json_each(new.parties)
             WHERE type <> 'text' OR value NOT GLOB '[A-Z][A-Z][A-Z]')
  OR (SELECT count(DISTINCT value) FROM json_each(new.parties)) <> json_array_length(new.parties)
BEGIN
    SELECT RAISE(ABORT, 'negotiations.parties must be distinct three-letter country codes');
END;

-- ---------------------------------------------------------------------------
-- rounds — one meeting within a negotiation
-- ---------------------------------------------------------------------------
CREATE TABLE rounds (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    negotiation_id  INTEGER NOT NULL REFERENCES negotiations (id),
    -- 1, 2, 3 ... within the negotiation, assigned by the app (read-only in the API)
    sequence        INTEGER NOT NULL CHECK (sequence >= 1),
    title           TEXT NOT NULL CHECK (length(title) BETWEEN 1 AND 200),
    city            TEXT NOT NULL CHECK (length(city) BETWEEN 1 AND 200),
    country         TEXT NOT NULL CHECK (country GLOB '[A-Z][A-Z][A-Z]'),
    starts_on       TEXT NOT NULL CHECK (date(starts_on, '+0 days') IS starts_on),
    ends_on         TEXT NOT NULL CHECK (date(ends_on, '+0 days') IS ends_on),
    -- the transitions between statuses are the app's (RoundStatus.canMove(to:))
    status          TEXT NOT NULL DEFAULT 'scheduled'
                    CHECK (status IN ('scheduled', 'in_progress', 'postponed',
                                      'suspended', 'concluded', 'cancelled')),
    summary         TEXT CHECK (length(summary) <= 10000),
    outcome         TEXT CHECK (length(outcome) <= 10000),
    created_at      TEXT NOT NULL CHECK (strftime('%Y-%m-%dT%H:%M:%fZ', created_at, '+0 days') IS created_at),
    updated_at      TEXT NOT NULL CHECK (strftime('%Y-%m-%dT%H:%M:%fZ', updated_at, '+0 days') IS updated_at),
    version         INTEGER NOT NULL DEFAULT 1 CHECK (version >= 1),
    CHECK (ends_on >= starts_on),
    UNIQUE (negotiation_id, sequence)
) STRICT;

-- (negotiation_id, sequence) is covered by the UNIQUE constraint's index.
CREATE INDEX rounds_negotiation_starts_on ON rounds (negotiation_id, starts_on, id);
CREATE INDEX rounds_status     ON rounds (status, starts_on, id);
CREATE INDEX rounds_country    ON rounds (country, starts_on, id);
CREATE INDEX rounds_starts_on  ON rounds (starts_on, id);
CREATE INDEX rounds_ends_on    ON rounds (ends_on, id);    -- `from` half of the overlap filter
CREATE INDEX rounds_updated_at ON rounds (updated_at, id);

-- ---------------------------------------------------------------------------
-- participants — people at or around the table
-- ---------------------------------------------------------------------------
CREATE TABLE participants (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    name          TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    -- JSON array of strings; '[]' when there are none, so the API always
    -- shows a list. Elements checked by the participants_aliases_* triggers.
    aliases       TEXT NOT NULL DEFAULT '[]'
                  CHECK (json_valid(aliases) AND json_type(aliases) = 'array'
                         AND json_array_length(aliases) <= 50),
    country       TEXT NOT NULL CHECK (country GLOB '[A-Z][A-Z][A-Z]'),
    title         TEXT CHECK (length(title) <= 200),
    organization  TEXT CHECK (length(organization) <= 200),
    created_at    TEXT NOT NULL CHECK (strftime('%Y-%m-%dT%H:%M:%fZ', created_at, '+0 days') IS created_at),
    updated_at    TEXT NOT NULL CHECK (strftime('%Y-%m-%dT%H:%M:%fZ', updated_at, '+0 days') IS updated_at),
    version       INTEGER NOT NULL DEFAULT 1 CHECK (version >= 1)
) STRICT;

CREATE INDEX participants_country    ON participants (country, id);
CREATE INDEX participants_name       ON participants (name, id);
CREATE INDEX participants_updated_at ON participants (updated_at, id);

CREATE TRIGGER participants_aliases_valid_insert AFTER INSERT ON participants
WHEN EXISTS (SELECT 1 FROM json_each(new.aliases)
             WHERE type <> 'text' OR length(value) NOT BETWEEN 1 AND 200)
BEGIN
    SELECT RAISE(ABORT, 'participants.aliases must be strings of 1 to 200 characters');
END;

CREATE TRIGGER participants_aliases_valid_update AFTER UPDATE OF aliases ON participants
WHEN EXISTS (SELECT 1 FROM json_each(new.aliases)
             WHERE type <> 'text' OR length(value) NOT BETWEEN 1 AND 200)
BEGIN
    SELECT RAISE(ABORT, 'participants.aliases must be strings of 1 to 200 characters');
END;

-- ---------------------------------------------------------------------------
-- round_participants — attendance: who was at which round, in which role
-- ---------------------------------------------------------------------------
-- Addressed by (round, participant) in the API, so the pair is the key (a
-- duplicate is a PRIMARY KEY violation -> 409). It still carries the record
-- columns so every stored thing looks alike (ETag from version).
CREATE TABLE round_participants (
    round_id        INTEGER NOT NULL REFERENCES rounds (id),
    participant_id  INTEGER NOT NULL REFERENCES participants (id),
    role            TEXT NOT NULL CHECK (role IN ('lead', 'delegate', 'observer', 'mediator')),
    created_at      TEXT NOT NULL CHECK (strftime('%Y-%m-%dT%H:%M:%fZ', created_at, '+0 days') IS created_at),
    updated_at      TEXT NOT NULL CHECK (strftime('%Y-%m-%dT%H:%M:%fZ', updated_at, '+0 days') IS updated_at),
    version         INTEGER NOT NULL DEFAULT 1 CHECK (version >= 1),
    PRIMARY KEY (round_id, participant_id)
) STRICT, WITHOUT ROWID;

-- GET /v1/participants/{id}/rounds, the participants `round_id` filter's
-- reverse, and "is this participant referenced" before a delete.
CREATE INDEX round_participants_participant ON round_participants (participant_id, round_id);

-- ---------------------------------------------------------------------------
-- issues — items on a negotiation's agenda
-- ---------------------------------------------------------------------------
CREATE TABLE issues (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    negotiation_id  INTEGER NOT NULL REFERENCES negotiations (id),
    category        TEXT NOT NULL
                    CHECK (category IN ('tariffs', 'rare_earths', 'fentanyl_precursors',
                                        'export_controls', 'market_access', 'agriculture',
                                        'technology', 'other')),
    title           TEXT NOT NULL CHECK (length(title) BETWEEN 1 AND 200),
    description     TEXT CHECK (length(description) <= 10000),
    status          TEXT NOT NULL DEFAULT 'open'
                    CHECK (status IN ('open', 'in_discussion', 'tentative_agreement',
                                      'agreed', 'stalled', 'dropped')),
    priority        TEXT NOT NULL DEFAULT 'medium'
                    CHECK (priority IN ('high', 'medium', 'low')),
    -- JSON object: country code -> that party's stated position (text);
    -- '{}' when none. Entries checked by the issues_positions_* triggers.
    positions       TEXT NOT NULL DEFAULT '{}'
                    CHECK (json_valid(positions) AND json_type(positions) = 'object'),
    created_at      TEXT NOT NULL CHECK (strftime('%Y-%m-%dT%H:%M:%fZ', created_at, '+0 days') IS created_at),
    updated_at      TEXT NOT NULL CHECK (strftime('%Y-%m-%dT%H:%M:%fZ', updated_at, '+0 days') IS updated_at),
    version         INTEGER NOT NULL DEFAULT 1 CHECK (version >= 1),
    -- `sort=priority` / `sort=status` follow the order API.md lists the
    -- values in (high, medium, low; open ... dropped), as an enum sorts in
    -- PostgreSQL, not the alphabet. These ranks give keyset paging a
    -- sortable, indexable column; the API never shows them.
    priority_rank   INTEGER GENERATED ALWAYS AS (
                        CASE priority WHEN 'high' THEN 0 WHEN 'medium' THEN 1 ELSE 2 END) VIRTUAL,
    status_rank     INTEGER GENERATED ALWAYS AS (
                        CASE status WHEN 'open' THEN 0 WHEN 'in_discussion' THEN 1
                                    WHEN 'tentative_agreement' THEN 2 WHEN 'agreed' THEN 3
                                    WHEN 'stalled' THEN 4 ELSE 5 END) VIRTUAL
) STRICT;

CREATE INDEX issues_negotiation   ON issues (negotiation_id, id);
CREATE INDEX issues_category      ON issues (category, id);
CREATE INDEX issues_status        ON issues (status, id);
CREATE INDEX issues_priority      ON issues (priority, id);
CREATE INDEX issues_priority_rank ON issues (priority_rank, id);
CREATE INDEX issues_status_rank   ON issues (status_rank, id);
CREATE INDEX issues_updated_at    ON issues (updated_at, id);

CREATE TRIGGER issues_positions_valid_insert AFTER INSERT ON issues
WHEN (SELECT count(*) FROM json_each(new.positions)) > 50
  OR EXISTS (SELECT 1 FROM json_each(new.positions)
             WHERE key NOT GLOB '[A-Z][A-Z][A-Z]' OR type <> 'text'
                OR length(value) NOT BETWEEN 1 AND 10000)
BEGIN
    SELECT RAISE(ABORT, 'issues.positions must map country codes to texts of 1 to 10000 characters');
END;

CREATE TRIGGER issues_positions_valid_update AFTER UPDATE OF positions ON issues
WHEN (SELECT count(*) FROM json_each(new.positions)) > 50
  OR EXISTS (SELECT 1 FROM json_each(new.positions)
             WHERE key NOT GLOB '[A-Z][A-Z][A-Z]' OR type <> 'text'
                OR length(value) NOT BETWEEN 1 AND 10000)
BEGIN
    SELECT RAISE(ABORT, 'issues.positions must map country codes to texts of 1 to 10000 characters');
END;

-- ---------------------------------------------------------------------------
-- issue_updates — progress notes on an issue
-- ---------------------------------------------------------------------------
-- A note with a status also changes issues.status; the app does both in one
-- transaction (API.md §2).
CREATE TABLE issue_updates (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    issue_id     INTEGER NOT NULL REFERENCES issues (id),
    note         TEXT NOT NULL CHECK (length(note) BETWEEN 1 AND 10000),
    occurred_on  TEXT NOT NULL CHECK (date(occurred_on, '+0 days') IS occurred_on),
    round_id     INTEGER REFERENCES rounds (id),
    source_id    INTEGER REFERENCES sources (id),
    status       TEXT CHECK (status IN ('open', 'in_discussion', 'tentative_agreement',
                                        'agreed', 'stalled', 'dropped')),
    created_at   TEXT NOT NULL CHECK (strftime('%Y-%m-%dT%H:%M:%fZ', created_at, '+0 days') IS created_at),
    updated_at   TEXT NOT NULL CHECK (strftime('%Y-%m-%dT%H:%M:%fZ', updated_at, '+0 days') IS updated_at),
    version      INTEGER NOT NULL DEFAULT 1 CHECK (version >= 1)
) STRICT;

CREATE INDEX issue_updates_issue  ON issue_updates (issue_id, occurred_on, id);
CREATE INDEX issue_updates_round  ON issue_updates (round_id);
CREATE INDEX issue_updates_source ON issue_updates (source_id);
CREATE INDEX issue_updates_occurred_on ON issue_updates (occurred_on, id);  -- timeline

-- ---------------------------------------------------------------------------
-- tariff_measures — a tariff one party imposes on another
-- ---------------------------------------------------------------------------
-- In effect on day D: status = 'enacted' AND effective_from <= D AND
-- (effective_until IS NULL OR D < effective_until). `in_effect_today` is
-- computed, not stored.
CREATE TABLE tariff_measures (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    imposed_by       TEXT NOT NULL CHECK (imposed_by GLOB '[A-Z][A-Z][A-Z]'),
    imposed_on       TEXT NOT NULL CHECK (imposed_on GLOB '[A-Z][A-Z][A-Z]'),
    -- rate_percent * 100, exact: 0..1000 % with at most 2 decimals
    rate_hundredths  INTEGER NOT NULL CHECK (rate_hundredths BETWEEN 0 AND 100000),
    coverage         TEXT NOT NULL DEFAULT 'all_goods'
                     CHECK (coverage IN ('all_goods', 'partial')),
    scope            TEXT CHECK (length(scope) <= 10000),
    legal_basis      TEXT CHECK (length(legal_basis) <= 500),
    status           TEXT NOT NULL DEFAULT 'enacted'
                     CHECK (status IN ('proposed', 'enacted', 'withdrawn')),
    announced_on     TEXT CHECK (date(announced_on, '+0 days') IS announced_on),
    effective_from   TEXT NOT NULL CHECK (date(effective_from, '+0 days') IS effective_from),
    -- exclusive: the first day the measure no longer applies
    effective_until  TEXT CHECK (date(effective_until, '+0 days') IS effective_until),
    negotiation_id   INTEGER REFERENCES negotiations (id),
    source_id        INTEGER REFERENCES sources (id),
    notes            TEXT CHECK (length(notes) <= 10000),
    created_at       TEXT NOT NULL CHECK (strftime('%Y-%m-%dT%H:%M:%fZ', created_at, '+0 days') IS created_at),
    updated_at       TEXT NOT NULL CHECK (strftime('%Y-%m-%dT%H:%M:%fZ', updated_at, '+0 days') IS updated_at),
    version          INTEGER NOT NULL DEFAULT 1 CHECK (version >= 1),
    CHECK (imposed_on <> imposed_by),
    CHECK (effective_until IS NULL OR effective_until > effective_from)
) STRICT;

-- tariff-rates (as_of) and tariff-rates/history: one pair, ordered by date.
CREATE INDEX tariff_measures_pair ON tariff_measures (imposed_by, imposed_on, effective_from);
CREATE INDEX tariff_measures_effective_from  ON tariff_measures (effective_from, id);   -- timeline
CREATE INDEX tariff_measures_effective_until ON tariff_measures (effective_until, id);  -- timeline
CREATE INDEX tariff_measures_negotiation ON tariff_measures (negotiation_id);
CREATE INDEX tariff_measures_source      ON tariff_measures (source_id);
CREATE INDEX tariff_measures_updated_at  ON tariff_measures (updated_at, id);

-- ---------------------------------------------------------------------------
-- statements — what someone said, and where it was reported
-- ---------------------------------------------------------------------------
CREATE TABLE statements (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    -- Exactly one of participant_id / speaker: `speaker` is only for a
    -- speaker who is not tracked as a participant (API.md §2), so both at
    -- once would be two answers to "who said it".
    participant_id  INTEGER REFERENCES participants (id),
    speaker         TEXT CHECK (length(speaker) BETWEEN 1 AND 200),
    said_on         TEXT NOT NULL CHECK (date(said_on, '+0 days') IS said_on),
    text            TEXT NOT NULL CHECK (length(text) BETWEEN 1 AND 10000),
    context         TEXT CHECK (length(context) <= 10000),
    negotiation_id  INTEGER REFERENCES negotiations (id),
    round_id        INTEGER REFERENCES rounds (id),
    issue_id        INTEGER REFERENCES issues (id),
    source_id       INTEGER REFERENCES sources (id),
    created_at      TEXT NOT NULL CHECK (strftime('%Y-%m-%dT%H:%M:%fZ', created_at, '+0 days') IS created_at),
    updated_at      TEXT NOT NULL CHECK (strftime('%Y-%m-%dT%H:%M:%fZ', updated_at, '+0 days') IS updated_at),
    version         INTEGER NOT NULL DEFAULT 1 CHECK (version >= 1),
    CHECK ((participant_id IS NULL) <> (speaker IS NULL))
) STRICT;

CREATE INDEX statements_said_on     ON statements (said_on, id);
CREATE INDEX statements_participant ON statements (participant_id, said_on, id);
CREATE INDEX statements_negotiation ON statements (negotiation_id, said_on, id);
CREATE INDEX statements_issue       ON statements (issue_id, said_on, id);
CREATE INDEX statements_round       ON statements (round_id);
CREATE INDEX statements_source      ON statements (source_id);
CREATE INDEX statements_updated_at  ON statements (updated_at, id);

-- ---------------------------------------------------------------------------
-- change_log — the change feed (API.md §4) and every record's history (§3)
-- ---------------------------------------------------------------------------
-- Written by the app in the same transaction as the change. No foreign keys:
-- history stays readable after the record is deleted.
--
-- record_id: the record's id. Attendance (resource 'round-participants') has
-- no id of its own, so record_id is the round's id (the {id} of
-- /v1/rounds/{id}/participants, the collection a dashboard refetches) and
-- `changes` always carries participant_id, so the pair is recoverable:
-- created  {"round_id":{"before":null,"after":7},"participant_id":{"before":null,"after":3},"role":{...}}
-- deleted  the same with after: null.
CREATE TABLE change_log (
    seq         INTEGER PRIMARY KEY AUTOINCREMENT,  -- never reused, so a client's `since` stays meaningful
    at          TEXT NOT NULL CHECK (strftime('%Y-%m-%dT%H:%M:%fZ', at, '+0 days') IS at),
    resource    TEXT NOT NULL
                CHECK (resource IN ('negotiations', 'rounds', 'participants', 'issues',
                                    'tariff-measures', 'statements', 'sources',
                                    'round-participants', 'issue-updates')),
    record_id   INTEGER NOT NULL,
    action      TEXT NOT NULL CHECK (action IN ('created', 'updated', 'deleted')),
    actor       TEXT CHECK (length(actor) BETWEEN 1 AND 200),        -- token name; NULL for the demo loader / no token
    request_id  TEXT CHECK (length(request_id) BETWEEN 1 AND 128),
    -- JSON object: field -> {"before": ..., "after": ...}
    changes     TEXT NOT NULL CHECK (json_valid(changes) AND json_type(changes) = 'object')
) STRICT;

CREATE INDEX change_log_record   ON change_log (resource, record_id, seq);  -- /{resource}/{id}/history
CREATE INDEX change_log_resource ON change_log (resource, seq);             -- /v1/changes?resource=

-- ---------------------------------------------------------------------------
-- idempotency_keys — Idempotency-Key on POST (24 h)
-- ---------------------------------------------------------------------------
-- scope: the token name ('' for an anonymous client), so two clients may use
-- the same key. An 'in_flight' row is inserted before the work (a second
-- request with the key -> 409); 'completed' stores the response to replay.
-- Not an API resource, so no version/updated_at.
CREATE TABLE idempotency_keys (
    scope         TEXT NOT NULL CHECK (length(scope) <= 200),
    key           TEXT NOT NULL CHECK (length(key) BETWEEN 1 AND 255),
    request_hash  TEXT NOT NULL CHECK (length(request_hash) BETWEEN 1 AND 128),
    method        TEXT NOT NULL CHECK (length(method) BETWEEN 1 AND 16 AND method NOT GLOB '*[^A-Z]*'),
    path          TEXT NOT NULL CHECK (length(path) BETWEEN 1 AND 8192),
    state         TEXT NOT NULL CHECK (state IN ('in_flight', 'completed')),
    status        INTEGER CHECK (status BETWEEN 100 AND 599),
    -- JSON object of the response headers to replay (name -> value)
    headers       TEXT CHECK (headers IS NULL OR (json_valid(headers) AND json_type(headers) IN ('object', 'array'))),
    body          BLOB,
    created_at    TEXT NOT NULL CHECK (strftime('%Y-%m-%dT%H:%M:%fZ', created_at, '+0 days') IS created_at),
    expires_at    TEXT NOT NULL CHECK (strftime('%Y-%m-%dT%H:%M:%fZ', expires_at, '+0 days') IS expires_at),
    CHECK (state = 'in_flight' OR status IS NOT NULL),
    CHECK (expires_at > created_at),
    PRIMARY KEY (scope, key)
) STRICT, WITHOUT ROWID;

CREATE INDEX idempotency_keys_expires_at ON idempotency_keys (expires_at);

-- ---------------------------------------------------------------------------
-- Full-text search for `q` (FTS5)
-- ---------------------------------------------------------------------------
-- One FTS5 table per searchable resource, rowid = the record's id, so a
-- search is `id IN (SELECT rowid FROM x_fts WHERE x_fts MATCH ?)`.
-- tokenize 'unicode61 remove_diacritics 2': case-insensitive and
-- accent-insensitive ("Besânt" finds "Besant", "BESSENT" finds "Bessent").
--
-- External content tables (content='table', content_rowid='id'; all but
-- participants_fts, see there): the text is stored once, in the table, and
-- FTS5 keeps only the index. Triggers keep the index in step (the pattern of
-- the FTS5 manual, "external content tables"): the 'delete' command must be
-- given exactly the values that were indexed, which the AFTER UPDATE / AFTER
-- DELETE triggers pass as old.*. The update triggers fire only when an
-- indexed column is in the UPDATE's SET list, so a write of status/version
-- alone leaves the index alone.

CREATE VIRTUAL TABLE negotiations_fts USING fts5 (
    title, slug, summary,
    content = 'negotiations', content_rowid = 'id',
    tokenize = 'unicode61 remove_diacritics 2'
);
CREATE TRIGGER negotiations_fts_insert AFTER INSERT ON negotiations BEGIN
    INSERT INTO negotiations_fts (rowid, title, slug, summary)
    VALUES (new.id, new.title, new.slug, new.summary);
END;
CREATE TRIGGER negotiations_fts_delete AFTER DELETE ON negotiations BEGIN
    INSERT INTO negotiations_fts (negotiations_fts, rowid, title, slug, summary)
    VALUES ('delete', old.id, old.title, old.slug, old.summary);
END;
CREATE TRIGGER negotiations_fts_update AFTER UPDATE OF title, slug, summary ON negotiations BEGIN
    INSERT INTO negotiations_fts (negotiations_fts, rowid, title, slug, summary)
    VALUES ('delete', old.id, old.title, old.slug, old.summary);
    INSERT INTO negotiations_fts (rowid, title, slug, summary)
    VALUES (new.id, new.title, new.slug, new.summary);
END;

CREATE VIRTUAL TABLE rounds_fts USING fts5 (
    title, city, summary, outcome,
    content = 'rounds', content_rowid = 'id',
    tokenize = 'unicode61 remove_diacritics 2'
);
CREATE TRIGGER rounds_fts_insert AFTER INSERT ON rounds BEGIN
    INSERT INTO rounds_fts (rowid, title, city, summary, outcome)
    VALUES (new.id, new.title, new.city, new.summary, new.outcome);
END;
CREATE TRIGGER rounds_fts_delete AFTER DELETE ON rounds BEGIN
    INSERT INTO rounds_fts (rounds_fts, rowid, title, city, summary, outcome)
    VALUES ('delete', old.id, old.title, old.city, old.summary, old.outcome);
END;
CREATE TRIGGER rounds_fts_update AFTER UPDATE OF title, city, summary, outcome ON rounds BEGIN
    INSERT INTO rounds_fts (rounds_fts, rowid, title, city, summary, outcome)
    VALUES ('delete', old.id, old.title, old.city, old.summary, old.outcome);
    INSERT INTO rounds_fts (rowid, title, city, summary, outcome)
    VALUES (new.id, new.title, new.city, new.summary, new.outcome);
END;

-- Participants: `aliases` is JSON text, but the index should hold the
-- aliases as words, space-joined, which an external content table cannot
-- give: FTS5 would read the raw JSON from the content table for 'rebuild'
-- (and JSON escapes such as \u00e9 or \/ tokenize differently from the
-- decoded text, so a later 'delete' with the joined values would corrupt the
-- index). A view that joins the aliases cannot be the content either: FTS5
-- prepares its own statements with SQLITE_PREPARE_NO_VTAB, so 'rebuild' on a
-- view that uses json_each fails ("SQL logic error", tried on 3.40.1).
-- So participants_fts is a regular FTS5 table that keeps its own copy of
-- the indexed text (a few hundred bytes per person). Its triggers delete by
-- rowid, so they never have to reproduce what was indexed.
CREATE VIRTUAL TABLE participants_fts USING fts5 (
    name, aliases, title, organization,
    tokenize = 'unicode61 remove_diacritics 2'
);
CREATE TRIGGER participants_fts_insert AFTER INSERT ON participants BEGIN
    INSERT INTO participants_fts (rowid, name, aliases, title, organization)
    VALUES (new.id, new.name,
            (SELECT group_concat(value, ' ') FROM json_each(new.aliases)),
            new.title, new.organization);
END;
CREATE TRIGGER participants_fts_delete AFTER DELETE ON participants BEGIN
    DELETE FROM participants_fts WHERE rowid = old.id;
END;
CREATE TRIGGER participants_fts_update AFTER UPDATE OF name, aliases, title, organization ON participants BEGIN
    DELETE FROM participants_fts WHERE rowid = old.id;
    INSERT INTO participants_fts (rowid, name, aliases, title, organization)
    VALUES (new.id, new.name,
            (SELECT group_concat(value, ' ') FROM json_each(new.aliases)),
            new.title, new.organization);
END;

CREATE VIRTUAL TABLE issues_fts USING fts5 (
    title, description,
    content = 'issues', content_rowid = 'id',
    tokenize = 'unicode61 remove_diacritics 2'
);
CREATE TRIGGER issues_fts_insert AFTER INSERT ON issues BEGIN
    INSERT INTO issues_fts (rowid, title, description)
    VALUES (new.id, new.title, new.description);
END;
CREATE TRIGGER issues_fts_delete AFTER DELETE ON issues BEGIN
    INSERT INTO issues_fts (issues_fts, rowid, title, description)
    VALUES ('delete', old.id, old.title, old.description);
END;
CREATE TRIGGER issues_fts_update AFTER UPDATE OF title, description ON issues BEGIN
    INSERT INTO issues_fts (issues_fts, rowid, title, description)
    VALUES ('delete', old.id, old.title, old.description);
    INSERT INTO issues_fts (rowid, title, description)
    VALUES (new.id, new.title, new.description);
END;

CREATE VIRTUAL TABLE statements_fts USING fts5 (
    text, speaker, context,
    content = 'statements', content_rowid = 'id',
    tokenize = 'unicode61 remove_diacritics 2'
);
CREATE TRIGGER statements_fts_insert AFTER INSERT ON statements BEGIN
    INSERT INTO statements_fts (rowid, text, speaker, context)
    VALUES (new.id, new.text, new.speaker, new.context);
END;
CREATE TRIGGER statements_fts_delete AFTER DELETE ON statements BEGIN
    INSERT INTO statements_fts (statements_fts, rowid, text, speaker, context)
    VALUES ('delete', old.id, old.text, old.speaker, old.context);
END;
CREATE TRIGGER statements_fts_update AFTER UPDATE OF text, speaker, context ON statements BEGIN
    INSERT INTO statements_fts (statements_fts, rowid, text, speaker, context)
    VALUES ('delete', old.id, old.text, old.speaker, old.context);
    INSERT INTO statements_fts (rowid, text, speaker, context)
    VALUES (new.id, new.text, new.speaker, new.context);
END;

CREATE VIRTUAL TABLE sources_fts USING fts5 (
    title, publisher,
    content = 'sources', content_rowid = 'id',
    tokenize = 'unicode61 remove_diacritics 2'
);
CREATE TRIGGER sources_fts_insert AFTER INSERT ON sources BEGIN
    INSERT INTO sources_fts (rowid, title, publisher)
    VALUES (new.id, new.title, new.publisher);
END;
CREATE TRIGGER sources_fts_delete AFTER DELETE ON sources BEGIN
    INSERT INTO sources_fts (sources_fts, rowid, title, publisher)
    VALUES ('delete', old.id, old.title, old.publisher);
END;
CREATE TRIGGER sources_fts_update AFTER UPDATE OF title, publisher ON sources BEGIN
    INSERT INTO sources_fts (sources_fts, rowid, title, publisher)
    VALUES ('delete', old.id, old.title, old.publisher);
    INSERT INTO sources_fts (rowid, title, publisher)
    VALUES (new.id, new.title, new.publisher);
END;
