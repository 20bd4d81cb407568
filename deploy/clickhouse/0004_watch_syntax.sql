-- Vigie schema v4: the dialect each watch's query is written in ("vigie", "brandwatch",
-- "talkwalker", "meltwater", "sprinklr", "visibrain" or "mention"; see docs/query-language.md),
-- so BI tools can tell how to read `query`. The mirror writes 'vigie' for a watch with no syntax.
-- Rows mirrored before this migration read the default 'vigie' until their watch is published
-- again. A plain String (no LowCardinality), and no IF NOT EXISTS: ClickHouse 18.16 has neither
-- (LowCardinality only behind an experimental setting); `vigie migrate` applies each version once.
ALTER TABLE watches ADD COLUMN syntax String DEFAULT 'vigie';
