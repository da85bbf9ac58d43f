"""Exporting N invoices as a background job vs raw XlsxWriter constant-memory, in one run.

- product: the whole job as a worker runs it: job_start (the row and its task), the
  db_worker's claim and run_task → run_job → the changelist queryset for the owner (scope,
  filters), the count, typed rows streamed in chunks, progress every 1,000 rows, XlsxWriter
  in constant-memory mode into a temporary file, SHA-256, saved through the storage API;
- limit: raw XlsxWriter constant-memory writing the same cells from the same queryset
  (bench/xlsx_limit.py: the same values_list paths and chunk size, the same formats, labels
  by plain dicts, no neutraliser), to a temporary file, nothing else; the job's file and the
  limit's are checked to hold the same cells.

After one unmeasured read of the same rows (a warm cache for both), product and limit
alternate, in alternating order (job first, then limit first, ...), --repeat times each; the
medians of wall time and of this
process's CPU time are compared; peak memory (tracemalloc) is measured in a separate pass,
at N rows and at N/10 rows, to show it flat.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench .venv/bin/python \\
        bench/bench_export_job.py --rows 1000000
"""

import argparse
import os
import resource
import statistics
import tempfile
import time

os.environ.setdefault("DJANGO_MEDIA_ROOT", tempfile.mkdtemp(prefix="bench-jobs-media-"))

