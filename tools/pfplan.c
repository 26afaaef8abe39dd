/*
 * NAME
 *	pfplan - the Postfix side of htgate, as data
 * DESCRIPTION
 *	See pfplan.h.  Built in four steps: check that every environment
 *	can be written in Postfix terms, the main.cf parameters (ingress,
 *	routing, per-transport limits), the master.cf services (gate
 *	client, egress cleanup, one egress smtpd and one HTG transport per
 *	environment) and the transport table.  The SASL password maps are
 *	separate (pf_plan_secrets) so a plan can be printed without ever
 *	reading a password file.
 * OWNERSHIP
 *	Every string is g_malloc()ed and owned by the plan.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "pfplan.h"

#define PF_SECRET_MAX	1024
#define PF_DEFAULT_CAFILE "/etc/ssl/certs/ca-certificates.crt"

/* pf_transport_name - master.cf service name of an environment */
void
pf_transport_name(const struct htg_env *env, char *buf, size_t len)
{
	if (strcmp(env->name, "production") == 0)
		g_strlcpy(buf, "htg", len);
	else
		g_snprintf(buf, len, "htg-%s", env->name);
}

/* pf_token_ok - a value fit for a Postfix parameter or map entry, as is
 * (no blanks, braces, commas, ...); also: more characters allowed */
int
pf_token_ok(const char *s, const char *also)
{
	if (s == NULL || *s == '\0')
		return (0);
	for (; *s; s++)
		if (!g_ascii_isalnum(*s) && strchr("._-@[]/:", *s) == NULL
		    && (also == NULL || strchr(also, *s) == NULL))
			return (0);
	return (1);
}

/* env_ok - can this environment be expressed in Postfix terms */
static int
env_ok(const struct htg_env *env)
{
	const char *why = NULL;

	if (!pf_token_ok(env->name, NULL) || strpbrk(env->name, "@[]/:.") != NULL)
		why = "name must be letters, digits, '-' or '_'";
	else if (!pf_token_ok(env->smtp_host, NULL))
		why = "smtp_host is empty or has characters Postfix cannot take";
	else if (!pf_token_ok(env->tls_name, NULL))
		why = "tls_name is empty or has characters Postfix cannot take";
	else if (!pf_token_ok(env->envelope_domain, NULL)
		 || !pf_token_ok(env->header_domain, NULL))
		why = "envelope_domain/header_domain is empty or invalid";
	else if (env->ca_file != NULL && *env->ca_file != '\0'
		 && !pf_token_ok(env->ca_file, "+"))
		why = "ca_file contains blanks or special characters";
	if (why == NULL)
		return (1);
	fprintf(stderr, "htgate-config: [environment %s]: %s\n", env->name, why);
	return (0);
}

/* add_param - one main.cf parameter */
static void G_GNUC_PRINTF(5, 6)
add_param(struct pf_plan *p, const char *comment, enum pf_merge merge,
	  const char *name, const char *fmt, ...)
{
	struct pf_param *pp = g_new0(struct pf_param, 1);
	va_list	ap;

	va_start(ap, fmt);
	pp->value = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	pp->name = g_strdup(name);
	pp->merge = merge;
	pp->comment = comment ? g_strdup(comment) : NULL;
	g_ptr_array_add(p->params, pp);
}

/* add_service - one master.cf service; options follow as NULL-ended list */
static struct pf_service *
add_service(struct pf_plan *p, const char *comment, const char *name,
	    const char *type, const char *chroot, const char *maxproc,
	    const char *command)
{
	struct pf_service *s = g_new0(struct pf_service, 1);

	s->name = g_strdup(name);
	s->type = g_strdup(type);
	s->fields[0] = g_strdup(strcmp(type, "inet") == 0 ? "n" : "-");
	s->fields[1] = g_strdup("-");
	s->fields[2] = g_strdup(chroot);
	s->fields[3] = g_strdup("-");
	s->fields[4] = g_strdup(maxproc);
	s->command = g_strdup(command);
	s->opts = g_ptr_array_new_with_free_func(g_free);
	s->comment = comment ? g_strdup(comment) : NULL;
	g_ptr_array_add(p->services, s);
	return (s);
}

