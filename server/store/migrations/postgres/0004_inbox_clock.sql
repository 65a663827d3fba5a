-- created_at of inbox rows is monotonic per database across replicas (issue 12): each delivery takes
-- this one row's lock, stamps its rows after last_created_at and moves it on, in the insert's transaction.
CREATE TABLE IF NOT EXISTS inbox_clock (
    singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    last_created_at timestamptz
);
INSERT INTO inbox_clock (singleton, last_created_at)
SELECT true, (SELECT max(created_at) FROM inbox_notifications)
ON CONFLICT (singleton) DO NOTHING;
