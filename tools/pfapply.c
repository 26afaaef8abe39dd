/*
 * NAME
 *	pfapply - merge htgate's plan into a live Postfix configuration,
 *	and take it out again
 * DESCRIPTION
 *	See pfapply.h.  Both directions work the same way: copy main.cf
 *	and master.cf into a temporary directory (the stage), decide every
 *	change from a snapshot of that copy (pfconf.h), refuse before
 *	anything is changed if something conflicts, make the changes on
 *	the stage with postconf(1), show the diff (dry run) or install the
 *	staged files with rename(2), keeping mode and owner.
 *
 *	The state file (mapdir/apply.state, mode 0600) is one record per
 *	line, tab-separated, every free-text field escaped with
 *	g_strescape():
 *
 *	    htgate-config-apply 1
 *	    postfix_dir DIR
 *	    option milter|policy|delay|egress_port VALUE
 *	    cf main.cf|master.cf WRITTEN-SHA256 ORIG-PATH|- ORIG-SHA256|-
 *	    backup PATH
 *	    param NAME VALUE
 *	    list NAME first|last set|absent ELEMENT
 *	    service NAME/TYPE ENTRY
 *	    file NAME SHA256
 * OWNERSHIP
 *	Everything allocated here is freed before the public functions
 *	return.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "pfapply.h"
#include "pfcheck.h"
#include "pfconf.h"

#define PF_STATE_MAGIC	"htgate-config-apply"
#define PF_BACKUP_TAG	".before-htgate."

static const char *const cf_name[2] = {"main.cf", "master.cf"};

/* ---- files ---- */

/* sha256_hex - SHA-256 of DATA as 64 hex digits */
static char *
sha256_hex(const char *data, size_t len)
{
	return (g_compute_checksum_for_data(G_CHECKSUM_SHA256,
					    (const guchar *) data, len));
}

/* read_all - a whole file (NUL-terminated), or NULL with a reason */
static char *
read_all(const char *path, gsize *len, char *err, size_t errlen)
{
	GString *s;
	struct stat st;
	char	buf[8192];
	ssize_t	n;
	int	fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		g_snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return (NULL);
	}
	/* sized once: a secret is not left behind in a reallocated buffer */
	s = g_string_sized_new(fstat(fd, &st) == 0 ? (gsize) st.st_size + 1 : 0);
	while ((n = read(fd, buf, sizeof(buf))) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			g_snprintf(err, errlen, "%s: %s", path, strerror(errno));
			explicit_bzero(s->str, s->allocated_len);
			g_string_free(s, TRUE);
			(void) close(fd);
			return (NULL);
		}
		g_string_append_len(s, buf, n);
	}
	explicit_bzero(buf, sizeof(buf));
	(void) close(fd);
	*len = s->len;
	return (g_string_free(s, FALSE));
}

/* free_wiped - free a file's contents that may hold a secret */
static void
free_wiped(char *data, gsize len)
{
	if (data != NULL)
		explicit_bzero(data, len);
	g_free(data);
}

/* file_hash - SHA-256 of a file, or "" when it cannot be read */
static char *
file_hash(const char *path)
{
	char	err[256], *data, *h;
	gsize	len;

	if ((data = read_all(path, &len, err, sizeof(err))) == NULL)
		return (g_strdup(""));
	h = sha256_hex(data, len);
	free_wiped(data, len);
	return (h);
}

/* write_like - write PATH atomically with MODE (and owner, unless -1) */
static int
write_like(const char *path, const char *data, size_t len, mode_t mode,
	   uid_t uid, gid_t gid, char *err, size_t errlen)
{
	char   *tmp = g_strconcat(path, ".htgate-tmp", NULL);
	size_t	off = 0;
	int	fd, rc = -1;

	(void) unlink(tmp);
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
		       0600)) < 0)
		goto out;
	if ((uid != (uid_t) -1 && fchown(fd, uid, gid) < 0)
	    || fchmod(fd, mode & 07777) < 0)
		goto close;
	while (off < len) {
		ssize_t	n = write(fd, data + off, len - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			goto close;
		off += (size_t) n;
	}
	if (fsync(fd) < 0)
		goto close;
	rc = 0;
close:
	if (close(fd) < 0)
		rc = -1;
	if (rc == 0 && rename(tmp, path) < 0)
		rc = -1;
out:
	if (rc < 0) {
		g_snprintf(err, errlen, "%s: %s", path, strerror(errno));
		(void) unlink(tmp);
	}
	g_free(tmp);
	return (rc);
}

/* pf_write_file - write a file atomically with MODE */
int
pf_write_file(const char *path, const char *data, size_t len, mode_t mode,
	      char *err, size_t errlen)
{
	return (write_like(path, data, len, mode, (uid_t) -1, (gid_t) -1, err,
			   errlen));
}

/* copy_like - SRC's bytes to DST, with the mode and owner of LIKE */
static int
copy_like(const char *src, const char *dst, const char *like, char *err,
	  size_t errlen)
{
	struct stat st;
	char   *data;
	gsize	len;
	int	rc;

	if (stat(like, &st) < 0) {
		g_snprintf(err, errlen, "%s: %s", like, strerror(errno));
		return (-1);
	}
	if ((data = read_all(src, &len, err, errlen)) == NULL)
		return (-1);
	rc = write_like(dst, data, len, st.st_mode, st.st_uid, st.st_gid, err,
			errlen);
	g_free(data);
	return (rc);
}

/* same_file - do two files have the same bytes */
static int
same_file(const char *a, const char *b)
{
	char   *ha = file_hash(a), *hb = file_hash(b);
	int	same = *ha && strcmp(ha, hb) == 0;

	g_free(ha);
	g_free(hb);
	return (same);
}

/* ---- the stage: a copy of main.cf and master.cf ---- */

/* stage_free - remove the stage and what postconf left in it */
static void
stage_free(char *stage)
{
	GDir   *d;
	const char *n;

	if (stage == NULL)
		return;
	if ((d = g_dir_open(stage, 0, NULL)) != NULL) {
		while ((n = g_dir_read_name(d)) != NULL) {
			char   *p = g_build_filename(stage, n, NULL);

			(void) unlink(p);
			g_free(p);
		}
		g_dir_close(d);
	}
	(void) rmdir(stage);
	g_free(stage);
}

