#include <sys/mman.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "ratelimit.h"

/* The level refills by this many units a millisecond: full in 1 s. */
#define RS_RL_PER_MS	(RS_RATELIMIT_FULL / 1000)
#define RS_RL_UNITS	24
#define RS_RL_UNIT_MASK	((1ULL << RS_RL_UNITS) - 1)
#define RS_RL_TIME_MASK	((1ULL << (64 - RS_RL_UNITS)) - 1)
#define RS_RL_CAS_TRIES	1000
/* The file's first word: its layout ("RSLimit1"). */
#define RS_RL_MAGIC	0x52534c696d697431ULL
/* A failure counter: key tag 16 | window start (s) 24 | count 24. */
#define RS_RL_F_BITS	24
#define RS_RL_F_MASK	((1ULL << RS_RL_F_BITS) - 1)

struct rs_rl_slot {
	_Atomic uint64_t	 key;	/* 0: free */
	_Atomic uint64_t	 state;	/* 0: unused, a full bucket */
};

/* The file. Zeros are a valid empty table: a new file needs no writing
 * but its first word. */
struct rs_rl_file {
	_Atomic uint64_t	 magic;
	/* Was reserved (zero) in files made before it: a valid start. */
	_Atomic uint64_t	 gen;
	uint64_t		 reserved[6];
	struct rs_rl_slot	 slots[RS_RATELIMIT_SLOTS];
	_Atomic uint64_t	 fails[RS_RATELIMIT_FAIL_SLOTS];
};

struct rs_ratelimit {
	struct rs_rl_file	*f;
	struct rs_rl_slot	*slots;
};

int64_t
rs_ratelimit_now(void)
{
	return rs_clock_mono_ms();
}


uint64_t
rs_ratelimit_step(uint64_t state, int64_t now_ms, int rate,
    struct rs_ratelimit_result *r)
{
	uint64_t	 now = (uint64_t)now_ms & RS_RL_TIME_MASK, last, units;
	uint64_t	 elapsed, need, rt = (uint64_t)rate;

	if (state == 0) {
		last = now;
		units = RS_RATELIMIT_FULL;
	} else {
		last = state >> RS_RL_UNITS;
		units = state & RS_RL_UNIT_MASK;
	}
	/* A clock that went back (another boot) refills nothing. Past a
	 * second the bucket is full: the product cannot overflow. */
	elapsed = now > last ? now - last : 0;
	if (elapsed >= 1000 || units + elapsed * RS_RL_PER_MS >=
	    RS_RATELIMIT_FULL)
		units = RS_RATELIMIT_FULL;
	else
		units += elapsed * RS_RL_PER_MS;
	memset(r, 0, sizeof(*r));
	/* A request's cost rounds up: never more than the rate gets in. */
	need = (RS_RATELIMIT_FULL + rt - 1) / rt;
	if (units >= need) {
		units -= need;
		r->allowed = 1;
	} else
		r->retry_ms = (int64_t)((need - units + RS_RL_PER_MS - 1) /
		    RS_RL_PER_MS);
	r->remaining = (int64_t)(units * rt / RS_RATELIMIT_FULL);
	r->reset_ms = (int64_t)((RS_RATELIMIT_FULL - units + RS_RL_PER_MS -
	    1) / RS_RL_PER_MS);
	/* Never 0: that means unused. */
	state = (now << RS_RL_UNITS) | units;
	return state != 0 ? state : 1;
}

/*
 * Maps the table in path; create: make the file (mode 0600) or grow a
 * shorter one with zeros. Without it, a missing or short file is not
 * touched: RS_ERR_IO (ENOENT) or RS_ERR_STATE.
 */
