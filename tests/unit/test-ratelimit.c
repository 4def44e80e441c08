/*
 * test-ratelimit: the shared token buckets (lib/ratelimit.h): the bucket
 * arithmetic (burst, refill, a clock that goes back, a long idle, a rate
 * that changes), the table (a collision, a full table, a second mapping),
 * and processes taking from one bucket at once, summing exactly; the
 * failure counters (a window, its end, keys apart, a flood that cannot
 * push out a persistent count, processes counting at once); the file's
 * layout word (a damaged or foreign file is not used); the pool's
 * generation word (zero in a file made before it, seen by every mapping,
 * stepped by processes at once without a step lost) and the attach that
 * never makes or grows a file.
 */
#include <sys/stat.h>
#include <sys/wait.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ratelimit.h"
#include "tap.h"

/* Requests a bucket of rate lets through at one instant from state. */
static int
burst(uint64_t *state, int64_t now, int rate, int max)
{
	struct rs_ratelimit_result	 r;
	int				 n = 0;

	while (n < max) {
		*state = rs_ratelimit_step(*state, now, rate, &r);
		if (!r.allowed)
			break;
		n++;
	}
	return n;
}

static void
test_ratelimit_step(void)
{
	struct rs_ratelimit_result	 r;
	uint64_t			 st = 0;
	int64_t				 t = 1000000;
	int				 n;

	st = rs_ratelimit_step(st, t, 5, &r);
	TAP_OK(r.allowed && r.remaining == 4 && r.reset_ms == 200,
	    "step: a new bucket of 5/s: the first request, 4 left, full "
	    "again in 200 ms");
	TAP_IS_INT(burst(&st, t, 5, 100), 4, "step: then 4 more, no more");
	st = rs_ratelimit_step(st, t, 5, &r);
	TAP_OK(!r.allowed && r.remaining == 0 && r.retry_ms == 200 &&
	    r.reset_ms == 1000, "step: empty: refused, one fits in 200 ms, "
	    "full in 1 s");
	st = rs_ratelimit_step(st, t + 199, 5, &r);
	TAP_OK(!r.allowed && r.retry_ms == 1, "step: 199 ms later, 1 ms "
	    "short");
	TAP_IS_INT(burst(&st, t + 200, 5, 100), 1, "step: at 200 ms, one");
	TAP_IS_INT(burst(&st, t + 5000, 5, 100), 5, "step: idle, full again, "
	    "burst equal to the rate");
	st = 0;
	TAP_IS_INT(burst(&st, t, 120, 1000), 120, "step: 120/s: 120 at once");
	st = 0;
	TAP_IS_INT(burst(&st, t, 7, 1000), 7, "step: 7/s: 7 at once (a rate "
	    "the unit does not divide)");
	st = 0;
	n = burst(&st, t, 1000000, 2000000);
	TAP_OK(n <= 1000000 && n >= 920000, "step: 1,000,000/s: never more, "
	    "at most 8% fewer at once");
	st = 0;
	n = burst(&st, t, 10000, 20000);
	TAP_OK(n <= 10000 && n >= 9990, "step: 10,000/s: never more, at most "
	    "0.1% fewer at once");
	/* A clock that goes back refills nothing, and is not stuck. */
	st = 0;
	burst(&st, t, 5, 100);
	st = rs_ratelimit_step(st, t - 60000, 5, &r);
	TAP_OK(!r.allowed, "step: the clock went back: nothing refilled");
	TAP_IS_INT(burst(&st, t - 60000 + 400, 5, 100), 2,
	    "step: and refilling goes on from there");
	/* A long idle: no overflow, a full bucket. */
	st = 0;
	burst(&st, 1, 1000000, 2000000);
	st = rs_ratelimit_step(st, (1LL << 40) - 1, 1000000, &r);
	TAP_OK(r.allowed && r.remaining >= 999990, "step: 34 years idle at "
	    "the top rate: full, no overflow");
	/* A changed rate keeps the level. */
	st = 0;
	burst(&st, t, 10, 5);
	st = rs_ratelimit_step(st, t, 100, &r);
	TAP_OK(r.allowed && r.remaining == 49, "step: half used at 10/s, at "
	    "100/s half is left");
}

