/*
 * tap.h: a header-only Test Anything Protocol producer for the unit
 * tests, read by automake's tap-driver.sh.
 *
 * A program declares its plan first, tap_plan(N), so that one which
 * stops early fails (tap-driver.sh reports the missing checks), and ends
 * with tap_done(), which returns the exit status: 0 when every check
 * passed and exactly N ran, 1 otherwise. Each check prints "ok N - name"
 * or "not ok N - name" followed, on failure, by "# file:line: expr" and
 * what was got and expected.
 *
 * Setup is not a check, but it must not fail quietly: TAP_SETUP(expr)
 * and tap_bail() stop the program with "Bail out!", which the driver
 * counts as an error.
 *
 * TAP_TODO_BEGIN(why) / TAP_TODO_END() mark checks that document a known
 * bug in lib/: they print "# TODO why", which tap-driver.sh counts as an
 * expected failure (XFAIL) while they fail and as XPASS, a suite failure,
 * once the bug is fixed, so the marker cannot outlive the bug.
 *
 * Names must not contain '#' (it starts a TAP directive).
 */
#ifndef RS_TAP_H
#define RS_TAP_H

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct tap_state {
	int		 plan;		/* checks declared, -1: none yet */
	int		 n;		/* checks run */
	int		 failed;	/* failed, not counting TODO */
	const char	*todo;		/* reason while in a TODO block */
};

/* The one state of this test program. */
static inline struct tap_state *
tap_state(void)
{
	static struct tap_state	 s = { -1, 0, 0, NULL };

	return &s;
}

/* Declares how many checks the program runs; call it first. */
static inline void
tap_plan(int n)
{
	tap_state()->plan = n;
	printf("1..%d\n", n);
	fflush(stdout);
}

/* Stops the program: setup failed, so no later check means anything. */
static inline void	tap_bail(const char *fmt, ...)
			    __attribute__((format(printf, 1, 2), noreturn));

static inline void
tap_bail(const char *fmt, ...)
{
	va_list	 ap;

	fputs("Bail out! ", stdout);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	fputc('\n', stdout);
	fflush(stdout);
	exit(1);
}

/* A diagnostic line: "# " then the formatted text. */
static inline void	tap_diag(const char *fmt, ...)
			    __attribute__((format(printf, 1, 2)));

static inline void
tap_diag(const char *fmt, ...)
{
	va_list	 ap;

	fputs("# ", stdout);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	fputc('\n', stdout);
	fflush(stdout);
}

/*
 * Records one check. Returns ok so that a test can stop early when a
 * later check would only dereference what failed.
 */
static inline int
tap_result(int ok, const char *name, const char *file, int line,
    const char *expr)
{
	struct tap_state	*s = tap_state();

	s->n++;
	printf("%sok %d - %s", ok ? "" : "not ", s->n, name);
	if (s->todo != NULL)
		printf(" # TODO %s", s->todo);
	fputc('\n', stdout);
	if (!ok) {
		tap_diag("%s:%d: %s", file, line, expr);
		if (s->todo == NULL)
			s->failed++;
	}
	fflush(stdout);
	return ok;
}

/*
 * Records n checks that do not apply here, each "ok N # skip why": for
 * a test of one backend's own mechanism run on the other (the count
 * stays the plan's, and the reason is in the output).
 */
static inline void
tap_skip(int n, const char *why)
{
	struct tap_state	*s = tap_state();

	while (n-- > 0) {
		s->n++;
		printf("ok %d # skip %s\n", s->n, why);
	}
	fflush(stdout);
}

static inline int
tap_is_int(intmax_t got, intmax_t want, const char *name, const char *file,
    int line, const char *expr)
{
	int	 ok = got == want;

	if (!tap_result(ok, name, file, line, expr)) {
		tap_diag("       got: %jd", got);
		tap_diag("  expected: %jd", want);
	}
	return ok;
}

/* Equal when both are NULL or both hold the same bytes. */
static inline int
tap_is_str(const char *got, const char *want, const char *name,
    const char *file, int line, const char *expr)
{
	int	 ok;

	if (got == NULL || want == NULL)
		ok = got == want;
	else
		ok = strcmp(got, want) == 0;
	if (!tap_result(ok, name, file, line, expr)) {
		if (got == NULL)
			tap_diag("       got: NULL");
		else
			tap_diag("       got: \"%s\"", got);
		if (want == NULL)
			tap_diag("  expected: NULL");
		else
			tap_diag("  expected: \"%s\"", want);
	}
	return ok;
}

/* True when hay (not NULL) contains needle. */
static inline int
tap_has_str(const char *hay, const char *needle, const char *name,
    const char *file, int line, const char *expr)
{
	int	 ok = hay != NULL && strstr(hay, needle) != NULL;

	if (!tap_result(ok, name, file, line, expr)) {
		if (hay == NULL)
			tap_diag("       got: NULL");
		else
			tap_diag("       got: \"%s\"", hay);
		tap_diag("  expected to contain: \"%s\"", needle);
	}
	return ok;
}

/*
 * The exit status of the test program: 1 when a check failed or the
 * count differs from the plan (a program without tap_plan() prints its
 * count as the plan here, the old way).
 */
static inline int
tap_done(void)
{
	struct tap_state	*s = tap_state();

	if (s->plan < 0)
		printf("1..%d\n", s->n);
	else if (s->n != s->plan) {
		tap_diag("planned %d checks but ran %d", s->plan, s->n);
		s->failed++;
	}
	if (s->failed > 0)
		tap_diag("%d of %d checks failed", s->failed, s->n);
	fflush(stdout);
	return s->failed > 0 ? 1 : 0;
}

#define TAP_OK(expr, name) \
	tap_result(!!(expr), (name), __FILE__, __LINE__, #expr)
#define TAP_IS_INT(a, b, name) \
	tap_is_int((intmax_t)(a), (intmax_t)(b), (name), __FILE__, __LINE__, \
	    #a " == " #b)
#define TAP_IS_STR(a, b, name) \
	tap_is_str((a), (b), (name), __FILE__, __LINE__, #a " eq " #b)
#define TAP_HAS_STR(hay, needle, name) \
	tap_has_str((hay), (needle), (name), __FILE__, __LINE__, \
	    #hay " contains " #needle)
/* Setup that must succeed: bails out naming the call when it does not. */
#define TAP_SETUP(expr) \
	((expr) ? (void)0 : tap_bail("%s:%d: setup failed: %s", __FILE__, \
	    __LINE__, #expr))
#define TAP_TODO_BEGIN(why)	(tap_state()->todo = (why))
#define TAP_TODO_END()		(tap_state()->todo = NULL)

#endif /* RS_TAP_H */