/* stage_new - a temporary copy of DIR's main.cf and master.cf */
static char *
stage_new(const char *dir, char *err, size_t errlen)
{
	GError *gerr = NULL;
	char   *stage = g_dir_make_tmp("htgate-apply-XXXXXX", &gerr);
	int	i;

	if (stage == NULL) {
		g_snprintf(err, errlen, "temporary directory: %s", gerr->message);
		g_error_free(gerr);
		return (NULL);
	}
	for (i = 0; i < 2; i++) {
		char   *src = g_build_filename(dir, cf_name[i], NULL);
		char   *dst = g_build_filename(stage, cf_name[i], NULL);
		char   *data;
		gsize	len;
		int	rc = -1;

		if ((data = read_all(src, &len, err, errlen)) != NULL)
			rc = pf_write_file(dst, data, len, 0644, err, errlen);
		g_free(data);
		g_free(src);
		g_free(dst);
		if (rc < 0) {
			stage_free(stage);
			return (NULL);
		}
	}
	return (stage);
}

/* show_diff - diff -u of DIR/NAME and STAGE/NAME; 1 when they differ */
static int
show_diff(const char *dir, const char *stage, const char *name,
	  const char *what, int print)
{
	char   *a = g_build_filename(dir, name, NULL);
	char   *b = g_build_filename(stage, name, NULL);
	char   *lb = g_strdup_printf("%s (%s)", a, what);
	char   *argv[] = {(char *) "diff", (char *) "-u", (char *) "--label", a,
			  (char *) "--label", lb, a, b, NULL};
	char   *out = NULL;
	int	differ = !same_file(a, b), status;

	if (differ && print) {
		if (g_spawn_sync(NULL, argv, NULL, G_SPAWN_SEARCH_PATH
				 | G_SPAWN_STDERR_TO_DEV_NULL, NULL, NULL, &out,
				 NULL, &status, NULL) && out != NULL && *out)
			fputs(out, stdout);
		else
			printf("%s: changes (diff(1) not available)\n", a);
	}
	g_free(out);
	g_free(lb);
	g_free(a);
	g_free(b);
	return (differ);
}

/* ---- the state ---- */

/* item_free - one state item */
static void
item_free(gpointer p)
{
	struct pf_item *it = p;

	g_free(it->name);
	g_free(it->value);
	g_free(it);
}

/* state_new - an empty state */
static struct pf_state *
state_new(void)
{
	struct pf_state *st = g_new0(struct pf_state, 1);

	st->backups = g_ptr_array_new_with_free_func(g_free);
	st->items = g_ptr_array_new_with_free_func(item_free);
	return (st);
}

/* pf_state_free - release a state */
void
pf_state_free(struct pf_state *st)
{
	int	i;

	if (st == NULL)
		return;
	g_free(st->postfix_dir);
	g_free(st->milter);
	g_free(st->policy);
	g_free(st->delay);
	for (i = 0; i < 2; i++) {
		g_free(st->cf[i].written);
		g_free(st->cf[i].orig);
		g_free(st->cf[i].orig_hash);
	}
	g_ptr_array_free(st->backups, TRUE);
	g_ptr_array_free(st->items, TRUE);
	g_free(st);
}

/* item_add - record one piece of htgate's configuration */
static void
item_add(struct pf_state *st, enum pf_item_kind kind, const char *name,
	 const char *value, int first, int prior)
{
	struct pf_item *it = g_new0(struct pf_item, 1);

	it->kind = kind;
	it->name = g_strdup(name);
	it->value = g_strdup(value);
	it->first = first;
	it->prior = prior;
	g_ptr_array_add(st->items, it);
}

/* item_find - the recorded piece KIND NAME, or NULL */
static const struct pf_item *
item_find(const struct pf_state *st, enum pf_item_kind kind, const char *name)
{
	guint	i;

	if (st == NULL)
		return (NULL);
	for (i = 0; i < st->items->len; i++) {
		const struct pf_item *it = g_ptr_array_index(st->items, i);

		if (it->kind == kind && strcmp(it->name, name) == 0)
			return (it);
	}
	return (NULL);
}

/* state_path - MAPDIR/apply.state */
static char *
state_path(const char *mapdir)
{
	return (g_build_filename(mapdir, PF_STATE_FILE, NULL));
}

/* dash - a field that may be "-" (none) */
static char *
dash(const char *s)
{
	return (strcmp(s, "-") == 0 ? NULL : g_strdup(s));
}

/* state_line - one line's unescaped fields into ST; 0, or -1 if malformed */
static int
state_line(struct pf_state *st, char **f, guint n)
{
	int	i;

	if (n == 2 && strcmp(f[0], "postfix_dir") == 0)
		st->postfix_dir = g_strdup(f[1]);
	else if (n == 3 && strcmp(f[0], "option") == 0) {
		if (strcmp(f[1], "milter") == 0)
			st->milter = g_strdup(f[2]);
		else if (strcmp(f[1], "policy") == 0)
			st->policy = g_strdup(f[2]);
		else if (strcmp(f[1], "delay") == 0)
			st->delay = g_strdup(f[2]);
		else if (strcmp(f[1], "egress_port") == 0)
			st->egress_port = atoi(f[2]);
	} else if (n == 5 && strcmp(f[0], "cf") == 0) {
		i = strcmp(f[1], cf_name[0]) == 0 ? 0 : 1;
		st->cf[i].written = dash(f[2]);
		st->cf[i].orig = dash(f[3]);
		st->cf[i].orig_hash = dash(f[4]);
	} else if (n == 2 && strcmp(f[0], "backup") == 0)
		g_ptr_array_add(st->backups, g_strdup(f[1]));
	else if (n == 3 && strcmp(f[0], "param") == 0)
		item_add(st, PF_ITEM_PARAM, f[1], f[2], 0, 0);
	else if (n == 5 && strcmp(f[0], "list") == 0)
		item_add(st, PF_ITEM_LIST, f[1], f[4], strcmp(f[2], "first") == 0,
			 strcmp(f[3], "set") == 0);
	else if (n == 3 && strcmp(f[0], "service") == 0)
		item_add(st, PF_ITEM_SERVICE, f[1], f[2], 0, 0);
	else if (n == 3 && strcmp(f[0], "file") == 0)
		item_add(st, PF_ITEM_FILE, f[1], f[2], 0, 0);
	else
		return (-1);
	return (0);
}

