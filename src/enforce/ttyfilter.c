/* Terminal output filter: see ttyfilter.h for what passes and why. */
#include "enforce/ttyfilter.h"

#include <stdbool.h>
#include <string.h>

enum { S_GROUND, S_ESC, S_ESC_INT, S_CSI, S_OSC, S_STR_DROP };

#define BEL 0x07
#define CAN 0x18
#define SUB 0x1a
#define ESC 0x1b
#define ESC_INT_MAX 8 /* ESC, up to 6 intermediates, final */

struct out {
	unsigned char *p;
	size_t n;
};

static void put(struct out *o, const unsigned char *b, size_t n)
{
	memcpy(o->p + o->n, b, n);
	o->n += n;
}

static void put1(struct out *o, unsigned char c)
{
	o->p[o->n++] = c;
}

/* C0 controls a screen application needs; ENQ (answerback), NUL and the
 * rest are dropped. */
static bool c0_pass(unsigned char c)
{
	return c == BEL || (c >= 0x08 && c <= 0x0f);
}

/* Back to the ground state; the counter stays. */
static void reset(struct sh_ttyf *f)
{
	f->state = S_GROUND;
	f->str_esc = f->bad = f->inter = f->osc_phase = f->bel_ends = 0;
	f->u8_need = f->u8_len = 0;
	f->u8_lo = 0x80;
	f->u8_hi = 0xbf;
	f->osc_num = 0;
	f->len = 0;
}

void sh_ttyf_init(struct sh_ttyf *f)
{
	f->dropped = 0;
	f->touched = false;
	reset(f);
}

void sh_ttyf_finish(struct sh_ttyf *f)
{
	if (f->state != S_GROUND || f->u8_need)
		f->dropped++;
	reset(f);
}

/* UTF-8, strictly (no overlongs, surrogates or values past U+10FFFF).
 *   1: c completes a character: f->u8[0..f->u8_len)
 *   0: more bytes needed
 *  -1: c does not continue the partial character, which is dropped; look at
 *      c again (f->u8_need is 0 now)
 *  -2: c is dropped (not a valid start, or it completed a C1 control)
 * Call only with c >= 0x80 or a partial character pending. */
static int u8_feed(struct sh_ttyf *f, unsigned char c)
{
	if (f->u8_need) {
		if (c < f->u8_lo || c > f->u8_hi) {
			f->u8_need = f->u8_len = 0;
			f->dropped++;
			return -1;
		}
		f->u8[f->u8_len++] = c;
		f->u8_lo = 0x80;
		f->u8_hi = 0xbf;
		if (--f->u8_need)
			return 0;
		/* U+0080..U+009F are C1 controls; some terminals obey them even
		 * when UTF-8 encoded (CSI as U+009B). */
		if (f->u8_len == 2 && f->u8[0] == 0xc2 && f->u8[1] < 0xa0) {
			f->u8_len = 0;
			f->dropped++;
			return -2;
		}
		return 1;
	}
	f->u8_lo = 0x80;
	f->u8_hi = 0xbf;
	if (c >= 0xc2 && c <= 0xdf) {
		f->u8_need = 1;
	} else if (c >= 0xe0 && c <= 0xef) {
		f->u8_need = 2;
		if (c == 0xe0)
			f->u8_lo = 0xa0;
		else if (c == 0xed)
			f->u8_hi = 0x9f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		f->u8_need = 3;
		if (c == 0xf0)
			f->u8_lo = 0x90;
		else if (c == 0xf4)
			f->u8_hi = 0x8f;
	} else { /* 0x80..0xc1 (raw C1 among them), 0xf5..0xff */
		f->dropped++;
		return -2;
	}
	f->u8[0] = c;
	f->u8_len = 1;
	return 0;
}

static void begin(struct sh_ttyf *f)
{
	reset(f);
	f->state = S_ESC;
	f->seq[0] = ESC;
	f->len = 1;
}

static void drop(struct sh_ttyf *f)
{
	f->dropped++;
	reset(f);
}

/* Does the sequence about to pass change a mode that outlives the program:
 * a CSI with a private marker (ESC [ ? ... h, ESC [ > ... u), a character
 * set designation (ESC ( 0), an OSC (colours, titles)? */
static bool sets_mode(const unsigned char *s, size_t n)
{
	if (n >= 3 && s[1] == '[')
		return s[2] == '?' || s[2] == '>' || s[2] == '=' || s[2] == '<';
	if (n >= 2 && (s[1] == '(' || s[1] == ')' || s[1] == ']'))
		return true;
	return false;
}

static void emit(struct sh_ttyf *f, struct out *o)
{
	if (f->bad) {
		drop(f);
		return;
	}
	if (!f->touched && sets_mode(f->seq, f->len))
		f->touched = true;
	put(o, f->seq, f->len);
	reset(f);
}

