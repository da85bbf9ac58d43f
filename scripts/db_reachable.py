"""Exit 0 when the PostgreSQL URL given as argument accepts a connection within 3 s."""

import sys

try:
    import psycopg
except ImportError:
    sys.exit(1)

url = sys.argv[1].replace("postgres://", "postgresql://", 1)
try:
    psycopg.connect(url, connect_timeout=3).close()
except psycopg.Error:
    sys.exit(1)
