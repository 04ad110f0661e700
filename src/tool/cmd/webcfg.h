/* SPDX-License-Identifier: MIT */
/*
 * webcfg.h: the exporter's --web.config.file, in the format of the
 * Prometheus exporter-toolkit (the same file node_exporter reads): TLS
 * (tls_server_config: cert_file, key_file, client_ca_file,
 * client_auth_type, min_version) and basic authentication
 * (basic_auth_users: user: bcrypt hash). Parsed with libyaml, certificates
 * checked with GnuTLS (which libmicrohttpd uses for the TLS itself),
 * passwords verified with libcrypt: nothing cryptographic is written here.
 */
#ifndef MML_WEBCFG_H
#define MML_WEBCFG_H

#include <pthread.h>
#include <stddef.h>

enum webcfg_client_auth {
	WEBCFG_NO_CLIENT_CERT,		/* NoClientCert (the default) */
	WEBCFG_VERIFY_IF_GIVEN,		/* VerifyClientCertIfGiven */
	WEBCFG_REQUIRE_AND_VERIFY,	/* RequireAndVerifyClientCert */
};

struct webcfg_user {
	char *name;
	char *hash;			/* bcrypt: $2a$, $2b$ or $2y$ */
	unsigned char ok[32];		/* SHA-256 of the last accepted password */
	int have_ok;			/* under webcfg.mu */
};

struct webcfg {
	char *cert, *key, *ca;		/* PEM text, NUL-terminated; cert NULL: plain HTTP */
	const char *priorities;		/* GnuTLS priority string (min_version) */
	enum webcfg_client_auth client_auth;
	struct webcfg_user *users;	/* none: no authentication */
	size_t nusers;
	pthread_mutex_t mu;
};

/*
 * Read and check FILE into w (zeroed by the caller). 0, or -1 with a
 * one-line reason in err (without the file name's prefix: "line 3: ...").
 * Paths in the file are relative to the file's directory, as in the
 * exporter-toolkit. Unknown keys, and keys of the exporter-toolkit that
 * mmaplock does not implement, are errors: a setting that looks applied
 * but is not would be worse than none.
 */
int webcfg_load(struct webcfg *w, const char *file, char *err, size_t errlen);
void webcfg_free(struct webcfg *w);

/* 1 when (user, pass) is one of basic_auth_users (or there are none), else 0. Thread-safe. */
int webcfg_auth(struct webcfg *w, const char *user, const char *pass);

/*
 * 1 when the client certificate of a TLS session (a gnutls_session_t)
 * passes client_auth_type, else 0.
 */
int webcfg_client_ok(const struct webcfg *w, void *gnutls_session);

#endif
