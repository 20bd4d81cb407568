-- One million mentions for tenant 'load' over seven days, matched by watch 'load/brand' (and a
-- tenth by 'load/outage'), with varied sources, languages and sentiments: the data set of the API
-- load run (deploy/load/run.sh). The rollups fill through their materialized views.
INSERT INTO mentions (tenant, id, created_at, created_at_ms, received_at, enriched_at, source, visibility, kind,
  native_id, author_id, author_handle, author_name, author_followers, author_verified, text, title, url,
  language_hint, country, likes, shares, comments, views, rating, parent_id, thread_id, language,
  language_confidence, sentiment_score, sentiment_label, toxicity, complaint, crisis, risk_flags, hashtags,
  mentioned_handles, urls, matched_watches, reach, cluster, scorer_version, version)
SELECT
  'load',
  concat('load:x:', toString(number)),
  toDateTime(1764000000 + intDiv(number * 604800, 1000000)),
  (1764000000 + intDiv(number * 604800, 1000000)) * 1000,
  toDateTime(1764000000 + intDiv(number * 604800, 1000000)),
  toDateTime(1764000000 + intDiv(number * 604800, 1000000)),
  ['x', 'facebook', 'instagram', 'news', 'forum'][number % 5 + 1],
  'public', 'post', toString(number),
  concat('u', toString(number % 5000)), concat('user', toString(number % 5000)), '', number % 100000, 0,
  concat('Message ', toString(number), if(number % 10 = 0, ' panne générale chez Load', ' livraison correcte chez Load')),
  '', '', '', 'FR', 0, 0, 0, 0, 0, '', '',
  ['fr', 'en'][number % 2 + 1], 0.9, 0,
  ['negative', 'neutral', 'positive'][number % 3 + 1], 0, 0, 0, [], [], [], [],
  if(number % 10 = 0, ['load/brand', 'load/outage'], ['load/brand']), 0.1, 0, 'seed', 1
FROM numbers(1000000);
