"""Cases (工单): reference numbers, lifecycle, SLA and committed time, escalation and
follow-up, evidence, and tracking by the customer."""