/* pf_state_load - MAPDIR/apply.state: 1 read, 0 none, -1 error */
int
pf_state_load(const char *mapdir, struct pf_state **stp, char *err,
	      size_t errlen)
{
	char   *path = state_path(mapdir), *data, **lines;
	struct pf_state *st;
	gsize	len;
	int	rc = 1, ln = 0;

	*stp = NULL;
	if (!g_file_test(path, G_FILE_TEST_EXISTS)) {
		g_free(path);
		return (0);
	}
	if ((data = read_all(path, &len, err, errlen)) == NULL) {
		g_free(path);
		return (-1);
	}
	st = state_new();
	lines = g_strsplit(data, "\n", -1);
	for (char **l = lines; *l && rc > 0; l++, ln++) {
		char  **f;

		if (**l == '\0')
			continue;
		f = g_strsplit(*l, "\t", -1);
		for (guint k = 1; f[k] != NULL; k++) {
			char   *u = g_strcompress(f[k]);

			g_free(f[k]);
			f[k] = u;
		}
		if (ln == 0 ? strcmp(*l, PF_STATE_MAGIC "\t1") != 0
		    : state_line(st, f, g_strv_length(f)) < 0) {
			g_snprintf(err, errlen, "%s:%d: not a state file of this "
				   "htgate-config", path, ln + 1);
			rc = -1;
		}
		g_strfreev(f);
	}
	if (rc > 0 && st->postfix_dir == NULL) {
		g_snprintf(err, errlen, "%s: no postfix_dir", path);
		rc = -1;
	}
	g_strfreev(lines);
	g_free(data);
	g_free(path);
	if (rc < 0)
		pf_state_free(st);
	else
		*stp = st;
	return (rc);
}

/* esc - a free-text field for the state file */
static void
esc(GString *s, const char *v)
{
	char   *e;

	if (v == NULL) {
		g_string_append(s, "\t-");
		return;
	}
	e = g_strescape(v, NULL);
	g_string_append_printf(s, "\t%s", e);
	g_free(e);
}

/* state_text - the state file's contents */
static GString *
state_text(const struct pf_state *st)
{
	GString *s = g_string_new(PF_STATE_MAGIC "\t1\n");
	char	port[16];
	guint	i;
	int	k;

	g_string_append(s, "postfix_dir");
	esc(s, st->postfix_dir);
	g_string_append(s, "\noption\tmilter");
	esc(s, st->milter);
	g_string_append(s, "\noption\tpolicy");
	esc(s, st->policy);
	g_string_append(s, "\noption\tdelay");
	esc(s, st->delay);
	g_snprintf(port, sizeof(port), "%d", st->egress_port);
	g_string_append(s, "\noption\tegress_port");
	esc(s, port);
	g_string_append_c(s, '\n');
	for (k = 0; k < 2; k++) {
		g_string_append_printf(s, "cf\t%s", cf_name[k]);
		esc(s, st->cf[k].written);
		esc(s, st->cf[k].orig);
		esc(s, st->cf[k].orig_hash);
		g_string_append_c(s, '\n');
	}
	for (i = 0; i < st->backups->len; i++) {
		g_string_append(s, "backup");
		esc(s, g_ptr_array_index(st->backups, i));
		g_string_append_c(s, '\n');
	}
	for (i = 0; i < st->items->len; i++) {
		static const char *const kind[] = {
			[PF_ITEM_PARAM] = "param", [PF_ITEM_LIST] = "list",
			[PF_ITEM_SERVICE] = "service", [PF_ITEM_FILE] = "file",
		};
		const struct pf_item *it = g_ptr_array_index(st->items, i);

		g_string_append(s, kind[it->kind]);
		esc(s, it->name);
		if (it->kind == PF_ITEM_LIST)
			g_string_append_printf(s, "\t%s\t%s",
					       it->first ? "first" : "last",
					       it->prior ? "set" : "absent");
		esc(s, it->value);
		g_string_append_c(s, '\n');
	}
	return (s);
}

/* write_if_changed - PATH with DATA and MODE, only if it differs; 1 written */
static int
write_if_changed(const char *path, const char *data, size_t len, mode_t mode,
		 char *err, size_t errlen)
{
	char   *old, e[64];
	gsize	olen;
	struct stat st;
	int	same;

	old = read_all(path, &olen, e, sizeof(e));
	same = old != NULL && olen == len && memcmp(old, data, len) == 0;
	free_wiped(old, olen);
	if (same && stat(path, &st) == 0 && (st.st_mode & 07777) == mode)
		return (0);
	if (same)
		return (chmod(path, mode) == 0 ? 1 : -1);
	return (pf_write_file(path, data, len, mode, err, errlen) < 0 ? -1 : 1);
}

/* ---- apply ---- */

struct apply {
	struct pf_plan *plan;
	const struct htg_cfg *cfg;
	const struct pf_opts *po;
	const struct pf_apply_opts *ao;
	struct pf_state *old;		/* NULL: the first apply */
	struct pf_state *st;		/* what this apply leaves */
	char   *stage;
	struct pfc *c;			/* the stage before any change */
	GPtrArray *svc_actions;		/* char **: postconf arguments */
	GPtrArray *param_actions;
	GPtrArray *changes;		/* char *: what changes, for the admin */
	GPtrArray *found;		/* findings; PF_PROBLEM refuses */
	GPtrArray *notes;		/* findings about the state */
};

/* act - one postconf run: ARG1 [ARG2] */
static void
act(GPtrArray *to, const char *a1, const char *a2)
{
	char  **v = g_new0(char *, 3);

	v[0] = g_strdup(a1);
	v[1] = g_strdup(a2);
	g_ptr_array_add(to, v);
}

/* change - a line for the admin */
static void G_GNUC_PRINTF(2, 3)
change(GPtrArray *changes, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	g_ptr_array_add(changes, g_strdup_vprintf(fmt, ap));
	va_end(ap);
}

/* same_value - two parameter values equal as Postfix lists */
static int
same_value(const char *a, const char *b)
{
	GPtrArray *ea = pfl_split(a), *eb = pfl_split(b);
	int	same = ea->len == eb->len;
	guint	i;

	for (i = 0; same && i < ea->len; i++)
		same = strcmp(((struct pfl_elem *) g_ptr_array_index(ea, i))->norm,
			      ((struct pfl_elem *) g_ptr_array_index(eb, i))->norm) == 0;
	g_ptr_array_unref(ea);
	g_ptr_array_unref(eb);
	return (same);
}

