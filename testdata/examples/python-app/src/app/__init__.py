"""A tiny service used as strata's example build."""

GREETING = "hello from strata"
