DROP INDEX outbox_claim_idx;
CREATE INDEX outbox_pending_idx ON outbox (next_attempt_at) WHERE status = 'pending';