/* list_add - VALUE with ELEMENT first or last */
static char *
list_add(const char *value, const char *element, int first)
{
	if (*value == '\0')
		return (g_strdup(element));
	return (first ? g_strdup_printf("%s, %s", element, value)
		: g_strdup_printf("%s, %s", value, element));
}

/* apply_set - one PF_SET parameter */
static void
apply_set(struct apply *a, const struct pf_param *pp)
{
	const char *cur = pfc_param(a->c, pp->name);
	const struct pf_item *o = item_find(a->old, PF_ITEM_PARAM, pp->name);
	char   *nv = g_strdup_printf("%s=%s", pp->name, pp->value);

	if (cur == NULL) {
		act(a->param_actions, "-e", nv);
		change(a->changes, "main.cf: %s = %s", pp->name, pp->value);
	} else if (same_value(cur, pp->value)) {
		;				/* already so */
	} else if (o != NULL && same_value(cur, o->value)) {
		act(a->param_actions, "-e", nv);
		change(a->changes, "main.cf: %s = %s (was %s)", pp->name,
		       pp->value, cur);
	} else {
		pf_finding(a->found, PF_PROBLEM, "main.cf has %s = %s%s; htgate "
			   "needs %s = %s. htgate-config does not override a "
			   "setting it did not make: remove it or give it "
			   "htgate's value, then run apply again", pp->name, cur,
			   o ? " (changed since htgate-config apply set it)" : "",
			   pp->name, pp->value);
	}
	item_add(a->st, PF_ITEM_PARAM, pp->name, pp->value, 0, 0);
	g_free(nv);
}

/* apply_list - htgate's element into a list parameter */
static void
apply_list(struct apply *a, const struct pf_param *pp)
{
	const char *cur = pfc_param(a->c, pp->name);
	const struct pf_item *o = item_find(a->old, PF_ITEM_LIST, pp->name);
	int	first = pp->merge == PF_LIST_FIRST, i;
	char   *value, *ours = pfl_norm(pp->value), *tmp;
	GPtrArray *e, *mine = pfl_split(pp->value);
	const char *key = mine->len ? ((struct pfl_elem *) g_ptr_array_index(mine, 0))->key : "";

	value = cur ? g_strdup(cur) : pfc_value(a->c, NULL, pp->name);
	e = pfl_split(value);
	if (o != NULL) {			/* an earlier apply's element */
		char   *old = pfl_norm(o->value);

		if (strcmp(old, ours) != 0 && (i = pfl_find(e, old)) >= 0) {
			tmp = pfl_remove(value, e, (guint) i);
			g_free(value);
			value = tmp;
			g_ptr_array_unref(e);
			e = pfl_split(value);
			change(a->changes, "main.cf: %s: htgate's earlier %s "
			       "taken out", pp->name, o->value);
		}
		g_free(old);
	}
	if ((i = pfl_find(e, ours)) < 0) {
		int	k = pfl_find_key(e, key);

		if (k >= 0) {
			pf_finding(a->found, PF_PROBLEM, "main.cf: %s already names "
				   "%s, as \"%s\"; htgate adds \"%s\", and two "
				   "entries would use it twice. Remove that entry, or "
				   "write it as htgate does, then run apply again",
				   pp->name, key,
				   ((struct pfl_elem *) g_ptr_array_index(e, k))->norm,
				   pp->value);
		} else {
			tmp = list_add(value, pp->value, first);
			change(a->changes, "main.cf: %s: htgate's %s %s%s%s",
			       pp->name, pp->value, first ? "first" : "last",
			       *value ? ", kept: " : "", value);
			g_free(value);
			value = tmp;
		}
	} else if (first && i != 0) {
		tmp = pfl_remove(value, e, (guint) i);
		g_free(value);
		value = list_add(tmp, pp->value, 1);
		g_free(tmp);
		change(a->changes, "main.cf: %s: htgate's %s moved to the head",
		       pp->name, pp->value);
	}
	if (cur == NULL || strcmp(cur, value) != 0) {
		char   *nv = g_strdup_printf("%s=%s", pp->name, value);

		act(a->param_actions, "-e", nv);
		g_free(nv);
	}
	item_add(a->st, PF_ITEM_LIST, pp->name, pp->value, first,
		 o ? o->prior : cur != NULL);
	g_ptr_array_unref(e);
	g_ptr_array_unref(mine);
	g_free(value);
	g_free(ours);
}

/* port_of - the port of an inet service name ("host:port" or "port") */
static const char *
port_of(const char *name, char *host, size_t len)
{
	const char *colon = strrchr(name, ':');

	g_snprintf(host, len, "%.*s", colon ? (int) (colon - name) : 0, name);
	return (colon ? colon + 1 : name);
}

/* port_taken - another inet service on the port of S, or NULL */
static const struct pfc_service *
port_taken(const struct pfc *c, const struct pf_service *s, const char *key)
{
	char	host[256], h2[256];
	const char *port = port_of(s->name, host, sizeof(host));
	guint	i;

	if (strcmp(s->type, "inet") != 0)
		return (NULL);
	for (i = 0; i < c->services->len; i++) {
		const struct pfc_service *x = g_ptr_array_index(c->services, i);
		const char *p2;

		if (strcmp(x->type, "inet") != 0 || strcmp(x->key, key) == 0)
			continue;
		p2 = port_of(x->name, h2, sizeof(h2));
		if (strcmp(p2, port) == 0
		    && (*h2 == '\0' || strcmp(h2, host) == 0 || strcmp(h2, "*") == 0
			|| strcmp(h2, "0.0.0.0") == 0 || strcmp(h2, "localhost") == 0))
			return (x);
	}
	return (NULL);
}