/* Append to the held sequence, at most max bytes in all (room for the
 * terminator is the caller's business). */
static void app(struct sh_ttyf *f, unsigned char c, size_t max)
{
	if (f->len < max)
		f->seq[f->len++] = c;
	else
		f->bad = 1;
}

/* Start dropping a string (DCS, SOS, PM, APC, or an OSC not allowed). */
static void str_drop(struct sh_ttyf *f, bool bel_ends)
{
	drop(f);
	f->state = S_STR_DROP;
	f->bel_ends = bel_ends;
}

/* A complete CSI sequence ESC [ P... I... F: may it reach the terminal? */
static bool csi_allowed(const unsigned char *s, size_t n)
{
	unsigned char fin = s[n - 1], priv = 0, im = 0;
	unsigned p = 0;
	size_t i = 2;

	if (i < n - 1 && s[i] >= 0x3c && s[i] <= 0x3f)
		priv = s[i++];
	for (; i < n - 1 && s[i] >= '0' && s[i] <= '9'; i++)
		if (p < 100000)
			p = p * 10 + (unsigned)(s[i] - '0');
	for (; i < n - 1; i++)
		if (s[i] <= 0x2f)
			im = s[i];
	if (fin == 'i')
		return false; /* MC: media copy, printer controller mode */
	if (fin == 'y' && im == '*')
		return false; /* DECRQCRA: screen contents into the input */
	if (fin == 't' && !priv && !im)
		return p == 22 || p == 23; /* XTWINOPS: only the title stack */
	return true;
}

static bool osc_allowed(unsigned num, bool has_payload)
{
	if (num == 104 || num == 105 || (num >= 110 && num <= 119))
		return true; /* colour resets, with or without arguments */
	if (!has_payload)
		return false;
	return num <= 2 || num == 4 || num == 8 || (num >= 10 && num <= 19) || num == 133;
}

/* OSC 8 ; params ; URI: the closing form (empty URI) or a plain scheme. */
static bool osc8_allowed(const unsigned char *s, size_t n)
{
	static const char *const schemes[] = { "http", "https", "file", "mailto", "ftp" };
	const unsigned char *end = s + n, *p, *u;

	p = memchr(s + 2, ';', n - 2);
	if (!p)
		return false;
	u = memchr(p + 1, ';', (size_t)(end - p - 1));
	if (!u)
		return false;
	u++;
	if (u == end)
		return true;
	const unsigned char *colon = memchr(u, ':', (size_t)(end - u));
	if (!colon)
		return false;
	size_t len = (size_t)(colon - u);
	for (size_t i = 0; i < sizeof(schemes) / sizeof(schemes[0]); i++)
		if (strlen(schemes[i]) == len && strncasecmp((const char *)u, schemes[i], len) == 0)
			return true;
	return false;
}

static void osc_end(struct sh_ttyf *f, struct out *o, const char *term)
{
	bool ok = !f->bad && f->inter;
	if (ok && f->osc_phase == 0)
		ok = osc_allowed(f->osc_num, false);
	if (ok && f->osc_num == 8)
		ok = f->osc_phase == 1 && osc8_allowed(f->seq, f->len);
	if (!ok) {
		drop(f);
		return;
	}
	if (f->osc_num != 8) /* titles, colours: reset at the end (not links) */
		f->touched = true;
	put(o, f->seq, f->len);
	put(o, (const unsigned char *)term, strlen(term));
	reset(f);
}

/* ESC, CAN, SUB, other C0, DEL and 8-bit bytes inside ESC and CSI
 * sequences.  0: not handled; 1: handled; 2: handled, look at c again. */
static int seq_control(struct sh_ttyf *f, unsigned char c, struct out *o)
{
	if (c == ESC) {
		drop(f);
		begin(f);
		return 1;
	}
	if (c == CAN || c == SUB) {
		drop(f);
		return 1;
	}
	if (c < 0x20) { /* executed in the middle of a sequence, as terminals do */
		if (c0_pass(c))
			put1(o, c);
		else
			f->dropped++;
		return 1;
	}
	if (c == 0x7f)
		return 1;
	if (c >= 0x80) {
		drop(f);
		return 2;
	}
	return 0;
}

