#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "clock.h"

int64_t
rs_clock_now_ms(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t
rs_clock_mono_ms(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Writes v as n decimal digits, zero-padded, at p. */
static void
rs_clock_put(char *p, unsigned v, int n)
{
	while (n-- > 0) {
		p[n] = (char)('0' + v % 10);
		v /= 10;
	}
}

/*
 * The civil date of day z since 1970-01-01 (z >= 0), by H. Hinnant's
 * days-to-civil algorithm: every page of records prints three times per
 * record, and gmtime_r() with snprintf() cost more than the rest of the
 * record together.
 */
static void
rs_clock_civil(int64_t z, unsigned *y, unsigned *m, unsigned *d)
{
	int64_t		 era;
	unsigned	 doe, yoe, doy, mp;

	z += 719468;
	era = z / 146097;
	doe = (unsigned)(z - era * 146097);
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = doy - (153 * mp + 2) / 5 + 1;
	*m = mp < 10 ? mp + 3 : mp - 9;
	*y = (unsigned)(yoe + era * 400) + (*m <= 2);
}

char *
rs_clock_format(char *out, size_t outsz, int64_t ms)
{
	int64_t		 secs = ms / 1000;
	unsigned	 y, m, d, sod = (unsigned)(secs % 86400);

	/* Four-digit years only: 9999-12-31T23:59:59.999Z at the most. */
	if (ms < 0 || ms > INT64_C(253402300799999) ||
	    outsz < RS_CLOCK_RFC3339_LEN + 1) {
		if (outsz > 0)
			out[0] = '\0';
		return out;
	}
	rs_clock_civil(secs / 86400, &y, &m, &d);
	memcpy(out, "0000-00-00T00:00:00.000Z", RS_CLOCK_RFC3339_LEN + 1);
	rs_clock_put(out, y, 4);
	rs_clock_put(out + 5, m, 2);
	rs_clock_put(out + 8, d, 2);
	rs_clock_put(out + 11, sod / 3600, 2);
	rs_clock_put(out + 14, sod / 60 % 60, 2);
	rs_clock_put(out + 17, sod % 60, 2);
	rs_clock_put(out + 20, (unsigned)(ms % 1000), 3);
	return out;
}

static int
rs_clock_digits(const char *s, int n, int *v)
{
	int	 i;

	*v = 0;
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		*v = *v * 10 + (s[i] - '0');
	}
	return 0;
}

static int
rs_clock_mdays(int y, int mo)
{
	static const int	 days[12] = {
		31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	int			 leap = (y % 4 == 0 && y % 100 != 0) ||
				    y % 400 == 0;

	return days[mo - 1] + (mo == 2 && leap);
}

int
rs_clock_parse(const char *s, int64_t *ms)
{
	struct tm	 tm;
	int		 y, mo, d, h, mi, sec, frac = 0, oh, om, off = 0;
	time_t		 t;

	memset(&tm, 0, sizeof(tm));
	if (strlen(s) < 20 || rs_clock_digits(s, 4, &y) ||
	    s[4] != '-' || rs_clock_digits(s + 5, 2, &mo) ||
	    s[7] != '-' || rs_clock_digits(s + 8, 2, &d) ||
	    (s[10] != 'T' && s[10] != 't') ||
	    rs_clock_digits(s + 11, 2, &h) || s[13] != ':' ||
	    rs_clock_digits(s + 14, 2, &mi) || s[16] != ':' ||
	    rs_clock_digits(s + 17, 2, &sec))
		return -1;
	s += 19;
	if (*s == '.') {
		int	 n = 0, scale = 100;

		for (s++; *s >= '0' && *s <= '9'; s++, n++) {
			frac += (*s - '0') * scale;
			scale /= 10;
		}
		if (n == 0 || n > 9)
			return -1;
	}
	if (*s == 'Z' || *s == 'z')
		s++;
	else if ((*s == '+' || *s == '-') && strlen(s) == 6 &&
	    rs_clock_digits(s + 1, 2, &oh) == 0 && s[3] == ':' &&
	    rs_clock_digits(s + 4, 2, &om) == 0 && oh < 24 && om < 60) {
		off = (oh * 60 + om) * (*s == '+' ? 1 : -1);
		s += 6;
	} else
		return -1;
	if (*s != '\0' || mo < 1 || mo > 12 || d < 1 ||
	    d > rs_clock_mdays(y, mo) || h > 23 || mi > 59 || sec > 60)
		return -1;
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec;
	if ((t = timegm(&tm)) == (time_t)-1)
		return -1;
	*ms = ((int64_t)t - (int64_t)off * 60) * 1000 + frac;
	return 0;
}