/* apply_service - one master.cf service */
static void
apply_service(struct apply *a, const struct pf_service *s)
{
	char   *key = pf_service_key(s), *text = pf_service_text(s);
	char   *kv = g_strdup_printf("%s=%s", key, text);
	const struct pfc_service *cur = pfc_service(a->c, key), *x;
	const struct pf_item *o = item_find(a->old, PF_ITEM_SERVICE, key);

	if (cur == NULL) {
		if ((x = port_taken(a->c, s, key)) != NULL)
			pf_finding(a->found, PF_PROBLEM, "master.cf: service %s "
				   "already listens where htgate's egress service "
				   "%s would: choose other ports with --egress-port",
				   x->key, key);
		act(a->svc_actions, "-M", kv);
		change(a->changes, "master.cf: service %s added", key);
	} else if (pfc_same_words(cur->text, text)) {
		;				/* already so */
	} else if (o != NULL && pfc_same_words(cur->text, o->value)) {
		act(a->svc_actions, "-M", kv);
		change(a->changes, "master.cf: service %s updated", key);
	} else {
		char   *d = pf_service_diff(cur->text, text);

		pf_finding(a->found, PF_PROBLEM, "master.cf already has a service "
			   "%s%s, not as htgate generates it (%s). htgate-config "
			   "does not override it: remove or rename it%s, then run "
			   "apply again", key,
			   o ? ", changed since htgate-config apply wrote it" : "",
			   d, strcmp(s->type, "inet") == 0 ? " (or choose other "
			   "egress ports with --egress-port)" : "");
		g_free(d);
	}
	item_add(a->st, PF_ITEM_SERVICE, key, text, 0, 0);
	g_free(kv);
	g_free(text);
	g_free(key);
}

/* planned - does the new state have the piece KIND NAME */
static int
planned(const struct apply *a, enum pf_item_kind kind, const char *name)
{
	return (item_find(a->st, kind, name) != NULL);
}

/* drop_piece - take one recorded piece out of the stage's configuration */
static void
drop_piece(struct pfc *c, const struct pf_item *it, GPtrArray *svc_actions,
	   GPtrArray *param_actions, GPtrArray *changes)
{
	const char *cur;
	const struct pfc_service *s;

	switch (it->kind) {
	case PF_ITEM_PARAM:
		if ((cur = pfc_param(c, it->name)) == NULL)
			break;
		if (same_value(cur, it->value)) {
			act(param_actions, "-X", it->name);
			change(changes, "main.cf: %s removed", it->name);
		} else
			change(changes, "main.cf: %s = %s left as it is (changed "
			       "since htgate-config apply set it)", it->name, cur);
		break;
	case PF_ITEM_LIST: {
		GPtrArray *e;
		char   *norm = pfl_norm(it->value), *rest, *def;
		int	i;

		if ((cur = pfc_param(c, it->name)) == NULL) {
			g_free(norm);
			break;
		}
		e = pfl_split(cur);
		if ((i = pfl_find(e, norm)) >= 0) {
			rest = pfl_remove(cur, e, (guint) i);
			def = pfc_value(c, "-d", it->name);
			if (!it->prior && (*rest == '\0' || same_value(rest, def)))
				act(param_actions, "-X", it->name);
			else {
				char   *nv = g_strdup_printf("%s=%s", it->name, rest);

				act(param_actions, "-e", nv);
				g_free(nv);
			}
			change(changes, "main.cf: %s: htgate's %s taken out%s%s",
			       it->name, it->value, *rest ? ", kept: " : "", rest);
			g_free(rest);
			g_free(def);
		}
		g_ptr_array_unref(e);
		g_free(norm);
		break;
	}
	case PF_ITEM_SERVICE:
		if ((s = pfc_service(c, it->name)) == NULL)
			break;
		if (pfc_same_words(s->text, it->value)) {
			act(svc_actions, "-MX", it->name);
			change(changes, "master.cf: service %s removed", it->name);
		} else
			change(changes, "master.cf: service %s left as it is "
			       "(changed since htgate-config apply wrote it)",
			       it->name);
		break;
	case PF_ITEM_FILE:
		break;
	}
}

/* apply_stale - what an earlier apply made that the plan no longer has */
static void
apply_stale(struct apply *a)
{
	guint	i;

	if (a->old == NULL)
		return;
	for (i = 0; i < a->old->items->len; i++) {
		const struct pf_item *it = g_ptr_array_index(a->old->items, i);

		if (it->kind != PF_ITEM_FILE && !planned(a, it->kind, it->name))
			drop_piece(a->c, it, a->svc_actions, a->param_actions,
				   a->changes);
	}
}

/* run_actions - the postconf runs on the stage; 0 or -1 (printed) */
static int
run_actions(const struct pfc *c, GPtrArray *actions)
{
	char	err[1024];
	guint	i;

	for (i = 0; i < actions->len; i++) {
		char  **args = g_ptr_array_index(actions, i);

		if (pfc_postconf(c, args, NULL, err, sizeof(err)) < 0) {
			fprintf(stderr, "htgate-config: postconf %s %s: %s\n",
				args[0], args[1] ? args[1] : "", err);
			return (-1);
		}
	}
	return (0);
}

/* struct mapfile - a file apply writes into the map dir */
struct mapfile {
	char	name[PF_TRANSPORT_MAX + 32];
	const GString *data;
	mode_t	mode;
};

/* map_files - the generated files: fragments, transport, SASL maps */
static int
map_files(const struct apply *a, GString *main_cf, GString *master_cf,
	  struct mapfile *f, int max)
{
	int	n = 0, i;

	pf_render_main(a->plan, main_cf);
	pf_render_master(a->plan, master_cf);
	f[n++] = (struct mapfile) {"main.cf", main_cf, 0644};
	f[n++] = (struct mapfile) {"master.cf", master_cf, 0644};
	f[n++] = (struct mapfile) {"transport", a->plan->transport, 0644};
	for (i = 0; i < a->cfg->nenvs && n < max; i++) {
		g_snprintf(f[n].name, sizeof(f[n].name), "sasl_passwd.%s",
			   a->cfg->envs[i].name);
		f[n].data = a->plan->sasl[i];
		f[n++].mode = 0600;
	}
	return (n);
}

