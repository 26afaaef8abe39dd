/*
 * NAME
 *	net - TCP connection with timeouts, line reading, STLS upgrade
 * SYNOPSIS
 *	#include "fetch.h"
 *
 *	int	net_connect(nc, host, port, timeout, err, errlen);
 *	int	net_starttls(nc, host, ca_file, err, errlen);
 *	int	net_write(nc, data, len, err, errlen);
 *	int	net_printf(nc, err, errlen, fmt, ...);
 *	int	net_getline(nc, buf, buflen, &len, &partial, err, errlen);
 *	void	net_close(nc);
 * DESCRIPTION
 *	All I/O goes through an OpenSSL BIO chain: a socket BIO, and after
 *	net_starttls() an SSL BIO on top of it.  Every read and write is
 *	bounded by nc->timeout seconds (SO_RCVTIMEO/SO_SNDTIMEO); connect
 *	is bounded the same way.
 *
 *	net_starttls() requires TLS 1.3, verifies the chain against
 *	ca_file (or the system CAs when it is empty) and the host name
 *	(or IP address) with X509_VERIFY_PARAM_set1_host/_ip_asc.  It
 *	refuses to start when the peer already sent data after the STLS
 *	answer (command injection, CVE-2011-0411 style).
 *
 *	net_getline() returns one line without its CR LF.  A line longer
 *	than buflen-1 comes back in pieces with *partial set on every
 *	piece but the last.
 * ERRORS
 *	FETCH_TEMP for network trouble and timeouts, FETCH_FAIL for a TLS
 *	handshake or verification failure.
 * OWNERSHIP
 *	The caller owns struct net_conn; net_close() frees what it holds
 *	and may be called on a zeroed or closed struct.
 * THREAD SAFETY
 *	Single-threaded program (fetch.h); no static state.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "fetch.h"
#include "log.h"

/* net_connect_fd - connect one address within timeout; -1 on failure */
static int
net_connect_fd(const struct addrinfo *ai, int timeout, int *saved_errno)
{
	struct pollfd pfd;
	struct timeval tv;
	socklen_t len;
	int	fd, flags, soerr = 0, rc;

	if ((fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC,
			 ai->ai_protocol)) < 0) {
		*saved_errno = errno;
		return (-1);
	}
	flags = fcntl(fd, F_GETFL);
	(void) fcntl(fd, F_SETFL, flags | O_NONBLOCK);
	rc = connect(fd, ai->ai_addr, ai->ai_addrlen);
	if (rc < 0 && errno == EINPROGRESS) {
		pfd.fd = fd;
		pfd.events = POLLOUT;
		rc = poll(&pfd, 1, timeout * 1000);
		if (rc == 0) {
			soerr = ETIMEDOUT;
		} else if (rc < 0) {
			soerr = errno;
		} else {
			len = sizeof(soerr);
			if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len) < 0)
				soerr = errno;
		}
	} else if (rc < 0) {
		soerr = errno;
	}
	if (soerr != 0) {
		*saved_errno = soerr;
		close(fd);
		return (-1);
	}
	(void) fcntl(fd, F_SETFL, flags);
	tv.tv_sec = timeout;
	tv.tv_usec = 0;
	(void) setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	(void) setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	return (fd);
}

/* net_connect - open a TCP connection to host:port */
int
net_connect(struct net_conn *nc, const char *host, int port, int timeout,
	    char *err, size_t errlen)
{
	struct addrinfo hints, *res, *ai;
	char	portstr[16];
	int	rc, fd = -1, saved = 0;

	memset(nc, 0, sizeof(*nc));
	nc->fd = -1;
	nc->timeout = timeout;
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	snprintf(portstr, sizeof(portstr), "%d", port);
	if ((rc = getaddrinfo(host, portstr, &hints, &res)) != 0) {
		snprintf(err, errlen, "%s: %s", host, gai_strerror(rc));
		return (FETCH_TEMP);
	}
	for (ai = res; ai != NULL && fd < 0; ai = ai->ai_next)
		fd = net_connect_fd(ai, timeout, &saved);
	freeaddrinfo(res);
	if (fd < 0) {
		snprintf(err, errlen, "connect to %s port %d: %s", host, port,
			 strerror(saved));
		return (FETCH_TEMP);
	}
	nc->fd = fd;
	nc->sock = BIO_new_socket(fd, BIO_CLOSE);
	if (nc->sock == NULL) {
		close(fd);
		nc->fd = -1;
		snprintf(err, errlen, "out of memory");
		return (FETCH_TEMP);
	}
	nc->top = nc->sock;
	return (FETCH_OK);
}