static void
test_ratelimit_table(const char *dir)
{
	struct rs_ratelimit		*rl, *rl2;
	struct rs_ratelimit_result	 r;
	char				 path[256], key[64], a[64], b[64];
	int				 i, n, got;
	enum rs_err			 rc;
	int64_t				 t = 5000000;

	snprintf(path, sizeof(path), "%s/db.ratelimit", dir);
	TAP_SETUP(rs_ratelimit_open(path, &rl) == RS_OK);
	for (n = 0; n < 10 && rs_ratelimit_take(rl, "org_a", 5, t, &r) ==
	    RS_OK && r.allowed; n++)
		continue;
	TAP_IS_INT(n, 5, "table: org_a's 5/s bucket");
	TAP_OK(rs_ratelimit_take(rl, "org_b", 5, t, &r) == RS_OK && r.allowed,
	    "table: org_b has its own");
	TAP_SETUP(rs_ratelimit_open(path, &rl2) == RS_OK);
	TAP_OK(rs_ratelimit_take(rl2, "org_a", 5, t, &r) == RS_OK &&
	    !r.allowed, "table: a second mapping (another process) shares it");
	rs_ratelimit_close(rl2);
	/* Two keys whose first slot is the same: both get a bucket, apart. */
	for (i = 0, got = 0; i < 100000 && !got; i++) {
		snprintf(a, sizeof(a), "org_c%d", i);
		for (n = i + 1; n < i + 5000 && !got; n++) {
			snprintf(b, sizeof(b), "org_c%d", n);
			got = rs_ratelimit_collide(a, b);
		}
	}
	TAP_SETUP(got);
	rs_ratelimit_take(rl, a, 1, t, &r);
	TAP_OK(rs_ratelimit_take(rl, b, 1, t, &r) == RS_OK && r.allowed,
	    "table: a key on another's probe chain has its own bucket");
	TAP_OK(rs_ratelimit_take(rl, a, 1, t, &r) == RS_OK && !r.allowed &&
	    rs_ratelimit_take(rl, b, 1, t, &r) == RS_OK && !r.allowed,
	    "table: and both are counted apart");
	/* Fill the table: some key finds no slot; the others still work. */
	for (i = 0, rc = RS_OK; i < 3 * RS_RATELIMIT_SLOTS && rc == RS_OK;
	    i++) {
		snprintf(key, sizeof(key), "org_fill%d", i);
		rc = rs_ratelimit_take(rl, key, 5, t, &r);
	}
	TAP_IS_INT(rc, RS_ERR_RANGE, "table: a full table says so");
	TAP_OK(rs_ratelimit_take(rl, "org_b", 5, t, &r) == RS_OK && r.allowed,
	    "table: keys already in it go on");
	rs_ratelimit_close(rl);
	TAP_IS_INT(rs_ratelimit_open(dir, &rl), RS_ERR_IO,
	    "table: a path that is no file cannot be used");
}

/* Four processes take 3,000 each from one bucket of 8,000 at one instant. */
static void
test_ratelimit_processes(const char *dir)
{
	struct rs_ratelimit		*rl;
	struct rs_ratelimit_result	 r;
	char				 path[256];
	int				 p[2], i, k, n, total = 0, st;
	pid_t				 pid[4];

	snprintf(path, sizeof(path), "%s/procs.ratelimit", dir);
	TAP_SETUP(pipe(p) == 0);
	for (k = 0; k < 4; k++) {
		if ((pid[k] = fork()) == 0) {
			close(p[0]);
			if (rs_ratelimit_open(path, &rl) != RS_OK)
				_exit(1);
			for (i = n = 0; i < 3000; i++)
				if (rs_ratelimit_take(rl, "org_shared", 8000,
				    777000, &r) == RS_OK && r.allowed)
					n++;
			if (write(p[1], &n, sizeof(n)) != sizeof(n))
				_exit(1);
			_exit(0);
		}
		TAP_SETUP(pid[k] > 0);
	}
	close(p[1]);
	for (k = 0; k < 4; k++) {
		TAP_SETUP(read(p[0], &n, sizeof(n)) == sizeof(n));
		total += n;
	}
	close(p[0]);
	for (k = 0; k < 4; k++)
		waitpid(pid[k], &st, 0);
	TAP_IS_INT(total, 8000, "processes: 12,000 tries at once on a "
	    "bucket of 8,000: exactly 8,000 through");
}

/* Counts n failures of key at now_ms; the count it then reads. */
static int
fails(struct rs_ratelimit *rl, uint64_t key, int n, int64_t now_ms,
    int *left)
{
	int	 f, i;

	for (i = 0; i < n; i++)
		if (rs_ratelimit_fail_hit(rl, key, now_ms, 60) != RS_OK)
			return -1;
	rs_ratelimit_fail_get(rl, key, now_ms, 60, &f, left);
	return f;
}