static enum rs_err
rs_ratelimit_map(const char *path, int create, struct rs_ratelimit **out)
{
	struct rs_ratelimit	*rl;
	struct rs_rl_file	*f;
	struct stat		 sb;
	uint64_t		 seen = 0;
	void			*p;
	int			 fd, e;

	*out = NULL;
	if ((fd = open(path, O_RDWR | O_CLOEXEC | O_NOFOLLOW |
	    (create ? O_CREAT : 0), 0600)) == -1)
		return RS_ERR_IO;
	if (fstat(fd, &sb) == -1)
		goto fail;
	if ((size_t)sb.st_size < sizeof(*f) && !create) {
		close(fd);
		return RS_ERR_STATE;
	}
	/* A shorter file (new, or cut) grows with zeros: free slots. */
	if ((size_t)sb.st_size < sizeof(*f) &&
	    ftruncate(fd, (off_t)sizeof(*f)) == -1)
		goto fail;
	if ((p = mmap(NULL, sizeof(*f), PROT_READ | PROT_WRITE, MAP_SHARED,
	    fd, 0)) == MAP_FAILED)
		goto fail;
	close(fd);
	f = p;
	/* Processes starting together race to name a new file: one word,
	 * so none sees it half named. */
	if (!atomic_compare_exchange_strong(&f->magic, &seen, RS_RL_MAGIC) &&
	    seen != RS_RL_MAGIC) {
		munmap(p, sizeof(*f));
		return RS_ERR_STATE;
	}
	if ((rl = calloc(1, sizeof(*rl))) == NULL) {
		munmap(p, sizeof(*f));
		return RS_ERR_NOMEM;
	}
	rl->f = f;
	rl->slots = f->slots;
	*out = rl;
	return RS_OK;
fail:
	e = errno;
	close(fd);
	errno = e;
	return RS_ERR_IO;
}

enum rs_err
rs_ratelimit_open(const char *path, struct rs_ratelimit **out)
{
	return rs_ratelimit_map(path, 1, out);
}

enum rs_err
rs_ratelimit_attach(const char *path, struct rs_ratelimit **out)
{
	return rs_ratelimit_map(path, 0, out);
}

enum rs_err
rs_ratelimit_path(char *buf, size_t bufsz, const char *db_path)
{
	int	 n = snprintf(buf, bufsz, "%s.ratelimit", db_path);

	return n < 0 || (size_t)n >= bufsz ? RS_ERR_RANGE : RS_OK;
}

uint64_t
rs_ratelimit_gen(struct rs_ratelimit *rl)
{
	return atomic_load_explicit(&rl->f->gen, memory_order_acquire);
}

void
rs_ratelimit_gen_bump(struct rs_ratelimit *rl)
{
	atomic_fetch_add_explicit(&rl->f->gen, 1, memory_order_acq_rel);
}

void
rs_ratelimit_close(struct rs_ratelimit *rl)
{
	if (rl == NULL)
		return;
	munmap(rl->f, sizeof(*rl->f));
	free(rl);
}

/* FNV-1a, 64 bits; never 0 (a free slot). */
static uint64_t
rs_rl_hash(const char *s)
{
	uint64_t	 h = 0xcbf29ce484222325ULL;

	for (; *s != '\0'; s++) {
		h ^= (unsigned char)*s;
		h *= 0x100000001b3ULL;
	}
	return h != 0 ? h : 1;
}

/* key's slot, claimed when it has none yet; NULL when none is left. */
static struct rs_rl_slot *
rs_rl_slot(struct rs_ratelimit *rl, uint64_t h)
{
	struct rs_rl_slot	*s;
	uint64_t		 seen;
	size_t			 i, k;

	for (k = 0; k < RS_RATELIMIT_PROBE; k++) {
		i = (size_t)((h + k) % RS_RATELIMIT_SLOTS);
		s = &rl->slots[i];
		seen = atomic_load(&s->key);
		if (seen == h)
			return s;
		if (seen != 0)
			continue;
		/* Free: claim it, unless another process just did. */
		if (atomic_compare_exchange_strong(&s->key, &seen, h) ||
		    seen == h)
			return s;
	}
	return NULL;
}

enum rs_err
rs_ratelimit_take(struct rs_ratelimit *rl, const char *key, int rate,
    int64_t now_ms, struct rs_ratelimit_result *r)
{
	struct rs_rl_slot	*s;
	uint64_t		 old, next;
	int			 n;

	if ((s = rs_rl_slot(rl, rs_rl_hash(key))) == NULL)
		return RS_ERR_RANGE;
	old = atomic_load(&s->state);
	for (n = 0; n < RS_RL_CAS_TRIES; n++) {
		next = rs_ratelimit_step(old, now_ms, rate, r);
		if (atomic_compare_exchange_weak(&s->state, &old, next))
			return RS_OK;
	}
	return RS_ERR_BUSY;
}

int
rs_ratelimit_collide(const char *a, const char *b)
{
	return rs_rl_hash(a) % RS_RATELIMIT_SLOTS ==
	    rs_rl_hash(b) % RS_RATELIMIT_SLOTS;
}

