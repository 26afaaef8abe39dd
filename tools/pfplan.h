/*
 * NAME
 *	pfplan - the Postfix side of htgate, as data
 * SYNOPSIS
 *	#include "pfplan.h"
 *
 *	struct pf_plan *pf_plan_new(const struct htg_cfg *cfg,
 *		const struct pf_opts *o);
 *	int	pf_plan_secrets(struct pf_plan *plan, const struct htg_cfg *cfg,
 *		char *err, size_t errlen);
 *	void	pf_plan_free(struct pf_plan *plan);
 *	void	pf_render_main(const struct pf_plan *plan, GString *out);
 *	void	pf_render_master(const struct pf_plan *plan, GString *out);
 *	void	pf_transport_name(const struct htg_env *env, char *buf,
 *		size_t len);
 *	int	pf_token_ok(const char *s, const char *also);
 * DESCRIPTION
 *	What htgate needs from Postfix, derived from htgate.conf:
 *
 *	Ingress (best effort, what users see): htgate-milter in
 *	smtpd_milters and non_smtpd_milters and htgate-policyd at the head
 *	of smtpd_recipient_restrictions and smtpd_end_of_data_restrictions,
 *	each with default_action accept/DUNNO, so an htgate outage does not
 *	stop mail that is not for HTG.
 *
 *	Egress (the guarantee): transport_maps sends every HTG domain of an
 *	environment to the "htg-gate" smtp(8) client, one recipient per
 *	delivery, which hands it to a loopback smtpd for that environment
 *	(127.0.0.1:egress_port).  That smtpd runs htgate-milter in its
 *	egress role (milter_macro_daemon_name htgate-egress-ENV) with
 *	default_action tempfail, keeps the envelope exactly as delivered
 *	(no address mappings, no header or body checks, its own cleanup
 *	service "htg-cleanup" that rewrites nothing) and queues what passes
 *	with content_filter set to the environment's HTG transport, so the
 *	message leaves by that transport whatever the routing tables say.
 *	This is Postfix's advanced content filter (FILTER_README), with
 *	htgate's milter as the filter.
 *
 *	HTG transports ("htg" for production, "htg-ENV" otherwise): smtp(8)
 *	with TLS 1.3 only, "secure" verification of tls_name against
 *	ca_file alone (CApath and TLS policy maps cleared, SNI set), SASL
 *	PLAIN/LOGIN with per-sender credentials, nothing that rewrites a
 *	message on its way out, no cached connections (HTG asks clients to
 *	disconnect, MSA §1.3), one process (maxproc 1) and a rate delay, so
 *	an environment sends one message at a time with a pause between.
 *
 *	Parameters carry a merge rule for an existing main.cf: PF_SET (the
 *	value htgate needs), PF_LIST_FIRST / PF_LIST_LAST (htgate's element
 *	goes first or last in the admin's own list, which is kept).
 *	pf_render_main() and pf_render_master() print the plan as commented
 *	main.cf and master.cf fragments.  pf_plan_secrets() fills the SASL
 *	password maps (one per environment, keyed by the accounts' sender
 *	patterns, the way Postfix looks them up).
 * ERRORS
 *	pf_plan_new() returns NULL and prints why on stderr when an
 *	environment cannot be expressed in Postfix terms.
 *	pf_plan_secrets() returns -1 with a reason that never holds a secret.
 * OWNERSHIP
 *	The plan owns every string in it; free it with pf_plan_free(),
 *	which wipes the secrets first.
 * THREAD SAFETY
 *	Reentrant.
 */
#ifndef HTG_PFPLAN_H
#define HTG_PFPLAN_H

#include <stddef.h>

#include <glib.h>

#include "cfg.h"

#define PF_TRANSPORT_MAX	64
#define PF_GATE_TRANSPORT	"htg-gate"
#define PF_EGRESS_CLEANUP	"htg-cleanup"
#define PF_EGRESS_MILTERS	"htgate_egress_milters"
#define PF_POLICY_CLASS		"htgate_policy"

enum pf_merge {
	PF_SET = 0,			/* name = value */
	PF_LIST_FIRST,			/* our element first in the list */
	PF_LIST_LAST,			/* our element last in the list */
};

struct pf_param {
	char   *name;
	char   *value;			/* the whole value, or our element */
	enum pf_merge merge;
	char   *comment;		/* lines without '#', or NULL */
};

struct pf_service {
	char   *name;			/* "htg", "127.0.0.1:10040" */
	char   *type;			/* "unix", "inet" */
	char   *fields[5];		/* private unpriv chroot wakeup maxproc */
	char   *command;		/* "smtp", "smtpd", "cleanup" */
	GPtrArray *opts;		/* "name=value" */
	char   *comment;
};

struct pf_opts {
	const char *mapdir;		/* where transport, sasl_passwd.* live */
	const char *milter;		/* Postfix form: unix:htgate/milter.sock */
	const char *policy;		/* Postfix form: unix:htgate/policy.sock */
	const char *delay;		/* HTG transports' rate delay: "60s" */
	int	egress_port;		/* first egress port; one per environment */
};

struct pf_plan {
	GPtrArray *params;		/* struct pf_param * */
	GPtrArray *services;		/* struct pf_service * */
	GString *transport;		/* transport(5) table */
	GString *sasl[CFG_MAX_ENVS];	/* per environment: secrets */
	int	nenvs;
	char	source[256];		/* the htgate.conf it came from */
};

struct pf_plan *pf_plan_new(const struct htg_cfg *cfg, const struct pf_opts *o);
int	pf_plan_secrets(struct pf_plan *plan, const struct htg_cfg *cfg,
	char *err, size_t errlen);
void	pf_plan_free(struct pf_plan *plan);
void	pf_render_main(const struct pf_plan *plan, GString *out);
void	pf_render_master(const struct pf_plan *plan, GString *out);
void	pf_transport_name(const struct htg_env *env, char *buf, size_t len);
int	pf_token_ok(const char *s, const char *also);

#endif
