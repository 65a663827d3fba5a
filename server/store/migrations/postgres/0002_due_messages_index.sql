-- The notifier's lease query scans unfinished messages in creation order. Sent, failed and inhibited
-- messages stay for 7 days and would otherwise be scanned on every lease; this index leaves them out.
CREATE INDEX notification_messages_due_idx ON notification_messages (created_at, id)
    WHERE status IN ('pending', 'leased', 'temporary_failure');
