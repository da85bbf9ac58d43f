"""Services of the money side (三(四), DESIGN.md §4): invoices, finance's check, settlement,
disbursements and reversals, ledgers (issue 5)."""
