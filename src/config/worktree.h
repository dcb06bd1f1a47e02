/* Linked git worktrees.
 *
 * When the workdir is the root of a linked worktree (`git worktree add`),
 * its .git is a FILE "gitdir: <common>/worktrees/<name>", and git needs
 * read/write access to <common> (objects, refs, index of the worktree).
 * Sibling worktrees of the same repository are granted read-only.
 *
 * The workdir is attacker-controlled and the common dir becomes writable, so
 * neither may be allowed to redirect a grant at an arbitrary directory.  A
 * link is only believed when it is confirmed from both sides, as git itself
 * does:
 *   - <workdir>/.git is a regular file (opened O_NOFOLLOW) naming gitdir G;
 *   - G contains "commondir" naming C (relative to G), and G is exactly
 *     C/worktrees/<name>;
 *   - C looks like a git directory (HEAD file, objects/ and refs/ dirs);
 *   - G/gitdir names <workdir>/.git (the back link).
 * A sibling S (from C/worktrees/N/gitdir) is kept only if S/.git is a regular
 * file whose gitdir line resolves back to C/worktrees/N and S is not the
 * workdir.  All files are read with a size cap; git is never executed. */
#ifndef SH_WORKTREE_H
#define SH_WORKTREE_H

#include "util/err.h"
#include "util/str.h"

struct sh_worktree {
	char *gitdir;            /* canonical C/worktrees/<name> */
	char *commondir;         /* canonical common git dir: read/write grant */
	struct sh_strv siblings; /* canonical sibling worktree roots, sorted:
				  * read-only grants */
	char *note;              /* why the workdir is not treated as a linked
				  * worktree (for --explain), or NULL */
};

/* workdir must be canonical and absolute.  Returns 1 if it is a confirmed
 * linked worktree root (gitdir, commondir, siblings filled), 0 if not (note
 * set when there was a .git file that did not check out: "not a linked
 * worktree: ..."; NULL for the ordinary cases of no .git or a .git
 * directory), -1 only for a workdir that is not absolute (SH_EXIT_USAGE).
 * A broken or hostile layout is never an error: it just yields no grant.
 * Free *wt with sh_worktree_free in every case. */
int sh_worktree_detect(const char *workdir, struct sh_worktree *wt, struct sh_err *e);

void sh_worktree_free(struct sh_worktree *wt);

#endif
