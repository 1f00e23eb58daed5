-- A counter that moves whenever the content schema changes, so that processes caching
-- field definitions notice edits made by any other process (or by plain SQL).

CREATE TABLE meta (
    key    TEXT PRIMARY KEY,
    value  INTEGER NOT NULL
) WITHOUT ROWID;

INSERT INTO meta (key, value) VALUES ('schema_generation', 0);

CREATE TRIGGER datatypes_generation_insert AFTER INSERT ON datatypes BEGIN
    UPDATE meta SET value = value + 1 WHERE key = 'schema_generation';
END;
CREATE TRIGGER datatypes_generation_update AFTER UPDATE ON datatypes BEGIN
    UPDATE meta SET value = value + 1 WHERE key = 'schema_generation';
END;
CREATE TRIGGER datatypes_generation_delete AFTER DELETE ON datatypes BEGIN
    UPDATE meta SET value = value + 1 WHERE key = 'schema_generation';
END;
CREATE TRIGGER fields_generation_insert AFTER INSERT ON fields BEGIN
    UPDATE meta SET value = value + 1 WHERE key = 'schema_generation';
END;
CREATE TRIGGER fields_generation_update AFTER UPDATE ON fields BEGIN
    UPDATE meta SET value = value + 1 WHERE key = 'schema_generation';
END;
CREATE TRIGGER fields_generation_delete AFTER DELETE ON fields BEGIN
    UPDATE meta SET value = value + 1 WHERE key = 'schema_generation';
END;
CREATE TRIGGER datatypes_fields_generation_insert AFTER INSERT ON datatypes_fields BEGIN
    UPDATE meta SET value = value + 1 WHERE key = 'schema_generation';
END;
CREATE TRIGGER datatypes_fields_generation_update AFTER UPDATE ON datatypes_fields BEGIN
    UPDATE meta SET value = value + 1 WHERE key = 'schema_generation';
END;
CREATE TRIGGER datatypes_fields_generation_delete AFTER DELETE ON datatypes_fields BEGIN
    UPDATE meta SET value = value + 1 WHERE key = 'schema_generation';
END;
