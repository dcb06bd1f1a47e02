/* Administrator requirements: /etc/safehouse/requirements.
 *
 * Constraints that no lower layer (system or user config, workdir config,
 * environment, command line) can loosen.  The file is trusted only if it and
 * its directory are owned by root and not writable by group or others;
 * otherwise it is ignored with a warning (a user-writable "requirement" is
 * no requirement).  Same key=value syntax as the config files. */
#ifndef SH_REQUIREMENTS_H
#define SH_REQUIREMENTS_H

#include <stdbool.h>
#include <stddef.h>

#include "util/err.h"
#include "util/str.h"

/* One requirement value and where it was written ("FILE:LINE"). */
struct sh_req_item {
	char *value;
	char *origin;
};

struct sh_req_list {
	struct sh_req_item *v;
	size_t n, cap;
};

struct sh_requirements {
	char *path;           /* the file in force, or NULL */
	char *ignored;        /* why an existing file was ignored, or NULL */
	struct sh_req_list allowed_network;  /* none, filtered, full */
	struct sh_req_list allowed_sandbox;  /* read-only, workspace-write, danger-full-access */
	struct sh_req_list allowed_enable;   /* if non-empty: only these features */
	struct sh_req_list forbidden_enable;
	struct sh_req_list append_profile;   /* mandatory appended profiles */
	struct sh_req_list deny_path;        /* mandatory denied paths */
	struct sh_req_list deny_domains;     /* mandatory denied destinations */
	struct sh_req_item forbid_env;       /* value "true" when set */
	struct sh_req_item forbid_danger;    /* forbid-danger-full-access=true */
	struct sh_req_item forbid_publish;   /* forbid-publish=true: no --publish, no publish=,
					      * no profile's $$publish$$ */
};

/* Load dir/requirements.  Returns 1 loaded, 0 absent or ignored (r->ignored
 * says why), -1 on a malformed file (exit 1, "FILE:LINE: ...").  Pure apart
 * from reading the file. */
int sh_requirements_load(const char *dir, struct sh_requirements *r, struct sh_err *e);
void sh_requirements_free(struct sh_requirements *r);

/* Find v in a list (exact match); NULL if absent. */
const struct sh_req_item *sh_req_find(const struct sh_req_list *l, const char *v);

/* Fail (exit 1) naming the requirement when value is not allowed by list
 * (an empty list allows everything).  what: "network mode 'full'". */
int sh_req_check_allowed(const struct sh_req_list *l, const char *key, const char *value,
			 const char *what, struct sh_err *e);

/* Number of requirements in force (for doctor / --explain). */
size_t sh_requirements_count(const struct sh_requirements *r);

/* One line per requirement: "key=value (FILE:LINE)". */
void sh_requirements_print(const struct sh_requirements *r, const char *prefix, void *file);

#endif
