/*
 * NAME
 *	pfconf - a Postfix configuration directory, read and changed with
 *	Postfix's own tools
 * DESCRIPTION
 *	See pfconf.h.  Everything about the configuration comes from
 *	postconf(1) itself, so continuation lines, comments, $name
 *	expansion and master.cf's syntax are read exactly as Postfix reads
 *	them; nothing here parses main.cf or master.cf.  The programs are
 *	looked for in $PATH, then /usr/sbin and /sbin.
 * OWNERSHIP
 *	Every string in a struct pfc is g_malloc()ed and owned by it.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "pfconf.h"

#define PFC_SEP		", \t\r\n"

/* find_program - NAME in $PATH, /usr/sbin or /sbin, or NULL */
static char *
find_program(const char *name)
{
	const char *path = getenv("PATH");
	char   *all = g_strconcat(path ? path : "", ":/usr/sbin:/sbin", NULL);
	char  **dirs = g_strsplit(all, ":", -1), *found = NULL;

	for (char **d = dirs; *d && found == NULL; d++) {
		char   *p;

		if (**d != '/')
			continue;
		p = g_build_filename(*d, name, NULL);
		if (access(p, X_OK) == 0)
			found = p;
		else
			g_free(p);
	}
	g_strfreev(dirs);
	g_free(all);
	return (found);
}

/* stdin_setup - in the child: standard input from the descriptor given */
static void
stdin_setup(gpointer data)
{
	int	fd = *(int *) data;

	if (fd >= 0 && dup2(fd, 0) < 0)
		_exit(127);
}

/* first_line - the first non-empty line of a program's error output */
static void
first_line(const char *text, char *buf, size_t len)
{
	const char *s = text ? text : "";
	size_t	n;

	while (*s == '\n')
		s++;
	n = strcspn(s, "\n");
	g_snprintf(buf, len, "%.*s", (int) n, s);
}

/*
 * run - run ARGV (stdin from IN_FD, or /dev/null), its output into OUT
 * and its error output into ERROUT (each may be NULL); 0 when it exited 0
 * (or with a status in OK_MASK), else -1 with a reason
 */
static int
run(char *const *argv, int in_fd, unsigned ok_mask, GString *out,
    GString *errout, char *err, size_t errlen)
{
	char   *sout = NULL, *serr = NULL, line[512];
	GError *gerr = NULL;
	int	status, code;

	if (!g_spawn_sync(NULL, (char **) argv, NULL, G_SPAWN_DEFAULT,
			  stdin_setup, &in_fd, &sout, &serr, &status, &gerr)) {
		g_snprintf(err, errlen, "%s: %s", argv[0], gerr->message);
		g_error_free(gerr);
		return (-1);
	}
	code = WIFEXITED(status) ? WEXITSTATUS(status) : 255;
	if (out != NULL && sout != NULL)
		g_string_append(out, sout);
	if (errout != NULL && serr != NULL)
		g_string_append(errout, serr);
	if (code != 0 && (code > 31 || !(ok_mask & (1u << code)))) {
		first_line(serr, line, sizeof(line));
		g_snprintf(err, errlen, "%s failed (exit status %d)%s%s", argv[0],
			   code, *line ? ": " : "", line);
		g_free(sout);
		g_free(serr);
		return (-1);
	}
	g_free(sout);
	g_free(serr);
	return (0);
}

/* postconf_run - postconf -c DIR ARGS..., its output into OUT and ERROUT */
static int
postconf_run(const struct pfc *c, char *const *args, GString *out,
	     GString *errout, char *err, size_t errlen)
{
	GPtrArray *argv = g_ptr_array_new();
	int	rc;

	g_ptr_array_add(argv, c->postconf);
	g_ptr_array_add(argv, (char *) "-c");
	g_ptr_array_add(argv, c->dir);
	for (; *args; args++)
		g_ptr_array_add(argv, *args);
	g_ptr_array_add(argv, NULL);
	rc = run((char *const *) argv->pdata, -1, 0, out, errout, err, errlen);
	g_ptr_array_free(argv, TRUE);
	return (rc);
}

