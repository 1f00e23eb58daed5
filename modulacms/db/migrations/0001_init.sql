-- ModulaCMS core schema, version 1.
-- Ids are 26-character ULIDs (text); timestamps are RFC 3339 UTC text.

-- sites & routes -------------------------------------------------------------------------

CREATE TABLE sites (
    site_id        TEXT PRIMARY KEY,
    name           TEXT NOT NULL UNIQUE,
    label          TEXT NOT NULL DEFAULT '',
    hostname       TEXT,
    is_default     INTEGER NOT NULL DEFAULT 0 CHECK (is_default IN (0, 1)),
    date_created   TEXT NOT NULL,
    date_modified  TEXT NOT NULL
);
CREATE UNIQUE INDEX idx_sites_one_default ON sites(is_default) WHERE is_default = 1;

CREATE TABLE routes (
    route_id             TEXT PRIMARY KEY,
    site_id              TEXT NOT NULL REFERENCES sites(site_id) ON DELETE RESTRICT,
    slug                 TEXT NOT NULL,
    title                TEXT NOT NULL DEFAULT '',
    published_version_id TEXT,
    author_id            TEXT,
    date_created         TEXT NOT NULL,
    date_modified        TEXT NOT NULL,
    UNIQUE (site_id, slug)
);

-- schema ---------------------------------------------------------------------------------

CREATE TABLE datatypes (
    datatype_id    TEXT PRIMARY KEY,
    name           TEXT NOT NULL UNIQUE,
    label          TEXT NOT NULL DEFAULT '',
    description    TEXT NOT NULL DEFAULT '',
    author_id      TEXT,
    date_created   TEXT NOT NULL,
    date_modified  TEXT NOT NULL
);

CREATE TABLE fields (
    field_id       TEXT PRIMARY KEY,
    name           TEXT NOT NULL UNIQUE,
    label          TEXT NOT NULL DEFAULT '',
    type           TEXT NOT NULL CHECK (type IN ('text', 'textarea', 'richtext', 'number',
                       'boolean', 'date', 'datetime', 'select', 'email', 'url', 'slug', 'json',
                       'media', 'reference')),
    validation     TEXT NOT NULL DEFAULT '{}',
    ui_config      TEXT NOT NULL DEFAULT '{}',
    translatable   INTEGER NOT NULL DEFAULT 0 CHECK (translatable IN (0, 1)),
    author_id      TEXT,
    date_created   TEXT NOT NULL,
    date_modified  TEXT NOT NULL
);

CREATE TABLE datatypes_fields (
    datatype_id    TEXT NOT NULL REFERENCES datatypes(datatype_id) ON DELETE CASCADE,
    field_id       TEXT NOT NULL REFERENCES fields(field_id) ON DELETE RESTRICT,
    sort_order     INTEGER NOT NULL,
    required       INTEGER NOT NULL DEFAULT 0 CHECK (required IN (0, 1)),
    PRIMARY KEY (datatype_id, field_id)
) WITHOUT ROWID;
CREATE INDEX idx_datatypes_fields_field ON datatypes_fields(field_id);

-- content --------------------------------------------------------------------------------
-- content_data is the tree: parent / first child / next and previous sibling pointers.
-- A trashed subtree is unlinked from its siblings and keeps parent_id as its restore target.

CREATE TABLE content_data (
    content_data_id  TEXT PRIMARY KEY,
    parent_id        TEXT REFERENCES content_data(content_data_id) ON DELETE CASCADE,
    first_child_id   TEXT,
    next_sibling_id  TEXT,
    prev_sibling_id  TEXT,
    root_id          TEXT NOT NULL,
    route_id         TEXT NOT NULL REFERENCES routes(route_id) ON DELETE CASCADE,
    datatype_id      TEXT NOT NULL REFERENCES datatypes(datatype_id) ON DELETE RESTRICT,
    author_id        TEXT,
    status           TEXT NOT NULL DEFAULT 'draft'
                         CHECK (status IN ('draft', 'scheduled', 'published', 'archived')),
    publish_at       TEXT,
    published_at     TEXT,
    published_by     TEXT,
    revision         INTEGER NOT NULL DEFAULT 1,
    trashed_at       TEXT,
    trash_root       INTEGER NOT NULL DEFAULT 0 CHECK (trash_root IN (0, 1)),
    date_created     TEXT NOT NULL,
    date_modified    TEXT NOT NULL
);
CREATE INDEX idx_content_route ON content_data(route_id);
CREATE INDEX idx_content_parent ON content_data(parent_id);
CREATE INDEX idx_content_datatype ON content_data(datatype_id, status);
-- the last live child of a parent, for O(1) append
CREATE INDEX idx_content_last_child ON content_data(parent_id)
    WHERE next_sibling_id IS NULL AND trashed_at IS NULL;
-- one live root per route
CREATE UNIQUE INDEX idx_content_route_root ON content_data(route_id)
    WHERE parent_id IS NULL AND trashed_at IS NULL;
