/* Low-level directory reading for the audit: getdents64 on directory
 * descriptors, no path strings, no symlink ever followed. */
#include "audit/audit_int.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <time.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "audit/gitconfig.h"

void au_stat_from(struct au_stat *a, const struct stat *st)
{
	a->dev = st->st_dev;
	a->ino = st->st_ino;
	a->size = st->st_size;
	a->mtime_ns = (int64_t)st->st_mtim.tv_sec * 1000000000LL + st->st_mtim.tv_nsec;
	a->ctime_ns = (int64_t)st->st_ctim.tv_sec * 1000000000LL + st->st_ctim.tv_nsec;
	a->mode = st->st_mode;
}

int64_t au_now_ns(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_REALTIME, &ts) < 0)
		return INT64_MAX; /* unreachable; everything then counts as racy */
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* Network and user-space file systems may serve cached or made-up ctimes:
 * there, "directory unchanged" cannot be concluded from them. */
bool au_fs_untrusted(int fd)
{
	struct statfs sfs;

	if (fstatfs(fd, &sfs) < 0)
		return true;
	switch ((unsigned long)sfs.f_type) {
	case 0x6969UL:     /* NFS */
	case 0x65735546UL: /* FUSE */
	case 0x517bUL:     /* SMB */
	case 0xff534d42UL: /* CIFS */
	case 0xfe534d42UL: /* SMB2 */
	case 0x01021997UL: /* 9P */
	case 0x00c36400UL: /* Ceph */
	case 0x5346414fUL: /* AFS */
	case 0x73757245UL: /* Coda */
		return true;
	default:
		return false;
	}
}

int au_name_cmp(const void *a, const void *b)
{
	const struct au_item *x = a, *y = b;
	return strcmp(x->name, y->name);
}

static enum sh_audit_etype etype_of_mode(mode_t m)
{
	return S_ISDIR(m) ? SH_AE_DIR : S_ISLNK(m) ? SH_AE_LNK : SH_AE_OTHER;
}

static enum sh_audit_etype etype_of(int fd, const struct dirent64 *d)
{
	struct stat st;

	switch (d->d_type) {
	case DT_DIR:
		return SH_AE_DIR;
	case DT_LNK:
		return SH_AE_LNK;
	case DT_UNKNOWN:
		/* Some file systems do not fill d_type: ask.  A failure (the entry
		 * vanished) makes it an ordinary file, which is then not walked. */
		if (fstatat(fd, d->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0)
			return etype_of_mode(st.st_mode);
		return SH_AE_OTHER;
	default:
		return SH_AE_OTHER;
	}
}

static void items_push(struct au_items *it, const char *name, enum sh_audit_etype t,
		       const struct sh_audit_class *cls)
{
	struct au_item *x;

	sh_xgrow(&it->v, &it->cap, it->n + 1, sizeof(*it->v));
	x = &it->v[it->n++];
	x->name_off = it->names.len;
	x->etype = t;
	x->cls = *cls;
	sh_buf_append(&it->names, name, strlen(name) + 1);
}

/* A directory git takes for a git dir whatever its name (git init --bare,
 * a moved .git): HEAD with objects/ and refs/, or with a commondir file.
 * Git looks for one in the current directory and each parent, so its
 * config and hooks run as those of a .git. */
struct gitdir_marks {
	bool head, objects, refs, commondir;
};

static void note_gitdir_mark(struct gitdir_marks *m, const char *name, enum sh_audit_etype t)
{
	if (t == SH_AE_DIR) {
		m->objects |= strcmp(name, "objects") == 0;
		m->refs |= strcmp(name, "refs") == 0;
	} else if (t == SH_AE_OTHER) {
		m->head |= strcmp(name, "HEAD") == 0;
		m->commondir |= strcmp(name, "commondir") == 0;
	}
}

int au_read_dir(int fd, uint8_t zone, uint8_t zone_kind, bool at_root, char *buf,
		struct au_items *it)
{
	struct gitdir_marks m = { 0 };
	bool plain = zone == SH_AZ_PLAIN || zone == SH_AZ_VENDOR;
	for (;;) {
		/* the system call, not a libc wrapper (musl's takes a struct dirent *) */
		ssize_t n = syscall(SYS_getdents64, fd, buf, AU_DENTS_BUF);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return errno;
		if (n == 0)
			break;
		for (ssize_t off = 0; off < n;) {
			const struct dirent64 *d = (const void *)(buf + off);
			const char *name = d->d_name;
			struct sh_audit_class cls;
			enum sh_audit_etype t;

			off += d->d_reclen;
			if (name[0] == '.' && (!name[1] || (name[1] == '.' && !name[2])))
				continue;
			t = etype_of(fd, d);
			if (plain)
				note_gitdir_mark(&m, name, t);
			sh_audit_classify(zone, zone_kind, at_root, name, t, &cls);
			if (cls.kind != SH_AK_NONE || cls.descend)
				items_push(it, name, t, &cls);
		}
	}
	if (plain && m.head && ((m.objects && m.refs) || m.commondir)) {
		/* read it again as the git dir it is */
		it->n = 0;
		it->names.len = 0;
		if (lseek(fd, 0, SEEK_SET) < 0)
			return errno;
		return au_read_dir(fd, SH_AZ_GITDIR, 0, at_root, buf, it);
	}
	for (size_t i = 0; i < it->n; i++)
		it->v[i].name = it->names.data + it->v[i].name_off;
	if (it->n > 1)
		qsort(it->v, it->n, sizeof(*it->v), au_name_cmp);
	return 0;
}

void au_items_free(struct au_items *it)
{
	free(it->v);
	sh_buf_free(&it->names);
	memset(it, 0, sizeof(*it));
}

int au_open_dir(int dirfd, const char *name)
{
	return openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
}

int au_read_file(int dirfd, const char *name, char **out, size_t *len)
{
	/* O_NONBLOCK: a FIFO planted at a relevant name must not hang the
	 * audit; it is refused below as not a regular file. */
	int fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	struct stat st;
	size_t got = 0;
	char *buf;
	int err = 0;

	if (fd < 0)
		return errno;
	if (fstat(fd, &st) < 0)
		err = errno;
	else if (!S_ISREG(st.st_mode))
		err = EINVAL;
	else if (st.st_size > (off_t)AU_READ_MAX)
		err = EFBIG;
	if (err) {
		close(fd);
		return err;
	}
	buf = sh_xmalloc((size_t)st.st_size + 1);
	while (got < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + got, (size_t)st.st_size - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			err = errno;
			break;
		}
		if (n == 0)
			break; /* shrank meanwhile: keep what was read */
		got += (size_t)n;
	}
	close(fd);
	if (err) {
		free(buf);
		return err;
	}
	buf[got] = '\0';
	*out = buf;
	*len = got;
	return 0;
}

static int strp_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int au_gitconfig_keys(const char *buf, size_t len, unsigned kind, struct sh_strv *keys)
{
	int rc = sh_audit_gitconfig_keys(buf, len, kind == SH_AK_GITMODULES, keys);
	/* sorted, so that comparing two large files is not quadratic */
	if (rc == 0 && keys->n > 1)
		qsort(keys->v, keys->n, sizeof(*keys->v), strp_cmp);
	return rc;
}

bool au_keys_contain(const struct sh_strv *sorted, const char *key)
{
	return sorted->n && bsearch(&key, sorted->v, sorted->n, sizeof(*sorted->v), strp_cmp);
}