/* write_maps - the generated files into the map dir, if they changed */
static int
write_maps(struct apply *a, int dry)
{
	struct mapfile f[CFG_MAX_ENVS + 3];
	GString *main_cf = g_string_new(NULL), *master_cf = g_string_new(NULL);
	GString *wrote = g_string_new(NULL);
	char	err[1024];
	int	n, i, rc = 0;

	n = map_files(a, main_cf, master_cf, f, (int) G_N_ELEMENTS(f));
	if (!dry && g_mkdir_with_parents(a->ao->mapdir, 0755) < 0) {
		fprintf(stderr, "htgate-config: %s: %s\n", a->ao->mapdir,
			strerror(errno));
		rc = -1;
	}
	for (i = 0; i < n && rc == 0; i++) {
		char   *path = g_build_filename(a->ao->mapdir, f[i].name, NULL);
		char   *h = sha256_hex(f[i].data->str, f[i].data->len);
		char   *had = file_hash(path);
		int	w;

		if (dry)
			w = strcmp(had, h) != 0;
		else if ((w = write_if_changed(path, f[i].data->str, f[i].data->len,
					       f[i].mode, err, sizeof(err))) < 0) {
			fprintf(stderr, "htgate-config: %s\n", err);
			rc = -1;
		}
		if (w > 0)
			g_string_append_printf(wrote, "%s%s%s", wrote->len ? ", " : "",
					       f[i].name, f[i].mode == 0600 ? " (0600)" : "");
		item_add(a->st, PF_ITEM_FILE, f[i].name, h, 0, 0);
		g_free(had);
		g_free(h);
		g_free(path);
	}
	if (rc == 0)
		printf("  map dir %s: %s%s\n", a->ao->mapdir, dry ? "would write " : "",
		       wrote->len ? wrote->str : "unchanged");
	g_string_free(wrote, TRUE);
	g_string_free(main_cf, TRUE);
	g_string_free(master_cf, TRUE);
	return (rc);
}

/* backup - DIR/NAME.before-htgate.STAMP with NAME's bytes, mode, owner */
static char *
backup(const char *dir, const char *name, const char *stamp, char *err,
       size_t errlen)
{
	char   *src = g_build_filename(dir, name, NULL), *dst = NULL;
	int	n;

	for (n = 0; n < 100; n++) {
		g_free(dst);
		dst = n == 0 ? g_strdup_printf("%s" PF_BACKUP_TAG "%s", src, stamp)
			: g_strdup_printf("%s" PF_BACKUP_TAG "%s.%d", src, stamp, n);
		if (!g_file_test(dst, G_FILE_TEST_EXISTS))
			break;
	}
	if (copy_like(src, dst, src, err, errlen) < 0) {
		g_free(dst);
		dst = NULL;
	}
	g_free(src);
	return (dst);
}

/* commit_files - backups, then the staged master.cf and main.cf */
static int
commit_files(struct apply *a, const int differ[2])
{
	char	stamp[32], err[1024];
	time_t	now = time(NULL);
	int	i, first = a->old == NULL;

	if (!first && !differ[0] && !differ[1])
		return (0);
	strftime(stamp, sizeof(stamp), "%Y%m%d-%H%M%S", localtime(&now));
	for (i = 0; i < 2; i++) {
		char   *b = backup(a->ao->postfix_dir, cf_name[i], stamp, err,
				   sizeof(err));

		if (b == NULL) {
			fprintf(stderr, "htgate-config: backup: %s\n", err);
			return (-1);
		}
		printf("  backup: %s\n", b);
		g_ptr_array_add(a->st->backups, g_strdup(b));
		if (first) {
			a->st->cf[i].orig = g_strdup(b);
			a->st->cf[i].orig_hash = file_hash(b);
		}
		g_free(b);
	}
	for (i = 1; i >= 0; i--) {		/* master.cf first */
		char   *live = g_build_filename(a->ao->postfix_dir, cf_name[i], NULL);
		char   *staged = g_build_filename(a->stage, cf_name[i], NULL);
		int	rc = differ[i] ? copy_like(staged, live, live, err, sizeof(err)) : 0;

		g_free(live);
		g_free(staged);
		if (rc < 0) {
			fprintf(stderr, "htgate-config: %s\n", err);
			return (-1);
		}
	}
	return (0);
}

/* carry_state - the new state's header: options, backups, exact restore */
static void
carry_state(struct apply *a)
{
	int	i;

	a->st->postfix_dir = g_strdup(a->ao->postfix_dir);
	a->st->milter = g_strdup(a->po->milter);
	a->st->policy = g_strdup(a->po->policy);
	a->st->delay = g_strdup(a->po->delay);
	a->st->egress_port = a->po->egress_port;
	if (a->old == NULL)
		return;
	for (i = 0; i < (int) a->old->backups->len; i++)
		g_ptr_array_add(a->st->backups, g_strdup(g_ptr_array_index(a->old->backups, i)));
	for (i = 0; i < 2; i++) {
		char   *live = g_build_filename(a->ao->postfix_dir, cf_name[i], NULL);
		char   *h = file_hash(live);

		/* exact restore stays possible only if nobody changed the file */
		if (a->old->cf[i].written && strcmp(h, a->old->cf[i].written) == 0) {
			a->st->cf[i].orig = g_strdup(a->old->cf[i].orig);
			a->st->cf[i].orig_hash = g_strdup(a->old->cf[i].orig_hash);
		} else if (a->old->cf[i].orig != NULL)
			pf_finding(a->notes, PF_NOTE, "%s changed since the last "
				   "apply: unapply will take out htgate's pieces "
				   "from it, not restore %s", live, a->old->cf[i].orig);
		g_free(h);
		g_free(live);
	}
}

/* apply_decide - every change, from the stage's snapshot */
static void
apply_decide(struct apply *a)
{
	guint	i;

	for (i = 0; i < a->plan->params->len; i++) {
		const struct pf_param *pp = g_ptr_array_index(a->plan->params, i);

		if (pp->merge == PF_SET)
			apply_set(a, pp);
		else
			apply_list(a, pp);
	}
	for (i = 0; i < a->plan->services->len; i++)
		apply_service(a, g_ptr_array_index(a->plan->services, i));
	apply_stale(a);
	pf_check_sockets(a->c, a->po, a->found);
}

