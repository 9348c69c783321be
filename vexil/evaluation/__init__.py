"""The only bridge from the database to the SDK hot path and the engine: key-index rows, the
environment document and its compiled form, built in a fixed number of queries."""
