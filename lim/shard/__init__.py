"""County shards (issue #19): plan the month's shards (plan.py), compute one county's persons,
households and rules in a DuckDB file of its own (county.py), merge the shards into the
warehouse's month (merge.py). The Dagster side is assets/shards.py."""
