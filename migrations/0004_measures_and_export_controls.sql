-- 0004_measures_and_export_controls.sql — measures beyond tariffs, and a record that says how far it is checked.
--
-- * negotiations.record_complete_through: the day up to which the negotiation's data has been checked against the
--   public record (API.md §3); the status view flags "as of today" figures past it.
-- * rounds.source_id: where a round's facts come from, like every other dated fact.
-- * tariff_measures: suspensions (windows in which the measure is in force on paper but not applied), hs_codes
--   (the goods a partial measure covers) and responds_to (the measures it answers), each a JSON array. The app
--   checks their elements (dates, digits, that references exist); the CHECKs hold the shape.
-- * export_controls: limits a party puts on what leaves its territory, with the same suspensions, hs_codes and
--   responds_to, and full-text search over its items, legal basis and notes.
-- Columns are added, not rebuilt: an existing database keeps every row (0001–0003 stay as they were applied).

ALTER TABLE negotiations ADD COLUMN record_complete_through TEXT
    CHECK (date(record_complete_through, '+0 days') IS record_complete_through);

ALTER TABLE rounds ADD COLUMN source_id INTEGER REFERENCES sources (id);
CREATE INDEX rounds_source ON rounds (source_id);

ALTER TABLE tariff_measures ADD COLUMN suspensions TEXT NOT NULL DEFAULT '[]'
    CHECK (json_valid(suspensions) AND json_type(suspensions) = 'array');
ALTER TABLE tariff_measures ADD COLUMN hs_codes TEXT NOT NULL DEFAULT '[]'
    CHECK (json_valid(hs_codes) AND json_type(hs_codes) = 'array');
ALTER TABLE tariff_measures ADD COLUMN responds_to TEXT NOT NULL DEFAULT '[]'
    CHECK (json_valid(responds_to) AND json_type(responds_to) = 'array');

CREATE TABLE export_controls (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    imposed_by       TEXT NOT NULL CHECK (imposed_by GLOB '[A-Z][A-Z][A-Z]'),
    -- the destinations the control targets; [] = every destination
    applies_to       TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(applies_to) AND json_type(applies_to) = 'array'),
    -- what is controlled, at least one entry ("dysprosium", "NdFeB magnets")
    items            TEXT NOT NULL CHECK (json_valid(items) AND json_type(items) = 'array' AND json_array_length(items) >= 1),
    hs_codes         TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(hs_codes) AND json_type(hs_codes) = 'array'),
    control          TEXT NOT NULL CHECK (control IN ('licence_required', 'ban', 'quota', 'end_use_restriction')),
    legal_basis      TEXT CHECK (length(legal_basis) <= 500),
    status           TEXT NOT NULL DEFAULT 'enacted' CHECK (status IN ('proposed', 'enacted', 'withdrawn')),
    announced_on     TEXT CHECK (date(announced_on, '+0 days') IS announced_on),
    effective_from   TEXT NOT NULL CHECK (date(effective_from, '+0 days') IS effective_from),
    -- exclusive: the first day the control no longer applies
    effective_until  TEXT CHECK (date(effective_until, '+0 days') IS effective_until),
    suspensions      TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(suspensions) AND json_type(suspensions) = 'array'),
    responds_to      TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(responds_to) AND json_type(responds_to) = 'array'),
    negotiation_id   INTEGER REFERENCES negotiations (id),
    issue_id         INTEGER REFERENCES issues (id),
    source_id        INTEGER REFERENCES sources (id),
    notes            TEXT CHECK (length(notes) <= 10000),
    created_at       TEXT NOT NULL CHECK (strftime('%Y-%m-%dT%H:%M:%fZ', created_at, '+0 days') IS created_at),
    updated_at       TEXT NOT NULL CHECK (strftime('%Y-%m-%dT%H:%M:%fZ', updated_at, '+0 days') IS updated_at),
    version          INTEGER NOT NULL DEFAULT 1 CHECK (version >= 1),
    CHECK (effective_until IS NULL OR effective_until > effective_from)
) STRICT;

CREATE INDEX export_controls_imposed_by   ON export_controls (imposed_by, effective_from, id);
CREATE INDEX export_controls_effective    ON export_controls (effective_from, id);   -- timeline
CREATE INDEX export_controls_negotiation  ON export_controls (negotiation_id);
CREATE INDEX export_controls_issue        ON export_controls (issue_id);
CREATE INDEX export_controls_source       ON export_controls (source_id);
CREATE INDEX export_controls_updated_at   ON export_controls (updated_at, id);

-- `q` over what is controlled and why. items is JSON, so, as for participants' aliases, the index keeps its own
-- copy of the words (an external-content table would read the raw JSON on rebuild); triggers delete by rowid.
CREATE VIRTUAL TABLE export_controls_fts USING fts5 (
    items, legal_basis, notes,
    tokenize = 'unicode61 remove_diacritics 2'
);
CREATE TRIGGER export_controls_fts_insert AFTER INSERT ON export_controls BEGIN
    INSERT INTO export_controls_fts (rowid, items, legal_basis, notes)
    VALUES (new.id, (SELECT group_concat(value, ' ') FROM json_each(new.items)), new.legal_basis, new.notes);
END;
CREATE TRIGGER export_controls_fts_delete AFTER DELETE ON export_controls BEGIN
    DELETE FROM export_controls_fts WHERE rowid = old.id;
END;
CREATE TRIGGER export_controls_fts_update AFTER UPDATE OF items, legal_basis, notes ON export_controls BEGIN
    DELETE FROM export_controls_fts WHERE rowid = old.id;
    INSERT INTO export_controls_fts (rowid, items, legal_basis, notes)
    VALUES (new.id, (SELECT group_concat(value, ' ') FROM json_each(new.items)), new.legal_basis, new.notes);
END;
