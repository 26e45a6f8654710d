-- 0003_change_log_names.sql — the change log no longer lists resource names in a CHECK.
--
-- 0001 wrote the names into a CHECK on change_log.resource. SQLite cannot alter a CHECK, so every new resource
-- would have needed this same rebuild. The resource catalogue in the code is now the one list of names; a test
-- ties it to the schema. The table is rebuilt the way the SQLite manual describes ("Making Other Kinds Of Table
-- Schema Changes"): new table, copy, drop, rename, indexes. Foreign keys are off while migrations run and nothing
-- references change_log.

CREATE TABLE change_log_rebuilt (
    seq         INTEGER PRIMARY KEY AUTOINCREMENT,  -- never reused, so a client's `since` stays meaningful
    at          TEXT NOT NULL CHECK (strftime('%Y-%m-%dT%H:%M:%fZ', at, '+0 days') IS at),
    -- the resource's path name (`tariff-measures`, `round-participants`); the catalogue says which exist
    resource    TEXT NOT NULL CHECK (length(resource) BETWEEN 1 AND 64 AND resource NOT GLOB '*[^a-z-]*'),
    record_id   INTEGER NOT NULL,
    action      TEXT NOT NULL CHECK (action IN ('created', 'updated', 'deleted')),
    actor       TEXT CHECK (length(actor) BETWEEN 1 AND 200),
    request_id  TEXT CHECK (length(request_id) BETWEEN 1 AND 128),
    changes     TEXT NOT NULL CHECK (json_valid(changes) AND json_type(changes) = 'object')
) STRICT;

INSERT INTO change_log_rebuilt (seq, at, resource, record_id, action, actor, request_id, changes)
SELECT seq, at, resource, record_id, action, actor, request_id, changes FROM change_log;

-- AUTOINCREMENT's counter lives in sqlite_sequence under the table's name; carry it over, so a seq handed out
-- before the rebuild (even one whose row is gone) is never handed out again.
DELETE FROM sqlite_sequence WHERE name = 'change_log_rebuilt';
INSERT INTO sqlite_sequence (name, seq)
SELECT 'change_log_rebuilt', max(COALESCE((SELECT seq FROM sqlite_sequence WHERE name = 'change_log'), 0),
                                 COALESCE((SELECT max(seq) FROM change_log), 0));

DROP TABLE change_log;
ALTER TABLE change_log_rebuilt RENAME TO change_log;

CREATE INDEX change_log_record   ON change_log (resource, record_id, seq);  -- /{resource}/{id}/history
CREATE INDEX change_log_resource ON change_log (resource, seq);             -- /v1/changes?resource=
