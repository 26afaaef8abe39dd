/*
 * NAME
 *	pfconf - a Postfix configuration directory, read and changed with
 *	Postfix's own tools
 * SYNOPSIS
 *	#include "pfconf.h"
 *
 *	struct pfc *pfc_open(const char *dir, char *err, size_t errlen);
 *	void	pfc_free(struct pfc *c);
 *	const char *pfc_param(const struct pfc *c, const char *name);
 *	const char *pfc_param_x(const struct pfc *c, const char *name);
 *	char   *pfc_value(const struct pfc *c, const char *flags,
 *		const char *name);
 *	const struct pfc_service *pfc_service(const struct pfc *c,
 *		const char *key);
 *	const char *pfc_opt(const struct pfc_service *s, const char *name,
 *		int expanded);
 *	int	pfc_postconf(const struct pfc *c, char *const *args,
 *		GString *out, char *err, size_t errlen);
 *	int	pfc_lookup(const struct pfc *c, const char *map,
 *		char *const *keys, GHashTable *found, char *err,
 *		size_t errlen);
 *	int	pfc_chrooted(const struct pfc_service *s);
 *
 *	GPtrArray *pfl_split(const char *value);
 *	int	pfl_find(const GPtrArray *elems, const char *norm);
 *	int	pfl_find_key(const GPtrArray *elems, const char *key);
 *	char   *pfl_remove(const char *value, const GPtrArray *elems,
 *		guint i);
 *	char   *pfl_norm(const char *value);
 *	char  **pfc_words(const char *text);
 *	int	pfc_same_words(const char *a, const char *b);
 * DESCRIPTION
 *	pfc_open() reads a snapshot of the configuration in dir (what
 *	"postconf -c dir" sees): the parameters set in main.cf ("postconf
 *	-n", raw and with $name expanded, "-nx"; a parameter Postfix does
 *	not know yet, such as htg_destination_rate_delay before master.cf
 *	has a service htg, is taken from postconf's "unused parameter"
 *	warning, raw only), the master.cf services
 *	("postconf -M", in file order) and their -o options ("postconf
 *	-P", raw and "-Px").  The snapshot does not follow later changes:
 *	open the directory again after pfc_postconf() changed it.
 *
 *	pfc_param() is the raw main.cf value of a parameter set there,
 *	NULL when main.cf does not set it; pfc_param_x() the same with
 *	$name expanded.  pfc_value() runs "postconf -c dir FLAGS -h NAME"
 *	(e.g. flags "" for the value in force, default included, "-d" for
 *	the default).  pfc_service() finds a service by "name/type";
 *	pfc_opt() one of its -o options.  pfc_chrooted() says whether a
 *	service runs chrooted (the chroot column; "-" is "n", the default
 *	since Postfix 3.0).
 *
 *	pfc_postconf() runs postconf -c dir with args (NULL-terminated)
 *	and collects its standard output.  pfc_lookup() asks postmap(1)
 *	for each key in one lookup table ("postmap -q - map") and puts
 *	what it finds into found (key -> value).
 *
 *	The pfl_* functions handle a Postfix list value (comma or blank
 *	separated, "{ ... }" groups kept whole): pfl_split() returns its
 *	elements (struct pfl_elem: where each one is in the value, a
 *	normalised text and the first word, the "key", which names the
 *	milter, map or restriction); pfl_find() and pfl_find_key() give the
 *	index of an element, or -1; pfl_remove() returns the value without
 *	element i, every other byte kept; pfl_norm() is the normalised
 *	text of a one-element value.  pfc_words() splits a master.cf entry
 *	at blanks; pfc_same_words() tells whether two texts are equal but
 *	for blanks.
 * ERRORS
 *	pfc_open(), pfc_postconf() and pfc_lookup() return NULL or -1 with
 *	the reason (Postfix's own message where it gave one) in err.
 * OWNERSHIP
 *	pfc_open() returns a snapshot the caller frees with pfc_free();
 *	strings from pfc_param(), pfc_service() and pfc_opt() are
 *	borrowed from it.  pfc_value(), pfl_remove(), pfl_norm(): caller
 *	frees with g_free(); pfl_split(): g_ptr_array_unref(); pfc_words():
 *	g_strfreev().
 * THREAD SAFETY
 *	Reentrant; runs child processes.
 * SEE ALSO
 *	postconf(1), postmap(1), master(5).
 */
#ifndef HTG_PFCONF_H
#define HTG_PFCONF_H

#include <stddef.h>

#include <glib.h>

struct pfc_service {
	char   *key;			/* "smtp/inet" */
	char   *name;			/* "smtp" */
	char   *type;			/* "inet" */
	char   *fields[5];		/* private unpriv chroot wakeup maxproc */
	char   *command;		/* "smtpd" */
	char   *text;			/* the entry on one line ("postconf -M") */
	GHashTable *opts;		/* -o name -> raw value */
	GHashTable *opts_x;		/* -o name -> value, $name expanded */
};

struct pfc {
	char   *dir;			/* absolute */
	char   *postconf;		/* the program */
	char   *postmap;
	GHashTable *params;		/* main.cf: name -> raw value */
	GHashTable *params_x;		/* main.cf: name -> expanded value */
	GPtrArray *services;		/* struct pfc_service *, file order */
};

struct pfl_elem {
	size_t	start;			/* first byte in the value */
	size_t	end;			/* one past the last byte */
	char   *norm;			/* "{ unix:a, default_action=accept }" */
	char   *key;			/* "unix:a" */
};

struct pfc *pfc_open(const char *dir, char *err, size_t errlen);
void	pfc_free(struct pfc *c);
const char *pfc_param(const struct pfc *c, const char *name);
const char *pfc_param_x(const struct pfc *c, const char *name);
char   *pfc_value(const struct pfc *c, const char *flags, const char *name);
const struct pfc_service *pfc_service(const struct pfc *c, const char *key);
const char *pfc_opt(const struct pfc_service *s, const char *name,
	int expanded);
int	pfc_postconf(const struct pfc *c, char *const *args, GString *out,
	char *err, size_t errlen);
int	pfc_lookup(const struct pfc *c, const char *map, char *const *keys,
	GHashTable *found, char *err, size_t errlen);
int	pfc_chrooted(const struct pfc_service *s);

GPtrArray *pfl_split(const char *value);
int	pfl_find(const GPtrArray *elems, const char *norm);
int	pfl_find_key(const GPtrArray *elems, const char *key);
char   *pfl_remove(const char *value, const GPtrArray *elems, guint i);
char   *pfl_norm(const char *value);
char  **pfc_words(const char *text);
int	pfc_same_words(const char *a, const char *b);

#endif
