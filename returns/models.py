"""Return requests (RMA) — see issue 6."""