/* Failure counters. */

static uint64_t
rs_rl_fail_word(uint64_t tag, uint64_t start, uint64_t count)
{
	return tag << (2 * RS_RL_F_BITS) | (start & RS_RL_F_MASK) <<
	    RS_RL_F_BITS | count;
}

/*
 * Seconds w's window has been open at now_s, modulo 2^24 (194 days): a
 * counter that old, or from before a reboot, may look open again, and
 * then lasts at most one window.
 */
static uint64_t
rs_rl_fail_age(uint64_t w, uint64_t now_s)
{
	return (now_s - (w >> RS_RL_F_BITS)) & RS_RL_F_MASK;
}

static int
rs_rl_fail_live(uint64_t w, uint64_t now_s, int window_s)
{
	return w != 0 && rs_rl_fail_age(w, now_s) < (uint64_t)window_s;
}

static _Atomic uint64_t *
rs_rl_fail_at(struct rs_ratelimit *rl, uint64_t key, size_t k)
{
	return &rl->f->fails[(key + k) % RS_RATELIMIT_FAIL_SLOTS];
}

void
rs_ratelimit_fail_get(struct rs_ratelimit *rl, uint64_t key, int64_t now_ms,
    int window_s, int *fails, int *left_s)
{
	uint64_t	 now_s = (uint64_t)(now_ms / 1000), tag = key >> 48, w;
	uint64_t	 n = 0, left = 0, l;
	size_t		 k;

	/* Two slots of one key (two processes claimed at once) add up. */
	for (k = 0; k < RS_RATELIMIT_FAIL_PROBE; k++) {
		w = atomic_load(rs_rl_fail_at(rl, key, k));
		if (w >> (2 * RS_RL_F_BITS) != tag ||
		    !rs_rl_fail_live(w, now_s, window_s))
			continue;
		n += w & RS_RL_F_MASK;
		l = (uint64_t)window_s - rs_rl_fail_age(w, now_s);
		if (l > left)
			left = l;
	}
	*fails = n > RS_RATELIMIT_FAIL_MAX ? RS_RATELIMIT_FAIL_MAX : (int)n;
	*left_s = (int)left;
}

/*
 * One look along key's slots at now_s: 1 when the failure was counted,
 * 0 when a slot changed under it (look again).
 */
static int
rs_rl_fail_try(struct rs_ratelimit *rl, uint64_t key, uint64_t now_s,
    int window_s)
{
	_Atomic uint64_t	*s, *give = NULL;
	uint64_t		 tag = key >> 48, w, n, old = 0, fewest = 0;
	uint64_t		 fresh = rs_rl_fail_word(tag, now_s, 1);
	size_t			 k;

	for (k = 0; k < RS_RATELIMIT_FAIL_PROBE; k++) {
		s = rs_rl_fail_at(rl, key, k);
		w = atomic_load(s);
		if (w != 0 && w >> (2 * RS_RL_F_BITS) == tag) {
			if (!rs_rl_fail_live(w, now_s, window_s))
				return atomic_compare_exchange_strong(s, &w,
				    fresh);
			if ((n = w & RS_RL_F_MASK) >= RS_RATELIMIT_FAIL_MAX)
				return 1;
			return atomic_compare_exchange_strong(s, &w, w + 1);
		}
		/* The slot to take if key has none: a free or closed one
		 * first, else the live one with the fewest failures. */
		n = rs_rl_fail_live(w, now_s, window_s) ?
		    w & RS_RL_F_MASK : 0;
		if (give == NULL || n < fewest) {
			give = s;
			old = w;
			fewest = n;
		}
	}
	return atomic_compare_exchange_strong(give, &old, fresh);
}

enum rs_err
rs_ratelimit_fail_hit(struct rs_ratelimit *rl, uint64_t key, int64_t now_ms,
    int window_s)
{
	int	 n;

	for (n = 0; n < RS_RL_CAS_TRIES; n++)
		if (rs_rl_fail_try(rl, key, (uint64_t)(now_ms / 1000),
		    window_s))
			return RS_OK;
	return RS_ERR_BUSY;
}

int
rs_ratelimit_fail_collide(uint64_t a, uint64_t b)
{
	return a % RS_RATELIMIT_FAIL_SLOTS == b % RS_RATELIMIT_FAIL_SLOTS;
}
