/*
 * relaysync.h: librelaysync's face for the programs in cgi-bin/ and bin/.
 * The programs parse arguments, loop and print; every decision is in
 * the modules below.
 */
#ifndef RELAYSYNC_H
#define RELAYSYNC_H

#include "limits.h"
#include "err.h"
#include "log.h"
#include "arena.h"
#include "clock.h"
#include "config.h"
#include "num.h"
#include "db.h"
#include "migrate.h"
#include "secret.h"
#include "role.h"
#include "admin.h"
#include "relay.h"
#include "app.h"

#endif /* RELAYSYNC_H */
