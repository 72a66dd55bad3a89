"""The provisioning benchmark: the phone_numbers role against a per-number loop (make bench)."""
