/*
 * NAME
 *	pfcheck - what in a live Postfix configuration bypasses or breaks
 *	htgate
 * SYNOPSIS
 *	#include "pfcheck.h"
 *
 *	GPtrArray *pf_findings_new(void);
 *	void	pf_finding(GPtrArray *f, enum pf_level level,
 *		const char *fmt, ...);
 *	int	pf_findings_count(const GPtrArray *f, enum pf_level level);
 *	void	pf_findings_print(const GPtrArray *f, FILE *fp);
 *	void	pf_check_sockets(const struct pfc *c, const struct pf_opts *po,
 *		GPtrArray *f);
 *	int	pf_check_applied(const struct pfc *c, const struct pf_plan *p);
void	pf_check_overrides(const struct pfc *c, const struct pf_plan *p,
	const struct pf_opts *po, GPtrArray *f);
 *	void	pf_check_overrides(const struct pfc *c,
 *		const struct pf_plan *p, const struct pf_opts *po,
 *		GPtrArray *f);
 *	void	pf_check_live(const struct pfc *c, const struct pf_plan *p,
 *		const struct htg_cfg *cfg, const struct pf_opts *po,
 *		GPtrArray *f);
 *	char   *pf_service_key(const struct pf_service *s);
 *	char   *pf_service_text(const struct pf_service *s);
char   *pf_service_diff(const char *has, const char *want);
 *	char   *pf_service_diff(const char *has, const char *want);
 * DESCRIPTION
 *	pf_check_live() compares a Postfix configuration (a pfconf
 *	snapshot: "postconf -n", "-M", "-P") with htgate's plan and reports
 *	what would let mail to HTG pass htgate, or keep htgate from working:
 *
 *	htgate not applied (no htg-gate service, htgate's transport map
 *	missing from transport_maps); a parameter or service htgate
 *	generates that has another value; htgate's transport map not
 *	first; an HTG address that transport_maps routes anywhere but to
 *	the egress stage (each map asked with postmap(1) in Postfix's
 *	order: user@domain, domain, .parent, "*", each in every map);
 *	receive_override_options with no_milters (main.cf or -o); an smtpd
 *	service other than htgate's egress services whose -o
 *	smtpd_milters, smtpd_recipient_restrictions or
 *	smtpd_end_of_data_restrictions leave htgate out (or, for the
 *	restrictions, put something before it); a cleanup or pickup with
 *	-o non_smtpd_milters without htgate; a service with its own -o
 *	transport_maps; htgate-policyd not first in the restrictions; and
 *	the sockets (pf_check_sockets): a unix: socket with an absolute path
 *	while smtpd or cleanup runs chrooted (the chrooted process looks
 *	for it inside the queue directory, the others outside: one of them
 *	cannot reach it), a queue directory other than /var/spool/postfix
 *	(where the daemons must then listen), a socket that is not there.
 *
 *	Each finding has a level: PF_PROBLEM (bypasses or breaks htgate),
 *	PF_WARN (worth a look, e.g. a socket nobody listens on now) or
 *	PF_NOTE.  pf_check_overrides() is the part about main.cf's
 *	receive_override_options and the services' -o options alone (it
 *	needs no lookup table).  pf_check_applied() says whether htgate's gate service
 *	and transport map are in the configuration at all.
 *
 *	pf_service_key() is a planned service's "name/type";
 *	pf_service_text() its master.cf entry on one line, as "postconf
 *	-M" prints it and takes it; pf_service_diff() says briefly how
 *	one entry differs from another (the words each has that the other
 *	lacks).
 * ERRORS
 *	A lookup table postmap(1) cannot read becomes a PF_WARN finding.
 * OWNERSHIP
 *	pf_findings_new(): caller frees with g_ptr_array_unref();
 *	pf_service_key(), pf_service_text(), pf_service_diff(): g_free().
 * THREAD SAFETY
 *	Reentrant; runs postmap(1).
 * SEE ALSO
 *	pfconf(3), pfplan(3), htgate-config(8).
 */
#ifndef HTG_PFCHECK_H
#define HTG_PFCHECK_H

#include <stdio.h>

#include <glib.h>

#include "cfg.h"
#include "pfconf.h"
#include "pfplan.h"

enum pf_level {
	PF_NOTE = 0,
	PF_WARN,
	PF_PROBLEM,
};

struct pf_finding {
	enum pf_level level;
	char   *text;
};

GPtrArray *pf_findings_new(void);
void	pf_finding(GPtrArray *f, enum pf_level level, const char *fmt, ...)
	G_GNUC_PRINTF(3, 4);
int	pf_findings_count(const GPtrArray *f, enum pf_level level);
void	pf_findings_print(const GPtrArray *f, FILE *fp);
void	pf_check_sockets(const struct pfc *c, const struct pf_opts *po,
	GPtrArray *f);
int	pf_check_applied(const struct pfc *c, const struct pf_plan *p);
void	pf_check_overrides(const struct pfc *c, const struct pf_plan *p,
	const struct pf_opts *po, GPtrArray *f);
void	pf_check_live(const struct pfc *c, const struct pf_plan *p,
	const struct htg_cfg *cfg, const struct pf_opts *po, GPtrArray *f);
char   *pf_service_key(const struct pf_service *s);
char   *pf_service_text(const struct pf_service *s);
char   *pf_service_diff(const char *has, const char *want);

#endif
