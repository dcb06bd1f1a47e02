/* The terminal output filter (threats.md TERM-03).  Every case is checked
 * fed whole, byte by byte, split at every position into two chunks and in
 * pseudo-random chunks: the result must not depend on where read() happened
 * to cut the stream. */
#include "../harness.h"

#include <stdio.h>
#include <stdlib.h>

#include "enforce/ttyfilter.h"

static struct sh_ttyf F;
static unsigned char OUT[1 << 16];

/* Feed in[0..n) in chunks of the sizes cuts[] (0 ends; the rest in one). */
static size_t feed_chunks(const unsigned char *in, size_t n, const size_t *cuts, bool *bounded)
{
	size_t o = 0, i = 0;
	sh_ttyf_init(&F);
	for (; cuts && *cuts && i < n; cuts++) {
		size_t k = *cuts < n - i ? *cuts : n - i;
		size_t w = sh_ttyf_feed(&F, in + i, k, OUT + o);
		if (w > k + SH_TTYF_SEQ_MAX)
			*bounded = false;
		o += w;
		i += k;
	}
	if (i < n) {
		size_t w = sh_ttyf_feed(&F, in + i, n - i, OUT + o);
		if (w > n - i + SH_TTYF_SEQ_MAX)
			*bounded = false;
		o += w;
	}
	sh_ttyf_finish(&F);
	return o;
}

static char *show(const unsigned char *b, size_t n)
{
	static char buf[4][8192];
	static int k;
	char *s = buf[k++ & 3];
	size_t o = 0;
	for (size_t i = 0; i < n && o + 8 < sizeof(buf[0]); i++) {
		if (b[i] >= 0x20 && b[i] < 0x7f && b[i] != '\\')
			s[o++] = (char)b[i];
		else
			o += (size_t)snprintf(s + o, 8, "\\x%02x", b[i]);
	}
	s[o] = '\0';
	return s;
}

/* in (n bytes) must come out as want (wn bytes) however it is split. */
static bool same_any_split(const void *inv, size_t n, const void *wantv, size_t wn)
{
	const unsigned char *in = inv, *want = wantv;
	bool ok = true, bounded = true;
	size_t o, cuts[4096];

	o = feed_chunks(in, n, NULL, &bounded);
	if (!CHECK_STR(show(OUT, o), show(want, wn)))
		return false;
	/* byte by byte */
	for (size_t i = 0; i < n && i < 4095; i++)
		cuts[i] = 1;
	cuts[n < 4095 ? n : 4095] = 0;
	o = feed_chunks(in, n, cuts, &bounded);
	ok &= o == wn && memcmp(OUT, want, wn) == 0;
	/* every two-chunk split */
	for (size_t s = 1; ok && s < n && s < 600; s++) {
		cuts[0] = s;
		cuts[1] = 0;
		o = feed_chunks(in, n, cuts, &bounded);
		if (o != wn || memcmp(OUT, want, wn) != 0) {
			printf("#   split at %zu: %s\n", s, show(OUT, o));
			ok = false;
		}
	}
	/* random chunks */
	unsigned seed = 12345;
	for (int r = 0; ok && r < 50; r++) {
		size_t i = 0, t = 0;
		while (t < n && i < 4095) {
			seed = seed * 1103515245u + 12345u;
			cuts[i] = 1 + (seed >> 16) % 7;
			t += cuts[i++];
		}
		cuts[i] = 0;
		o = feed_chunks(in, n, cuts, &bounded);
		ok &= o == wn && memcmp(OUT, want, wn) == 0;
	}
	CHECK(bounded);
	return CHECK(ok);
}

#define SAME(in, want) same_any_split(in, sizeof(in) - 1, want, sizeof(want) - 1)
#define PASS(in) SAME(in, in)
#define DROPPED(in) SAME(in, "")

TEST(ttyf_text_and_utf8_pass)
{
	PASS("hello, world\r\n");
	PASS("tab\there\bback\a bell\v\f");
	PASS("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 \xe4\xb8\xad\xe6\x96\x87\n");
	PASS("\xc2\xa0nbsp \xef\xbf\xbd");
	PASS("line drawing: \x0e" "qqq\x0f\n"); /* SO / SI */
}

