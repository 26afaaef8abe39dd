/*
 * NAME
 *	pfcheck - what in a live Postfix configuration bypasses or breaks
 *	htgate
 * DESCRIPTION
 *	See pfcheck.h.  Every value comes from a pfconf snapshot (postconf
 *	itself); routing is asked from postmap(1), one run per lookup
 *	table with every key at once.
 */
#include "config.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "pfcheck.h"

#define PF_QUEUE_DEFAULT	"/var/spool/postfix"

/* finding_free - one finding */
static void
finding_free(gpointer p)
{
	struct pf_finding *f = p;

	g_free(f->text);
	g_free(f);
}

/* pf_findings_new - an empty list of findings */
GPtrArray *
pf_findings_new(void)
{
	return (g_ptr_array_new_with_free_func(finding_free));
}

/* pf_finding - add one finding */
void
pf_finding(GPtrArray *f, enum pf_level level, const char *fmt, ...)
{
	struct pf_finding *x = g_new0(struct pf_finding, 1);
	va_list	ap;

	va_start(ap, fmt);
	x->text = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	x->level = level;
	g_ptr_array_add(f, x);
}

/* pf_findings_count - how many findings of LEVEL */
int
pf_findings_count(const GPtrArray *f, enum pf_level level)
{
	guint	i;
	int	n = 0;

	for (i = 0; i < f->len; i++)
		n += ((const struct pf_finding *) g_ptr_array_index(f, i))->level == level;
	return (n);
}

/* pf_findings_print - problems first, then warnings, then notes */
void
pf_findings_print(const GPtrArray *f, FILE *fp)
{
	static const char *const label[] = {
		[PF_NOTE] = "note", [PF_WARN] = "warning", [PF_PROBLEM] = "PROBLEM",
	};
	int	level;
	guint	i;

	for (level = PF_PROBLEM; level >= PF_NOTE; level--)
		for (i = 0; i < f->len; i++) {
			const struct pf_finding *x = g_ptr_array_index(f, i);

			if ((int) x->level == level)
				fprintf(fp, "%s: %s\n", label[level], x->text);
		}
}

/* pf_service_key - "name/type" of a planned service */
char   *
pf_service_key(const struct pf_service *s)
{
	return (g_strdup_printf("%s/%s", s->name, s->type));
}

/* pf_service_text - a planned service as one master.cf line */
char   *
pf_service_text(const struct pf_service *s)
{
	GString *t = g_string_new(NULL);
	guint	i;
	int	k;

	g_string_append_printf(t, "%s %s", s->name, s->type);
	for (k = 0; k < 5; k++)
		g_string_append_printf(t, " %s", s->fields[k]);
	g_string_append_printf(t, " %s", s->command);
	for (i = 0; i < s->opts->len; i++)
		g_string_append_printf(t, " -o %s", (char *) g_ptr_array_index(s->opts, i));
	return (g_string_free(t, FALSE));
}

/* opts_missing - the -o options of A that B lacks, into OUT (at most 3) */
static void
opts_missing(char **a, char **b, const char *label, GString *out)
{
	int	n = 0;

	for (int i = 8; a[i] != NULL; i++) {
		int	found = 0;

		if (strcmp(a[i], "-o") == 0)
			continue;
		for (int j = 8; b[j] != NULL && !found; j++)
			found = strcmp(a[i], b[j]) == 0;
		if (found)
			continue;
		if (n++ == 0)
			g_string_append_printf(out, "%s%s", out->len ? "; " : "", label);
		if (n <= 3)
			g_string_append_printf(out, " -o %s", a[i]);
	}
	if (n > 3)
		g_string_append_printf(out, " and %d more", n - 3);
}