CREATE INDEX idx_content_trash ON content_data(trashed_at) WHERE trash_root = 1;
CREATE INDEX idx_content_scheduled ON content_data(publish_at) WHERE status = 'scheduled';

CREATE TABLE content_fields (
    content_field_id TEXT PRIMARY KEY,
    content_data_id  TEXT NOT NULL REFERENCES content_data(content_data_id) ON DELETE CASCADE,
    field_id         TEXT NOT NULL REFERENCES fields(field_id) ON DELETE CASCADE,
    locale           TEXT NOT NULL DEFAULT '',
    field_value      TEXT,
    route_id         TEXT NOT NULL,
    author_id        TEXT,
    date_created     TEXT NOT NULL,
    date_modified    TEXT NOT NULL,
    UNIQUE (content_data_id, field_id, locale)
);
CREATE INDEX idx_content_fields_route ON content_fields(route_id);
CREATE INDEX idx_content_fields_field ON content_fields(field_id);

-- Published snapshots of whole route trees; delivery reads only these.
CREATE TABLE content_versions (
    version_id     TEXT PRIMARY KEY,
    route_id       TEXT NOT NULL REFERENCES routes(route_id) ON DELETE CASCADE,
    version        INTEGER NOT NULL,
    kind           TEXT NOT NULL DEFAULT 'published' CHECK (kind IN ('published', 'autosave')),
    snapshot       TEXT NOT NULL,
    node_count     INTEGER NOT NULL,
    note           TEXT NOT NULL DEFAULT '',
    published_by   TEXT,
    date_created   TEXT NOT NULL,
    UNIQUE (route_id, version)
);

