#include <stdarg.h>
#include <stdio.h>
#include <unistd.h>

#include "log.h"

static const char *rs_log_name = "relaysync";

void
rs_log_set_name(const char *name)
{
	rs_log_name = name;
}

static void
rs_log_v(const char *level, const char *fmt, va_list ap)
{
	char	 line[1024];

	/* One write per line so lines from a process pool do not interleave. */
	vsnprintf(line, sizeof(line), fmt, ap);
	fprintf(stderr, "%s[%ld]: %s: %s\n", rs_log_name, (long)getpid(),
	    level, line);
	fflush(stderr);
}

void
rs_log_err(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	rs_log_v("error", fmt, ap);
	va_end(ap);
}

void
rs_log_warn(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	rs_log_v("warning", fmt, ap);
	va_end(ap);
}

void
rs_log_info(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	rs_log_v("info", fmt, ap);
	va_end(ap);
}