/* pfc_postconf - postconf -c DIR ARGS..., standard output into OUT */
int
pfc_postconf(const struct pfc *c, char *const *args, GString *out, char *err,
	     size_t errlen)
{
	return (postconf_run(c, args, out, NULL, err, errlen));
}

/* postconf_text - the output of postconf -c DIR FLAG (warnings: ERROUT) */
static char *
postconf_text(const struct pfc *c, const char *flag, GString *errout,
	      char *err, size_t errlen)
{
	char   *args[] = {(char *) flag, NULL};
	GString *out = g_string_new(NULL);

	if (postconf_run(c, args, out, errout, err, errlen) < 0) {
		g_string_free(out, TRUE);
		return (NULL);
	}
	return (g_string_free(out, FALSE));
}

/*
 * parse_unused - main.cf parameters Postfix does not know (no service or
 * list uses them yet): "postconf -n" leaves them out and warns "FILE:
 * unused parameter: NAME=VALUE"; take them from the warnings
 */
static void
parse_unused(const char *text, GHashTable *h)
{
	static const char tag[] = ": unused parameter: ";
	char  **lines = g_strsplit(text, "\n", -1);

	for (char **l = lines; *l; l++) {
		const char *p = strstr(*l, tag), *eq;
		char   *name;

		if (p == NULL || (eq = strchr(p += sizeof(tag) - 1, '=')) == NULL)
			continue;
		name = g_strndup(p, (gsize) (eq - p));

		if (!g_hash_table_contains(h, name))
			g_hash_table_replace(h, name, g_strdup(eq + 1));
		else
			g_free(name);
	}
	g_strfreev(lines);
}

/* parse_params - "name = value" lines into a table */
static void
parse_params(const char *text, GHashTable *h)
{
	char  **lines = g_strsplit(text, "\n", -1);

	for (char **l = lines; *l; l++) {
		char   *eq = strstr(*l, " =");
		const char *v;

		if (eq == NULL || eq == *l)
			continue;
		v = eq + 2;
		if (*v == ' ')
			v++;
		g_hash_table_replace(h, g_strndup(*l, (gsize) (eq - *l)),
				     g_strdup(v));
	}
	g_strfreev(lines);
}

/* pfc_same_words - two texts equal but for blanks */
int
pfc_same_words(const char *a, const char *b)
{
	char  **wa = pfc_words(a), **wb = pfc_words(b);
	int	same = g_strv_equal((const char *const *) wa, (const char *const *) wb);

	g_strfreev(wa);
	g_strfreev(wb);
	return (same);
}

/* pfc_words - a text split at blanks */
char  **
pfc_words(const char *text)
{
	GPtrArray *w = g_ptr_array_new();
	const char *s = text;

	while (*s) {
		size_t	n;

		s += strspn(s, " \t\r\n");
		if ((n = strcspn(s, " \t\r\n")) == 0)
			break;
		g_ptr_array_add(w, g_strndup(s, n));
		s += n;
	}
	g_ptr_array_add(w, NULL);
	return ((char **) g_ptr_array_free(w, FALSE));
}

/* service_free - one master.cf service */
static void
service_free(gpointer p)
{
	struct pfc_service *s = p;
	int	i;

	g_free(s->key);
	g_free(s->name);
	g_free(s->type);
	for (i = 0; i < 5; i++)
		g_free(s->fields[i]);
	g_free(s->command);
	g_free(s->text);
	g_hash_table_destroy(s->opts);
	g_hash_table_destroy(s->opts_x);
	g_free(s);
}

