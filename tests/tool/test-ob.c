/* SPDX-License-Identifier: MIT */
/*
 * test-ob: the output buffer (output/ob.h). Each escaper on nasty inputs
 * (quotes, backslashes, control bytes, UTF-8, a newline in a Prometheus
 * label, a comma and a quote in CSV, `</script>` in HTML), written through
 * each sink: memory, a FILE behind a 3-byte buffer (every escape split by a
 * flush, long runs written past the buffer) and a fixed buffer, which must
 * say when the text did not fit. ob_printf longer than the room left.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "test-util.h"
#include "ob.h"

typedef void (*escaper)(struct ob *o, const char *s);

struct tcase {
	escaper esc;
	const char *name, *in, *want;
};

static const struct tcase cases[] = {
	{ ob_json_str, "json", "", "\"\"" },
	{ ob_json_str, "json", "plain /sys/fs/cgroup/a b", "\"plain /sys/fs/cgroup/a b\"" },
	{ ob_json_str, "json", "say \"hi\"", "\"say \\\"hi\\\"\"" },
	{ ob_json_str, "json", "C:\\dir\\", "\"C:\\\\dir\\\\\"" },
	{ ob_json_str, "json", "a\nb\tc\rd\x01\x1f" "e", "\"a\\u000ab\\u0009c\\u000dd\\u0001\\u001fe\"" },
	{ ob_json_str, "json", "\x7f caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x94\x92",
	  "\"\x7f caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x94\x92\"" },	/* DEL and UTF-8 as they are */
	{ ob_json_str, "json", "</script>", "\"</script>\"" },
	{ ob_csv_field, "csv", "", "" },
	{ ob_csv_field, "csv", "plain name", "plain name" },
	{ ob_csv_field, "csv", "a,b", "\"a,b\"" },
	{ ob_csv_field, "csv", "say \"hi\"", "\"say \"\"hi\"\"\"" },
	{ ob_csv_field, "csv", "\"", "\"\"\"\"" },
	{ ob_csv_field, "csv", "x\ny", "\"x\ny\"" },
	{ ob_csv_field, "csv", "x\ry", "\"x\ry\"" },
	{ ob_csv_field, "csv", "back\\slash; semi\ttab caf\xc3\xa9", "back\\slash; semi\ttab caf\xc3\xa9" },
	{ ob_csv_field, "csv", "a,\"b\",c", "\"a,\"\"b\"\",c\"" },
	{ ob_html, "html", "</script><script>alert(1)</script>",
	  "&lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt;" },
	{ ob_html, "html", "a & b \"q\" 'single' caf\xc3\xa9", "a &amp; b &quot;q&quot; 'single' caf\xc3\xa9" },
	{ ob_html, "html", "&amp;", "&amp;amp;" },
	{ ob_html, "html", "", "" },
	{ ob_prom_label, "prom", "/a \"x\"\\y\nz", "/a \\\"x\\\"\\\\y\\nz" },
	{ ob_prom_label, "prom", "\n\n", "\\n\\n" },
	{ ob_prom_label, "prom", "tab\there caf\xc3\xa9 <&>", "tab\there caf\xc3\xa9 <&>" },
	{ ob_prom_label, "prom", "", "" },
};

/* c through a memory sink: exactly the wanted bytes. */
static void via_mem(const struct tcase *c)
{
	struct ob o;

	ob_init_mem(&o);
	c->esc(&o, c->in);
	CHECK_SOFT(o.n == strlen(c->want) && !memcmp(o.buf ? o.buf : "", c->want, o.n),
		   "%s(\"%s\"): %.*s", c->name, c->in, (int)o.n, o.buf ? o.buf : "");
	CHECK(!o.err);
	ob_free(&o);
}

/* c through a FILE behind a 3-byte buffer, between two markers. */
static void via_file(const struct tcase *c)
{
	char small[3], *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	struct ob o;

	CHECK(f);
	ob_init_file(&o, f, small, sizeof(small));
	OBL(&o, "[");
	c->esc(&o, c->in);
	OBL(&o, "]");
	CHECK(ob_flush(&o) == 0);
	fclose(f);
	CHECK_SOFT(len == strlen(c->want) + 2 && text[0] == '[' && text[len - 1] == ']' &&
		   !memcmp(text + 1, c->want, len - 2), "%s(\"%s\") through a FILE: %s", c->name,
		   c->in, text);
	free(text);
}

/* c into a fixed buffer one byte too small (when it writes anything): err, never past it. */
static void via_fixed(const struct tcase *c)
{
	size_t want = strlen(c->want);
	char buf[256];
	struct ob o;

	memset(buf, '#', sizeof(buf));
	ob_init_fixed(&o, buf, want);
	c->esc(&o, c->in);
	CHECK_SOFT(!o.err && o.n == want && !memcmp(buf, c->want, want), "%s fixed, exact", c->name);
	if (!want)
		return;
	memset(buf, '#', sizeof(buf));
	ob_init_fixed(&o, buf, want - 1);
	c->esc(&o, c->in);
	CHECK_SOFT(o.err && o.n <= want - 1 && buf[want - 1] == '#', "%s fixed, short", c->name);
}

static void printf_room(void)
{
	char small[8], *text = NULL, big[5000];
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	struct ob o;

	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = 0;
	/* FILE: longer than the whole buffer, then one that needs a flush first */
	CHECK(f);
	ob_init_file(&o, f, small, sizeof(small));
	ob_printf(&o, "%s|%d", big, 42);
	ob_printf(&o, "<%05d>", 7);
	CHECK(ob_flush(&o) == 0);
	fclose(f);
	CHECK_EQ(len, sizeof(big) - 1 + 3 + 7);
	CHECK(!memcmp(text + sizeof(big) - 1, "|42<00007>", 10));
	free(text);
	/* memory: grows */
	ob_init_mem(&o);
	for (int i = 0; i < 1000; i++)
		ob_printf(&o, "%d,", i);
	CHECK(!o.err && o.n == 10 * 2 + 90 * 3 + 900 * 4);
	CHECK(!memcmp(o.buf + o.n - 4, "999,", 4));
	ob_free(&o);
	/* fixed: what does not fit is an error */
	ob_init_fixed(&o, small, sizeof(small));
	ob_printf(&o, "%s", "1234567");
	CHECK(!o.err && o.n == 7);
	ob_printf(&o, "%s", "89");
	CHECK(o.err);
}

/* ob_html_file: the escaper onto a FILE, long enough to flush its own buffer. */
static void html_file(void)
{
	char *text = NULL, in[1001];
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	for (int i = 0; i < 1000; i++)
		in[i] = "a<&"[i % 3];
	in[1000] = 0;
	CHECK(f);
	ob_html_file(f, in);
	fclose(f);
	CHECK_EQ(len, 334 * 1 + 333 * 4 + 333 * 5);
	CHECK(!memcmp(text, "a&lt;&amp;a&lt;", 15));
	free(text);
}

int main(void)
{
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		via_mem(&cases[i]);
		via_file(&cases[i]);
		via_fixed(&cases[i]);
	}
	printf_room();
	html_file();
	if (test_failures)
		return 1;
	printf("test-ob: ok\n");
	return 0;
}
