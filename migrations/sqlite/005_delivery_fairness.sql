-- Per-tenant due scan of the webhook worker: lets it list the tenants with pending deliveries
-- (a skip-scan over tenant_id) and read each tenant's oldest due rows, so one tenant's backlog
-- never hides another tenant's deliveries behind it.
CREATE INDEX deliveries_due_by_tenant ON deliveries(tenant_id, next_attempt_at) WHERE status = 'pending';
