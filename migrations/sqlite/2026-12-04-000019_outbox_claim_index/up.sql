-- A lane claims its due rows oldest first. Walking (channel, id) among the pending rows stops after one batch;
-- the index on next_attempt_at made every claim read every pending row of every lane (under the order
-- benchmark, a backlog of 18,000 texts: 31,000 index entries a claim, most of PostgreSQL's CPU).
DROP INDEX outbox_pending_idx;
CREATE INDEX outbox_claim_idx ON outbox (channel, id) WHERE status = 'pending';
