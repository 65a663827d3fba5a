-- Tokens expire, as in Coder (issue 12, section 7). NULL expires_at means never (`--lifetime 0`).
ALTER TABLE api_keys ADD COLUMN expires_at INTEGER;
ALTER TABLE api_keys ADD COLUMN last_used INTEGER;
-- Tokens made before expiry existed get the default lifetime (30 days), counted from this upgrade, so
-- none stops working at once.
UPDATE api_keys SET expires_at = CAST(strftime('%s', 'now') AS INTEGER) * 1000000 + 2592000000000;
