"""The monthly partitions every asset shares: one partition per data month (YYYY-MM)."""
import dagster as dg

# Data month M arrives in the first days of M+1. Months up to two years ahead are accepted so
# that synthetic or test landings dated in the future can be run; the schedule only ever asks
# for the month that just ended.
monthly_partitions = dg.MonthlyPartitionsDefinition(start_date="2020-01", fmt="%Y-%m", end_offset=24)
