#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "codec.h"
#include "log.h"
#include "secret.h"

enum rs_err
rs_secret_create(const char *path)
{
	unsigned char	 key[RS_SECRET_BYTES];
	char		 hex[RS_SECRET_BYTES * 2 + 2];
	int		 fd;
	ssize_t		 n;
	enum rs_err	 rc = RS_OK;

	if ((fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
	    0600)) == -1)
		return errno == EEXIST ? RS_ERR_EXISTS : RS_ERR_IO;
	randombytes_buf(key, sizeof(key));
	rs_codec_hex_encode(hex, sizeof(hex), key, sizeof(key));
	strcat(hex, "\n");
	n = write(fd, hex, strlen(hex));
	if (n != (ssize_t)strlen(hex) || fsync(fd) != 0)
		rc = RS_ERR_IO;
	close(fd);
	sodium_memzero(key, sizeof(key));
	sodium_memzero(hex, sizeof(hex));
	if (rc != RS_OK)
		unlink(path);
	return rc;
}

enum rs_err
rs_secret_load(const char *path, unsigned char key[RS_SECRET_BYTES])
{
	char		 buf[RS_SECRET_BYTES * 2 + 8];
	int		 fd;
	ssize_t		 n;
	size_t		 len;
	struct stat	 st;
	enum rs_err	 rc = RS_ERR_INVAL;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return RS_ERR_IO;
	if (fstat(fd, &st) == 0 && (st.st_mode & 077) != 0)
		rs_log_warn("%s: readable by group or others; "
		    "chmod 600 it", path);
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n < 0)
		return RS_ERR_IO;
	len = (size_t)n;
	while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == '\r'))
		len--;
	if (len == RS_SECRET_BYTES * 2 &&
	    rs_codec_hex_decode(key, RS_SECRET_BYTES, buf, len) ==
	    RS_SECRET_BYTES)
		rc = RS_OK;
	sodium_memzero(buf, sizeof(buf));
	return rc;
}

void
rs_secret_derive(const unsigned char master[RS_SECRET_BYTES],
    enum rs_secret_use use, unsigned char out[RS_SECRET_BYTES])
{
	static const char *const ctx[] = {
		"rs______", "rs_apike", "rs_token", "rs_cursr", "rs_invit",
		"rs_whsec",
	};

	crypto_kdf_derive_from_key(out, RS_SECRET_BYTES, (uint64_t)use,
	    ctx[use], master);
}