/* parse_services - "postconf -M" lines into services */
static void
parse_services(const char *text, GPtrArray *services)
{
	char  **lines = g_strsplit(text, "\n", -1);

	for (char **l = lines; *l; l++) {
		char  **w = pfc_words(*l);
		struct pfc_service *s;
		int	i;

		if (g_strv_length(w) < 8) {
			g_strfreev(w);
			continue;
		}
		s = g_new0(struct pfc_service, 1);
		s->name = g_strdup(w[0]);
		s->type = g_strdup(w[1]);
		s->key = g_strdup_printf("%s/%s", w[0], w[1]);
		for (i = 0; i < 5; i++)
			s->fields[i] = g_strdup(w[2 + i]);
		s->command = g_strdup(w[7]);
		s->text = g_strjoinv(" ", w);
		s->opts = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
		s->opts_x = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
		g_ptr_array_add(services, s);
		g_strfreev(w);
	}
	g_strfreev(lines);
}

/* parse_opts - "name/type/param = value" lines into the services' options */
static void
parse_opts(struct pfc *c, const char *text, int expanded)
{
	GHashTable *h = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	GHashTableIter it;
	gpointer k, v;

	parse_params(text, h);
	g_hash_table_iter_init(&it, h);
	while (g_hash_table_iter_next(&it, &k, &v)) {
		const char *slash = strchr(k, '/'), *param;
		struct pfc_service *s;
		char   *key;

		if (slash == NULL || (param = strchr(slash + 1, '/')) == NULL)
			continue;
		key = g_strndup(k, (gsize) (param - (const char *) k));
		if ((s = (struct pfc_service *) pfc_service(c, key)) != NULL)
			g_hash_table_replace(expanded ? s->opts_x : s->opts,
					     g_strdup(param + 1), g_strdup(v));
		g_free(key);
	}
	g_hash_table_destroy(h);
}

/* pfc_open - a snapshot of the configuration in DIR */
struct pfc *
pfc_open(const char *dir, char *err, size_t errlen)
{
	static const char *const flags[] = {"-n", "-nx", "-M", "-P", "-Px"};
	struct pfc *c = g_new0(struct pfc, 1);
	GString *warn = g_string_new(NULL);
	char   *text[5] = {NULL};
	int	i, ok = 1;

	c->dir = g_strdup(dir);
	c->params = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	c->params_x = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	c->services = g_ptr_array_new_with_free_func(service_free);
	if ((c->postconf = find_program("postconf")) == NULL
	    || (c->postmap = find_program("postmap")) == NULL) {
		g_snprintf(err, errlen, "postconf or postmap not found (is "
			   "Postfix installed?)");
		pfc_free(c);
		return (NULL);
	}
	for (i = 0; i < 5 && ok; i++)
		ok = (text[i] = postconf_text(c, flags[i], i == 0 ? warn : NULL,
					      err, errlen)) != NULL;
	if (ok) {
		parse_params(text[0], c->params);
		parse_unused(warn->str, c->params);
		parse_params(text[1], c->params_x);
		parse_services(text[2], c->services);
		parse_opts(c, text[3], 0);
		parse_opts(c, text[4], 1);
	}
	for (i = 0; i < 5; i++)
		g_free(text[i]);
	g_string_free(warn, TRUE);
	if (!ok) {
		pfc_free(c);
		return (NULL);
	}
	return (c);
}

/* pfc_free - release a snapshot */
void
pfc_free(struct pfc *c)
{
	if (c == NULL)
		return;
	g_free(c->dir);
	g_free(c->postconf);
	g_free(c->postmap);
	g_hash_table_destroy(c->params);
	g_hash_table_destroy(c->params_x);
	g_ptr_array_free(c->services, TRUE);
	g_free(c);
}

/* pfc_param - the raw main.cf value of NAME, NULL when main.cf lacks it */
const char *
pfc_param(const struct pfc *c, const char *name)
{
	return (g_hash_table_lookup(c->params, name));
}

/* pfc_param_x - the same with $name expanded */
const char *
pfc_param_x(const struct pfc *c, const char *name)
{
	return (g_hash_table_lookup(c->params_x, name));
}