/* pf_service_diff - how master.cf entry HAS differs from WANT, briefly */
char   *
pf_service_diff(const char *has, const char *want)
{
	static const char *const field[] = {
		"name", "type", "private", "unpriv", "chroot", "wakeup",
		"maxproc", "command",
	};
	char  **wh = pfc_words(has), **ww = pfc_words(want);
	GString *d = g_string_new(NULL);
	int	i;

	if (g_strv_length(wh) < 8 || g_strv_length(ww) < 8) {
		g_string_append_printf(d, "\"%s\" instead of \"%s\"", has, want);
		goto out;
	}
	for (i = 0; i < 8; i++)
		if (strcmp(wh[i], ww[i]) != 0)
			g_string_append_printf(d, "%s%s %s instead of %s",
					       d->len ? ", " : "", field[i], wh[i], ww[i]);
	opts_missing(wh, ww, "it has", d);
	opts_missing(ww, wh, "htgate's has", d);
	if (d->len == 0)
		g_string_append(d, "the same options in another order");
out:
	g_strfreev(wh);
	g_strfreev(ww);
	return (g_string_free(d, FALSE));
}

/* plan_param - the planned parameter NAME, or NULL */
static const struct pf_param *
plan_param(const struct pf_plan *p, const char *name)
{
	guint	i;

	for (i = 0; i < p->params->len; i++) {
		const struct pf_param *pp = g_ptr_array_index(p->params, i);

		if (strcmp(pp->name, name) == 0)
			return (pp);
	}
	return (NULL);
}

/* plan_service - is KEY one of the planned services */
static int
plan_service(const struct pf_plan *p, const char *key)
{
	guint	i;
	int	found = 0;

	for (i = 0; i < p->services->len && !found; i++) {
		char   *k = pf_service_key(g_ptr_array_index(p->services, i));

		found = strcmp(k, key) == 0;
		g_free(k);
	}
	return (found);
}

/* list_has - does list VALUE contain the element NORM (at the head: FIRST) */
static int
list_has(const char *value, const char *element, int first)
{
	GPtrArray *e = pfl_split(value ? value : "");
	char   *norm = pfl_norm(element);
	int	i = pfl_find(e, norm);

	g_free(norm);
	g_ptr_array_unref(e);
	return (first ? i == 0 : i >= 0);
}

/* has_word - does a comma/blank list contain WORD */
static int
has_word(const char *value, const char *word)
{
	GPtrArray *e = pfl_split(value ? value : "");
	int	i = pfl_find_key(e, word);

	g_ptr_array_unref(e);
	return (i >= 0);
}

/* socket_path - where a unix: socket is on disk (NULL for inet:) */
static char *
socket_path(const char *sock, const char *qd)
{
	if (!g_str_has_prefix(sock, "unix:"))
		return (NULL);
	if (sock[5] == '/')
		return (g_strdup(sock + 5));
	return (g_build_filename(qd, sock + 5, NULL));
}

/* users - the services that use a socket: smtpd (+ cleanup for milters) */
static void
users(const struct pfc *c, int milter, GString *chrooted, GString *free_)
{
	guint	i;

	for (i = 0; i < c->services->len; i++) {
		const struct pfc_service *s = g_ptr_array_index(c->services, i);
		GString *to;

		if (strcmp(s->command, "smtpd") != 0
		    && !(milter && strcmp(s->command, "cleanup") == 0))
			continue;
		to = pfc_chrooted(s) ? chrooted : free_;
		g_string_append_printf(to, "%s%s", to->len ? ", " : "", s->key);
	}
}

/* check_socket - one daemon's socket: reachable, chrooted or not */
static void
check_socket(const struct pfc *c, const char *qd, const char *what,
	     const char *sock, int milter, GPtrArray *f)
{
	GString *in = g_string_new(NULL), *out = g_string_new(NULL);
	char   *path = socket_path(sock, qd);
	struct stat st;

	if (path == NULL)
		goto done;			/* inet: reachable from a chroot */
	users(c, milter, in, out);
	if (sock[5] == '/' && in->len) {
		char   *base = g_path_get_basename(path);
		char   *rel = g_str_has_prefix(path, qd) && path[strlen(qd)] == '/'
			? g_strdup(path + strlen(qd) + 1)
			: g_strdup_printf("htgate/%s", base);

		pf_finding(f, PF_PROBLEM, "%s's socket %s is an absolute path, "
			   "and %s run%s chrooted in %s: they look for %s%s, %s "
			   "look%s for %s. Name it relative to the queue directory "
			   "(unix:%s), which works chrooted or not", what, sock,
			   in->str, strchr(in->str, ',') ? "" : "s", qd, qd, path,
			   out->len ? out->str : "unchrooted services",
			   out->len && !strchr(out->str, ',') ? "s" : "", path, rel);
		g_free(rel);
		g_free(base);
		goto done;
	}
	if (stat(path, &st) < 0 || !S_ISSOCK(st.st_mode))
		pf_finding(f, PF_WARN, "nothing listens on %s now (%s is not "
			   "running, or listens elsewhere)%s", path, what,
			   milter ? ": ingress lets mail pass unjudged, the egress "
			   "stage defers HTG mail" : ": htgate-milter alone judges "
			   "the envelope");
done:
	g_free(path);
	g_string_free(in, TRUE);
	g_string_free(out, TRUE);
}