/* opt - one "-o name=value" of a service */
static void G_GNUC_PRINTF(2, 3)
opt(struct pf_service *s, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	g_ptr_array_add(s->opts, g_strdup_vprintf(fmt, ap));
	va_end(ap);
}

/* opts - several fixed options */
static void
opts(struct pf_service *s, const char *const *list)
{
	for (; *list; list++)
		opt(s, "%s", *list);
}

/* Options that keep an smtp(8) client from changing what it sends. */
static const char *const keep_content[] = {
	"smtp_generic_maps=", "smtp_header_checks=",
	"smtp_mime_header_checks=", "smtp_nested_header_checks=",
	"smtp_body_checks=", "disable_mime_output_conversion=yes", NULL
};

/* plan_ingress - milters and policy service at the SMTP front door */
static void
plan_ingress(struct pf_plan *p, const struct pf_opts *o)
{
	add_param(p, "htgate-milter judges what clients send (SMTP and\n"
		  "sendmail(1)) and refuses a non-conforming HTG message with a\n"
		  "reply naming the rule.  default_action=accept: if htgate is down,\n"
		  "mail that is not for HTG still flows; HTG mail is judged again\n"
		  "at egress, which fails closed (see htgate-config(8)).",
		  PF_LIST_LAST, "smtpd_milters", "{ %s, default_action=accept }",
		  o->milter);
	add_param(p, NULL, PF_LIST_LAST, "non_smtpd_milters",
		  "{ %s, default_action=accept }", o->milter);
	add_param(p, "htgate-policyd checks the envelope at RCPT (one recipient,\n"
		  "stream, account, rate) and the size at END-OF-MESSAGE.  It must\n"
		  "come before any permit_* restriction, so it is the first entry.",
		  PF_LIST_LAST, "smtpd_restriction_classes", PF_POLICY_CLASS);
	add_param(p, NULL, PF_SET, PF_POLICY_CLASS,
		  "check_policy_service { %s, default_action=DUNNO }", o->policy);
	add_param(p, NULL, PF_LIST_FIRST, "smtpd_recipient_restrictions",
		  PF_POLICY_CLASS);
	add_param(p, NULL, PF_LIST_FIRST, "smtpd_end_of_data_restrictions",
		  PF_POLICY_CLASS);
}

/* plan_routing - transport_maps and the per-transport limits */
static void
plan_routing(struct pf_plan *p, const struct htg_cfg *cfg,
	     const struct pf_opts *o)
{
	char	tr[PF_TRANSPORT_MAX], name[PF_TRANSPORT_MAX + 64];
	int	i;

	add_param(p, "Routing: every HTG domain goes to the htg-gate client\n"
		  "(master.cf), whatever address form, alias or canonical map got\n"
		  "it there; the egress smtpd behind it judges the final envelope.",
		  PF_LIST_FIRST, "transport_maps", "texthash:%s/transport",
		  o->mapdir);
	add_param(p, "The milter list of the egress smtpd services: fail closed.",
		  PF_SET, PF_EGRESS_MILTERS, "{ %s, default_action=tempfail }",
		  o->milter);
	add_param(p, "One recipient per delivery to egress: each HTG recipient is\n"
		  "judged, claimed and sent on its own.", PF_SET,
		  PF_GATE_TRANSPORT "_destination_recipient_limit", "1");
	for (i = 0; i < cfg->nenvs; i++) {
		pf_transport_name(&cfg->envs[i], tr, sizeof(tr));
		g_snprintf(name, sizeof(name), "%s_destination_concurrency_limit", tr);
		add_param(p, i == 0 ? "HTG transports: one connection at a time and a pause\n"
			  "between deliveries (the MSA is a low-frequency interface,\n"
			  "MSA §1.3); with maxproc 1 in master.cf this holds for every\n"
			  "message of the environment, whatever its recipient." : NULL,
			  PF_SET, name, "1");
		g_snprintf(name, sizeof(name), "%s_initial_destination_concurrency", tr);
		add_param(p, NULL, PF_SET, name, "1");
		g_snprintf(name, sizeof(name), "%s_destination_rate_delay", tr);
		add_param(p, NULL, PF_SET, name, "%s", o->delay);
	}
}