/* pfc_value - postconf -c DIR FLAGS -h NAME (trailing newline removed) */
char   *
pfc_value(const struct pfc *c, const char *flags, const char *name)
{
	char   *args[4] = {NULL}, err[512];
	GString *out = g_string_new(NULL);
	int	n = 0;

	if (flags != NULL && *flags)
		args[n++] = (char *) flags;
	args[n++] = (char *) "-h";
	args[n++] = (char *) name;
	if (pfc_postconf(c, args, out, err, sizeof(err)) < 0)
		g_string_truncate(out, 0);
	while (out->len && out->str[out->len - 1] == '\n')
		g_string_truncate(out, out->len - 1);
	return (g_string_free(out, FALSE));
}

/* pfc_service - the master.cf service KEY ("name/type"), or NULL */
const struct pfc_service *
pfc_service(const struct pfc *c, const char *key)
{
	guint	i;

	for (i = 0; i < c->services->len; i++) {
		const struct pfc_service *s = g_ptr_array_index(c->services, i);

		if (strcmp(s->key, key) == 0)
			return (s);
	}
	return (NULL);
}

/* pfc_opt - the -o NAME of a service (raw or expanded), or NULL */
const char *
pfc_opt(const struct pfc_service *s, const char *name, int expanded)
{
	return (g_hash_table_lookup(expanded ? s->opts_x : s->opts, name));
}

/* pfc_chrooted - does the service run chrooted ("-": n since Postfix 3.0) */
int
pfc_chrooted(const struct pfc_service *s)
{
	return (strcmp(s->fields[2], "y") == 0);
}

/* pfc_lookup - postmap -q - MAP for KEYS; hits into FOUND (key -> value) */
int
pfc_lookup(const struct pfc *c, const char *map, char *const *keys,
	   GHashTable *found, char *err, size_t errlen)
{
	char   *argv[] = {c->postmap, (char *) "-c", c->dir, (char *) "-q",
			  (char *) "-", (char *) map, NULL};
	char   *tmp = NULL, **lines;
	GString *in = g_string_new(NULL), *out = g_string_new(NULL);
	GError *gerr = NULL;
	int	fd, rc = -1;

	for (; *keys; keys++)
		g_string_append_printf(in, "%s\n", *keys);
	if ((fd = g_file_open_tmp("htgate-keys-XXXXXX", &tmp, &gerr)) < 0) {
		g_snprintf(err, errlen, "%s", gerr->message);
		g_error_free(gerr);
		goto out;
	}
	if (write(fd, in->str, in->len) != (ssize_t) in->len
	    || lseek(fd, 0, SEEK_SET) < 0) {
		g_snprintf(err, errlen, "%s: %s", tmp, strerror(errno));
		goto out;
	}
	/* postmap -q - exits 1 when no key was found */
	if (run(argv, fd, 1u << 1, out, NULL, err, errlen) < 0)
		goto out;
	lines = g_strsplit(out->str, "\n", -1);
	for (char **l = lines; *l; l++) {
		char   *tab = strchr(*l, '\t');

		if (tab != NULL)
			g_hash_table_replace(found, g_strndup(*l, (gsize) (tab - *l)),
					     g_strdup(tab + 1));
	}
	g_strfreev(lines);
	rc = 0;
out:
	if (fd >= 0)
		(void) close(fd);
	if (tmp != NULL)
		(void) unlink(tmp);
	g_free(tmp);
	g_string_free(in, TRUE);
	g_string_free(out, TRUE);
	return (rc);
}

/* elem_free - one list element */
static void
elem_free(gpointer p)
{
	struct pfl_elem *e = p;

	g_free(e->norm);
	g_free(e->key);
	g_free(e);
}

