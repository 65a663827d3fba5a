"""Prometheus metrics with coderd's names (`--prometheus-enable`).

`hooks` and `endpoint` import nothing heavy, so the rest of the server can refer to them whether metrics are
on or off; everything that needs `prometheus_client` is imported only when metrics are enabled.
"""