/* relative - a unix: socket named relative to the queue directory */
static int
relative(const char *sock)
{
	return (g_str_has_prefix(sock, "unix:") && sock[5] != '/');
}

/* pf_check_sockets - can Postfix reach htgate's sockets */
void
pf_check_sockets(const struct pfc *c, const struct pf_opts *po, GPtrArray *f)
{
	char   *qd = pfc_value(c, NULL, "queue_directory");

	if (*qd == '\0') {
		g_free(qd);
		qd = g_strdup(PF_QUEUE_DEFAULT);
	}
	check_socket(c, qd, "htgate-milter", po->milter, 1, f);
	check_socket(c, qd, "htgate-policyd", po->policy, 0, f);
	if (strcmp(qd, PF_QUEUE_DEFAULT) != 0) {
		GString *where = g_string_new(NULL);

		if (relative(po->milter))
			g_string_append_printf(where, " htgate-milter -p unix:%s/%s",
					       qd, po->milter + 5);
		if (relative(po->policy))
			g_string_append_printf(where, "%s htgate-policyd -p unix:%s/%s",
					       where->len ? "," : "", qd, po->policy + 5);
		if (where->len)
			pf_finding(f, PF_NOTE, "queue_directory is %s, not "
				   PF_QUEUE_DEFAULT ", so the daemons must listen "
				   "there (the shipped systemd units listen in "
				   PF_QUEUE_DEFAULT "/htgate/: give them -p in a "
				   "drop-in):%s", qd, where->str);
		g_string_free(where, TRUE);
	}
	g_free(qd);
}

/* pf_check_applied - htgate's gate service and transport map present */
int
pf_check_applied(const struct pfc *c, const struct pf_plan *p)
{
	const struct pf_param *tm = plan_param(p, "transport_maps");

	return (pfc_service(c, PF_GATE_TRANSPORT "/unix") != NULL && tm != NULL
		&& list_has(pfc_param(c, "transport_maps"), tm->value, 0));
}

/* Why each htgate list element matters: what is lost without it. */
static const struct {
	const char *name;
	const char *missing;
	const char *not_first;
} why[] = {
	{"smtpd_milters", "htgate-milter does not judge mail from SMTP clients "
	 "at ingress", NULL},
	{"non_smtpd_milters", "htgate-milter does not judge mail submitted with "
	 "sendmail(1) at ingress", NULL},
	{"smtpd_restriction_classes", PF_POLICY_CLASS " is no restriction "
	 "class: smtpd refuses every recipient", NULL},
	{"smtpd_recipient_restrictions", "htgate-policyd is not asked at RCPT",
	 "a restriction before it can decide (permit_mynetworks, "
	 "permit_sasl_authenticated, ...) before htgate-policyd is asked"},
	{"smtpd_end_of_data_restrictions", "htgate-policyd does not check the "
	 "size at END-OF-MESSAGE", "a restriction before it can decide first"},
	{"transport_maps", "HTG mail is not routed through the egress stage",
	 "an earlier map can route HTG mail past the egress stage"},
};

/* why_text - the consequence text for list NAME */
static const char *
why_text(const char *name, int first)
{
	size_t	i;

	for (i = 0; i < G_N_ELEMENTS(why); i++)
		if (strcmp(why[i].name, name) == 0)
			return (first && why[i].not_first ? why[i].not_first
				: why[i].missing);
	return ("htgate does not work as generated");
}

