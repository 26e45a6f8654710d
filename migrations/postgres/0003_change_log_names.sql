-- 0003_change_log_names.sql (PostgreSQL) — the change log no longer lists resource names in a CHECK
-- (../0003_change_log_names.sql).
--
-- SQLite had to rebuild the table to change a CHECK; PostgreSQL drops and adds the constraint in place, keeping
-- every row, the seq counter and the indexes. The resource catalogue in the code is the one list of names.
ALTER TABLE change_log DROP CONSTRAINT change_log_resource_check;
ALTER TABLE change_log ADD CONSTRAINT change_log_resource_check
    CHECK (char_length(resource) BETWEEN 1 AND 64 AND resource ~ '^[a-z-]*$');
