"""A background worker (issue 13): recover interrupted jobs, then run tasks as they come.

    python manage.py run_worker            # the demo and production; one process a CPU
    python manage.py run_worker --batch    # run what is queued, then exit (cron, tests)

It wraps django-tasks-db's db_worker loop: before taking tasks, and every --recover-every
seconds while idle, it runs job_recover (a job left 进行中 by a killed worker is re-queued
once, failed after a second interruption) and job_expire (expired files are deleted).
Several workers may run at once on PostgreSQL: each task and each job is taken by one
worker only (SELECT … FOR UPDATE SKIP LOCKED).
"""

import datetime
import logging
import time

from django.core.management.base import BaseCommand
from django.utils.crypto import get_random_string
from django_tasks_db.management.commands.db_worker import Worker

from projects.services.jobs import STALE_AFTER, job_expire, job_recover


class Command(BaseCommand):
    help = "运行后台任务进程:先恢复被中断的任务,再持续执行排队的任务(可同时运行多个)。"

    def add_arguments(self, parser):
        parser.add_argument("--interval", type=float, default=1.0, help="空闲时查询间隔(秒)")
        parser.add_argument(
            "--recover-every", type=float, default=60.0, help="恢复中断任务的间隔(秒)"
        )
        parser.add_argument(
            "--stale-after",
            type=float,
            default=STALE_AFTER.total_seconds(),
            help="心跳超过多少秒视为执行进程已终止",
        )
        parser.add_argument("--batch", action="store_true", help="执行完排队的任务后退出")
        parser.add_argument("--worker-id", default="", help="进程标识(默认随机)")

    def handle(self, *args, **options):
        if options["verbosity"] < 2:
            # db_worker logs every (re)start of its loop at INFO; this loop restarts it often.
            logging.getLogger("django_tasks_db").setLevel(logging.WARNING)
        stale_after = datetime.timedelta(seconds=options["stale_after"])
        worker = Worker(
            queue_names=["default"],
            interval=options["interval"],
            batch=True,
            backend_name="default",
            startup_delay=False,
            max_tasks=None,
            worker_id=options["worker_id"] or get_random_string(32),
            excluded_queue_names=[],
        )
        worker.configure_signals()
        last_recovery = None
        while worker.running:
            if (
                last_recovery is None
                or time.monotonic() - last_recovery >= options["recover_every"]
            ):
                self.recover(stale_after)
                last_recovery = time.monotonic()
            worker.run()  # every task queued now, then back here
            if options["batch"]:
                return
            time.sleep(options["interval"])

    def recover(self, stale_after):
        counts = job_recover(stale_after=stale_after)
        expired = job_expire()
        if counts["requeued"] or counts["failed"] or expired:
            self.stdout.write(
                f"恢复中断任务:重新排队 {counts['requeued']} 个,失败 {counts['failed']} 个;"
                f"删除过期文件 {expired} 个。"
            )
