-- Outbox claims with a lease: a claimed delivery gets lease_owner (the claiming process) and its
-- next_attempt_at moves to the lease's end, so it is not due for anyone else until then; a process
-- that dies mid-send hands its rows on when the lease runs out. recordAttempt clears the owner.
-- Claims lock candidate rows with FOR UPDATE SKIP LOCKED: two processes never claim one row.
ALTER TABLE deliveries ADD COLUMN lease_owner text;
