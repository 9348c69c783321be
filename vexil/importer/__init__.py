"""`vexil import-flagsmith`: read a Flagsmith installation's admin API and create the same things
in Vexil, keeping client keys and every identity's bucket (docs/migrating-from-flagsmith.md)."""
