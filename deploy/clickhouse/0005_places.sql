-- Vigie schema v5: where a mention comes from. `author_location` is the author's profile
-- location as written and `city` the platform's city, when the platform gives them; `place_*`
-- is the place enrich settled on: the platform's country (source 'platform', confidence 1), else
-- one inferred from the profile location ('profile'), the address's country-code domain ('url')
-- or a place named in the text ('text'), with its confidence in [0, 1] (see
-- docs/clickhouse.md). `country` stays the platform's. Rows written before this migration read
-- the defaults ('' and 0); `vigie rescore` fills their place from the raw topic while it holds
-- them (the author's location was not stored before), else from the address and the text.
-- One statement, so that a failure leaves no column half-added for the retry to trip on.
ALTER TABLE mentions
    ADD COLUMN author_location String DEFAULT '',
    ADD COLUMN city String DEFAULT '',
    ADD COLUMN place_country String DEFAULT '',
    ADD COLUMN place_city String DEFAULT '',
    ADD COLUMN place_confidence Float32 DEFAULT 0,
    ADD COLUMN place_source String DEFAULT '';