/* plan_gate - the client that hands HTG mail to the egress smtpd */
static void
plan_gate(struct pf_plan *p)
{
	static const char *const gate[] = {
		"syslog_name=postfix/htg-gate", "smtp_send_xforward_command=yes",
		"smtp_tls_security_level=none", "smtp_sasl_auth_enable=no",
		"smtp_tls_policy_maps=", NULL
	};
	static const char *const cleanup[] = {
		"syslog_name=postfix/htg-cleanup",
		"local_header_rewrite_clients=", "always_add_missing_headers=no",
		"canonical_maps=", "sender_canonical_maps=",
		"recipient_canonical_maps=", "virtual_alias_maps=",
		"masquerade_domains=", "header_checks=", "mime_header_checks=",
		"nested_header_checks=", "body_checks=", "milter_header_checks=",
		NULL
	};
	struct pf_service *s;

	s = add_service(p, "htgate: HTG mail to the egress smtpd (loopback), one "
			"recipient per delivery", PF_GATE_TRANSPORT, "unix", "n",
			"-", "smtp");
	opts(s, gate);
	opts(s, keep_content);
	s = add_service(p, "htgate: cleanup for the egress smtpd; rewrites "
			"nothing, so what htgate judged is what is queued",
			PF_EGRESS_CLEANUP, "unix", "n", "0", "cleanup");
	g_free(s->fields[0]);
	s->fields[0] = g_strdup("n");	/* smtpd finds cleanup in public/ */
	opts(s, cleanup);
}

/* plan_egress - the egress smtpd of one environment */
static void
plan_egress(struct pf_plan *p, const struct htg_env *e, int port)
{
	static const char *const fixed[] = {
		"milter_default_action=tempfail",
		"smtpd_milters=$" PF_EGRESS_MILTERS,
		"non_smtpd_milters=", "smtpd_milter_maps=",
		"cleanup_service_name=" PF_EGRESS_CLEANUP,
		"receive_override_options=no_unknown_recipient_checks,"
		"no_header_body_checks,no_address_mappings",
		"mynetworks=127.0.0.0/8", "smtpd_authorized_xforward_hosts=127.0.0.0/8",
		"smtpd_client_restrictions=", "smtpd_helo_restrictions=",
		"smtpd_sender_restrictions=", "smtpd_data_restrictions=",
		"smtpd_end_of_data_restrictions=", "smtpd_etrn_restrictions=",
		"smtpd_relay_restrictions=permit_mynetworks,reject",
		"smtpd_recipient_restrictions=permit_mynetworks,reject",
		"smtpd_recipient_limit=1", "smtpd_proxy_filter=",
		"smtpd_command_filter=", "smtpd_discard_ehlo_keywords=",
		"smtpd_tls_security_level=none", "smtpd_sasl_auth_enable=no",
		NULL
	};
	char	tr[PF_TRANSPORT_MAX], name[64], comment[256];
	struct pf_service *s;

	pf_transport_name(e, tr, sizeof(tr));
	g_snprintf(name, sizeof(name), "127.0.0.1:%d", port);
	g_snprintf(comment, sizeof(comment), "htgate: egress for [environment "
		   "%s]; what passes leaves by %s only", e->name, tr);
	s = add_service(p, comment, name, "inet", "n", "-", "smtpd");
	opt(s, "syslog_name=postfix/htg-egress-%s", e->name);
	opt(s, "milter_macro_daemon_name=htgate-egress-%s", e->name);
	opt(s, "content_filter=%s:[%s]:%d", tr, e->smtp_host, e->smtp_port);
	opts(s, fixed);
}