static void
test_ratelimit_fails(const char *dir)
{
	struct rs_ratelimit	*rl;
	char			 path[256];
	int			 f, left, i, got;
	uint64_t		 a = 0x1234567890abcdefULL, b, c, flood;
	int64_t			 t = 9000000;

	snprintf(path, sizeof(path), "%s/fails.ratelimit", dir);
	TAP_SETUP(rs_ratelimit_open(path, &rl) == RS_OK);
	rs_ratelimit_fail_get(rl, a, t, 60, &f, &left);
	TAP_OK(f == 0 && left == 0, "fails: a key never seen: none, no "
	    "window");
	TAP_OK(fails(rl, a, 3, t, &left) == 3 && left == 60,
	    "fails: three failures open a 60 s window");
	TAP_OK(fails(rl, a, 2, t + 59500, &left) == 5 && left == 1,
	    "fails: counted in the window until its last second");
	rs_ratelimit_fail_get(rl, a, t + 60000, 60, &f, &left);
	TAP_OK(f == 0 && left == 0, "fails: the window closes 60 s after "
	    "its first failure");
	TAP_OK(fails(rl, a, 1, t + 61000, &left) == 1 && left == 60,
	    "fails: the next failure opens a new window");
	/* Another key on a's first slot, and one that shares its tag too
	 * but not its slots, are counted apart. */
	b = a + RS_RATELIMIT_FAIL_SLOTS;
	b ^= 0xffffULL << 48;
	TAP_SETUP(rs_ratelimit_fail_collide(a, b));
	c = a + 1000;
	TAP_OK(fails(rl, b, 4, t + 61000, &left) == 4 &&
	    fails(rl, c, 2, t + 61000, &left) == 2 &&
	    fails(rl, a, 0, t + 61000, &left) == 1, "fails: keys on one "
	    "probe chain, or with the same tag elsewhere, apart");
	/* A flood of one-off keys over a's slots: its count of 10 stays,
	 * the flood's counts of 1 give way to each other. */
	TAP_SETUP(fails(rl, a, 9, t + 61000, &left) == 10);
	for (i = 0, got = 1; i < 20000; i++) {
		flood = a + (uint64_t)(i % RS_RATELIMIT_FAIL_PROBE) +
		    ((uint64_t)(i + 1) << 48) * 7;
		flood = (flood & ~(0xffffULL << 48)) | ((uint64_t)(i + 1) &
		    0xffff) << 48;
		if ((flood >> 48) == (a >> 48))
			continue;
		if (rs_ratelimit_fail_hit(rl, flood, t + 62000, 60) != RS_OK)
			got = 0;
	}
	TAP_OK(got && fails(rl, a, 0, t + 62000, &left) == 10 &&
	    fails(rl, b, 0, t + 62000, &left) == 4, "fails: 20,000 one-off "
	    "keys over the same slots do not push out counts of 10 and 4");
	rs_ratelimit_close(rl);
}

/* Four processes count 2,500 failures each under one key at once. */
static void
test_ratelimit_fail_processes(const char *dir)
{
	struct rs_ratelimit	*rl;
	char			 path[256];
	int			 i, k, st, f, left, ok = 1;
	pid_t			 pid[4];

	snprintf(path, sizeof(path), "%s/fprocs.ratelimit", dir);
	for (k = 0; k < 4; k++) {
		if ((pid[k] = fork()) == 0) {
			if (rs_ratelimit_open(path, &rl) != RS_OK)
				_exit(1);
			for (i = 0; i < 2500; i++)
				if (rs_ratelimit_fail_hit(rl, 0xabcdefULL <<
				    20, 123000, 60) != RS_OK)
					_exit(1);
			_exit(0);
		}
		TAP_SETUP(pid[k] > 0);
	}
	for (k = 0; k < 4; k++)
		if (waitpid(pid[k], &st, 0) != pid[k] || !WIFEXITED(st) ||
		    WEXITSTATUS(st) != 0)
			ok = 0;
	TAP_SETUP(ok && rs_ratelimit_open(path, &rl) == RS_OK);
	rs_ratelimit_fail_get(rl, 0xabcdefULL << 20, 123000, 60, &f, &left);
	TAP_IS_INT(f, 10000, "fails: four processes counting at once: "
	    "exactly 10,000");
	rs_ratelimit_close(rl);
}