/* check_params - every planned main.cf parameter as htgate generates it */
static void
check_params(const struct pfc *c, const struct pf_plan *p, GPtrArray *f)
{
	guint	i;

	for (i = 0; i < p->params->len; i++) {
		const struct pf_param *pp = g_ptr_array_index(p->params, i);
		const char *cur = pfc_param(c, pp->name);

		if (pp->merge == PF_SET) {
			if (cur == NULL)
				pf_finding(f, PF_PROBLEM, "main.cf lacks %s (htgate "
					   "generates %s = %s)", pp->name, pp->name,
					   pp->value);
			else if (!pfc_same_words(cur, pp->value))
				pf_finding(f, PF_PROBLEM, "main.cf has %s = %s; htgate "
					   "generates %s = %s", pp->name, cur,
					   pp->name, pp->value);
		} else if (!list_has(cur, pp->value, 0)) {
			pf_finding(f, PF_PROBLEM, "main.cf: %s lacks htgate's %s: %s",
				   pp->name, pp->value, why_text(pp->name, 0));
		} else if (pp->merge == PF_LIST_FIRST && !list_has(cur, pp->value, 1)) {
			pf_finding(f, PF_PROBLEM, "main.cf: htgate's %s is not first "
				   "in %s = %s: %s", pp->value, pp->name, cur,
				   why_text(pp->name, 1));
		}
	}
}

/* check_services - every planned master.cf service as htgate generates it */
static void
check_services(const struct pfc *c, const struct pf_plan *p, GPtrArray *f)
{
	guint	i;

	for (i = 0; i < p->services->len; i++) {
		const struct pf_service *s = g_ptr_array_index(p->services, i);
		char   *key = pf_service_key(s), *text = pf_service_text(s);
		const struct pfc_service *cur = pfc_service(c, key);

		if (cur == NULL)
			pf_finding(f, PF_PROBLEM, "master.cf lacks htgate's service "
				   "%s", key);
		else if (!pfc_same_words(cur->text, text)) {
			char   *d = pf_service_diff(cur->text, text);

			pf_finding(f, PF_PROBLEM, "master.cf service %s is not what "
				   "htgate generates: %s", key, d);
			g_free(d);
		}
		g_free(key);
		g_free(text);
	}
}

/* first_is_policy - a restriction list that asks htgate-policyd first */
static int
first_is_policy(const char *value, const struct pf_opts *po)
{
	GPtrArray *e = pfl_split(value);
	int	ok = 0;

	if (e->len > 0) {
		const struct pfl_elem *x = g_ptr_array_index(e, 0);

		ok = strcmp(x->key, PF_POLICY_CLASS) == 0;
		if (!ok && strcmp(x->key, "check_policy_service") == 0 && e->len > 1) {
			const struct pfl_elem *y = g_ptr_array_index(e, 1);

			ok = strcmp(y->key, po->policy) == 0;
		}
	}
	g_ptr_array_unref(e);
	return (ok);
}

/* check_smtpd - one smtpd service's -o overrides */
static void
check_smtpd(const struct pfc_service *s, const struct pf_plan *p,
	    const struct pf_opts *po, GPtrArray *f)
{
	const struct pf_param *m = plan_param(p, "smtpd_milters");
	const char *v;

	if ((v = pfc_opt(s, "smtpd_milters", 1)) != NULL && m != NULL
	    && !list_has(v, m->value, 0))
		pf_finding(f, PF_PROBLEM, "master.cf service %s: -o smtpd_milters=%s "
			   "leaves out htgate-milter: what it receives is not "
			   "judged at ingress", s->key, pfc_opt(s, "smtpd_milters", 0));
	if ((v = pfc_opt(s, "smtpd_recipient_restrictions", 1)) != NULL
	    && !first_is_policy(v, po))
		pf_finding(f, PF_PROBLEM, "master.cf service %s: -o "
			   "smtpd_recipient_restrictions=%s does not ask "
			   "htgate-policyd first at RCPT (put " PF_POLICY_CLASS
			   " first)", s->key,
			   pfc_opt(s, "smtpd_recipient_restrictions", 0));
	if ((v = pfc_opt(s, "smtpd_end_of_data_restrictions", 1)) != NULL
	    && !first_is_policy(v, po))
		pf_finding(f, PF_PROBLEM, "master.cf service %s: -o "
			   "smtpd_end_of_data_restrictions=%s does not ask "
			   "htgate-policyd first at END-OF-MESSAGE", s->key,
			   pfc_opt(s, "smtpd_end_of_data_restrictions", 0));
	if ((v = pfc_opt(s, "smtpd_milter_maps", 1)) != NULL && *v)
		pf_finding(f, PF_WARN, "master.cf service %s: -o smtpd_milter_maps=%s "
			   "can turn htgate-milter off for some clients", s->key, v);
}

