-- 0002_app_settings.sql — values the server keeps for itself across restarts.
--
-- cursor_key: the secret that signs list cursors (two 64-bit halves as hex),
-- generated on first start; kept here so that cursors stay valid across a
-- restart and a cursor from another database is refused.
CREATE TABLE app_settings (
    name   TEXT PRIMARY KEY CHECK (length(name) BETWEEN 1 AND 100),
    value  TEXT NOT NULL CHECK (length(value) <= 10000)
) STRICT;