/* The layout word: a new file gets it, a foreign one is refused. */
static void
test_ratelimit_file(const char *dir)
{
	struct rs_ratelimit		*rl;
	struct rs_ratelimit_result	 r;
	char				 path[256], junk[4096];
	FILE				*fp;

	snprintf(path, sizeof(path), "%s/junk.ratelimit", dir);
	memset(junk, 0x5a, sizeof(junk));
	TAP_SETUP((fp = fopen(path, "w")) != NULL);
	TAP_SETUP(fwrite(junk, 1, sizeof(junk), fp) == sizeof(junk));
	fclose(fp);
	TAP_IS_INT(rs_ratelimit_open(path, &rl), RS_ERR_STATE,
	    "file: one that is not such a table is not used");
	snprintf(path, sizeof(path), "%s/short.ratelimit", dir);
	TAP_SETUP((fp = fopen(path, "w")) != NULL);
	fclose(fp);
	TAP_OK(rs_ratelimit_open(path, &rl) == RS_OK &&
	    rs_ratelimit_take(rl, "org_z", 2, 1000, &r) == RS_OK &&
	    r.allowed && r.remaining == 1, "file: an empty one becomes a "
	    "table");
	rs_ratelimit_close(rl);
	TAP_OK(rs_ratelimit_open(path, &rl) == RS_OK &&
	    rs_ratelimit_take(rl, "org_z", 2, 1000, &r) == RS_OK &&
	    r.allowed && r.remaining == 0, "file: and is the same table when "
	    "opened again");
	rs_ratelimit_close(rl);
}

static void
test_ratelimit_gen(const char *dir)
{
	struct rs_ratelimit	*a, *b;
	char			 path[256], buf[16];
	pid_t			 pid[4];
	struct stat		 sb;
	FILE			*fp;
	int			 i, st, all = 1;

	TAP_IS_INT(rs_ratelimit_path(path, sizeof(path), "/x/relaysync.db"),
	    RS_OK, "gen: the table's file is named beside the database");
	TAP_IS_STR(path, "/x/relaysync.db.ratelimit",
	    "gen: as <database>.ratelimit");
	TAP_IS_INT(rs_ratelimit_path(buf, sizeof(buf), "/x/relaysync.db"),
	    RS_ERR_RANGE, "gen: a name that does not fit is refused");

	snprintf(path, sizeof(path), "%s/gen.ratelimit", dir);
	TAP_IS_INT(rs_ratelimit_attach(path, &a), RS_ERR_IO,
	    "gen: attaching to a missing table fails");
	TAP_OK(stat(path, &sb) == -1, "gen: and does not make the file");
	TAP_SETUP((fp = fopen(path, "w")) != NULL);
	fclose(fp);
	TAP_IS_INT(rs_ratelimit_attach(path, &a), RS_ERR_STATE,
	    "gen: attaching to an empty file fails");
	TAP_OK(stat(path, &sb) == 0 && sb.st_size == 0,
	    "gen: and leaves it as it was");

	TAP_SETUP(rs_ratelimit_open(path, &a) == RS_OK);
	TAP_OK(rs_ratelimit_gen(a) == 0, "gen: a new table starts at 0");
	TAP_SETUP(rs_ratelimit_attach(path, &b) == RS_OK);
	rs_ratelimit_gen_bump(b);
	TAP_OK(rs_ratelimit_gen(a) == 1,
	    "gen: a step through one mapping is seen through another");
	rs_ratelimit_close(b);

	/* Four processes step it 10,000 times each, at once. */
	for (i = 0; i < 4; i++) {
		if ((pid[i] = fork()) == 0) {
			int	 n;

			if (rs_ratelimit_attach(path, &b) != RS_OK)
				_exit(1);
			for (n = 0; n < 10000; n++)
				rs_ratelimit_gen_bump(b);
			_exit(0);
		}
		TAP_SETUP(pid[i] > 0);
	}
	for (i = 0; i < 4; i++)
		if (waitpid(pid[i], &st, 0) != pid[i] || !WIFEXITED(st) ||
		    WEXITSTATUS(st) != 0)
			all = 0;
	TAP_OK(all && rs_ratelimit_gen(a) == 40001,
	    "gen: processes stepping at once lose no step");
	rs_ratelimit_close(a);
}

int
main(void)
{
	char	 tmpl[] = "/tmp/test-ratelimit-XXXXXX", cmd[300];

	tap_plan(14 + 8 + 1 + 7 + 1 + 3 + 10);
	TAP_SETUP(mkdtemp(tmpl) != NULL);
	test_ratelimit_step();
	test_ratelimit_table(tmpl);
	test_ratelimit_processes(tmpl);
	test_ratelimit_fails(tmpl);
	test_ratelimit_fail_processes(tmpl);
	test_ratelimit_file(tmpl);
	test_ratelimit_gen(tmpl);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpl);
	if (system(cmd) != 0)
		tap_diag("could not remove %s", tmpl);
	return tap_done();
}
