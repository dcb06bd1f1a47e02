/* Output filter for the bytes the sandbox writes to the user's terminal
 * (threats.md TERM-03).  Pure: no system calls, no allocation.
 *
 * A streaming ECMA-48 parser (after the DEC/vt100.net state machine) that
 * re-serializes what it recognizes and lets through only what a terminal
 * application needs to draw.  The input may be split anywhere; state between
 * calls is bounded (SH_TTYF_SEQ_MAX bytes of one unfinished sequence).
 *
 * Invariant: the output is a concatenation of complete tokens -- printable
 * ASCII, whole valid UTF-8 characters, allowed C0 controls, and complete
 * escape / CSI / OSC sequences with their terminator -- so the real
 * terminal's parser is back in its ground state after every token, whatever
 * the input was.  Nothing the filter does not understand can start a
 * sequence the terminal would interpret differently.
 *
 * Passed: text and valid UTF-8; BEL BS HT LF VT FF CR SO SI; ESC sequences
 * (charsets, DECSC/DECRC, keypad modes, RI, IND, NEL, RIS, ...) except
 * DECID (ESC Z); every CSI sequence (SGR colours, cursor movement, erase,
 * scroll regions, DEC private modes: alt screen, bracketed paste, mouse,
 * synchronized output; DA/DSR/DECRQM queries, whose replies are fixed
 * terminal-generated text that goes back to the application) except those
 * below; OSC 0/1/2 (titles), 4/10-19/104/105/110-119 (colours, set and
 * query), 133 (prompt marks), and 8 (hyperlinks) with an empty, http, https,
 * file, mailto or ftp URI.  Control characters (C0, DEL, C1, invalid UTF-8)
 * inside a passed OSC are removed.
 *
 * Dropped (whole sequence): OSC 52 (clipboard), OSC 50 (font) and every
 * other OSC number (notifications, iTerm2 1337 file transfer, cwd 7, ...);
 * OSC 8 with another URI scheme; DCS (DECRQSS, XTGETTCAP, sixel, tmux
 * passthrough), SOS, PM, APC strings; 8-bit C1 controls, raw or UTF-8
 * encoded (U+0080..U+009F), and any invalid UTF-8; C0 controls other than
 * the ones above (NUL, ENQ -- the answerback request --, ...), DEL; CSI t
 * window operations and reports (all but 22/23 t, the title stack: 20 t and
 * 21 t report the icon/window title into the input), CSI i (media copy /
 * printer controller), CSI * y (DECRQCRA, reads back screen contents);
 * sequences longer than the bounds. */
#ifndef SH_TTYFILTER_H
#define SH_TTYFILTER_H

#include <stdbool.h>
#include <stddef.h>

/* Longest sequence (ESC/CSI/OSC including its introducer and terminator)
 * that is passed; longer ones are dropped.  Also the most that sh_ttyf_feed
 * can emit beyond the size of its input. */
#define SH_TTYF_SEQ_MAX 4096
#define SH_TTYF_CSI_MAX 256

struct sh_ttyf {
	unsigned char state;
	unsigned char str_esc;  /* inside a string: the previous byte was ESC */
	unsigned char bad;      /* the current sequence is dropped at its end */
	unsigned char inter;    /* CSI: an intermediate byte was seen; OSC: a digit */
	unsigned char osc_phase; /* 0: reading the number, 1: the payload */
	unsigned char bel_ends; /* a dropped string: BEL ends it (OSC) or not (DCS ...) */
	unsigned char u8_need, u8_lo, u8_hi, u8_len;
	unsigned char u8[4];
	unsigned osc_num;
	size_t len;
	unsigned long dropped;  /* sequences and bytes dropped so far (diagnostics) */
	bool touched;           /* a sequence that changes a terminal mode passed (private
				 * CSI modes, keyboard protocols, character sets, colours):
				 * the session's end resets them (pty.c) */
	unsigned char seq[SH_TTYF_SEQ_MAX];
};

void sh_ttyf_init(struct sh_ttyf *f);
/* Filter n bytes of application output.  Writes at most n + SH_TTYF_SEQ_MAX
 * bytes to out and returns how many. */
size_t sh_ttyf_feed(struct sh_ttyf *f, const void *in, size_t n, void *out);
/* End of the stream: whatever unfinished sequence is held is discarded
 * (never completed by bytes from somewhere else).  The filter is reset. */
void sh_ttyf_finish(struct sh_ttyf *f);

#endif