/* net_ssl_reason - the most useful text for a failed handshake */
static void
net_ssl_reason(SSL *ssl, char *err, size_t errlen)
{
	long	vr = SSL_get_verify_result(ssl);
	unsigned long e;
	char	buf[256];

	if (vr != X509_V_OK) {
		snprintf(err, errlen, "certificate verification failed: %s",
			 X509_verify_cert_error_string(vr));
		return;
	}
	e = ERR_peek_last_error();
	if (e != 0) {
		ERR_error_string_n(e, buf, sizeof(buf));
		snprintf(err, errlen, "TLS handshake failed: %s", buf);
	} else {
		snprintf(err, errlen, "TLS handshake failed: connection closed "
			 "or timed out");
	}
}

/* net_tls_ctx - a client context: TLS 1.3 only, verify the peer */
static SSL_CTX *
net_tls_ctx(const char *ca_file, char *err, size_t errlen)
{
	SSL_CTX *ctx;

	if ((ctx = SSL_CTX_new(TLS_client_method())) == NULL) {
		snprintf(err, errlen, "SSL_CTX_new failed");
		return (NULL);
	}
	if (!SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION)) {
		snprintf(err, errlen, "cannot require TLS 1.3");
		SSL_CTX_free(ctx);
		return (NULL);
	}
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	if (ca_file != NULL && *ca_file != '\0') {
		if (SSL_CTX_load_verify_locations(ctx, ca_file, NULL) != 1) {
			snprintf(err, errlen, "cannot load CA file %s", ca_file);
			SSL_CTX_free(ctx);
			return (NULL);
		}
	} else if (SSL_CTX_set_default_verify_paths(ctx) != 1) {
		snprintf(err, errlen, "cannot load the system CA store");
		SSL_CTX_free(ctx);
		return (NULL);
	}
	return (ctx);
}

/* net_starttls - switch the connection to verified TLS 1.3 */
int
net_starttls(struct net_conn *nc, const char *host, const char *ca_file,
	     char *err, size_t errlen)
{
	X509_VERIFY_PARAM *param;
	unsigned char addr[16];
	SSL_CTX *ctx;
	SSL    *ssl;
	BIO    *sbio;
	int	is_ip;

	if (nc->rpos < nc->rlen) {
		snprintf(err, errlen, "server sent data before the TLS "
			 "handshake; refusing");
		return (FETCH_FAIL);
	}
	ERR_clear_error();
	if ((ctx = net_tls_ctx(ca_file, err, errlen)) == NULL)
		return (FETCH_FAIL);
	if ((ssl = SSL_new(ctx)) == NULL) {
		SSL_CTX_free(ctx);
		snprintf(err, errlen, "SSL_new failed");
		return (FETCH_FAIL);
	}
	nc->ssl_ctx = ctx;
	param = SSL_get0_param(ssl);
	X509_VERIFY_PARAM_set_hostflags(param,
		X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
	is_ip = inet_pton(AF_INET, host, addr) == 1
		|| inet_pton(AF_INET6, host, addr) == 1;
	if (is_ip ? X509_VERIFY_PARAM_set1_ip_asc(param, host) != 1
	    : X509_VERIFY_PARAM_set1_host(param, host, 0) != 1
	      || SSL_set_tlsext_host_name(ssl, host) != 1) {
		SSL_free(ssl);
		snprintf(err, errlen, "cannot set the expected host name");
		return (FETCH_FAIL);
	}
	SSL_set_connect_state(ssl);
	if ((sbio = BIO_new(BIO_f_ssl())) == NULL) {
		SSL_free(ssl);
		snprintf(err, errlen, "BIO_new failed");
		return (FETCH_FAIL);
	}
	BIO_set_ssl(sbio, ssl, BIO_CLOSE);
	nc->top = BIO_push(sbio, nc->sock);
	if (BIO_do_handshake(nc->top) <= 0) {
		net_ssl_reason(ssl, err, errlen);
		return (FETCH_FAIL);
	}
	/* Belt and braces: the chain and name must have verified. */
	if (SSL_get_verify_result(ssl) != X509_V_OK
	    || SSL_get0_peer_certificate(ssl) == NULL) {
		net_ssl_reason(ssl, err, errlen);
		return (FETCH_FAIL);
	}
	log_debug("TLS %s %s with %s", SSL_get_version(ssl),
		  SSL_get_cipher_name(ssl), host);
	return (FETCH_OK);
}

/* net_io_error - describe a failed BIO read or write */
static int
net_io_error(struct net_conn *nc, const char *what, int rc,
	     char *err, size_t errlen)
{
	if (rc == 0 && !BIO_should_retry(nc->top))
		snprintf(err, errlen, "%s: connection closed by peer", what);
	else if (BIO_should_retry(nc->top) || errno == EAGAIN)
		snprintf(err, errlen, "%s: timeout after %d seconds", what,
			 nc->timeout);
	else
		snprintf(err, errlen, "%s: %s", what,
			 errno ? strerror(errno) : "I/O error");
	return (FETCH_TEMP);
}

/* net_write - write all of data */
int
net_write(struct net_conn *nc, const void *data, size_t len,
	  char *err, size_t errlen)
{
	const char *p = data;
	int	n;

	while (len > 0) {
		errno = 0;
		n = BIO_write(nc->top, p, len > 65536 ? 65536 : (int)len);
		if (n <= 0)
			return (net_io_error(nc, "write", n, err, errlen));
		p += n;
		len -= (size_t)n;
	}
	if (BIO_flush(nc->top) <= 0)
		return (net_io_error(nc, "write", -1, err, errlen));
	return (FETCH_OK);
}

/* net_printf - format and write one command */
int
net_printf(struct net_conn *nc, char *err, size_t errlen, const char *fmt, ...)
{
	char	buf[FETCH_LINE_MAX];
	va_list	ap;
	int	n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(buf)) {
		snprintf(err, errlen, "command too long");
		return (FETCH_FAIL);
	}
	return (net_write(nc, buf, (size_t)n, err, errlen));
}

