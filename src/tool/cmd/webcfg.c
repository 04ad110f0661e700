/* SPDX-License-Identifier: MIT */
/*
 * webcfg.c: --web.config.file (webcfg.h). The YAML is read with libyaml's
 * document loader and then walked by hand against the keys we know: a
 * mapping at the top, tls_server_config and basic_auth_users below it,
 * scalars below those. Duplicate keys are refused (libyaml keeps both).
 *
 * Passwords: libcrypt's crypt_ra checks a password against a bcrypt hash
 * (the work factor makes that take tens of milliseconds on purpose). A
 * scraper sends the same password every few seconds, so, as the
 * exporter-toolkit does, an accepted password is remembered: its SHA-256
 * (GnuTLS), compared in constant time. A wrong password is never
 * remembered and always costs a bcrypt.
 */
#define _GNU_SOURCE
#include <crypt.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <gnutls/gnutls.h>
#include <gnutls/crypto.h>
#include <yaml.h>
#include "webcfg.h"

#define WEBCFG_MAX_FILE	(1 << 20)	/* a PEM file or the config: 1 MiB is plenty */

struct ctx {
	yaml_document_t *doc;
	const char *dir;		/* of the config file, for relative paths */
	char *err;
	size_t errlen;
};

static int fail(struct ctx *c, const yaml_node_t *n, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (n)
		snprintf(c->err, c->errlen, "line %lu: %s", (unsigned long)n->start_mark.line + 1, msg);
	else
		snprintf(c->err, c->errlen, "%s", msg);
	return -1;
}

