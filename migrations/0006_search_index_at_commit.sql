-- 0006_search_index_at_commit.sql — new records reach the search index once per transaction, not once per row.
--
-- FTS5 writes its pending index data to disk as a new segment at every savepoint, and SQLite opens a statement
-- savepoint for every statement that fires a trigger. With the 0001/0004 insert triggers writing the index, each
-- record of a batch after the first became a segment of its own (and merge work): about a third of the writer's
-- time per created record. Now:
--
-- * An insert trigger notes the new record in search_pending (table name, id) instead of indexing it.
-- * The writer runs `DELETE FROM search_pending` as the last statement of every write transaction, before COMMIT.
--   The AFTER DELETE triggers below index each noted record as it is now (a record deleted meanwhile is gone and
--   indexes nothing). It is one statement, so FTS5 keeps the whole batch in memory and writes it once. A write
--   rolled back to its savepoint takes its notes along; a COMMIT never leaves notes behind, so the index holds
--   every committed record.
-- * Update and delete triggers leave alone a record still noted: it is not in the index yet ('delete' with values
--   never indexed would corrupt an external-content index), and the flush indexes its current values.
-- * Anything else that writes this file (the sqlite3 shell) should end with `DELETE FROM search_pending;`; the
--   server also runs it at start.
-- PostgreSQL keeps its tsvector tables by triggers as before (no per-savepoint cost there).

CREATE TABLE search_pending (
    tbl TEXT NOT NULL,
    id  INTEGER NOT NULL,
    PRIMARY KEY (tbl, id)
) STRICT, WITHOUT ROWID;


-- negotiations: external content
DROP TRIGGER negotiations_fts_insert;
CREATE TRIGGER negotiations_fts_insert AFTER INSERT ON negotiations BEGIN
    INSERT INTO search_pending (tbl, id) VALUES ('negotiations', new.id);
END;
DROP TRIGGER negotiations_fts_delete;
CREATE TRIGGER negotiations_fts_delete AFTER DELETE ON negotiations WHEN NOT EXISTS (SELECT 1 FROM search_pending WHERE tbl = 'negotiations' AND id = old.id) BEGIN
    INSERT INTO negotiations_fts (negotiations_fts, rowid, title, slug, summary)
    VALUES ('delete', old.id, old.title, old.slug, old.summary);
END;
DROP TRIGGER negotiations_fts_update;
CREATE TRIGGER negotiations_fts_update AFTER UPDATE OF title, slug, summary ON negotiations WHEN NOT EXISTS (SELECT 1 FROM search_pending WHERE tbl = 'negotiations' AND id = old.id) BEGIN
    INSERT INTO negotiations_fts (negotiations_fts, rowid, title, slug, summary)
    VALUES ('delete', old.id, old.title, old.slug, old.summary);
    INSERT INTO negotiations_fts (rowid, title, slug, summary)
    VALUES (new.id, new.title, new.slug, new.summary);
END;
CREATE TRIGGER negotiations_fts_flush AFTER DELETE ON search_pending WHEN old.tbl = 'negotiations' BEGIN
    INSERT INTO negotiations_fts (rowid, title, slug, summary)
    SELECT id, title, slug, summary FROM negotiations WHERE id = old.id;
END;

-- rounds: external content
DROP TRIGGER rounds_fts_insert;
CREATE TRIGGER rounds_fts_insert AFTER INSERT ON rounds BEGIN
    INSERT INTO search_pending (tbl, id) VALUES ('rounds', new.id);
END;
DROP TRIGGER rounds_fts_delete;
CREATE TRIGGER rounds_fts_delete AFTER DELETE ON rounds WHEN NOT EXISTS (SELECT 1 FROM search_pending WHERE tbl = 'rounds' AND id = old.id) BEGIN
    INSERT INTO rounds_fts (rounds_fts, rowid, title, city, summary, outcome)
    VALUES ('delete', old.id, old.title, old.city, old.summary, old.outcome);
