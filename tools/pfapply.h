/*
 * NAME
 *	pfapply - merge htgate's plan into a live Postfix configuration,
 *	and take it out again
 * SYNOPSIS
 *	#include "pfapply.h"
 *
 *	int	pf_apply(struct pf_plan *plan, const struct htg_cfg *cfg,
 *		const struct pf_opts *po, const struct pf_apply_opts *ao);
 *	int	pf_unapply(const struct pf_apply_opts *ao);
 *	int	pf_state_load(const char *mapdir, struct pf_state **st,
 *		char *err, size_t errlen);
 *	void	pf_state_free(struct pf_state *st);
 *	int	pf_write_file(const char *path, const char *data, size_t len,
 *		mode_t mode, char *err, size_t errlen);
 * DESCRIPTION
 *	pf_apply() merges the plan (pfplan.h) into main.cf and master.cf
 *	of ao->postfix_dir with Postfix's own postconf(1) (-e, -X, -M, -MX),
 *	working on a copy of the two files in a temporary directory first:
 *	nothing changes unless every step worked and nothing conflicts.
 *
 *	List parameters (PF_LIST_FIRST/LAST: transport_maps, the milter
 *	lists, the restriction lists and classes) keep the admin's
 *	entries, byte for byte, with htgate's element added first or last
 *	(moved to the head if a FIRST element is elsewhere).  A PF_SET
 *	parameter that main.cf already has with another value, a service
 *	of the same name and type that differs, another service on an
 *	egress port, a list that names htgate's milter socket in another form,
 *	or a unix: socket that a chrooted smtpd or cleanup cannot reach is
 *	refused with a message saying what to do; nothing is overridden.
 *	What an earlier apply set (the state) may be updated or removed
 *	when the plan changed, unless the admin changed it since.
 *
 *	Then, unless ao->dry_run: the maps (transport, sasl_passwd.ENV
 *	mode 0600) and the generated main.cf/master.cf fragments go into
 *	ao->mapdir (each written only when its content changes), backups
 *	of main.cf and master.cf (DIR/main.cf.before-htgate.TIMESTAMP,
 *	same mode and owner) are written before they change, master.cf and
 *	then main.cf are replaced (rename), and the state is written to
 *	mapdir/apply.state (mode 0600): the options used, what was set,
 *	added or merged, the services added, the hashes (SHA-256) of
 *	main.cf and master.cf as written and of the maps, and the first
 *	backups.  With ao->dry_run the unified diff of main.cf and master.cf
 *	is printed instead and nothing is written.  A second apply with the
 *	same input changes nothing (no file is rewritten).  Afterwards the
 *	result is checked (pfcheck.h) and anything that still bypasses
 *	htgate is printed.
 *
 *	pf_unapply() reads the state and restores main.cf and master.cf
 *	exactly (the backup from before the first apply, byte for byte,
 *	same mode and owner) when the file is still as apply wrote it;
 *	otherwise it removes only htgate's pieces from it (postconf -X,
 *	-MX, htgate's element from the lists) and says so.  Then it
 *	removes the files it wrote in the map dir (the SASL password maps
 *	among them), the state and the map dir itself, and, after an exact
 *	restore of both files, the backups.  ao->dry_run prints the diff
 *	only.
 *
 *	pf_state_load() reads mapdir/apply.state: 1 and *st when there is
 *	one, 0 when there is none, -1 on error.  pf_write_file() writes a
 *	file atomically (temporary name, fsync, rename) with MODE.
 * DIAGNOSTICS
 *	pf_apply() and pf_unapply() print what they do on standard output
 *	and refusals and errors on standard error; they return the exit
 *	status: 0 done (or nothing to do), 1 refused or failed (then
 *	main.cf and master.cf are unchanged).  No secret is ever printed.
 * OWNERSHIP
 *	pf_state_load(): caller frees with pf_state_free().
 * THREAD SAFETY
 *	Not reentrant (prints; runs postconf(1) and diff(1)).
 * SEE ALSO
 *	pfplan(3), pfconf(3), pfcheck(3), htgate-config(8).
 */
#ifndef HTG_PFAPPLY_H
#define HTG_PFAPPLY_H

#include <stddef.h>
#include <sys/types.h>

#include <glib.h>

#include "cfg.h"
#include "pfplan.h"

#define PF_STATE_FILE	"apply.state"

struct pf_apply_opts {
	const char *postfix_dir;	/* absolute: postconf -c */
	const char *mapdir;		/* absolute */
	int	dry_run;
};

enum pf_item_kind {
	PF_ITEM_PARAM,			/* name = value */
	PF_ITEM_LIST,			/* our element in list name */
	PF_ITEM_SERVICE,		/* master.cf service name/type */
	PF_ITEM_FILE,			/* a file in the map dir */
};

struct pf_item {
	enum pf_item_kind kind;
	char   *name;			/* parameter, "name/type", file */
	char   *value;			/* value, element, entry, SHA-256 */
	int	first;			/* list: our element first */
	int	prior;			/* list: main.cf had it before */
};

struct pf_cffile {			/* main.cf or master.cf */
	char   *written;		/* SHA-256 as apply last wrote it */
	char   *orig;			/* backup from before the first apply */
	char   *orig_hash;
};

struct pf_state {
	char   *postfix_dir;
	char   *milter;			/* the options apply used */
	char   *policy;
	char   *delay;
	int	egress_port;
	struct pf_cffile cf[2];		/* main.cf, master.cf */
	GPtrArray *backups;		/* char *: every backup written */
	GPtrArray *items;		/* struct pf_item * */
};

int	pf_apply(struct pf_plan *plan, const struct htg_cfg *cfg,
	const struct pf_opts *po, const struct pf_apply_opts *ao);
int	pf_unapply(const struct pf_apply_opts *ao);
int	pf_state_load(const char *mapdir, struct pf_state **st, char *err,
	size_t errlen);
void	pf_state_free(struct pf_state *st);
int	pf_write_file(const char *path, const char *data, size_t len,
	mode_t mode, char *err, size_t errlen);

#endif
