/*
 * slot.h: one of a fixed number of places, held by a process for a
 * while. A place is a file "<name>.<k>" in a directory, held by an
 * flock(LOCK_EX | LOCK_NB) on it: the kernel lets go when the holder
 * closes the file or dies, so a process killed mid-stream never keeps a
 * place, and nothing needs cleaning up. Event streams (sse.h) use places
 * to cap how many run at once across every process of the pool without
 * a daemon or a shared table. Files are made when missing and never
 * removed (a name's places are at most cap small files).
 *
 * Core: no request, no database.
 */
#ifndef RS_SLOT_H
#define RS_SLOT_H

#include "err.h"

struct rs_slot {
	int	 fd;		/* the held file, or -1 */
};

void		rs_slot_init(struct rs_slot *s);
/*
 * Takes a free one of cap places named name (letters, digits, '_' and
 * '-') in dir, made (mode 0700) when missing. RS_OK; RS_ERR_BUSY when
 * all cap are held (or cap is 0); RS_ERR_INVAL for a bad name; RS_ERR_IO
 * when the files cannot be used (logged).
 */
enum rs_err	rs_slot_take(struct rs_slot *s, const char *dir,
		    const char *name, int cap);
/* Lets go of the place, if one is held. */
void		rs_slot_release(struct rs_slot *s);

#endif /* RS_SLOT_H */