static void step(struct sh_ttyf *f, unsigned char c, struct out *o)
{
	int r;
again:
	switch (f->state) {
	case S_GROUND:
		if (c >= 0x80 || f->u8_need) {
			r = u8_feed(f, c);
			if (r == 1) {
				put(o, f->u8, f->u8_len);
				f->u8_len = 0;
			} else if (r == -1) {
				goto again;
			}
			return;
		}
		if (c >= 0x20 && c < 0x7f)
			put1(o, c);
		else if (c == ESC)
			begin(f);
		else if (c0_pass(c)) {
			if (c == 0x0e) /* SO: the G1 character set from now on */
				f->touched = true;
			put1(o, c);
		} else {
			f->dropped++;
		}
		return;

	case S_ESC:
		if ((r = seq_control(f, c, o)) != 0) {
			if (r == 2)
				goto again;
			return;
		}
		if (c == '[') {
			app(f, c, SH_TTYF_CSI_MAX);
			f->state = S_CSI;
		} else if (c == ']') {
			app(f, c, SH_TTYF_SEQ_MAX);
			f->state = S_OSC;
		} else if (c == 'P' || c == 'X' || c == '^' || c == '_') {
			str_drop(f, false); /* DCS, SOS, PM, APC */
		} else if (c <= 0x2f) {
			app(f, c, ESC_INT_MAX);
			/* ESC % (DOCS) switches the terminal out of UTF-8: the
			 * C1 controls this filter only knows as UTF-8 would then
			 * be bytes the terminal acts on. */
			if (c == '%')
				f->bad = 1;
			f->state = S_ESC_INT;
		} else if (c == 'Z' || c == '\\') {
			drop(f); /* DECID (answers like DA), a stray ST */
		} else {
			app(f, c, ESC_INT_MAX);
			emit(f, o);
		}
		return;

	case S_ESC_INT:
		if ((r = seq_control(f, c, o)) != 0) {
			if (r == 2)
				goto again;
			return;
		}
		app(f, c, ESC_INT_MAX);
		if (c >= 0x30)
			emit(f, o);
		return;

	case S_CSI:
		if ((r = seq_control(f, c, o)) != 0) {
			if (r == 2)
				goto again;
			return;
		}
		app(f, c, SH_TTYF_CSI_MAX);
		if (c <= 0x2f) {
			f->inter = 1;
		} else if (c <= 0x3f) {
			if (f->inter)
				f->bad = 1; /* a parameter after an intermediate */
		} else {
			if (!f->bad && !csi_allowed(f->seq, f->len))
				f->bad = 1;
			emit(f, o);
		}
		return;

	case S_OSC:
		if (f->str_esc) {
			f->str_esc = 0;
			if (c == '\\') {
				osc_end(f, o, "\033\\");
				return;
			}
			drop(f); /* ESC and anything else: aborted, a new sequence */
			begin(f);
			goto again;
		}
		if (c == ESC) {
			f->str_esc = 1;
			return;
		}
		if (c == BEL) {
			osc_end(f, o, "\a");
			return;
		}
		if (c == CAN || c == SUB) {
			drop(f);
			return;
		}
		if (f->osc_phase == 0) {
			if (c >= '0' && c <= '9') {
				if (f->osc_num < 100000)
					f->osc_num = f->osc_num * 10 + (unsigned)(c - '0');
				f->inter = 1;
				app(f, c, 16);
			} else if (c == ';' && f->inter && osc_allowed(f->osc_num, true)) {
				app(f, c, 16);
				f->osc_phase = 1;
			} else {
				str_drop(f, true); /* OSC 52, 50, ... or no number */
			}
			return;
		}
		if (c >= 0x80 || f->u8_need) {
			r = u8_feed(f, c);
			if (r == 1) {
				for (unsigned char i = 0; i < f->u8_len; i++)
					app(f, f->u8[i], SH_TTYF_SEQ_MAX - 2);
				f->u8_len = 0;
			} else if (r == -1) {
				goto again;
			}
			return;
		}
		if (c >= 0x20 && c < 0x7f)
			app(f, c, SH_TTYF_SEQ_MAX - 2); /* room for ESC \ */
		return; /* other controls inside the string are removed */

	case S_STR_DROP:
		if (f->str_esc) {
			f->str_esc = 0;
			if (c == '\\') {
				reset(f);
				return;
			}
			begin(f);
			goto again;
		}
		if (c == ESC)
			f->str_esc = 1;
		else if ((c == BEL && f->bel_ends) || c == CAN || c == SUB)
			reset(f);
		return;

	default:
		reset(f);
		goto again;
	}
}

size_t sh_ttyf_feed(struct sh_ttyf *f, const void *in, size_t n, void *out)
{
	const unsigned char *p = in;
	struct out o = { .p = out, .n = 0 };

	for (size_t i = 0; i < n; i++) {
		unsigned char c = p[i];
		/* the common case, a run of printable ASCII, without the machine */
		if (f->state == S_GROUND && !f->u8_need && c >= 0x20 && c < 0x7f) {
			size_t j = i + 1;
			while (j < n && p[j] >= 0x20 && p[j] < 0x7f)
				j++;
			put(&o, p + i, j - i);
			i = j - 1;
			continue;
		}
		step(f, c, &o);
	}
	return o.n;
}
