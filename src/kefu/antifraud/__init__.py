"""Anti-fraud: official numbers and look-alikes, scam reports, risk flags on customers."""