/* plan_htg - the HTG transport of one environment */
static void
plan_htg(struct pf_plan *p, const struct htg_env *e, const struct pf_opts *o)
{
	static const char *const tls[] = {
		"smtp_tls_security_level=secure",
		"smtp_tls_mandatory_protocols=>=TLSv1.3",
		"smtp_tls_protocols=>=TLSv1.3", "smtp_tls_CApath=",
		"smtp_tls_policy_maps=", "smtp_tls_loglevel=1",
		"smtp_sasl_auth_enable=yes",
		"smtp_sender_dependent_authentication=yes",
		"smtp_sasl_mechanism_filter=plain,login",
		"smtp_sasl_security_options=noanonymous",
		"smtp_sasl_tls_security_options=noanonymous",
		"smtp_connection_cache_on_demand=no",
		"smtp_connection_cache_destinations=", NULL
	};
	const char *ca = e->ca_file && *e->ca_file ? e->ca_file : PF_DEFAULT_CAFILE;
	char	tr[PF_TRANSPORT_MAX], comment[512];
	struct pf_service *s;

	pf_transport_name(e, tr, sizeof(tr));
	g_snprintf(comment, sizeof(comment), "htgate: [environment %s] -> "
		   "[%s]:%d, certificate name %s; one message at a time (maxproc 1)",
		   e->name, e->smtp_host, e->smtp_port, e->tls_name);
	s = add_service(p, comment, tr, "unix", "n", "1", "smtp");
	opt(s, "syslog_name=postfix/%s", tr);
	opts(s, tls);
	opt(s, "smtp_tls_CAfile=%s", ca);
	opt(s, "smtp_tls_secure_cert_match=%s", e->tls_name);
	opt(s, "smtp_tls_servername=%s", e->tls_name);
	opt(s, "smtp_sasl_password_maps=texthash:%s/sasl_passwd.%s", o->mapdir,
	    e->name);
	opts(s, keep_content);
}

/* plan_transport - transport(5): each HTG domain to its egress */
static void
plan_transport(struct pf_plan *p, const struct htg_cfg *cfg,
	       const struct pf_opts *o)
{
	int	i;

	g_string_append(p->transport,
		"# htgate: transport(5) table generated by htgate-config.\n"
		"# Every HTG domain -> the egress smtpd of its environment.\n");
	for (i = 0; i < cfg->nenvs; i++) {
		const struct htg_env *e = &cfg->envs[i];

		g_string_append_printf(p->transport,
			"%s\t" PF_GATE_TRANSPORT ":[127.0.0.1]:%d\n"
			"%s\t" PF_GATE_TRANSPORT ":[127.0.0.1]:%d\n",
			e->header_domain, o->egress_port + i,
			e->envelope_domain, o->egress_port + i);
	}
}

/* pf_plan_new - the plan for cfg, or NULL (reason on stderr) */
struct pf_plan *
pf_plan_new(const struct htg_cfg *cfg, const struct pf_opts *o)
{
	struct pf_plan *p;
	int	i;

	for (i = 0; i < cfg->nenvs; i++)
		if (!env_ok(&cfg->envs[i]))
			return (NULL);
	p = g_new0(struct pf_plan, 1);
	p->params = g_ptr_array_new();
	p->services = g_ptr_array_new();
	p->transport = g_string_new(NULL);
	p->nenvs = cfg->nenvs;
	g_strlcpy(p->source, cfg->path, sizeof(p->source));
	for (i = 0; i < CFG_MAX_ENVS; i++)
		p->sasl[i] = g_string_new(NULL);
	plan_ingress(p, o);
	plan_routing(p, cfg, o);
	plan_gate(p);
	for (i = 0; i < cfg->nenvs; i++)
		plan_egress(p, &cfg->envs[i], o->egress_port + i);
	for (i = 0; i < cfg->nenvs; i++)
		plan_htg(p, &cfg->envs[i], o);
	plan_transport(p, cfg, o);
	return (p);
}

/* pf_plan_free - release a plan, wiping the secrets */
void
pf_plan_free(struct pf_plan *p)
{
	guint	i;
	int	k;

	if (p == NULL)
		return;
	for (i = 0; i < p->params->len; i++) {
		struct pf_param *pp = g_ptr_array_index(p->params, i);

		g_free(pp->name);
		g_free(pp->value);
		g_free(pp->comment);
		g_free(pp);
	}
	for (i = 0; i < p->services->len; i++) {
		struct pf_service *s = g_ptr_array_index(p->services, i);

		g_free(s->name);
		g_free(s->type);
		for (k = 0; k < 5; k++)
			g_free(s->fields[k]);
		g_free(s->command);
		g_free(s->comment);
		g_ptr_array_free(s->opts, TRUE);
		g_free(s);
	}
	g_ptr_array_free(p->params, TRUE);
	g_ptr_array_free(p->services, TRUE);
	g_string_free(p->transport, TRUE);
	for (k = 0; k < CFG_MAX_ENVS; k++) {
		explicit_bzero(p->sasl[k]->str, p->sasl[k]->allocated_len);
		g_string_free(p->sasl[k], TRUE);
	}
	g_free(p);
}