TEST(ttyf_bad_bytes_dropped)
{
	SAME("a\x00" "b\x05" "c\x7f" "d\x1c" "e", "abcde"); /* NUL, ENQ (answerback), DEL, FS */
	/* raw 8-bit C1: CSI, OSC, DCS, ST */
	SAME("a\x9b" "31mb\x9d" "52;c;eA==\x07" "c", "a31mb52;c;eA==\x07" "c");
	/* UTF-8 encoded C1: U+009B (CSI), U+0090 (DCS), U+0085 (NEL) */
	SAME("x\xc2\x9b" "2Jy\xc2\x90z\xc2\x85", "x2Jyz");
	/* overlong, surrogate, too large, truncated, stray continuation */
	SAME("a\xc0\xaf" "b\xed\xa0\x80" "c\xf4\x90\x80\x80" "d\xe2\x82" "e\x80\xbf" "f", "abcdef");
	SAME("\xe2\x82\x1b[1mX", "\x1b[1mX"); /* a truncated char before ESC */
	SAME("\xff\xfe" "ok", "ok");
}

TEST(ttyf_csi_passes)
{
	PASS("\x1b[31mred\x1b[0m \x1b[1;4;38;2;255;128;0;48;5;17m \x1b[38:2::1:2:3m\x1b[m");
	PASS("\x1b[H\x1b[2J\x1b[3J\x1b[K\x1b[1;24r\x1b[5;10H\x1b[A\x1b[10C\x1b[S\x1b[T");
	PASS("\x1b[?1049h\x1b[?1049l\x1b[?2004h\x1b[?2004l\x1b[?25l\x1b[?25h");
	PASS("\x1b[?1000h\x1b[?1002h\x1b[?1003h\x1b[?1006h\x1b[?1015h\x1b[?1000l");
	PASS("\x1b[?2026h\x1b[?2026l\x1b[2 q\x1b[!p\x1b[4h\x1b[>4;1m\x1b[=1;1u\x1b[?u");
	/* queries whose answers are fixed text the application waits for */
	PASS("\x1b[c\x1b[>c\x1b[6n\x1b[5n\x1b[?6n\x1b[?2026$p\x1b[>q");
	/* title stack (vim, less) */
	PASS("\x1b[22;0t\x1b[23;0t\x1b[22t");
}

TEST(ttyf_csi_reports_dropped)
{
	SAME("a\x1b[21tb", "ab");       /* window title report */
	SAME("a\x1b[20tb", "ab");       /* icon title report */
	DROPPED("\x1b[14t\x1b[18t\x1b[19t\x1b[11t\x1b[13t\x1b[16t\x1b[15t");
	DROPPED("\x1b[8;100;300t\x1b[3;0;0t\x1b[2t\x1b[9;1t\x1b[t");
	DROPPED("\x1b[5i\x1b[4i\x1b[?5i\x1b[0i");          /* printer controller */
	DROPPED("\x1b[1;1;1;1;10;10*y");                   /* DECRQCRA */
	/* malformed: parameter after intermediate */
	SAME("\x1b[1 2mX", "X");
	/* too long */
	unsigned char in[600], want[] = "Z";
	in[0] = 0x1b;
	in[1] = '[';
	for (int i = 2; i < 598; i++)
		in[i] = (i & 1) ? ';' : '1';
	in[598] = 'm';
	in[599] = 'Z';
	same_any_split(in, sizeof(in), want, 1);
}

TEST(ttyf_controls_inside_csi)
{
	/* C0 inside a CSI is executed (here: before the sequence) */
	SAME("\x1b[3\r1m", "\r\x1b[31m");
	SAME("\x1b[3\x05" "1m", "\x1b[31m");
	/* CAN/SUB abort; ESC restarts; 8-bit aborts */
	SAME("\x1b[31\x18m", "m");
	SAME("\x1b[31\x1b[32m", "\x1b[32m");
	SAME("\x1b[31\xc3\xa9m", "\xc3\xa9m");
}

TEST(ttyf_esc_sequences)
{
	PASS("\x1b" "7\x1b" "8\x1b=\x1b>\x1bM\x1b" "D\x1b" "E\x1b" "c\x1b(0\x1b(B\x1b)0\x1b#8");
	/* DOCS (ESC % ...) would take the terminal out of UTF-8, where the C1
	 * bytes in "\xd1\x9d" (OSC) become live */
	SAME("a\x1b%@b", "ab");
	SAME("a\x1b%Gb", "ab");
	SAME("a\x1b%/Gb", "ab");
	SAME("a\x1bZb", "ab");   /* DECID */
	SAME("a\x1b\\b", "ab");  /* stray ST */
	SAME("\x1b(\x1b(B", "\x1b(B");
}