static const char *scalar(const yaml_node_t *n)
{
	return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

/* The file's text, NUL-terminated; NULL with errno. */
static char *slurp(const char *path)
{
	FILE *f = fopen(path, "re");
	char *s;
	size_t n;

	if (!f)
		return NULL;
	s = malloc(WEBCFG_MAX_FILE + 1);
	if (!s) {
		fclose(f);
		return NULL;
	}
	n = fread(s, 1, WEBCFG_MAX_FILE + 1, f);
	if (ferror(f) || n > WEBCFG_MAX_FILE) {
		int e = ferror(f) ? EIO : EFBIG;
		free(s);
		fclose(f);
		errno = e;
		return NULL;
	}
	fclose(f);
	s[n] = '\0';
	return s;
}

/* A path value: read the file it names (relative to the config's directory). */
static int read_pem(struct ctx *c, const yaml_node_t *v, const char *key, char **out)
{
	const char *p = scalar(v);
	char path[4096];

	if (!p || !*p)
		return fail(c, v, "%s: expected a file name", key);
	if (*out)
		return fail(c, v, "%s: given twice", key);
	if (p[0] == '/' || !c->dir)
		snprintf(path, sizeof(path), "%s", p);
	else
		snprintf(path, sizeof(path), "%s/%s", c->dir, p);
	*out = slurp(path);
	if (!*out)
		return fail(c, v, "%s: %s: %s", key, path, strerror(errno));
	return 0;
}

/* Every key of mapping m once; each value to fn. */
static int each_pair(struct ctx *c, yaml_node_t *m, const char *what,
		     int (*fn)(struct ctx *, struct webcfg *, const char *, yaml_node_t *),
		     struct webcfg *w)
{
	if (!m || m->type != YAML_MAPPING_NODE)
		return fail(c, m, "%s: expected a mapping", what);
	for (yaml_node_pair_t *p = m->data.mapping.pairs.start; p < m->data.mapping.pairs.top; p++) {
		yaml_node_t *k = yaml_document_get_node(c->doc, p->key);
		const char *key = scalar(k);
		if (!key)
			return fail(c, k, "%s: a key that is not a plain name", what);
		for (yaml_node_pair_t *q = m->data.mapping.pairs.start; q < p; q++) {
			const char *prev = scalar(yaml_document_get_node(c->doc, q->key));
			if (prev && !strcmp(prev, key))
				return fail(c, k, "%s: '%s' given twice", what, key);
		}
		if (fn(c, w, key, yaml_document_get_node(c->doc, p->value)))
			return -1;
	}
	return 0;
}

static const char *const tls_unsupported[] = {
	"cert", "key", "client_ca", "cipher_suites", "curve_preferences",
	"prefer_server_cipher_suites", "max_version", "client_allowed_sans", NULL
};

static int tls_key(struct ctx *c, struct webcfg *w, const char *key, yaml_node_t *v)
{
	const char *s = scalar(v);

	if (!strcmp(key, "cert_file"))
		return read_pem(c, v, key, &w->cert);
	if (!strcmp(key, "key_file"))
		return read_pem(c, v, key, &w->key);
	if (!strcmp(key, "client_ca_file"))
		return read_pem(c, v, key, &w->ca);
	if (!strcmp(key, "client_auth_type")) {
		if (s && !strcmp(s, "NoClientCert"))
			w->client_auth = WEBCFG_NO_CLIENT_CERT;
		else if (s && !strcmp(s, "VerifyClientCertIfGiven"))
			w->client_auth = WEBCFG_VERIFY_IF_GIVEN;
		else if (s && !strcmp(s, "RequireAndVerifyClientCert"))
			w->client_auth = WEBCFG_REQUIRE_AND_VERIFY;
		else if (s && (!strcmp(s, "RequestClientCert") || !strcmp(s, "RequireAnyClientCert")))
			return fail(c, v, "client_auth_type: %s is not supported (an unverified "
				    "certificate proves nothing): NoClientCert, VerifyClientCertIfGiven "
				    "or RequireAndVerifyClientCert", s);
		else
			return fail(c, v, "client_auth_type: '%s' is not NoClientCert, "
				    "VerifyClientCertIfGiven or RequireAndVerifyClientCert", s ? s : "");
		return 0;
	}
	if (!strcmp(key, "min_version")) {
		if (s && !strcmp(s, "TLS12"))
			w->priorities = "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2";
		else if (s && !strcmp(s, "TLS13"))
			w->priorities = "NORMAL:-VERS-ALL:+VERS-TLS1.3";
		else
			return fail(c, v, "min_version: '%s' is not TLS12 or TLS13", s ? s : "");
		return 0;
	}
	for (int i = 0; tls_unsupported[i]; i++)
		if (!strcmp(key, tls_unsupported[i]))
			return fail(c, v, "tls_server_config: %s is not supported by mmaplock", key);
	return fail(c, v, "tls_server_config: unknown key '%s'", key);
}

static int user_key(struct ctx *c, struct webcfg *w, const char *key, yaml_node_t *v)
{
	const char *h = scalar(v);
	struct webcfg_user *u;
	int cs;

	if (!*key || strchr(key, ':'))
		return fail(c, v, "basic_auth_users: '%s' is not a user name", key);
	/* bcrypt only, as the exporter-toolkit: $2a$/$2b$/$2y$, cost, 53 characters */
	if (!h || strlen(h) != 60 || strncmp(h, "$2", 2) || !strchr("aby", h[2]) || h[3] != '$')
		return fail(c, v, "basic_auth_users: %s: not a bcrypt hash ($2y$...)", key);
	cs = crypt_checksalt(h);
	if (cs != CRYPT_SALT_OK && cs != CRYPT_SALT_METHOD_LEGACY)
		return fail(c, v, "basic_auth_users: %s: libcrypt refuses this hash", key);
	u = realloc(w->users, (w->nusers + 1) * sizeof(*u));
	if (!u)
		return fail(c, v, "out of memory");
	w->users = u;
	u = &w->users[w->nusers];
	memset(u, 0, sizeof(*u));
	u->name = strdup(key);
	u->hash = strdup(h);
	w->nusers++;
	if (!u->name || !u->hash)
		return fail(c, v, "out of memory");
	return 0;
}

static int top_key(struct ctx *c, struct webcfg *w, const char *key, yaml_node_t *v)
{
	if (!strcmp(key, "tls_server_config"))
		return each_pair(c, v, key, tls_key, w);
	if (!strcmp(key, "basic_auth_users"))
		return each_pair(c, v, key, user_key, w);
	if (!strcmp(key, "http_server_config") || !strcmp(key, "rate_limit"))
		return fail(c, v, "%s is not supported by mmaplock", key);
	return fail(c, v, "unknown key '%s' (tls_server_config, basic_auth_users)", key);
}

/* The parts of tls_server_config belong together; GnuTLS must accept them. */
static int check_tls(struct ctx *c, struct webcfg *w)
{
	gnutls_certificate_credentials_t cred;
	int rc;

	if (!w->cert && !w->key && !w->ca && w->client_auth == WEBCFG_NO_CLIENT_CERT)
		return 0;
	if (!w->cert)
		return fail(c, NULL, "tls_server_config: missing cert_file");
	if (!w->key)
		return fail(c, NULL, "tls_server_config: missing key_file");
	if (w->ca && w->client_auth == WEBCFG_NO_CLIENT_CERT)
		return fail(c, NULL, "tls_server_config: client_ca_file without a client_auth_type");
	if (!w->ca && w->client_auth != WEBCFG_NO_CLIENT_CERT)
		return fail(c, NULL, "tls_server_config: client_auth_type needs a client_ca_file");
	if (!w->priorities)
		w->priorities = "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2";	/* TLS12, the toolkit's default */
	if (gnutls_certificate_allocate_credentials(&cred))
		return fail(c, NULL, "out of memory");
	gnutls_datum_t cd = { (unsigned char *)w->cert, (unsigned)strlen(w->cert) };
	gnutls_datum_t kd = { (unsigned char *)w->key, (unsigned)strlen(w->key) };
	rc = gnutls_certificate_set_x509_key_mem2(cred, &cd, &kd, GNUTLS_X509_FMT_PEM, NULL, 0);
	if (rc < 0) {
		gnutls_certificate_free_credentials(cred);
		return fail(c, NULL, "cert_file/key_file: %s", gnutls_strerror(rc));
	}
	if (w->ca) {
		gnutls_datum_t ad = { (unsigned char *)w->ca, (unsigned)strlen(w->ca) };
		rc = gnutls_certificate_set_x509_trust_mem(cred, &ad, GNUTLS_X509_FMT_PEM);
		if (rc <= 0) {
			gnutls_certificate_free_credentials(cred);
			return fail(c, NULL, "client_ca_file: %s", rc ? gnutls_strerror(rc) : "no certificate");
		}
	}
	gnutls_certificate_free_credentials(cred);
	return 0;
}

int webcfg_load(struct webcfg *w, const char *file, char *err, size_t errlen)
{
	struct ctx c = { .err = err, .errlen = errlen };
	yaml_parser_t parser;
	yaml_document_t doc;
	yaml_node_t *root;
	char dir[4096], *slash;
	FILE *f;
	int rc = -1;

	pthread_mutex_init(&w->mu, NULL);
	snprintf(dir, sizeof(dir), "%s", file);
	slash = strrchr(dir, '/');
	if (slash) {
		*slash = '\0';
		c.dir = slash == dir ? "/" : dir;
	}
	f = fopen(file, "re");
	if (!f) {
		snprintf(err, errlen, "%s", strerror(errno));
		return -1;
	}
	if (!yaml_parser_initialize(&parser)) {
		fclose(f);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	yaml_parser_set_input_file(&parser, f);
	if (!yaml_parser_load(&parser, &doc)) {
		snprintf(err, errlen, "line %lu: %s%s%s", (unsigned long)parser.problem_mark.line + 1,
			 parser.problem ? parser.problem : "not YAML",
			 parser.context ? " " : "", parser.context ? parser.context : "");
		yaml_parser_delete(&parser);
		fclose(f);
		return -1;
	}
	c.doc = &doc;
	root = yaml_document_get_root_node(&doc);
	if (!root)		/* an empty file: nothing to configure, as the exporter-toolkit */
		rc = 0;
	else if (!each_pair(&c, root, "the file", top_key, w))
		rc = check_tls(&c, w);
	yaml_document_delete(&doc);
	yaml_parser_delete(&parser);
	fclose(f);
	return rc;
}

void webcfg_free(struct webcfg *w)
{
	free(w->cert);
	free(w->key);
	free(w->ca);
	for (size_t i = 0; i < w->nusers; i++) {
		free(w->users[i].name);
		free(w->users[i].hash);
	}
	free(w->users);
	pthread_mutex_destroy(&w->mu);
	memset(w, 0, sizeof(*w));
}

/* Equal without a timing that depends on where they differ. */
static int same(const void *a, const void *b, size_t n)
{
	const unsigned char *x = a, *y = b;
	unsigned char d = 0;

	for (size_t i = 0; i < n; i++)
		d |= x[i] ^ y[i];
	return d == 0;
}

static int bcrypt_ok(const char *hash, const char *pass)
{
	void *data = NULL;
	int size = 0;
	const char *r = crypt_ra(pass, hash, &data, &size);
	int ok = r && strlen(r) == strlen(hash) && same(r, hash, strlen(hash));

	free(data);
	return ok;
}

int webcfg_auth(struct webcfg *w, const char *user, const char *pass)
{
	struct webcfg_user *u = NULL;
	unsigned char d[32];
	int ok;

	if (!w->nusers)
		return 1;
	if (!user || !pass)
		return 0;
	for (size_t i = 0; i < w->nusers; i++)
		if (!strcmp(w->users[i].name, user))
			u = &w->users[i];
	if (!u) {
		bcrypt_ok(w->users[0].hash, pass);	/* as long as for a known user */
		return 0;
	}
	if (gnutls_hash_fast(GNUTLS_DIG_SHA256, pass, strlen(pass), d))
		return bcrypt_ok(u->hash, pass);
	pthread_mutex_lock(&w->mu);
	ok = u->have_ok && same(u->ok, d, sizeof(d));
	pthread_mutex_unlock(&w->mu);
	if (ok)
		return 1;
	if (!bcrypt_ok(u->hash, pass))
		return 0;
	pthread_mutex_lock(&w->mu);
	memcpy(u->ok, d, sizeof(d));
	u->have_ok = 1;
	pthread_mutex_unlock(&w->mu);
	return 1;
}

int webcfg_client_ok(const struct webcfg *w, void *session)
{
	gnutls_session_t s = session;
	unsigned n = 0, status = 0;

	if (!w->cert || w->client_auth == WEBCFG_NO_CLIENT_CERT)
		return 1;
	if (!s)
		return 0;
	if (!gnutls_certificate_get_peers(s, &n) || !n)
		return w->client_auth == WEBCFG_VERIFY_IF_GIVEN;
	/* against client_ca_file (the trust list libmicrohttpd was given), dates included */
	return gnutls_certificate_verify_peers2(s, &status) == 0 && status == 0;
}
