"""KPIs read everything and write nothing (no tables yet) — see issue 7."""
