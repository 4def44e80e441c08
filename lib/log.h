/*
 * log.h: one-line diagnostics on stderr, which both Apache and lighttpd
 * copy into their error logs. Never pass secrets.
 */
#ifndef RS_LOG_H
#define RS_LOG_H

void	rs_log_set_name(const char *name);
void	rs_log_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void	rs_log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void	rs_log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif /* RS_LOG_H */