-- The published index: what /api/v1/query filters and sorts, one row per published node
-- and one per published value, replaced whenever a route is published or unpublished.
CREATE TABLE published_nodes (
    content_data_id TEXT PRIMARY KEY,
    route_id        TEXT NOT NULL REFERENCES routes(route_id) ON DELETE CASCADE,
    datatype_id     TEXT NOT NULL,
    published_at    TEXT NOT NULL,
    date_created    TEXT NOT NULL,
    date_modified   TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX idx_published_nodes_route ON published_nodes(route_id);
CREATE INDEX idx_published_nodes_datatype ON published_nodes(datatype_id, published_at);

CREATE TABLE published_fields (
    content_data_id TEXT NOT NULL REFERENCES published_nodes(content_data_id) ON DELETE CASCADE,
    field_id        TEXT NOT NULL,
    locale          TEXT NOT NULL DEFAULT '',
    value_text      TEXT,
    value_num       REAL,
    PRIMARY KEY (content_data_id, field_id, locale)
) WITHOUT ROWID;
CREATE INDEX idx_published_fields_text ON published_fields(field_id, value_text);
CREATE INDEX idx_published_fields_num ON published_fields(field_id, value_num);

-- people ---------------------------------------------------------------------------------

CREATE TABLE roles (
    role_id        TEXT PRIMARY KEY,
    name           TEXT NOT NULL UNIQUE,
    label          TEXT NOT NULL DEFAULT '',
    system         INTEGER NOT NULL DEFAULT 0 CHECK (system IN (0, 1)),
    date_created   TEXT NOT NULL,
    date_modified  TEXT NOT NULL
);

CREATE TABLE permissions (
    permission_id  TEXT PRIMARY KEY,
    label          TEXT NOT NULL UNIQUE,
    date_created   TEXT NOT NULL
);

CREATE TABLE role_permissions (
    role_id        TEXT NOT NULL REFERENCES roles(role_id) ON DELETE CASCADE,
    permission_id  TEXT NOT NULL REFERENCES permissions(permission_id) ON DELETE CASCADE,
    PRIMARY KEY (role_id, permission_id)
) WITHOUT ROWID;

CREATE TABLE users (
    user_id        TEXT PRIMARY KEY,
    email          TEXT NOT NULL UNIQUE COLLATE NOCASE,
    name           TEXT NOT NULL DEFAULT '',
    hash           TEXT NOT NULL,
    role_id        TEXT NOT NULL REFERENCES roles(role_id) ON DELETE RESTRICT,
    is_active      INTEGER NOT NULL DEFAULT 1 CHECK (is_active IN (0, 1)),
    date_created   TEXT NOT NULL,
    date_modified  TEXT NOT NULL
);

CREATE TABLE sessions (
    session_id     TEXT PRIMARY KEY,
    user_id        TEXT NOT NULL REFERENCES users(user_id) ON DELETE CASCADE,
    token_hash     TEXT NOT NULL UNIQUE,
    expires_at     TEXT NOT NULL,
    ip             TEXT NOT NULL DEFAULT '',
    user_agent     TEXT NOT NULL DEFAULT '',
    date_created   TEXT NOT NULL,
    last_seen      TEXT NOT NULL
);
CREATE INDEX idx_sessions_user ON sessions(user_id);

CREATE TABLE tokens (
    token_id       TEXT PRIMARY KEY,
    user_id        TEXT NOT NULL REFERENCES users(user_id) ON DELETE CASCADE,
    name           TEXT NOT NULL,
    prefix         TEXT NOT NULL,
    token_hash     TEXT NOT NULL UNIQUE,
    expires_at     TEXT,
    revoked_at     TEXT,
    last_used_at   TEXT,
    date_created   TEXT NOT NULL
);
CREATE INDEX idx_tokens_user ON tokens(user_id);

-- media ----------------------------------------------------------------------------------

CREATE TABLE media (
    media_id       TEXT PRIMARY KEY,
    name           TEXT NOT NULL,
    filename       TEXT NOT NULL UNIQUE,
    mime_type      TEXT NOT NULL DEFAULT 'application/octet-stream',
    size           INTEGER NOT NULL DEFAULT 0,
    alt            TEXT NOT NULL DEFAULT '',
    author_id      TEXT,
    date_created   TEXT NOT NULL,
    date_modified  TEXT NOT NULL
);

CREATE TABLE media_dimensions (
    media_dimension_id TEXT PRIMARY KEY,
    media_id       TEXT NOT NULL REFERENCES media(media_id) ON DELETE CASCADE,
    label          TEXT NOT NULL,
    width          INTEGER,
    height         INTEGER
);
CREATE INDEX idx_media_dimensions_media ON media_dimensions(media_id);

-- audit ----------------------------------------------------------------------------------

CREATE TABLE change_events (
    event_id       TEXT PRIMARY KEY,
    actor_id       TEXT,
    actor_kind     TEXT NOT NULL DEFAULT 'user',
    actor_name     TEXT NOT NULL DEFAULT '',
    table_name     TEXT NOT NULL,
    record_id      TEXT NOT NULL,
    operation      TEXT NOT NULL,
    old_values     TEXT,
    new_values     TEXT,
    date_created   TEXT NOT NULL
);
CREATE INDEX idx_change_events_record ON change_events(table_name, record_id);
CREATE INDEX idx_change_events_created ON change_events(date_created);

-- plugins --------------------------------------------------------------------------------

CREATE TABLE plugins (
    plugin_id       TEXT PRIMARY KEY,
    name            TEXT NOT NULL UNIQUE,
    version         TEXT NOT NULL DEFAULT '',
    description     TEXT NOT NULL DEFAULT '',
    author          TEXT NOT NULL DEFAULT '',
    status          TEXT NOT NULL DEFAULT 'installed'
                        CHECK (status IN ('installed', 'enabled', 'disabled', 'failed')),
    approved_access TEXT NOT NULL DEFAULT '{}',
    manifest_hash   TEXT NOT NULL DEFAULT '',
    last_error      TEXT,
    date_installed  TEXT NOT NULL,
    date_modified   TEXT NOT NULL
);

CREATE TABLE plugin_routes (
    plugin_name    TEXT NOT NULL,
    method         TEXT NOT NULL,
    path           TEXT NOT NULL,
    public         INTEGER NOT NULL DEFAULT 0,
    approved       INTEGER NOT NULL DEFAULT 0,
    approved_by    TEXT,
    approved_at    TEXT,
    plugin_version TEXT NOT NULL DEFAULT '',
    date_created   TEXT NOT NULL,
    PRIMARY KEY (plugin_name, method, path)
) WITHOUT ROWID;

CREATE TABLE plugin_hooks (
    plugin_name    TEXT NOT NULL,
    event          TEXT NOT NULL,
    table_name     TEXT NOT NULL,
    priority       INTEGER NOT NULL DEFAULT 100,
    approved       INTEGER NOT NULL DEFAULT 0,
    approved_by    TEXT,
    approved_at    TEXT,
    plugin_version TEXT NOT NULL DEFAULT '',
    date_created   TEXT NOT NULL,
    PRIMARY KEY (plugin_name, event, table_name)
) WITHOUT ROWID;

CREATE TABLE plugin_requests (
    plugin_name    TEXT NOT NULL,
    domain         TEXT NOT NULL,
    description    TEXT NOT NULL DEFAULT '',
    approved       INTEGER NOT NULL DEFAULT 0,
    approved_by    TEXT,
    approved_at    TEXT,
    plugin_version TEXT NOT NULL DEFAULT '',
    date_created   TEXT NOT NULL,
    PRIMARY KEY (plugin_name, domain)
) WITHOUT ROWID;

-- Registry of plugin-created tables: records which plugin owns which full table name, so
-- that two plugins' names can never collide (plugin "a_b" + table "c" vs "a" + "b_c").
CREATE TABLE tables (
    table_id       TEXT PRIMARY KEY,
    label          TEXT NOT NULL UNIQUE,
    plugin_name    TEXT NOT NULL,
    short_name     TEXT NOT NULL,
    date_created   TEXT NOT NULL
);
