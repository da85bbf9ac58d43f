"""Export N projects to xlsx, three ways, side by side in one run:

- product: projects.importexport (values_list in chunks → typed tuples → XlsxWriter in
  constant-memory mode, as the admin's export button does);
- limit: raw openpyxl write-only of the same tuples (same query, same conversion);
- peer: django-import-export's default export (ModelResource.export → tablib → XLSX).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench .venv/bin/python bench/bench_export.py
"""

import argparse
import os
import tempfile

from common import bench_superuser, mib, peak_memory, setup, timed


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=0, help="0: every project")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--no-memory", action="store_true")
    args = parser.parse_args()
    setup()

    from import_export import resources
    from import_export.formats.base_formats import XLSX
    from openpyxl import Workbook

    from projects import importexport as ie
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
        ie.write_xlsx(
            os.path.join(out, "product.xlsx"), headers, ie.stream_rows(resource, queryset)
        )

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

    runs = {
        "产品导出(XlsxWriter 常量内存)": product,
        "原始 openpyxl write-only(极限)": raw_openpyxl,
        "django-import-export 默认导出(同类)": default_import_export,
    }
    times = {name: timed(func, args.repeat) for name, func in runs.items()}
    memory = {} if args.no_memory else {name: peak_memory(func) for name, func in runs.items()}
    limit = times["原始 openpyxl write-only(极限)"]
    limit_mem = memory.get("原始 openpyxl write-only(极限)")
    print(f"导出 {count} 个项目到 xlsx(中位数,重复 {args.repeat} 次)")
    for name in runs:
        line = f"  {name}: {times[name]:.2f} 秒,{times[name] / limit:.2f}× 极限"
        if memory:
            line += f";峰值内存 {mib(memory[name])},{memory[name] / limit_mem:.2f}× 极限"
        print(line)


if __name__ == "__main__":
    main()