/* apply_report - the changes, and what a check of the result finds */
static void
apply_report(struct apply *a, int dry)
{
	GPtrArray *f = pf_findings_new();
	char	err[1024];
	struct pfc *after;
	guint	i;

	after = pfc_open(dry ? a->stage : a->ao->postfix_dir, err, sizeof(err));
	if (after != NULL) {
		if (dry)
			pf_check_overrides(after, a->plan, a->po, f);
		else
			pf_check_live(after, a->plan, a->cfg, a->po, f);
	}
	for (i = 0; dry && i < a->found->len; i++) {
		const struct pf_finding *x = g_ptr_array_index(a->found, i);

		if (x->level != PF_PROBLEM)
			pf_finding(f, x->level, "%s", x->text);
	}
	for (i = 0; i < a->notes->len; i++) {
		const struct pf_finding *x = g_ptr_array_index(a->notes, i);

		pf_finding(f, x->level, "%s", x->text);
	}
	pf_findings_print(f, stdout);
	if (pf_findings_count(f, PF_PROBLEM) > 0)
		printf("htgate-config: these bypass or break htgate; apply does not "
		       "change them (htgate-config check lists them again)\n");
	pfc_free(after);
	g_ptr_array_unref(f);
}

/* apply_free - release an apply */
static void
apply_free(struct apply *a)
{
	pfc_free(a->c);
	stage_free(a->stage);
	pf_state_free(a->old);
	pf_state_free(a->st);
	g_ptr_array_unref(a->svc_actions);
	g_ptr_array_unref(a->param_actions);
	g_ptr_array_unref(a->changes);
	g_ptr_array_unref(a->found);
	g_ptr_array_unref(a->notes);
}

/* reload_hint - what the admin runs next */
static void
reload_hint(const char *dir)
{
	if (strcmp(dir, "/etc/postfix") == 0)
		printf("htgate-config: now run: postfix check && postfix reload\n");
	else
		printf("htgate-config: now run: postfix -c %s check && "
		       "postfix -c %s reload\n", dir, dir);
}

/* pf_apply - merge the plan into the live main.cf and master.cf */
int
pf_apply(struct pf_plan *plan, const struct htg_cfg *cfg,
	 const struct pf_opts *po, const struct pf_apply_opts *ao)
{
	struct apply a = {.plan = plan, .cfg = cfg, .po = po, .ao = ao};
	char	err[1024], *sp;
	int	differ[2] = {0, 0}, rc = 1, i;
	GString *state;

	a.svc_actions = g_ptr_array_new_with_free_func((GDestroyNotify) g_strfreev);
	a.param_actions = g_ptr_array_new_with_free_func((GDestroyNotify) g_strfreev);
	a.changes = g_ptr_array_new_with_free_func(g_free);
	a.found = pf_findings_new();
	a.notes = pf_findings_new();
	a.st = state_new();
	if (pf_state_load(ao->mapdir, &a.old, err, sizeof(err)) < 0) {
		fprintf(stderr, "htgate-config: %s\n", err);
		goto out;
	}
	if (a.old != NULL && strcmp(a.old->postfix_dir, ao->postfix_dir) != 0) {
		fprintf(stderr, "htgate-config: %s/" PF_STATE_FILE " records an "
			"apply to %s, not %s: unapply it there, or use another "
			"--map-dir\n", ao->mapdir, a.old->postfix_dir, ao->postfix_dir);
		goto out;
	}
	if ((a.stage = stage_new(ao->postfix_dir, err, sizeof(err))) == NULL
	    || (a.c = pfc_open(a.stage, err, sizeof(err))) == NULL) {
		fprintf(stderr, "htgate-config: %s\n", err);
		goto out;
	}
	printf("htgate-config: %s htgate to %s (map dir %s)\n",
	       ao->dry_run ? "dry run: applying" : "applying", ao->postfix_dir,
	       ao->mapdir);
	carry_state(&a);
	apply_decide(&a);
	if (pf_findings_count(a.found, PF_PROBLEM) > 0) {
		fflush(stdout);
		fprintf(stderr, "htgate-config: apply refused; nothing was changed:\n");
		for (i = 0; i < (int) a.found->len; i++) {
			const struct pf_finding *x = g_ptr_array_index(a.found, i);

			if (x->level == PF_PROBLEM)
				fprintf(stderr, "  %s\n", x->text);
		}
		goto out;
	}
	if (run_actions(a.c, a.svc_actions) < 0
	    || run_actions(a.c, a.param_actions) < 0)
		goto out;
	for (i = 0; i < 2; i++)
		differ[i] = show_diff(ao->postfix_dir, a.stage, cf_name[i],
				      "htgate-config apply", ao->dry_run);
	for (i = 0; i < (int) a.changes->len; i++)
		printf("  %s\n", (char *) g_ptr_array_index(a.changes, i));
	if (write_maps(&a, ao->dry_run) < 0)
		goto out;
	if (!ao->dry_run) {
		if (commit_files(&a, differ) < 0)
			goto out;
		for (i = 0; i < 2; i++) {
			char   *p = g_build_filename(ao->postfix_dir, cf_name[i], NULL);

			a.st->cf[i].written = file_hash(p);
			g_free(p);
		}
		sp = state_path(ao->mapdir);
		state = state_text(a.st);
		if (write_if_changed(sp, state->str, state->len, 0600, err,
				     sizeof(err)) < 0)
			fprintf(stderr, "htgate-config: %s\n", err);
		g_string_free(state, TRUE);
		g_free(sp);
	}
	apply_report(&a, ao->dry_run);
	if (!differ[0] && !differ[1])
		printf("htgate-config: %s: main.cf and master.cf already have "
		       "htgate's configuration; %s\n", ao->postfix_dir,
		       ao->dry_run ? "apply would change nothing there"
		       : "nothing changed there");
	else if (ao->dry_run)
		printf("htgate-config: dry run: nothing was changed\n");
	else
		reload_hint(ao->postfix_dir);
	rc = 0;
out:
	apply_free(&a);
	return (rc);
}

/* ---- unapply ---- */

/* exact_ok - is FILE still as apply wrote it, with its backup intact */
static int
exact_ok(const struct pf_state *st, int i, const char *dir)
{
	char   *live = g_build_filename(dir, cf_name[i], NULL);
	char   *h = file_hash(live), *ho = NULL;
	int	ok = 0;

	if (st->cf[i].written && strcmp(h, st->cf[i].written) == 0
	    && st->cf[i].orig != NULL && st->cf[i].orig_hash != NULL) {
		ho = file_hash(st->cf[i].orig);
		ok = strcmp(ho, st->cf[i].orig_hash) == 0;
	}
	g_free(ho);
	g_free(h);
	g_free(live);
	return (ok);
}