/* net_fill - read more data into the buffer */
static int
net_fill(struct net_conn *nc, char *err, size_t errlen)
{
	int	n;

	if (nc->rpos > 0) {
		memmove(nc->rbuf, nc->rbuf + nc->rpos, nc->rlen - nc->rpos);
		nc->rlen -= nc->rpos;
		nc->rpos = 0;
	}
	errno = 0;
	n = BIO_read(nc->top, nc->rbuf + nc->rlen,
		     (int)(sizeof(nc->rbuf) - nc->rlen));
	if (n <= 0)
		return (net_io_error(nc, "read", n, err, errlen));
	nc->rlen += (size_t)n;
	return (FETCH_OK);
}

/* net_getline - one line (or piece of a long line) without CR LF */
int
net_getline(struct net_conn *nc, char *buf, size_t buflen, size_t *len,
	    int *partial, char *err, size_t errlen)
{
	size_t	out = 0, avail;
	char   *nl;
	int	rc;

	*partial = 0;
	for (;;) {
		avail = nc->rlen - nc->rpos;
		nl = memchr(nc->rbuf + nc->rpos, '\n', avail);
		if (nl != NULL)
			avail = (size_t)(nl - (nc->rbuf + nc->rpos));
		if (out + avail > buflen - 1) {
			avail = buflen - 1 - out;
			memcpy(buf + out, nc->rbuf + nc->rpos, avail);
			nc->rpos += avail;
			out += avail;
			*partial = 1;
			break;
		}
		memcpy(buf + out, nc->rbuf + nc->rpos, avail);
		out += avail;
		nc->rpos += avail;
		if (nl != NULL) {
			nc->rpos++;		/* the LF */
			if (out > 0 && buf[out - 1] == '\r')
				out--;
			break;
		}
		if ((rc = net_fill(nc, err, errlen)) != FETCH_OK)
			return (rc);
	}
	buf[out] = '\0';
	*len = out;
	return (FETCH_OK);
}

/* net_close - free the BIO chain and TLS context; closes the socket */
void
net_close(struct net_conn *nc)
{
	if (nc->top != NULL)
		BIO_free_all(nc->top);
	else if (nc->sock != NULL)
		BIO_free(nc->sock);
	if (nc->ssl_ctx != NULL)
		SSL_CTX_free(nc->ssl_ctx);
	nc->top = nc->sock = NULL;
	nc->ssl_ctx = NULL;
	nc->fd = -1;
	nc->rpos = nc->rlen = 0;
}
