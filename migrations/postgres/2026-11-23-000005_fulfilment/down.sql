ALTER TABLE outbox DROP COLUMN channel;
DROP TABLE partner_webhooks;
DROP TABLE job_events;
DROP TABLE fulfilment_jobs;
DROP TABLE cod_remittances;
