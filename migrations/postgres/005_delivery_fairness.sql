-- Per-tenant due scan of the webhook worker: lists the tenants with pending deliveries (a loose
-- index scan over tenant_id) and reads each tenant's oldest due rows (claimDue), so one tenant's
-- backlog never hides another tenant's deliveries behind it.
CREATE INDEX deliveries_due_by_tenant ON deliveries (tenant_id, next_attempt_at) WHERE status = 'pending';