/* remove_maps - htgate's files, the state and the map dir */
static void
remove_maps(const struct pf_state *st, const char *mapdir, int dry)
{
	GString *left = g_string_new(NULL);
	char   *sp = state_path(mapdir);
	GDir   *d;
	const char *n;
	guint	i;

	for (i = 0; i < st->items->len; i++) {
		const struct pf_item *it = g_ptr_array_index(st->items, i);
		char   *p;

		if (it->kind != PF_ITEM_FILE || strchr(it->name, '/') != NULL)
			continue;
		p = g_build_filename(mapdir, it->name, NULL);
		if (!dry)
			(void) unlink(p);
		g_free(p);
	}
	if (!dry)
		(void) unlink(sp);
	if (!dry && (d = g_dir_open(mapdir, 0, NULL)) != NULL) {
		while ((n = g_dir_read_name(d)) != NULL)
			g_string_append_printf(left, " %s", n);
		g_dir_close(d);
	}
	if (dry)
		printf("  map dir %s: would be removed (htgate's maps, the SASL "
		       "password maps, the state)\n", mapdir);
	else if (left->len == 0 && rmdir(mapdir) == 0)
		printf("  map dir %s: removed (with the SASL password maps)\n", mapdir);
	else
		printf("  map dir %s: htgate's files removed; kept, it holds other "
		       "files:%s\n", mapdir, left->str);
	g_string_free(left, TRUE);
	g_free(sp);
}

/* pf_unapply - restore main.cf and master.cf, remove the map dir */
int
pf_unapply(const struct pf_apply_opts *ao)
{
	struct pf_state *st = NULL;
	GPtrArray *svc = g_ptr_array_new_with_free_func((GDestroyNotify) g_strfreev);
	GPtrArray *par = g_ptr_array_new_with_free_func((GDestroyNotify) g_strfreev);
	GPtrArray *changes = g_ptr_array_new_with_free_func(g_free);
	char	err[1024], *stage = NULL;
	struct pfc *c = NULL;
	int	exact[2], differ[2], rc = 1, i, r;
	guint	k;

	if ((r = pf_state_load(ao->mapdir, &st, err, sizeof(err))) <= 0) {
		if (r == 0)
			g_snprintf(err, sizeof(err), "%s/" PF_STATE_FILE ": no "
				   "record of an apply here: nothing to undo",
				   ao->mapdir);
		fprintf(stderr, "htgate-config: %s\n", err);
		goto out;
	}
	if (strcmp(st->postfix_dir, ao->postfix_dir) != 0) {
		fprintf(stderr, "htgate-config: %s/" PF_STATE_FILE " records an "
			"apply to %s, not %s (use --postfix-dir %s)\n", ao->mapdir,
			st->postfix_dir, ao->postfix_dir, st->postfix_dir);
		goto out;
	}
	if ((stage = stage_new(ao->postfix_dir, err, sizeof(err))) == NULL
	    || (c = pfc_open(stage, err, sizeof(err))) == NULL) {
		fprintf(stderr, "htgate-config: %s\n", err);
		goto out;
	}
	printf("htgate-config: %s htgate from %s (map dir %s)\n",
	       ao->dry_run ? "dry run: removing" : "removing", ao->postfix_dir,
	       ao->mapdir);
	for (i = 0; i < 2; i++) {
		exact[i] = exact_ok(st, i, ao->postfix_dir);
		if (exact[i]) {
			char   *dst = g_build_filename(stage, cf_name[i], NULL);

			r = copy_like(st->cf[i].orig, dst, dst, err, sizeof(err));
			g_free(dst);
			if (r < 0) {
				fprintf(stderr, "htgate-config: %s\n", err);
				goto out;
			}
			change(changes, "%s: restored exactly from %s", cf_name[i],
			       st->cf[i].orig);
		} else
			change(changes, "%s: changed since htgate-config apply wrote "
			       "it: only htgate's pieces are taken out", cf_name[i]);
	}
	for (k = 0; k < st->items->len; k++) {
		const struct pf_item *it = g_ptr_array_index(st->items, k);

		if ((it->kind == PF_ITEM_SERVICE && !exact[1])
		    || ((it->kind == PF_ITEM_PARAM || it->kind == PF_ITEM_LIST) && !exact[0]))
			drop_piece(c, it, svc, par, changes);
	}
	if (run_actions(c, svc) < 0 || run_actions(c, par) < 0)
		goto out;
	for (i = 0; i < 2; i++)
		differ[i] = show_diff(ao->postfix_dir, stage, cf_name[i],
				      "htgate-config unapply", ao->dry_run);
	for (k = 0; k < changes->len; k++)
		printf("  %s\n", (char *) g_ptr_array_index(changes, k));
	if (!ao->dry_run)
		for (i = 1; i >= 0; i--) {
			char   *live = g_build_filename(ao->postfix_dir, cf_name[i], NULL);
			char   *staged = g_build_filename(stage, cf_name[i], NULL);

			r = differ[i] ? copy_like(staged, live, exact[i]
						  ? st->cf[i].orig : live, err,
						  sizeof(err)) : 0;
			if (r == 0 && exact[i] && !same_file(live, st->cf[i].orig)) {
				g_snprintf(err, sizeof(err), "%s differs from %s after "
					   "the restore", live, st->cf[i].orig);
				r = -1;
			}
			g_free(live);
			g_free(staged);
			if (r < 0) {
				fprintf(stderr, "htgate-config: %s\n", err);
				goto out;
			}
		}
	remove_maps(st, ao->mapdir, ao->dry_run);
	for (k = 0; k < st->backups->len; k++) {
		const char *b = g_ptr_array_index(st->backups, k);

		if (!exact[0] || !exact[1])
			printf("  backup kept: %s\n", b);
		else if (!ao->dry_run)
			(void) unlink(b);
	}
	if (exact[0] && exact[1] && st->backups->len)
		printf("  backups %s (main.cf and master.cf are again exactly "
		       "what they were)\n", ao->dry_run ? "would be removed" : "removed");
	if (ao->dry_run)
		printf("htgate-config: dry run: nothing was changed\n");
	else
		reload_hint(ao->postfix_dir);
	rc = 0;
out:
	pfc_free(c);
	stage_free(stage);
	pf_state_free(st);
	g_ptr_array_unref(svc);
	g_ptr_array_unref(par);
	g_ptr_array_unref(changes);
	return (rc);
}
