"""Monthly schedule: on the 3rd of each month at 06:00 run the month that just ended."""
import dagster as dg

from lim.core.month import Month
from pipelines.jobs import monthly_job


@dg.schedule(job=monthly_job, cron_schedule="0 6 3 * *", execution_timezone="Asia/Shanghai",
             description="每月 3 日 6:00 处理上个月的数据")
def monthly_schedule(context: dg.ScheduleEvaluationContext):
    t = context.scheduled_execution_time
    month = Month.parse(f"{t.year:04d}-{t.month:02d}").shift(-1)
    return dg.RunRequest(run_key=f"scheduled-{month}", partition_key=month)
