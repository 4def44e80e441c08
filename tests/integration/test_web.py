"""The operator console and the API docs page as the run's server serves
them through the shipped includes (relaysync.conf of lighttpd or Apache,
the latter at server level and in a <VirtualHost>): every installed file
at /console/... and /docs/... with its type and the pages' strict
Content-Security-Policy, the bare paths redirected, nothing else of the
install reachable. The lighttpd forms under a mount run the same checks
(test_hosting_lighttpd.py)."""

from harness import http_call, test
from web_checks import check_web, web_dir


@test("web: /console/ and /docs/ serve every installed file with its type, "
      "the strict CSP, nosniff and no-referrer; /console and /docs redirect; "
      "missing files are 404, directories unlisted, nothing else reachable; "
      "the docs page gzip-compressed when asked")
def web_served(ctx):
    check_web(lambda method, url, headers=None:
              http_call(ctx.port, method, url, headers=headers), "",
              web_dir(ctx.prefix), "sql/0001_init.sql", compressed=True)
