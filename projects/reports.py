"""Statistics per year (统计报表) and the annual disclosure (党费使用情况公示) (issue 6)."""