/* comment_lines - "# " before each line of a comment */
static void
comment_lines(GString *out, const char *comment)
{
	char  **lines;

	if (comment == NULL)
		return;
	lines = g_strsplit(comment, "\n", -1);
	for (char **l = lines; *l; l++)
		g_string_append_printf(out, "# %s\n", *l);
	g_strfreev(lines);
}

/* pf_render_main - the parameters as a commented main.cf fragment */
void
pf_render_main(const struct pf_plan *p, GString *out)
{
	static const char *const how[] = {
		[PF_SET] = "", [PF_LIST_FIRST] = "# merge: first in the list\n",
		[PF_LIST_LAST] = "# merge: last in the list\n",
	};
	guint	i;

	g_string_append_printf(out,
		"# htgate: main.cf settings generated by htgate-config from %s.\n"
		"# \"htgate-config apply\" merges them into the live main.cf: a list\n"
		"# parameter marked \"merge:\" keeps your own entries, htgate's entry\n"
		"# going first or last in it; nothing else is overwritten.\n",
		p->source);
	for (i = 0; i < p->params->len; i++) {
		const struct pf_param *pp = g_ptr_array_index(p->params, i);

		if (pp->comment) {
			g_string_append_c(out, '\n');
			comment_lines(out, pp->comment);
		}
		g_string_append_printf(out, "%s%s = %s\n", how[pp->merge],
				       pp->name, pp->value);
	}
}

/* pf_render_master - the services as a master.cf fragment */
void
pf_render_master(const struct pf_plan *p, GString *out)
{
	guint	i, k;

	g_string_append_printf(out,
		"# htgate: master.cf services generated by htgate-config from %s.\n",
		p->source);
	for (i = 0; i < p->services->len; i++) {
		const struct pf_service *s = g_ptr_array_index(p->services, i);

		comment_lines(out, s->comment);
		g_string_append_printf(out, "%-16s %-5s %-7s %-7s %-7s %-7s %-7s %s\n",
			s->name, s->type, s->fields[0], s->fields[1], s->fields[2],
			s->fields[3], s->fields[4], s->command);
		for (k = 0; k < s->opts->len; k++)
			g_string_append_printf(out, "  -o %s\n",
					       (char *) g_ptr_array_index(s->opts, k));
	}
}

/* sender_key - the SASL password map key of a sender pattern ("*": the
 * environment's nexthop, where Postfix looks last) */
static int
sender_key(const char *pattern, const struct htg_env *env, char *buf,
	   size_t len)
{
	if (cfg_sender_key(pattern, buf, len) < 0)
		return (-1);
	if (strcmp(buf, "*") == 0)
		g_snprintf(buf, len, "[%s]:%d", env->smtp_host, env->smtp_port);
	return (pf_token_ok(buf, "+=") ? 0 : -1);
}

/* account_ok - mailbox and password file present and usable */
static int
account_ok(const struct htg_account *a, char *err, size_t errlen)
{
	if (a->mailbox == NULL || *a->mailbox == '\0'
	    || a->password_file == NULL || *a->password_file == '\0') {
		g_snprintf(err, errlen, "[account %s]: needs mailbox and "
			   "password_file for the SASL password maps", a->name);
		return (0);
	}
	if (!pf_token_ok(a->mailbox, "+=") || strchr(a->mailbox, ':') != NULL) {
		g_snprintf(err, errlen, "[account %s]: mailbox has characters "
			   "Postfix cannot take", a->name);
		return (0);
	}
	return (1);
}

