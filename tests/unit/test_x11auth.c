#include <stdlib.h>
#include <string.h>

#include "cli/x11auth.h"
#include "harness.h"
#include "util/str.h"

TEST(x11_local_display)
{
	CHECK_INT(sh_x11_local_display(":0"), ==, 0);
	CHECK_INT(sh_x11_local_display(":57.0"), ==, 57);
	CHECK_INT(sh_x11_local_display("unix:3"), ==, 3);
	CHECK_INT(sh_x11_local_display("unix:3.1"), ==, 3);
	CHECK_INT(sh_x11_local_display("localhost:10.0"), ==, -1); /* ssh -X: TCP */
	CHECK_INT(sh_x11_local_display("host:0"), ==, -1);
	CHECK_INT(sh_x11_local_display(":"), ==, -1);
	CHECK_INT(sh_x11_local_display(":0."), ==, -1);
	CHECK_INT(sh_x11_local_display(":0x"), ==, -1);
	CHECK_INT(sh_x11_local_display(":1234567"), ==, -1);
	CHECK_INT(sh_x11_local_display("/tmp/.X11-unix/X0"), ==, -1);
	CHECK_INT(sh_x11_local_display(NULL), ==, -1);
}

static void entry(struct sh_buf *b, unsigned family, const char *addr, const char *num,
		  const char *data)
{
	const char *f[] = { addr, num, "MIT-MAGIC-COOKIE-1", data };
	char h[2] = { (char)(family >> 8), (char)(family & 0xff) };

	sh_buf_append(b, h, 2);
	for (int i = 0; i < 4; i++) {
		size_t n = strlen(f[i]);
		char l[2] = { (char)(n >> 8), (char)(n & 0xff) };
		sh_buf_append(b, l, 2);
		sh_buf_append(b, f[i], n);
	}
}

TEST(x11_filter_auth_keeps_this_display_only)
{
	struct sh_buf in = { 0 }, want = { 0 };
	unsigned char *out;
	size_t outlen;

	entry(&in, 256, "myhost", "5", "GOOD");      /* this display, this host */
	entry(&in, 256, "myhost", "6", "OTHERDISP"); /* another display */
	entry(&in, 256, "other", "5", "OTHERHOST");  /* another host's cookie */
	entry(&in, 0, "\x7f\0\0\x01", "5", "TCP");    /* FamilyInternet: not local */
	entry(&in, 65535, "", "5", "WILD");           /* a wildcard entry */
	entry(&in, 256, "myhost", "", "ANYDISP");     /* every display of this host */
	CHECK_INT(sh_x11_filter_auth((unsigned char *)in.data, in.len, "myhost", 5, &out,
				     &outlen), ==, 3);
	entry(&want, 65535, "", "5", "GOOD");
	entry(&want, 65535, "", "5", "WILD");
	entry(&want, 65535, "", "5", "ANYDISP");
	CHECK_INT(outlen, ==, want.len);
	CHECK(outlen == want.len && memcmp(out, want.data, outlen) == 0);
	free(out);
	/* truncated: malformed, nothing */
	CHECK_INT(sh_x11_filter_auth((unsigned char *)in.data, in.len - 1, "myhost", 5, &out,
				     &outlen), ==, -1);
	CHECK(out == NULL);
	CHECK_INT(sh_x11_filter_auth((unsigned char *)"", 0, "myhost", 5, &out, &outlen), ==, 0);
	free(out);
	sh_buf_free(&in);
	sh_buf_free(&want);
}