/* pf_check_overrides - what main.cf and the services' -o options turn off */
void
pf_check_overrides(const struct pfc *c, const struct pf_plan *p,
		const struct pf_opts *po, GPtrArray *f)
{
	const struct pf_param *nm = plan_param(p, "non_smtpd_milters");
	const struct pf_param *tm = plan_param(p, "transport_maps");
	const char *v;
	guint	i;

	if ((v = pfc_param_x(c, "receive_override_options")) != NULL
	    && has_word(v, "no_milters"))
		pf_finding(f, PF_PROBLEM, "main.cf: receive_override_options = %s: "
			   "no milter judges mail at ingress, htgate-milter "
			   "included", pfc_param(c, "receive_override_options"));
	if ((v = pfc_param_x(c, "smtpd_milter_maps")) != NULL && *v)
		pf_finding(f, PF_WARN, "main.cf: smtpd_milter_maps = %s can turn "
			   "htgate-milter off for some clients", v);
	for (i = 0; i < c->services->len; i++) {
		const struct pfc_service *s = g_ptr_array_index(c->services, i);

		if (plan_service(p, s->key))
			continue;		/* htgate's own: checked above */
		if (strcmp(s->command, "smtpd") == 0)
			check_smtpd(s, p, po, f);
		if ((strcmp(s->command, "smtpd") == 0 || strcmp(s->command, "pickup") == 0)
		    && (v = pfc_opt(s, "receive_override_options", 1)) != NULL
		    && has_word(v, "no_milters"))
			pf_finding(f, PF_PROBLEM, "master.cf service %s: -o "
				   "receive_override_options=%s: no milter judges "
				   "what it receives, htgate-milter included", s->key,
				   pfc_opt(s, "receive_override_options", 0));
		if (strcmp(s->command, "cleanup") == 0 && nm != NULL
		    && (v = pfc_opt(s, "non_smtpd_milters", 1)) != NULL
		    && !list_has(v, nm->value, 0))
			pf_finding(f, PF_PROBLEM, "master.cf service %s: -o "
				   "non_smtpd_milters=%s leaves out htgate-milter: "
				   "sendmail(1) mail is not judged at ingress", s->key,
				   pfc_opt(s, "non_smtpd_milters", 0));
		if (tm != NULL && (v = pfc_opt(s, "transport_maps", 1)) != NULL
		    && !list_has(v, tm->value, 1))
			pf_finding(f, PF_PROBLEM, "master.cf service %s: -o "
				   "transport_maps=%s does not route HTG mail through "
				   "htgate's map first", s->key,
				   pfc_opt(s, "transport_maps", 0));
	}
}

/* address_keys - transport(5) keys for ADDR in Postfix's order */
static void
address_keys(const char *addr, GPtrArray *keys)
{
	const char *d = strchr(addr, '@') + 1;

	g_ptr_array_add(keys, g_ascii_strdown(addr, -1));
	g_ptr_array_add(keys, g_ascii_strdown(d, -1));
	for (const char *dot = strchr(d, '.'); dot != NULL; dot = strchr(dot + 1, '.'))
		g_ptr_array_add(keys, g_ascii_strdown(dot, -1));
	g_ptr_array_add(keys, g_strdup("*"));
}

/* route_of - the first hit for ADDR: keys outside, maps inside (trivial-rewrite) */
static const char *
route_of(const char *addr, GPtrArray *maps, GHashTable **hits, const char **via,
	 const char **key)
{
	GPtrArray *keys = g_ptr_array_new_with_free_func(g_free);
	const char *route = NULL;
	guint	k, m;

	address_keys(addr, keys);
	for (k = 0; k < keys->len && route == NULL; k++)
		for (m = 0; m < maps->len && route == NULL; m++) {
			const char *v = g_hash_table_lookup(hits[m], g_ptr_array_index(keys, k));

			if (v != NULL) {
				route = v;
				*via = ((const struct pfl_elem *) g_ptr_array_index(maps, m))->norm;
				*key = k == 0 ? "address" : k + 1 == keys->len ? "*" : "domain";
			}
		}
	g_ptr_array_unref(keys);
	return (route);
}