from common import bench_superuser, mib, peak_memory, setup, timed  # noqa: E402


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--no-memory", action="store_true")
    parser.add_argument("--no-warmup", action="store_true", help="skip the unmeasured first read")
    parser.add_argument(
        "--memory-rows", type=int, default=0, help="rows of the memory pass (0: --rows)"
    )
    args = parser.parse_args()
    load_before = os.getloadavg()
    setup()

    from django.core.files.storage import default_storage
    from django_tasks_db.management.commands.db_worker import Worker
    from django_tasks_db.models import DBTaskResult
    from xlsx_limit import same_cells, write_limit

    from projects import tasks
    from projects.exchange import export as ie
    from projects.models import BackgroundJob, Invoice
    from projects.services.jobs import job_start

    user = bench_superuser()
    pks = Invoice.objects.order_by("pk").values_list("pk", flat=True)
    available = pks.count()
    if available < args.rows:
        print(
            f"数据库中只有 {available} 张发票,按 {available} 行测量(bench/generate.py 可生成更多)。"
        )
    rows = min(args.rows, available)
    last_pk = pks[rows - 1]
    worker = Worker(
        queue_names=["default"],
        interval=0,
        batch=True,
        backend_name="default",
        startup_delay=False,
        max_tasks=None,
        worker_id="bench",
        excluded_queue_names=[],
    )
    produced = []

    def job_of(limit_pk):
        job = job_start(
            kind=BackgroundJob.Kind.EXPORT_INVOICES,
            owner=user,
            title="发票导出(基准)",
            params={"query": [["id__lte", str(limit_pk)]]},
        )
        return job

    def run(job):
        task = DBTaskResult.objects.filter(args_kwargs__args=[job.pk]).get()
        task.claim(worker.worker_id)
        worker.run_task(task)
        job.refresh_from_db()
        if job.status != BackgroundJob.Status.DONE:
            raise SystemExit(f"任务失败:{job.message}")
        produced.append(job)
        return job

    def product(limit_pk=last_pk):
        run(job_of(limit_pk))

    # The limit writes the very rows the job writes: the same queryset, the same tuples.
    probe = BackgroundJob(
        kind=BackgroundJob.Kind.EXPORT_INVOICES,
        owner=user,
        params={"query": [["id__lte", str(last_pk)]]},
    )
    queryset, count = tasks.export_queryset(probe)
    export_resource = ie.RESOURCES["invoice"](user=user)
    out = tempfile.mkdtemp(prefix="bench-jobs-")
    limit_path = os.path.join(out, "limit.xlsx")

    def raw_xlsxwriter():
        write_limit(limit_path, export_resource, queryset, tasks.EXPORTS[probe.kind][2])

    product_name = "后台任务导出(整个任务)"
    limit_name = "原始 XlsxWriter 常量内存(极限)"
    times = {product_name: [], limit_name: []}
    cpu = {product_name: [], limit_name: []}
    # One unmeasured read of the same rows first, so that neither side pays for a cold cache;
    # then the order alternates (job, limit, limit, job, ...), so that a drift in the
    # machine's load hits both sides alike.
    if not args.no_warmup:
        warm = export_resource.export_queryset(queryset).values_list(*ie._plan(export_resource)[0])
        for _ in warm.iterator(chunk_size=2000):
            pass
    pairs_order = ((product_name, product), (limit_name, raw_xlsxwriter))
    for round_ in range(args.repeat):
        print(f"  第 {round_ + 1} 轮,负载 {os.getloadavg()[0]:.2f}", flush=True)
        for name, func in pairs_order if round_ % 2 == 0 else pairs_order[::-1]:
            started = time.process_time()
            times[name].append(timed(func, 1))
            cpu[name].append(time.process_time() - started)
    medians = {name: statistics.median(values) for name, values in times.items()}
    limit = medians[limit_name]
    print(f"导出 {count} 张发票到 xlsx(任务与极限交替各 {args.repeat} 次取中位数)")
    for name, seconds in medians.items():
        runs = "、".join(f"{s:.2f}" for s in times[name])
        print(f"  {name}: {seconds:.2f} 秒({runs}),{seconds / limit:.3f}× 极限")
    pairs = [p / q for p, q in zip(times[product_name], times[limit_name], strict=True)]
    print("  每对(任务/极限)墙钟比: " + "、".join(f"{r:.3f}" for r in pairs))
    cpu_ratio = statistics.median(cpu[product_name]) / statistics.median(cpu[limit_name])
    print(
        f"  本进程 CPU 时间中位数: 任务 {statistics.median(cpu[product_name]):.2f} 秒,"
        f"极限 {statistics.median(cpu[limit_name]):.2f} 秒,{cpu_ratio:.3f}×"
        "(不含数据库服务器的时间,受机器负载影响较小)"
    )
    last = produced[-1]
    print(f"  任务文件 {last.filename}: {last.size / 1048576:.1f} MiB,SHA-256 {last.sha256[:16]}…")
    with default_storage.open(last.file.name, "rb") as stored:
        job_path = os.path.join(out, "job.xlsx")
        with open(job_path, "wb") as copy:
            for block in iter(lambda: stored.read(1 << 20), b""):
                copy.write(block)
    same = same_cells(job_path, limit_path)
    print(f"  任务文件与极限文件的单元格: {'一致' if same else '不一致!'}")
    os.unlink(job_path)
    if not args.no_memory:
        # tracemalloc slows every allocation: at city scale the pass may use fewer rows.
        big = min(args.memory_rows or rows, rows)
        big_pk, small = pks[big - 1], max(big // 10, 1)
        small_pk = pks[small - 1]
        print("峰值内存(tracemalloc,单独一遍)")
        print(f"  {product_name},{big} 行: {mib(peak_memory(lambda: product(big_pk)))}")
        print(f"  {product_name},{small} 行: {mib(peak_memory(lambda: product(small_pk)))}")
        if big == rows:
            print(f"  {limit_name},{count} 行: {mib(peak_memory(raw_xlsxwriter))}")
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"进程最大常驻内存(ru_maxrss): {rss:.0f} MiB")
    print(
        "系统负载(1/5/15 分钟): 开始 "
        + " / ".join(f"{x:.2f}" for x in load_before)
        + ",结束 "
        + " / ".join(f"{x:.2f}" for x in os.getloadavg())
        + f"(CPU {os.cpu_count()} 个)"
    )
    for job in produced:
        if job.file:
            default_storage.delete(job.file.name)
    BackgroundJob.objects.filter(pk__in=[job.pk for job in produced]).delete()


if __name__ == "__main__":
    main()