END;
DROP TRIGGER rounds_fts_update;
CREATE TRIGGER rounds_fts_update AFTER UPDATE OF title, city, summary, outcome ON rounds WHEN NOT EXISTS (SELECT 1 FROM search_pending WHERE tbl = 'rounds' AND id = old.id) BEGIN
    INSERT INTO rounds_fts (rounds_fts, rowid, title, city, summary, outcome)
    VALUES ('delete', old.id, old.title, old.city, old.summary, old.outcome);
    INSERT INTO rounds_fts (rowid, title, city, summary, outcome)
    VALUES (new.id, new.title, new.city, new.summary, new.outcome);
END;
CREATE TRIGGER rounds_fts_flush AFTER DELETE ON search_pending WHEN old.tbl = 'rounds' BEGIN
    INSERT INTO rounds_fts (rowid, title, city, summary, outcome)
    SELECT id, title, city, summary, outcome FROM rounds WHERE id = old.id;
END;

-- issues: external content
DROP TRIGGER issues_fts_insert;
CREATE TRIGGER issues_fts_insert AFTER INSERT ON issues BEGIN
    INSERT INTO search_pending (tbl, id) VALUES ('issues', new.id);
END;
DROP TRIGGER issues_fts_delete;
CREATE TRIGGER issues_fts_delete AFTER DELETE ON issues WHEN NOT EXISTS (SELECT 1 FROM search_pending WHERE tbl = 'issues' AND id = old.id) BEGIN
    INSERT INTO issues_fts (issues_fts, rowid, title, description)
    VALUES ('delete', old.id, old.title, old.description);
END;
DROP TRIGGER issues_fts_update;
CREATE TRIGGER issues_fts_update AFTER UPDATE OF title, description ON issues WHEN NOT EXISTS (SELECT 1 FROM search_pending WHERE tbl = 'issues' AND id = old.id) BEGIN
    INSERT INTO issues_fts (issues_fts, rowid, title, description)
    VALUES ('delete', old.id, old.title, old.description);
    INSERT INTO issues_fts (rowid, title, description)
    VALUES (new.id, new.title, new.description);
END;
CREATE TRIGGER issues_fts_flush AFTER DELETE ON search_pending WHEN old.tbl = 'issues' BEGIN
    INSERT INTO issues_fts (rowid, title, description)
    SELECT id, title, description FROM issues WHERE id = old.id;
END;

-- statements: external content
DROP TRIGGER statements_fts_insert;
CREATE TRIGGER statements_fts_insert AFTER INSERT ON statements BEGIN
    INSERT INTO search_pending (tbl, id) VALUES ('statements', new.id);
END;
DROP TRIGGER statements_fts_delete;
CREATE TRIGGER statements_fts_delete AFTER DELETE ON statements WHEN NOT EXISTS (SELECT 1 FROM search_pending WHERE tbl = 'statements' AND id = old.id) BEGIN
    INSERT INTO statements_fts (statements_fts, rowid, text, speaker, context)
    VALUES ('delete', old.id, old.text, old.speaker, old.context);
END;
DROP TRIGGER statements_fts_update;
CREATE TRIGGER statements_fts_update AFTER UPDATE OF text, speaker, context ON statements WHEN NOT EXISTS (SELECT 1 FROM search_pending WHERE tbl = 'statements' AND id = old.id) BEGIN
    INSERT INTO statements_fts (statements_fts, rowid, text, speaker, context)
    VALUES ('delete', old.id, old.text, old.speaker, old.context);
    INSERT INTO statements_fts (rowid, text, speaker, context)
    VALUES (new.id, new.text, new.speaker, new.context);
END;
CREATE TRIGGER statements_fts_flush AFTER DELETE ON search_pending WHEN old.tbl = 'statements' BEGIN
    INSERT INTO statements_fts (rowid, text, speaker, context)
    SELECT id, text, speaker, context FROM statements WHERE id = old.id;
END;

-- sources: external content
DROP TRIGGER sources_fts_insert;
CREATE TRIGGER sources_fts_insert AFTER INSERT ON sources BEGIN
    INSERT INTO search_pending (tbl, id) VALUES ('sources', new.id);
END;
DROP TRIGGER sources_fts_delete;
CREATE TRIGGER sources_fts_delete AFTER DELETE ON sources WHEN NOT EXISTS (SELECT 1 FROM search_pending WHERE tbl = 'sources' AND id = old.id) BEGIN
    INSERT INTO sources_fts (sources_fts, rowid, title, publisher)
    VALUES ('delete', old.id, old.title, old.publisher);
