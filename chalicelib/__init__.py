"""Social media maturity assessment and benchmarking: everything deployed beside app.py."""
