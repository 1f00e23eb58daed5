-- Published values carry their node's datatype, inside the filter indexes, so that counting
-- the matches of a query needs no lookup of the node itself.

ALTER TABLE published_fields ADD COLUMN datatype_id TEXT NOT NULL DEFAULT '';

UPDATE published_fields SET datatype_id = (
    SELECT n.datatype_id FROM published_nodes n
    WHERE n.content_data_id = published_fields.content_data_id
);

DROP INDEX idx_published_fields_text;
DROP INDEX idx_published_fields_num;
CREATE INDEX idx_published_fields_text ON published_fields(field_id, datatype_id, value_text);
CREATE INDEX idx_published_fields_num ON published_fields(field_id, datatype_id, value_num);
