"""Export N projects to xlsx, three ways, side by side in one run:

- product: projects.exchange.export (values_list in chunks → typed tuples → XlsxWriter in
  constant-memory mode, as the admin's export button does);
- limit: raw openpyxl write-only of the same tuples (same query, same conversion);
- peer: django-import-export's default export (ModelResource.export → tablib → XLSX).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench .venv/bin/python bench/bench_export.py
"""

import argparse
import os
import statistics
import tempfile

from common import bench_superuser, mib, peak_memory, setup, timed


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=0, help="0: every project")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--no-memory", action="store_true")
    parser.add_argument("--no-peer", action="store_true")
    parser.add_argument("--memory-rows", type=int, default=20000)
    args = parser.parse_args()
    setup()

    from import_export import resources
    from import_export.formats.base_formats import XLSX
    from openpyxl import Workbook

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
    field_names = ie.ProjectResource._meta.fields

    class DefaultProjectResource(resources.ModelResource):
        class Meta:
            model = Project
            fields = field_names

    out = tempfile.mkdtemp()

    def product():
        write_xlsx(os.path.join(out, "product.xlsx"), headers, ie.stream_rows(resource, queryset))

    def raw_openpyxl():
        book = Workbook(write_only=True)
        sheet = book.create_sheet()
        sheet.append(headers)
        for row in ie.stream_rows(resource, queryset):
            sheet.append(row)
        book.save(os.path.join(out, "raw.xlsx"))

    def default_import_export():
        dataset = DefaultProjectResource().export(queryset)
        with open(os.path.join(out, "peer.xlsx"), "wb") as handle:
            handle.write(XLSX().export_data(dataset))

    product_name = "产品导出(XlsxWriter 常量内存)"
    limit_name = "原始 openpyxl write-only(极限)"
    peer_name = "django-import-export 默认导出(同类)"
    # Product and limit alternate, so a load spike on the machine hits both alike.
    times = {product_name: [], limit_name: []}
    for _ in range(args.repeat):
        times[product_name].append(timed(product, 1))
        times[limit_name].append(timed(raw_openpyxl, 1))
    times = {name: statistics.median(values) for name, values in times.items()}
    if not args.no_peer:
        times[peer_name] = timed(default_import_export, 1)
    limit = times[limit_name]
    print(f"导出 {count} 个项目到 xlsx(产品与极限交替各 {args.repeat} 次取中位数,同类 1 次)")
    for name, seconds in times.items():
        print(f"  {name}: {seconds:.2f} 秒,{seconds / limit:.2f}× 极限")
    if args.no_memory:
        return
    print("峰值内存(tracemalloc,单独一遍)")
    for name, func in ((product_name, product), (limit_name, raw_openpyxl)):
        print(f"  {name},{count} 行: {mib(peak_memory(func))}")
    # The peer builds the whole dataset in memory: measured on a smaller slice (it grows
    # linearly), beside the product on the same slice to show the product's stays flat.
    small = Project.objects.filter(pk__in=queryset.values("pk")[: args.memory_rows])
    small_count = small.count()

    def product_small():
        write_xlsx(os.path.join(out, "small.xlsx"), headers, ie.stream_rows(resource, small))

    print(f"  {product_name},{small_count} 行: {mib(peak_memory(product_small))}")
    if not args.no_peer:

        def peer_small():
            dataset = DefaultProjectResource().export(small)
            XLSX().export_data(dataset)

        print(f"  {peer_name},{small_count} 行: {mib(peak_memory(peer_small))}")


if __name__ == "__main__":
    main()
