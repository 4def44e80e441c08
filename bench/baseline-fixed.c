/*
 * baseline-fixed: the ceiling of this architecture on this machine.
 *
 * A FastCGI responder that reads nothing, touches no database and answers
 * every request with the same JSON body.  Whatever RelaySync spends
 * above this per request is its own work (routing, auth, SQL, JSON); what
 * this program costs is the web server, the FastCGI hop and the kernel.
 * The body is a small one, or, with BENCH_ANSWER naming a file, that
 * file's bytes (bench/run gives it a RelaySync list page, so the list's
 * ceiling sends the same bytes).
 * Used by bench/run only; built there with cc -O2 -Wall -Wextra -Werror.
 */
#include <fcgiapp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HEAD	"Status: 200 OK\r\nContent-Type: application/json\r\n\r\n"
#define MAXFILE	(16 * 1024 * 1024)

static const char small[] = HEAD
    "{\"status\":\"ok\",\"id\":\"rec_01JBENCHFIXEDANSWER000000\"}";

/* The header block and the file's bytes in one buffer, or NULL. */
static char *
load(const char *path, size_t *len)
{
	FILE	*f;
	char	*buf;
	size_t	 n;

	if ((f = fopen(path, "rb")) == NULL)
		return NULL;
	if ((buf = malloc(sizeof(HEAD) - 1 + MAXFILE)) == NULL) {
		fclose(f);
		return NULL;
	}
	memcpy(buf, HEAD, sizeof(HEAD) - 1);
	n = fread(buf + sizeof(HEAD) - 1, 1, MAXFILE, f);
	fclose(f);
	*len = sizeof(HEAD) - 1 + n;
	return buf;
}

int
main(void)
{
	FCGX_Request	 req;
	const char	*path = getenv("BENCH_ANSWER");
	const char	*answer = small;
	char		*file = NULL;
	size_t		 len = sizeof(small) - 1;

	if (path != NULL && *path != '\0' &&
	    (answer = file = load(path, &len)) == NULL) {
		fprintf(stderr, "baseline-fixed: %s: cannot read it\n", path);
		return 1;
	}
	if (FCGX_Init() != 0 || FCGX_InitRequest(&req, 0, 0) != 0) {
		fprintf(stderr, "baseline-fixed: FastCGI init failed\n");
		return 1;
	}
	while (FCGX_Accept_r(&req) >= 0) {
		FCGX_PutStr(answer, (int)len, req.out);
		FCGX_Finish_r(&req);
	}
	free(file);
	return 0;
}
