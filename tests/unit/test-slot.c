/*
 * test-slot: places held with flock (lib/slot.h): cap of them and no
 * more, freed by release and by the holder's death, never by another
 * process's close; names that are not file-name safe refused.
 */
#include <sys/stat.h>
#include <sys/wait.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "slot.h"
#include "tap.h"

static char	 dir[256];

static void
test_slot_cap(void)
{
	struct rs_slot	 s[4];
	int		 i;

	for (i = 0; i < 4; i++)
		rs_slot_init(&s[i]);
	TAP_IS_INT(rs_slot_take(&s[0], dir, "org_a", 3), RS_OK,
	    "slot: first of 3 taken");
	TAP_IS_INT(rs_slot_take(&s[1], dir, "org_a", 3), RS_OK,
	    "slot: second of 3 taken");
	TAP_IS_INT(rs_slot_take(&s[2], dir, "org_a", 3), RS_OK,
	    "slot: third of 3 taken");
	TAP_IS_INT(rs_slot_take(&s[3], dir, "org_a", 3), RS_ERR_BUSY,
	    "slot: a fourth of 3 is busy");
	TAP_IS_INT(s[3].fd, -1, "slot: a busy take holds nothing");
	TAP_IS_INT(rs_slot_take(&s[3], dir, "org_b", 3), RS_OK,
	    "slot: another name has places of its own");
	rs_slot_release(&s[3]);
	rs_slot_release(&s[1]);
	TAP_IS_INT(rs_slot_take(&s[1], dir, "org_a", 3), RS_OK,
	    "slot: a released place is taken again");
	TAP_IS_INT(rs_slot_take(&s[3], dir, "org_a", 3), RS_ERR_BUSY,
	    "slot: and then all 3 are held again");
	for (i = 0; i < 4; i++)
		rs_slot_release(&s[i]);
	rs_slot_release(&s[0]);		/* twice: harmless */
	TAP_IS_INT(rs_slot_take(&s[0], dir, "org_a", 0), RS_ERR_BUSY,
	    "slot: a cap of 0 has no place");
	TAP_IS_INT(rs_slot_take(&s[0], dir, "../etc", 2), RS_ERR_INVAL,
	    "slot: a name with a path in it is refused");
	TAP_IS_INT(rs_slot_take(&s[0], dir, "", 2), RS_ERR_INVAL,
	    "slot: an empty name is refused");
}

/* A child takes the only place and waits; its death must free it. */
static void
test_slot_death(void)
{
	struct rs_slot	 s;
	int		 p[2], st;
	char		 c;
	pid_t		 pid;

	rs_slot_init(&s);
	TAP_SETUP(pipe(p) == 0);
	if ((pid = fork()) == 0) {
		close(p[0]);
		c = rs_slot_take(&s, dir, "pool", 1) == RS_OK ? 'y' : 'n';
		if (write(p[1], &c, 1) != 1)
			_exit(1);
		pause();
		_exit(0);
	}
	TAP_SETUP(pid > 0);
	close(p[1]);
	TAP_SETUP(read(p[0], &c, 1) == 1);
	close(p[0]);
	TAP_IS_INT(c, 'y', "slot: a child process takes the only place");
	TAP_IS_INT(rs_slot_take(&s, dir, "pool", 1), RS_ERR_BUSY,
	    "slot: another process finds it held");
	kill(pid, SIGKILL);
	waitpid(pid, &st, 0);
	TAP_IS_INT(rs_slot_take(&s, dir, "pool", 1), RS_OK,
	    "slot: the holder's death (SIGKILL) frees it");
	rs_slot_release(&s);
}

static void
test_slot_bad_dir(void)
{
	struct rs_slot	 s;

	rs_slot_init(&s);
	TAP_IS_INT(rs_slot_take(&s, "/nonexistent-dir/for/slots", "pool", 2),
	    RS_ERR_IO, "slot: a directory that cannot be made is an error");
}

int
main(void)
{
	char	 cmd[300];
	char	 tmpl[] = "/tmp/test-slot-XXXXXX";

	tap_plan(11 + 3 + 1);
	TAP_SETUP(mkdtemp(tmpl) != NULL);
	snprintf(dir, sizeof(dir), "%s/db-streams", tmpl);
	test_slot_cap();
	test_slot_death();
	test_slot_bad_dir();
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpl);
	if (system(cmd) != 0)
		tap_diag("could not remove %s", tmpl);
	return tap_done();
}