/* check_routing - does transport_maps send every HTG address to egress */
static void
check_routing(const struct pfc *c, const struct htg_cfg *cfg,
	      const struct pf_opts *po, GPtrArray *f)
{
	const char *tmv = pfc_param_x(c, "transport_maps");
	GPtrArray *maps = pfl_split(tmv ? tmv : ""), *addrs, *keys;
	GHashTable **hits, *reported;
	char	err[512];
	guint	m, a;
	int	i, s;

	addrs = g_ptr_array_new_with_free_func(g_free);
	keys = g_ptr_array_new_with_free_func(g_free);
	for (i = 0; i < cfg->nenvs; i++) {
		const struct htg_env *e = &cfg->envs[i];
		const char *dom[2] = {e->header_domain, e->envelope_domain};

		for (int d = 0; d < 2; d++)
			for (s = 0; s < cfg->nstreams; s++)
				if (cfg->streams[s].env_mask & (1u << i)) {
					char   *addr = g_strdup_printf("%s@%s",
						cfg->streams[s].name, dom[d]);

					address_keys(addr, keys);
					g_ptr_array_add(addrs, addr);
					g_ptr_array_add(addrs, g_strdup_printf("%d", i));
				}
	}
	g_ptr_array_add(keys, NULL);
	hits = g_new0(GHashTable *, maps->len + 1);
	for (m = 0; m < maps->len; m++) {
		const char *map = ((const struct pfl_elem *) g_ptr_array_index(maps, m))->norm;

		hits[m] = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
		if (pfc_lookup(c, map, (char *const *) keys->pdata, hits[m], err,
			       sizeof(err)) < 0)
			pf_finding(f, PF_WARN, "transport_maps: cannot read %s (%s): "
				   "HTG routing through it not checked", map, err);
	}
	reported = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	for (a = 0; a < addrs->len; a += 2) {
		const char *addr = g_ptr_array_index(addrs, a), *via = NULL, *key = NULL;
		int	env = atoi(g_ptr_array_index(addrs, a + 1));
		const char *route = route_of(addr, maps, hits, &via, &key);
		char   *want = g_strdup_printf(PF_GATE_TRANSPORT ":[127.0.0.1]:%d",
					      po->egress_port + env);
		char   *tag = g_strdup_printf("%s|%s", strchr(addr, '@'),
					     route ? route : "");

		if ((route == NULL || strcmp(route, want) != 0)
		    && !g_hash_table_contains(reported, tag)) {
			if (route == NULL)
				pf_finding(f, PF_PROBLEM, "%s (and its domain): no "
					   "transport_maps entry, so it would leave by "
					   "the default route, past the egress stage (%s)",
					   addr, want);
			else
				pf_finding(f, PF_PROBLEM, "%s: transport_maps routes "
					   "it to %s (%s, by %s), past the egress stage "
					   "(%s)", addr, route, via, key, want);
			g_hash_table_add(reported, tag);
			tag = NULL;
		}
		g_free(tag);
		g_free(want);
	}
	for (m = 0; m < maps->len; m++)
		g_hash_table_destroy(hits[m]);
	g_free(hits);
	g_hash_table_destroy(reported);
	g_ptr_array_unref(addrs);
	g_ptr_array_unref(keys);
	g_ptr_array_unref(maps);
}

/* pf_check_live - everything that bypasses or breaks htgate */
void
pf_check_live(const struct pfc *c, const struct pf_plan *p,
	      const struct htg_cfg *cfg, const struct pf_opts *po, GPtrArray *f)
{
	if (!pf_check_applied(c, p)) {
		pf_finding(f, PF_PROBLEM, "htgate is not applied to %s: HTG mail "
			   "is neither judged by htgate nor routed through the "
			   "egress stage (htgate-config apply)", c->dir);
	} else {
		check_params(c, p, f);
		check_services(c, p, f);
		check_routing(c, cfg, po, f);
	}
	pf_check_overrides(c, p, po, f);
	pf_check_sockets(c, po, f);
}