/* sasl_env - sasl_passwd lines of one account for one environment */
static int
sasl_env(const struct htg_cfg *cfg, int ei, const struct htg_account *a,
	 const char *secret, GString *s, GHashTable *seen, char *err,
	 size_t errlen)
{
	char	key[512];
	int	j;

	for (j = 0; a->senders[j] != NULL; j++) {
		const char *owner;

		if (sender_key(a->senders[j], &cfg->envs[ei], key, sizeof(key)) < 0) {
			g_snprintf(err, errlen, "[account %s]: sender pattern "
				   "\"%s\" cannot be a Postfix sender key (use "
				   "user@domain, *@domain, @domain or *)", a->name,
				   a->senders[j]);
			return (-1);
		}
		if ((owner = g_hash_table_lookup(seen, key)) != NULL) {
			fprintf(stderr, "htgate-config: warning: [account %s]: "
				"sender key %s (environment %s) already belongs to "
				"account %s; Postfix will use %s\n", a->name, key,
				cfg->envs[ei].name, owner, owner);
			continue;
		}
		g_hash_table_insert(seen, g_strdup(key), a->name);
		g_string_append_printf(s, "%s\t%s:%s\n", key, a->mailbox, secret);
	}
	return (0);
}

/*
 * sasl_null_sender - the nexthop entry Postfix uses for MAIL FROM:<> (a
 * delivery report to HTG), when no account with sender "*" gave one: the
 * first account of the environment.  Safe because the egress stage
 * refuses every other sender that no account names (ENV-AUTH).
 */
static int
sasl_null_sender(const struct htg_cfg *cfg, int ei, GString *s,
		 GHashTable *seen, char *err, size_t errlen)
{
	char	key[512], secret[PF_SECRET_MAX], why[1024];
	int	i;

	(void) sender_key("*", &cfg->envs[ei], key, sizeof(key));
	if (g_hash_table_lookup(seen, key) != NULL)
		return (0);
	for (i = 0; i < cfg->naccounts; i++) {
		const struct htg_account *a = &cfg->accounts[i];

		if (!(a->env_mask & (1u << ei)))
			continue;
		if (cfg_secret_read(a->password_file, secret, sizeof(secret),
				    why, sizeof(why)) < 0) {
			g_snprintf(err, errlen, "[account %s]: %s", a->name, why);
			return (-1);
		}
		g_string_append_printf(s, "# delivery reports (MAIL FROM:<>) use "
				       "[account %s]\n%s\t%s:%s\n", a->name, key,
				       a->mailbox, secret);
		explicit_bzero(secret, sizeof(secret));
		return (0);
	}
	return (0);
}

/* pf_plan_secrets - per-environment SASL password maps keyed by sender */
int
pf_plan_secrets(struct pf_plan *p, const struct htg_cfg *cfg, char *err,
		size_t errlen)
{
	char	secret[PF_SECRET_MAX], why[1024];
	GHashTable *seen[CFG_MAX_ENVS];
	int	i, ei, rc = 0;

	for (ei = 0; ei < cfg->nenvs; ei++) {
		seen[ei] = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
		g_string_append_printf(p->sasl[ei],
			"# htgate: SASL password map of [environment %s], generated by\n"
			"# htgate-config.  Key: envelope sender (user@domain, @domain)\n"
			"# or the nexthop; value: HTG mailbox:password.  Keep mode 0600.\n",
			cfg->envs[ei].name);
	}
	for (i = 0; i < cfg->naccounts && rc == 0; i++) {
		const struct htg_account *a = &cfg->accounts[i];

		if (a->env_mask == 0)
			continue;
		if (!account_ok(a, err, errlen)) {
			rc = -1;
			break;
		}
		if (cfg_secret_read(a->password_file, secret, sizeof(secret),
				    why, sizeof(why)) < 0) {
			g_snprintf(err, errlen, "[account %s]: %s", a->name, why);
			rc = -1;
			break;
		}
		if (secret[0] == ' ' || secret[strlen(secret) - 1] == ' ') {
			g_snprintf(err, errlen, "[account %s]: %s: the password "
				   "begins or ends with a blank, which Postfix "
				   "tables drop", a->name, a->password_file);
			rc = -1;
		}
		for (ei = 0; ei < cfg->nenvs && rc == 0; ei++)
			if (a->env_mask & (1u << ei))
				rc = sasl_env(cfg, ei, a, secret, p->sasl[ei],
					      seen[ei], err, errlen);
		explicit_bzero(secret, sizeof(secret));
	}
	for (ei = 0; ei < cfg->nenvs && rc == 0; ei++)
		rc = sasl_null_sender(cfg, ei, p->sasl[ei], seen[ei], err, errlen);
	for (ei = 0; ei < cfg->nenvs; ei++)
		g_hash_table_destroy(seen[ei]);
	return (rc);
}
