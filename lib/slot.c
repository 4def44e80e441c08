#include <sys/file.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "log.h"

/* lib/limits.h, ours, hides the system's PATH_MAX. */
#define RS_SLOT_PATH_MAX	4096
#include "slot.h"

void
rs_slot_init(struct rs_slot *s)
{
	s->fd = -1;
}

/* Is name safe as part of a file name? */
static int
rs_slot_name_ok(const char *name)
{
	size_t	 len = strlen(name);

	return len > 0 && len <= 64 && strspn(name, "abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") == len;
}

/* Holds place path: 1 when taken, 0 when another holds it, -1 on error. */
static int
rs_slot_try(struct rs_slot *s, const char *path)
{
	int	 fd, e;

	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd == -1)
		return -1;
	if (flock(fd, LOCK_EX | LOCK_NB) == 0) {
		s->fd = fd;
		return 1;
	}
	e = errno;
	close(fd);
	if (e == EWOULDBLOCK)
		return 0;
	errno = e;
	return -1;
}

enum rs_err
rs_slot_take(struct rs_slot *s, const char *dir, const char *name, int cap)
{
	char	 path[RS_SLOT_PATH_MAX];
	int	 k, n, got;

	s->fd = -1;
	if (!rs_slot_name_ok(name))
		return RS_ERR_INVAL;
	if (mkdir(dir, 0700) == -1 && errno != EEXIST) {
		rs_log_err("%s: cannot make the stream slots' directory: %s",
		    dir, strerror(errno));
		return RS_ERR_IO;
	}
	for (k = 0; k < cap; k++) {
		n = snprintf(path, sizeof(path), "%s/%s.%d", dir, name, k);
		if (n < 0 || (size_t)n >= sizeof(path))
			return RS_ERR_IO;
		if ((got = rs_slot_try(s, path)) == 1)
			return RS_OK;
		if (got == -1) {
			rs_log_err("%s: cannot use a stream slot: %s", path,
			    strerror(errno));
			return RS_ERR_IO;
		}
	}
	return RS_ERR_BUSY;
}

void
rs_slot_release(struct rs_slot *s)
{
	if (s->fd != -1)
		close(s->fd);
	s->fd = -1;
}
