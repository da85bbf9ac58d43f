"""The archive package of a closed project (issue 13, DA/T 70 四性):

package.py   the builder (deterministic zip), its storage and the history event
manifest.py  manifest.xml: metadata (档号, 题名, 年度, 保管期限 …) and each file's digests
history.py   the history as readable Chinese and as data
digests.py   SHA-256 and SM3
checks.py    verify_archive's four checks (真实性、完整性、可用性、安全性)
files.py     one file's 可用性 and 安全性: verify_archive's, and every kept upload's
"""
