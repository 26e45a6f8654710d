-- 0002_app_settings.sql (PostgreSQL) — values the server keeps for itself (../0002_app_settings.sql).
--
-- On PostgreSQL this table is what makes the instances one server: every instance reads the same cursor_key,
-- so a cursor signed by one is accepted by another.
CREATE TABLE app_settings (
    name   text COLLATE "C" PRIMARY KEY CHECK (char_length(name) BETWEEN 1 AND 100),
    value  text COLLATE "C" NOT NULL CHECK (char_length(value) <= 10000)
);
