-- The pipeline registry (spec §9.5): every plugin_info.capabilities entry of an installed
-- plugin, as "plugin P declares handler H for operation OP on table T at priority N".
-- Rows are written when a plugin is installed or first registered and rewritten by
-- sync-capabilities; the admin API lists them and dry-runs a chain. Nothing executes the
-- handlers, as in the original. Deleting a plugin's row removes its pipelines.

CREATE TABLE pipelines (
    pipeline_id    TEXT PRIMARY KEY,
    plugin_name    TEXT NOT NULL REFERENCES plugins(name) ON DELETE CASCADE ON UPDATE CASCADE,
    table_name     TEXT NOT NULL,
    operation      TEXT NOT NULL,
    handler        TEXT NOT NULL,
    priority       INTEGER NOT NULL DEFAULT 100,
    plugin_version TEXT NOT NULL DEFAULT '',
    date_created   TEXT NOT NULL,
    UNIQUE (plugin_name, table_name, operation, handler)
);

-- a chain is read by (table, op) in execution order
CREATE INDEX idx_pipelines_chain ON pipelines(table_name, operation, priority, plugin_name);
