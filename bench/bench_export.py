"""Export N projects to xlsx, three ways, side by side in one run:

- product: projects.exchange.export (values_list in chunks → typed rows → XlsxWriter in
  constant-memory mode, as the admin's export button does);
- limit: raw XlsxWriter constant-memory writing the same cells from the same query
  (bench/xlsx_limit.py: same formats, labels by plain dicts, no neutraliser); the two files
  are checked to hold the same cells;
- peer: django-import-export's default export (ModelResource.export → tablib → XLSX).

Product and limit alternate (--repeat times each); medians of wall and of this process's
CPU time are compared. Peak memory (tracemalloc) is measured in a separate pass.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench .venv/bin/python bench/bench_export.py
"""

import argparse
import os
import statistics
import tempfile
import time

from common import bench_superuser, mib, peak_memory, setup


def load() -> str:
    return " / ".join(f"{x:.2f}" for x in os.getloadavg())


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=0, help="0: every project")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--no-memory", action="store_true")
    parser.add_argument("--no-peer", action="store_true")
    parser.add_argument("--memory-rows", type=int, default=20000)
    args = parser.parse_args()
    load_before = load()
    setup()

    from import_export import resources
    from import_export.formats.base_formats import XLSX
    from xlsx_limit import same_cells, write_limit

    from projects.exchange import export as ie
    from projects.exchange.writer import write_xlsx
    from projects.models import Project

    user = bench_superuser()
    queryset = Project.objects.order_by("-year", "-code")
    if args.rows:
        queryset = queryset.filter(pk__in=queryset.values("pk")[: args.rows])
    count = queryset.count()
    resource = ie.ProjectResource(user=user)
    headers = ie.export_headers(resource)
    kinds = ie.export_kinds(resource)
    sheet = str(Project._meta.verbose_name)
    field_names = ie.ProjectResource._meta.fields

    class DefaultProjectResource(resources.ModelResource):
        class Meta:
            model = Project
            fields = field_names

    out = tempfile.mkdtemp()
    product_path = os.path.join(out, "product.xlsx")
    limit_path = os.path.join(out, "limit.xlsx")

    def product(qs=queryset):
        write_xlsx(product_path, headers, ie.stream_rows(resource, qs), sheet, kinds)

    def limit():
        write_limit(limit_path, resource, queryset, sheet)

    def default_import_export():
        dataset = DefaultProjectResource().export(queryset)
        with open(os.path.join(out, "peer.xlsx"), "wb") as handle:
            handle.write(XLSX().export_data(dataset))

    product_name = "产品导出(XlsxWriter 常量内存)"
    limit_name = "原始 XlsxWriter 常量内存(极限)"
    peer_name = "django-import-export 默认导出(同类)"
    # Product and limit alternate, so a load spike on the machine hits both alike.
    wall = {product_name: [], limit_name: []}
    cpu = {product_name: [], limit_name: []}
    for _ in range(args.repeat):
        for name, func in ((product_name, product), (limit_name, limit)):
            started, started_cpu = time.perf_counter(), time.process_time()
            func()
            wall[name].append(time.perf_counter() - started)
            cpu[name].append(time.process_time() - started_cpu)
    same = same_cells(product_path, limit_path)
    print(
        f"导出 {count} 个项目到 xlsx(产品与极限交替各 {args.repeat} 次取中位数;"
        f"两者单元格{'一致' if same else '不一致!'})"
    )
    medians = {name: statistics.median(values) for name, values in wall.items()}
    cpu_medians = {name: statistics.median(values) for name, values in cpu.items()}
    for name in wall:
        runs = "、".join(f"{s:.2f}" for s in wall[name])
        print(
            f"  {name}: 墙钟 {medians[name]:.2f} 秒({runs}),"
            f"{medians[name] / medians[limit_name]:.3f}× 极限;"
            f"CPU {cpu_medians[name]:.2f} 秒,{cpu_medians[name] / cpu_medians[limit_name]:.3f}×"
        )
    pairs = [p / q for p, q in zip(wall[product_name], wall[limit_name], strict=True)]
    print("  每对(产品/极限)墙钟比: " + "、".join(f"{r:.3f}" for r in pairs))
    if not args.no_peer:
        started = time.perf_counter()
        default_import_export()
        seconds = time.perf_counter() - started
        print(f"  {peer_name}(1 次): {seconds:.2f} 秒,{seconds / medians[limit_name]:.2f}× 极限")
    if not args.no_memory:
        print("峰值内存(tracemalloc,单独一遍)")
        for name, func in ((product_name, product), (limit_name, limit)):
            print(f"  {name},{count} 行: {mib(peak_memory(func))}")
        # The peer builds the whole dataset in memory: measured on a smaller slice (it grows
        # linearly), beside the product on the same slice to show the product's stays flat.
        small = Project.objects.filter(pk__in=queryset.values("pk")[: args.memory_rows])
        small_count = small.count()
        print(f"  {product_name},{small_count} 行: {mib(peak_memory(lambda: product(small)))}")
        if not args.no_peer:

            def peer_small():
                dataset = DefaultProjectResource().export(small)
                XLSX().export_data(dataset)

            print(f"  {peer_name},{small_count} 行: {mib(peak_memory(peer_small))}")
    print(f"系统负载(1/5/15 分钟): 开始 {load_before},结束 {load()}(CPU {os.cpu_count()} 个)")


if __name__ == "__main__":
    main()
