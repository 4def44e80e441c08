/*
 * baseline-fixed: the ceiling of this architecture on this machine.
 *
 * A FastCGI responder that reads nothing, touches no database and answers
 * every request with the same small JSON body.  Whatever RelaySync spends
 * above this per request is its own work (routing, auth, SQL, JSON); what
 * this program costs is the web server, the FastCGI hop and the kernel.
 * Used by bench/run only; built there with cc -O2 -Wall -Wextra -Werror.
 */
#include <fcgiapp.h>
#include <stdio.h>

static const char answer[] =
    "Status: 200 OK\r\n"
    "Content-Type: application/json\r\n"
    "\r\n"
    "{\"status\":\"ok\",\"id\":\"rec_01JBENCHFIXEDANSWER000000\"}";

int
main(void)
{
	FCGX_Request req;

	if (FCGX_Init() != 0 || FCGX_InitRequest(&req, 0, 0) != 0) {
		fprintf(stderr, "baseline-fixed: FastCGI init failed\n");
		return 1;
	}
	while (FCGX_Accept_r(&req) >= 0) {
		FCGX_PutStr(answer, (int)sizeof(answer) - 1, req.out);
		FCGX_Finish_r(&req);
	}
	return 0;
}