/* group_norm - "{ a, b = c }" as "{ a, b=c }"; its first word into KEY */
static char *
group_norm(const char *text, size_t len, char **key)
{
	GString *in = g_string_new(NULL), *out = g_string_new("{ ");
	char  **words;
	size_t	i;
	int	n = 0;

	/* the inside of the braces, without blanks around '=' */
	for (i = 1; i < len && text[i] != '}'; i++) {
		if (text[i] == '=') {
			while (in->len && strchr(" \t\r\n", in->str[in->len - 1]))
				g_string_truncate(in, in->len - 1);
			g_string_append_c(in, '=');
			while (i + 1 < len && strchr(" \t\r\n", text[i + 1]))
				i++;
			continue;
		}
		g_string_append_c(in, text[i]);
	}
	words = g_strsplit_set(in->str, PFC_SEP, -1);
	for (char **w = words; *w; w++) {
		if (**w == '\0')
			continue;
		if (n++ == 0)
			*key = g_strdup(*w);
		else
			g_string_append(out, ", ");
		g_string_append(out, *w);
	}
	if (n == 0)
		*key = g_strdup("");
	g_string_append(out, " }");
	g_strfreev(words);
	g_string_free(in, TRUE);
	return (g_string_free(out, FALSE));
}

/* pfl_split - the elements of a Postfix list value */
GPtrArray *
pfl_split(const char *v)
{
	GPtrArray *a = g_ptr_array_new_with_free_func(elem_free);
	size_t	i = 0, n = strlen(v);

	while (i < n) {
		struct pfl_elem *e;

		while (i < n && strchr(PFC_SEP, v[i]) != NULL)
			i++;
		if (i >= n)
			break;
		e = g_new0(struct pfl_elem, 1);
		e->start = i;
		if (v[i] == '{') {
			int	depth = 0;

			do {
				if (v[i] == '{')
					depth++;
				else if (v[i] == '}')
					depth--;
				i++;
			} while (i < n && depth > 0);
			e->end = i;
			e->norm = group_norm(v + e->start, e->end - e->start, &e->key);
		} else {
			while (i < n && strchr(PFC_SEP, v[i]) == NULL && v[i] != '{')
				i++;
			e->end = i;
			e->norm = g_strndup(v + e->start, e->end - e->start);
			e->key = g_strdup(e->norm);
		}
		g_ptr_array_add(a, e);
	}
	return (a);
}

/* pfl_find - index of the element with normalised text NORM, or -1 */
int
pfl_find(const GPtrArray *elems, const char *norm)
{
	guint	i;

	for (i = 0; i < elems->len; i++)
		if (strcmp(((struct pfl_elem *) g_ptr_array_index(elems, i))->norm,
			   norm) == 0)
			return ((int) i);
	return (-1);
}

/* pfl_find_key - index of the first element whose key is KEY, or -1 */
int
pfl_find_key(const GPtrArray *elems, const char *key)
{
	guint	i;

	for (i = 0; i < elems->len; i++)
		if (strcmp(((struct pfl_elem *) g_ptr_array_index(elems, i))->key,
			   key) == 0)
			return ((int) i);
	return (-1);
}

/* pfl_remove - VALUE without element I, every other byte kept */
char   *
pfl_remove(const char *value, const GPtrArray *elems, guint i)
{
	const struct pfl_elem *e = g_ptr_array_index(elems, i);
	size_t	from = e->start, to = e->end;
	GString *s = g_string_new(NULL);

	if (i + 1 < elems->len)		/* up to the next element */
		to = ((const struct pfl_elem *) g_ptr_array_index(elems, i + 1))->start;
	else if (i > 0)			/* from the end of the previous one */
		from = ((const struct pfl_elem *) g_ptr_array_index(elems, i - 1))->end;
	g_string_append_len(s, value, (gssize) from);
	g_string_append(s, value + to);
	return (g_strstrip(g_string_free(s, FALSE)));
}

/* pfl_norm - the normalised text of a one-element value */
char   *
pfl_norm(const char *value)
{
	GPtrArray *a = pfl_split(value);
	char   *n = g_strdup(a->len ? ((struct pfl_elem *) g_ptr_array_index(a, 0))->norm : "");

	g_ptr_array_unref(a);
	return (n);
}
