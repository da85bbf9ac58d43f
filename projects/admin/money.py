"""Admin for invoices, settlement, disbursements and ledgers (issue 5)."""