END;
DROP TRIGGER sources_fts_update;
CREATE TRIGGER sources_fts_update AFTER UPDATE OF title, publisher ON sources WHEN NOT EXISTS (SELECT 1 FROM search_pending WHERE tbl = 'sources' AND id = old.id) BEGIN
    INSERT INTO sources_fts (sources_fts, rowid, title, publisher)
    VALUES ('delete', old.id, old.title, old.publisher);
    INSERT INTO sources_fts (rowid, title, publisher)
    VALUES (new.id, new.title, new.publisher);
END;
CREATE TRIGGER sources_fts_flush AFTER DELETE ON search_pending WHEN old.tbl = 'sources' BEGIN
    INSERT INTO sources_fts (rowid, title, publisher)
    SELECT id, title, publisher FROM sources WHERE id = old.id;
END;

-- participants: a regular FTS5 table holding its own text (aliases space-joined)
DROP TRIGGER participants_fts_insert;
CREATE TRIGGER participants_fts_insert AFTER INSERT ON participants BEGIN
    INSERT INTO search_pending (tbl, id) VALUES ('participants', new.id);
END;
DROP TRIGGER participants_fts_delete;
CREATE TRIGGER participants_fts_delete AFTER DELETE ON participants WHEN NOT EXISTS (SELECT 1 FROM search_pending WHERE tbl = 'participants' AND id = old.id) BEGIN
    DELETE FROM participants_fts WHERE rowid = old.id;
END;
DROP TRIGGER participants_fts_update;
CREATE TRIGGER participants_fts_update AFTER UPDATE OF name, aliases, title, organization ON participants WHEN NOT EXISTS (SELECT 1 FROM search_pending WHERE tbl = 'participants' AND id = old.id) BEGIN
    DELETE FROM participants_fts WHERE rowid = old.id;
    INSERT INTO participants_fts (rowid, name, aliases, title, organization)
    VALUES (new.id, new.name, (SELECT group_concat(value, ' ') FROM json_each(new.aliases)), new.title, new.organization);
END;
CREATE TRIGGER participants_fts_flush AFTER DELETE ON search_pending WHEN old.tbl = 'participants' BEGIN
    INSERT INTO participants_fts (rowid, name, aliases, title, organization)
    SELECT id, name, (SELECT group_concat(value, ' ') FROM json_each(aliases)), title, organization FROM participants WHERE id = old.id;
END;

-- export_controls: a regular FTS5 table holding its own text (items space-joined)
DROP TRIGGER export_controls_fts_insert;
CREATE TRIGGER export_controls_fts_insert AFTER INSERT ON export_controls BEGIN
    INSERT INTO search_pending (tbl, id) VALUES ('export_controls', new.id);
END;
DROP TRIGGER export_controls_fts_delete;
CREATE TRIGGER export_controls_fts_delete AFTER DELETE ON export_controls WHEN NOT EXISTS (SELECT 1 FROM search_pending WHERE tbl = 'export_controls' AND id = old.id) BEGIN
    DELETE FROM export_controls_fts WHERE rowid = old.id;
END;
DROP TRIGGER export_controls_fts_update;
CREATE TRIGGER export_controls_fts_update AFTER UPDATE OF items, legal_basis, notes ON export_controls WHEN NOT EXISTS (SELECT 1 FROM search_pending WHERE tbl = 'export_controls' AND id = old.id) BEGIN
    DELETE FROM export_controls_fts WHERE rowid = old.id;
    INSERT INTO export_controls_fts (rowid, items, legal_basis, notes)
    VALUES (new.id, (SELECT group_concat(value, ' ') FROM json_each(new.items)), new.legal_basis, new.notes);
END;
CREATE TRIGGER export_controls_fts_flush AFTER DELETE ON search_pending WHEN old.tbl = 'export_controls' BEGIN
    INSERT INTO export_controls_fts (rowid, items, legal_basis, notes)
    SELECT id, (SELECT group_concat(value, ' ') FROM json_each(items)), legal_basis, notes FROM export_controls WHERE id = old.id;
END;
