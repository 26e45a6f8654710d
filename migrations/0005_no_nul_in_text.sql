-- 0005_no_nul_in_text.sql — one rule for U+0000 in text: refused.
--
-- A text holding NUL was counted as one character by validation, while SQLite's length() stops at the NUL, so a
-- length CHECK failed with no pointer (a 422 "breaks a storage rule"). The API now refuses NUL in every text field
-- (422 with the field's pointer); these triggers hold the same rule in the schema, for any writer. CHECKs cannot be
-- added to existing tables without rebuilding them; triggers can. instr() over the value cast to a BLOB counts
-- bytes, so it sees a NUL anywhere in the text. JSON columns need none: JSON text escapes NUL as \u0000.

CREATE TRIGGER sources_no_nul_insert BEFORE INSERT ON sources
WHEN instr(CAST(new.url AS BLOB), x'00') > 0 OR instr(CAST(new.title AS BLOB), x'00') > 0 OR instr(CAST(new.publisher AS BLOB), x'00') > 0
BEGIN
    SELECT RAISE(ABORT, 'text must not contain NUL (U+0000)');
END;

CREATE TRIGGER sources_no_nul_update BEFORE UPDATE OF url, title, publisher ON sources
WHEN instr(CAST(new.url AS BLOB), x'00') > 0 OR instr(CAST(new.title AS BLOB), x'00') > 0 OR instr(CAST(new.publisher AS BLOB), x'00') > 0
BEGIN
    SELECT RAISE(ABORT, 'text must not contain NUL (U+0000)');
END;

CREATE TRIGGER negotiations_no_nul_insert BEFORE INSERT ON negotiations
WHEN instr(CAST(new.slug AS BLOB), x'00') > 0 OR instr(CAST(new.title AS BLOB), x'00') > 0 OR instr(CAST(new.summary AS BLOB), x'00') > 0
BEGIN
    SELECT RAISE(ABORT, 'text must not contain NUL (U+0000)');
END;

CREATE TRIGGER negotiations_no_nul_update BEFORE UPDATE OF slug, title, summary ON negotiations
WHEN instr(CAST(new.slug AS BLOB), x'00') > 0 OR instr(CAST(new.title AS BLOB), x'00') > 0 OR instr(CAST(new.summary AS BLOB), x'00') > 0
BEGIN
    SELECT RAISE(ABORT, 'text must not contain NUL (U+0000)');
END;

CREATE TRIGGER rounds_no_nul_insert BEFORE INSERT ON rounds
WHEN instr(CAST(new.title AS BLOB), x'00') > 0 OR instr(CAST(new.city AS BLOB), x'00') > 0 OR instr(CAST(new.summary AS BLOB), x'00') > 0 OR instr(CAST(new.outcome AS BLOB), x'00') > 0
BEGIN
    SELECT RAISE(ABORT, 'text must not contain NUL (U+0000)');
END;

CREATE TRIGGER rounds_no_nul_update BEFORE UPDATE OF title, city, summary, outcome ON rounds
WHEN instr(CAST(new.title AS BLOB), x'00') > 0 OR instr(CAST(new.city AS BLOB), x'00') > 0 OR instr(CAST(new.summary AS BLOB), x'00') > 0 OR instr(CAST(new.outcome AS BLOB), x'00') > 0
BEGIN
    SELECT RAISE(ABORT, 'text must not contain NUL (U+0000)');
END;

CREATE TRIGGER participants_no_nul_insert BEFORE INSERT ON participants
WHEN instr(CAST(new.name AS BLOB), x'00') > 0 OR instr(CAST(new.title AS BLOB), x'00') > 0 OR instr(CAST(new.organization AS BLOB), x'00') > 0
BEGIN
    SELECT RAISE(ABORT, 'text must not contain NUL (U+0000)');
END;

CREATE TRIGGER participants_no_nul_update BEFORE UPDATE OF name, title, organization ON participants
WHEN instr(CAST(new.name AS BLOB), x'00') > 0 OR instr(CAST(new.title AS BLOB), x'00') > 0 OR instr(CAST(new.organization AS BLOB), x'00') > 0
BEGIN
    SELECT RAISE(ABORT, 'text must not contain NUL (U+0000)');
END;

CREATE TRIGGER issues_no_nul_insert BEFORE INSERT ON issues
WHEN instr(CAST(new.title AS BLOB), x'00') > 0 OR instr(CAST(new.description AS BLOB), x'00') > 0
BEGIN
    SELECT RAISE(ABORT, 'text must not contain NUL (U+0000)');
END;

CREATE TRIGGER issues_no_nul_update BEFORE UPDATE OF title, description ON issues
WHEN instr(CAST(new.title AS BLOB), x'00') > 0 OR instr(CAST(new.description AS BLOB), x'00') > 0
BEGIN
    SELECT RAISE(ABORT, 'text must not contain NUL (U+0000)');
END;

CREATE TRIGGER issue_updates_no_nul_insert BEFORE INSERT ON issue_updates
WHEN instr(CAST(new.note AS BLOB), x'00') > 0
BEGIN
    SELECT RAISE(ABORT, 'text must not contain NUL (U+0000)');
END;

CREATE TRIGGER issue_updates_no_nul_update BEFORE UPDATE OF note ON issue_updates
WHEN instr(CAST(new.note AS BLOB), x'00') > 0
BEGIN
    SELECT RAISE(ABORT, 'text must not contain NUL (U+0000)');
END;

CREATE TRIGGER tariff_measures_no_nul_insert BEFORE INSERT ON tariff_measures
WHEN instr(CAST(new.scope AS BLOB), x'00') > 0 OR instr(CAST(new.legal_basis AS BLOB), x'00') > 0 OR instr(CAST(new.notes AS BLOB), x'00') > 0
BEGIN
    SELECT RAISE(ABORT, 'text must not contain NUL (U+0000)');
END;

CREATE TRIGGER tariff_measures_no_nul_update BEFORE UPDATE OF scope, legal_basis, notes ON tariff_measures
WHEN instr(CAST(new.scope AS BLOB), x'00') > 0 OR instr(CAST(new.legal_basis AS BLOB), x'00') > 0 OR instr(CAST(new.notes AS BLOB), x'00') > 0
BEGIN
    SELECT RAISE(ABORT, 'text must not contain NUL (U+0000)');
END;

CREATE TRIGGER statements_no_nul_insert BEFORE INSERT ON statements
WHEN instr(CAST(new.speaker AS BLOB), x'00') > 0 OR instr(CAST(new.text AS BLOB), x'00') > 0 OR instr(CAST(new.context AS BLOB), x'00') > 0
BEGIN
    SELECT RAISE(ABORT, 'text must not contain NUL (U+0000)');
END;

CREATE TRIGGER statements_no_nul_update BEFORE UPDATE OF speaker, text, context ON statements
WHEN instr(CAST(new.speaker AS BLOB), x'00') > 0 OR instr(CAST(new.text AS BLOB), x'00') > 0 OR instr(CAST(new.context AS BLOB), x'00') > 0
BEGIN
    SELECT RAISE(ABORT, 'text must not contain NUL (U+0000)');
END;

CREATE TRIGGER export_controls_no_nul_insert BEFORE INSERT ON export_controls
WHEN instr(CAST(new.legal_basis AS BLOB), x'00') > 0 OR instr(CAST(new.notes AS BLOB), x'00') > 0
BEGIN
    SELECT RAISE(ABORT, 'text must not contain NUL (U+0000)');
END;

CREATE TRIGGER export_controls_no_nul_update BEFORE UPDATE OF legal_basis, notes ON export_controls
WHEN instr(CAST(new.legal_basis AS BLOB), x'00') > 0 OR instr(CAST(new.notes AS BLOB), x'00') > 0
BEGIN
    SELECT RAISE(ABORT, 'text must not contain NUL (U+0000)');
END;