TEST(ttyf_osc_titles_pass_sanitized)
{
	PASS("\x1b]0;my title\x07");
	PASS("\x1b]2;caf\xc3\xa9 title\x1b\\");
	PASS("\x1b]1;icon\x07");
	/* controls and C1 inside a title are removed */
	SAME("\x1b]0;a\x01" "b\x7f" "c\xc2\x9b" "d\x80" "e\x07", "\x1b]0;abcde\x07");
	SAME("\x1b]2;x\ty\x07z", "\x1b]2;xy\x07z");
}

TEST(ttyf_osc_colours_pass)
{
	PASS("\x1b]4;1;rgb:ff/00/00\x07\x1b]10;#ffffff\x07\x1b]11;rgb:00/00/00\x1b\\");
	PASS("\x1b]11;?\x07\x1b]12;red\x07");
	PASS("\x1b]104\x07\x1b]104;1\x07\x1b]110\x07\x1b]111\x1b\\\x1b]133;A\x07");
}

TEST(ttyf_osc_hyperlinks)
{
	PASS("\x1b]8;;https://example.com/a?b=c\x1b\\link\x1b]8;;\x1b\\");
	PASS("\x1b]8;id=1;file:///home/u/x.c\x07x.c\x1b]8;;\x07");
	PASS("\x1b]8;;HTTP://EXAMPLE.COM\x07");
	/* other schemes: the link is dropped, the text stays */
	SAME("\x1b]8;;vscode://ext/install?x\x1b\\text\x1b]8;;\x1b\\", "text\x1b]8;;\x1b\\");
	SAME("\x1b]8;;javascript:alert(1)\x07t", "t");
	SAME("\x1b]8;;nocolon\x07t", "t");
}

TEST(ttyf_osc_dangerous_dropped)
{
	SAME("a\x1b]52;c;ZWNobyBwd25lZAo=\x07" "b", "ab");        /* clipboard write */
	SAME("a\x1b]52;c;?\x1b\\b", "ab");                          /* clipboard read */
	SAME("a\x1b]50;#+1\x07" "b", "ab");                          /* font (CVE-2022-45063) */
	SAME("a\x1b]50;?\x07" "b", "ab");
	DROPPED("\x1b]51;x\x07\x1b]53;x\x07\x1b]7;file://h/p\x07\x1b]9;notify\x07");
	DROPPED("\x1b]777;notify;t;b\x07\x1b]1337;File=name=eA==:AAAA\x07\x1b]99;;x\x07");
	DROPPED("\x1b]l;title\x1b\\\x1b];x\x07\x1b]\x07");
	/* a long payload is dropped whole */
	static unsigned char in[SH_TTYF_SEQ_MAX + 64];
	size_t n = 0;
	n += (size_t)sprintf((char *)in, "\x1b]0;");
	while (n < sizeof(in) - 2)
		in[n++] = 'x';
	in[n++] = 0x07;
	in[n++] = 'Z';
	same_any_split(in, n, "Z", 1);
}

TEST(ttyf_osc_termination)
{
	/* ESC + anything but '\' aborts the string and starts a new sequence */
	SAME("\x1b]0;t\x1b[31mX", "\x1b[31mX");
	SAME("\x1b]52;c;AAAA\x1b[31mX", "\x1b[31mX");
	/* CAN aborts */
	SAME("\x1b]0;t\x18X", "X");
	/* unterminated at the end of the stream: nothing */
	SAME("a\x1b]0;never ends", "a");
	SAME("a\x1b[31", "a");
}

TEST(ttyf_strings_dropped)
{
	SAME("a\x1bP$qm\x1b\\b", "ab");                      /* DECRQSS */
	SAME("a\x1bP+q544e\x1b\\b", "ab");                   /* XTGETTCAP */
	SAME("a\x1bPq#0;2;0;0;0#0~~@@vv@@~~\x1b\\b", "ab");  /* sixel */
	SAME("a\x1bX sos \x1b\\b\x1b^pm\x1b\\c\x1b_Gf=100;AAAA\x1b\\d", "abcd");
	/* BEL does not end a DCS */
	SAME("a\x1bPx\x07y\x1b\\b", "ab");
	/* tmux passthrough of OSC 52: still dropped */
	SAME("a\x1bPtmux;\x1b\x1b]52;c;ZWNobyBo\x07\x1b\\b", "ab");
	/* ... and of a title: the inner title passes, the wrapper does not */
	SAME("\x1bPtmux;\x1b\x1b]0;t\x07\x1b\\", "\x1b]0;t\x07");
}

TEST(ttyf_state_is_bounded)
{
	/* a flood inside a DCS never accumulates, and text after it flows */
	static unsigned char in[100000];
	size_t n = 0;
	in[n++] = 0x1b;
	in[n++] = 'P';
	while (n < sizeof(in) - 8)
		in[n++] = 'A';
	memcpy(in + n, "\x1b\\ok", 4);
	n += 4;
	bool bounded = true;
	size_t o = feed_chunks(in, n, NULL, &bounded);
	CHECK(bounded);
	CHECK_STR(show(OUT, o), "ok");
	CHECK(F.dropped > 0);
}

TEST(ttyf_output_never_exceeds_bound_fuzz)
{
	/* random bytes biased to the interesting ones: output stays within the
	 * bound, and contains no C1 and no ESC that does not start a sequence
	 * the filter knows */
	static const unsigned char alpha[] = { 0x1b, '[', ']', 'P', '\\', 0x07, ';', '5', '2', '0',
					       '8', 't', 'm', 0x9b, 0xc2, 0x9d, 'a', 0x18, 0xe2, 0x80,
					       '?', 'X', '_', '^', 'i', '*', 'y', ':' };
	static unsigned char in[8192];
	unsigned seed = 99;
	bool ok = true;
	for (int r = 0; r < 300 && ok; r++) {
		size_t n = 0;
		while (n < sizeof(in)) {
			seed = seed * 1103515245u + 12345u;
			in[n++] = alpha[(seed >> 16) % sizeof(alpha)];
		}
		sh_ttyf_init(&F);
		size_t pos = 0;
		while (pos < n) {
			seed = seed * 1103515245u + 12345u;
			size_t k = 1 + (seed >> 16) % 300;
			if (k > n - pos)
				k = n - pos;
			size_t w = sh_ttyf_feed(&F, in + pos, k, OUT);
			if (w > k + SH_TTYF_SEQ_MAX)
				ok = false;
			for (size_t i = 0; i < w; i++) {
				if (OUT[i] == 0xc2 && i + 1 < w && OUT[i + 1] < 0xa0)
					ok = false; /* U+0080..U+009F */
				if (OUT[i] == 0x1b && i + 1 < w && OUT[i + 1] != '[' && OUT[i + 1] != ']' &&
				    OUT[i + 1] != '\\' && OUT[i + 1] != '(' && OUT[i + 1] != '#' &&
				    OUT[i + 1] != '7' && OUT[i + 1] != '=' && OUT[i + 1] != '>' &&
				    (OUT[i + 1] < 0x20 || OUT[i + 1] > 0x7e || OUT[i + 1] == 'P' ||
				     OUT[i + 1] == 'X' || OUT[i + 1] == '^' || OUT[i + 1] == '_' ||
				     OUT[i + 1] == 'Z'))
					ok = false;
				if (OUT[i] == 0x1b && i + 2 < w && OUT[i + 1] == ']' && OUT[i + 2] == '5')
					ok = false; /* no OSC 5x */
			}
			pos += k;
		}
	}
	CHECK(ok);
}

/* Whether a sequence that changes a lasting terminal mode went through:
 * the session's end resets the terminal only then. */
TEST(ttyf_touched_modes)
{
	static const struct {
		const char *in;
		bool touched;
	} cases[] = {
		{ "plain text\r\n", false },
		{ "\x1b[1;31mred\x1b[0m\x1b[2J\x1b[H", false },
		{ "\x1b[?1049h", true },
		{ "\x1b[?25l", true },
		{ "\x1b[>31u", true },
		{ "\x1b(0", true },
		{ "\x0e", true },
		{ "\x1b]0;title\x07", true },
		{ "\x1b]8;;https://x/\x07l\x1b]8;;\x07", false },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct sh_ttyf f;
		unsigned char out[8192];
		sh_ttyf_init(&f);
		sh_ttyf_feed(&f, cases[i].in, strlen(cases[i].in), out);
		if (!CHECK(f.touched == cases[i].touched))
			printf("#   case %zu\n", i);
	}
}
